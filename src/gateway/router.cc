#include "gateway/router.h"

#include <algorithm>
#include <optional>

namespace mgw::gateway {
namespace {

// The segments of a path after its leading '/', empty ones included ("/a//b/" is a, "", b, ""),
// one at a time: matching a request allocates nothing.
class Segments {
 public:
  explicit Segments(std::string_view path) {
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    rest_ = path;
    done_ = path.empty();
  }
  bool next(std::string_view* seg) {
    if (done_) return false;
    const std::size_t slash = rest_.find('/');
    if (slash == std::string_view::npos) {
      *seg = rest_;
      done_ = true;
    } else {
      *seg = rest_.substr(0, slash);
      rest_.remove_prefix(slash + 1);
    }
    return true;
  }
  bool atEnd() const { return done_; }

 private:
  std::string_view rest_;
  bool done_ = true;
};

bool isParam(std::string_view seg) {
  return seg.size() >= 3 && seg.front() == '{' && seg.back() == '}';
}

// Segment ranks for specificity: higher is more specific.
constexpr int kLiteral = 3;
constexpr int kParam = 2;
constexpr int kWildcard = 1;
constexpr int kEnd = 4;

// The per-segment ranks of a template's match (of any path it matches): one per segment, a
// trailing "*" ending them with kWildcard, any other template with kEnd.
class Ranks {
 public:
  explicit Ranks(std::string_view pathTemplate) : segments_(pathTemplate) {}
  bool next(int* rank) {
    if (ended_) return false;
    std::string_view seg;
    if (!segments_.next(&seg)) {
      ended_ = true;
      *rank = kEnd;  // an exact-length match beats a "*" that also covers it
    } else if (seg == "*" && segments_.atEnd()) {
      ended_ = true;
      *rank = kWildcard;
    } else {
      *rank = isParam(seg) ? kParam : kLiteral;
    }
    return true;
  }

 private:
  Segments segments_;
  bool ended_ = false;
};

// Whether the template matches the path.
bool matches(std::string_view pathTemplate, std::string_view path) {
  Segments tpl(pathTemplate);
  Segments segs(path);
  std::string_view t;
  std::string_view s;
  while (tpl.next(&t)) {
    if (t == "*" && tpl.atEnd()) return true;
    if (!segs.next(&s)) return false;
    if (isParam(t)) {
      if (s.empty()) return false;
    } else if (t != s) {
      return false;
    }
  }
  // "/menu" also matches "/menu/" (a trailing slash names the same resource to most backends).
  if (!segs.next(&s)) return true;
  return s.empty() && segs.atEnd();
}

// Two matching templates' ranks compared lexicographically: < 0, 0 or > 0.
int compareRanks(std::string_view a, std::string_view b) {
  Ranks ra(a);
  Ranks rb(b);
  int x = 0;
  int y = 0;
  for (;;) {
    const bool hasA = ra.next(&x);
    const bool hasB = rb.next(&y);
    if (!hasA || !hasB) return static_cast<int>(hasA) - static_cast<int>(hasB);
    if (x != y) return x < y ? -1 : 1;
  }
}

// Whether every rank is kLiteral or kEnd: no parameter and no trailing "*".
bool literalRanks(std::string_view pathTemplate) {
  Ranks ranks(pathTemplate);
  int rank = 0;
  while (ranks.next(&rank))
    if (rank != kLiteral && rank != kEnd) return false;
  return true;
}

bool hasUnsafeSegment(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return true;
  Segments segments(path);
  std::string_view seg;
  while (segments.next(&seg))
    if (seg == "." || seg == "..") return true;
  return false;
}

bool isLiteralTemplate(std::string_view pathTemplate) {
  Segments segments(pathTemplate);
  std::string_view seg;
  while (segments.next(&seg))
    if (isParam(seg) || seg == "*") return false;
  return true;
}

// The path as a lenient backend may read it: ';' parameters cut (servlet containers), trailing
// dots stripped (Windows and IIS), case-folded (case-insensitive file systems), empty segments
// dropped ("//" merged, a trailing "/" ignored: Envoy's merge_slashes).
std::string normalised(std::string_view path) {
  std::string out;
  Segments segments(path);
  std::string_view seg;
  while (segments.next(&seg)) {
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
  return matches(pathTemplate, path);
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
    Segments segments(rest);
    std::string_view seg;
    while (segments.next(&seg)) {
      if (seg.find(';') == std::string_view::npos) continue;
      result.failure = Failure::kPathParameters;
      result.reason = "the path segment '" + shown(seg) +
                      "' holds a ';' parameter, which this API does not accept (a backend may "
                      "cut it and serve another resource than the one authorised); remove it";
      return result;
    }
  }

  const Resource* best = nullptr;
  int bestMethodRank = 0;
  for (const Resource& r : api->resources) {
    const int rank = methodRank(r, method);
    if (rank == 0) continue;
    if (!matches(r.pathTemplate, result.backendPath)) continue;
    const int order = best == nullptr ? 1 : compareRanks(r.pathTemplate, best->pathTemplate);
    if (order > 0 || (order == 0 && rank > bestMethodRank)) {
      best = &r;
      bestMethodRank = rank;
    }
  }
  if (best == nullptr) return result;
  if (!literalRanks(best->pathTemplate)) {
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
