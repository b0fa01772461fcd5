#include "server/resource_basic_auth.h"

#include <strings.h>

#include <algorithm>

#include "common/log.h"
#include "common/text.h"
#include "observability/metrics.h"
#include "server/request_util.h"

namespace mgw::server {
namespace {

constexpr std::string_view kScheme = "basic ";

// "Name:version" or "Name:*" (the [b7a.users.<name>] apis syntax).
bool userMayCall(const std::vector<std::string>& apis, const gateway::ApiDefinition& api) {
  for (const std::string& entry : apis) {
    const auto colon = entry.rfind(':');
    if (colon == std::string::npos) continue;
    const std::string_view name(entry.data(), colon);
    const std::string_view version(entry.data() + colon + 1, entry.size() - colon - 1);
    if (name == api.name && (version == "*" || version == api.version)) return true;
  }
  return false;
}

const config::UserConfig* configuredUser(const RuntimeState& state, const std::string& name) {
  for (const auto& u : state.config.users)
    if (u.name == name) return &u;
  return nullptr;
}

}  // namespace

bool carriesBasicAuthorization(const message::HttpRequest& request) {
  if (!request.hasHeader("Authorization")) return false;
  const std::string_view value = trimOws(request.header("Authorization"));
  return value.size() > kScheme.size() &&
         strncasecmp(value.data(), kScheme.data(), kScheme.size()) == 0;
}

ResourceBasicVerdict verifyResourceBasic(ServerContext& context, const RuntimeState& state,
                                         const message::HttpRequest& request,
                                         const gateway::ApiDefinition& api,
                                         const gateway::Resource& resource) {
  ResourceBasicVerdict v;
  gateway::RequestContext client;
  client.clientAddress = request.clientAddress;
  client.forwardedFor = request.joinedHeader("X-Forwarded-For");
  const std::string address = state.validator->effectiveClientAddress(client);
  auth::AuthOutcome outcome = state.users->authenticate(request.header("Authorization"), address,
                                                        nowMillis(), context.loginThrottle());
  const std::string apiLabel = api.name + ":" + api.version;
  if (outcome.failure != Failure::kNone) {
    // A client that sent no credentials has not failed a login (as on /apikey).
    if (outcome.failure != Failure::kAuthMissing) observability::metrics().countLoginFailure();
    log::warn("authentication failed", {{"client", address},
                                        {"path", request.path},
                                        {"api", apiLabel},
                                        {"reason", failureName(outcome.failure)},
                                        {"detail", outcome.reason}});
    v.reason = outcome.reason;
    // authenticate() answers one of four failures; anything else gets the bad-credentials
    // answer, the safe one (an if-chain, as in sts_routes.cc, so -Wswitch-enum keeps its meaning).
    if (outcome.failure == Failure::kAuthMissing) {
      v.failure = Failure::kAuthMissing;
      v.description = "send Authorization: Basic base64(user:password)";
    } else if (outcome.failure == Failure::kAuthMalformed) {
      v.failure = Failure::kAuthMalformed;
      v.description = "the Authorization header is not Basic base64(user:password)";
    } else if (outcome.failure == Failure::kTooManyAttempts) {
      v.failure = Failure::kTooManyAttempts;
      v.retryAfterSeconds = std::max(1, outcome.retryAfterSeconds);
      v.description = "too many failed attempts; retry after " +
                      std::to_string(v.retryAfterSeconds) + " seconds";
    } else {
      v.failure = Failure::kAuthInvalid;
      v.description = "invalid user name or password";
    }
    return v;
  }
  const config::UserConfig* user = configuredUser(state, outcome.user);
  if (outcome.apis && !userMayCall(*outcome.apis, api)) {
    v.failure = Failure::kApiNotAllowed;
    v.description = "user '" + outcome.user + "' may not call " + apiLabel + " ([b7a.users." +
                    outcome.user + "] apis)";
    v.reason = "basic-auth user '" + outcome.user + "' not allowed on " + apiLabel;
    return v;
  }
  if (!resource.security.scopes.empty()) {
    bool granted = false;
    for (const std::string& need : resource.security.scopes)
      granted = granted || (user && std::find(user->scopes.begin(), user->scopes.end(), need) !=
                                        user->scopes.end());
    if (!granted) {
      std::string needed;
      for (const std::string& need : resource.security.scopes)
        needed += (needed.empty() ? "" : " ") + need;
      v.failure = Failure::kMissingScope;
      v.description = "user '" + outcome.user + "' has none of the scopes " + needed +
                      " ([b7a.users." + outcome.user + "] scopes)";
      v.reason = "basic-auth user '" + outcome.user + "' lacks all of: " + needed;
      return v;
    }
  }
  gateway::ValidationResult& c = v.caller;
  c.keyId = "basic:" + outcome.user;
  c.subject = outcome.user;
  c.keytype = "PRODUCTION";
  c.tier = user ? user->tier : "Unlimited";
  c.subscriptionTier = c.tier;
  return v;
}

}  // namespace mgw::server
