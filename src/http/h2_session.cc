#include "http/h2_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>

#include "common/log.h"
#include "http/dispatch.h"
#include "http/h2_memory.h"
#include "http/h2_tables.h"
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
// Kept per connection for the next streams: the blocks of finished streams, and the field storage
// of served requests of at most kKeptFieldCount fields (a few KiB per connection at most).
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kKeptStreamBlocks = 0;  // ASan sees a stream used after it went
#else
constexpr std::size_t kKeptStreamBlocks = 32;
#endif
constexpr std::size_t kKeptFields = 16;
constexpr std::size_t kKeptFieldCount = 32;

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

std::string h2RequestHead(message::HeaderMap fields, bool endStream, RequestHead* head) {
  // Checked in place: the pseudo-header values are moved into the head (or locals), the regular
  // fields kept in their order where they are and handed over as the head's fields (no name or
  // value is copied).
  std::string scheme, authority;
  bool hasMethod = false, hasScheme = false, hasPath = false, hasAuthority = false;
  bool regular = false;
  std::string cookie;
  bool hasLength = false, hasHost = false, expectContinue = false;
  std::uint64_t length = 0;
  head->method.clear();
  head->target.clear();
  auto kept = fields.begin();
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    const std::string_view name = it->first;
    const std::string_view value = it->second;
    if (name.empty()) return "an empty field name";
    if (!isLower(name)) return "a field name with upper-case letters: " + it->first.substr(0, 64);
    if (name[0] == ':') {
      // Section 8.3: only the defined pseudo-header fields, each once, before the others.
      if (regular) return "a pseudo-header field after a regular field";
      std::string* slot = nullptr;
      bool* seen = nullptr;
      if (name == ":method")
        slot = &head->method, seen = &hasMethod;
      else if (name == ":scheme")
        slot = &scheme, seen = &hasScheme;
      else if (name == ":path")
        slot = &head->target, seen = &hasPath;
      else if (name == ":authority")
        slot = &authority, seen = &hasAuthority;
      if (!slot) return "an unknown pseudo-header field: " + it->first.substr(0, 64);
      if (*seen) return "a duplicated pseudo-header field: " + it->first;
      *seen = true;
      slot->swap(it->second);
      continue;
    }
    regular = true;
    // Section 8.2.2: connection-specific fields are malformed; TE may carry only "trailers".
    if (name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
        name == "transfer-encoding" || name == "upgrade")
      return "a connection-specific field: " + it->first;
    if (name == "te" && value != "trailers") return "te other than \"trailers\"";
    if (name == "content-length") {
      std::uint64_t n = 0;
      if (value.empty() || value.size() > 19) return "a malformed content-length";
      for (char c : value) {
        if (c < '0' || c > '9') return "a malformed content-length";
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (hasLength && n != length) return "content-length fields that disagree";
      hasLength = true;
      length = n;
      continue;  // framed below
    }
    if (name == "cookie") {  // section 8.2.3: one field for an HTTP/1.1 backend
      if (!cookie.empty()) cookie += "; ";
      cookie += value;
      continue;
    }
    if (name == "host") {
      if (hasAuthority && value != authority) return "host differs from :authority";
      hasHost = true;
    }
    if (name == "expect" && equalsIgnoreCase(value, "100-continue")) expectContinue = true;
    if (kept != it) *kept = std::move(*it);
    ++kept;
  }
  if (!hasMethod) return "no :method";
  if (head->method == "CONNECT")
    return "CONNECT is not served";  // section 8.5: no :scheme or :path
  if (!hasScheme || !hasPath) return "no :scheme or no :path";
  if (head->target.empty()) return "an empty :path";
  if (scheme != "http" && scheme != "https") return "a :scheme other than http or https";
  if (endStream && hasLength && length > 0) return "content-length and no body";
  while (fields.end() != kept) fields.erase(fields.end() - 1);
  head->versionMinor = 1;
  head->keepAlive = true;
  head->expectContinue = expectContinue;
  if (hasAuthority && !hasHost) fields.emplace("host", std::move(authority));
  if (!cookie.empty()) fields.emplace("cookie", std::move(cookie));
  head->fields.swap(fields);
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
  message::HeaderMap fields;  // as decoded; becomes the request's fields
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
// Each stream's block comes from the connection's BlockPool (operator new's alignment).
static_assert(alignof(H2Stream) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

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
  // A piece of the answer's body (and its end when `last`) handed to nghttp2 and framed at once
  // when the peer's windows allow: true when done (no waitFramed, no coroutine frame), false to
  // wait for it with waitFramed (which answers operation_aborted for a stream closed already).
  bool offer(H2Stream& s, std::string_view piece, bool last);
  void reset(H2Stream& s, std::uint32_t code);
  // Wakes the writer (a no-op unless it waits: it looks for work again before it waits).
  void kick() {
    if (writerWaiting_) writeWake_.cancel();
  }

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
    std::shared_ptr<H2Stream>* s = streams_.find(id);
    return s ? s->get() : nullptr;
  }
  awaitable<void> reader(InputBuffer& in);
  awaitable<void> writer();
  void frame();
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
  SessionMemory memory_;         // nghttp2's allocations (the session is deleted before it goes)
  nghttp2_session* session_ = nullptr;
  // Before the streams: each stream's block (its shared state) comes from here and returns here.
  BlockPool streamBlocks_{kKeptStreamBlocks};
  // The field storage of served requests, cleared, for the next streams.
  std::vector<message::HeaderMap> spareFields_;
  StreamTable<std::shared_ptr<H2Stream>> streams_;
  std::vector<std::shared_ptr<H2Stream>> ready_;  // requests complete during the last read
  asio::steady_timer writeWake_;
  asio::steady_timer done_;
  int running_ = 0;  // coroutines (reader, writer, watchdog, streams) still running
  int streamsRunning_ = 0;
  bool lingering_ = false;  // GOAWAY sent, the send side shut: the client's last bytes read
  steady_clock::time_point lingerUntil_;
  bool dead_ = false;
  bool calm_ = false;   // a limit was broken: GOAWAY ENHANCE_YOUR_CALM
  std::string queued_;  // frames not yet handed to the connection (at most kOutputBytes)
  std::string output_;  // the frames being written
  bool writerWaiting_ = false;
  // submitHead's list and lower-cased names, kept for the next answer.
  std::vector<nghttp2_nv> nva_;
  std::string names_;
  bool writing_ = false;
  steady_clock::time_point writeStarted_;
  // The watchdog's time of the last frame received: a frame only sets active_ (no clock read per
  // frame), the watchdog's next tick (every second) reads it.
  steady_clock::time_point lastActivity_ = steady_clock::now();
  bool active_ = false;
  int served_ = 0;
  bool goingAway_ = false;
  Bucket resets_;
  Bucket control_;
  std::uint64_t readTotal_ = 0;
  // The client's stream identifiers that carried HEADERS (the newest kOpenedKept), to tell a
  // reused or skipped identifier (section 5.1.1: PROTOCOL_ERROR), which nghttp2 ignores.
  static constexpr std::size_t kOpenedKept = 4096;
  RecentIds opened_{kOpenedKept};
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
    if (c_.offer(s_, firstBody, last)) co_return error_code{};
    co_return co_await c_.waitFramed(s_);
  }

  awaitable<error_code> writeBody(std::string_view piece, bool last) override {
    if (s_.ended) co_return error_code{};
    if (c_.offer(s_, piece, last)) co_return error_code{};
    co_return co_await c_.waitFramed(s_);
  }

  awaitable<error_code> writeTrailers(std::span<const FieldView> fields) override {
    if (s_.ended) co_return error_code{};
    for (const FieldView& f : fields) {
      std::string name = lowered(f.name);
      if (message::isHopByHopHeader(name)) continue;
      s_.trailers.emplace_back(std::move(name), std::string(f.value));
    }
    if (c_.offer(s_, {}, true)) co_return error_code{};
    co_return co_await c_.waitFramed(s_);
  }

  awaitable<error_code> end() override {
    if (s_.ended) co_return error_code{};
    if (c_.offer(s_, {}, true)) co_return error_code{};
    co_return co_await c_.waitFramed(s_);
  }

  bool keepAlive() const override { return true; }
  std::uint64_t bytesWritten() const override { return s_.bytesOut; }

 private:
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

