#include "gateway/basic_authenticator.h"

#include <strings.h>

#include <algorithm>

#include "common/log.h"
#include "common/text.h"
#include "observability/metrics.h"

namespace mgw::gateway {
namespace {

constexpr std::string_view kScheme = "basic ";

// "Name:version" or "Name:*" (the [b7a.users.<name>] apis syntax).
bool userMayCall(const std::vector<std::string>& apis, const ApiDefinition& api) {
  for (const std::string& entry : apis) {
    const auto colon = entry.rfind(':');
    if (colon == std::string::npos) continue;
    const std::string_view name(entry.data(), colon);
    const std::string_view version(entry.data() + colon + 1, entry.size() - colon - 1);
    if (name == api.name && (version == "*" || version == api.version)) return true;
  }
  return false;
}

// What the client hears for each answer UserStore::authenticate gives.
Refusal loginRefusal(const auth::AuthOutcome& outcome) {
  Refusal r{Failure::kAuthInvalid, "invalid user name or password", outcome.reason};
  switch (outcome.failure) {
    case Failure::kAuthMissing:
      r.failure = Failure::kAuthMissing;
      r.description = "send Authorization: Basic base64(user:password)";
      break;
    case Failure::kAuthMalformed:
      r.failure = Failure::kAuthMalformed;
      r.description = "the Authorization header is not Basic base64(user:password)";
      break;
    case Failure::kTooManyAttempts: {
      r.failure = Failure::kTooManyAttempts;
      const int retryAfter = std::max(1, outcome.retryAfterSeconds);
      r.description =
          "too many failed attempts; retry after " + std::to_string(retryAfter) + " seconds";
      r.set("Retry-After", std::to_string(retryAfter));
      break;
    }
    // authenticate() answers no other failure; were it to, the bad-credentials answer (set above)
    // is the safe one. Listed, not defaulted, so a new Failure is placed here on purpose.
    case Failure::kAuthInvalid:
    case Failure::kNone:
    case Failure::kMissingCredentials:
    case Failure::kKeyTooLarge:
    case Failure::kMalformedKey:
    case Failure::kUnknownKey:
    case Failure::kAlgorithmMismatch:
    case Failure::kBadSignature:
    case Failure::kWrongIssuer:
    case Failure::kExpired:
    case Failure::kNotYetValid:
    case Failure::kRevoked:
    case Failure::kWrongAudience:
    case Failure::kUnsupportedSecurity:
    case Failure::kApiNotAllowed:
    case Failure::kIpNotPermitted:
    case Failure::kRefererNotPermitted:
    case Failure::kSandboxNotAvailable:
    case Failure::kNotSubscribed:
    case Failure::kMissingScope:
    case Failure::kCorsRefused:
    case Failure::kNoApi:
    case Failure::kNoResource:
    case Failure::kBackendUnreachable:
    case Failure::kBackendRefused:
    case Failure::kBackendReset:
    case Failure::kBackendTlsFailed:
    case Failure::kBackendBadResponse:
    case Failure::kBackendTimeout:
    case Failure::kTooManyInvalidKeys:
    case Failure::kApiThrottled:
    case Failure::kResourceThrottled:
    case Failure::kApplicationThrottled:
    case Failure::kSubscriptionThrottled:
    case Failure::kThrottlePolicyMissing:
    case Failure::kBadRequestBody:
    case Failure::kRequestBroaderThanAllowed:
    case Failure::kIssuerDisabled:
    case Failure::kSigningFailed:
    case Failure::kForbidden:
    case Failure::kNotFound:
    case Failure::kConflict:
    case Failure::kClusterUnavailable:
    case Failure::kPayloadTooLarge:
    case Failure::kUriTooLong:
    case Failure::kHeadersTooLarge:
    case Failure::kMethodNotAllowed:
    case Failure::kInternalError:
    case Failure::kBadFraming:
    case Failure::kRequestTimeout:
    case Failure::kExpectationFailed:
    case Failure::kNotImplemented:
    case Failure::kVersionNotSupported:
    case Failure::kOverloaded:
      break;
  }
  if (faultFor(r.failure).httpStatus == 401)
    r.set("WWW-Authenticate", std::string(kBasicChallenge));
  return r;
}

}  // namespace

bool carriesBasicAuthorization(const message::HttpRequest& request) {
  if (!request.hasHeader("Authorization")) return false;
  const std::string_view value = trimOws(request.header("Authorization"));
  return value.size() > kScheme.size() &&
         strncasecmp(value.data(), kScheme.data(), kScheme.size()) == 0;
}

std::optional<Credential> BasicAuthenticator::extract(const message::HttpRequest& request,
                                                      const ApiDefinition&,
                                                      const Resource& resource) const {
  if (!resource.security.basic || !carriesBasicAuthorization(request)) return std::nullopt;
  return Credential{Scheme::kBasic, request.header("Authorization"),
                    KeySource{KeyLocation::kHeader, "Authorization"}};
}

AuthVerdict BasicAuthenticator::verify(const Credential&, const AuthInput& input) const {
  if (!input.request.tls) {
    return AuthVerdict::refused(
        Refusal{Failure::kAuthMissing,
                "basic credentials are accepted on the HTTPS listener only; the password was not "
                "checked",
                "basic credentials over plain HTTP"});
  }
  return AuthVerdict::deferred();
}

AuthVerdict BasicAuthenticator::verifyBlocking(const Credential& credential,
                                               const AuthInput& input) const {
  const ApiDefinition& api = input.api;
  const std::string address(input.clientAddress);
  auth::AuthOutcome outcome =
      store_.authenticate(credential.value, address, input.nowMs, throttle_);
  const std::string apiLabel = api.name + ":" + api.version;
  if (outcome.failure != Failure::kNone) {
    // A client that sent no credentials has not failed a login (as on /apikey).
    if (outcome.failure != Failure::kAuthMissing) observability::metrics().countLoginFailure();
    log::warn("authentication failed", {{"client", address},
                                        {"path", input.request.path},
                                        {"api", apiLabel},
                                        {"reason", failureName(outcome.failure)},
                                        {"detail", outcome.reason}});
    return AuthVerdict::refused(loginRefusal(outcome));
  }
  const config::UserConfig* user = nullptr;
  for (const auto& u : users_)
    if (!user && u.name == outcome.user) user = &u;
  if (outcome.apis && !userMayCall(*outcome.apis, api)) {
    return AuthVerdict::refused(
        Refusal{Failure::kApiNotAllowed,
                "user '" + outcome.user + "' may not call " + apiLabel + " ([b7a.users." +
                    outcome.user + "] apis)",
                "basic-auth user '" + outcome.user + "' not allowed on " + apiLabel});
  }
  const auto& scopes = input.resource.security.scopes;
  if (!scopes.empty()) {
    bool granted = false;
    for (const std::string& need : scopes)
      granted = granted || (user && std::find(user->scopes.begin(), user->scopes.end(), need) !=
                                        user->scopes.end());
    if (!granted) {
      std::string needed;
      for (const std::string& need : scopes) needed += (needed.empty() ? "" : " ") + need;
      return AuthVerdict::refused(
          Refusal{Failure::kMissingScope,
                  "user '" + outcome.user + "' has none of the scopes " + needed + " ([b7a.users." +
                      outcome.user + "] scopes)",
                  "basic-auth user '" + outcome.user + "' lacks all of: " + needed});
    }
  }
  Principal caller;
  caller.keyId = "basic:" + outcome.user;
  caller.subject = outcome.user;
  caller.keytype = "PRODUCTION";
  caller.tier = user ? user->tier : "Unlimited";
  caller.subscriptionTier = caller.tier;
  return AuthVerdict::accepted(std::move(caller));
}

}  // namespace mgw::gateway
