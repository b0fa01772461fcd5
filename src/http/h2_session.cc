#include "http/h2_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "common/log.h"
#include "http/dispatch.h"
#include "http/relay.h"
#include "http/request_body.h"
#include "message/fault_reply.h"
#include "message/hop_by_hop.h"

namespace mgw::http {
namespace {

using asio::awaitable;
using message::Decision;
using message::Outcome;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr std::size_t kOutputBytes = 65536;  // frames gathered into one write at most
constexpr std::size_t kReadBytes = 16384;

bool isLower(std::string_view name) {
  for (char c : name)
    if (c >= 'A' && c <= 'Z') return false;
  return true;
}

std::string lowered(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A token bucket: `burst` tokens, `rate` more per second.
class Bucket {
 public:
  Bucket(double burst, double rate) : tokens_(burst), burst_(burst), rate_(rate) {}
  bool take() {
    const auto now = steady_clock::now();
    tokens_ = std::min(burst_, tokens_ + rate_ * std::chrono::duration<double>(now - at_).count());
    at_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  double tokens_, burst_, rate_;
  steady_clock::time_point at_ = steady_clock::now();
};

}  // namespace

PrefaceMatch matchPreface(std::string_view first) {
  const std::size_t n = std::min(first.size(), kHttp2Preface.size());
  if (first.substr(0, n) != kHttp2Preface.substr(0, n)) return PrefaceMatch::kHttp1;
  return n == kHttp2Preface.size() ? PrefaceMatch::kHttp2 : PrefaceMatch::kMore;
}

std::string h2RequestHead(std::vector<Field> fields, bool endStream, RequestHead* head) {
  // The pseudo-header values are views into `fields`, which lives until the end; the regular
  // fields are moved into the head (a key or a cookie is not copied).
  std::string_view method, scheme, path, authority;
  bool hasMethod = false, hasScheme = false, hasPath = false, hasAuthority = false;
  bool regular = false;
  std::string cookie;
  bool hasLength = false;
  std::uint64_t length = 0;
  head->fields.clear();
  head->fields.reserve(fields.size() + 2);
  for (Field& f : fields) {
    if (f.name.empty()) return "an empty field name";
    if (!isLower(f.name)) return "a field name with upper-case letters: " + f.name.substr(0, 64);
    if (f.name[0] == ':') {
      // Section 8.3: only the defined pseudo-header fields, each once, before the others.
      if (regular) return "a pseudo-header field after a regular field";
      std::string_view* slot = nullptr;
      bool* seen = nullptr;
      if (f.name == ":method") slot = &method, seen = &hasMethod;
      if (f.name == ":scheme") slot = &scheme, seen = &hasScheme;
      if (f.name == ":path") slot = &path, seen = &hasPath;
      if (f.name == ":authority") slot = &authority, seen = &hasAuthority;
      if (!slot) return "an unknown pseudo-header field: " + f.name.substr(0, 64);
      if (*seen) return "a duplicated pseudo-header field: " + f.name;
      *seen = true;
      *slot = f.value;
      continue;
    }
    regular = true;
    // Section 8.2.2: connection-specific fields are malformed; TE may carry only "trailers".
    if (f.name == "connection" || f.name == "keep-alive" || f.name == "proxy-connection" ||
        f.name == "transfer-encoding" || f.name == "upgrade")
      return "a connection-specific field: " + f.name;
    if (f.name == "te" && f.value != "trailers") return "te other than \"trailers\"";
    if (f.name == "content-length") {
      std::uint64_t n = 0;
      if (f.value.empty() || f.value.size() > 19) return "a malformed content-length";
      for (char c : f.value) {
        if (c < '0' || c > '9') return "a malformed content-length";
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (hasLength && n != length) return "content-length fields that disagree";
      hasLength = true;
      length = n;
      continue;  // framed below
    }
    if (f.name == "cookie") {  // section 8.2.3: one field for an HTTP/1.1 backend
      if (!cookie.empty()) cookie += "; ";
      cookie += f.value;
      continue;
    }
    if (f.name == "host" && hasAuthority && f.value != authority)
      return "host differs from :authority";
    head->fields.emplace(std::move(f.name), std::move(f.value));
  }
  if (!hasMethod) return "no :method";
  if (method == "CONNECT") return "CONNECT is not served";  // section 8.5: no :scheme or :path
  if (!hasScheme || !hasPath) return "no :scheme or no :path";
  if (path.empty()) return "an empty :path";
  if (scheme != "http" && scheme != "https") return "a :scheme other than http or https";
  if (endStream && hasLength && length > 0) return "content-length and no body";
  head->method = std::string(method);
  head->target = std::string(path);
  head->versionMinor = 1;
  head->keepAlive = true;
  head->expectContinue = false;
  if (hasAuthority) {
    bool hasHost = false;
    for (const auto& [name, value] : head->fields) hasHost = hasHost || name == "host";
    if (!hasHost) head->fields.emplace("host", std::string(authority));
  }
  if (!cookie.empty()) head->fields.emplace("cookie", std::move(cookie));
  for (const auto& [name, value] : head->fields)
    if (name == "expect" && equalsIgnoreCase(value, "100-continue")) head->expectContinue = true;
  if (hasLength) {
    head->framing = Framing::kLength;
    head->contentLength = length;
  } else {
    head->framing = endStream ? Framing::kNone : Framing::kChunked;
    head->contentLength = 0;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------

class H2Connection;

struct H2Stream {
  H2Stream(asio::io_context& io, std::int32_t i) : id(i), wake(io) {}

  std::int32_t id;
  std::vector<Field> fields;
  std::size_t fieldBytes = 0;
  bool tooLarge = false;     // the header list broke maxHeaderBytes or maxHeaderCount
  bool remoteEnded = false;  // END_STREAM received
  bool headOnly = false;     // END_STREAM on the request's HEADERS: no body at all
  bool closed = false;       // the stream closed (answered, reset, or the connection went)
  std::uint32_t closeCode = 0;
  // Request body: DATA received and not yet taken (at most the stream window), and the piece
  // last handed to the relay.
  std::string inbound;
  std::string taken;
  std::uint64_t bytesIn = 0;
  // Answer: the bytes the writer waits to see framed, then the end and trailers.
  std::string_view pending;
  bool ending = false;  // the body ends once pending is framed
  bool ended = false;   // END_STREAM was framed
  std::vector<std::pair<std::string, std::string>> trailers;
  bool submitted = false;  // the response HEADERS were submitted (a data provider is set)
  std::uint64_t bytesOut = 0;
  asio::steady_timer wake;  // waiting: expires never; notified by cancel()
  asio::cancellation_signal cancel;

  void notify() { wake.cancel(); }
};

class H2Connection {
 public:
  H2Connection(ServerContext& ctx, IoThread& t, Connection& conn, const std::string& peer, bool tls,
               message::Handler& handler)
      : ctx_(ctx),
        t_(t),
        conn_(conn),
        peer_(peer),
        tls_(tls),
        handler_(handler),
        options_(ctx.options),
        hstsValue_(tls ? ctx.options.hstsValue() : std::string()),
        writeWake_(t.io),
        done_(t.io),
        resets_(ctx.options.http2.resetBurst, ctx.options.http2.resetsPerSecond),
        control_(ctx.options.http2.controlFramesPerSecond * 10.0,
                 ctx.options.http2.controlFramesPerSecond) {}

  ~H2Connection() {
    if (session_) nghttp2_session_del(session_);
  }

  bool start();
  awaitable<void> run(InputBuffer& in);
  void drain();

  // The stream side (H2StreamWriter, H2RequestBody).
  awaitable<error_code> waitFramed(H2Stream& s);
  awaitable<BodyPiece> nextPiece(H2Stream& s, Framing framing);
  // The DATA buffered into the piece (the window opened again for it: the peer may send more).
  void take(H2Stream& s, BodyPiece* piece) {
    s.taken.swap(s.inbound);
    s.inbound.clear();
    if (s.bytesIn > options_.maxRequestBytes) {  // a body of no declared length grew too large
      piece->failure = Failure::kPayloadTooLarge;
      return;
    }
    if (!s.taken.empty() && !s.closed) nghttp2_session_consume(session_, s.id, s.taken.size());
    kick();
    piece->bytes = s.taken;
    piece->last = s.remoteEnded;
  }
  int submitHead(H2Stream& s, int status, std::span<const FieldView> fields, bool endStream,
                 bool withLength, std::uint64_t length);
  void resume(H2Stream& s);
  void reset(H2Stream& s, std::uint32_t code);
  void kick() { writeWake_.cancel(); }

 private:
  static ssize_t readData(nghttp2_session*, std::int32_t id, std::uint8_t* buf, std::size_t length,
                          std::uint32_t* flags, nghttp2_data_source*, void* user);
  static int onBeginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user);
  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                      std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                      std::uint8_t flags, void* user);
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onDataChunk(nghttp2_session*, std::uint8_t flags, std::int32_t id,
                         const std::uint8_t* data, std::size_t len, void* user);
  static int onStreamClose(nghttp2_session*, std::int32_t id, std::uint32_t code, void* user);
  static int onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user);

  H2Stream* find(std::int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
  }
  awaitable<void> reader(InputBuffer& in);
  awaitable<void> writer();
  awaitable<void> watchdog();
  awaitable<void> serve(std::shared_ptr<H2Stream> s);
  awaitable<bool> discardBody(RequestBody& body, const RequestHead& head);
  void spawn(std::shared_ptr<H2Stream> s);
  void fail(std::uint32_t code);
  void finished() {
    if (--running_ == 0) done_.cancel();
  }

  ServerContext& ctx_;
  IoThread& t_;
  Connection& conn_;
  const std::string& peer_;
  bool tls_;
  message::Handler& handler_;
  const ServerOptions& options_;
  const std::string hstsValue_;  // Strict-Transport-Security on TLS, formatted once; "" = none
  nghttp2_session* session_ = nullptr;
  std::map<std::int32_t, std::shared_ptr<H2Stream>> streams_;
  std::vector<std::shared_ptr<H2Stream>> ready_;  // requests complete during the last read
  asio::steady_timer writeWake_;
  asio::steady_timer done_;
  int running_ = 0;  // coroutines (reader, writer, watchdog, streams) still running
  int streamsRunning_ = 0;
  bool lingering_ = false;  // GOAWAY sent, the send side shut: the client's last bytes read
  steady_clock::time_point lingerUntil_;
  bool dead_ = false;
  bool calm_ = false;  // a limit was broken: GOAWAY ENHANCE_YOUR_CALM
  std::string output_;
  bool writing_ = false;
  steady_clock::time_point writeStarted_;
  steady_clock::time_point lastActivity_ = steady_clock::now();
  int served_ = 0;
  bool goingAway_ = false;
  Bucket resets_;
  Bucket control_;
  std::uint64_t readTotal_ = 0;
  // The client's stream identifiers that carried HEADERS (the newest kOpenedKept), to tell a
  // reused or skipped identifier (section 5.1.1: PROTOCOL_ERROR), which nghttp2 ignores.
  std::set<std::int32_t> opened_;
  bool openedTruncated_ = false;
  std::int32_t lastOpened_ = 0;
};

// The DownstreamWriter of one stream: HEADERS, DATA (with flow control: a piece is done when it
// has been framed, which waits while the peer's window is closed), trailers as HEADERS with
// END_STREAM.
class H2StreamWriter final : public DownstreamWriter {
 public:
  H2StreamWriter(H2Connection& c, H2Stream& s, bool headRequest)
      : c_(c), s_(s), headRequest_(headRequest) {}

  awaitable<error_code> writeInterim(int status, std::string_view,
                                     std::span<const FieldView> fields) override {
    if (s_.closed) co_return asio::error::operation_aborted;
    if (status == 101) co_return error_code{};  // no such thing in HTTP/2 (section 8.6)
    if (c_.submitHead(s_, status, fields, false, false, 0) != 0)
      co_return asio::error::operation_aborted;
    co_return error_code{};
  }

  awaitable<error_code> writeHead(const ResponseStart& head, std::string_view firstBody,
                                  bool last) override {
    if (s_.closed) co_return asio::error::operation_aborted;
    const bool noBody = head.body == BodyKind::kNone || headRequest_ || (last && firstBody.empty());
    const bool withLength = head.body == BodyKind::kLength && !headRequest_;
    if (c_.submitHead(s_, head.status, head.fields, noBody, withLength, head.contentLength) != 0)
      co_return asio::error::operation_aborted;
    if (noBody) {
      s_.ended = true;
      co_return error_code{};
    }
    s_.submitted = true;
    co_return co_await body(firstBody, last);
  }

  awaitable<error_code> writeBody(std::string_view piece, bool last) override {
    if (s_.ended) co_return error_code{};
    co_return co_await body(piece, last);
  }

  awaitable<error_code> writeTrailers(std::span<const FieldView> fields) override {
    if (s_.ended) co_return error_code{};
    for (const FieldView& f : fields) {
      std::string name = lowered(f.name);
      if (message::isHopByHopHeader(name)) continue;
      s_.trailers.emplace_back(std::move(name), std::string(f.value));
    }
    co_return co_await body({}, true);
  }

  awaitable<error_code> end() override {
    if (s_.ended) co_return error_code{};
    co_return co_await body({}, true);
  }

  bool keepAlive() const override { return true; }
  std::uint64_t bytesWritten() const override { return s_.bytesOut; }

 private:
  awaitable<error_code> body(std::string_view piece, bool last) {
    if (s_.closed) co_return asio::error::operation_aborted;
    s_.pending = piece;
    s_.ending = last;
    c_.resume(s_);
    co_return co_await c_.waitFramed(s_);
  }

  H2Connection& c_;
  H2Stream& s_;
  bool headRequest_;
};

// The request body of one stream: the DATA frames as they come, the window opened again as the
// relay takes them (at most the stream's window is ever held).
class H2RequestBody final : public RequestBody {
 public:
  H2RequestBody(H2Connection& c, H2Stream& s, const RequestHead& head)
      : c_(c), s_(s), framing_(head.framing), length_(head.contentLength) {}

  Framing framing() const override { return framing_; }
  std::uint64_t contentLength() const override { return length_; }
  BodyPiece atHand() override {
    BodyPiece piece;
    if (framing_ == Framing::kNone) {
      piece.last = true;
      return piece;
    }
    c_.take(s_, &piece);
    return piece;
  }
  awaitable<BodyPiece> next() override { co_return co_await c_.nextPiece(s_, framing_); }

 private:
  H2Connection& c_;
  H2Stream& s_;
  Framing framing_;
  std::uint64_t length_;
};

awaitable<BodyPiece> H2Connection::nextPiece(H2Stream& s, Framing framing) {
  BodyPiece piece;
  if (framing == Framing::kNone) {
    piece.last = true;
    co_return piece;
  }
  s.taken.clear();
  for (;;) {
    if (!s.inbound.empty() || s.remoteEnded) {
      take(s, &piece);
      co_return piece;
    }
    if (s.closed || dead_) {
      piece.failure = Failure::kRequestTimeout;  // reset by the client, or the connection went
      co_return piece;
    }
    s.wake.expires_after(seconds(options_.bodyTimeoutSeconds));
    auto [ec] = co_await s.wake.async_wait(kAwait);
    if (!ec && s.inbound.empty() && !s.remoteEnded) {  // no DATA within bodyTimeoutSeconds
      reset(s, NGHTTP2_CANCEL);
      piece.failure = Failure::kRequestTimeout;
      co_return piece;
    }
  }
}

awaitable<error_code> H2Connection::waitFramed(H2Stream& s) {
  // Done when nghttp2 has framed every byte (and the end, when asked); a peer that keeps its
  // window closed for writeTimeoutSeconds loses the stream.
  std::size_t before = s.pending.size();
  auto progress = steady_clock::now();
  while (!(s.pending.empty() && (!s.ending || s.ended))) {
    if (s.closed || dead_) co_return asio::error::operation_aborted;
    s.wake.expires_after(seconds(1));
    co_await s.wake.async_wait(kAwait);
    if (s.pending.size() != before) {
      before = s.pending.size();
      progress = steady_clock::now();
    } else if (steady_clock::now() - progress >= seconds(options_.writeTimeoutSeconds)) {
      reset(s, NGHTTP2_CANCEL);  // a zero window that never opened
      co_return asio::error::timed_out;
    }
  }
  co_return error_code{};
}

int H2Connection::submitHead(H2Stream& s, int status, std::span<const FieldView> fields,
                             bool endStream, bool withLength, std::uint64_t length) {
  std::vector<std::string> names;
  names.reserve(fields.size() + 1);
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size() + 3);
  char code[4];
  std::snprintf(code, sizeof code, "%03d", status);
  auto add = [&](std::string_view n, std::string_view v) {
    nva.push_back(nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                             reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(),
                             v.size(), NGHTTP2_NV_FLAG_NONE});
  };
  add(":status", std::string_view(code, 3));
  std::string lengthText;
  bool hasLength = false;
  // RFC 6797 section 7.2: Strict-Transport-Security on final answers over TLS only, the
  // connection's own value replacing a backend's (as H1Framer's owned field).
  const bool hsts = status >= 200 && !hstsValue_.empty();
  auto skipped = [&](std::string_view name) {
    // Connection-specific fields have no place in HTTP/2 (section 8.2.2).
    return message::isHopByHopHeader(name) || equalsIgnoreCase(name, "proxy-connection") ||
           (hsts && equalsIgnoreCase(name, "strict-transport-security"));
  };
  for (const FieldView& f : fields) {
    // Names go lower-case.
    if (skipped(f.name)) continue;
    names.push_back(lowered(f.name));
    hasLength = hasLength || names.back() == "content-length";
  }
  std::size_t i = 0;
  for (const FieldView& f : fields) {
    if (skipped(f.name)) continue;
    add(names[i++], f.value);
  }
  if (hsts) add("strict-transport-security", hstsValue_);
  if (withLength && !hasLength) {
    lengthText = std::to_string(length);
    add("content-length", lengthText);
  }
  int rv;
  if (status < 200) {
    rv = nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, s.id, nullptr, nva.data(), nva.size(),
                                nullptr);
  } else if (endStream) {
    rv = nghttp2_submit_response(session_, s.id, nva.data(), nva.size(), nullptr);
  } else {
    nghttp2_data_provider provider{};
    provider.read_callback = &H2Connection::readData;
    rv = nghttp2_submit_response(session_, s.id, nva.data(), nva.size(), &provider);
  }
  kick();
  return rv;
}

