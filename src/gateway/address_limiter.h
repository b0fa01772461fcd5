// Counts failures per client address in a fixed one-minute window, bounded in memory: the gateway
// uses it for failed key lookups (guessing keys must not be free). Per process, thread-safe;
// trusts its caller for the address (already resolved through trustedProxies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mgw::gateway {

class AddressLimiter {
 public:
  static constexpr std::size_t kMaxAddresses = 100000;  // least recently failed go first
  static constexpr std::int64_t kWindowMs = 60000;

  // 0 when `address` may go on (fewer than `limit` failures in its window), else milliseconds
  // until its window ends. limit <= 0: never blocked.
  std::int64_t blockedForMs(const std::string& address, int limit, std::int64_t nowMs);
  void recordFailure(const std::string& address, std::int64_t nowMs);

 private:
  struct Window {
    std::int64_t startMs = 0;
    int failures = 0;
  };
  using Order = std::list<std::pair<std::string, Window>>;
  std::mutex mutex_;
  Order order_;  // least recently failed first
  std::unordered_map<std::string, Order::iterator> index_;
};

}  // namespace mgw::gateway
