// The one place that turns a Failure into an HTTP error reply (SPEC section 7 fault body), for
// the handlers and the transport alike.
#pragma once

#include <string_view>

#include "common/status.h"
#include "message/http_message.h"

namespace mgw::message {

enum class Challenge { kApiKey, kBasic };

// {"fault": {"code", "message", "description"}}; WWW-Authenticate on every 401. The description
// must never contain a key or a password: callers pass text built from claims, names and reasons.
void writeFault(HttpResponse& res, Failure failure, std::string_view description,
                Challenge challenge = Challenge::kApiKey);

inline HttpResponse faultReply(Failure failure, std::string_view description,
                               Challenge challenge = Challenge::kApiKey) {
  HttpResponse res;
  writeFault(res, failure, description, challenge);
  return res;
}

}  // namespace mgw::message