void H2Connection::resume(H2Stream& s) {
  if (s.submitted && !s.closed) nghttp2_session_resume_data(session_, s.id);
  kick();
}

void H2Connection::reset(H2Stream& s, std::uint32_t code) {
  if (!s.closed) nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, code);
  kick();
}

ssize_t H2Connection::readData(nghttp2_session* session, std::int32_t id, std::uint8_t* buf,
                               std::size_t length, std::uint32_t* flags, nghttp2_data_source*,
                               void* user) {
  auto* self = static_cast<H2Connection*>(user);
  H2Stream* s = self->find(id);
  if (!s) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  const std::size_t n = std::min(length, s->pending.size());
  if (n > 0) std::memcpy(buf, s->pending.data(), n);
  s->pending.remove_prefix(n);
  if (s->pending.empty()) {
    if (s->ending) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      s->ended = true;
      if (!s->trailers.empty()) {
        std::vector<nghttp2_nv> nva;
        for (auto& [name, value] : s->trailers)
          nva.push_back(nghttp2_nv{reinterpret_cast<std::uint8_t*>(name.data()),
                                   reinterpret_cast<std::uint8_t*>(value.data()), name.size(),
                                   value.size(), NGHTTP2_NV_FLAG_NONE});
        if (nghttp2_submit_trailer(session, id, nva.data(), nva.size()) == 0)
          *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    } else if (n == 0) {
      return NGHTTP2_ERR_DEFERRED;
    }
    s->notify();
  }
  return static_cast<ssize_t>(n);
}

