#include "server/routes.h"

#include <nlohmann/json.hpp>

#include "server/portal.h"
#include "server/request_util.h"
#include "sts/cross_site.h"

namespace mgw::server {
namespace {

message::Decision reply(HttpResponse response) {
  return message::Decision::reply(std::move(response));
}

}  // namespace

message::Decision runLocal(ServerContext& context, RouteHandler handler, std::string id) {
  message::Local d;
  d.blocking = true;
  d.maxBodyBytes = 64 * 1024;  // a key or management request is a few hundred bytes
  d.run = [&context, handler, id = std::move(id)](message::HttpRequest& request) {
    RouteRequest req;
    static_cast<message::HttpRequest&>(req) = std::move(request);
    req.id = id;
    auto result = handler(context, req);
    HttpResponse res = std::holds_alternative<Refusal>(result)
                           ? answer(std::get<Refusal>(result))
                           : std::move(std::get<HttpResponse>(result));
    res.setHeader("Cache-Control", "no-store");
    // A browser with a portal session would answer a Basic challenge with its own password
    // dialog over the page: the session's refusals carry none.
    if (isPortalPath(req.path) || carriesPortalSession(context, req))
      res.headers.erase("WWW-Authenticate");
    return res;
  };
  return message::Decision{std::move(d), {}};
}

HttpResponse answer(const Refusal& refusal) {
  HttpResponse res = message::faultReply(refusal.failure, refusal.description, Challenge::kBasic);
  if (refusal.retryAfterSeconds > 0)
    res.setHeader("Retry-After", std::to_string(refusal.retryAfterSeconds));
  return res;
}

message::Decision Dispatcher::decide(message::HttpRequest& request) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/health" && (method == "GET" || method == "HEAD")) {
    HttpResponse res;
    res.setContent("{\"status\":\"UP\"}", "application/json");
    return reply(std::move(res));
  }
  const bool stsPath =
      path == "/apikey" || path == "/.well-known/jwks.json" || path == kApiDefinitionPath;
  if (!request.tls && (stsPath || isLifecyclePath(path) ||
                       (isPortalPath(path) && portalEnabled(context_.state()->config)))) {
    // Passwords never travel in clear text: the STS and key management exist on HTTPS only.
    return reply(message::faultReply(Failure::kNotFound,
                                     "this endpoint is served on the HTTPS listener only"));
  }
  if (request.tls) {
    if (path == "/apikey" || isLifecyclePath(path) || path == "/portal/session" ||
        path == kApiDefinitionPath) {
      // CSRF (sts/cross_site.h): judged on the head, before the body is read or a password
      // checked.
      const auto state = context_.state();
      sts::CrossSiteFacts facts;
      facts.method = method;
      if (request.hasHeader("Origin")) facts.origin = request.header("Origin");
      if (request.hasHeader("Sec-Fetch-Site")) facts.fetchSite = request.header("Sec-Fetch-Site");
      facts.host = request.authority.empty() ? request.header("Host") : request.authority;
      facts.contentType = request.header("Content-Type");
      facts.hasBody = request.hasBody;
      if (auto refusal =
              sts::checkCrossSite(facts, state->config.listener.managementAllowedOrigins)) {
        HttpResponse res = answer(*refusal);
        res.setHeader("Cache-Control", "no-store");
        return reply(std::move(res));
      }
    }
    if (auto portal = decidePortal(context_, request)) return std::move(*portal);
    if (path == "/apikey" && (method == "GET" || method == "POST"))
      return runLocal(context_, issueApiKey, "");
    if (path == "/.well-known/jwks.json" && (method == "GET" || method == "HEAD")) {
      HttpResponse res;
      res.setContent(context_.state()->publishedKeys->toJwks(nowSeconds()).dump(),
                     "application/json");
      return reply(std::move(res));
    }
    if (path == kApiDefinitionPath && method == "GET") return runLocal(context_, apiDefinition, "");
    std::string id;
    if (RouteHandler handler = findLifecycleRoute(method, path, &id))
      return runLocal(context_, handler, std::move(id));
  }
  return decideGateway(context_, request);
}

}  // namespace mgw::server
