#include "observability/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace mgw::observability {

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string formatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // As Go's strconv.FormatFloat(v, 'g', -1, 64) writes it (what client_golang sends): the shortest
  // round-trip digits, in fixed notation unless the exponent is below -4 or very large.
  const double magnitude = std::fabs(value);
  const bool fixed = value == 0 || (magnitude >= 1e-4 && magnitude < 1e21);
  auto [end, ec] = fixed ? std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, end);
}

void writeFamily(std::string& out, std::string_view name, std::string_view type,
                 std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escapeHelp(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

namespace {
void writeName(std::string& out, std::string_view name, std::initializer_list<Label> labels) {
  out += name;
  if (labels.size() == 0) return;
  out += '{';
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += key;
    out += "=\"";
    out += escapeLabelValue(value);
    out += '"';
  }
  out += '}';
}
}  // namespace

void writeSample(std::string& out, std::string_view name, std::initializer_list<Label> labels,
                 double value) {
  writeName(out, name, labels);
  out += ' ';
  out += formatDouble(value);
  out += '\n';
}

void writeSample(std::string& out, std::string_view name, std::initializer_list<Label> labels,
                 std::uint64_t value) {
  writeName(out, name, labels);
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace mgw::observability
