// A request's body as the relay reads it, whatever the protocol: the declared framing (none, a
// length, or a length known only at the end), the bytes already at hand, then piece after piece
// until the last. HTTP/1.1 (H1RequestBody: Content-Length or chunked, over the client connection)
// and an HTTP/2 stream (DATA frames) both implement it, so the relay never reads a protocol.
// Trusts nothing the client sends: the length and the chunked syntax are checked as bytes arrive.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/connection.h"
#include "http/wire.h"

namespace mgw::http {

struct BodyPiece {
  std::string_view bytes;  // valid until the next call on the source
  bool last = false;       // the body ends with these bytes (which may be none)
  // kRequestTimeout: the client stalled or went away (the source has closed what it must);
  // kPayloadTooLarge, kBadFraming: the body broke a limit or its framing.
  Failure failure = Failure::kNone;
};

class RequestBody {
 public:
  virtual ~RequestBody() = default;

  // kNone: no body; kLength: exactly contentLength() bytes; kChunked: the length is known at the
  // end only (HTTP/1.1 chunked, an HTTP/2 request without content-length).
  virtual Framing framing() const = 0;
  virtual std::uint64_t contentLength() const = 0;

  // The body bytes received already, taken without waiting (possibly none; the last ones when
  // they complete the body). Lets the relay send them with the request head.
  virtual BodyPiece atHand() = 0;

  // Waits for the next bytes, the end (last with no bytes) or a failure. After the last piece or
  // a failure it is not called again.
  virtual boost::asio::awaitable<BodyPiece> next() = 0;
};

// HTTP/1.1 (RFC 9112 sections 6 and 7.1): the body after the head, from what `in` holds and then
// the connection, each read within bodyTimeout; a chunked body decoded (at most maxBytes), its
// bytes past the body left in `in` for the next request. A stalled client's connection is closed.
class H1RequestBody final : public RequestBody {
 public:
  H1RequestBody(Connection& conn, InputBuffer& in, const RequestHead& head, std::uint64_t maxBytes,
                std::chrono::seconds bodyTimeout)
      : conn_(conn),
        in_(in),
        framing_(head.framing),
        length_(head.contentLength),
        remaining_(head.contentLength),
        decoder_(maxBytes),
        bodyTimeout_(bodyTimeout) {}

  Framing framing() const override { return framing_; }
  std::uint64_t contentLength() const override { return length_; }
  BodyPiece atHand() override;
  boost::asio::awaitable<BodyPiece> next() override;

 private:
  Connection& conn_;
  InputBuffer& in_;
  Framing framing_;
  std::uint64_t length_;
  std::uint64_t remaining_;
  ChunkedDecoder decoder_;
  std::string payload_;  // the decoded chunk data of the last piece
  std::chrono::seconds bodyTimeout_;
};

}  // namespace mgw::http
