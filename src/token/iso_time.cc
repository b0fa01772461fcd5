#include "token/iso_time.h"

#include <ctime>

namespace mgw::token {

std::string isoTime(std::int64_t epochSeconds) {
  // RFC 3339 years have four digits; gmtime_r also fails past its own range.
  constexpr std::int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  constexpr std::int64_t kMinSeconds = -30610224000;  // 1000-01-01T00:00:00Z (four-digit years)
  std::tm tm{};
  const std::time_t t = static_cast<std::time_t>(epochSeconds);
  char buf[32];
  if (epochSeconds > kMaxSeconds || epochSeconds < kMinSeconds || gmtime_r(&t, &tm) == nullptr ||
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return "<" + std::to_string(epochSeconds) + " seconds since epoch, out of range>";
  }
  return buf;
}

}  // namespace mgw::token
