#include "gateway/stages.h"

#include <ctime>

#include <algorithm>
#include <array>
#include <iterator>
#include <optional>
#include <utility>

#include "gateway/key_extractor.h"
#include "gateway/selection_rule.h"
#include "observability/metrics.h"

namespace mgw::gateway {
namespace {

// RFC 9110 section 5.6.7 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". The times told are a
// key's expiry or grace end, the same on every request with that key: the last one formatted is
// kept per thread (strftime was most of the plan stage's cost).
std::string imfFixdate(std::int64_t t) {
  thread_local std::int64_t cachedFor = 0;
  thread_local std::string cached;
  if (t != cachedFor || cached.empty()) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf, n);
    cachedFor = t;
  }
  return cached;
}

// Issue 25: a replaced value in its grace period (Deprecation, RFC 9745 "@<epoch seconds>";
// Sunset, RFC 8594, when it stops working) and a key near its expiry (API-Key-Expires).
template <typename Headers>
void addKeyLifecycleHeaders(const Principal& p, Headers& headers) {
  if (p.replacedAt > 0) {
    headers.emplace_back("Deprecation", "@" + std::to_string(p.replacedAt));
    if (p.graceUntil > 0) headers.emplace_back("Sunset", imfFixdate(p.graceUntil));
  }
  if (p.expiresSoon > 0) headers.emplace_back("API-Key-Expires", imfFixdate(p.expiresSoon));
}

using Kind = StageResult::Kind;

// Paths are echoed in fault descriptions; a long one is cut so an answer stays small.
std::string clip(const std::string& path) {
  return path.size() <= 200 ? path : path.substr(0, 200) + "...";
}

void routed(Exchange& ex, const ApiDefinition& api) {
  ex.entry.api = api.name + ":" + api.version;
  ex.entry.apiId = api.metricsId;
}

