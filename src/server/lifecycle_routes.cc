// Key lifecycle endpoints (SPEC section 8), on the TLS listener only, all behind basic auth:
// POST /apikey/revoke, /apikeys (API-bound opaque keys), /applications (and their subscriptions).
// Glue only: authenticate, parse the typed request (lifecycle/request.h), ask
// lifecycle::KeyManagement (the policy), and turn its reply into JSON; a refusal goes to answer().
#include "gateway/key_validator.h"
#include "lifecycle/key_management.h"
#include "lifecycle/request.h"
#include "server/request_util.h"
#include "server/routes.h"

namespace mgw::server {
namespace {

using lifecycle::KeyManagement;

// The two bounds must agree: a revoked value is taken for an opaque key exactly when the gateway
// would take it for one.
static_assert(lifecycle::kMaxOpaqueKeyLength == gateway::KeyValidator::kMaxOpaqueKeyLength);

// What every handler starts from: one state snapshot, the authenticated caller, the store.
OrRefusal<KeyManagement> begin(ServerContext& context, const RouteRequest& req,
                               const std::shared_ptr<const RuntimeState>& state) {
  auto caller = authenticate(context, *state, req);
  if (auto* refusal = std::get_if<Refusal>(&caller)) return std::move(*refusal);
  if (req.body.size() > lifecycle::kMaxBodyBytes)
    return refuse(Failure::kPayloadTooLarge, "the request body exceeds 64 KiB");
  LifecycleService* store = context.lifecycle();
  if (!store) return refuse(Failure::kInternalError, "the embedded store is not open");
  auto& outcome = std::get<auth::AuthOutcome>(caller);
  const auto router = state->router;
  lifecycle::Environment env{
      state->config, state->throttler->policies(), *state->trustedKeys, context.opaqueKeys().get(),
      [router](const lifecycle::ApiRef& api) {
        for (const auto& a : router->apis())
          if (a.name == api.name && a.version == api.version) return true;
        return false;
      },
      &context.takenValues(),
      // Issue 26: a deployed API's plans and publishers.
      [router](const lifecycle::ApiRef& api) -> std::optional<lifecycle::ApiFacts> {
        for (const auto& a : router->apis()) {
          if (a.name != api.name || a.version != api.version) continue;
          lifecycle::ApiFacts facts;
          for (const auto& p : a.plans) facts.plans.push_back(p.name);
          facts.publishers = a.publishers;
          return facts;
        }
        return std::nullopt;
      },
      [router](const std::string& user) {
        std::vector<lifecycle::ApiRef> out;
        for (const auto& a : router->apis())
          for (const auto& p : a.publishers)
            if (p == user) out.push_back({a.name, a.version});
        return out;
      }};
  return KeyManagement(*store, std::move(env),
                       lifecycle::Caller{outcome.user, outcome.isAdmin, outcome.apis},
                       nowSeconds());
}

HttpResponse toResponse(const lifecycle::Reply& reply) {
  HttpResponse res;
  res.status = reply.status;
  if (!reply.body.is_null()) res.setContent(reply.body.dump(), "application/json");
  return res;
}

OrRefusal<HttpResponse> toResult(OrRefusal<lifecycle::Reply> result) {
  if (auto* refusal = std::get_if<Refusal>(&result)) return std::move(*refusal);
  return toResponse(std::get<lifecycle::Reply>(result));
}

// An endpoint without a body: the operation on the service.
template <OrRefusal<lifecycle::Reply> (*Operation)(KeyManagement&, const RouteRequest&)>
OrRefusal<HttpResponse> route(ServerContext& context, const RouteRequest& req) {
  const auto state = context.state();
  auto service = begin(context, req, state);
  if (auto* refusal = std::get_if<Refusal>(&service)) return std::move(*refusal);
  return toResult(Operation(std::get<KeyManagement>(service), req));
}

// An endpoint with a typed body: parsed after authentication, then the operation.
template <typename Request, OrRefusal<Request> (*Parse)(std::string_view),
          OrRefusal<lifecycle::Reply> (*Operation)(KeyManagement&, const RouteRequest&, Request)>
OrRefusal<HttpResponse> route(ServerContext& context, const RouteRequest& req) {
  const auto state = context.state();
  auto service = begin(context, req, state);
  if (auto* refusal = std::get_if<Refusal>(&service)) return std::move(*refusal);
  auto parsed = Parse(req.body);
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return std::move(*refusal);
  return toResult(
      Operation(std::get<KeyManagement>(service), req, std::move(std::get<Request>(parsed))));
}

using lifecycle::AssociateRequest;
using lifecycle::CreateApplicationRequest;
using lifecycle::CreateKeyRequest;
using lifecycle::LeakReport;
using lifecycle::RegenerateRequest;
using lifecycle::RevokeRequest;
using lifecycle::SubscriptionRequest;
using Service = KeyManagement;
using Req = const RouteRequest&;

// The key management API (SPEC section 8): "{id}" is one path segment.
struct Route {
  std::string_view method;
  std::string_view path;
  RouteHandler handler;
};

const Route kRoutes[] = {
    {"POST", "/apikey/revoke",
     route<RevokeRequest, lifecycle::parseRevokeRequest,
           [](Service& s, Req, RevokeRequest r) { return s.revoke(std::move(r)); }>},
    {"POST", "/apikeys",
     route<CreateKeyRequest, lifecycle::parseCreateKeyRequest,
           [](Service& s, Req, CreateKeyRequest r) { return s.createKey(std::move(r)); }>},
    {"GET", "/apikeys", route<[](Service& s, Req) { return s.listKeys(); }>},
    {"POST", "/apikeys/leaked",
     route<LeakReport, lifecycle::parseLeakReport,
           [](Service& s, Req, LeakReport r) { return s.reportLeaked(std::move(r)); }>},
    {"GET", "/apikeys/published", route<[](Service& s, Req) { return s.listPublished(); }>},
    {"GET", "/apikeys/{id}", route<[](Service& s, Req q) { return s.getKey(q.id); }>},
    {"DELETE", "/apikeys/{id}", route<[](Service& s, Req q) { return s.deleteKey(q.id); }>},
    {"POST", "/apikeys/{id}/regenerate",
     route<RegenerateRequest, lifecycle::parseRegenerateRequest,
           [](Service& s, Req q, RegenerateRequest r) {
             return s.regenerateKey(q.id, std::move(r));
           }>},
    {"POST", "/apikeys/{id}/associate",
     route<AssociateRequest, lifecycle::parseAssociateRequest,
           [](Service& s, Req q, AssociateRequest r) { return s.associateKey(q.id, r); }>},
    {"DELETE", "/apikeys/{id}/associate",
     route<[](Service& s, Req q) { return s.dissociateKey(q.id); }>},
    {"POST", "/applications",
     route<CreateApplicationRequest, lifecycle::parseCreateApplicationRequest,
           [](Service& s, Req, CreateApplicationRequest r) { return s.createApplication(r); }>},
    {"GET", "/applications", route<[](Service& s, Req) { return s.listApplications(); }>},
    {"GET", "/applications/{id}", route<[](Service& s, Req q) { return s.getApplication(q.id); }>},
    {"DELETE", "/applications/{id}",
     route<[](Service& s, Req q) { return s.deleteApplication(q.id); }>},
    {"POST", "/applications/{id}/subscriptions",
     route<SubscriptionRequest, lifecycle::parseSubscribeRequest,
           [](Service& s, Req q, SubscriptionRequest r) { return s.subscribe(q.id, r); }>},
    {"GET", "/applications/{id}/subscriptions",
     route<[](Service& s, Req q) { return s.listSubscriptions(q.id); }>},
    {"DELETE", "/applications/{id}/subscriptions",
     route<SubscriptionRequest, lifecycle::parseUnsubscribeRequest,
           [](Service& s, Req q, SubscriptionRequest r) { return s.unsubscribe(q.id, r); }>},
};

// Segment by segment; "{id}" takes one non-empty segment.
bool matchRoute(std::string_view pattern, std::string_view path, std::string* id) {
  while (!pattern.empty() && !path.empty()) {
    const std::size_t pe = pattern.find('/', 1), se = path.find('/', 1);
    const std::string_view ps = pattern.substr(0, pe), ss = path.substr(0, se);
    if (ps == "/{id}") {
      if (ss.size() < 2) return false;
      *id = std::string(ss.substr(1));
    } else if (ps != ss) {
      return false;
    }
    pattern = pe == std::string_view::npos ? std::string_view() : pattern.substr(pe);
    path = se == std::string_view::npos ? std::string_view() : path.substr(se);
  }
  return pattern.empty() && path.empty();
}

}  // namespace

RouteHandler findLifecycleRoute(std::string_view method, std::string_view path, std::string* id) {
  for (const Route& r : kRoutes)
    if (r.method == method && matchRoute(r.path, path, id)) return r.handler;
  return nullptr;
}

bool isLifecyclePath(std::string_view path) {
  for (std::string_view prefix : {"/apikey/revoke", "/apikeys", "/applications"})
    if (path == prefix || (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
                           path[prefix.size()] == '/'))
      return true;
  return false;
}

}  // namespace mgw::server
