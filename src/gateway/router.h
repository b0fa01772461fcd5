// Maps a request (method, decoded path) to an API by its context and to one of its resources.
// Trusts the API definitions (validated at load); the path is client input.
//
// Decisions:
//  - Contexts match on a segment boundary, longest first: "/pizzashack/1.0.0" matches
//    "/pizzashack/1.0.0" and "/pizzashack/1.0.0/menu", never "/pizzashack/1.0.00/menu".
//  - A path with a "." or ".." segment or a NUL byte under a matched context is kNoResource: it is
//    never forwarded, since a backend that normalises it would serve something outside the resource
//    the gateway authorised. (The path is already percent-decoded, so "%2e%2e" is caught too.)
//  - Templates: "{param}" matches one non-empty segment; a final "*" segment matches the rest (zero
//    or more segments). A literal segment beats a template, a template beats "*", comparing segment
//    by segment from the left; then an exact method beats "*".
//  - Path spellings a lenient backend reads as another resource (issue 22 item 6): a ';' in a
//    segment ("/admin;jsessionid=x": servlet containers cut path parameters) is kPathParameters
//    unless the API allows them; a path that falls to a template or "*" while its normalised form
//    (';' parameters cut, case-folded, trailing dots stripped, repeated and trailing slashes
//    merged) names a secured literal resource of the same method ("/Admin", "/admin.", "//admin"
//    next to a secured "/admin" and an open "/{page}") is kAmbiguousPath. Refused, not rewritten
//    to the literal: the bytes go to the backend as received, and whether the backend reads
//    "/Admin" as "/admin" is unknowable here; refusing names the one spelling that is authorised.
//  - HEAD also matches GET resources, ranked below an explicit HEAD or "*" of the same path: RFC
//  9110
//    section 9.3.2 makes HEAD a GET without the body, so an API that allows GET allows HEAD. The
//    backend still receives HEAD.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "gateway/api.h"

namespace mgw::gateway {

struct RouteMatch {
  Failure failure = Failure::kNoApi;   // kNone, kNoApi or kNoResource
  const ApiDefinition* api = nullptr;  // set for kNone and kNoResource
  const Resource* resource = nullptr;  // set for kNone
  std::string backendPath;             // the path after the context, "/" if empty
  std::string reason;                  // for kPathParameters and kAmbiguousPath: what to change
};

class Router {
 public:
  explicit Router(std::vector<ApiDefinition> apis);

  RouteMatch match(std::string_view method, std::string_view path) const;
  const std::vector<ApiDefinition>& apis() const { return apis_; }

 private:
  std::vector<ApiDefinition> apis_;
  std::vector<std::size_t> byContextLength_;  // indexes into apis_, longest context first
};

// True when the decoded path pattern matches; exposed for tests and the loader's checks.
bool templateMatches(std::string_view pathTemplate, std::string_view path);

}  // namespace mgw::gateway
