// The developer portal (issue 28): the page /portal (embedded static files, server/portal_assets.h)
// and what a browser session adds to the endpoints the README documents, nothing more:
//   POST   /portal/session  {"username", "password"}: signs in (the same password check, login
//                           throttle and lockout as /apikey); sets the session cookie
//   GET    /portal/session  who is signed in, the CSRF token, the APIs the user may put in a key
//   DELETE /portal/session  signs out (revokes the session on every node)
// With the cookie, /apikey and the key management API take the session instead of basic auth
// (authenticateSession); every change must then carry the session's CSRF token in X-CSRF-Token.
// HTTPS only, when [portal] enabled.
#pragma once

#include <optional>
#include <string_view>

#include "server/routes.h"

namespace mgw::server {

// [portal] enabled for this configuration (unset: on for a loopback listener).
bool portalEnabled(const config::Config& config);
// /portal, /portal/ and everything under it.
bool isPortalPath(std::string_view path);

// The portal's answer on the HTTPS listener (static files, /portal/session), or nullopt when the
// path is not the portal's or the portal is off.
std::optional<message::Decision> decidePortal(ServerContext& context,
                                              message::HttpRequest& request);

// The request names a portal session (its cookie) and no Authorization: authenticate() takes the
// session then.
bool carriesPortalSession(const ServerContext& context, const message::HttpRequest& request);
// The signed-in user of the session cookie, or 401 (the session ended, was revoked, or the
// user's password changed since), or 403 for a change without the session's CSRF token.
OrRefusal<auth::AuthOutcome> authenticateSession(ServerContext& context, const RuntimeState& state,
                                                 const RouteRequest& req);

}  // namespace mgw::server
