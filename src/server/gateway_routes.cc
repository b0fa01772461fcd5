// The gateway: every request that is not a micro-gw endpoint is routed to an API, its key validated
// (SPEC section 7) and, when allowed, proxied to the API's backend. One access-log line per
// request.
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/crypto_util.h"
#include "common/log.h"
#include "gateway/key_extractor.h"
#include "server/fault_reply.h"
#include "server/request_util.h"
#include "server/routes.h"

namespace mgw::server {
namespace {

using nlohmann::json;

// Paths are echoed in fault descriptions; a long one is cut so an answer stays small.
std::string clip(const std::string& path) {
  return path.size() <= 200 ? path : path.substr(0, 200) + "...";
}

struct AccessEntry {
  std::string api;
  Failure failure = Failure::kNone;
  std::string reason;
  std::string keyId;
};

void serveGateway(ServerContext& context, const httplib::Request& req, httplib::Response& res,
                  bool tls) {
  const auto started = std::chrono::steady_clock::now();
  const auto state = context.state();
  AccessEntry entry;

  auto finish = [&]() {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
    json line = {{"client", req.remote_addr},
                 {"method", req.method},
                 {"path", req.path},
                 {"status", res.status},
                 {"latencyMs", static_cast<double>(micros) / 1000.0}};
    if (!entry.api.empty()) line["api"] = entry.api;
    if (entry.failure != Failure::kNone) line["reason"] = failureName(entry.failure);
    if (!entry.reason.empty()) line["detail"] = entry.reason;
    if (!entry.keyId.empty()) line["key"] = entry.keyId;
    log::access(line);
  };
  auto fail = [&](Failure failure, const std::string& description, const std::string& reason) {
    entry.failure = failure;
    entry.reason = reason;
    writeFault(res, failure, description);
    finish();
  };

  if (!checkRequestLimits(req, res, state->config.listener.maxHeaderCount,
                          state->config.listener.maxRequestBytes)) {
    finish();
    return;
  }

  const auto route = state->router->match(req.method, req.path);
  if (route.failure != Failure::kNone) {
    if (route.api) entry.api = route.api->name + ":" + route.api->version;
    fail(route.failure,
         route.failure == Failure::kNoApi
             ? "no API is deployed at " + clip(req.path)
             : "the API has no resource for " + req.method + " " + clip(req.path),
         "");
    return;
  }
  const auto& api = *route.api;
  entry.api = api.name + ":" + api.version;

  gateway::HttpRequest request = toHttpRequest(req, tls);
  const gateway::Endpoints* endpoints = &api.production;

  if (route.resource->secured) {
    auto key = gateway::extractKey(api, request);
    if (!key) {
      fail(Failure::kMissingCredentials,
           "an API key is required in the '" + api.keySources.front().name + "' " +
               (api.keySources.front().in == gateway::KeyLocation::kHeader ? "header"
                                                                           : "query parameter"),
           "no key in any declared location");
      return;
    }
    gateway::RequestContext ctx;
    ctx.clientAddress = req.remote_addr;
    ctx.forwardedFor = req.get_header_value("X-Forwarded-For");
    ctx.hasReferer = req.has_header("Referer");
    ctx.referer = req.get_header_value("Referer");
    auto verdict = state->validator->validate(key->value, api, ctx, nowSeconds());
    entry.keyId = verdict.keyId;
    if (verdict.failure != Failure::kNone) {
      fail(verdict.failure, verdict.description, verdict.reason);
      return;
    }
    if (verdict.sandbox) endpoints = &api.sandbox;
  }
  if (endpoints->empty()) {
    fail(Failure::kSandboxNotAvailable, "the API has no endpoints for this key type",
         "no endpoints");
    return;
  }

  Failure failure = Failure::kNone;
  std::string reason;
  gateway::HttpResponse upstream =
      context.proxy().forward(request, api, *endpoints, route.backendPath, &failure, &reason);
  if (failure != Failure::kNone) {
    fail(failure,
         failure == Failure::kBackendTimeout ? "the backend did not answer in time"
                                             : "the backend is unreachable",
         reason);
    return;
  }
  res.status = upstream.status;
  std::string contentType;
  for (const auto& [name, value] : upstream.headers) {
    if (strcasecmp(name.c_str(), "Content-Type") == 0) {
      contentType = value;
      continue;
    }
    res.headers.emplace(name, value);
  }
  res.body = std::move(upstream.body);
  if (!contentType.empty()) res.set_header("Content-Type", contentType);
  finish();
}

}  // namespace

void registerGatewayRoutes(httplib::Server& server, ServerContext& context, bool tls) {
  auto handler = [&context, tls](const httplib::Request& req, httplib::Response& res) {
    serveGateway(context, req, res, tls);
  };
  // Registered last: the micro-gw endpoints match first.
  const std::string any = "/.*";
  server.Get(any, handler);
  server.Post(any, handler);
  server.Put(any, handler);
  server.Patch(any, handler);
  server.Delete(any, handler);
  server.Options(any, handler);
}

}  // namespace mgw::server
