// Registers the endpoints on the HTTP library's servers. The handlers convert between the library's
// types and the plain structs the STS and the gateway decide on.
#pragma once

#include <httplib.h>

#include "server/server_context.h"

namespace mgw::server {

// /health, the gateway catch-all; on TLS also /apikey, /apikey/revoke, /.well-known/jwks.json and
// the key management API.
void registerRoutes(httplib::Server& server, ServerContext& context, bool tls);

}  // namespace mgw::server
