#include "http/h2_upstream.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstring>
#include <utility>

#include "common/log.h"
#include "http/upstream_client.h"

namespace mgw::http {

using std::chrono::steady_clock;

namespace {

constexpr std::size_t kWriteBatch = 64 * 1024;  // bytes nghttp2 hands us before a socket write
constexpr std::size_t kReadBuffer = 16 * 1024;

std::string errorName(std::uint32_t code) { return std::string(nghttp2_http2_strerror(code)); }

}  // namespace

// nghttp2's callbacks: C functions with the connection as user data.
struct H2UpstreamCallbacks {
  static H2UpstreamConnection& self(void* user) {
    return *static_cast<H2UpstreamConnection*>(user);
  }

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (H2UpstreamStream* s = self(user).stream(frame->hd.stream_id)) {
      s->fields_.clear();
      s->headBytes_ = 0;
      if (!s->finalHead_) s->status_ = 0;
    }
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    H2UpstreamStream* s = self(user).stream(frame->hd.stream_id);
    if (!s) return 0;
    s->headBytes_ += namelen + valuelen + 32;  // RFC 9113 section 6.5.2's accounting
    if (s->headBytes_ > H2UpstreamConnection::kMaxHeadBytes) {
      s->push(H2UpstreamEvent{H2UpstreamEvent::Kind::kFailed,
                              0,
                              {},
                              {},
                              Failure::kBackendBadResponse,
                              "an answer head or trailer section larger than 64 KiB"});
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // nghttp2 resets the stream
    }
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (!s->finalHead_ && n == ":status") {
      int status = 0;
      for (char c : v) status = status * 10 + (c - '0');  // nghttp2 checked: three digits
      s->status_ = status;
      return 0;
    }
    if (!n.empty() && n.front() == ':') return 0;
    s->fields_.push_back(Field{std::string(n), std::string(v)});
    return 0;
  }

  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2UpstreamConnection& c = self(user);
    c.lastReceived_ = steady_clock::now();
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      // Streams above last_stream_id are closed by nghttp2 (REFUSED_STREAM); the others finish.
      c.goaway_ = true;
      return 0;
    }
    H2UpstreamStream* s = c.stream(frame->hd.stream_id);
    if (!s) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      if (!s->finalHead_) {
        if (s->status_ >= 100 && s->status_ < 200) return 0;  // interim: not relayed
        s->finalHead_ = true;
        H2UpstreamEvent head{
            H2UpstreamEvent::Kind::kHead, s->status_, std::move(s->fields_), {}, {}, {}};
        s->fields_.clear();
        s->push(std::move(head));
      } else {
        H2UpstreamEvent trailers{
            H2UpstreamEvent::Kind::kTrailers, 0, std::move(s->fields_), {}, {}, {}};
        s->fields_.clear();
        s->push(std::move(trailers));
      }
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && s->finalHead_) {
      s->push(H2UpstreamEvent{H2UpstreamEvent::Kind::kEnd, 0, {}, {}, {}, {}});
    }
    return 0;
  }

  static int onDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                         size_t len, void* user) {
    H2UpstreamConnection& c = self(user);
    c.lastReceived_ = steady_clock::now();
    H2UpstreamStream* s = c.stream(id);
    if (!s || s->finished_) {
      // Nobody reads it: the window reopens at once.
      nghttp2_session_consume(session, id, len);
      return 0;
    }
    s->unconsumed_ += len;
    if (!s->events_.empty() && s->events_.back().kind == H2UpstreamEvent::Kind::kData) {
      s->events_.back().bytes.append(reinterpret_cast<const char*>(data), len);
      s->wakeReceiver();
    } else {
      H2UpstreamEvent piece{H2UpstreamEvent::Kind::kData, 0, {}, {}, {}, {}};
      piece.bytes.assign(reinterpret_cast<const char*>(data), len);
      s->push(std::move(piece));
    }
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t code, void* user) {
    H2UpstreamConnection& c = self(user);
    auto it = c.streams_.find(id);
    if (it == c.streams_.end()) return 0;
    std::shared_ptr<H2UpstreamStream> s = std::move(it->second);
    c.streams_.erase(it);
    s->closed_ = true;
    if (!s->ended_ && !s->finished_) {
      std::string why = code == NGHTTP2_REFUSED_STREAM
                            ? "the backend refused the stream (REFUSED_STREAM, or GOAWAY)"
                            : "the backend reset the stream (" + errorName(code) + ")";
      s->push(H2UpstreamEvent{
          H2UpstreamEvent::Kind::kFailed, 0, {}, {}, Failure::kBackendReset, std::move(why)});
    }
    s->wakeSender();
    if (c.streams_.empty()) c.idleSince_ = steady_clock::now();
    return 0;
  }

  static ssize_t readBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    auto* s = static_cast<H2UpstreamStream*>(source->ptr);
    const std::size_t left = s->out_.size() - s->outSent_;
    if (left == 0 && !s->outLast_) {
      s->deferred_ = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    const std::size_t n = std::min(left, length);
    if (n > 0) std::memcpy(buf, s->out_.data() + s->outSent_, n);
    s->outSent_ += n;
    if (s->outSent_ == s->out_.size()) {
      s->out_.clear();
      s->outSent_ = 0;
      if (s->outLast_) *flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (s->outSent_ >= kWriteBatch) {  // keep the buffer from only growing
      s->out_.erase(0, s->outSent_);
      s->outSent_ = 0;
    }
    s->wakeSender();
    return static_cast<ssize_t>(n);
  }
};

