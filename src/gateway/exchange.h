// What the pipeline's stages share for one request: the configuration snapshot it is decided
// against (GatewayState), the per-process services it may touch (GatewayContext: limiters,
// counters, clock), and what earlier stages found (Exchange). Narrow on purpose: no ServerContext,
// no transport, so every stage is a plain function tested without sockets (STYLE pattern 12).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/login_throttle.h"
#include "auth/user_store.h"
#include "common/endpoint_url.h"
#include "config/config.h"
#include "gateway/access_log.h"
#include "gateway/address_limiter.h"
#include "gateway/api_key_authenticator.h"
#include "gateway/backend_jwt.h"
#include "gateway/basic_authenticator.h"
#include "gateway/bearer_authenticator.h"
#include "gateway/cors.h"
#include "gateway/key_validator.h"
#include "gateway/mutual_tls_authenticator.h"
#include "gateway/refusal.h"
#include "gateway/router.h"
#include "message/forward_plan.h"
#include "message/http_message.h"
#include "observability/trace_context.h"
#include "throttle/counter_store.h"
#include "throttle/local_counter_store.h"
#include "throttle/throttler.h"

namespace mgw::gateway {

// One configuration's objects (a reload builds new ones; a request keeps its snapshot to the
// end). `owner` keeps everything the pointers name alive.
struct GatewayState {
  std::shared_ptr<const void> owner;
  const config::Config* config = nullptr;
  const Router* router = nullptr;
  const KeyValidator* validator = nullptr;
  auth::UserStore* users = nullptr;  // null: no basic auth (tests)
  const std::unordered_map<std::string, UpstreamTarget>* endpoints = nullptr;
  BackendJwtGenerator* jwtGenerator = nullptr;     // null unless [jwtGenerator] enabled
  const throttle::Throttler* throttler = nullptr;  // null: no throttling
};

inline std::int64_t systemMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Per-process services, outliving any reload (owned by the server; every pointer outlives the
// request, deferred or not).
struct GatewayContext {
  auth::LoginThrottle* loginThrottle = nullptr;
  AddressLimiter* keyLookupFailures = nullptr;
  throttle::CounterStore* counters = nullptr;
  // The in-process store when it is the one in use: charged inline. Null: counters answers later
  // (Redis), so the throttle stage defers.
  throttle::LocalCounterStore* localCounters = nullptr;
  throttle::Stats* throttleStats = nullptr;
  std::atomic<std::size_t>* nextEndpoint = nullptr;  // requests take the endpoint URLs in turn
  std::int64_t (*nowMillis)() = &systemMillis;       // Unix time; tests inject their own
};

// The three schemes' Authenticators over one snapshot (no allocation: built per request).
struct Authenticators {
  Authenticators(const GatewayState& state, const GatewayContext& context);
  // In the order a request's credentials are looked for: basic decides alone where the resource
  // takes it and the request carries it (WSO2 MGW 3.x), then a bearer token where the resource
  // takes oauth2, then an API key.
  // (null entries: a scheme not served by this snapshot).
  std::array<const Authenticator*, 3> order() const;
  // The authenticator of a scheme order() returned.
  const Authenticator& of(Scheme scheme) const;

  std::optional<ApiKeyAuthenticator> apiKey;  // with a key validator
  std::optional<BearerAuthenticator> bearer;
  std::optional<BasicAuthenticator> basic;  // with a user store and a login throttle
  MutualTlsAuthenticator mutualTls;         // not in order(): it stands beside the others
};

// One request on its way through the stages.
struct Exchange {
  Exchange(message::HttpRequest& request, GatewayState state, GatewayContext context);
  Exchange(Exchange&&) = delete;  // deferred exchanges live on the heap from the start

  message::HttpRequest& request;  // the transport's, untouched until the decision
  GatewayState state;
  GatewayContext context;
  Authenticators authenticators;
  observability::RequestTrace trace;
  AccessEntry entry;
  std::string forwardedFor;  // X-Forwarded-For, every line joined in order

  // Filled by the stages, in order.
  const ApiDefinition* api = nullptr;
  const Resource* resource = nullptr;
  const CorsPolicy* cors = nullptr;  // the API's, once routed: its refusals carry it too
  std::optional<Credential> credential;
  // The other credentials a security requirement object names with it (AND), verified first.
  std::vector<Credential> alsoRequired;
  std::string clientAddress;  // resolved through trustedProxies, once a key is looked at
  std::optional<Principal> principal;
  const ApiPlan* selectedPlan = nullptr;  // api->plans' entry (issue 26 item 1); null: implicit
  std::string planSubscriber;             // the subscription counter's owner for that plan
  std::shared_ptr<message::ForwardPlan> plan;
  throttle::Plan counting;
};

}  // namespace mgw::gateway
