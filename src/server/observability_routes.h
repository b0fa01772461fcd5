// The observability listener's endpoints (SPEC section 12), as plain functions of a plain request:
// GET /metrics (Prometheus text 0.0.4), GET /health/live (the process answers), GET /health/ready
// (configuration, keys, store and listeners up; not during a reload's swap).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "message/handler.h"
#include "server/server_context.h"

namespace mgw::server {

// What readiness needs beyond the context, set by the process as it starts, reloads and drains.
struct ReadinessInputs {
  std::atomic<bool> tlsKeyLoaded{false};  // the HTTPS listener's key (true when there is none)
  std::atomic<bool> listenersUp{false};   // bound and accepting; false from the drain on
  std::atomic<bool> swapping{false};      // a reload is replacing the configuration
};

// Readiness is answered on the I/O thread from state, never from the worker pool (a login flood
// keeps the pool busy with argon2id, and a readiness probe that waits behind it takes the node out
// of its load balancer): the store, the one check that blocks, is probed by a thread of its own
// every kStoreProbeInterval, and /health/ready reads its last verdict.
class ObservabilityHandler : public message::Handler {
 public:
  static constexpr std::chrono::milliseconds kStoreProbeInterval{1000};

  // Probes the store once before returning, then every kStoreProbeInterval until destroyed.
  ObservabilityHandler(ServerContext& context, const ReadinessInputs& inputs);
  ~ObservabilityHandler() override;
  ObservabilityHandler(const ObservabilityHandler&) = delete;
  ObservabilityHandler& operator=(const ObservabilityHandler&) = delete;

  message::Decision decide(message::HttpRequest& request) override;

  // The readiness verdict: the JSON body and 200 or 503. Never blocks (the store's last probe).
  message::HttpResponse ready();
  // mgw_keys_expiring and mgw_key_last_used_writes_total (issue 25), in Prometheus text.
  std::string keyLifecycleMetrics();

 private:
  void probeStore();

  ServerContext& context_;
  const ReadinessInputs& inputs_;
  std::atomic<int> lastReady_{-1};  // logs the transitions only
  std::mutex mutex_;                // guards the fields below
  bool storeUp_ = false;
  std::string storeWhy_ = "the store has not been checked yet";
  bool stop_ = false;
  std::condition_variable wake_;
  std::thread prober_;
};

}  // namespace mgw::server