// A key that names nothing this gateway issued or trusts: what guessing produces. (Expired,
// revoked or not-allowed keys are real keys, counted nowhere.)
bool isFailedLookup(Failure f) {
  return f == Failure::kKeyTooLarge || f == Failure::kMalformedKey || f == Failure::kUnknownKey ||
         f == Failure::kAlgorithmMismatch || f == Failure::kBadSignature ||
         f == Failure::kWrongIssuer;
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

// No credential for a secured resource: where one goes.
Refusal missingCredentials(const ApiDefinition& api, const Resource& resource) {
  const auto& sources = keySourcesFor(api, resource);
  const auto& security = resource.security;
  if (security.basic && sources.empty() && !security.oauth2) {
    return Refusal{Failure::kAuthMissing,
                   "this resource takes Authorization: Basic base64(user:password)",
                   "no credentials"}
        .set("WWW-Authenticate", std::string(kBasicChallenge));
  }
  if (security.basic) {  // a second challenge: basic is a way in too (RFC 9110 section 11.6.1)
    return Refusal{Failure::kMissingCredentials,
                   sources.empty() ? "this resource takes an OAuth2 bearer token or "
                                     "Authorization: Basic"
                                   : "an API key is required in the '" + sources.front().name +
                                         "' location, or Authorization: Basic",
                   "no credentials"}
        .append("WWW-Authenticate", std::string(kBasicChallenge));
  }
  if (sources.empty()) {
    return Refusal{Failure::kMissingCredentials,
                   "this resource takes an OAuth2 bearer token (Authorization: Bearer)",
                   "no credentials"};
  }
  const auto& source = sources.front();
  return Refusal{
      Failure::kMissingCredentials,
      source.in == KeyLocation::kBearer
          ? "an API key is required as " + source.name + ": Bearer <key>"
          : "an API key is required in the '" + source.name + "' " + locationName(source.in),
      "no key in any declared location"};
}

AuthInput authInput(const Exchange& ex) {
  return AuthInput{ex.request,       *ex.api,         *ex.resource,
                   ex.clientAddress, ex.forwardedFor, ex.context.nowMillis()};
}

// The Authenticator's verdict, applied: the caller for the later stages, or the refusal.
StageResult settle(Exchange& ex, AuthVerdict&& verdict) {
  ex.entry.keyId = verdict.principal.keyId;
  if (verdict.kind == AuthVerdict::Kind::kAccepted) {
    ex.principal = std::move(verdict.principal);
    ex.principal->scheme = ex.credential->scheme;
    // An API with mutual TLS: the verified client certificate goes with whoever the caller is.
    if (ex.api->mutualTls != MutualTls::kOff) {
      ex.principal->clientCertSubject = ex.request.clientCertSubject;
      ex.principal->clientCertSha256 = ex.request.clientCertSha256;
    }
    // A user of [b7a.users] or an opaque key: this gateway issued the credential itself.
    if (ex.principal->issuer.empty()) ex.principal->issuer = ex.state.config->tokenIssuer.issuer;
    return StageResult::next();
  }
  if (ex.credential->scheme != Scheme::kBasic && isFailedLookup(verdict.refusal.failure) &&
      ex.context.keyLookupFailures)
    ex.context.keyLookupFailures->recordFailure(ex.clientAddress, ex.context.nowMillis());
  return StageResult::refuse(std::move(verdict.refusal));
}

// The request carries a credential of an application scheme the resource takes.
bool carriesApplicationCredential(const Exchange& ex) {
  for (const Authenticator* authenticator : ex.authenticators.order())
    if (authenticator && authenticator->extract(ex.request, *ex.api, *ex.resource)) return true;
  return false;
}

// SPEC section 9 (WSO2 issue #2572): the key's locations are dropped from what the backend gets:
// every header and query parameter the API names, every cookie it names (the other cookies
// stay), and Authorization when it carried the API key as a bearer credential (issue 26 item 4;
// an Authorization the key did not come in is the backend's).
void stripKeyLocations(const Exchange& ex, message::ForwardPlan& plan,
                       std::vector<std::string>& keyParams) {
  std::vector<std::string> cookies;
  auto strip = [&](const KeySource& source) {
    switch (source.in) {
      case KeyLocation::kHeader:
        plan.dropHeaders.push_back(source.name);
        break;
      case KeyLocation::kQuery:
        keyParams.push_back(source.name);
        break;
      case KeyLocation::kBearer:
        if (ex.credential && ex.credential->scheme == Scheme::kApiKey &&
            ex.credential->source.in == KeyLocation::kBearer)
          plan.dropHeaders.push_back(source.name);
        break;
      case KeyLocation::kCookie:
        cookies.push_back(source.name);
        break;
    }
  };
  for (const KeySource& source : ex.api->keySources) strip(source);
  if (ex.credential && ex.credential->scheme == Scheme::kApiKey) strip(ex.credential->source);
  if (cookies.empty()) return;
  std::optional<std::string> kept;
  message::HttpRequest rest;  // the Cookie fields left after each removal
  const message::HttpRequest* from = &ex.request;
  for (const std::string& name : cookies) {
    if (auto without = cookiesWithout(*from, name)) {
      rest.headers.clear();
      if (!without->empty()) rest.headers.emplace("Cookie", *without);
      kept = std::move(*without);
      from = &rest;
    }
  }
  if (!kept) return;  // no key cookie was sent: the fields pass untouched
  plan.dropHeaders.push_back("Cookie");
  if (!kept->empty()) plan.setHeaders.emplace_back("Cookie", std::move(*kept));
}

}  // namespace

StageResult methodStage(Exchange& ex) {
  static constexpr std::string_view kForwarded[] = {"GET",   "HEAD",   "POST",   "PUT",
                                                    "PATCH", "DELETE", "OPTIONS"};
  const std::string& method = ex.request.method;
  if (std::find(std::begin(kForwarded), std::end(kForwarded), method) != std::end(kForwarded))
    return StageResult::next();
  return StageResult::refuse(Refusal{
      Failure::kMethodNotAllowed, "the method " + method.substr(0, 16) + " is not forwarded", ""});
}

