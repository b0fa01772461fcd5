// Request buffering (nginx's proxy_request_buffering): a body read whole, or up to a limit, before
// the relay takes a backend connection, so a slow client holds a gateway connection and its bytes,
// never a backend connection (or a backend worker) while it sends. Wraps any RequestBody (HTTP/1.1,
// an HTTP/2 stream); trusts what the source checked.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "http/request_body.h"

namespace mgw::http {

class BufferedRequestBody final : public RequestBody {
 public:
  explicit BufferedRequestBody(RequestBody& source) : source_(source) {}

  // Reads the source until its body ends or at least `limit` bytes are held. kNone, or the
  // source's failure (a stall, a limit, bad framing): then nothing reached a backend.
  boost::asio::awaitable<Failure> fill(std::uint64_t limit);
  // The whole body is held.
  bool whole() const { return ended_; }
  std::uint64_t held() const { return held_.size(); }
  std::string_view bytes() const { return held_; }  // what fill() read

  Framing framing() const override { return source_.framing(); }
  std::uint64_t contentLength() const override { return source_.contentLength(); }
  // The bytes held first (once), then the source's.
  BodyPiece atHand() override;
  boost::asio::awaitable<BodyPiece> next() override;

 private:
  RequestBody& source_;
  std::string held_;
  bool ended_ = false;
  bool handed_ = false;
};

}  // namespace mgw::http
