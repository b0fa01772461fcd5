// Plain request/response structs: the gateway's decisions and the proxy see these, never the
// server library's types, so the transport can change without touching them.
#pragma once

#include <strings.h>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mgw::gateway {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const {
    return strcasecmp(a.c_str(), b.c_str()) < 0;
  }
};
using HeaderMap = std::multimap<std::string, std::string, CaseInsensitiveLess>;
// Query parameters in arrival order, already percent-decoded.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;
  std::string path;  // decoded path, without the query
  QueryParams query;
  HeaderMap headers;
  std::string body;
  std::string clientAddress;  // the TCP peer
  bool tls = false;
};

struct HttpResponse {
  int status = 200;
  HeaderMap headers;
  std::string body;
};

// Rebuilds a query string from decoded parameters (percent-encoding what needs it).
std::string encodeQuery(const QueryParams& params);

}  // namespace mgw::gateway