// ---- H2UpstreamStream ----

void H2UpstreamStream::push(H2UpstreamEvent event) {
  if (ended_) return;  // nothing follows the end or a failure
  ended_ =
      event.kind == H2UpstreamEvent::Kind::kEnd || event.kind == H2UpstreamEvent::Kind::kFailed;
  events_.push_back(std::move(event));
  wakeReceiver();
}

void H2UpstreamStream::wakeReceiver() { recvSignal_.cancel(); }
void H2UpstreamStream::wakeSender() { sendSignal_.cancel(); }

asio::awaitable<H2UpstreamEvent> H2UpstreamStream::next(steady_clock::time_point deadline) {
  const auto since = steady_clock::now();
  while (events_.empty()) {
    if (steady_clock::now() >= deadline) {
      if (connection_) connection_->noteTimeout(since);
      H2UpstreamEvent timeout{H2UpstreamEvent::Kind::kFailed, 0,        {}, {},
                              Failure::kBackendTimeout,       "timeout"};
      co_return timeout;
    }
    recvSignal_.expires_at(deadline);
    co_await recvSignal_.async_wait(kAwait);
  }
  H2UpstreamEvent event = std::move(events_.front());
  events_.pop_front();
  co_return event;
}

bool H2UpstreamStream::send(std::string_view bytes, bool last) {
  if (closed_ || finished_ || !connection_) return false;
  out_.append(bytes);
  outLast_ = last;
  if (deferred_) {
    deferred_ = false;
    connection_->resumeData(*this);
  } else {
    connection_->wakeWriter();  // nghttp2 takes the bytes on its next send
  }
  return true;
}

asio::awaitable<bool> H2UpstreamStream::writable(steady_clock::time_point deadline) {
  while (!closed_ && !finished_ && out_.size() - outSent_ > kSendBuffer) {
    if (steady_clock::now() >= deadline) co_return false;
    sendSignal_.expires_at(deadline);
    co_await sendSignal_.async_wait(kAwait);
  }
  co_return !closed_ && !finished_;
}

void H2UpstreamStream::consumed(std::size_t n) {
  n = std::min(n, unconsumed_);
  unconsumed_ -= n;
  if (connection_ && n > 0) connection_->consume(id_, n);
}

void H2UpstreamStream::finish() {
  if (finished_) return;
  finished_ = true;
  // What was delivered and not consumed (and what is still queued) goes back to the window.
  std::size_t pending = unconsumed_;
  unconsumed_ = 0;
  if (connection_) {
    if (pending > 0) connection_->consume(id_, pending);
    if (!closed_) connection_->reset(*this);
    connection_->release();
  }
  events_.clear();
  recvSignal_.cancel();
  sendSignal_.cancel();
}

// ---- H2UpstreamConnection ----

H2UpstreamConnection::H2UpstreamConnection(asio::io_context& io, const mgw::UpstreamTarget& target)
    : io_(io),
      target_(target),
      writeSignal_(io),
      readySignal_(io),
      idleSince_(steady_clock::now()),
      lastReceived_(steady_clock::now()) {
  readySignal_.expires_at(steady_clock::time_point::max());
  writeSignal_.expires_at(steady_clock::time_point::max());
}

H2UpstreamConnection::~H2UpstreamConnection() {
  if (conn_) conn_->close();
  if (session_) nghttp2_session_del(session_);
}

