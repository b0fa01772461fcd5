// The gateway: every request that is not a micro-gw endpoint is routed to an API, its key
// validated (SPEC section 7) and, when allowed, forwarded to the API's backend as a plan the
// transport carries out. One access-log line per request.
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "gateway/cors.h"
#include "gateway/key_extractor.h"
#include "observability/metrics.h"
#include "observability/trace_context.h"
#include "server/request_util.h"
#include "server/resource_basic_auth.h"
#include "server/routes.h"
#include "throttle/throttler.h"

namespace mgw::server {
namespace {

using nlohmann::json;

// Paths are echoed in fault descriptions; a long one is cut so an answer stays small.
std::string clip(const std::string& path) {
  return path.size() <= 200 ? path : path.substr(0, 200) + "...";
}

struct AccessEntry {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string api;
  Failure failure = Failure::kNone;
  std::string reason;
  std::string keyId;
  // Observability (SPEC section 12): the metrics labels and the trace.
  observability::ApiId apiId = observability::kNoApiId;
  observability::Method method = observability::Method::kOther;
  std::string traceId;
  std::string requestId;
};

// Every value the client sent under `name`, in arrival order.
std::vector<std::string_view> allValues(const message::HttpRequest& request,
                                        const std::string& name) {
  std::vector<std::string_view> out;
  auto [first, last] = request.headers.equal_range(name);
  for (auto it = first; it != last; ++it) out.push_back(it->second);
  return out;
}

// The access log line, written when the transport reports how the exchange ended.
std::function<void(const message::HttpRequest&, const message::Outcome&)> accessLog(
    AccessEntry entry) {
  return [entry = std::move(entry)](const message::HttpRequest& req, const message::Outcome& out) {
    const auto elapsed = std::chrono::steady_clock::now() - entry.started;
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
    const Failure failure = entry.failure != Failure::kNone ? entry.failure : out.failure;
    auto& metrics = observability::metrics();
    metrics.countRequest(entry.apiId, entry.method, out.status, failure);
    metrics.observeRequest(entry.apiId, elapsed);
    json line = {{"client", req.clientAddress},
                 {"method", req.method},
                 {"path", req.path},
                 {"status", out.status},
                 {"latencyMs", static_cast<double>(micros) / 1000.0},
                 {"trace_id", entry.traceId},
                 {"request_id", entry.requestId},
                 {"bytesIn", out.bytesIn},
                 {"bytesOut", out.bytesOut}};
    if (out.upstreamNanos >= 0)
      line["upstreamLatencyMs"] = static_cast<double>(out.upstreamNanos / 1000) / 1000.0;
    if (!entry.api.empty()) line["api"] = entry.api;
    if (failure != Failure::kNone) line["reason"] = failureName(failure);
    const std::string& detail = entry.reason.empty() ? out.reason : entry.reason;
    if (!detail.empty()) line["detail"] = detail;
    if (!entry.keyId.empty()) line["key"] = entry.keyId;
    log::access(line);
  };
}

// A key that names nothing this gateway issued or trusts: what guessing produces. (Expired,
// revoked or not-allowed keys are real keys, counted nowhere.)
bool isFailedLookup(Failure f) {
  return f == Failure::kKeyTooLarge || f == Failure::kMalformedKey || f == Failure::kUnknownKey ||
         f == Failure::kAlgorithmMismatch || f == Failure::kBadSignature ||
         f == Failure::kWrongIssuer;
}

message::HttpResponse& replyOf(message::Decision& refusal) {
  return std::get<message::Reply>(refusal.action).response;
}

std::size_t segmentCount(const std::string& context) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < context.size(); ++i)
    if (context[i] == '/' && i + 1 < context.size()) ++n;
  return n;
}

