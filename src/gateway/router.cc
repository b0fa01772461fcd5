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

bool isLiteralTemplate(std::string_view pathTemplate) {
  for (std::string_view seg : splitSegments(pathTemplate))
    if (isParam(seg) || seg == "*") return false;
  return true;
}

// The path as a lenient backend may read it: ';' parameters cut (servlet containers), trailing
// dots stripped (Windows and IIS), case-folded (case-insensitive file systems), empty segments
// dropped ("//" merged, a trailing "/" ignored: Envoy's merge_slashes).
std::string normalised(std::string_view path) {
  std::string out;
  for (std::string_view seg : splitSegments(path)) {
    seg = seg.substr(0, seg.find(';'));
    while (!seg.empty() && seg.back() == '.') seg.remove_suffix(1);
    if (seg.empty()) continue;
    out.push_back('/');
    for (char c : seg) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  }
  return out.empty() ? "/" : out;
}

std::string shown(std::string_view s) {
  return s.size() <= 100 ? std::string(s) : std::string(s.substr(0, 100)) + "...";
}

// How a resource's method serves this request's method: 3 exact, 2 "*", 1 HEAD on GET, 0 not.
int methodRank(const Resource& r, std::string_view method) {
  if (r.method == method) return 3;
  if (r.method == "*") return 2;
  if (method == "HEAD" && r.method == "GET") return 1;
  return 0;
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
  if (!api->allowPathParameters) {
    for (std::string_view seg : splitSegments(rest)) {
      if (seg.find(';') == std::string_view::npos) continue;
      result.failure = Failure::kPathParameters;
      result.reason = "the path segment '" + shown(seg) +
                      "' holds a ';' parameter, which this API does not accept (a backend may "
                      "cut it and serve another resource than the one authorised); remove it";
      return result;
    }
  }

  const Resource* best = nullptr;
  std::vector<int> bestScore;
  int bestMethodRank = 0;
  for (const Resource& r : api->resources) {
    const int rank = methodRank(r, method);
    if (rank == 0) continue;
    auto s = score(r.pathTemplate, result.backendPath);
    if (!s) continue;
    if (best == nullptr || *s > bestScore || (*s == bestScore && rank > bestMethodRank)) {
      best = &r;
      bestScore = std::move(*s);
      bestMethodRank = rank;
    }
  }
  if (best == nullptr) return result;
  const bool literalMatch = std::all_of(bestScore.begin(), bestScore.end(),
                                        [](int rank) { return rank == kLiteral || rank == kEnd; });
  if (!literalMatch) {
    const std::string spelled = normalised(result.backendPath);
    for (const Resource& r : api->resources) {
      if (!r.secured || methodRank(r, method) == 0 || !isLiteralTemplate(r.pathTemplate) ||
          normalised(r.pathTemplate) != spelled)
        continue;
      result.failure = Failure::kAmbiguousPath;
      result.reason = "the path '" + shown(path) +
                      "' is another spelling of the secured resource " + r.method + " " +
                      api->context + r.pathTemplate +
                      " (letter case, trailing dots, repeated slashes or ';' parameters); call it "
                      "as " +
                      api->context + r.pathTemplate;
      return result;
    }
  }
  result.resource = best;
  result.failure = Failure::kNone;
  return result;
}

}  // namespace mgw::gateway
