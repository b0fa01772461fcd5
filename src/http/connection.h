// One TCP connection, plain or TLS, with its deadline (beast::tcp_stream's timer covers every
// operation until it is reset, so one expires_after bounds a whole request head). Used for both
// client connections and backend connections. Internal to the transport.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace mgw::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

inline constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<asio::ssl::stream<beast::tcp_stream>> tls;
  std::uint64_t written = 0;  // bytes written so far (the access log's bytes out)
  // The client certificate the TLS handshake verified (mutual TLS); empty when none.
  std::string clientCertSubject;
  std::string clientCertSha256;
  // Its place in its I/O thread's idle list (IoThread::markIdle), or kNotIdle.
  static constexpr std::size_t kNotIdle = static_cast<std::size_t>(-1);
  std::size_t idleSlot = kNotIdle;

  beast::tcp_stream& lowest() { return tls ? tls->next_layer() : *plain; }
  void expiresAfter(std::chrono::seconds d) { lowest().expires_after(d); }
  void noDeadline() { lowest().expires_never(); }

  asio::awaitable<std::pair<error_code, std::size_t>> readSome(asio::mutable_buffer buffer) {
    if (tls) {
      auto [ec, n] = co_await tls->async_read_some(buffer, kAwait);
      co_return std::pair{ec, n};
    }
    auto [ec, n] = co_await plain->async_read_some(buffer, kAwait);
    co_return std::pair{ec, n};
  }

  template <class Buffers>
  asio::awaitable<error_code> writeAll(const Buffers& buffers) {
    if (tls) {
      auto [ec, n] = co_await asio::async_write(*tls, buffers, kAwait);
      written += n;
      co_return ec;
    }
    auto [ec, n] = co_await asio::async_write(*plain, buffers, kAwait);
    written += n;
    co_return ec;
  }

  asio::awaitable<error_code> write(std::string_view bytes) {
    co_return co_await writeAll(asio::buffer(bytes.data(), bytes.size()));
  }

  void close() {
    error_code ec;
    lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
  }
};

// Bytes read but not yet consumed: the rest of a head, a body, or the next pipelined request.
// The storage is never zero-filled (a read overwrites it) and grows only to what a read asks for.
class InputBuffer {
 public:
  std::uint64_t consumedTotal = 0;  // bytes consumed so far (the access log's bytes in)

  std::string_view view() const { return std::string_view(data_.get() + start_, end_ - start_); }
  std::size_t size() const { return end_ - start_; }
  bool empty() const { return end_ == start_; }
  std::size_t capacity() const { return capacity_; }
  void consume(std::size_t n) {
    consumedTotal += n;
    start_ += n;
    if (start_ == end_) start_ = end_ = 0;
  }
  // Room for up to n more bytes at the end (moving the unconsumed bytes to the front, or into a
  // larger buffer of exactly what is needed); returns the writable buffer.
  asio::mutable_buffer prepare(std::size_t n) {
    if (capacity_ - end_ < n && start_ > 0) {
      std::memmove(data_.get(), data_.get() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    }
    if (capacity_ - end_ < n) {
      auto bigger = std::make_unique_for_overwrite<char[]>(end_ + n);
      if (end_ > 0) std::memcpy(bigger.get(), data_.get(), end_);
      data_ = std::move(bigger);
      capacity_ = end_ + n;
    }
    return asio::buffer(data_.get() + end_, n);
  }
  void commit(std::size_t used) { end_ += used; }
  // An idle connection keeps no buffer.
  void release() {
    if (empty()) {
      data_.reset();
      capacity_ = start_ = end_ = 0;
    }
  }
  // Appends (tests, and bytes that arrive by other means).
  void append(std::string_view bytes) {
    auto room = prepare(bytes.size());
    if (!bytes.empty()) std::memcpy(room.data(), bytes.data(), bytes.size());
    commit(bytes.size());
  }

  asio::awaitable<error_code> readMore(Connection& c, std::size_t n = 16384) {
    auto buf = prepare(n);
    auto [ec, got] = co_await c.readSome(buf);
    commit(got);
    co_return ec;
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t start_ = 0;
  std::size_t end_ = 0;
};

}  // namespace mgw::http