int H2Connection::onBeginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user) {
  auto* self = static_cast<H2Connection*>(user);
  if (hd->type != NGHTTP2_HEADERS || hd->stream_id <= 0 || hd->stream_id % 2 == 0) return 0;
  constexpr std::size_t kOpenedKept = 4096;
  if (hd->stream_id > self->lastOpened_) {
    self->lastOpened_ = hd->stream_id;
    self->opened_.insert(hd->stream_id);
    if (self->opened_.size() > kOpenedKept) {
      self->opened_.erase(self->opened_.begin());
      self->openedTruncated_ = true;
    }
    return 0;
  }
  const bool known = self->opened_.count(hd->stream_id) > 0;
  const bool tracked = !self->openedTruncated_ || hd->stream_id > *self->opened_.begin();
  if (!known && tracked) return NGHTTP2_ERR_CALLBACK_FAILURE;  // a stream it never opened
  return 0;
}

int H2Connection::onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<H2Connection*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto stream = std::make_shared<H2Stream>(self->t_.io, frame->hd.stream_id);
  stream->fields.reserve(16);
  self->streams_[frame->hd.stream_id] = std::move(stream);
  return 0;
}

int H2Connection::onHeader(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                           std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                           std::uint8_t, void* user) {
  auto* self = static_cast<H2Connection*>(user);
  H2Stream* s = self->find(frame->hd.stream_id);
  if (!s) return 0;
  if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers: checked, dropped
  // The same limits as an HTTP/1.1 head (maxHeaderBytes, maxHeaderCount), counted as decoded:
  // an HPACK bomb costs no more than a large head.
  s->fieldBytes += namelen + valuelen + 4;
  if (s->tooLarge || s->fieldBytes > self->options_.maxHeaderBytes ||
      s->fields.size() >= self->options_.maxHeaderCount + 4) {
    s->tooLarge = true;
    s->fields.clear();
    s->fields.shrink_to_fit();
    return 0;
  }
  s->fields.push_back(Field{std::string(reinterpret_cast<const char*>(name), namelen),
                            std::string(reinterpret_cast<const char*>(value), valuelen)});
  return 0;
}

