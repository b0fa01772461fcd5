#include "gateway/address_limiter.h"

namespace mgw::gateway {

std::int64_t AddressLimiter::blockedForMs(const std::string& address, int limit,
                                          std::int64_t nowMs) {
  if (limit <= 0) return 0;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(address);
  if (it == index_.end()) return 0;
  const Window& w = it->second->second;
  if (nowMs >= w.startMs + kWindowMs || w.failures < limit) return 0;
  return w.startMs + kWindowMs - nowMs;
}

void AddressLimiter::recordFailure(const std::string& address, std::int64_t nowMs) {
  std::lock_guard<std::mutex> lock(mutex_);
  while (!order_.empty() && nowMs >= order_.front().second.startMs + kWindowMs) {
    index_.erase(order_.front().first);
    order_.pop_front();
  }
  auto it = index_.find(address);
  if (it == index_.end()) {
    order_.emplace_back(address, Window{nowMs, 0});
    it = index_.emplace(address, std::prev(order_.end())).first;
    if (order_.size() > kMaxAddresses) {
      index_.erase(order_.front().first);
      order_.pop_front();
    }
  } else {
    order_.splice(order_.end(), order_, it->second);
  }
  Window& w = it->second->second;
  if (nowMs >= w.startMs + kWindowMs) w = Window{nowMs, 0};
  ++w.failures;
}

}  // namespace mgw::gateway
