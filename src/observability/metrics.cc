#include "observability/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "observability/prometheus_text.h"

#ifndef MGW_VERSION
#define MGW_VERSION "unknown"
#endif

namespace mgw::observability {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

constexpr std::string_view kAlgorithms[] = {"RS256", "ES256", "EdDSA", "opaque", "other"};
constexpr std::string_view kKeyTypes[] = {"PRODUCTION", "SANDBOX"};

// The results a key validation can have (always listed, zero or not).
constexpr Failure kValidationResults[] = {Failure::kNone,
                                          Failure::kMissingCredentials,
                                          Failure::kKeyTooLarge,
                                          Failure::kMalformedKey,
                                          Failure::kUnknownKey,
                                          Failure::kAlgorithmMismatch,
                                          Failure::kBadSignature,
                                          Failure::kWrongIssuer,
                                          Failure::kExpired,
                                          Failure::kNotYetValid,
                                          Failure::kRevoked,
                                          Failure::kApiNotAllowed,
                                          Failure::kIpNotPermitted,
                                          Failure::kRefererNotPermitted,
                                          Failure::kSandboxNotAvailable,
                                          Failure::kNotSubscribed,
                                          Failure::kTooManyInvalidKeys};

std::uint64_t packRequest(ApiId api, Method method, int status, Failure failure,
                          Protocol protocol) {
  const auto s = static_cast<std::uint64_t>(std::clamp(status, 0, 999));
  return (static_cast<std::uint64_t>(protocol) << 40) | (static_cast<std::uint64_t>(api) << 24) |
         (static_cast<std::uint64_t>(method) << 20) | (s << 8) |
         static_cast<std::uint64_t>(failure);
}

std::string_view resultName(Failure f) { return f == Failure::kNone ? "valid" : failureName(f); }

}  // namespace

Method methodOf(std::string_view m) {
  if (m == "GET") return Method::kGet;
  if (m == "HEAD") return Method::kHead;
  if (m == "POST") return Method::kPost;
  if (m == "PUT") return Method::kPut;
  if (m == "DELETE") return Method::kDelete;
  if (m == "PATCH") return Method::kPatch;
  if (m == "OPTIONS") return Method::kOptions;
  return Method::kOther;
}

std::string_view methodName(Method m) {
  switch (m) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kPatch:
      return "PATCH";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      return "other";
  }
  return "other";
}

std::string_view listenerName(Listener l) {
  switch (l) {
    case Listener::kHttp:
      return "http";
    case Listener::kHttps:
      return "https";
    case Listener::kMetrics:
      return "metrics";
  }
  return "other";
}

std::string_view throttleLevelName(ThrottleLevel l) {
  switch (l) {
    case ThrottleLevel::kApi:
      return "api";
    case ThrottleLevel::kResource:
      return "resource";
    case ThrottleLevel::kApplication:
      return "application";
    case ThrottleLevel::kSubscription:
      return "subscription";
  }
  return "other";
}

// ---- histogram -------------------------------------------------------------------------------

void Histogram::observe(std::chrono::nanoseconds d) {
  static constexpr auto kBoundsNanos = [] {
    std::array<std::int64_t, kLatencyBuckets.size()> out{};
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<std::int64_t>(kLatencyBuckets[i] * 1e9 + 0.5);
    return out;
  }();
  const std::int64_t n = std::max<std::int64_t>(0, d.count());
  const auto it = std::lower_bound(kBoundsNanos.begin(), kBoundsNanos.end(), n);
  counts_[static_cast<std::size_t>(it - kBoundsNanos.begin())].fetch_add(1, kRelaxed);
  sumNanos_.fetch_add(static_cast<std::uint64_t>(n), kRelaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    running += counts_[i].load(kRelaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sumSeconds = static_cast<double>(sumNanos_.load(kRelaxed)) / 1e9;
  return s;
}

// ---- registry --------------------------------------------------------------------------------

struct Registry::ApiSeries {
  Histogram request;
  Histogram upstream;
  alignas(64) std::atomic<std::int64_t> busy{0};
  std::atomic<std::int64_t> idle{0};
  // Schema validation refusals (issue 27): [0] requests, [1] responses.
  std::array<std::atomic<std::uint64_t>, 2> validationRefusals{};
};

Registry::Registry() : requests_(new Slot[kRequestSlots]) {
  apis_.emplace_back("none", "none");
  series_[0].store(new ApiSeries, std::memory_order_release);
}

Registry::~Registry() {
  for (auto& s : series_) delete s.load();
}

ApiId Registry::registerApi(std::string_view name, std::string_view version) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::size_t i = 1; i < apis_.size(); ++i)
    if (apis_[i].first == name && apis_[i].second == version) return static_cast<ApiId>(i);
  if (apis_.size() >= kMaxApis) return kNoApiId;
  const auto id = static_cast<ApiId>(apis_.size());
  series_[id].store(new ApiSeries, std::memory_order_release);
  apis_.emplace_back(std::string(name), std::string(version));
  return id;
}