int H2Connection::onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<H2Connection*>(user);
  self->lastActivity_ = steady_clock::now();
  switch (frame->hd.type) {
    case NGHTTP2_RST_STREAM:
      if (!self->resets_.take()) {  // rapid reset (CVE-2023-44487)
        self->calm_ = true;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
      return 0;
    case NGHTTP2_SETTINGS:
    case NGHTTP2_PING:
      if (!(frame->hd.flags & NGHTTP2_FLAG_ACK) && !self->control_.take()) {
        self->calm_ = true;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
      return 0;
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA: {
      H2Stream* s = self->find(frame->hd.stream_id);
      if (!s) return 0;
      if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        s->remoteEnded = true;
        s->notify();
      }
      if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        s->headOnly = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
        self->ready_.push_back(self->streams_[frame->hd.stream_id]);
      }
      return 0;
    }
    default:
      return 0;
  }
}

int H2Connection::onDataChunk(nghttp2_session* session, std::uint8_t, std::int32_t id,
                              const std::uint8_t* data, std::size_t len, void* user) {
  auto* self = static_cast<H2Connection*>(user);
  H2Stream* s = self->find(id);
  if (!s || s->closed) {
    nghttp2_session_consume(session, id, len);
    return 0;
  }
  // Never more than the stream's window: the flow control bounds this buffer.
  s->inbound.append(reinterpret_cast<const char*>(data), len);
  s->bytesIn += len;
  s->notify();
  return 0;
}

