#include "http/h1_writer.h"

#include <boost/asio/write.hpp>
#include <charconv>
#include <cstdio>
#include <tuple>

#include "http/wire.h"

namespace mgw::http {
namespace {

namespace asio = boost::asio;

void appendStatusLine(std::string& out, int status, std::string_view reason) {
  out.append("HTTP/1.1 ", 9);
  char code[12];
  const char* end = std::to_chars(code, code + sizeof code, status).ptr;
  out.append(code, static_cast<std::size_t>(end - code));
  out += ' ';
  out.append(reason);
  out.append("\r\n", 2);
}

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kCrlfLastChunk = "\r\n0\r\n\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace

std::span<const asio::const_buffer> H1Framer::interim(int status, std::string_view reason,
                                                      std::span<const FieldView> fields) {
  if (http10_) return {};  // HTTP/1.0 has no interim answers (RFC 9110 section 15.2)
  head_.clear();
  appendStatusLine(head_, status, reason);
  for (const FieldView& f : fields) appendFieldLine(head_, f.name, f.value);
  head_.append(kCrlf);
  buffers_[0] = asio::buffer(head_);
  return done(1);
}

std::span<const asio::const_buffer> H1Framer::head(const ResponseStart& head,
                                                   std::string_view firstBody, bool last) {
  head_.clear();
  head_.reserve(512);
  appendStatusLine(head_, head.status, head.reason);
  for (const FieldView& f : head.fields)
    if (ownedName_.empty() || !equalsIgnoreCase(f.name, ownedName_))
      appendFieldLine(head_, f.name, f.value);
  if (!ownedName_.empty()) appendFieldLine(head_, ownedName_, ownedValue_);
  switch (head.body) {
    case BodyKind::kLength:
      appendFieldLine(head_, "Content-Length", std::to_string(head.contentLength));
      break;
    case BodyKind::kStreamed:
      // An HTTP/1.0 client cannot read chunked (RFC 9112 section 7.1): it gets the body as is,
      // ended by the close.
      chunked_ = !http10_;
      if (chunked_) appendFieldLine(head_, "Transfer-Encoding", "chunked");
      break;
    case BodyKind::kNone:
      // An answer to HEAD and a 304 keep the Content-Length of the representation (among the
      // caller's fields, RFC 9110 sections 8.6 and 15.4.5); a 204 has none (section 8.6).
      if (!headRequest_ && head.status != 304 && head.status != 204)
        appendFieldLine(head_, "Content-Length", "0");
      break;
    case BodyKind::kUntilClose:
      break;
  }
  keepAlive_ = head.keepAlive && head.body != BodyKind::kUntilClose &&
               !(head.body == BodyKind::kStreamed && !chunked_);
  if (!keepAlive_) appendFieldLine(head_, "Connection", "close");
  if (keepAlive_ && http10_) appendFieldLine(head_, "Connection", "keep-alive");
  head_.append(kCrlf);
  buffers_[0] = asio::buffer(head_);
  const auto rest = piece(firstBody, last);
  for (std::size_t i = 0; i < rest.size(); ++i) buffers_[1 + i] = rest[i];
  return done(1 + rest.size());
}

std::span<const asio::const_buffer> H1Framer::body(std::string_view bytes, bool last) {
  return piece(bytes, last);
}

// The framing of one body piece, in buffers_[1..3] (head() puts its head before them).
std::span<const asio::const_buffer> H1Framer::piece(std::string_view bytes, bool last) {
  if (headRequest_ || ended_) return {};
  asio::const_buffer* out = buffers_.data() + 1;
  std::size_t n = 0;
  if (!chunked_) {
    if (!bytes.empty()) out[n++] = asio::buffer(bytes.data(), bytes.size());
    return {out, n};
  }
  if (!bytes.empty()) {
    const int len = std::snprintf(size_, sizeof size_, "%zx\r\n", bytes.size());
    out[n++] = asio::buffer(size_, static_cast<std::size_t>(len));
    out[n++] = asio::buffer(bytes.data(), bytes.size());
    out[n++] = asio::buffer(last ? kCrlfLastChunk : kCrlf);
  } else if (last) {
    out[n++] = asio::buffer(kLastChunk);
  }
  ended_ = last;
  return {out, n};
}

std::span<const asio::const_buffer> H1Framer::trailers(std::span<const FieldView> fields) {
  if (!chunked_ || ended_ || headRequest_) return end();
  // RFC 9112 section 7.1.2: the last chunk, the trailer fields, the final CRLF.
  tail_ = "0\r\n";
  for (const FieldView& f : fields) appendFieldLine(tail_, f.name, f.value);
  tail_ += "\r\n";
  ended_ = true;
  buffers_[0] = asio::buffer(tail_);
  return done(1);
}

std::span<const asio::const_buffer> H1Framer::end() {
  if (!chunked_ || ended_ || headRequest_) return {};
  ended_ = true;
  buffers_[0] = asio::buffer(kLastChunk);
  return done(1);
}

// The virtual calls below are not coroutines themselves: each frames its bytes at once and
// returns send()'s awaitable, so a write costs one coroutine frame (asio recycles only a couple
// per thread; every extra level of nesting is a malloc per write).
asio::awaitable<error_code> H1Writer::send(std::span<const asio::const_buffer> buffers) {
  if (buffers.empty()) co_return error_code{};
  conn_.expiresAfter(writeTimeout_);
  std::size_t n = 0;
  error_code ec;
  if (conn_.tls && buffers.size() > 1 && asio::buffer_size(buffers) <= kGatherTls) {
    // asio's TLS stream writes one buffer per record and system call: a small answer in several
    // buffers is gathered first, so it still leaves in one record.
    gathered_.clear();
    for (const auto& b : buffers) gathered_.append(static_cast<const char*>(b.data()), b.size());
    std::tie(ec, n) = co_await asio::async_write(*conn_.tls, asio::buffer(gathered_), kAwait);
  } else if (conn_.tls) {
    std::tie(ec, n) = co_await asio::async_write(*conn_.tls, buffers, kAwait);
  } else {
    std::tie(ec, n) = co_await asio::async_write(*conn_.plain, buffers, kAwait);
  }
  conn_.written += n;
  co_return ec;
}

asio::awaitable<error_code> H1Writer::writeInterim(int status, std::string_view reason,
                                                   std::span<const FieldView> fields) {
  return send(framer_.interim(status, reason, fields));
}

asio::awaitable<error_code> H1Writer::writeHead(const ResponseStart& head,
                                                std::string_view firstBody, bool last) {
  return send(framer_.head(head, firstBody, last));
}

asio::awaitable<error_code> H1Writer::writeBody(std::string_view piece, bool last) {
  return send(framer_.body(piece, last));
}

asio::awaitable<error_code> H1Writer::writeTrailers(std::span<const FieldView> fields) {
  return send(framer_.trailers(fields));
}

asio::awaitable<error_code> H1Writer::end() { return send(framer_.end()); }

}  // namespace mgw::http
