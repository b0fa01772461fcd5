// Registers the endpoints on the HTTP library's servers. The handlers convert between the library's
// types and the plain structs the STS and the gateway decide on.
#pragma once

#include <httplib.h>

#include <optional>

#include "auth/user_store.h"
#include "server/server_context.h"

namespace mgw::server {

// /health, the gateway catch-all; on TLS also /apikey, /apikey/revoke, /.well-known/jwks.json and
// the key management API.
void registerRoutes(httplib::Server& server, ServerContext& context, bool tls);

// Basic authentication for /apikey and the key management API: on failure writes the 401 (with
// WWW-Authenticate) or 429 (with Retry-After) reply and returns nullopt.
std::optional<auth::AuthOutcome> authenticate(const RuntimeState& state,
                                              const httplib::Request& req, httplib::Response& res);

}  // namespace mgw::server