std::uint32_t Registry::registerPlan(std::string_view name, std::string_view version,
                                     std::string_view plan) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (plans_.empty()) plans_.push_back({});  // id 0: none
  for (std::size_t i = 1; i < plans_.size(); ++i)
    if (plans_[i][0] == name && plans_[i][1] == version && plans_[i][2] == plan)
      return static_cast<std::uint32_t>(i);
  if (plans_.size() >= kMaxPlans) return 0;
  plans_.push_back({std::string(name), std::string(version), std::string(plan)});
  return static_cast<std::uint32_t>(plans_.size() - 1);
}

void Registry::countPlan(std::uint32_t plan) {
  if (!enabled() || plan == 0 || plan >= kMaxPlans) return;
  planRequests_[plan].fetch_add(1, std::memory_order_relaxed);
}

Registry::ApiSeries* Registry::series(ApiId api) const {
  ApiSeries* s = api < kMaxApis ? series_[api].load(std::memory_order_acquire) : nullptr;
  return s ? s : series_[0].load(std::memory_order_acquire);
}

std::string_view protocolName(Protocol protocol) {
  return protocol == Protocol::kHttp2 ? "HTTP/2" : "HTTP/1.1";
}

void Registry::countRequest(ApiId api, Method method, int status, Failure failure,
                            Protocol protocol) {
  if (!enabled()) return;
  const std::uint64_t key = packRequest(api, method, status, failure, protocol) + 1;
  std::size_t i = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 51) % kRequestSlots;
  for (std::size_t probes = 0; probes < kRequestSlots; ++probes, i = (i + 1) % kRequestSlots) {
    Slot& slot = requests_[i];
    std::uint64_t seen = slot.key.load(std::memory_order_acquire);
    if (seen == 0) {
      std::uint64_t expected = 0;
      if (slot.key.compare_exchange_strong(expected, key, std::memory_order_acq_rel))
        seen = key;
      else
        seen = expected;
    }
    if (seen == key) {
      slot.count.fetch_add(1, kRelaxed);
      return;
    }
  }
  requestOverflow_.fetch_add(1, kRelaxed);
}

