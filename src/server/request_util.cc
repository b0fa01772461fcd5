#include "server/request_util.h"

#include <strings.h>

#include "server/fault_reply.h"

namespace mgw::server {

bool isLibraryPseudoHeader(const std::string& name) {
  return strcasecmp(name.c_str(), "REMOTE_ADDR") == 0 || strcasecmp(name.c_str(), "REMOTE_PORT") == 0 ||
         strcasecmp(name.c_str(), "LOCAL_ADDR") == 0 || strcasecmp(name.c_str(), "LOCAL_PORT") == 0;
}

gateway::HttpRequest toHttpRequest(const httplib::Request& req, bool tls) {
  gateway::HttpRequest out;
  out.method = req.method;
  out.path = req.path;
  for (const auto& [name, value] : req.params) out.query.emplace_back(name, value);
  for (const auto& [name, value] : req.headers)
    if (!isLibraryPseudoHeader(name)) out.headers.emplace(name, value);
  out.body = req.body;
  out.clientAddress = req.remote_addr;
  out.tls = tls;
  return out;
}

bool checkRequestLimits(const httplib::Request& req, httplib::Response& res, std::size_t maxHeaderCount) {
  std::size_t count = 0;
  for (const auto& header : req.headers)
    if (!isLibraryPseudoHeader(header.first)) ++count;
  if (count > maxHeaderCount) {
    writeFault(res, Failure::kHeadersTooLarge,
               "the request has " + std::to_string(count) + " headers; at most " + std::to_string(maxHeaderCount) +
                   " are accepted ([listenerConfig] maxHeaderCount)");
    return false;
  }
  const auto lengths = req.get_header_value_count("Content-Length");
  if (lengths > 1 || (lengths == 1 && req.has_header("Transfer-Encoding"))) {
    writeFault(res, Failure::kBadRequestBody,
               "conflicting message framing: Content-Length must appear once and never with Transfer-Encoding");
    res.set_header("Connection", "close");
    return false;
  }
  return true;
}

}  // namespace mgw::server
