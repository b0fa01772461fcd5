// How an answer reaches the client, whatever the protocol: the relay and the sessions write a
// status, fields, body pieces and the end through a DownstreamWriter; the HTTP/1.1 connection
// (H1Writer) frames them on the wire, and an HTTP/2 stream can implement it next (h2o's
// lib/core/proxy.c never sees the protocol either). Trusts its caller for the field list: the
// end-to-end fields to send, hop-by-hop ones already removed.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "message/http_message.h"

namespace mgw::http {

// One field to send (views into the message it comes from: valid until the call returns).
struct FieldView {
  std::string_view name;
  std::string_view value;
};

// How the body of an answer ends (the framing information a protocol needs for its head).
enum class BodyKind {
  kNone,        // no body (1xx, 204, 304, an answer to HEAD, or an empty one)
  kLength,      // exactly `contentLength` bytes
  kStreamed,    // a length not known in advance; end() (or a last piece) marks the end
  kUntilClose,  // the source marks the end by closing its connection; an HTTP/1.1 answer must too
};

struct ResponseStart {
  int status = 200;
  std::string_view reason;            // as the backend sent it (HTTP/2 has none)
  std::span<const FieldView> fields;  // end-to-end fields, in order
  BodyKind body = BodyKind::kNone;
  std::uint64_t contentLength = 0;  // kLength only
  // The session would serve another request after this one (HTTP/1.1: otherwise
  // "Connection: close"); a protocol with streams ignores it.
  bool keepAlive = true;
};

class DownstreamWriter {
 public:
  virtual ~DownstreamWriter() = default;

  // A 1xx interim answer (RFC 9110 section 15.2), before the final head. A protocol or a client
  // that cannot carry one (HTTP/1.0) drops it.
  virtual boost::asio::awaitable<boost::system::error_code> writeInterim(
      int status, std::string_view reason, std::span<const FieldView> fields) = 0;

  // The final head, with the body bytes already at hand (sent together: one system call in
  // HTTP/1.1). `firstBody` counts against a kLength body; `last` ends the body with it.
  virtual boost::asio::awaitable<boost::system::error_code> writeHead(const ResponseStart& head,
                                                                      std::string_view firstBody,
                                                                      bool last) = 0;

  // A piece of the body; `last` ends the body with it (HTTP/2: END_STREAM on that DATA frame).
  virtual boost::asio::awaitable<boost::system::error_code> writeBody(std::string_view piece,
                                                                      bool last) = 0;

  // Trailer fields (RFC 9110 section 6.5), which end the body. A protocol or framing that cannot
  // carry them drops them and just ends.
  virtual boost::asio::awaitable<boost::system::error_code> writeTrailers(
      std::span<const FieldView> fields) = 0;

  // Ends the body (nothing to send when the framing already says where it ends).
  virtual boost::asio::awaitable<boost::system::error_code> end() = 0;

  // After writeHead: whether the connection may serve another request once this answer is
  // complete (HTTP/1.1: false for an answer ended by closing).
  virtual bool keepAlive() const = 0;

  // Bytes written to the client so far (the access log's bytes out).
  virtual std::uint64_t bytesWritten() const = 0;
};

// The reason phrase micro-gw sends with its own answers ("Status" for a code it does not name).
std::string_view reasonPhrase(int status);

// RFC 9110 section 6.6.1: an origin server with a clock sends Date. Formatted once a second.
const std::string& httpDate();

// A micro-gw answer (a handler's reply or a fault): its fields less the hop-by-hop ones, Date, and
// the body (Content-Length framed; none on a 204, RFC 9110 section 8.6).
boost::asio::awaitable<boost::system::error_code> writeReply(DownstreamWriter& writer,
                                                             const message::HttpResponse& reply,
                                                             bool keepAlive);

}  // namespace mgw::http
