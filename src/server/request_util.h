// Small helpers the route files share.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include "gateway/http_message.h"

namespace mgw::server {

inline std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The library adds REMOTE_ADDR/REMOTE_PORT/LOCAL_ADDR/LOCAL_PORT to the request headers (and a
// client may send the same names): they are never believed and never forwarded.
bool isLibraryPseudoHeader(const std::string& name);

// Converts the library's request into the gateway's plain struct.
gateway::HttpRequest toHttpRequest(const httplib::Request& req, bool tls);

// Request-level checks the library does not make: header count, conflicting framing headers
// (Content-Length with Transfer-Encoding, or two Content-Length values: smuggling probes), and
// the body size for a chunked body (the library limits only Content-Length bodies).
// Returns false after writing the fault.
bool checkRequestLimits(const httplib::Request& req, httplib::Response& res,
                        std::size_t maxHeaderCount,
                        std::size_t maxBodyBytes = std::numeric_limits<std::size_t>::max());

// The HTTP library reads no body for GET, yet the seed's users send `curl -X GET ... -d '{...}'`
// to /apikey. On a TLS connection the body is still unread in the SSL object: read exactly
// Content-Length bytes from it, each wait bounded by timeoutSeconds. Returns false (with a fault
// written) on an oversized, chunked or incomplete body.
bool readUnreadTlsBody(const httplib::Request& req, httplib::Response& res, std::size_t maxBytes,
                       int timeoutSeconds, std::string* body);

}  // namespace mgw::server
