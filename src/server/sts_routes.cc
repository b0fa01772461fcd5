// /apikey (SPEC section 5) and /.well-known/jwks.json (RFC 7517), served on the TLS listener only.
#include <nlohmann/json.hpp>

#include "common/crypto_util.h"
#include "common/log.h"

#include "observability/metrics.h"
#include "server/request_util.h"
#include "server/routes.h"
#include "sts/accept.h"

namespace mgw::server {
namespace {

using nlohmann::json;

// SPEC section 5: JSON only when Accept prefers it over text/plain (sts/accept.h).
bool wantsJson(const RouteRequest& req) {
  return req.hasHeader("Accept") && sts::prefersJson(req.joinedHeader("Accept"));
}

}  // namespace

std::string policyNames(const throttle::PolicySet& policies, throttle::PolicyLevel level) {
  std::string names;
  for (const throttle::Policy* p : policies.all())
    if (p->level == level) names += (names.empty() ? "" : ", ") + p->name;
  return names;
}

// The subscription tier a key gets (SPEC section 13): the user's [b7a.users.<name>] tier, or a
// lower one the request asks for. "" with *error set: the request asks for an unknown or a higher
// tier.
std::string subscriptionTierFor(const RuntimeState& state, const std::string& user,
                                const std::string& asked, std::string* error) {
  std::string own = "Unlimited";
  for (const auto& u : state.config.users)
    if (u.name == user) own = u.tier;
  if (asked.empty() || asked == own) return own;
  const auto& policies = state.throttler->policies();
  const auto* wanted = policies.find(throttle::PolicyLevel::kSubscription, asked);
  if (wanted == nullptr) {
    *error = "tier '" + asked.substr(0, 64) + "' is not a subscription policy (known: " +
             policyNames(policies, throttle::PolicyLevel::kSubscription) + ")";
    return "";
  }
  const auto* mine = policies.find(throttle::PolicyLevel::kSubscription, own);
  if (mine == nullptr)
    mine = policies.find(throttle::PolicyLevel::kSubscription, state.config.throttling.unknownTier);
  // Lower = a rate no higher than the user's own (Unlimited is above every limit).
  auto above = [](const throttle::Policy& a, const throttle::Policy& b) {
    if (a.unlimited()) return !b.unlimited();
    if (b.unlimited()) return false;
    // a.count / a.window > b.count / b.window, without division.
    return static_cast<long double>(a.count) * b.window.count() >
           static_cast<long double>(b.count) * a.window.count();
  };
  if (mine == nullptr || above(*wanted, *mine)) {
    *error = "tier '" + asked.substr(0, 64) + "' is higher than user '" + user + "' may have ('" +
             own + "')";
    return "";
  }
  return asked;
}

void issueApiKey(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  res.setHeader("Cache-Control", "no-store");
  const auto state = context.state();
  if (!state->config.tokenIssuer.enabled || !state->issuer) {
    writeFault(res, Failure::kIssuerDisabled,
               "the API key issuer is disabled ([apikey.issuer.tokenConfig] enabled = false)");
    return;
  }
  auto caller = authenticate(context, *state, req, res);
  if (!caller) return;

  // The transport read the body (GET too: the seed's `curl -X GET -d '{...}'`), at most 64 KiB.
  auto parsed = sts::parseIssueRequest(req.body);
  if (parsed.failure != Failure::kNone) {
    writeFault(res, parsed.failure, parsed.description);
    return;
  }
  std::string tierError;
  parsed.request.tier = subscriptionTierFor(*state, caller->user, parsed.request.tier, &tierError);
  if (!tierError.empty()) {
    writeFault(res, Failure::kRequestBroaderThanAllowed, tierError);
    return;
  }
  auto issued = state->issuer->issue(caller->user, caller->apis, parsed.request, nowSeconds());
  if (issued.failure != Failure::kNone) {
    if (issued.failure == Failure::kSigningFailed)
      log::error("signing an API key failed", {{"user", caller->user}});
    writeFault(res, issued.failure, issued.description);
    return;
  }
  observability::metrics().countKeyIssued(state->config.tokenIssuer.signatureAlgorithm,
                                          parsed.request.keyType);
  log::info("API key issued",
            {{"user", caller->user},
             {"jti", issued.jti},
             {"keytype", parsed.request.keyType},
             {"expiresIn", issued.expiresIn ? json(*issued.expiresIn) : json(nullptr)}});
  if (wantsJson(req)) {
    json body = {{"apiKey", issued.apiKey},
                 {"tokenType", "apikey"},
                 {"expiresIn", issued.expiresIn ? json(*issued.expiresIn) : json(nullptr)},
                 {"jti", issued.jti}};
    if (!parsed.request.tier.empty()) body["tier"] = parsed.request.tier;
    res.setContent(body.dump(), "application/json");
  } else {
    res.setContent(issued.apiKey, "text/plain");
  }
  secureWipe(issued.apiKey);
}

std::optional<auth::AuthOutcome> authenticate(ServerContext& context, const RuntimeState& state,
                                              const RouteRequest& req, HttpResponse& res) {
  const std::string header = req.header("Authorization");
  gateway::RequestContext client;
  client.clientAddress = req.clientAddress;
  client.forwardedFor = req.joinedHeader("X-Forwarded-For");
  const std::string address = state.validator->effectiveClientAddress(client);
  auth::AuthOutcome outcome =
      state.users->authenticate(header, address, nowMillis(), context.loginThrottle());
  if (outcome.failure == Failure::kNone) return outcome;
  // A client that sent no credentials yet (the Basic challenge's first round) has not failed one.
  if (outcome.failure != Failure::kAuthMissing) observability::metrics().countLoginFailure();

  log::warn("authentication failed", {{"client", address},
                                      {"path", req.path},
                                      {"reason", failureName(outcome.failure)},
                                      {"detail", outcome.reason}});
  // authenticate() answers one of four failures; an if-chain rather than a switch with a default,
  // so that -Wswitch-enum keeps meaning "every switch over Failure names every value". Anything
  // else gets the bad-credentials answer, the safe one.
  if (outcome.failure == Failure::kAuthMissing) {
    writeFault(res, outcome.failure, "send Authorization: Basic base64(user:password)",
               Challenge::kBasic);
  } else if (outcome.failure == Failure::kAuthMalformed) {
    writeFault(res, outcome.failure, "the Authorization header is not Basic base64(user:password)",
               Challenge::kBasic);
  } else if (outcome.failure == Failure::kTooManyAttempts) {
    writeFault(res, outcome.failure,
               "too many failed attempts; retry after " +
                   std::to_string(outcome.retryAfterSeconds) + " seconds");
    res.setHeader("Retry-After", std::to_string(outcome.retryAfterSeconds));
  } else {
    writeFault(res, Failure::kAuthInvalid, "invalid user name or password", Challenge::kBasic);
  }
  return std::nullopt;
}

}  // namespace mgw::server
