#include "server/routes.h"

#include "server/fault_reply.h"

namespace mgw::server {

void registerStsRoutes(httplib::Server& server, ServerContext& context);
void registerGatewayRoutes(httplib::Server& server, ServerContext& context, bool tls);
void registerLifecycleRoutes(httplib::Server& server, ServerContext& context);

void registerRoutes(httplib::Server& server, ServerContext& context, bool tls) {
  server.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"UP\"}", "application/json");
  });
  if (tls) {
    registerStsRoutes(server, context);
    registerLifecycleRoutes(server, context);
  } else {
    // Passwords never travel in clear text: the STS and key management exist on HTTPS only.
    auto httpsOnly = [](const httplib::Request&, httplib::Response& res) {
      writeFault(res, Failure::kNotFound, "this endpoint is served on the HTTPS listener only");
    };
    for (const char* path :
         {"/apikey", "/apikey/revoke", "/apikeys(/.*)?", "/applications(/.*)?"}) {
      server.Get(path, httpsOnly);
      server.Post(path, httpsOnly);
      server.Delete(path, httpsOnly);
    }
  }
  registerGatewayRoutes(server, context, tls);
}

}  // namespace mgw::server
