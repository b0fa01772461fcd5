// The one place that turns a Failure into an HTTP error reply (SPEC section 7 fault body), for
// the handlers and the transport alike; a gRPC call gets the same refusal the gRPC way (SPEC
// section 16: a trailers-only answer with grpc-status and grpc-message, never a body).
#pragma once

#include <string_view>

#include "common/status.h"
#include "message/http_message.h"

namespace mgw::message {

enum class Challenge { kApiKey, kBasic };

// How the client reads a refusal: the JSON fault body, or gRPC status fields.
enum class FaultFormat { kJson, kGrpc };

// kGrpc for a gRPC call (a Content-Type of application/grpc or application/grpc+<format>).
FaultFormat faultFormatFor(std::string_view contentType);
FaultFormat faultFormatFor(const HttpRequest& request);

// kJson: {"fault": {"code", "message", "description"}}; WWW-Authenticate on every 401.
// kGrpc: HTTP 200, Content-Type application/grpc, grpc-status (grpcStatusFor) and grpc-message
// (the same description, percent-encoded), no body: a trailers-only response.
// The description must never contain a key or a password: callers pass text built from claims,
// names and reasons.
void writeFault(HttpResponse& res, Failure failure, std::string_view description,
                Challenge challenge = Challenge::kApiKey, FaultFormat format = FaultFormat::kJson);

inline HttpResponse faultReply(Failure failure, std::string_view description,
                               Challenge challenge = Challenge::kApiKey,
                               FaultFormat format = FaultFormat::kJson) {
  HttpResponse res;
  writeFault(res, failure, description, challenge, format);
  return res;
}

// The fault reply in the format the request asks for (faultFormatFor(request)).
inline HttpResponse faultReplyFor(const HttpRequest& request, Failure failure,
                                  std::string_view description) {
  return faultReply(failure, description, Challenge::kApiKey, faultFormatFor(request));
}

}  // namespace mgw::message
