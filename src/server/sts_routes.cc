// /apikey (SPEC section 5), served on the TLS listener only: glue between the request and
// sts::StsService, which holds the rules (tier, rendering) and answers a reply or a refusal.
#include "auth/login_refusal.h"
#include "common/crypto_util.h"
#include "common/log.h"
#include "observability/metrics.h"
#include "server/portal.h"
#include "server/request_util.h"
#include "server/routes.h"
#include "sts/accept.h"
#include "sts/sts_service.h"

namespace mgw::server {

OrRefusal<HttpResponse> issueApiKey(ServerContext& context, const RouteRequest& req) {
  const auto state = context.state();
  const sts::StsService service(state->config, state->issuer.get(), state->throttler->policies());
  if (auto refusal = service.unavailable()) return std::move(*refusal);
  auto caller = authenticate(context, *state, req);
  if (auto* refusal = std::get_if<Refusal>(&caller)) return std::move(*refusal);
  // SPEC section 5: JSON only when Accept prefers it over text/plain (sts/accept.h).
  const bool wantsJson = req.hasHeader("Accept") && sts::prefersJson(req.joinedHeader("Accept"));
  auto issued =
      service.issue(std::get<auth::AuthOutcome>(caller), {req.body, wantsJson, nowSeconds()});
  if (auto* refusal = std::get_if<Refusal>(&issued)) return std::move(*refusal);
  auto& reply = std::get<sts::IssueReply>(issued);
  HttpResponse res;
  res.setContent(reply.body, reply.contentType);
  secureWipe(reply.body);
  return res;
}

OrRefusal<auth::AuthOutcome> authenticate(ServerContext& context, const RuntimeState& state,
                                          const RouteRequest& req) {
  // A browser signed in on /portal: its session instead of a password (server/portal.h).
  if (carriesPortalSession(context, req)) return authenticateSession(context, state, req);
  const std::string header = req.header("Authorization");
  gateway::RequestContext client;
  client.clientAddress = req.clientAddress;
  client.forwardedFor = req.joinedHeader("X-Forwarded-For");
  const std::string address = state.validator->effectiveClientAddress(client);
  auth::AuthOutcome outcome =
      state.users->authenticate(header, address, nowMillis(), context.loginThrottle());
  if (outcome.failure == Failure::kNone) return outcome;
  // A client that sent no credentials yet (the Basic challenge's first round) has not failed one,
  // nor one told to come back because too many passwords are being checked.
  if (outcome.failure != Failure::kAuthMissing && outcome.failure != Failure::kOverloaded)
    observability::metrics().countLoginFailure();
  log::warn("authentication failed", {{"client", address},
                                      {"path", req.path},
                                      {"reason", failureName(outcome.failure)},
                                      {"detail", outcome.reason}});
  return auth::loginRefusal(outcome);
}

}  // namespace mgw::server
