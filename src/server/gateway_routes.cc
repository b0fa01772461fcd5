// The gateway as the server wires it: the request's configuration snapshot and the process's
// limiters and counters, handed to the pipeline (gateway/pipeline.h), which decides.
#include "gateway/pipeline.h"
#include "server/routes.h"

namespace mgw::server {

message::Decision decideGateway(ServerContext& context, message::HttpRequest& request) {
  std::shared_ptr<const RuntimeState> state = context.state();
  gateway::GatewayState snapshot;
  snapshot.config = &state->config;
  snapshot.router = state->router.get();
  snapshot.validator = state->validator.get();
  snapshot.users = state->users.get();
  snapshot.endpoints = &state->endpoints;
  snapshot.jwtGenerator = state->jwtGenerator.get();
  snapshot.throttler = state->throttler.get();
  snapshot.owner = std::move(state);
  gateway::GatewayContext services;
  services.loginThrottle = &context.loginThrottle();
  services.keyLookupFailures = &context.keyLookupFailures();
  services.counters = &context.counters();
  services.localCounters = context.localCounters();
  services.throttleStats = &context.throttleStats();
  services.nextEndpoint = &context.endpointCounter();
  return gateway::decide(request, std::move(snapshot), services);
}

}  // namespace mgw::server
