// A refusal: what every stage and every Authenticator returns instead of building an answer, and
// the one function that turns it into the answer (STYLE pattern 4). The fault body, status and
// code come from faultFor (SPEC section 7); a refusal adds only the fields its scheme owns
// (WWW-Authenticate: Basic, Retry-After, RateLimit). Trusts its caller for the texts: they never
// hold a key or a password.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "message/http_message.h"

namespace mgw::gateway {

class CorsPolicy;

struct HeaderEdit {
  std::string name;
  std::string value;
  bool append = false;  // false: replaces the field of that name; true: one more line of it
};

struct Refusal {
  Failure failure = Failure::kNone;
  std::string description;          // for the client: specific enough to fix the request
  std::string reason;               // the exact internal reason, for the access log ("" = none)
  std::vector<HeaderEdit> headers;  // applied in order, after the fault body's own fields
  // The API's CORS fields and X-Request-Id. Throttling's 429 has never carried them (clients
  // see exactly what they saw before the pipeline).
  bool decorated = true;

  Refusal& set(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value), false});
    return *this;
  }
  Refusal& append(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value), true});
    return *this;
  }
};

inline constexpr std::string_view kBasicChallenge = "Basic realm=\"micro-gw\"";

// The answer to a refusal: the fault reply of refusal.failure with its description (grpc-status
// and grpc-message for a gRPC call: message::faultFormatFor); when decorated, the API's CORS
// response fields (cors may be null) and X-Request-Id (requestId); then refusal.headers.
message::HttpResponse refusalAnswer(const Refusal& refusal, const CorsPolicy* cors,
                                    const message::HttpRequest& request,
                                    std::string_view requestId);

}  // namespace mgw::gateway
