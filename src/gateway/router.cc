#include "gateway/router.h"

#include <algorithm>
#include <optional>

namespace mgw::gateway {
namespace {

std::vector<std::string_view> splitSegments(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return out;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = path.find('/', start);
    out.push_back(path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool isParam(std::string_view seg) {
  return seg.size() >= 3 && seg.front() == '{' && seg.back() == '}';
}

// Segment ranks for specificity: higher is more specific.
constexpr int kLiteral = 3;
constexpr int kParam = 2;
constexpr int kWildcard = 1;
constexpr int kEnd = 4;

// The per-segment ranks of a match, or nullopt when the template does not match.
std::optional<std::vector<int>> score(std::string_view pathTemplate, std::string_view path) {
  auto tpl = splitSegments(pathTemplate);
  auto segs = splitSegments(path);
  std::vector<int> ranks;
  for (std::size_t i = 0; i < tpl.size(); ++i) {
    if (tpl[i] == "*" && i + 1 == tpl.size()) {
      ranks.push_back(kWildcard);
      return ranks;
    }
    if (i >= segs.size()) return std::nullopt;
    if (isParam(tpl[i])) {
      if (segs[i].empty()) return std::nullopt;
      ranks.push_back(kParam);
    } else if (tpl[i] == segs[i]) {
      ranks.push_back(kLiteral);
    } else {
      return std::nullopt;
    }
  }
  // "/menu" also matches "/menu/" (a trailing slash names the same resource to most backends).
  if (segs.size() == tpl.size() || (segs.size() == tpl.size() + 1 && segs.back().empty())) {
    ranks.push_back(kEnd);  // an exact-length match beats a "*" that also covers it
    return ranks;
  }
  return std::nullopt;
}

bool hasUnsafeSegment(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return true;
  for (std::string_view seg : splitSegments(path)) {
    if (seg == "." || seg == "..") return true;
  }
  return false;
}

}  // namespace

bool templateMatches(std::string_view pathTemplate, std::string_view path) {
  return score(pathTemplate, path).has_value();
}

Router::Router(std::vector<ApiDefinition> apis) : apis_(std::move(apis)) {
  for (std::size_t i = 0; i < apis_.size(); ++i) byContextLength_.push_back(i);
  std::stable_sort(byContextLength_.begin(), byContextLength_.end(),
                   [this](std::size_t a, std::size_t b) {
                     return apis_[a].context.size() > apis_[b].context.size();
                   });
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch result;
  if (path.empty() || path.front() != '/') return result;
  const ApiDefinition* api = nullptr;
  for (std::size_t i : byContextLength_) {
    const std::string& ctx = apis_[i].context;
    if (path.size() >= ctx.size() && path.compare(0, ctx.size(), ctx) == 0 &&
        (path.size() == ctx.size() || path[ctx.size()] == '/')) {
      api = &apis_[i];
      break;
    }
  }
  if (api == nullptr) return result;
  result.api = api;
  result.failure = Failure::kNoResource;
  std::string_view rest = path.substr(api->context.size());
  result.backendPath = rest.empty() ? "/" : std::string(rest);
  if (hasUnsafeSegment(rest)) return result;

  const Resource* best = nullptr;
  std::vector<int> bestScore;
  int bestMethodRank = 0;
  for (const Resource& r : api->resources) {
    int methodRank;
    if (r.method == method) {
      methodRank = 3;
    } else if (r.method == "*") {
      methodRank = 2;
    } else if (method == "HEAD" && r.method == "GET") {
      methodRank = 1;
    } else {
      continue;
    }
    auto s = score(r.pathTemplate, result.backendPath);
    if (!s) continue;
    if (best == nullptr || *s > bestScore || (*s == bestScore && methodRank > bestMethodRank)) {
      best = &r;
      bestScore = std::move(*s);
      bestMethodRank = methodRank;
    }
  }
  if (best == nullptr) return result;
  result.resource = best;
  result.failure = Failure::kNone;
  return result;
}

}  // namespace mgw::gateway
