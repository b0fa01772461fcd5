// The micro-gw endpoints and the gateway as plain functions of a plain request: the Dispatcher
// tells the transport, for each request head, whether to answer, to read the body and run a
// handler (on the worker pool when it blocks), or to forward to a backend.
#pragma once

#include <optional>
#include <string>

#include "auth/user_store.h"
#include "message/fault_reply.h"
#include "message/handler.h"
#include "message/http_message.h"
#include "server/server_context.h"

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

// Basic authentication for /apikey and the key management API: on failure writes the 401 (with
// WWW-Authenticate) or 429 (with Retry-After) reply and returns nullopt.
// The client address is the one trustedProxies resolves (X-Forwarded-For from a trusted proxy);
// failures are counted in the context's per-process LoginThrottle.
std::optional<auth::AuthOutcome> authenticate(ServerContext& context, const RuntimeState& state,
                                              const RouteRequest& req, HttpResponse& res);

// The endpoints (sts_routes.cc, lifecycle_routes.cc). Each runs on the worker pool.
void issueApiKey(ServerContext& context, const RouteRequest& req, HttpResponse& res);
// The subscription tier a key of `user` gets (SPEC section 13), signed (the "tier" claim) or opaque
// (POST /apikeys "tier"): the user's [b7a.users.<name>] tier (default Unlimited), or the tier asked
// for when it is a subscription policy with a rate no higher than the user's. "" with *error set
// (the client's description) otherwise.
// "Bronze, Gold, ..." : the names of the policies of one level, for a client's description.
std::string policyNames(const throttle::PolicySet& policies, throttle::PolicyLevel level);
std::string subscriptionTierFor(const RuntimeState& state, const std::string& user,
                                const std::string& asked, std::string* error);
using RouteHandler = void (*)(ServerContext&, const RouteRequest&, HttpResponse&);
// The key management route for method and path, or null; *id gets the {id} segment.
RouteHandler findLifecycleRoute(std::string_view method, std::string_view path, std::string* id);
// True when the path belongs to the key management API (any method).
bool isLifecyclePath(std::string_view path);

}  // namespace mgw::server
