// The gateway's stages (SPEC sections 7, 13, 15, 16), each a plain function of the exchange: it
// looks at what the request and the earlier stages hold and answers continue, a refusal (the first
// one answers the request), an answer of its own (a CORS preflight), or defer (work that completes
// later: argon2id on the worker pool, a shared counter store). The order is data: kStages.
#pragma once

#include <functional>
#include <span>
#include <string_view>

#include "gateway/exchange.h"
#include "gateway/refusal.h"

namespace mgw::gateway {

struct StageResult {
  enum class Kind { kContinue, kRefuse, kAnswer, kDefer };
  Kind kind = Kind::kContinue;
  Refusal refusal;               // kRefuse
  message::HttpResponse answer;  // kAnswer
  // kDefer: start(exchange, done) begins the work; done(result) is called exactly once, from any
  // thread, with the stage's own final result (never kDefer again).
  std::function<void(Exchange&, std::function<void(StageResult)>)> start;
  bool blocking = false;  // kDefer: start runs on the worker pool (argon2id)

  static StageResult next() { return {}; }
  static StageResult refuse(Refusal r) {
    StageResult s;
    s.kind = Kind::kRefuse;
    s.refusal = std::move(r);
    return s;
  }
};

using StageFn = StageResult (*)(Exchange&);

struct Stage {
  std::string_view name;
  StageFn run;
};

// Methods a backend is asked to carry out (RFC 9110 section 9.3; CONNECT and TRACE never are):
// 405 otherwise.
StageResult methodStage(Exchange& ex);
// A CORS preflight (SPEC section 15) for an API with CORS on: answered (204) or refused (403)
// here, before any key is looked at; the requested method picks the API.
StageResult corsStage(Exchange& ex);
// The API and resource: 404 (no API) or 404/900906 (no resource).
StageResult routeStage(Exchange& ex);
// x-wso2-mutual-ssl: mandatory: a secured resource without a client certificate the HTTPS listener
// verified is refused (401, 900901, Mutual SSL challenge). The certificate is not the caller here:
// the application credential is (or, where it suffices, the certificate: credentialsStage).
StageResult mutualTlsStage(Exchange& ex);
// For a secured resource, the credential of the first scheme the resource takes and the request
// carries (Authenticators order); none: 401 saying where one goes (900902), or the scheme's
// own refusal (basic-only resources: 401 Basic challenge).
StageResult credentialsStage(Exchange& ex);
// Guessing keys is not free: past keyLookupFailuresPerMinute unknown or invalid keys from one
// client address (as trustedProxies resolves it), 429/900429 with Retry-After, without looking
// the key up. A key already verified (in the cache) is no guess: it is served. Keys and bearer
// tokens only (basic has the login throttle).
StageResult keyLookupLimitStage(Exchange& ex);
// The credential's Authenticator: the caller, a refusal, or (basic) defer to the worker pool and
// take its verdict. Failed key lookups are counted for keyLookupLimitStage.
StageResult authenticateStage(Exchange& ex);
// Plan selection (issue 26 item 1; Gravitee's plans): for an API with plans, the first plan in
// the definition's order whose security takes the request's credential (kind) and whose selection
// rule holds; its tier becomes the subscription tier and its name goes to the access log and the
// backend JWT. After authenticate, so that rules read verified claims only. No plan: 403/900908
// (401/900902 without a credential) saying no plan matched; the rules tried go to the log only.
// A plan with subscriptionRequired needs the opaque key's application subscribed to the API.
// Open resources are not subject to plans.
StageResult selectPlanStage(Exchange& ex);
// The forward plan: the endpoints (a SANDBOX key's, else production; none: 403/900908), the
// target path and query without the key, the fields the gateway owns (X-Forwarded-*, trace,
// X-Request-Id, CORS), the timeouts.
StageResult planStage(Exchange& ex);
// The backend JWT (SPEC section 15): signed for a verified caller (500 if signing fails); a
// client's copy of the header is always dropped.
StageResult backendJwtStage(Exchange& ex);
// Throttling (SPEC section 13): a missing policy answers 500; the plan's counters are charged
// inline (in-process store) or the stage defers (Redis); 429 with Retry-After and RateLimit.
StageResult throttleStage(Exchange& ex);

StageResult validationStage(Exchange& ex);  // gateway/validation_stage.h

// The order of SPEC section 16.
inline constexpr Stage kStages[] = {
    {"method", methodStage},
    {"cors", corsStage},
    {"route", routeStage},
    {"mutual-tls", mutualTlsStage},
    {"credentials", credentialsStage},
    {"key-lookup-limit", keyLookupLimitStage},
    {"authenticate", authenticateStage},
    {"select-plan", selectPlanStage},
    {"plan", planStage},
    {"backend-jwt", backendJwtStage},
    {"throttle", throttleStage},
    {"validate", validationStage},  // gateway/validation_stage.h (issue 27)
};

// The refusal for a throttling answer (Throttler::judge), counting the metrics; kNone: continue.
StageResult throttleResult(Exchange& ex, const throttle::Verdict& verdict);

}  // namespace mgw::gateway
