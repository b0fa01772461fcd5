// The gateway's Prometheus metrics (SPEC section 12): one process-wide registry that every module
// records into, and the /metrics page rendered from it.
//
// Counting is lock-free on the request path: relaxed atomic increments, no allocation, no lock.
// Every label set is bounded: API name and version come from the loaded definitions (registered at
// load, at most kMaxApis; requests that match no API count under api="none"); methods are a fixed
// set; a status is the 3-digit code sent; fault and reason come from the Failure enum. No label
// ever carries a path, a query, a header value, a key or a password.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mgw::observability {

// The method label: never the method as received.
enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };
inline constexpr std::size_t kMethodCount = 8;
Method methodOf(std::string_view method);
std::string_view methodName(Method method);

// Listeners whose open connections are counted.
enum class Listener : std::uint8_t { kHttp, kHttps, kMetrics };
inline constexpr std::size_t kListenerCount = 3;
std::string_view listenerName(Listener listener);

// The protocol label of mgw_requests_total: how the request arrived.
enum class Protocol : std::uint8_t { kHttp1, kHttp2 };
std::string_view protocolName(Protocol protocol);  // "HTTP/1.1", "HTTP/2"

// The throttling levels of SPEC section 13 (counted as the throttling issue wires them).
enum class ThrottleLevel : std::uint8_t { kApi, kResource, kApplication, kSubscription };
inline constexpr std::size_t kThrottleLevelCount = 4;
std::string_view throttleLevelName(ThrottleLevel level);

// An API's index in the registry: 0 is api="none".
using ApiId = std::uint32_t;
inline constexpr ApiId kNoApiId = 0;
inline constexpr std::size_t kMaxApis = 1024;  // more distinct name:version pairs share id 0

// Latency histogram buckets, in seconds: 0.1 ms .. 10 s.
inline constexpr std::array<double, 16> kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};

class Histogram {
 public:
  void observe(std::chrono::nanoseconds d);
  // Cumulative counts per bucket (+Inf last), the sum in seconds, the count.
  struct Snapshot {
    std::array<std::uint64_t, kLatencyBuckets.size() + 1> cumulative{};
    double sumSeconds = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::array<std::atomic<std::uint64_t>, kLatencyBuckets.size() + 1> counts_{};
  std::atomic<std::uint64_t> sumNanos_{0};
};

// Values read when /metrics is rendered (owned elsewhere: the key cache's size).
struct ScrapeGauges {
  std::size_t keyCacheEntries = 0;
  std::string version;  // mgw_build_info
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Off (metricsPort = -1): every record call returns at once.
  void setEnabled(bool on) { enabled_.store(on, std::memory_order_relaxed); }
  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }

  // At configuration load (not on the request path): the id of name:version, the same one every
  // time; kNoApiId past kMaxApis.
  ApiId registerApi(std::string_view name, std::string_view version);
  // At load too (issue 26 item 1): the id of one plan of name:version, the same every time; 0 =
  // none (past kMaxPlans). countPlan(id): a request selected into it, mgw_plan_requests_total.
  std::uint32_t registerPlan(std::string_view name, std::string_view version,
                             std::string_view plan);
  void countPlan(std::uint32_t plan);

  void countRequest(ApiId api, Method method, int status, Failure failure,
                    Protocol protocol = Protocol::kHttp1);
  void observeRequest(ApiId api, std::chrono::nanoseconds d);
  void observeUpstream(ApiId api, std::chrono::nanoseconds d);
  void countKeyValidation(Failure result);
  void countKeyCache(bool hit);
  void countKeyIssued(std::string_view algorithm, std::string_view keyType);
  void countLoginFailure();
  void countThrottled(ThrottleLevel level);
  void countOverQuota(ThrottleLevel level);
  void connectionOpened(Listener listener);
  void connectionClosed(Listener listener);
  // A request (or, response = true, an answer) that broke the API definition's schemas.
  void countValidationRefusal(ApiId api, bool response);
  void upstreamBusy(ApiId api, int delta);
  void upstreamIdle(ApiId api, int delta);

  // The whole page (mgw_* then process_*).
  std::string render(const ScrapeGauges& gauges) const;

 private:
  struct ApiSeries;
  ApiSeries* series(ApiId api) const;

  std::atomic<bool> enabled_{true};
  // name:version per id (id 0 = none); appended under mutex_, read at render under mutex_.
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> apis_;
  std::array<std::atomic<ApiSeries*>, kMaxApis> series_{};

  // Requests: an open-addressing table of (packed labels -> count), insert by CAS, never
  // removed. Bounded by construction: ids x methods x statuses x failures actually seen.
  static constexpr std::size_t kRequestSlots = 8192;
  struct Slot {
    std::atomic<std::uint64_t> key{0};  // packed labels + 1; 0 = empty
    std::atomic<std::uint64_t> count{0};
  };
  std::unique_ptr<Slot[]> requests_;
  std::atomic<std::uint64_t> requestOverflow_{0};

  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(kLastFailure) + 1>
      keyValidations_{};
  alignas(64) std::atomic<std::uint64_t> cacheHits_{0};
  alignas(64) std::atomic<std::uint64_t> cacheMisses_{0};
  // [algorithm: RS256, ES256, EdDSA, opaque, other][key type: PRODUCTION, SANDBOX]
  std::array<std::atomic<std::uint64_t>, 10> keysIssued_{};
  std::atomic<std::uint64_t> loginFailures_{0};
  std::array<std::atomic<std::uint64_t>, kThrottleLevelCount> throttled_{};
  std::array<std::atomic<std::uint64_t>, kThrottleLevelCount> overQuota_{};
  alignas(64) std::array<std::atomic<std::int64_t>, kListenerCount> connections_{};
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
  // Plans (name, version, plan) per id (id 0 = none), under mutex_; their request counts.
  static constexpr std::size_t kMaxPlans = 1024;
  std::vector<std::array<std::string, 3>> plans_;
  std::array<std::atomic<std::uint64_t>, kMaxPlans> planRequests_{};
};

// The process-wide registry.
Registry& metrics();

// For the throttling issue: one call per throttled request.
inline void countThrottled(ThrottleLevel level) { metrics().countThrottled(level); }
// One call per request over a stopOnQuotaReach = false policy (let through), per level.
inline void countOverQuota(ThrottleLevel level) { metrics().countOverQuota(level); }

// process_* metrics from /proc (Linux): CPU seconds, resident and virtual memory, open and maximum
// file descriptors, start time. Appended to `out`.
void renderProcessMetrics(std::string& out);

}  // namespace mgw::observability