void Registry::observeRequest(ApiId api, std::chrono::nanoseconds d) {
  if (enabled()) series(api)->request.observe(d);
}
void Registry::observeUpstream(ApiId api, std::chrono::nanoseconds d) {
  if (enabled()) series(api)->upstream.observe(d);
}
void Registry::countKeyValidation(Failure result) {
  if (enabled()) keyValidations_[static_cast<std::size_t>(result)].fetch_add(1, kRelaxed);
}
void Registry::countKeyCache(bool hit) {
  if (enabled()) (hit ? cacheHits_ : cacheMisses_).fetch_add(1, kRelaxed);
}
void Registry::countKeyIssued(std::string_view algorithm, std::string_view keyType) {
  if (!enabled()) return;
  std::size_t a = 4;
  for (std::size_t i = 0; i < 4; ++i)
    if (kAlgorithms[i] == algorithm) a = i;
  const std::size_t t = keyType == "SANDBOX" ? 1 : 0;
  keysIssued_[a * 2 + t].fetch_add(1, kRelaxed);
}
void Registry::countLoginFailure() {
  if (enabled()) loginFailures_.fetch_add(1, kRelaxed);
}
void Registry::countThrottled(ThrottleLevel level) {
  if (enabled()) throttled_[static_cast<std::size_t>(level)].fetch_add(1, kRelaxed);
}
void Registry::countOverQuota(ThrottleLevel level) {
  if (enabled()) overQuota_[static_cast<std::size_t>(level)].fetch_add(1, kRelaxed);
}
// Gauges count whether or not metrics are on, so that turning them on at a restart is all it takes.
void Registry::connectionOpened(Listener l) {
  connections_[static_cast<std::size_t>(l)].fetch_add(1, kRelaxed);
}
void Registry::connectionClosed(Listener l) {
  connections_[static_cast<std::size_t>(l)].fetch_sub(1, kRelaxed);
}
void Registry::countValidationRefusal(ApiId api, bool response) {
  series(api)->validationRefusals[response ? 1 : 0].fetch_add(1, kRelaxed);
}

void Registry::upstreamBusy(ApiId api, int delta) { series(api)->busy.fetch_add(delta, kRelaxed); }
void Registry::upstreamIdle(ApiId api, int delta) { series(api)->idle.fetch_add(delta, kRelaxed); }

