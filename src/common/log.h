// Structured logging: one JSON object per line on stderr. Never pass a key or a password here:
// log a jti or fingerprint() instead.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace mgw::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void setMinimumLevel(Level level);
void write(Level level, std::string_view message,
           const nlohmann::json& fields = nlohmann::json::object());
inline void info(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kInfo, m, f);
}
inline void warn(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kWarn, m, f);
}
inline void error(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kError, m, f);
}
// The access log, already formatted: one JSON object without the newline. Lines are buffered and
// written in batches (one write(2) for many lines): when 64 KiB are waiting, kAccessFlushMs after
// the first waiting line, before any other log line (so the order stays the order of events), on
// flushAccess() and at exit. Never blocks on the log's reader beyond one write(2).
inline constexpr int kAccessFlushMs = 20;
void accessLine(std::string_view line);
// Writes every waiting access line now.
void flushAccess();
// "2024-01-02T03:04:05.678Z" (UTC, milliseconds), as every line's "time".
void appendTimestamp(std::string& out);

}  // namespace mgw::log