StageResult corsStage(Exchange& ex) {
  if (!isPreflight(ex.request)) return StageResult::next();
  const std::string& asked = ex.request.header("Access-Control-Request-Method");
  const auto target = ex.state.router->match(asked, ex.request.path);
  if (!target.api || !target.api->cors) return StageResult::next();
  routed(ex, *target.api);
  auto answer = target.api->cors->preflight(ex.request);
  if (!answer.allowed) {
    // 403 without CORS fields, which the browser reports as a CORS error.
    return StageResult::refuse(
        Refusal{Failure::kCorsRefused,
                "the API's CORS policy does not allow this origin, method or headers",
                std::move(answer.reason)});
  }
  StageResult r;
  r.kind = Kind::kAnswer;
  r.answer.status = 204;
  for (auto& [name, value] : answer.headers) r.answer.headers.emplace(name, value);
  r.answer.setHeader("X-Request-Id", ex.trace.requestId);
  return r;
}

StageResult routeStage(Exchange& ex) {
  const auto route = ex.state.router->match(ex.request.method, ex.request.path);
  if (route.api) {
    ex.cors = route.api->cors.get();
    routed(ex, *route.api);
  }
  if (route.failure == Failure::kNone) {
    ex.api = route.api;
    ex.resource = route.resource;
    return StageResult::next();
  }
  if (!route.reason.empty()) return StageResult::refuse(Refusal{route.failure, route.reason, ""});
  return StageResult::refuse(Refusal{route.failure,
                                     route.failure == Failure::kNoApi
                                         ? "no API is deployed at " + clip(ex.request.path)
                                         : "the API has no resource for " +
                                               ex.request.method.substr(0, 16) + " " +
                                               clip(ex.request.path),
                                     ""});
}

namespace {

void resolveClientAddress(Exchange& ex) {
  RequestContext client;
  client.clientAddress = ex.request.clientAddress;
  client.forwardedFor = ex.forwardedFor;
  ex.clientAddress = ex.state.validator->effectiveClientAddress(client);
}

bool names(const SchemeSet& kinds, Scheme scheme) {
  switch (scheme) {
    case Scheme::kApiKey:
      return kinds.apiKey;
    case Scheme::kBearer:
      return kinds.oauth2;
    case Scheme::kBasic:
      return kinds.basic;
    case Scheme::kMutualTls:
      return false;  // not an OpenAPI scheme: x-wso2-mutual-ssl
  }
  return false;
}

std::string describe(const SchemeSet& kinds) {
  std::string out;
  for (const auto& [on, name] :
       {std::pair{kinds.apiKey, "an API key"}, std::pair{kinds.oauth2, "an OAuth2 bearer token"},
        std::pair{kinds.basic, "Authorization: Basic"}}) {
    if (!on) continue;
    if (!out.empty()) out += " and ";
    out += name;
  }
  return out;
}

// OpenAPI 3 section 4.8.30: one requirement object's schemes are all required, the objects are
// alternatives. The first object the request meets whole gives the credentials; the first of
// them in the authenticators' order is the caller (basic, which may defer, is always that one).
StageResult credentialsForAlternatives(Exchange& ex) {
  const Resource& resource = *ex.resource;
  std::array<std::optional<Credential>, 3> found;  // by Scheme
  for (const Authenticator* authenticator : ex.authenticators.order())
    if (authenticator)
      found[static_cast<std::size_t>(authenticator->scheme())] =
          authenticator->extract(ex.request, *ex.api, resource);
  std::string wanted;
  for (const SchemeSet& kinds : resource.security.alternatives) {
    if (kinds.unsupported || kinds.kinds() == 0) continue;
    if (!wanted.empty()) wanted += ", or ";
    wanted += describe(kinds);
    bool met = true;
    for (Scheme s : {Scheme::kApiKey, Scheme::kBearer, Scheme::kBasic})
      met = met && (!names(kinds, s) || found[static_cast<std::size_t>(s)]);
    if (!met) continue;
    for (const Authenticator* authenticator : ex.authenticators.order()) {
      if (!authenticator || !names(kinds, authenticator->scheme())) continue;
      auto& credential = found[static_cast<std::size_t>(authenticator->scheme())];
      if (!ex.credential)
        ex.credential = std::move(credential);
      else
        ex.alsoRequired.push_back(std::move(*credential));
    }
    resolveClientAddress(ex);
    return StageResult::next();
  }
  observability::metrics().countKeyValidation(Failure::kMissingCredentials);
  if (wanted.empty())
    return StageResult::refuse(
        Refusal{Failure::kUnsupportedSecurity,
                "this resource is secured only by schemes micro-gw does not serve",
                "every security requirement object names a scheme micro-gw does not serve"});
  Refusal refusal = missingCredentials(*ex.api, resource);
  refusal.description = "this resource needs " + wanted + " (together where joined by \"and\")";
  return StageResult::refuse(std::move(refusal));
}

}  // namespace