asio::awaitable<void> H2UpstreamConnection::start(asio::ssl::context& clientTls,
                                                  int connectTimeoutSeconds) {
  auto self = shared_from_this();
  std::string reason;
  Failure failure = Failure::kBackendUnreachable;
  conn_ =
      co_await connectUpstream(io_, clientTls, target_, connectTimeoutSeconds, &reason, &failure);
  started_ = true;
  if (!conn_) {
    fail(failure, reason);
    readySignal_.cancel();
    co_return;
  }
  if (dead_) {  // closed (pool cleared) while connecting
    conn_->close();
    readySignal_.cancel();
    co_return;
  }
  conn_->noDeadline();  // streams keep their own deadlines; the loops wait as long as needed

  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks,
                                                          H2UpstreamCallbacks::onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, H2UpstreamCallbacks::onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, H2UpstreamCallbacks::onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks,
                                                            H2UpstreamCallbacks::onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks,
                                                         H2UpstreamCallbacks::onStreamClose);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // Windows reopen only as the client takes the bytes (H2UpstreamStream::consumed): backpressure.
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_peer_max_concurrent_streams(option, kMaxStreamsCap);
  const int rv = nghttp2_session_client_new2(&session_, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) {
    fail(Failure::kInternalError, "cannot create an HTTP/2 session");
    readySignal_.cancel();
    co_return;
  }
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(kMaxHeadBytes)},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  lastReceived_ = steady_clock::now();
  asio::co_spawn(io_, readLoop(self), asio::detached);
  asio::co_spawn(io_, writeLoop(self), asio::detached);
  readySignal_.cancel();
}

asio::awaitable<bool> H2UpstreamConnection::ready() {
  auto self = shared_from_this();
  // start() sets started_ and then, without waiting, the session or the failure.
  while (!started_) co_await readySignal_.async_wait(kAwait);
  co_return !dead_ && session_ != nullptr;
}

std::size_t H2UpstreamConnection::maxStreams() const {
  if (!session_) return kMaxStreamsCap;
  const uint32_t remote =
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return std::max<std::size_t>(1, std::min<uint32_t>(remote, kMaxStreamsCap));
}

void H2UpstreamConnection::release() {
  if (assigned_ > 0) --assigned_;
  if (assigned_ == 0) idleSince_ = steady_clock::now();
}

std::shared_ptr<H2UpstreamStream> H2UpstreamConnection::submit(const std::vector<Field>& fields,
                                                               bool body, std::string* reason) {
  if (!usable() || !session_) {
    *reason = dead_ ? "the connection is closed" : "the backend sent GOAWAY";
    return nullptr;
  }
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (const Field& f : fields) {
    nva.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(f.name.data())),
                             reinterpret_cast<uint8_t*>(const_cast<char*>(f.value.data())),
                             f.name.size(), f.value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  auto s = std::make_shared<H2UpstreamStream>(io_);
  s->connection_ = shared_from_this();
  nghttp2_data_provider provider{};
  provider.source.ptr = s.get();
  provider.read_callback = H2UpstreamCallbacks::readBody;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                            body ? &provider : nullptr, s.get());
  if (id < 0) {
    *reason = std::string("nghttp2 refused the request: ") + nghttp2_strerror(id);
    if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) goaway_ = true;  // a new connection is needed
    s->connection_.reset();
    return nullptr;
  }
  s->id_ = id;
  streams_.emplace(id, s);
  wakeWriter();
  return s;
}

void H2UpstreamConnection::consume(std::int32_t id, std::size_t n) {
  if (!session_ || dead_) return;
  nghttp2_session_consume(session_, id, n);
  wakeWriter();
}

void H2UpstreamConnection::resumeData(H2UpstreamStream& stream) {
  if (!session_ || dead_ || stream.closed_) return;
  nghttp2_session_resume_data(session_, stream.id_);
  wakeWriter();
}

void H2UpstreamConnection::reset(H2UpstreamStream& stream) {
  if (!session_ || dead_ || stream.closed_ || stream.id_ < 0) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id_, NGHTTP2_CANCEL);
  wakeWriter();
}

void H2UpstreamConnection::noteTimeout(steady_clock::time_point since) {
  if (lastReceived_ < since) goaway_ = true;  // silent: no new streams here
}

void H2UpstreamConnection::wakeWriter() { writeSignal_.cancel(); }

H2UpstreamStream* H2UpstreamConnection::stream(std::int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void H2UpstreamConnection::fail(Failure failure, const std::string& why) {
  if (dead_) return;
  dead_ = true;
  failure_ = failure;
  reason_ = why;
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, s] : streams) {
    s->closed_ = true;
    if (!s->finished_)
      s->push(H2UpstreamEvent{H2UpstreamEvent::Kind::kFailed, 0, {}, {}, failure, why});
    s->wakeSender();
  }
  if (conn_) conn_->close();
  writeSignal_.cancel();
}

void H2UpstreamConnection::close(const std::string& why) { fail(Failure::kBackendReset, why); }