int H2Connection::onStreamClose(nghttp2_session*, std::int32_t id, std::uint32_t code, void* user) {
  auto* self = static_cast<H2Connection*>(user);
  auto it = self->streams_.find(id);
  if (it == self->streams_.end()) return 0;
  H2Stream& s = *it->second;
  s.closed = true;
  s.closeCode = code;
  // DATA never taken gives its share of the connection window back.
  if (!s.inbound.empty()) nghttp2_session_consume_connection(self->session_, s.inbound.size());
  s.inbound.clear();
  // The stream's work stops: the relay's pending operation is cancelled.
  if (!s.ended) s.cancel.emit(asio::cancellation_type::terminal);
  s.notify();
  self->streams_.erase(it);
  return 0;
}

int H2Connection::onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<H2Connection*>(user);
  if (H2Stream* s = self->find(frame->hd.stream_id)) s->bytesOut += frame->hd.length + 9;
  return 0;
}

bool H2Connection::start() {
  nghttp2_session_callbacks* cb = nullptr;
  if (nghttp2_session_callbacks_new(&cb) != 0) return false;
  nghttp2_session_callbacks_set_on_begin_frame_callback(cb, &onBeginFrame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cb, &onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &onStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb, &onFrameSend);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  const config::Http2Config& h2 = options_.http2;
  // The window opens as the relay takes the bytes (nghttp2_session_consume), not on receipt.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_continuations(opt, h2.maxContinuations);
  // nghttp2's own rapid-reset limiter behind ours (ours answers ENHANCE_YOUR_CALM first).
  nghttp2_option_set_stream_reset_rate_limit(opt, 2ull * h2.resetBurst, 2ull * h2.resetsPerSecond);
  nghttp2_option_set_max_outbound_ack(opt, 100);
  nghttp2_option_set_max_settings(opt, 32);
  const int rv = nghttp2_session_server_new2(&session_, cb, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  if (rv != 0) return false;
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h2.maxConcurrentStreams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h2.streamWindowBytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<std::uint32_t>(options_.maxHeaderBytes + 32 * options_.maxHeaderCount)},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 4096},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings,
                              sizeof settings / sizeof settings[0]) != 0)
    return false;
  // The connection's receive window (section 6.9.2: only WINDOW_UPDATE changes it).
  if (h2.connectionWindowBytes > 65535)
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<std::int32_t>(h2.connectionWindowBytes));
  return true;
}

