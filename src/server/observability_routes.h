// The observability listener's endpoints (SPEC section 12), as plain functions of a plain request:
// GET /metrics (Prometheus text 0.0.4), GET /health/live (the process answers), GET /health/ready
// (configuration, keys, store and listeners up; not during a reload's swap).
#pragma once

#include <atomic>
#include <string>

#include "message/handler.h"
#include "server/server_context.h"

namespace mgw::server {

// What readiness needs beyond the context, set by the process as it starts, reloads and drains.
struct ReadinessInputs {
  std::atomic<bool> tlsKeyLoaded{false};  // the HTTPS listener's key (true when there is none)
  std::atomic<bool> listenersUp{false};   // bound and accepting; false from the drain on
  std::atomic<bool> swapping{false};      // a reload is replacing the configuration
};

class ObservabilityHandler : public message::Handler {
 public:
  ObservabilityHandler(ServerContext& context, const ReadinessInputs& inputs)
      : context_(context), inputs_(inputs) {}
  message::Decision decide(message::HttpRequest& request) override;

  // The readiness verdict: the JSON body and 200 or 503. Blocks briefly (the store): called on
  // the worker pool.
  message::HttpResponse ready();

 private:
  ServerContext& context_;
  const ReadinessInputs& inputs_;
  std::atomic<int> lastReady_{-1};  // logs the transitions only
};

}  // namespace mgw::server