StageResult mutualTlsStage(Exchange& ex) {
  if (ex.api->mutualTls != MutualTls::kMandatory || !ex.resource->secured ||
      !ex.request.clientCertSha256.empty())
    return StageResult::next();
  return StageResult::refuse(
      Refusal{Failure::kAuthInvalid,
              "this API requires a client certificate (mutual TLS): call the HTTPS listener with "
              "a certificate issued by a CA of its truststore",
              "no client certificate"}
          .set("WWW-Authenticate", std::string(kMutualTlsChallenge)));
}

StageResult credentialsStage(Exchange& ex) {
  const Resource& resource = *ex.resource;
  if (!resource.secured) return StageResult::next();
  // WSO2 MGW 3.x's "mutual SSL or application security": the verified certificate alone.
  if (ex.api->certificateSuffices && !carriesApplicationCredential(ex)) {
    if (auto certificate = ex.authenticators.mutualTls.extract(ex.request, *ex.api, resource)) {
      ex.credential = std::move(certificate);
      resolveClientAddress(ex);
      return StageResult::next();
    }
  }
  if (resource.security.unsupportedOnly()) {
    return StageResult::refuse(
        Refusal{Failure::kUnsupportedSecurity,
                "this resource is secured only by schemes micro-gw does not serve",
                "no apiKey or oauth2 scheme on the resource"});
  }
  if (!resource.security.alternatives.empty()) return credentialsForAlternatives(ex);
  for (const Authenticator* authenticator : ex.authenticators.order()) {
    if (!authenticator) continue;
    if (auto credential = authenticator->extract(ex.request, *ex.api, resource)) {
      ex.credential = std::move(credential);
      resolveClientAddress(ex);
      return StageResult::next();
    }
  }
  observability::metrics().countKeyValidation(Failure::kMissingCredentials);
  return StageResult::refuse(missingCredentials(*ex.api, resource));
}

StageResult keyLookupLimitStage(Exchange& ex) {
  if (!ex.credential || ex.credential->scheme == Scheme::kBasic ||
      ex.credential->scheme == Scheme::kMutualTls || !ex.context.keyLookupFailures)
    return StageResult::next();
  const std::int64_t nowMs = ex.context.nowMillis();
  const std::int64_t blockedMs = ex.context.keyLookupFailures->blockedForMs(
      ex.clientAddress, ex.state.config->auth.keyLookupFailuresPerMinute, nowMs);
  if (blockedMs <= 0 || ex.state.validator->cache().get(ex.credential->value, nowMs / 1000))
    return StageResult::next();
  observability::metrics().countKeyValidation(Failure::kTooManyInvalidKeys);
  const std::string retryAfter = std::to_string((blockedMs + 999) / 1000);
  return StageResult::refuse(
      Refusal{Failure::kTooManyInvalidKeys,
              "too many unknown or invalid API keys from this address; retry after " + retryAfter +
                  " seconds",
              "key lookups from " + ex.clientAddress + " throttled"}
          .set("Retry-After", retryAfter));
}

