#include "message/fault_reply.h"

#include <nlohmann/json.hpp>
#include <string>

#include "message/grpc.h"

namespace mgw::message {

FaultFormat faultFormatFor(std::string_view contentType) {
  return isGrpcContentType(contentType) ? FaultFormat::kGrpc : FaultFormat::kJson;
}

FaultFormat faultFormatFor(const HttpRequest& request) {
  return isGrpcRequest(request) ? FaultFormat::kGrpc : FaultFormat::kJson;
}

void writeFault(HttpResponse& res, Failure failure, std::string_view description,
                Challenge challenge, FaultFormat format) {
  const Fault fault = faultFor(failure);
  if (format == FaultFormat::kGrpc) {
    res.status = 200;
    res.body.clear();
    res.setHeader("Content-Type", "application/grpc");
    res.setHeader("grpc-status", std::to_string(static_cast<int>(grpcStatusFor(failure))));
    res.setHeader("grpc-message",
                  percentEncodeGrpcMessage(description.empty() ? fault.message : description));
    return;
  }
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