std::string Registry::render(const ScrapeGauges& gauges) const {
  std::vector<std::pair<std::string, std::string>> apis;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    apis = apis_;
  }
  std::string out;
  out.reserve(16384);

  // Requests.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> rows;
  for (std::size_t i = 0; i < kRequestSlots; ++i) {
    const std::uint64_t key = requests_[i].key.load(std::memory_order_acquire);
    if (key != 0) rows.emplace_back(key - 1, requests_[i].count.load(kRelaxed));
  }
  std::sort(rows.begin(), rows.end());
  writeFamily(out, "mgw_requests_total", "counter",
              "Requests answered, by API, version, method, status sent, fault (code and "
              "reason; \"none\" for none) and protocol (HTTP/1.1, HTTP/2). api=\"none\": the "
              "request matched no API.");
  for (const auto& [key, count] : rows) {
    const auto api = static_cast<std::size_t>((key >> 24) & 0xffff);
    const auto protocol = static_cast<Protocol>((key >> 40) & 0xf);
    const auto method = static_cast<Method>((key >> 20) & 0xf);
    const int status = static_cast<int>((key >> 8) & 0x3ff);
    const auto failure = static_cast<Failure>(key & 0xff);
    const auto& [name, version] = api < apis.size() ? apis[api] : apis[0];
    const std::string statusText = std::to_string(status);
    const std::string fault =
        failure == Failure::kNone ? "none" : std::to_string(faultFor(failure).code);
    writeSample(out, "mgw_requests_total",
                {{"api", name},
                 {"version", version},
                 {"method", methodName(method)},
                 {"status", statusText},
                 {"fault", fault},
                 {"reason", failureName(failure)},
                 {"protocol", protocolName(protocol)}},
                count);
  }
  writeFamily(out, "mgw_requests_unrecorded_total", "counter",
              "Requests not counted in mgw_requests_total because its label table was full.");
  writeSample(out, "mgw_requests_unrecorded_total", {}, requestOverflow_.load(kRelaxed));

  // Latency histograms.
  auto histogram = [&](std::string_view family, std::string_view help, bool upstream) {
    writeFamily(out, family, "histogram", help);
    const std::string bucket = std::string(family) + "_bucket";
    const std::string sum = std::string(family) + "_sum";
    const std::string count = std::string(family) + "_count";
    for (std::size_t id = upstream ? 1 : 0; id < apis.size(); ++id) {
      const ApiSeries* s = series_[id].load(std::memory_order_acquire);
      if (!s) continue;
      const auto snap = (upstream ? s->upstream : s->request).snapshot();
      const auto& [name, version] = apis[id];
      for (std::size_t b = 0; b <= kLatencyBuckets.size(); ++b) {
        const std::string le =
            b < kLatencyBuckets.size() ? formatDouble(kLatencyBuckets[b]) : "+Inf";
        writeSample(out, bucket, {{"api", name}, {"version", version}, {"le", le}},
                    snap.cumulative[b]);
      }
      writeSample(out, sum, {{"api", name}, {"version", version}}, snap.sumSeconds);
      writeSample(out, count, {{"api", name}, {"version", version}}, snap.count);
    }
  };
  histogram("mgw_request_duration_seconds",
            "Time from the request head read to the exchange's end, by API.", false);
  histogram("mgw_upstream_duration_seconds",
            "Time from asking for a backend connection to the backend's response head, by API.",
            true);

  // Keys.
  writeFamily(out, "mgw_key_validations_total", "counter",
              "API key checks at the gateway, by result (\"valid\" or the failure's name).");
  for (std::size_t f = 0; f < keyValidations_.size(); ++f) {
    const auto failure = static_cast<Failure>(f);
    const bool listed = std::find(std::begin(kValidationResults), std::end(kValidationResults),
                                  failure) != std::end(kValidationResults);
    const std::uint64_t n = keyValidations_[f].load(kRelaxed);
    if (listed || n > 0)
      writeSample(out, "mgw_key_validations_total", {{"result", resultName(failure)}}, n);
  }
  writeFamily(out, "mgw_key_cache_hits_total", "counter",
              "Key verifications answered from the key cache.");
  writeSample(out, "mgw_key_cache_hits_total", {}, cacheHits_.load(kRelaxed));
  writeFamily(out, "mgw_key_cache_misses_total", "counter",
              "Key verifications not in the key cache (verified in full).");
  writeSample(out, "mgw_key_cache_misses_total", {}, cacheMisses_.load(kRelaxed));
  writeFamily(out, "mgw_key_cache_entries", "gauge", "Keys in the key cache now.");
  writeSample(out, "mgw_key_cache_entries", {}, static_cast<std::uint64_t>(gauges.keyCacheEntries));
  writeFamily(out, "mgw_keys_issued_total", "counter",
              "API keys issued (signed by /apikey, or opaque), by algorithm and key type.");
  for (std::size_t a = 0; a < 5; ++a)
    for (std::size_t t = 0; t < 2; ++t)
      writeSample(out, "mgw_keys_issued_total",
                  {{"algorithm", kAlgorithms[a]}, {"key_type", kKeyTypes[t]}},
                  keysIssued_[a * 2 + t].load(kRelaxed));
  writeFamily(out, "mgw_login_failures_total", "counter",
              "Failed Basic authentications on /apikey, the key management API and basic-auth "
              "resources.");
  writeSample(out, "mgw_login_failures_total", {}, loginFailures_.load(kRelaxed));
  writeFamily(out, "mgw_throttled_requests_total", "counter",
              "Requests refused by a throttling policy, by level.");
  for (std::size_t l = 0; l < kThrottleLevelCount; ++l)
    writeSample(out, "mgw_throttled_requests_total",
                {{"level", throttleLevelName(static_cast<ThrottleLevel>(l))}},
                throttled_[l].load(kRelaxed));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (plans_.size() > 1) {
      writeFamily(out, "mgw_plan_requests_total", "counter",
                  "Requests selected into an API's plan (issue 26), by API, version and plan.");
      for (std::size_t i = 1; i < plans_.size(); ++i)
        writeSample(out, "mgw_plan_requests_total",
                    {{"api", plans_[i][0]}, {"version", plans_[i][1]}, {"plan", plans_[i][2]}},
                    planRequests_[i].load(kRelaxed));
    }
  }
  writeFamily(out, "mgw_throttle_over_quota_total", "counter",
              "Requests over a stopOnQuotaReach = false policy (let through, not refused), by "
              "level.");
  for (std::size_t l = 0; l < kThrottleLevelCount; ++l)
    writeSample(out, "mgw_throttle_over_quota_total",
                {{"level", throttleLevelName(static_cast<ThrottleLevel>(l))}},
                overQuota_[l].load(kRelaxed));

  // Connections.
  writeFamily(out, "mgw_connections_active", "gauge", "Open client connections, by listener.");
  for (std::size_t l = 0; l < kListenerCount; ++l)
    writeSample(out, "mgw_connections_active",
                {{"listener", listenerName(static_cast<Listener>(l))}},
                static_cast<double>(connections_[l].load(kRelaxed)));
  writeFamily(out, "mgw_upstream_connections", "gauge",
              "Connections to backends, by API: idle in the pool, or busy with an exchange.");
  for (std::size_t id = 1; id < apis.size(); ++id) {
    const ApiSeries* s = series_[id].load(std::memory_order_acquire);
    if (!s) continue;
    const auto& [name, version] = apis[id];
    writeSample(out, "mgw_upstream_connections",
                {{"api", name}, {"version", version}, {"state", "idle"}},
                static_cast<double>(s->idle.load(kRelaxed)));
    writeSample(out, "mgw_upstream_connections",
                {{"api", name}, {"version", version}, {"state", "busy"}},
                static_cast<double>(s->busy.load(kRelaxed)));
  }

  writeFamily(out, "mgw_validation_refusals_total", "counter",
              "Requests refused (400) and answers replaced (500) or logged for breaking the API "
              "definition's schemas, by API and direction.");
  for (std::size_t id = 1; id < apis.size(); ++id) {
    const ApiSeries* s = series_[id].load(std::memory_order_acquire);
    if (!s) continue;
    const auto& [name, version] = apis[id];
    for (int d = 0; d < 2; ++d)
      writeSample(out, "mgw_validation_refusals_total",
                  {{"api", name}, {"version", version}, {"direction", d ? "response" : "request"}},
                  s->validationRefusals[d].load(kRelaxed));
  }

  writeFamily(out, "mgw_build_info", "gauge", "The running micro-gw's version (always 1).");
  const std::string version = gauges.version.empty() ? MGW_VERSION : gauges.version;
  writeSample(out, "mgw_build_info", {{"version", version}}, std::uint64_t{1});

  renderProcessMetrics(out);
  return out;
}

