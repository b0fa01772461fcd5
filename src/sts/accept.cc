#include "sts/accept.h"

#include <cctype>
#include <string>

#include "common/text.h"

namespace mgw::sts {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 section 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
// thousandths; -1 when malformed.
int parseQ(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
  int q = (v[0] - '0') * 1000;
  if (v.size() == 1) return q;
  if (v[1] != '.' || v.size() > 5) return -1;
  int scale = 100;
  for (std::size_t i = 2; i < v.size(); ++i, scale /= 10) {
    if (!std::isdigit(static_cast<unsigned char>(v[i]))) return -1;
    q += (v[i] - '0') * scale;
  }
  return q > 1000 ? -1 : q;
}

}  // namespace

int acceptQuality(std::string_view accept, std::string_view type, std::string_view subtype) {
  if (trim(accept).empty()) return 1000;
  int best = 0;
  int bestSpecificity = -1;  // 2 type/subtype, 1 type/*, 0 */*
  std::size_t start = 0;
  while (start <= accept.size()) {
    std::size_t comma = accept.find(',', start);
    std::string_view range = accept.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? accept.size() + 1 : comma + 1;
    std::size_t semi = range.find(';');
    std::string_view media = trim(range.substr(0, semi));
    std::size_t slash = media.find('/');
    if (slash == std::string_view::npos) continue;
    std::string_view t = media.substr(0, slash), s = media.substr(slash + 1);
    if (t.empty() || s.empty()) continue;
    int q = 1000;
    bool bad = false;
    while (semi != std::string_view::npos) {
      std::size_t next = range.find(';', semi + 1);
      std::string_view param = trim(range.substr(
          semi + 1, next == std::string_view::npos ? std::string_view::npos : next - semi - 1));
      semi = next;
      std::size_t eq = param.find('=');
      if (eq != std::string_view::npos && equalsIgnoreCase(trim(param.substr(0, eq)), "q")) {
        q = parseQ(trim(param.substr(eq + 1)));
        bad = q < 0;
      }
    }
    if (bad) continue;
    int specificity = -1;
    if (t == "*" && s == "*") {
      specificity = 0;
    } else if (equalsIgnoreCase(t, type) && s == "*") {
      specificity = 1;
    } else if (equalsIgnoreCase(t, type) && equalsIgnoreCase(s, subtype)) {
      specificity = 2;
    }
    if (specificity > bestSpecificity) {
      bestSpecificity = specificity;
      best = q;
    }
  }
  return best;
}

bool prefersJson(std::string_view accept) {
  return acceptQuality(accept, "application", "json") > acceptQuality(accept, "text", "plain");
}

}  // namespace mgw::sts