void H2Connection::fail(std::uint32_t code) {
  if (!goingAway_) {
    goingAway_ = true;
    nghttp2_session_terminate_session(session_, code);
  }
  kick();
}

void H2Connection::drain() {
  if (goingAway_ || dead_) return;
  goingAway_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  kick();
}

void H2Connection::spawn(std::shared_ptr<H2Stream> s) {
  ++running_;
  ++streamsRunning_;
  H2Stream& stream = *s;
  asio::co_spawn(t_.io, serve(std::move(s)),
                 asio::bind_cancellation_slot(stream.cancel.slot(), [this](std::exception_ptr e) {
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const boost::system::system_error&) {
                       // cancelled: the stream was reset
                     } catch (const std::exception& ex) {
                       log::error("HTTP/2 stream aborted by an exception", {{"error", ex.what()}});
                     } catch (...) {
                     }
                   }
                   --streamsRunning_;
                   finished();
                 }));
}

awaitable<void> H2Connection::reader(InputBuffer& in) {
  for (;;) {
    if (!in.empty() && !lingering_) {
      const auto bytes = in.view();
      readTotal_ += bytes.size();
      const ssize_t rv = nghttp2_session_mem_recv(
          session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      in.consume(in.size());
      for (auto& s : ready_) {
        if (s->closed) continue;
        ++served_;
        spawn(std::move(s));
      }
      ready_.clear();
      if (rv < 0) {
        // A broken limit (ours, or nghttp2's flood checks), or a connection error nghttp2 did not
        // answer itself.
        const bool flood =
            calm_ || rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS;
        fail(flood ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
        log::warn("HTTP/2 connection refused",
                  {{"client", peer_}, {"reason", flood ? "flood" : nghttp2_strerror(rv)}});
        break;
      }
      if (served_ >= options_.keepAliveMaxRequests) drain();
      kick();
    }
    if (dead_) break;
    if (!nghttp2_session_want_read(session_) && !lingering_) break;
    if (lingering_) in.consume(in.size());  // the client's last bytes, read and dropped
    auto buf = in.prepare(kReadBytes);
    auto [ec, n] = co_await conn_.readSome(buf);
    in.commit(n);
    if (ec) {
      dead_ = true;
      if (lingering_) conn_.close();
      lingering_ = false;
      break;
    }
  }
  kick();
  finished();
}

awaitable<void> H2Connection::writer() {
  for (;;) {
    output_.clear();
    while (output_.size() < kOutputBytes) {
      const std::uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        dead_ = true;
        break;
      }
      if (n == 0) break;
      output_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    if (!output_.empty()) {
      writing_ = true;
      writeStarted_ = steady_clock::now();
      const error_code ec = co_await conn_.write(output_);
      writing_ = false;
      if (ec) dead_ = true;
      if (!dead_) continue;
    }
    if (dead_ || (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)))
      break;
    writeWake_.expires_at(steady_clock::time_point::max());
    co_await writeWake_.async_wait(kAwait);
  }
  // Everything else stops: each stream's work; the reader after the client's last bytes (so the
  // kernel does not reset the connection before the GOAWAY is read), at most 2 s.
  if (!dead_) {
    error_code ignored;
    conn_.lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    lingering_ = true;
    lingerUntil_ = steady_clock::now() + seconds(2);
  } else {
    conn_.close();
  }
  dead_ = true;
  for (auto& [id, s] : streams_) {
    s->closed = true;
    s->cancel.emit(asio::cancellation_type::terminal);
    s->notify();
  }
  done_.cancel();
  finished();
}

awaitable<void> H2Connection::watchdog() {
  asio::steady_timer timer(t_.io);
  for (;;) {
    timer.expires_after(seconds(1));
    co_await timer.async_wait(kAwait);
    if (dead_ && !lingering_) break;
    const auto now = steady_clock::now();
    if (writing_ && now - writeStarted_ > seconds(options_.writeTimeoutSeconds)) {
      conn_.close();  // the client stopped reading
      dead_ = true;
      kick();
      break;
    }
    if (ctx_.draining) drain();
    // An idle connection (no stream, no frame) for keepAliveTimeoutSeconds: GOAWAY.
    if (lingering_ && now > lingerUntil_) {
      conn_.close();
      break;
    }
    if (streams_.empty() && streamsRunning_ == 0 &&
        now - lastActivity_ > seconds(options_.keepAliveTimeoutSeconds))
      drain();
  }
  finished();
}

awaitable<void> H2Connection::run(InputBuffer& in) {
  t_.http2.insert(this);
  conn_.noDeadline();  // the watchdog and the streams keep the time (one timer per operation)
  running_ = 3;
  asio::co_spawn(t_.io, reader(in), asio::detached);
  asio::co_spawn(t_.io, writer(), asio::detached);
  asio::co_spawn(t_.io, watchdog(), asio::detached);
  if (ctx_.draining) drain();
  while (running_ > 0) {
    done_.expires_at(steady_clock::time_point::max());
    co_await done_.async_wait(kAwait);
  }
  t_.http2.erase(this);
}

// False when the stream broke off meanwhile (reset, malformed, stalled): nothing to answer.
awaitable<bool> H2Connection::discardBody(RequestBody& body, const RequestHead& head) {
  constexpr std::uint64_t kMaxDiscardBytes = 64 * 1024;
  if (head.framing == Framing::kLength && head.contentLength > kMaxDiscardBytes) co_return true;
  std::uint64_t read = 0;
  BodyPiece piece = body.atHand();
  while (piece.failure == Failure::kNone && !piece.last) {
    read += piece.bytes.size();
    if (read > kMaxDiscardBytes) co_return true;
    piece = co_await body.next();
  }
  co_return piece.failure == Failure::kNone;
}

awaitable<void> H2Connection::serve(std::shared_ptr<H2Stream> stream) {
  H2Stream& s = *stream;
  message::HttpRequest request;
  request.clientAddress = peer_;
  request.tls = tls_;
  request.clientCertSubject = conn_.clientCertSubject;
  request.clientCertSha256 = conn_.clientCertSha256;
  request.http2 = true;
  RequestHead head;
  Outcome outcome;
  // The framing follows the HEADERS frame's END_STREAM, not whether the DATA that ends the body
  // arrived before this coroutine ran (a small gRPC call comes in one read).
  const bool malformed =
      !s.tooLarge && !h2RequestHead(std::move(s.fields), s.headOnly, &head).empty();
  if (malformed) {
    // RFC 9113 section 8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR.
    reset(s, NGHTTP2_PROTOCOL_ERROR);
    co_return;
  }
  s.fields.clear();
  s.fields.shrink_to_fit();
  H2StreamWriter writer(*this, s, head.method == "HEAD");
  H2RequestBody body(*this, s, head);
  request.method = head.method;
  request.target = head.target;
  request.headers = std::move(head.fields);  // lent back to the head for the relay
  request.hasBody = head.hasBody();
  Decision decision;
  if (s.tooLarge) {
    decision = Decision::reply(message::faultReply(
        Failure::kHeadersTooLarge,
        "the request's header fields exceed [listenerConfig] maxHeaderBytes or maxHeaderCount"));
  } else if (head.framing == Framing::kLength && head.contentLength > options_.maxRequestBytes) {
    decision = Decision::reply(message::faultReply(
        Failure::kPayloadTooLarge, "the request body exceeds [listenerConfig] maxRequestBytes"));
  } else if (std::string why = message::parseTarget(head.target, &request); !why.empty()) {
    decision = Decision::reply(message::faultReply(Failure::kBadFraming, why));
  } else {
    decision = handler_.decide(request);
  }
  co_await settle(ctx_, t_, &decision);
  const bool keepAlive = true;
  try {
    if (auto* reply = std::get_if<message::Reply>(&decision.action)) {
      // A small body is read (and dropped) first, as HTTP/1.1 does: the answer follows the
      // whole request, and a body that breaks its content-length resets the stream instead
      // (RFC 9113 section 8.1.1). A larger one is cut short after the answer (RST NO_ERROR).
      if (co_await discardBody(body, head)) {
        outcome.status = reply->response.status;
        co_await writeReply(writer, reply->response, keepAlive);
      }
    } else if (auto* local = std::get_if<message::Local>(&decision.action)) {
      message::HttpResponse answer;
      Failure failure = Failure::kNone;
      if (head.framing == Framing::kLength && head.contentLength > local->maxBodyBytes)
        failure = Failure::kPayloadTooLarge;
      BodyPiece piece = body.atHand();
      while (failure == Failure::kNone) {
        if (request.body.size() + piece.bytes.size() > local->maxBodyBytes) {
          failure = Failure::kPayloadTooLarge;
          break;
        }
        request.body.append(piece.bytes);
        if (piece.last) break;
        piece = co_await body.next();
        failure = piece.failure;
      }
      if (failure == Failure::kRequestTimeout) {
        outcome.failure = failure;
      } else {
        if (failure != Failure::kNone)
          answer = message::faultReply(failure, "the request body exceeds " +
                                                    std::to_string(local->maxBodyBytes) + " bytes");
        else if (local->blocking)
          answer = co_await runLocalOnWorkers(ctx_, *local, request);
        else
          answer = runLocal(*local, request);
        outcome.status = answer.status;
        co_await writeReply(writer, answer, keepAlive);
      }
    } else if (auto* forward = std::get_if<message::Forward>(&decision.action)) {
      FieldsLentToHead lent(request.headers, head);
      co_await relay(ctx_, t_, writer, head, body, *forward->plan, keepAlive, &outcome);
    }
  } catch (const boost::system::system_error&) {
    outcome.reason = "the client reset the stream";
  }
  // An answer complete before the request: the rest of it is not wanted (section 8.1). An answer
  // cut short (the backend broke off): the stream is reset, never left open.
  if (!s.closed && s.ended && !s.remoteEnded) reset(s, NGHTTP2_NO_ERROR);
  if (!s.closed && !s.ended) reset(s, NGHTTP2_INTERNAL_ERROR);
  if (decision.done) {
    outcome.bytesIn = s.bytesIn;
    outcome.bytesOut = s.bytesOut;
    decision.done(request, outcome);
  }
}

awaitable<void> h2Session(ServerContext& ctx, IoThread& t, Connection& conn, InputBuffer& in,
                          const std::string& peer, bool tls, message::Handler& handler) {
  H2Connection c(ctx, t, conn, peer, tls, handler);
  if (!c.start()) {
    log::error("cannot start an HTTP/2 session");
    conn.close();
    co_return;
  }
  co_await c.run(in);
}

void drainHttp2(IoThread& t) {
  for (H2Connection* c : t.http2) c->drain();
}

}  // namespace mgw::http
