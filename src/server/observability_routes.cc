#include "server/observability_routes.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "message/fault_reply.h"
#include "observability/metrics.h"
#include "observability/prometheus_text.h"

namespace mgw::server {
namespace {

using nlohmann::json;

}  // namespace

ObservabilityHandler::ObservabilityHandler(ServerContext& context, const ReadinessInputs& inputs)
    : context_(context), inputs_(inputs) {
  probeStore();
  prober_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, kStoreProbeInterval, [this] { return stop_; })) {
      lock.unlock();
      probeStore();
      lock.lock();
    }
  });
}

ObservabilityHandler::~ObservabilityHandler() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (prober_.joinable()) prober_.join();
}

void ObservabilityHandler::probeStore() {
  std::string why;
  const LifecycleService* store = context_.lifecycle();
  const bool up = store != nullptr && store->usable(&why);
  if (!store) why = "no store is open";
  std::lock_guard<std::mutex> lock(mutex_);
  storeUp_ = up;
  storeWhy_ = std::move(why);
}

message::HttpResponse ObservabilityHandler::ready() {
  json checks = json::object();
  std::string why;
  bool ok = true;
  auto check = [&](const char* name, bool up, const std::string& detail) {
    checks[name] = up ? "UP" : "DOWN";
    if (!up) {
      ok = false;
      if (why.empty()) why = detail;
    }
  };
  const auto state = context_.state();
  const bool swapping = inputs_.swapping.load();
  check("configuration", state != nullptr && !swapping,
        swapping ? "a reload is replacing the configuration" : "no configuration");
  const bool signingUp =
      state && (!state->config.tokenIssuer.enabled || state->signingKey != nullptr);
  check("keys", signingUp && inputs_.tlsKeyLoaded.load(), "a signing or TLS key is not loaded");
  bool storeUp = false;
  std::string storeWhy;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    storeUp = storeUp_;
    storeWhy = storeWhy_;
  }
  check("store", storeUp, storeWhy);
  check("listeners", inputs_.listenersUp.load(), "the listeners are not accepting");

  const int now = ok ? 1 : 0;
  if (lastReady_.exchange(now) != now) {
    if (ok)
      log::info("ready");
    else
      log::warn("not ready", {{"detail", why}});
  }
  message::HttpResponse res;
  res.status = ok ? 200 : 503;
  res.setHeader("Cache-Control", "no-store");
  res.setContent(json{{"status", ok ? "UP" : "DOWN"}, {"checks", checks}}.dump(),
                 "application/json");
  return res;
}

message::Decision ObservabilityHandler::decide(message::HttpRequest& request) {
  const std::string& path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path != "/metrics" && path != "/health/live" && path != "/health/ready")
    return message::Decision::reply(message::faultReply(
        Failure::kNotFound, "this listener serves /metrics, /health/live and /health/ready"));
  if (!get) {
    auto refused = message::faultReply(Failure::kMethodNotAllowed, "only GET and HEAD");
    refused.setHeader("Allow", "GET, HEAD");
    return message::Decision::reply(std::move(refused));
  }
  if (path == "/health/live") {
    message::HttpResponse res;
    res.setHeader("Cache-Control", "no-store");
    res.setContent("{\"status\":\"UP\"}", "application/json");
    return message::Decision::reply(std::move(res));
  }
  if (path == "/metrics") {
    observability::ScrapeGauges gauges;
    if (const auto state = context_.state(); state && state->validator)
      gauges.keyCacheEntries = state->validator->cache().size();
    message::HttpResponse res;
    res.setHeader("Cache-Control", "no-store");
    std::string body = observability::metrics().render(gauges);
    // [cluster] (SPEC section 14): Redis reachability, live nodes, shared and refused changes.
    if (const cluster::ClusterNode* node = context_.cluster()) body += node->metricsText();
    body += keyLifecycleMetrics();
    res.setContent(std::move(body), std::string(observability::kPrometheusContentType));
    return message::Decision::reply(std::move(res));
  }
  // /health/ready from state, on the I/O thread: never behind the worker pool's queue.
  return message::Decision::reply(ready());
}

std::string ObservabilityHandler::keyLifecycleMetrics() {
  LifecycleService* lifecycle = context_.lifecycle();
  const auto state = context_.state();
  if (!lifecycle || !state) return "";
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::int64_t window = std::int64_t{state->config.opaqueKeys.expiryWarningDays} * 86400;
  std::string out;
  out +=
      "# HELP mgw_keys_expiring Opaque keys, neither revoked nor expired, that expire within "
      "[apikey] expiryWarningDays.\n# TYPE mgw_keys_expiring gauge\nmgw_keys_expiring ";
  out += std::to_string(window > 0 ? lifecycle->opaqueKeys()->countExpiring(now, window) : 0);
  out +=
      "\n# HELP mgw_key_last_used_writes_total Store rows written to record keys' last use "
      "(at most one per key per minute).\n# TYPE mgw_key_last_used_writes_total counter\n"
      "mgw_key_last_used_writes_total ";
  out += std::to_string(lifecycle->lastUsedWrites());
  out += "\n";
  return out;
}

}  // namespace mgw::server
