// HTTP/1.1 message syntax (RFC 9112), strictly: the request and response heads, and chunked
// bodies. Trusts nothing: every byte comes from a client or a backend. Pure functions over bytes,
// no I/O, so every rule is unit-tested and fuzzed without a socket.
//
// Why not Beast's parser: Beast 1.81 accepts `Transfer-Encoding: xchunked` as "no body" (the body
// would be read as the next request), obs-fold, a missing or doubled Host, and hides the received
// bytes. A gateway that two parsers read differently is a request-smuggling gateway, so the one
// parser here refuses everything RFC 9112 lets a recipient refuse (SPEC section 10).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "message/header_map.h"

namespace mgw::http {

struct Field {
  std::string name;   // as received (case kept)
  std::string value;  // as received, without the surrounding whitespace (RFC 9112 section 5)
};

enum class Framing { kNone, kLength, kChunked, kUntilClose };

struct RequestHead {
  std::string method;
  std::string target;  // as received
  int versionMinor = 1;
  // In arrival order, names as received; the same container as HttpRequest::headers, so the
  // session moves them into the request instead of copying every name and value again.
  message::HeaderMap fields;
  Framing framing = Framing::kNone;
  std::uint64_t contentLength = 0;
  bool keepAlive = true;
  bool expectContinue = false;

  // A body follows the head (chunked, or a Content-Length above 0), whichever protocol framed it.
  bool hasBody() const {
    return framing == Framing::kChunked || (framing == Framing::kLength && contentLength > 0);
  }
};

struct ResponseHead {
  int status = 0;
  std::string reason;
  int versionMinor = 1;
  std::vector<Field> fields;
  Framing framing = Framing::kUntilClose;
  std::uint64_t contentLength = 0;
  bool keepAlive = true;
};

// A refusal: which Failure, and a description a user can act on (never echoes long input).
struct WireError {
  Failure failure = Failure::kNone;
  std::string description;
  explicit operator bool() const { return failure != Failure::kNone; }
};

// Finds where a head ends in `data` (the bytes after the last message). Incremental: `*scanned`
// is where the previous call stopped (start at 0). Returns the head's size including the final
// CRLF CRLF, or 0 when more bytes are needed. Leading empty lines before a request line are
// skipped (RFC 9112 section 2.2) and counted in the size. Refuses as soon as the bytes show it:
// a bare LF (400), a head larger than maxHeadBytes (431, or 414 while still in the request line).
std::size_t findHeadEnd(std::string_view data, std::size_t maxHeadBytes, std::size_t* scanned,
                        WireError* error);

struct RequestLimits {
  std::size_t maxHeaderCount = 100;
  std::uint64_t maxBodyBytes = 10 * 1024 * 1024;
};

// Parses a complete request head (what findHeadEnd measured) and decides the body's framing.
WireError parseRequestHead(std::string_view head, const RequestLimits& limits, RequestHead* out);

// Parses a backend's response head; `requestMethod` decides whether a body follows (HEAD).
WireError parseResponseHead(std::string_view head, std::string_view requestMethod,
                            ResponseHead* out);

// Case-insensitive ASCII comparison, for field names and codings.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// True when `fields` (a plan's header list) has a field named `name`, in any case.
bool hasField(const std::vector<std::pair<std::string, std::string>>& fields,
              std::string_view name);

// Appends the field line "name: value\r\n" to a head being written: one resize and two copies
// (four appends, each checking the capacity, were a per-field cost of every head).
void appendFieldLine(std::string& out, std::string_view name, std::string_view value);

// The comma-separated elements of a list field (RFC 9110 section 5.6.1), trimmed, empty ones
// dropped.
std::vector<std::string_view> splitList(std::string_view value);

// The field names a message's Connection fields list (RFC 9110 section 7.6.1): hop-by-hop for
// that message too.
std::vector<std::string> connectionOptions(const std::vector<Field>& fields);
std::vector<std::string> connectionOptions(const message::HeaderMap& fields);

// Whether `name` is among `names`, in any letter case.
bool listed(const std::vector<std::string>& names, std::string_view name);

// Decodes a chunked body (RFC 9112 section 7.1) as it arrives. Chunk extensions are checked and
// dropped; trailer fields are checked and dropped (the proxy frames what it forwards itself).
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(std::uint64_t maxBodyBytes) : maxBodyBytes_(maxBodyBytes) {}

  // Consumes bytes from `in` and appends the chunk data to *payload. Returns how many bytes of
  // `in` were consumed; stops at the end of the message (done() turns true), so any bytes left
  // belong to the next message. On malformed input *error is set (400, or 413 past the limit).
  std::size_t feed(std::string_view in, std::string* payload, WireError* error);

  bool done() const { return state_ == State::kDone; }
  std::uint64_t total() const { return total_; }

 private:
  enum class State {
    kSize,
    kSizeBws,
    kExtension,
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailer,
    kDone
  };
  std::uint64_t maxBodyBytes_;
  State state_ = State::kSize;
  std::uint64_t remaining_ = 0;  // bytes left in the current chunk
  std::uint64_t total_ = 0;
  int sizeDigits_ = 0;
  std::size_t lineBytes_ = 0;  // extension or trailer bytes so far (bounded)
  std::string trailerLine_;
  bool lastChunk_ = false;
};

}  // namespace mgw::http
