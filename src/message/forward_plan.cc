#include "message/forward_plan.h"

namespace mgw::message {

std::string upstreamRequestTarget(const UpstreamTarget& target, const ForwardPlan& plan) {
  const std::string& base = target.basePath;
  const std::string& tail = plan.rawPath.empty() ? std::string("/") : plan.rawPath;
  std::string out;
  if (base.empty() || base == "/") {
    out = tail;
  } else if (base.back() == '/') {
    out = base + tail.substr(1);
  } else {
    out = tail == "/" ? base : base + tail;
  }
  if (!target.baseQuery.empty() || !plan.rawQuery.empty()) {
    out.push_back('?');
    out += target.baseQuery;
    if (!target.baseQuery.empty() && !plan.rawQuery.empty()) out.push_back('&');
    out += plan.rawQuery;
  }
  return out;
}

std::string rawPathAfter(std::string_view rawPath, std::size_t segments) {
  std::size_t pos = 0;
  for (std::size_t i = 0; i < segments; ++i) {
    const std::size_t next = rawPath.find('/', pos + 1);
    if (next == std::string_view::npos) return "/";
    pos = next;
  }
  return std::string(rawPath.substr(pos));
}

}  // namespace mgw::message
