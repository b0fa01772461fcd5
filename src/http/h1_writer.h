// The HTTP/1.1 side of a DownstreamWriter (RFC 9112): the status line, the framing fields
// (Content-Length, Transfer-Encoding: chunked, Connection), chunked re-framing of a streamed body,
// and what an HTTP/1.0 client needs instead (no 1xx, no chunked: the body ends at the close).
// H1Framer computes the bytes as data (unit-tested without a socket); H1Writer sends them.
#pragma once

#include <array>
#include <boost/asio/buffer.hpp>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "http/connection.h"
#include "http/downstream_writer.h"

namespace mgw::http {

class H1Framer {
 public:
  // `http10`: the request was HTTP/1.0; `headRequest`: it was HEAD (no body is ever sent, the
  // length fields describe the representation: RFC 9110 section 9.3.2).
  H1Framer(bool http10, bool headRequest) { reset(http10, headRequest); }

  // For the next answer on the connection (the buffers are kept: no allocation per answer).
  void reset(bool http10, bool headRequest) {
    http10_ = http10;
    headRequest_ = headRequest;
    chunked_ = keepAlive_ = ended_ = false;
  }

  // Each returns the buffers to send (framing bytes owned here, body bytes borrowed from the
  // caller), valid until the next call; an empty span sends nothing.
  std::span<const boost::asio::const_buffer> interim(int status, std::string_view reason,
                                                     std::span<const FieldView> fields);
  std::span<const boost::asio::const_buffer> head(const ResponseStart& head,
                                                  std::string_view firstBody, bool last);
  std::span<const boost::asio::const_buffer> body(std::string_view piece, bool last);
  std::span<const boost::asio::const_buffer> trailers(std::span<const FieldView> fields);
  std::span<const boost::asio::const_buffer> end();

  bool keepAlive() const { return keepAlive_; }
  bool chunked() const { return chunked_; }

  // A field the connection owns (Strict-Transport-Security on the TLS listener): added to every
  // final head, replacing any field of that name among the caller's (a backend's).
  void setOwnedField(std::string name, std::string value) {
    ownedName_ = std::move(name);
    ownedValue_ = std::move(value);
  }

 private:
  std::span<const boost::asio::const_buffer> piece(std::string_view bytes, bool last);
  std::span<const boost::asio::const_buffer> done(std::size_t n) { return {buffers_.data(), n}; }

  bool http10_ = false;
  bool headRequest_ = false;
  bool chunked_ = false;    // the body goes out chunked (streamed to an HTTP/1.1 client)
  bool keepAlive_ = false;  // set by head()
  bool ended_ = false;      // the last chunk was sent
  std::string head_;        // the head's bytes (kept until the next call)
  char size_[24];           // a chunk-size line
  std::string tail_;        // trailers
  std::string ownedName_;   // "" = none
  std::string ownedValue_;
  std::array<boost::asio::const_buffer, 4> buffers_;
};

// H1Framer on a client connection, each write bounded by the write timeout. One per connection:
// begin() before each answer.
class H1Writer final : public DownstreamWriter {
 public:
  H1Writer(Connection& conn, std::chrono::seconds writeTimeout)
      : conn_(conn), writeTimeout_(writeTimeout), framer_(false, false) {}

  // The next answer answers an HTTP/1.0 request, or a HEAD request.
  void begin(bool http10, bool headRequest) { framer_.reset(http10, headRequest); }
  // See H1Framer::setOwnedField (kept across answers).
  void setOwnedField(std::string name, std::string value) {
    framer_.setOwnedField(std::move(name), std::move(value));
  }

  boost::asio::awaitable<error_code> writeInterim(int status, std::string_view reason,
                                                  std::span<const FieldView> fields) override;
  boost::asio::awaitable<error_code> writeHead(const ResponseStart& head,
                                               std::string_view firstBody, bool last) override;
  boost::asio::awaitable<error_code> writeBody(std::string_view piece, bool last) override;
  boost::asio::awaitable<error_code> writeTrailers(std::span<const FieldView> fields) override;
  boost::asio::awaitable<error_code> end() override;
  bool keepAlive() const override { return framer_.keepAlive(); }
  std::uint64_t bytesWritten() const override { return conn_.written; }

 private:
  // `buffers` (by value) points into framer_, which outlives the write.
  boost::asio::awaitable<error_code> send(std::span<const boost::asio::const_buffer> buffers);

  static constexpr std::size_t kGatherTls = 16384;  // one TLS record's payload

  Connection& conn_;
  std::chrono::seconds writeTimeout_;
  std::string gathered_;
  H1Framer framer_;
};

}  // namespace mgw::http
