#include "gateway/exchange.h"

#include <string_view>
#include <vector>

namespace mgw::gateway {
namespace {

// Every value the client sent under `name`, in arrival order.
std::vector<std::string_view> allValues(const message::HttpRequest& request,
                                        const std::string& name) {
  std::vector<std::string_view> out;
  auto [first, last] = request.headers.equal_range(name);
  for (auto it = first; it != last; ++it) out.push_back(it->second);
  return out;
}

}  // namespace

Authenticators::Authenticators(const GatewayState& state, const GatewayContext& context) {
  if (state.validator) {
    apiKey.emplace(*state.validator);
    bearer.emplace(*state.validator);
  }
  if (state.users && state.config && context.loginThrottle)
    basic.emplace(*state.users, state.config->users, *context.loginThrottle);
}

std::array<const Authenticator*, 3> Authenticators::order() const {
  return {basic ? &*basic : nullptr, bearer ? &*bearer : nullptr, apiKey ? &*apiKey : nullptr};
}

const Authenticator& Authenticators::of(Scheme scheme) const {
  switch (scheme) {
    case Scheme::kApiKey:
      return *apiKey;
    case Scheme::kBearer:
      return *bearer;
    case Scheme::kBasic:
      return *basic;
    case Scheme::kMutualTls:
      return mutualTls;
  }
  return *apiKey;
}

Exchange::Exchange(message::HttpRequest& req, GatewayState s, GatewayContext c)
    : request(req),
      state(std::move(s)),
      context(c),
      authenticators(state, context),
      // W3C Trace Context and X-Request-Id: continued or started for every request, refused or
      // not.
      trace(observability::traceRequest(allValues(req, "traceparent"),
                                        allValues(req, "X-Request-Id"))),
      // X-Forwarded-For: every line, joined in order (a second line must not hide an address).
      forwardedFor(req.joinedHeader("X-Forwarded-For")) {
  entry.method = observability::methodOf(req.method);
  entry.traceId = trace.traceId;
  entry.requestId = trace.requestId;
}

}  // namespace mgw::gateway