StageResult authenticateStage(Exchange& ex) {
  if (!ex.credential) return StageResult::next();
  // The credentials required with the caller's (AND): each verified here; none of them defers
  // (basic, the one scheme that may, is always the caller's).
  for (const Credential& also : ex.alsoRequired) {
    AuthVerdict verdict = ex.authenticators.of(also.scheme).verify(also, authInput(ex));
    if (verdict.kind == AuthVerdict::Kind::kAccepted) continue;
    if (verdict.kind == AuthVerdict::Kind::kDefer)
      verdict = AuthVerdict::refused(Refusal{Failure::kInternalError,
                                             "the credentials could not be checked",
                                             "a required credential asked to defer"});
    ex.entry.keyId = verdict.principal.keyId;
    if (also.scheme != Scheme::kBasic && isFailedLookup(verdict.refusal.failure) &&
        ex.context.keyLookupFailures)
      ex.context.keyLookupFailures->recordFailure(ex.clientAddress, ex.context.nowMillis());
    return StageResult::refuse(std::move(verdict.refusal));
  }
  const Scheme scheme = ex.credential->scheme;
  AuthVerdict verdict = ex.authenticators.of(scheme).verify(*ex.credential, authInput(ex));
  if (verdict.kind != AuthVerdict::Kind::kDefer) return settle(ex, std::move(verdict));
  // Decided once: the pipeline resumes after this stage with the worker's verdict, without
  // running the earlier stages again.
  StageResult r;
  r.kind = Kind::kDefer;
  r.blocking = true;
  r.start = [scheme](Exchange& ex, std::function<void(StageResult)> done) {
    done(settle(ex, ex.authenticators.of(scheme).verifyBlocking(*ex.credential, authInput(ex))));
  };
  return r;
}

namespace {

// Whether a plan's security takes the request's credential (a plan without any takes every
// request, keyless ones included).
bool planTakes(const ApiPlan& plan, const std::optional<Credential>& credential) {
  if (plan.security.kinds() == 0) return true;
  return credential && names(plan.security, credential->scheme);
}

}  // namespace