namespace {
bool framed(const H2Stream& s) { return s.pending.empty() && (!s.ending || s.ended); }
}  // namespace

bool H2Connection::offer(H2Stream& s, std::string_view piece, bool last) {
  if (s.closed) return false;
  s.pending = piece;
  s.ending = last;
  resume(s);
  if (!framed(s) && !dead_) frame();  // the writer (kicked by resume) writes what this framed
  return framed(s);
}

awaitable<error_code> H2Connection::waitFramed(H2Stream& s) {
  // Done when nghttp2 has framed every byte (and the end, when asked); a peer that keeps its
  // window closed for writeTimeoutSeconds loses the stream. A stream closed already: aborted.
  if (s.closed) co_return asio::error::operation_aborted;
  std::size_t before = s.pending.size();
  auto progress = steady_clock::now();
  while (!framed(s)) {
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
  // The list and the lower-cased names go into storage the connection keeps (the names' buffer
  // sized first, so the views into it stay valid); nghttp2 copies both before this returns.
  std::vector<nghttp2_nv>& nva = nva_;
  nva.clear();
  auto add = [&](std::string_view n, std::string_view v,
                 std::uint8_t flags = NGHTTP2_NV_FLAG_NONE) {
    nva.push_back(nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                             reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(),
                             v.size(), flags});
  };
  char code[4];
  if (status >= 0 && status <= 999) {
    code[0] = static_cast<char>('0' + status / 100);
    code[1] = static_cast<char>('0' + status / 10 % 10);
    code[2] = static_cast<char>('0' + status % 10);
  } else {
    std::snprintf(code, sizeof code, "%03d", status);
  }
  add(":status", std::string_view(code, 3));
  // RFC 6797 section 7.2: Strict-Transport-Security on final answers over TLS only, the
  // connection's own value replacing a backend's (as H1Framer's owned field).
  const bool hsts = status >= 200 && !hstsValue_.empty();
  auto skipped = [&](std::string_view name) {
    // Connection-specific fields have no place in HTTP/2 (section 8.2.2).
    return message::isHopByHopHeader(name) || equalsIgnoreCase(name, "proxy-connection") ||
           (hsts && equalsIgnoreCase(name, "strict-transport-security"));
  };
  std::size_t nameBytes = 0;
  for (const FieldView& f : fields) nameBytes += f.name.size();
  names_.resize(nameBytes);
  char* out = names_.data();
  bool hasLength = false;
  for (const FieldView& f : fields) {
    if (skipped(f.name)) continue;
    // Names go lower-case.
    for (std::size_t i = 0; i < f.name.size(); ++i) {
      const char c = f.name[i];
      out[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    const std::string_view name(out, f.name.size());
    out += f.name.size();
    hasLength = hasLength || name == "content-length";
    // A value new in every answer (the gateway's request id) stays out of the HPACK table: an
    // entry would never be used again, and each one lengthens the deflater's search for its
    // name (RFC 7541 section 6.2.3: nghttp2 sends it as a literal never indexed).
    add(name, f.value, name == "x-request-id" ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE);
  }
  if (hsts) add("strict-transport-security", hstsValue_);
  char lengthText[24];
  if (withLength && !hasLength) {
    const char* end = std::to_chars(lengthText, lengthText + sizeof lengthText, length).ptr;
    add("content-length", std::string_view(lengthText, static_cast<std::size_t>(end - lengthText)));
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
        std::vector<nghttp2_nv>& nva = self->nva_;  // nghttp2 copies it
        nva.clear();
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
  if (hd->stream_id > self->lastOpened_) {
    self->lastOpened_ = hd->stream_id;
    self->opened_.add(hd->stream_id);
    return 0;
  }
  const bool known = self->opened_.contains(hd->stream_id);
  const bool tracked = !self->opened_.truncated() || hd->stream_id > self->opened_.oldest();
  if (!known && tracked) return NGHTTP2_ERR_CALLBACK_FAILURE;  // a stream it never opened
  return 0;
}

int H2Connection::onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<H2Connection*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto stream = std::allocate_shared<H2Stream>(PoolAllocator<H2Stream>(self->streamBlocks_),
                                               self->t_.io, frame->hd.stream_id);
  // The field storage of a stream served before (its capacity kept), when there is one.
  if (!self->spareFields_.empty()) {
    stream->fields.swap(self->spareFields_.back());
    self->spareFields_.pop_back();
  } else {
    stream->fields.reserve(16);
  }
  self->streams_.set(frame->hd.stream_id, std::move(stream));
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
    return 0;
  }
  s->fields.emplace(std::string_view(reinterpret_cast<const char*>(name), namelen),
                    std::string_view(reinterpret_cast<const char*>(value), valuelen));
  return 0;
}

int H2Connection::onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<H2Connection*>(user);
  self->active_ = true;
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
        self->ready_.push_back(*self->streams_.find(frame->hd.stream_id));
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
  H2Stream* found = self->find(id);
  if (!found) return 0;
  H2Stream& s = *found;
  s.closed = true;
  s.closeCode = code;
  // DATA never taken gives its share of the connection window back.
  if (!s.inbound.empty()) nghttp2_session_consume_connection(self->session_, s.inbound.size());
  s.inbound.clear();
  // The stream's work stops: the relay's pending operation is cancelled.
  if (!s.ended) s.cancel.emit(asio::cancellation_type::terminal);
  s.notify();
  std::shared_ptr<H2Stream> gone;  // destroyed once out of the table
  self->streams_.take(id, &gone);
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
  const int rv = nghttp2_session_server_new3(&session_, cb, this, opt, memory_.mem());
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
  // The stream's cancellation signal holds the spawned thread's cancellation state, which asio
  // still clears when it resumes after serve() returns (co_spawn posts before it calls the
  // handler): the completion handler keeps the stream, not serve()'s frame alone, or a stream
  // freed with serve()'s frame (its block reused by the next stream) is written through.
  H2Stream& stream = *s;
  awaitable<void> work = serve(s);  // before s moves into the handler (arguments are unsequenced)
  asio::co_spawn(t_.io, std::move(work),
                 asio::bind_cancellation_slot(stream.cancel.slot(), [this, keep = std::move(s)](
                                                                        std::exception_ptr e) {
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

// What nghttp2 has to send, framed after queued_ (up to kOutputBytes gathered): by the writer, and
// by a stream that waits for its answer to be framed (most often done at once, no wait at all).
void H2Connection::frame() {
  while (queued_.size() < kOutputBytes) {
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      dead_ = true;
      break;
    }
    if (n == 0) break;
    queued_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
}

awaitable<void> H2Connection::writer() {
  for (;;) {
    frame();
    if (!queued_.empty()) {
      output_.swap(queued_);
      queued_.clear();
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
    writerWaiting_ = true;
    co_await writeWake_.async_wait(kAwait);
    writerWaiting_ = false;
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
    if (active_) {
      active_ = false;
      lastActivity_ = now;
    }
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
  // A reset stream's cancellation ends the operation it waits on, and the code below sees the
  // closed stream and winds down; it must not throw at the next co_await instead: the relay's
  // body pump (a coroutine beside it, reading this stream's DATA) would outlive the frames it
  // reads from (a gRPC client cancelling a call while it sent crashed the gateway).
  co_await asio::this_coro::throw_if_cancelled(false);
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
  if (std::holds_alternative<message::Defer>(decision.action)) co_await settle(ctx_, t_, &decision);
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
  if (spareFields_.size() < kKeptFields && request.headers.size() <= kKeptFieldCount) {
    request.headers.clear();
    spareFields_.push_back(std::move(request.headers));
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