observability::ThrottleLevel observabilityLevel(throttle::Level level) {
  switch (level) {
    case throttle::Level::kApi:
      return observability::ThrottleLevel::kApi;
    case throttle::Level::kResource:
      return observability::ThrottleLevel::kResource;
    case throttle::Level::kSubscription:
      return observability::ThrottleLevel::kSubscription;
    case throttle::Level::kApplication:
      return observability::ThrottleLevel::kApplication;
  }
  return observability::ThrottleLevel::kApi;
}

// Throttling (SPEC section 13): charges the plan's counters, then the forward decision or a 429.
// The in-process store answers inline; another store (Redis) answers later, so the transport is
// asked to wait (kDefer) without blocking its thread.
message::Decision throttled(ServerContext& context, std::shared_ptr<const RuntimeState> state,
                            throttle::Plan plan, message::Decision allowed, AccessEntry entry) {
  struct Pending {
    std::shared_ptr<const RuntimeState> state;  // keeps the plan's policies alive
    throttle::Plan plan;
    message::Decision allowed;
    AccessEntry entry;
  };
  auto answer = [&context](Pending& p, const throttle::Verdict& verdict) {
    auto a = p.state->throttler->judge(p.plan, verdict, context.throttleStats());
    // mgw_throttle_over_quota_total{level}: stopOnQuotaReach = false, let through.
    for (auto level : {throttle::Level::kApi, throttle::Level::kResource,
                       throttle::Level::kSubscription, throttle::Level::kApplication})
      if ((a.overQuotaLevels >> static_cast<unsigned>(level)) & 1u)
        observability::countOverQuota(observabilityLevel(level));
    if (a.failure == Failure::kNone) {
      p.allowed.done = accessLog(std::move(p.entry));
      return std::move(p.allowed);
    }
    p.entry.failure = a.failure;
    p.entry.reason = a.reason;
    // mgw_throttled_requests_total{level} (SPEC section 12).
    observability::countThrottled(
        a.failure == Failure::kApiThrottled        ? observability::ThrottleLevel::kApi
        : a.failure == Failure::kResourceThrottled ? observability::ThrottleLevel::kResource
        : a.failure == Failure::kApplicationThrottled
            ? observability::ThrottleLevel::kApplication
            : observability::ThrottleLevel::kSubscription);
    auto reply = message::faultReply(a.failure, a.description);
    for (auto& [name, value] : a.headers) reply.setHeader(name, value);
    auto refused = message::Decision::reply(std::move(reply));
    refused.done = accessLog(std::move(p.entry));
    return refused;
  };
  if (throttle::LocalCounterStore* local = context.localCounters()) {
    Pending p{std::move(state), std::move(plan), std::move(allowed), std::move(entry)};
    const auto verdict = local->chargeNow(p.plan.hits);
    return answer(p, verdict);
  }
  auto pending = std::make_shared<Pending>(
      Pending{std::move(state), std::move(plan), std::move(allowed), std::move(entry)});
  message::Defer deferred;
  deferred.start = [&context, pending, answer](message::Resume resume) {
    auto hits = pending->plan.hits;
    context.counters().charge(std::move(hits),
                              [pending, answer, resume = std::move(resume)](throttle::Verdict v) {
                                resume(answer(*pending, v));
                              });
  };
  return message::Decision{std::move(deferred), {}};
}

message::Decision decideWith(ServerContext& context, std::shared_ptr<const RuntimeState> state,
                             message::HttpRequest& request, const ResourceBasicVerdict* basic);

