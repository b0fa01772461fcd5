// The Prometheus text exposition format 0.0.4, written by hand (no client library): `# HELP` and
// `# TYPE` once per family, label values escaped, numbers as Go's strconv would read them.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace mgw::observability {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

using Label = std::pair<std::string_view, std::string_view>;

// `\` -> `\\`, `"` -> `\"`, newline -> `\n` (label values).
std::string escapeLabelValue(std::string_view value);
// `\` -> `\\`, newline -> `\n` (HELP text).
std::string escapeHelp(std::string_view help);
// The shortest text that reads back as the same double; "+Inf", "-Inf", "NaN".
std::string formatDouble(double value);

// Appends `# HELP name help` and `# TYPE name type`.
void writeFamily(std::string& out, std::string_view name, std::string_view type,
                 std::string_view help);
// Appends `name{l1="v1",...} value`.
void writeSample(std::string& out, std::string_view name, std::initializer_list<Label> labels,
                 double value);
void writeSample(std::string& out, std::string_view name, std::initializer_list<Label> labels,
                 std::uint64_t value);

}  // namespace mgw::observability