StageResult selectPlanStage(Exchange& ex) {
  const ApiDefinition& api = *ex.api;
  // An open resource stays open (x-wso2-disable-security, security: []): plans govern callers.
  if (api.plans.empty() || !ex.resource->secured) return StageResult::next();
  const RuleInput input{ex.request,
                        ex.clientAddress.empty() ? std::string_view(ex.request.clientAddress)
                                                 : std::string_view(ex.clientAddress),
                        ex.principal ? &*ex.principal : nullptr};
  // An opaque key's application is checked against plans that require a subscription (issue 26):
  // such a plan is taken only when the application is subscribed to it (a shared key: only when
  // that subscription is served by the shared key). One lookup in the in-memory index per plan.
  const bool opaque = ex.principal && ex.principal->keyId.rfind("opaque:", 0) == 0;
  std::string tried;         // for the log only: the rules are the publisher's, not the client's
  std::string unsubscribed;  // plans passed over for want of a subscription
  for (std::size_t i = 0; i < api.plans.size(); ++i) {
    const ApiPlan& plan = api.plans[i];
    if (!planTakes(plan, ex.credential)) continue;
    if (plan.rule && !plan.rule->evaluate(input)) {
      if (!tried.empty()) tried += "; ";
      tried += plan.name + ": " + plan.ruleText.substr(0, 200);
      continue;
    }
    if (plan.subscriptionRequired && opaque && ex.state.validator) {
      const Principal& caller = *ex.principal;
      const auto sub = caller.applicationId.empty()
                           ? store::OpaqueKeyIndex::PlanSubscription::kNone
                           : ex.state.validator->planSubscription(caller.applicationId, api.name,
                                                                  api.version, plan.name, i == 0);
      using PS = store::OpaqueKeyIndex::PlanSubscription;
      if (sub == PS::kNone || (caller.sharedKey && sub != PS::kSharedKey)) {
        if (!unsubscribed.empty()) unsubscribed += ", ";
        unsubscribed += plan.name;
        continue;
      }
    }
    ex.selectedPlan = &plan;
    ex.entry.plan = plan.name;
    observability::metrics().countPlan(plan.metricsId);
    if (ex.principal) {
      Principal& caller = *ex.principal;
      caller.plan = plan.name;
      if (!plan.tier.empty()) caller.subscriptionTier = plan.tier;
      // Each plan is its own subscription: its quota is counted apart from the other plans'.
      ex.planSubscriber =
          (caller.subscriber.empty() ? "key\x1f" + caller.keyId : caller.subscriber) +
          "\x1fplan\x1f" + plan.name;
    }
    return StageResult::next();
  }
  if (!unsubscribed.empty()) {
    const bool shared = ex.principal->sharedKey;
    return StageResult::refuse(Refusal{
        Failure::kNotSubscribed,
        "the API key's application is not subscribed to plan " + unsubscribed + " of API " +
            api.name + ":" + api.version +
            (shared ? " through its shared key (a second plan of one API has its own key)" : "") +
            ": subscribe it with {\"api\": ..., \"plan\": \"...\"}",
        "no subscribed plan matched (plans requiring a subscription: " + unsubscribed +
            (tried.empty() ? std::string(")") : "; rules tried: " + tried + ")")});
  }
  const std::string reason =
      "no plan matched" + (tried.empty() ? std::string(" (no plan takes this credential)")
                                         : " (rules tried: " + tried + ")");
  if (!ex.principal) {
    return StageResult::refuse(Refusal{Failure::kMissingCredentials,
                                       "no plan of API " + api.name + ":" + api.version +
                                           " matches this request without credentials",
                                       reason});
  }
  return StageResult::refuse(
      Refusal{Failure::kApiNotAllowed,
              "no plan of API " + api.name + ":" + api.version + " matches this request", reason});
}

