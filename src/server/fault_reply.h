// The one place that turns a Failure into an HTTP error reply (SPEC section 7 fault body).
#pragma once

#include <httplib.h>

#include <string_view>

#include "common/status.h"

namespace mgw::server {

enum class Challenge { kApiKey, kBasic };

// {"fault": {"code", "message", "description"}}; WWW-Authenticate on every 401. The description
// must never contain a key or a password: callers pass text built from claims, names and reasons.
void writeFault(httplib::Response& res, Failure failure, std::string_view description,
                Challenge challenge = Challenge::kApiKey);

// For errors the HTTP library produced itself (400 bad request line, 413, 414, ...): adds a fault
// body when the reply has none.
void fillLibraryError(httplib::Response& res);

}  // namespace mgw::server
