// HTTP/2 towards backends (RFC 9113; h2c:// with prior knowledge, h2:// over TLS with ALPN h2),
// with libnghttp2's client session: one connection carries many exchanges (streams) at once, so
// gRPC calls and their streams share a few connections per backend. Per I/O thread, like the
// HTTP/1.1 pool, so nothing here is locked: every call and every callback runs on that thread.
//
// Bounded memory both ways: an answer's DATA is buffered only up to the stream's flow-control
// window (kStreamWindow) and the window reopens (WINDOW_UPDATE) only as the relay hands the bytes
// to the client; a request body waits while more than kSendBuffer bytes are queued for the
// backend. Trusts nothing the backend sends: nghttp2 checks the frames and the HTTP/2 message
// rules (pseudo-headers, field names, content-length against DATA); an answer's head is bounded.
#pragma once

#include <nghttp2/nghttp2.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/endpoint_url.h"
#include "common/status.h"
#include "http/connection.h"
#include "http/wire.h"

namespace mgw::http {

class H2UpstreamConnection;
struct H2UpstreamCallbacks;

// What a stream delivers to the relay, in order: the answer's head, its DATA, trailers, the end;
// or why it broke off.
struct H2UpstreamEvent {
  enum class Kind {
    kHead,      // status and fields (1xx interim heads are not delivered)
    kData,      // bytes (the relay reports them consumed once written: H2UpstreamStream::consumed)
    kTrailers,  // fields after the body
    kEnd,       // the backend ended the stream (END_STREAM)
    kFailed,    // reset, connection lost, malformed answer, or timeout: failure and reason set
  };
  Kind kind = Kind::kEnd;
  int status = 0;
  std::vector<Field> fields;
  std::string bytes;
  Failure failure = Failure::kNone;
  std::string reason;
};

// One exchange on an H2UpstreamConnection. Owned by the relay (and, until the stream closes, by the
// connection, whose callbacks feed it).
class H2UpstreamStream {
 public:
  static constexpr std::size_t kSendBuffer = 64 * 1024;

  explicit H2UpstreamStream(asio::io_context& io) : recvSignal_(io), sendSignal_(io) {}

  std::int32_t id() const { return id_; }

  // The next event, waiting at most until `deadline` (then a kFailed event with
  // kBackendTimeout). After kEnd or kFailed, nothing follows.
  asio::awaitable<H2UpstreamEvent> next(std::chrono::steady_clock::time_point deadline);

  // Queues request body bytes; `last` ends the request (END_STREAM). False when the stream is
  // gone (reset or closed by the backend): the rest of the body is not wanted.
  bool send(std::string_view bytes, bool last);

  // Waits while more than kSendBuffer bytes wait for the backend (its flow-control window) or
  // until `deadline`. False when the stream is gone or the deadline passed.
  asio::awaitable<bool> writable(std::chrono::steady_clock::time_point deadline);

  // `n` DATA bytes reached the client: the backend may send that many more (WINDOW_UPDATE).
  void consumed(std::size_t n);

  // The relay is done with the stream: a stream still open is reset (CANCEL) and what it had
  // buffered is released for the connection's window. Called once, before the last reference.
  void finish();

  bool open() const { return !closed_; }

  // The next event is the end (it arrived with what the relay holds): the relay ends the answer
  // with its last piece. Takes it.
  bool takeEnd() {
    if (events_.empty() || events_.front().kind != H2UpstreamEvent::Kind::kEnd) return false;
    events_.pop_front();
    return true;
  }

  // The client's side failed (its body broke off): the relay's next() sees this failure.
  void fail(Failure failure, std::string reason) {
    push(H2UpstreamEvent{H2UpstreamEvent::Kind::kFailed, 0, {}, {}, failure, std::move(reason)});
  }

 private:
  friend class H2UpstreamConnection;
  friend struct H2UpstreamCallbacks;

  void push(H2UpstreamEvent event);
  void wakeReceiver();
  void wakeSender();

  std::shared_ptr<H2UpstreamConnection> connection_;
  std::int32_t id_ = -1;
  asio::steady_timer recvSignal_;
  asio::steady_timer sendSignal_;
  std::deque<H2UpstreamEvent> events_;
  // The answer as nghttp2 reports it.
  bool finalHead_ = false;  // the final (non-1xx) head arrived: a later HEADERS frame is trailers
  int status_ = 0;
  std::vector<Field> fields_;
  std::size_t headBytes_ = 0;
  std::size_t unconsumed_ = 0;  // DATA bytes delivered to the relay, not yet reported consumed
  bool closed_ = false;         // nghttp2 closed the stream
  bool ended_ = false;          // kEnd or kFailed was pushed
  bool finished_ = false;
  // The request body waiting for the backend.
  std::string out_;
  std::size_t outSent_ = 0;  // bytes of out_ already taken by nghttp2
  bool outLast_ = false;
  bool deferred_ = false;  // the data source said NGHTTP2_ERR_DEFERRED
};

// One HTTP/2 connection to a backend, its reading and writing loops, and its streams.
class H2UpstreamConnection : public std::enable_shared_from_this<H2UpstreamConnection> {
 public:
  static constexpr std::int32_t kStreamWindow = 256 * 1024;
  static constexpr std::int32_t kConnectionWindow = 4 * 1024 * 1024;
  static constexpr std::uint32_t kMaxStreamsCap = 100;  // our bound, whatever the backend allows
  static constexpr std::size_t kMaxHeadBytes = 65536;   // an answer's head or trailers