asio::awaitable<void> H2UpstreamConnection::readLoop(std::shared_ptr<H2UpstreamConnection> self) {
  std::unique_ptr<char[]> buffer(new char[kReadBuffer]);
  while (!dead_) {
    auto [ec, n] = co_await conn_->readSome(asio::buffer(buffer.get(), kReadBuffer));
    if (dead_) break;
    if (n > 0) {
      const ssize_t rv =
          nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buffer.get()), n);
      if (rv < 0) {
        fail(Failure::kBackendBadResponse,
             std::string("the backend broke HTTP/2: ") + nghttp2_strerror(static_cast<int>(rv)));
        break;
      }
      wakeWriter();
    }
    if (ec) {
      fail(Failure::kBackendReset, ec == asio::error::eof
                                       ? "the backend closed the connection"
                                       : "the connection broke: " + ec.message());
      break;
    }
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
      fail(Failure::kBackendReset, "the HTTP/2 session ended (GOAWAY)");
      break;
    }
  }
}

asio::awaitable<void> H2UpstreamConnection::writeLoop(std::shared_ptr<H2UpstreamConnection> self) {
  std::string batch;
  while (!dead_) {
    batch.clear();
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        fail(Failure::kInternalError,
             std::string("HTTP/2 framing failed: ") + nghttp2_strerror(static_cast<int>(n)));
        co_return;
      }
      if (n == 0) break;
      batch.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
      if (batch.size() >= kWriteBatch) break;
    }
    if (!batch.empty()) {
      const error_code ec = co_await conn_->write(batch);
      if (ec) {
        if (!dead_) fail(Failure::kBackendReset, "writing to the backend failed: " + ec.message());
        co_return;
      }
      continue;  // more may be ready (the batch was full, or callbacks queued frames)
    }
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
      fail(Failure::kBackendReset, "the HTTP/2 session ended (GOAWAY)");
      co_return;
    }
    writeSignal_.expires_at(steady_clock::time_point::max());
    co_await writeSignal_.async_wait(kAwait);
  }
}

// ---- H2UpstreamPool ----

asio::awaitable<std::shared_ptr<H2UpstreamConnection>> H2UpstreamPool::acquire(
    asio::ssl::context& clientTls, const mgw::UpstreamTarget& target, int connectTimeoutSeconds,
    std::string* reason, Failure* failure) {
  auto& list = byOrigin_[target.origin];
  std::erase_if(list, [](const std::shared_ptr<H2UpstreamConnection>& c) { return !c->usable(); });
  std::shared_ptr<H2UpstreamConnection> chosen;
  for (const auto& c : list) {
    if (c->assigned() < c->maxStreams() && (!chosen || c->assigned() < chosen->assigned()))
      chosen = c;
  }
  if (!chosen && list.size() < kMaxConnectionsPerOrigin) {
    chosen = std::make_shared<H2UpstreamConnection>(io_, target);
    list.push_back(chosen);
    asio::co_spawn(io_, chosen->start(clientTls, connectTimeoutSeconds), asio::detached);
  }
  if (!chosen) {  // every connection is full: the least loaded queues the stream
    for (const auto& c : list)
      if (!chosen || c->assigned() < chosen->assigned()) chosen = c;
  }
  chosen->assign();
  const bool ok = co_await chosen->ready();
  if (!ok) {
    chosen->release();
    *reason = chosen->reason().empty() ? "the connection closed" : chosen->reason();
    *failure =
        chosen->failure() == Failure::kNone ? Failure::kBackendUnreachable : chosen->failure();
    co_return nullptr;
  }
  co_return chosen;
}

void H2UpstreamPool::sweep() {
  const auto now = steady_clock::now();
  for (auto it = byOrigin_.begin(); it != byOrigin_.end();) {
    std::erase_if(it->second, [&](const std::shared_ptr<H2UpstreamConnection>& c) {
      if (c->connecting()) return false;
      if (!c->usable() && c->assigned() == 0) {
        c->close("closed by the pool");
        return true;
      }
      if (c->assigned() == 0 && now - c->idleSince() >= kIdleTimeout) {
        c->close("idle");
        return true;
      }
      return !c->usable();
    });
    it = it->second.empty() ? byOrigin_.erase(it) : std::next(it);
  }
}

void H2UpstreamPool::clear() {
  for (auto& [origin, list] : byOrigin_)
    for (auto& c : list) c->close("micro-gw is stopping");
  byOrigin_.clear();
}

std::size_t H2UpstreamPool::connections(const std::string& origin) const {
  auto it = byOrigin_.find(origin);
  return it == byOrigin_.end() ? 0 : it->second.size();
}

}  // namespace mgw::http
