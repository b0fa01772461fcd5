// The micro-gw endpoints and the gateway as plain functions of a plain request: the Dispatcher
// tells the transport, for each request head, whether to answer, to read the body and run a
// handler (on the worker pool when it blocks), or to forward to a backend.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/user_store.h"
#include "common/refusal.h"
#include "message/fault_reply.h"
#include "message/handler.h"
#include "message/http_message.h"
#include "server/server_context.h"
#include "token/jws.h"

namespace mgw::server {

using message::Challenge;
using message::HttpResponse;
using message::writeFault;

// A request to a micro-gw endpoint: the plain request plus the {id} segment of its path.
struct RouteRequest : message::HttpRequest {
  std::string id;
};

class Dispatcher : public message::Handler {
 public:
  explicit Dispatcher(ServerContext& context) : context_(context) {}
  message::Decision decide(message::HttpRequest& request) override;

 private:
  ServerContext& context_;
};

// The gateway's decision for a request that is not a micro-gw endpoint (SPEC section 7).
message::Decision decideGateway(ServerContext& context, message::HttpRequest& request);

// The one place a refusal of the STS or the key management API becomes an answer: the fault reply
// of its Failure (the Basic challenge on a 401: these endpoints are behind basic auth), and
// Retry-After when the refusal carries one.
HttpResponse answer(const Refusal& refusal);

// Basic authentication for /apikey and the key management API: the caller, or the 401 (or 429)
// refusal (sts/caller.h). The client address is the one trustedProxies resolves (X-Forwarded-For
// from a trusted proxy); failures are counted in the context's per-process LoginThrottle.
OrRefusal<auth::AuthOutcome> authenticate(ServerContext& context, const RuntimeState& state,
                                          const RouteRequest& req);

// An endpoint: the answer, or a refusal for answer(). Each runs on the worker pool.
using RouteHandler = OrRefusal<HttpResponse> (*)(ServerContext&, const RouteRequest&);

// The decision to read the body and run handler on the worker pool (it may block: argon2id, store
// writes); its answer gets Cache-Control: no-store.
message::Decision runLocal(ServerContext& context, RouteHandler handler, std::string id);

// GET or POST /apikey (sts_routes.cc).
OrRefusal<HttpResponse> issueApiKey(ServerContext& context, const RouteRequest& req);
// GET /apikey/apis/definition?name=N&version=V (definition_routes.cc): the API's definition as
// its clients may read it (apis/public_definition.h).
OrRefusal<HttpResponse> apiDefinition(ServerContext& context, const RouteRequest& req);
inline constexpr std::string_view kApiDefinitionPath = "/apikey/apis/definition";
// The APIs a user may put in a key (the issuer's list narrowed by the user's), or nullopt when no
// issuer narrows them; isApiOpen says whether api is one of them. The portal lists these APIs and
// GET /apikey/apis/definition serves only their definitions.
std::optional<std::vector<token::AllowedApi>> apisOpenTo(const RuntimeState& state,
                                                         const auth::AuthOutcome& user);
bool isApiOpen(const std::optional<std::vector<token::AllowedApi>>& open,
               const gateway::ApiDefinition& api);
// The key management route for method and path, or null; *id gets the {id} segment.
RouteHandler findLifecycleRoute(std::string_view method, std::string_view path, std::string* id);
// True when the path belongs to the key management API (any method).
bool isLifecyclePath(std::string_view path);

}  // namespace mgw::server
