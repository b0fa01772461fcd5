#include "server/fault_reply.h"

#include <nlohmann/json.hpp>

namespace mgw::server {

void writeFault(httplib::Response& res, Failure failure, std::string_view description,
                Challenge challenge) {
  const Fault fault = faultFor(failure);
  res.status = fault.httpStatus;
  nlohmann::json body = {
      {"fault", {{"code", fault.code}, {"message", fault.message}, {"description", description}}}};
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
  if (fault.httpStatus == 401) {
    res.set_header("WWW-Authenticate", challenge == Challenge::kBasic
                                           ? "Basic realm=\"micro-gw\""
                                           : "APIKey realm=\"micro-gw\"");
  }
}

void fillLibraryError(httplib::Response& res) {
  if (!res.body.empty()) return;
  switch (res.status) {
    case 400:
      writeFault(res, Failure::kBadRequestBody, "the request is not valid HTTP/1.1");
      break;
    case 404:
      writeFault(res, Failure::kNoApi, "no API is deployed at this path");
      break;
    case 413:
      writeFault(res, Failure::kPayloadTooLarge,
                 "the request body exceeds [listenerConfig] maxRequestBytes");
      break;
    case 414:
      writeFault(res, Failure::kUriTooLong, "the request line exceeds 8192 bytes");
      break;
    default: {
      nlohmann::json body = {{"fault",
                              {{"code", 900000 + res.status},
                               {"message", "Error"},
                               {"description", "the request could not be processed"}}}};
      res.set_content(body.dump(), "application/json");
    }
  }
}

}  // namespace mgw::server
