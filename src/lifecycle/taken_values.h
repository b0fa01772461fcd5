// Custom opaque key values stop being an existence oracle (issue 22 item 8). Key values are
// looked up by value alone, so a value is unique across owners and creating one someone else holds
// must fail; the answer never says whose it is, and each such refusal counts against the caller:
// after kLimit in a window, custom values are refused outright (429) until the window ends, so
// probing for other users' low-entropy keys is as slow as guessing them on the gateway. Per
// process, thread-safe, bounded in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mgw::lifecycle {

class TakenValueLimiter {
 public:
  static constexpr int kLimit = 5;  // refusals of taken values per window
  static constexpr std::int64_t kWindowSeconds = 3600;
  static constexpr std::size_t kMaxUsers = 10000;  // users come from the configuration

  // 0 when `user` may try a custom value, else the seconds until its window ends.
  std::int64_t blockedForSeconds(const std::string& user, std::int64_t now);
  // A custom value of `user` was refused because another owner holds it.
  void recordTaken(const std::string& user, std::int64_t now);

 private:
  struct Window {
    std::int64_t start = 0;
    int taken = 0;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Window> users_;
};

}  // namespace mgw::lifecycle
