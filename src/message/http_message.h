// Plain request/response structs: the gateway's decisions, the STS and the key lifecycle see
// these, never the transport's types, so the transport can change without touching them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "message/header_map.h"

namespace mgw::message {

// HeaderMap (message/header_map.h): fields in arrival order, names compared in any letter case.
// Query parameters in arrival order, percent-decoded.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;
  std::string target;         // the request target as received
  std::string rawPath;        // its path, as received (still percent-encoded)
  std::string rawQuery;       // after '?', as received; "" when absent
  std::string authority;      // an absolute-form target's authority ("" for origin-form): it
                              // replaces Host (RFC 9112 section 3.2.2)
  std::string path;           // rawPath percent-decoded, for routing
  QueryParams query;          // rawQuery decoded, for finding a key
  HeaderMap headers;          // values as received
  std::string body;           // read only for the micro-gw endpoints; streamed when proxied
  std::string clientAddress;  // the TCP peer
  bool tls = false;
  // The client certificate the TLS listener verified (mutual TLS, [mutualSSLConfig]): its subject
  // (RFC 2253) and the SHA-256 of its DER in lower-case hex; "" when the client sent none.
  std::string clientCertSubject;
  std::string clientCertSha256;
  bool http2 = false;  // arrived as an HTTP/2 stream (else HTTP/1.x): the protocol label and field
  // A body follows the head (HTTP/1.1: Content-Length above 0 or chunked; HTTP/2: no END_STREAM
  // on HEADERS), whatever fields announce it.
  bool hasBody = false;

  // The value of the first field of that name, "" when absent.
  const std::string& header(std::string_view name) const;
  bool hasHeader(std::string_view name) const { return headers.find(name) != headers.end(); }
  // Every line of a list field joined with ", " in arrival order (RFC 9110 section 5.3).
  std::string joinedHeader(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HeaderMap headers;
  std::string body;

  void setHeader(std::string_view name, std::string value);
  void setContent(std::string content, const std::string& contentType);
};

// The request target split and checked (RFC 9112 section 3.2, RFC 3986): origin-form, or
// absolute-form (its path is used, its authority kept in `authority`: host[:port], no userinfo).
// Fills rawPath, rawQuery, path, query and authority. Returns "" or why
// the target is refused (400): not a path; a malformed percent-escape; an encoded NUL, slash or
// backslash, or a backslash (a backend may split segments there: Envoy's default); a "." or ".."
// segment, also as "..;" or percent-encoded (a backend that normalises it would serve another
// resource than the one authorised).
std::string parseTarget(std::string_view target, HttpRequest* request);

// The raw query without the parameters whose decoded name is in `names`; every other parameter
// stays as received, in order.
std::string removeQueryParams(std::string_view rawQuery, const std::vector<std::string>& names);

// Percent-decodes a query component ('+' is a space, as in form encoding).
std::string decodeQueryComponent(std::string_view s);

}  // namespace mgw::message