StageResult planStage(Exchange& ex) {
  const ApiDefinition& api = *ex.api;
  const Resource& resource = *ex.resource;
  // An operation's own endpoints route it (WSO2 MGW 3.x); else the API's.
  const Endpoints* endpoints = resource.production.empty() ? &api.production : &resource.production;
  if (ex.principal && ex.principal->sandbox)
    endpoints = resource.sandbox.empty() ? &api.sandbox : &resource.sandbox;
  if (endpoints->empty()) {
    return StageResult::refuse(Refusal{Failure::kSandboxNotAvailable,
                                       "the API has no endpoints for this key type",
                                       "no endpoints"});
  }
  auto plan = std::make_shared<message::ForwardPlan>();
  // Room for what the stages add below and after (the key's location, Forwarded, X-Real-IP,
  // tracestate, the backend JWT's header; traceparent, X-Request-Id, the backend JWT), so the
  // vectors are allocated once, not grown per push.
  plan->dropHeaders.reserve(6);
  plan->setHeaders.reserve(4);
  plan->api = ex.entry.api;
  plan->failover = endpoints->failover;
  // Failover walks the list in order; otherwise requests take the URLs in turn.
  const std::size_t count = endpoints->urls.size();
  const std::size_t first =
      endpoints->failover || count == 1 || !ex.context.nextEndpoint
          ? 0
          : ex.context.nextEndpoint->fetch_add(1, std::memory_order_relaxed) % count;
  for (std::size_t i = 0; i < count; ++i) {
    auto it = ex.state.endpoints->find(endpoints->urls[(first + i) % count]);
    if (it != ex.state.endpoints->end()) plan->targets.push_back(it->second);
  }
  if (plan->targets.empty()) {
    return StageResult::refuse(Refusal{Failure::kBackendUnreachable, "the backend is unreachable",
                                       "no usable endpoint URL"});
  }
  const message::HttpRequest& request = ex.request;
  plan->rawPath = message::rawPathAfter(request.rawPath, segmentCount(api.context));
  // SPEC section 9 (WSO2 issue #2572): the key is the gateway's business, not the backend's.
  std::vector<std::string> keyParams;
  if (!api.propagateApiKey) stripKeyLocations(ex, *plan, keyParams);
  const bool verified = ex.principal && ex.credential;
  // WSO2 MGW 3.x removeAuthHeaderFromOutMessage (default true): the bearer token stays here.
  if (verified && ex.credential->scheme == Scheme::kBearer && !api.propagateApiKey)
    plan->dropHeaders.push_back(api.authHeader);  // Authorization, or x-wso2-auth-header's
  // Basic credentials never reach the backend (WSO2 strips them too), whatever propagateApiKey.
  if (verified && ex.credential->scheme == Scheme::kBasic)
    plan->dropHeaders.push_back("Authorization");
  plan->rawQuery = message::removeQueryParams(request.rawQuery, keyParams);
  // A chain is believed, and extended, only from a trusted proxy; from anyone else it is
  // dropped (the client could name any address) and the peer starts a new one.
  const bool trustedPeer =
      ex.state.validator && ex.state.validator->isTrustedProxy(request.clientAddress);
  plan->forwardedFor = ex.forwardedFor.empty() || !trustedPeer
                           ? request.clientAddress
                           : ex.forwardedFor + ", " + request.clientAddress;
  // The gateway speaks X-Forwarded-* only: the client's Forwarded (RFC 7239) and X-Real-IP
  // would name whatever the client wrote to a backend that reads them.
  plan->dropHeaders.push_back("Forwarded");
  plan->dropHeaders.push_back("X-Real-IP");
  // RFC 9112 section 3.2.2: with an absolute-form target the Host field is ignored.
  plan->forwardedHost = request.authority.empty() ? request.header("Host") : request.authority;
  plan->tls = request.tls;
  // Observability: the metrics label, the trace continued with the gateway's span as the
  // backend's parent, and the request id both ways.
  plan->metricsApi = api.metricsId;
  plan->traceId = ex.trace.traceId;
  plan->setHeaders.emplace_back("traceparent", ex.trace.traceparent);
  plan->setHeaders.emplace_back("X-Request-Id", ex.trace.requestId);
  if (!ex.trace.keepTracestate) plan->dropHeaders.push_back("tracestate");
  plan->responseHeaders.emplace_back("X-Request-Id", ex.trace.requestId);
  if (ex.principal) addKeyLifecycleHeaders(*ex.principal, plan->responseHeaders);
  plan->timeoutSeconds = endpoints->timeoutSeconds > 0 ? endpoints->timeoutSeconds
                         : api.timeoutSeconds > 0      ? api.timeoutSeconds
                                                       : 30;
  // The endpoint's own credentials (WSO2 securityConfig basic): they replace any Authorization.
  if (!endpoints->backendAuthorization.empty())
    plan->setHeaders.emplace_back("Authorization", endpoints->backendAuthorization);
  plan->connectTimeoutSeconds = api.connectTimeoutSeconds > 0 ? api.connectTimeoutSeconds : 5;
  plan->faultFormat = message::faultFormatFor(request);
  // SPEC section 15: the gateway owns the CORS response fields of an API with CORS on.
  if (ex.cors) {
    plan->addResponseHeaders = ex.cors->responseHeaders(request);
    plan->dropResponseHeaders = CorsPolicy::ownedResponseFields();
  }
  ex.plan = std::move(plan);
  return StageResult::next();
}

