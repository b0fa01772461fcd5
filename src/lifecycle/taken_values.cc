#include "lifecycle/taken_values.h"

namespace mgw::lifecycle {

std::int64_t TakenValueLimiter::blockedForSeconds(const std::string& user, std::int64_t now) {
  std::lock_guard lock(mutex_);
  const auto it = users_.find(user);
  if (it == users_.end() || now >= it->second.start + kWindowSeconds) return 0;
  if (it->second.taken < kLimit) return 0;
  return it->second.start + kWindowSeconds - now;
}

void TakenValueLimiter::recordTaken(const std::string& user, std::int64_t now) {
  std::lock_guard lock(mutex_);
  if (users_.size() >= kMaxUsers && !users_.count(user)) {
    for (auto it = users_.begin(); it != users_.end();)  // drop the windows that ended
      it = now >= it->second.start + kWindowSeconds ? users_.erase(it) : std::next(it);
    if (users_.size() >= kMaxUsers) return;  // more live windows than users: fail open
  }
  Window& w = users_[user];
  if (w.taken == 0 || now >= w.start + kWindowSeconds) w = Window{now, 0};
  ++w.taken;
}

}  // namespace mgw::lifecycle