  H2UpstreamConnection(asio::io_context& io, const mgw::UpstreamTarget& target);
  ~H2UpstreamConnection();
  H2UpstreamConnection(const H2UpstreamConnection&) = delete;
  H2UpstreamConnection& operator=(const H2UpstreamConnection&) = delete;

  // Connects (TLS with ALPN h2 for h2://), sends the preface and SETTINGS, starts the loops.
  // Everyone waiting in ready() is woken when it is done.
  asio::awaitable<void> start(asio::ssl::context& clientTls, int connectTimeoutSeconds);

  // Waits until start() finished; false (with failure() and reason()) when it failed.
  asio::awaitable<bool> ready();

  // A new stream for a request: `fields` are the request's pseudo-header and header fields
  // (lower-case names); `body` says whether DATA follows. Null when the connection takes no
  // new streams (closed, GOAWAY) or nghttp2 refuses the head.
  std::shared_ptr<H2UpstreamStream> submit(const std::vector<Field>& fields, bool body,
                                           std::string* reason);

  // Takes new streams: connected or connecting, not closed, no GOAWAY received or sent.
  bool usable() const { return !dead_ && !goaway_; }
  bool connecting() const { return !started_; }
  // Streams the pool handed out and not yet given back, and the most the backend takes at once
  // (its SETTINGS_MAX_CONCURRENT_STREAMS, at most kMaxStreamsCap).
  std::size_t assigned() const { return assigned_; }
  std::size_t maxStreams() const;
  void assign() { ++assigned_; }
  void release();
  std::chrono::steady_clock::time_point idleSince() const { return idleSince_; }

  Failure failure() const { return failure_; }
  const std::string& reason() const { return reason_; }
  const std::string& origin() const { return target_.origin; }

  // Closes the socket; every open stream fails with `why`.
  void close(const std::string& why);

  // For H2UpstreamStream.
  void consume(std::int32_t id, std::size_t n);
  void resumeData(H2UpstreamStream& stream);
  void reset(H2UpstreamStream& stream);
  // A stream's wait timed out: a connection that received nothing since `since` is presumed
  // dead and takes no new streams.
  void noteTimeout(std::chrono::steady_clock::time_point since);
  // Runs the writing loop (frames nghttp2 has queued go out).
  void wakeWriter();

 private:
  friend struct H2UpstreamCallbacks;

  asio::awaitable<void> readLoop(std::shared_ptr<H2UpstreamConnection> self);
  asio::awaitable<void> writeLoop(std::shared_ptr<H2UpstreamConnection> self);
  void fail(Failure failure, const std::string& why);
  H2UpstreamStream* stream(std::int32_t id);

  asio::io_context& io_;
  mgw::UpstreamTarget target_;
  nghttp2_session* session_ = nullptr;
  std::unique_ptr<Connection> conn_;
  asio::steady_timer writeSignal_;
  asio::steady_timer readySignal_;
  std::unordered_map<std::int32_t, std::shared_ptr<H2UpstreamStream>> streams_;
  bool started_ = false;
  bool dead_ = false;
  bool goaway_ = false;
  bool writing_ = false;
  std::size_t assigned_ = 0;
  Failure failure_ = Failure::kNone;
  std::string reason_;
  std::chrono::steady_clock::time_point idleSince_;
  std::chrono::steady_clock::time_point lastReceived_;
};

// The HTTP/2 connections of one I/O thread, by origin: a stream goes to a connection with room
// (fewer streams than the backend's limit), else to a new connection while the origin has fewer
// than kMaxConnectionsPerOrigin, else to the least loaded one (nghttp2 queues a stream over the
// backend's limit until one ends). A connection that got GOAWAY or broke takes no new streams
// and is dropped; an idle one is closed after kIdleTimeout.
class H2UpstreamPool {
 public:
  static constexpr std::size_t kMaxConnectionsPerOrigin = 4;
  static constexpr std::chrono::seconds kIdleTimeout{60};

  explicit H2UpstreamPool(asio::io_context& io) : io_(io) {}

  // A connection for one stream to `target` (assigned: give it back with release()); null with
  // *reason and *failure when none could be made within connectTimeoutSeconds.
  asio::awaitable<std::shared_ptr<H2UpstreamConnection>> acquire(asio::ssl::context& clientTls,
                                                                 const mgw::UpstreamTarget& target,
                                                                 int connectTimeoutSeconds,
                                                                 std::string* reason,
                                                                 Failure* failure);

  // Drops broken connections and closes idle ones (from the sweep timer).
  void sweep();
  void clear();
  std::size_t connections(const std::string& origin) const;

 private:
  asio::io_context& io_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<H2UpstreamConnection>>> byOrigin_;
};

}  // namespace mgw::http