StageResult backendJwtStage(Exchange& ex) {
  BackendJwtGenerator* generator = ex.state.jwtGenerator;
  if (!generator) return StageResult::next();
  if (!ex.principal) {  // a client's copy is always removed
    ex.plan->dropHeaders.push_back(generator->header());
    return StageResult::next();
  }
  // setHeaders replaces any field of that name the client sent.
  auto jwt = generator->tokenFor(*ex.principal, *ex.api, ex.context.nowMillis() / 1000);
  if (!jwt) {
    return StageResult::refuse(Refusal{Failure::kSigningFailed,
                                       "the backend JWT could not be signed",
                                       "backend JWT signing failed"});
  }
  ex.plan->setHeaders.emplace_back(generator->header(), std::move(*jwt));
  return StageResult::next();
}

StageResult throttleResult(Exchange& ex, const throttle::Verdict& verdict) {
  auto a = ex.state.throttler->judge(ex.counting, verdict, *ex.context.throttleStats);
  // mgw_throttle_over_quota_total{level}: stopOnQuotaReach = false, let through.
  for (auto level : {throttle::Level::kApi, throttle::Level::kResource,
                     throttle::Level::kSubscription, throttle::Level::kApplication})
    if ((a.overQuotaLevels >> static_cast<unsigned>(level)) & 1u)
      observability::countOverQuota(observabilityLevel(level));
  if (a.failure == Failure::kNone) return StageResult::next();
  // mgw_throttled_requests_total{level} (SPEC section 12).
  observability::countThrottled(
      a.failure == Failure::kApiThrottled           ? observability::ThrottleLevel::kApi
      : a.failure == Failure::kResourceThrottled    ? observability::ThrottleLevel::kResource
      : a.failure == Failure::kApplicationThrottled ? observability::ThrottleLevel::kApplication
                                                    : observability::ThrottleLevel::kSubscription);
  Refusal refusal{a.failure, std::move(a.description), std::move(a.reason)};
  refusal.decorated = false;
  for (auto& [name, value] : a.headers) refusal.set(std::move(name), std::move(value));
  return StageResult::refuse(std::move(refusal));
}

StageResult throttleStage(Exchange& ex) {
  const throttle::Throttler* throttler = ex.state.throttler;
  if (!throttler) return StageResult::next();
  const Resource& resource = *ex.resource;
  throttle::Subject subject;  // what this request is counted against (SPEC section 13)
  subject.api = ex.entry.api;
  subject.apiTier = ex.api->throttlingTier;
  subject.resourceTier = resource.throttlingTier;
  std::string resourceName;
  if (!subject.resourceTier.empty()) resourceName = resource.method + " " + resource.pathTemplate;
  subject.resource = resourceName;
  if (ex.principal) {
    subject.keyId = ex.principal->keyId;
    subject.subscriber = ex.principal->subscriber;
    subject.subscriptionTier = ex.principal->subscriptionTier;
    subject.application = ex.principal->applicationId;
    subject.applicationTier = ex.principal->applicationTier;
    if (!ex.planSubscriber.empty()) subject.subscriber = ex.planSubscriber;
  }
  ex.counting = throttler->plan(subject);
  if (!ex.counting.missingPolicy.empty()) {
    auto missing = throttle::Throttler::missing(ex.counting);
    return StageResult::refuse(
        Refusal{missing.failure, std::move(missing.description), std::move(missing.reason)});
  }
  if (ex.counting.hits.empty()) return StageResult::next();
  if (throttle::LocalCounterStore* local = ex.context.localCounters)
    return throttleResult(ex, local->chargeNow(ex.counting.hits));
  // Another store (Redis) answers later: the transport waits without blocking its thread.
  StageResult r;
  r.kind = Kind::kDefer;
  r.start = [](Exchange& ex, std::function<void(StageResult)> done) {
    auto hits = ex.counting.hits;
    ex.context.counters->charge(
        std::move(hits),
        [&ex, done = std::move(done)](throttle::Verdict v) { done(throttleResult(ex, v)); });
  };
  return r;
}

}  // namespace mgw::gateway
