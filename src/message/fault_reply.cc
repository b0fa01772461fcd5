#include "message/fault_reply.h"

#include <nlohmann/json.hpp>

namespace mgw::message {

void writeFault(HttpResponse& res, Failure failure, std::string_view description,
                Challenge challenge) {
  const Fault fault = faultFor(failure);
  res.status = fault.httpStatus;
  nlohmann::json body = {
      {"fault", {{"code", fault.code}, {"message", fault.message}, {"description", description}}}};
  res.setContent(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                 "application/json");
  if (fault.httpStatus == 401) {
    res.setHeader("WWW-Authenticate", challenge == Challenge::kBasic ? "Basic realm=\"micro-gw\""
                                                                     : "APIKey realm=\"micro-gw\"");
  }
}

}  // namespace mgw::message
