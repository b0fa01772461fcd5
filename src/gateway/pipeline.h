// The gateway (SPEC section 16): a request goes through kStages in order; the first refusal answers
// through refusalAnswer, an answer of a stage (a preflight) is sent as is, and a request that
// passes every stage is forwarded as the plan says. A stage that defers (argon2id on the worker
// pool, a shared counter store) makes the decision a message::Defer; the pipeline resumes after
// that stage with its result, never running the earlier stages twice. One access log line per
// request. Sees no socket, no transport and no ServerContext: a narrow context in, a Decision out.
#pragma once

#include <span>

#include "gateway/exchange.h"
#include "gateway/stages.h"
#include "message/handler.h"

namespace mgw::gateway {

// The decision for one request (request must stay valid until the decision is carried out).
message::Decision decide(message::HttpRequest& request, GatewayState state,
                         const GatewayContext& context,
                         std::span<const Stage> stages = std::span<const Stage>(kStages));

}  // namespace mgw::gateway