Registry& metrics() {
  static Registry registry;
  return registry;
}

// ---- process_* -------------------------------------------------------------------------------

void renderProcessMetrics(std::string& out) {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream statFile("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close != std::string::npos && ticks > 0) {
    // Fields after the command name start at field 3 (state).
    std::istringstream rest(stat.substr(close + 2));
    std::vector<std::string> f;
    for (std::string s; rest >> s;) f.push_back(s);
    // utime 14, stime 15, starttime 22, vsize 23, rss 24 -> indexes field - 3.
    if (f.size() > 21) {
      const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      writeFamily(out, "process_cpu_seconds_total", "counter",
                  "Total user and system CPU time spent in seconds.");
      writeSample(out, "process_cpu_seconds_total", {}, cpu);
      writeFamily(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
      writeSample(out, "process_virtual_memory_bytes", {}, std::stod(f[20]));
      writeFamily(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
      writeSample(out, "process_resident_memory_bytes", {}, std::stod(f[21]) * page);
      double bootTime = 0;
      std::ifstream procStat("/proc/stat");
      for (std::string line; std::getline(procStat, line);)
        if (line.rfind("btime ", 0) == 0) bootTime = std::stod(line.substr(6));
      if (bootTime > 0) {
        writeFamily(out, "process_start_time_seconds", "gauge",
                    "Start time of the process since unix epoch in seconds.");
        writeSample(out, "process_start_time_seconds", {}, bootTime + std::stod(f[19]) / ticks);
      }
    }
  }
  std::uint64_t fds = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(dir))
      if (e->d_name[0] != '.') ++fds;
    ::closedir(dir);
    writeFamily(out, "process_open_fds", "gauge", "Number of open file descriptors.");
    writeSample(out, "process_open_fds", {}, fds > 0 ? fds - 1 : 0);  // less the one reading
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    writeFamily(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
    writeSample(out, "process_max_fds", {}, static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace mgw::observability
