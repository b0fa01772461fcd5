#include "common/log.h"

#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace mgw::log {
namespace {
std::atomic<Level> gMinimum{Level::kInfo};

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];  // room for any int the format could print
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void emit(const nlohmann::json& line) {
  // replace invalid UTF-8 rather than throw: a hostile path must not crash logging.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  // One write(2) per line: whole lines never interleave across threads, and no lock is held.
  const char* data = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed or full log must never stop a request
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}
}  // namespace

void setMinimumLevel(Level level) { gMinimum = level; }

void write(Level level, std::string_view message, const nlohmann::json& fields) {
  if (level < gMinimum.load()) return;
  nlohmann::json line = {{"time", timestamp()}, {"level", levelName(level)}, {"msg", message}};
  if (fields.is_object()) line.update(fields);
  emit(line);
}

void access(const nlohmann::json& entry) {
  nlohmann::json line = {{"time", timestamp()}, {"type", "access"}};
  line.update(entry);
  emit(line);
}

}  // namespace mgw::log
