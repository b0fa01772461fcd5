// What the request handlers share: the current RuntimeState (swapped on SIGHUP) and the long-lived
// services that outlive a reload (revocations, the embedded store, and the per-process limits:
// the login throttle with its credential cache, failed key lookups per address).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "auth/login_throttle.h"
#include "auth/portal_session.h"
#include "cluster/cluster_node.h"
#include "gateway/address_limiter.h"
#include "lifecycle/lifecycle_service.h"
#include "lifecycle/taken_values.h"
#include "server/runtime_state.h"
#include "store/revocation_list.h"
#include "throttle/counter_store.h"
#include "throttle/local_counter_store.h"
#include "throttle/throttler.h"

namespace mgw::server {

using lifecycle::LifecycleService;

class ServerContext {
 public:
  ServerContext(std::shared_ptr<RuntimeState> state,
                std::shared_ptr<store::RevocationList> revocations,
                std::shared_ptr<LifecycleService> lifecycle = nullptr)
      : state_(std::move(state)),
        revocations_(std::move(revocations)),
        lifecycle_(std::move(lifecycle)),
        portalSessions_(lifecycle_
                            ? std::make_unique<auth::PortalSessions>(lifecycle_->portalSessionKey())
                            : nullptr) {}

  // A request takes one snapshot and uses it to the end, so a reload never mixes two
  // configurations.
  std::shared_ptr<const RuntimeState> state() const { return std::atomic_load(&state_); }
  void replaceState(std::shared_ptr<RuntimeState> next) {
    std::atomic_store(&state_, std::move(next));
  }

  store::RevocationList& revocations() { return *revocations_; }
  std::shared_ptr<store::RevocationList> sharedRevocations() { return revocations_; }
  // Per process, never part of a reload: SIGHUP must neither reset an attacker's failure count nor
  // forget verified credentials (each configuration's limits apply to the same counters).
  auth::LoginThrottle& loginThrottle() { return *loginThrottle_; }
  gateway::AddressLimiter& keyLookupFailures() { return *keyLookupFailures_; }
  lifecycle::TakenValueLimiter& takenValues() { return takenValues_; }
  // Requests take the endpoint URLs in turn (no failover): one counter for all.
  std::atomic<std::size_t>& endpointCounter() { return nextEndpoint_; }
  // The embedded store and its in-memory copies; null only where no store was opened (tools,
  // tests).
  LifecycleService* lifecycle() { return lifecycle_.get(); }
  // The developer portal's sessions (server/portal.h), keyed from the store's secret; null where
  // no store was opened.
  const auth::PortalSessions* portalSessions() const { return portalSessions_.get(); }
  std::shared_ptr<const store::OpaqueKeyIndex> opaqueKeys() const {
    return lifecycle_ ? lifecycle_->opaqueKeys() : nullptr;
  }
  // Throttling counters (SPEC section 13): per process, never part of a reload. The in-process
  // store by default; setCounterStore puts another behind the same interface (Redis, several
  // nodes) before the server starts.
  throttle::CounterStore& counters() { return *counters_; }
  // The in-process store when it is the one in use: the gateway charges it inline (no deferral).
  throttle::LocalCounterStore* localCounters() { return localCounters_; }
  void setCounterStore(std::shared_ptr<throttle::CounterStore> store) {
    counters_ = std::move(store);
    localCounters_ = dynamic_cast<throttle::LocalCounterStore*>(counters_.get());
  }
  // Throttled and over-quota requests by level (atomic), for the metrics.
  const throttle::Stats& throttleStats() const { return throttleStats_; }
  throttle::Stats& throttleStats() { return throttleStats_; }

  // [cluster] on: the node's link to the others (status() and metricsText() for /metrics); null
  // for one node. Set once, before serving.
  void setCluster(std::shared_ptr<cluster::ClusterNode> node) { cluster_ = std::move(node); }
  const cluster::ClusterNode* cluster() const { return cluster_.get(); }

 private:
  std::shared_ptr<cluster::ClusterNode> cluster_;
  std::shared_ptr<RuntimeState> state_;
  std::shared_ptr<store::RevocationList> revocations_;
  std::atomic<std::size_t> nextEndpoint_{0};
  std::shared_ptr<LifecycleService> lifecycle_;
  std::unique_ptr<auth::PortalSessions> portalSessions_;
  std::unique_ptr<auth::LoginThrottle> loginThrottle_ = std::make_unique<auth::LoginThrottle>();
  std::unique_ptr<gateway::AddressLimiter> keyLookupFailures_ =
      std::make_unique<gateway::AddressLimiter>();
  lifecycle::TakenValueLimiter takenValues_;
  std::shared_ptr<throttle::CounterStore> counters_ =
      std::make_shared<throttle::LocalCounterStore>();
  throttle::LocalCounterStore* localCounters_ =
      static_cast<throttle::LocalCounterStore*>(counters_.get());
  throttle::Stats throttleStats_;
};

}  // namespace mgw::server