// Basic auth on a resource: argon2id must not run on an I/O thread, so the transport is asked to
// wait (kDefer) while the worker pool (the one /apikey uses: its size bounds argon2id in flight)
// verifies; the gateway's decision is then made again with the verdict, on the worker thread.
// The request is the transport's, untouched until resume.
message::Decision deferBasic(ServerContext& context, std::shared_ptr<const RuntimeState> state,
                             message::HttpRequest& request, const gateway::ApiDefinition& api,
                             const gateway::Resource& resource) {
  message::Defer deferred;
  deferred.blocking = true;
  deferred.start = [&context, state, &request, &api, &resource](message::Resume resume) {
    const ResourceBasicVerdict verdict =
        verifyResourceBasic(context, *state, request, api, resource);
    resume(decideWith(context, state, request, &verdict));
  };
  // The access log line when the transport answers without resuming through decideWith (503: the
  // task waited in the worker queue past workerQueueSeconds; 500: it threw).
  AccessEntry entry;
  entry.method = observability::methodOf(request.method);
  entry.api = api.name + ":" + api.version;
  entry.apiId = api.metricsId;
  return message::Decision{std::move(deferred), accessLog(std::move(entry))};
}

}  // namespace

message::Decision decideGateway(ServerContext& context, message::HttpRequest& request) {
  return decideWith(context, context.state(), request, nullptr);
}

