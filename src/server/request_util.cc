#include "server/request_util.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <strings.h>

#include "server/fault_reply.h"

namespace mgw::server {

bool isLibraryPseudoHeader(const std::string& name) {
  return strcasecmp(name.c_str(), "REMOTE_ADDR") == 0 ||
         strcasecmp(name.c_str(), "REMOTE_PORT") == 0 ||
         strcasecmp(name.c_str(), "LOCAL_ADDR") == 0 || strcasecmp(name.c_str(), "LOCAL_PORT") == 0;
}

gateway::HttpRequest toHttpRequest(const httplib::Request& req, bool tls) {
  gateway::HttpRequest out;
  out.method = req.method;
  out.path = req.path;
  // From the request target only: the library also merges the fields of an
  // application/x-www-form-urlencoded body into req.params, and those are neither query
  // parameters to forward nor a place an API key may come from.
  const auto mark = req.target.find('?');
  if (mark != std::string::npos) {
    httplib::Params query;
    httplib::detail::parse_query_text(req.target.substr(mark + 1), query);
    for (const auto& [name, value] : query) out.query.emplace_back(name, value);
  }
  for (const auto& [name, value] : req.headers)
    if (!isLibraryPseudoHeader(name)) out.headers.emplace(name, value);
  out.body = req.body;
  out.clientAddress = req.remote_addr;
  out.tls = tls;
  return out;
}

bool checkRequestLimits(const httplib::Request& req, httplib::Response& res,
                        std::size_t maxHeaderCount, std::size_t maxBodyBytes) {
  std::size_t count = 0;
  for (const auto& header : req.headers)
    if (!isLibraryPseudoHeader(header.first)) ++count;
  if (count > maxHeaderCount) {
    writeFault(res, Failure::kHeadersTooLarge,
               "the request has " + std::to_string(count) + " headers; at most " +
                   std::to_string(maxHeaderCount) +
                   " are accepted ([listenerConfig] maxHeaderCount)");
    return false;
  }
  const auto lengths = req.get_header_value_count("Content-Length");
  if (lengths > 1 || (lengths == 1 && req.has_header("Transfer-Encoding"))) {
    writeFault(res, Failure::kBadRequestBody,
               "conflicting message framing: Content-Length must appear once and never with "
               "Transfer-Encoding");
    res.set_header("Connection", "close");
    return false;
  }
  // RFC 9112 section 6.3: an invalid Content-Length ("5, 40", "+5") is an unrecoverable framing
  // error; section 5.1: whitespace between a field name and its colon must be refused with 400.
  // Either lets a backend frame the forwarded request differently from this server.
  // RFC 9110 section 5.5: CR, LF and NUL never belong in a field value. cpp-httplib 0.11.4
  // percent-decodes header values, so "X-A: a%0d%0aX-B: b" arrives here holding a CRLF that the
  // proxy would write to the backend verbatim: header injection, and with an empty line a whole
  // second request on the upstream connection.
  for (const auto& [name, value] : req.headers) {
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      writeFault(res, Failure::kBadRequestBody, "a header field value holds CR, LF or NUL");
      res.set_header("Connection", "close");
      return false;
    }
    const bool badName = name.empty() || name.find_first_of(" \t") != std::string::npos;
    const bool badLength =
        strcasecmp(name.c_str(), "Content-Length") == 0 &&
        (value.empty() || value.find_first_not_of("0123456789") != std::string::npos);
    if (badName || badLength) {
      writeFault(
          res, Failure::kBadRequestBody,
          badName ? "a header field name holds whitespace" : "Content-Length is not a number");
      res.set_header("Connection", "close");
      return false;
    }
  }
  // cpp-httplib 0.11.4 applies set_payload_max_length to Content-Length bodies only and reads a
  // chunked body whole: refuse it here, so it is at least never forwarded or parsed.
  if (req.body.size() > maxBodyBytes) {
    writeFault(res, Failure::kPayloadTooLarge,
               "the request body exceeds " + std::to_string(maxBodyBytes) +
                   " bytes ([listenerConfig] maxRequestBytes)");
    res.set_header("Connection", "close");
    return false;
  }
  return true;
}

bool readUnreadTlsBody(const httplib::Request& req, httplib::Response& res, std::size_t maxBytes,
                       int timeoutSeconds, std::string* body) {
  body->clear();
  if (req.has_header("Transfer-Encoding")) {
    writeFault(res, Failure::kBadRequestBody,
               "send the request body with Content-Length, not chunked");
    return false;
  }
  if (!req.has_header("Content-Length") || req.ssl == nullptr) return true;
  const std::string text = req.get_header_value("Content-Length");
  if (text.empty() || text.size() > 12 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    writeFault(res, Failure::kBadRequestBody, "Content-Length is not a number");
    return false;
  }
  const std::size_t length = std::stoull(text);
  if (length > maxBytes) {
    writeFault(res, Failure::kPayloadTooLarge,
               "the request body exceeds " + std::to_string(maxBytes) + " bytes");
    return false;
  }
  SSL* ssl = const_cast<SSL*>(req.ssl);  // the library owns it; we only consume the unread body
  body->resize(length);
  std::size_t got = 0;
  while (got < length) {
    if (SSL_pending(ssl) == 0) {
      pollfd pfd{SSL_get_fd(ssl), POLLIN, 0};
      if (poll(&pfd, 1, timeoutSeconds * 1000) <= 0) break;
    }
    const int n = SSL_read(ssl, body->data() + got, static_cast<int>(length - got));
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got != length) {
    body->clear();
    writeFault(res, Failure::kBadRequestBody,
               "the request body ended before Content-Length bytes arrived");
    return false;
  }
  return true;
}

}  // namespace mgw::server
