// The throttling counters, behind one interface: the in-process store (local_counter_store.h) and
// the shared one over Redis (several nodes, SPEC section 14) implement it. A store trusts its
// caller for the keys and limits; it never sees an API key (keys name a jti or a hash).
//
// The algorithm every store implements is GCRA (the generic cell rate algorithm, as in ATM's
// leaky bucket "virtual scheduling"), with a burst equal to the policy's count:
//
//   e   = ceil(window / limit)          the emission interval (nanoseconds in-process)
//   tau = (limit - 1) * e               how far ahead of now the counter may run
//   tat = the stored "theoretical arrival time" (absent = now)
//   a request at time t fits when  max(tat, t) <= t + tau,  and then  tat := max(tat, t) + e
//
// So a fresh counter lets `limit` requests through at once (the n+1th is refused, the nth is not,
// exactly, whatever the concurrency), and then one every window/limit: never more than the
// policy's average rate, and a refused client is told when the next request fits (Retry-After)
// instead of waiting for a fixed window to roll over. One integer per counter (O(1) memory), and a
// counter whose tat has passed is equal to an absent one, so it expires at tat (PEXPIREAT in
// Redis). The whole decision over several counters is one Lua script: read every tat, check every
// hit, write all or none.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mgw::throttle {

// One counter to charge for this request.
struct Hit {
  std::string key;  // e.g. "s|Gold|<jti>|<api>:<version>"; never a raw API key (a jti or a hash)
  std::int64_t limit = 0;               // requests per window (> 0; Unlimited policies are no hit)
  std::chrono::milliseconds window{0};  // unitTime x timeUnit (> 0)
  // false (a policy with stopOnQuotaReach = false): a hit that does not fit is reported in
  // Verdict::overQuota and is neither charged nor a reason to refuse. (Added to the proposed
  // interface: WSO2's "count and report, never refuse" needs the store to say it happened.)
  bool enforce = true;
};

struct Verdict {
  bool allowed = true;      // all enforced hits fit and all hits that fit were charged; otherwise
                            // none was charged
  std::size_t refused = 0;  // index of the first enforced hit that did not fit (when !allowed)
  std::int64_t remaining = 0;  // of the tightest counter (RateLimit r=)
  // Allowed: until the tightest counter is back to its full quota (RateLimit t=). Refused: until
  // every refusing counter has room for this request again (Retry-After).
  std::chrono::milliseconds reset{0};
  std::uint32_t overQuota = 0;  // bit i: hit i (enforce = false) did not fit; counted, not refused
};

class CounterStore {
 public:
  virtual ~CounterStore() = default;
  using Done = std::function<void(Verdict)>;
  // Charges every hit or none. `done` is called exactly once: inline (in-process store) or later
  // from another thread (the Redis store). It must not block. At most 32 hits.
  virtual void charge(std::vector<Hit> hits, Done done) = 0;
};

}  // namespace mgw::throttle