namespace {

// basic: null on the first pass; the verdict of verifyResourceBasic when the request is decided
// again after it (the state is the one it verified against, so the routing is the same).
message::Decision decideWith(ServerContext& context, std::shared_ptr<const RuntimeState> state,
                             message::HttpRequest& request, const ResourceBasicVerdict* basic) {
  AccessEntry entry;
  message::Decision decision;
  const gateway::CorsPolicy* cors = nullptr;  // the API's, once routed: faults carry it too
  // W3C Trace Context and X-Request-Id: continued or started for every request, refused or not.
  auto trace = observability::traceRequest(allValues(request, "traceparent"),
                                           allValues(request, "X-Request-Id"));
  entry.method = observability::methodOf(request.method);
  entry.traceId = trace.traceId;
  entry.requestId = trace.requestId;
  auto refuse = [&](Failure failure, const std::string& description, const std::string& reason) {
    entry.failure = failure;
    entry.reason = reason;
    auto reply = message::faultReply(failure, description);
    if (cors)
      for (auto& [name, value] : cors->responseHeaders(request)) reply.headers.emplace(name, value);
    reply.setHeader("X-Request-Id", trace.requestId);
    decision.action = message::Reply{std::move(reply)};
    decision.done = accessLog(std::move(entry));
    return std::move(decision);
  };

  // What a backend is asked to do: the methods of RFC 9110 section 9.3 that have a meaning here
  // (CONNECT and TRACE are never forwarded).
  static constexpr std::string_view kForwarded[] = {"GET",   "HEAD",   "POST",   "PUT",
                                                    "PATCH", "DELETE", "OPTIONS"};
  if (std::find(std::begin(kForwarded), std::end(kForwarded), request.method) ==
      std::end(kForwarded))
    return refuse(Failure::kMethodNotAllowed,
                  "the method " + request.method.substr(0, 16) + " is not forwarded", "");

  // CORS preflight (SPEC section 15): it carries no key, so the API's policy answers it before
  // any key is looked at; with CORS on, it never reaches the backend. The requested method picks
  // the API. Refused: 403 without CORS fields, which the browser reports as a CORS error.
  if (gateway::isPreflight(request)) {
    const std::string& asked = request.header("Access-Control-Request-Method");
    const auto target = state->router->match(asked, request.path);
    if (target.api && target.api->cors) {
      entry.api = target.api->name + ":" + target.api->version;
      entry.apiId = target.api->metricsId;
      auto answer = target.api->cors->preflight(request);
      if (!answer.allowed)
        return refuse(Failure::kCorsRefused,
                      "the API's CORS policy does not allow this origin, method or headers",
                      answer.reason);
      message::HttpResponse reply;
      reply.status = 204;
      for (auto& [name, value] : answer.headers) reply.headers.emplace(name, value);
      reply.setHeader("X-Request-Id", trace.requestId);
      decision.action = message::Reply{std::move(reply)};
      decision.done = accessLog(std::move(entry));
      return decision;
    }
  }

  const auto route = state->router->match(request.method, request.path);
  if (route.api) cors = route.api->cors.get();
  if (route.failure != Failure::kNone) {
    if (route.api) {
      entry.api = route.api->name + ":" + route.api->version;
      entry.apiId = route.api->metricsId;
    }
    return refuse(route.failure,
                  route.failure == Failure::kNoApi
                      ? "no API is deployed at " + clip(request.path)
                      : "the API has no resource for " + request.method.substr(0, 16) + " " +
                            clip(request.path),
                  "");
  }
  const auto& api = *route.api;
  const auto& resource = *route.resource;
  entry.api = api.name + ":" + api.version;
  entry.apiId = api.metricsId;
  // An operation's own endpoints route it (WSO2 MGW 3.x); else the API's.
  const gateway::Endpoints* endpoints =
      resource.production.empty() ? &api.production : &resource.production;
  throttle::Subject subject;  // what this request is counted against (SPEC section 13)
  subject.api = entry.api;
  subject.apiTier = api.throttlingTier;
  subject.resourceTier = route.resource->throttlingTier;
  gateway::ValidationResult keyFacts;

  // X-Forwarded-For: every line, joined in order (a second line must not hide an address).
  const std::string forwardedFor = request.joinedHeader("X-Forwarded-For");
  const gateway::ValidationResult* caller = nullptr;  // the verified key, for the backend JWT
  bool bearerUsed = false;
  // Basic auth (WSO2 MGW 3.x): Authorization: Basic where the resource accepts basic decides the
  // request alone (OR across the requirement's schemes: a key elsewhere is not looked at).
  bool basicUsed = false;
  if (resource.secured && basic) {
    if (basic->failure != Failure::kNone) {
      auto refused = refuse(basic->failure, basic->description, basic->reason);
      if (replyOf(refused).status == 401)
        replyOf(refused).setHeader("WWW-Authenticate", "Basic realm=\"micro-gw\"");
      if (basic->retryAfterSeconds > 0)
        replyOf(refused).setHeader("Retry-After", std::to_string(basic->retryAfterSeconds));
      return refused;
    }
    keyFacts = basic->caller;
    caller = &keyFacts;
    entry.keyId = keyFacts.keyId;
    subject.keyId = keyFacts.keyId;
    subject.subscriptionTier = keyFacts.subscriptionTier;
    basicUsed = true;
  } else if (resource.secured && resource.security.basic && carriesBasicAuthorization(request)) {
    // SPEC section 1: a password is taken on HTTPS only (not checked, not counted here).
    if (!request.tls)
      return refuse(Failure::kAuthMissing,
                    "basic credentials are accepted on the HTTPS listener only; the password was "
                    "not checked",
                    "basic credentials over plain HTTP");
    return deferBasic(context, state, request, api, resource);
  }
  if (resource.secured && !basicUsed) {
    if (resource.security.unsupportedOnly())
      return refuse(Failure::kUnsupportedSecurity,
                    "this resource is secured only by schemes micro-gw does not serve",
                    "no apiKey or oauth2 scheme on the resource");
    // Key locations per resource (SPEC section 7, WSO2 MGW 3.x): a key elsewhere is no key.
    const auto& sources = gateway::keySourcesFor(api, resource);
    gateway::RequestContext ctx;
    // WSO2 MGW 3.x OAuth2: a [[jwtTokenConfig]] bearer JWT where the resource takes oauth2.
    std::optional<gateway::ExtractedKey> key;
    if (resource.security.oauth2) key = gateway::extractBearer(request);
    if (key) {
      ctx.bearer = true;
      ctx.requiredScopes = resource.security.scopes;
      bearerUsed = true;
    } else {
      key = gateway::extractKey(sources, request);
    }
    if (!key) {
      observability::metrics().countKeyValidation(Failure::kMissingCredentials);
      if (resource.security.basic && sources.empty() && !resource.security.oauth2) {
        auto refused = refuse(Failure::kAuthMissing,
                              "this resource takes Authorization: Basic base64(user:password)",
                              "no credentials");
        replyOf(refused).setHeader("WWW-Authenticate", "Basic realm=\"micro-gw\"");
        return refused;
      }
      if (resource.security.basic) {  // a second challenge: basic is a way in too (RFC 9110 11.6.1)
        auto refused =
            refuse(Failure::kMissingCredentials,
                   sources.empty() ? "this resource takes an OAuth2 bearer token or "
                                     "Authorization: Basic"
                                   : "an API key is required in the '" + sources.front().name +
                                         "' location, or Authorization: Basic",
                   "no credentials");
        replyOf(refused).headers.emplace("WWW-Authenticate", "Basic realm=\"micro-gw\"");
        return refused;
      }
      if (sources.empty())
        return refuse(Failure::kMissingCredentials,
                      "this resource takes an OAuth2 bearer token (Authorization: Bearer)",
                      "no credentials");
      const auto& source = sources.front();
      return refuse(Failure::kMissingCredentials,
                    "an API key is required in the '" + source.name + "' " +
                        (source.in == gateway::KeyLocation::kHeader ? "header" : "query parameter"),
                    "no key in any declared location");
    }
    ctx.clientAddress = request.clientAddress;
    ctx.forwardedFor = forwardedFor;
    ctx.hasReferer = request.hasHeader("Referer");
    ctx.referer = request.header("Referer");
    // Guessing keys is not free: past keyLookupFailuresPerMinute unknown or invalid keys from one
    // client address (as trustedProxies resolves it), 429 without looking the key up. A key
    // already verified (in the cache) is no guess: it is served, so one client's bad keys do not
    // lock out good ones behind the same address (NAT).
    const std::string client = state->validator->effectiveClientAddress(ctx);
    const std::int64_t nowMs = nowMillis();
    const std::int64_t blockedMs = context.keyLookupFailures().blockedForMs(
        client, state->config.auth.keyLookupFailuresPerMinute, nowMs);
    if (blockedMs > 0 && !state->validator->cache().get(key->value, nowMs / 1000)) {
      observability::metrics().countKeyValidation(Failure::kTooManyInvalidKeys);
      const std::string retryAfter = std::to_string((blockedMs + 999) / 1000);
      auto refused = refuse(Failure::kTooManyInvalidKeys,
                            "too many unknown or invalid API keys from this address; retry after " +
                                retryAfter + " seconds",
                            "key lookups from " + client + " throttled");
      replyOf(refused).setHeader("Retry-After", retryAfter);
      return refused;
    }
    auto verdict = state->validator->validate(key->value, api, ctx, nowSeconds());
    observability::metrics().countKeyValidation(verdict.failure);
    entry.keyId = verdict.keyId;
    if (isFailedLookup(verdict.failure)) context.keyLookupFailures().recordFailure(client, nowMs);
    if (verdict.failure != Failure::kNone)
      return refuse(verdict.failure, verdict.description, verdict.reason);
    if (verdict.sandbox) endpoints = resource.sandbox.empty() ? &api.sandbox : &resource.sandbox;
    keyFacts = std::move(verdict);
    caller = &keyFacts;
    subject.keyId = keyFacts.keyId;
    subject.subscriptionTier = keyFacts.subscriptionTier;
    subject.application = keyFacts.applicationId;
    subject.applicationTier = keyFacts.applicationTier;
  }
  if (endpoints->empty())
    return refuse(Failure::kSandboxNotAvailable, "the API has no endpoints for this key type",
                  "no endpoints");

  auto plan = std::make_shared<message::ForwardPlan>();
  plan->api = entry.api;
  plan->failover = endpoints->failover;
  // Failover walks the list in order; otherwise requests take the URLs in turn.
  const std::size_t count = endpoints->urls.size();
  const std::size_t first = endpoints->failover || count == 1 ? 0 : context.nextEndpoint() % count;
  for (std::size_t i = 0; i < count; ++i) {
    auto it = state->endpoints.find(endpoints->urls[(first + i) % count]);
    if (it != state->endpoints.end()) plan->targets.push_back(it->second);
  }
  if (plan->targets.empty())
    return refuse(Failure::kBackendUnreachable, "the backend is unreachable",
                  "no usable endpoint URL");
  plan->rawPath = message::rawPathAfter(request.rawPath, segmentCount(api.context));
  // SPEC section 9 (WSO2 issue #2572): the key is the gateway's business, not the backend's.
  std::vector<std::string> keyParams;
  if (!api.propagateApiKey) {
    for (const auto& source : api.keySources) {
      if (source.in == gateway::KeyLocation::kHeader)
        plan->dropHeaders.push_back(source.name);
      else
        keyParams.push_back(source.name);
    }
  }
  // WSO2 MGW 3.x removeAuthHeaderFromOutMessage (default true): the bearer token stays here.
  if (bearerUsed && !api.propagateApiKey) plan->dropHeaders.push_back("Authorization");
  // Basic credentials never reach the backend (WSO2 strips them too), whatever propagateApiKey.
  if (basicUsed) plan->dropHeaders.push_back("Authorization");
  plan->rawQuery = message::removeQueryParams(request.rawQuery, keyParams);
  plan->forwardedFor =
      forwardedFor.empty() ? request.clientAddress : forwardedFor + ", " + request.clientAddress;
  plan->forwardedHost = request.header("Host");
  plan->tls = request.tls;
  // Observability: the metrics label, the trace continued with the gateway's span as the
  // backend's parent, and the request id both ways.
  plan->metricsApi = api.metricsId;
  plan->traceId = trace.traceId;
  plan->setHeaders.emplace_back("traceparent", std::move(trace.traceparent));
  plan->setHeaders.emplace_back("X-Request-Id", trace.requestId);
  if (!trace.keepTracestate) plan->dropHeaders.push_back("tracestate");
  plan->responseHeaders.emplace_back("X-Request-Id", std::move(trace.requestId));
  plan->timeoutSeconds = api.timeoutSeconds > 0 ? api.timeoutSeconds : 30;
  plan->connectTimeoutSeconds = api.connectTimeoutSeconds > 0 ? api.connectTimeoutSeconds : 5;
  // SPEC section 15: the gateway owns the CORS response fields of an API with CORS on, and the
  // backend JWT header (a client's copy is always removed; a verified caller gets the real one).
  if (cors) {
    plan->addResponseHeaders = cors->responseHeaders(request);
    plan->dropResponseHeaders = gateway::CorsPolicy::ownedResponseFields();
  }
  if (state->jwtGenerator) {
    if (caller) {  // setHeaders replaces any field of that name the client sent
      auto jwt = state->jwtGenerator->tokenFor(*caller, api, nowSeconds());
      if (!jwt)
        return refuse(Failure::kSigningFailed, "the backend JWT could not be signed",
                      "backend JWT signing failed");
      plan->setHeaders.emplace_back(state->jwtGenerator->header(), std::move(*jwt));
    } else {
      plan->dropHeaders.push_back(state->jwtGenerator->header());
    }
  }

  decision.action = message::Forward{std::move(plan)};
  if (state->throttler) {
    std::string resource;
    if (!subject.resourceTier.empty())
      resource = route.resource->method + " " + route.resource->pathTemplate;
    subject.resource = resource;
    auto counting = state->throttler->plan(subject);
    if (!counting.missingPolicy.empty()) {
      auto missing = throttle::Throttler::missing(counting);
      return refuse(missing.failure, missing.description, missing.reason);
    }
    if (!counting.hits.empty())
      return throttled(context, state, std::move(counting), std::move(decision), std::move(entry));
  }
  decision.done = accessLog(std::move(entry));
  return decision;
}

}  // namespace

}  // namespace mgw::server
