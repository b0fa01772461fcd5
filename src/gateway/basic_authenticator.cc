#include "gateway/basic_authenticator.h"

#include <strings.h>

#include <algorithm>

#include "auth/login_refusal.h"
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

// What the client hears for each answer UserStore::authenticate gives (auth::loginRefusal, the
// STS's answer too), with the fields this scheme owns: the Basic challenge on a 401, Retry-After.
Refusal basicRefusal(const auth::AuthOutcome& outcome) {
  const mgw::Refusal answer = auth::loginRefusal(outcome);
  Refusal r{answer.failure, answer.description, outcome.reason};
  if (answer.retryAfterSeconds > 0) r.set("Retry-After", std::to_string(answer.retryAfterSeconds));
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
    // A client that sent no credentials, or was told to come back, has not failed a login.
    if (outcome.failure != Failure::kAuthMissing && outcome.failure != Failure::kOverloaded)
      observability::metrics().countLoginFailure();
    log::warn("authentication failed", {{"client", address},
                                        {"path", input.request.path},
                                        {"api", apiLabel},
                                        {"reason", failureName(outcome.failure)},
                                        {"detail", outcome.reason}});
    return AuthVerdict::refused(basicRefusal(outcome));
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
  caller.subscriber = subscriberOf("", outcome.user);  // a local user: as her keys
  return AuthVerdict::accepted(std::move(caller));
}

}  // namespace mgw::gateway
