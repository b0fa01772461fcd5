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
// The access log: one line per request, already a JSON object.
void access(const nlohmann::json& entry);

}  // namespace mgw::log
