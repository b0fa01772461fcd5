// The developer portal (server/portal.h): its static files and the session endpoints. Glue only:
// the password check is authenticate()'s (the one /apikey uses), the session token is
// auth::PortalSessions', the revocation the embedded store's (shared by [cluster]).
#include <nlohmann/json.hpp>

#include "auth/portal_session.h"
#include "common/base64url.h"
#include "common/crypto_util.h"
#include "common/log.h"
#include "server/portal.h"
#include "server/portal_assets.h"
#include "server/request_util.h"

namespace mgw::server {
namespace {

using auth::PortalSessions;

// No inline script or style, no eval, nothing from another origin, never framed.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

void setPageHeaders(HttpResponse& res) {
  res.setHeader("Content-Security-Policy", kContentSecurityPolicy);
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
}

// One file as served: its public name (hashed for the CSS and JavaScript, so they can be cached
// for a year: a new build has new names), type, bytes and entity tag.
struct ServedFile {
  std::string name;
  std::string contentType;
  std::string content;
  std::string etag;
};

struct Site {
  ServedFile page;                 // index.html, names rewritten to the hashed ones
  std::vector<ServedFile> assets;  // served under /portal/<hashed name>
};

std::string contentHash(std::string_view content) { return hexEncode(sha256(content)); }

const Site& site() {
  static const Site built = [] {
    Site s;
    std::string html;
    std::vector<std::pair<std::string, std::string>> renames;
    for (std::size_t i = 0; i < kPortalAssetCount; ++i) {
      const PortalAsset& a = kPortalAssets[i];
      if (a.name == "index.html") {
        html = std::string(a.content);
        continue;
      }
      const std::string name(a.name);
      const std::size_t dot = name.rfind('.');
      ServedFile f;
      f.name = name.substr(0, dot) + "." + contentHash(a.content).substr(0, 12) + name.substr(dot);
      f.contentType = std::string(a.contentType);
      f.content = std::string(a.content);
      f.etag = "\"" + contentHash(a.content).substr(0, 32) + "\"";
      renames.emplace_back(name, f.name);
      s.assets.push_back(std::move(f));
    }
    // index.html names its files as "./portal.css": each becomes "/portal/portal.<hash>.css".
    for (const auto& [from, to] : renames) {
      const std::string needle = "./" + from;
      for (std::size_t at = html.find(needle); at != std::string::npos;
           at = html.find(needle, at + to.size()))
        html.replace(at, needle.size(), "/portal/" + to);
    }
    s.page.name = "index.html";
    s.page.contentType = "text/html; charset=utf-8";
    s.page.etag = "\"" + contentHash(html).substr(0, 32) + "\"";
    s.page.content = std::move(html);
    return s;
  }();
  return built;
}

HttpResponse serveFile(const message::HttpRequest& request, const ServedFile& file,
                       bool immutable) {
  HttpResponse res;
  setPageHeaders(res);
  res.setHeader("ETag", file.etag);
  res.setHeader("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (request.hasHeader("If-None-Match") &&
      request.header("If-None-Match").find(file.etag) != std::string::npos) {
    res.status = 304;
    return res;
  }
  res.setContent(file.content, file.contentType);
  return res;
}

HttpResponse pageFault(Failure failure, std::string_view description) {
  // No Basic challenge: a browser would open its own password dialog over the page.
  HttpResponse res = message::faultReply(failure, description, message::Challenge::kBasic);
  res.headers.erase("WWW-Authenticate");
  res.setHeader("Cache-Control", "no-store");
  return res;
}

std::string sessionCookie(std::string_view value, std::int64_t maxAge) {
  return std::string(PortalSessions::kCookieName) + "=" + std::string(value) +
         "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(maxAge);
}

std::optional<std::string> sessionToken(const message::HttpRequest& request) {
  if (!request.hasHeader("Cookie")) return std::nullopt;
  // Every Cookie line (HTTP/2 sends one per cookie) in one list.
  std::string joined = request.joinedHeader("Cookie");
  for (char& c : joined)
    if (c == ',') c = ';';  // joinedHeader joins lines with ", "; cookie values hold no ','
  auto found = auth::findCookie(joined, PortalSessions::kCookieName);
  if (!found) return std::nullopt;
  return std::string(*found);
}

// What the page shows about the signed-in user: the APIs she may put in a key, the tiers.
nlohmann::json sessionInfo(const RuntimeState& state, const auth::AuthOutcome& user,
                           const auth::PortalSession& session, const PortalSessions& sessions) {
  nlohmann::json apis = nlohmann::json::array();
  const auto mayHave = apisOpenTo(state, user);
  for (const auto& api : state.router->apis()) {
    if (!isApiOpen(mayHave, api)) continue;
    nlohmann::json a{{"name", api.name},
                     {"version", api.version},
                     {"context", api.context},
                     {"subscriptionRequired", api.subscriptionRequired},
                     {"throttlingTier", api.throttlingTier}};
    for (const auto& source : api.keySources) {
      const char* where = source.in == gateway::KeyLocation::kHeader ? "keyHeader" : "keyQuery";
      if (!a.contains(where)) a[where] = source.name;
    }
    apis.push_back(std::move(a));
  }
  nlohmann::json applicationTiers = nlohmann::json::array(),
                 subscriptionTiers = nlohmann::json::array();
  for (const throttle::Policy* p : state.throttler->policies().all()) {
    if (p->level == throttle::PolicyLevel::kApplication) applicationTiers.push_back(p->name);
    if (p->level == throttle::PolicyLevel::kSubscription) subscriptionTiers.push_back(p->name);
  }
  std::string tier = "Unlimited";
  for (const auto& u : state.config.users)
    if (u.name == user.user) tier = u.tier;
  return {{"user", user.user},
          {"admin", user.isAdmin},
          {"csrfToken", sessions.csrfToken(session)},
          {"expiresAt", session.expiresAt},
          {"tier", tier},
          {"signedKeys", state.issuer != nullptr},
          {"maxGracePeriodSeconds", state.config.opaqueKeys.maxGracePeriodSeconds},
          {"apis", std::move(apis)},
          {"applicationTiers", std::move(applicationTiers)},
          {"subscriptionTiers", std::move(subscriptionTiers)}};
}

// The session of a request: verified, not revoked, and its user's password unchanged.
OrRefusal<std::pair<auth::PortalSession, auth::AuthOutcome>> currentSession(
    ServerContext& context, const RuntimeState& state, const message::HttpRequest& request) {
  const PortalSessions* sessions = context.portalSessions();
  if (!sessions) return refuse(Failure::kInternalError, "the embedded store is not open");
  const auto token = sessionToken(request);
  if (!token) return refuse(Failure::kAuthMissing, "not signed in: sign in on /portal");
  auto session = sessions->verify(*token, nowSeconds());
  if (!session || context.revocations().isRevoked(PortalSessions::revocationId(*session), "", 0))
    return refuse(Failure::kAuthInvalid, "the portal session has ended: sign in again");
  std::string storedHash;
  auto user = state.users->describeUser(session->user, &storedHash);
  const bool same = user && sessions->matchesPassword(*session, storedHash);
  secureWipe(storedHash);
  if (!same)
    return refuse(Failure::kAuthInvalid,
                  "the portal session has ended (the user or the password changed): sign in "
                  "again");
  return std::make_pair(std::move(*session), std::move(*user));
}

bool isChange(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

std::optional<Refusal> checkCsrf(const PortalSessions& sessions, const auth::PortalSession& session,
                                 const message::HttpRequest& request) {
  const std::string header(PortalSessions::kCsrfHeader);
  if (!isChange(request.method)) return std::nullopt;
  if (request.hasHeader(header) && sessions.csrfMatches(session, request.header(header)))
    return std::nullopt;
  return refuse(Failure::kForeignOrigin,
                "a change made with a portal session must carry the session's CSRF token in the "
                "X-CSRF-Token header (GET /portal/session gives it)");
}

// POST /portal/session: the JSON credentials become the Basic header authenticate() checks, so
// the throttle, lockout, cache and logging are exactly /apikey's.
OrRefusal<HttpResponse> signIn(ServerContext& context, const RouteRequest& req) {
  const auto state = context.state();
  const PortalSessions* sessions = context.portalSessions();
  if (!sessions) return refuse(Failure::kInternalError, "the embedded store is not open");
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return refuse(Failure::kBadRequestBody,
                  "send a JSON object {\"username\": \"...\", \"password\": \"...\"}");
  const auto field = [&](const char* name) -> std::optional<std::string> {
    auto it = body.find(name);
    if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
      return std::nullopt;
    return it->get<std::string>();
  };
  auto user = field("username");
  if (!user) return refuse(Failure::kBadRequestBody, "username: required (a non-empty string)");
  auto password = field("password");
  if (!password) return refuse(Failure::kBadRequestBody, "password: required (a non-empty string)");
  RouteRequest check;
  check.method = req.method;
  check.path = req.path;
  check.clientAddress = req.clientAddress;
  check.tls = req.tls;
  if (req.hasHeader("X-Forwarded-For"))
    check.headers.emplace("X-Forwarded-For", req.joinedHeader("X-Forwarded-For"));
  std::string credentials = *user + ":" + *password;
  std::string header = "Basic " + base64Encode(credentials);
  secureWipe(credentials);
  secureWipe(*password);
  body = nullptr;
  check.headers.emplace("Authorization", header);
  secureWipe(header);
  auto caller = authenticate(context, *state, check);
  secureWipe(check.headers.find("Authorization")->second);
  if (auto* refusal = std::get_if<Refusal>(&caller)) {
    if (refusal->failure == Failure::kAuthInvalid || refusal->failure == Failure::kAuthMalformed)
      return refuse(Failure::kAuthInvalid, "the user name or the password is wrong");
    return std::move(*refusal);
  }
  auto& outcome = std::get<auth::AuthOutcome>(caller);
  std::string storedHash, token;
  (void)state->users->describeUser(outcome.user, &storedHash);
  const std::int64_t lifetime = state->config.portal.sessionLifetimeSeconds;
  const auth::PortalSession session =
      sessions->issue(outcome.user, storedHash, nowSeconds(), lifetime, &token);
  secureWipe(storedHash);
  log::info("portal sign-in", {{"user", outcome.user}, {"client", req.clientAddress}});
  HttpResponse res;
  res.status = 201;
  res.setHeader("Set-Cookie", sessionCookie(token, lifetime));
  secureWipe(token);
  res.setContent(sessionInfo(*state, outcome, session, *sessions).dump(), "application/json");
  return res;
}

OrRefusal<HttpResponse> whoAmI(ServerContext& context, const RouteRequest& req) {
  const auto state = context.state();
  auto current = currentSession(context, *state, req);
  if (auto* refusal = std::get_if<Refusal>(&current)) return std::move(*refusal);
  auto& [session, user] = std::get<std::pair<auth::PortalSession, auth::AuthOutcome>>(current);
  HttpResponse res;
  res.setContent(sessionInfo(*state, user, session, *context.portalSessions()).dump(),
                 "application/json");
  return res;
}

// DELETE /portal/session: the session is revoked (on every node with [cluster]), the cookie
// cleared. A request whose session already ended only clears the cookie.
OrRefusal<HttpResponse> signOut(ServerContext& context, const RouteRequest& req) {
  const auto state = context.state();
  HttpResponse res;
  res.status = 204;
  res.setHeader("Set-Cookie", sessionCookie("", 0));
  auto current = currentSession(context, *state, req);
  if (std::holds_alternative<Refusal>(current)) return res;
  auto& [session, user] = std::get<std::pair<auth::PortalSession, auth::AuthOutcome>>(current);
  if (auto refusal = checkCsrf(*context.portalSessions(), session, req)) return std::move(*refusal);
  LifecycleService* store = context.lifecycle();
  if (!store) return refuse(Failure::kInternalError, "the embedded store is not open");
  const Failure f = store->revokeJti(PortalSessions::revocationId(session), user.user,
                                     session.expiresAt, user.user, nowSeconds());
  if (f != Failure::kNone)
    return refuse(f, "the session could not be ended; it ends by itself at its expiry");
  log::info("portal sign-out", {{"user", user.user}});
  return res;
}

}  // namespace

bool portalEnabled(const config::Config& config) {
  const std::string& host = config.listener.host;
  const bool loopback =
      host == "127.0.0.1" || host == "::1" || host == "localhost" || host.rfind("127.", 0) == 0;
  return config.portal.enabledFor(loopback);
}

bool isPortalPath(std::string_view path) {
  return path == "/portal" || path.rfind("/portal/", 0) == 0;
}

std::optional<message::Decision> decidePortal(ServerContext& context,
                                              message::HttpRequest& request) {
  if (!request.tls || !isPortalPath(request.path) || !portalEnabled(context.state()->config))
    return std::nullopt;
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/portal/session") {
    RouteHandler handler = method == "POST"     ? signIn
                           : method == "GET"    ? whoAmI
                           : method == "DELETE" ? signOut
                                                : nullptr;
    if (handler) {
      message::Decision d = runLocal(context, handler, "");
      return d;
    }
    HttpResponse res = pageFault(Failure::kMethodNotAllowed, "use POST, GET or DELETE");
    res.setHeader("Allow", "GET, POST, DELETE");
    return message::Decision::reply(std::move(res));
  }
  if (method != "GET" && method != "HEAD") {
    HttpResponse res = pageFault(Failure::kMethodNotAllowed, "the portal's files take GET");
    res.setHeader("Allow", "GET, HEAD");
    return message::Decision::reply(std::move(res));
  }
  const Site& s = site();
  if (path == "/portal" || path == "/portal/")
    return message::Decision::reply(serveFile(request, s.page, false));
  for (const ServedFile& f : s.assets)
    if (path.size() == 8 + f.name.size() && path.compare(8, std::string::npos, f.name) == 0)
      return message::Decision::reply(serveFile(request, f, true));
  HttpResponse res = pageFault(Failure::kNotFound, "no such portal file");
  setPageHeaders(res);
  return message::Decision::reply(std::move(res));
}

bool carriesPortalSession(const ServerContext& context, const message::HttpRequest& request) {
  return !request.hasHeader("Authorization") && context.portalSessions() &&
         sessionToken(request).has_value() && portalEnabled(context.state()->config);
}

OrRefusal<auth::AuthOutcome> authenticateSession(ServerContext& context, const RuntimeState& state,
                                                 const RouteRequest& req) {
  auto current = currentSession(context, state, req);
  if (auto* refusal = std::get_if<Refusal>(&current)) return std::move(*refusal);
  auto& [session, user] = std::get<std::pair<auth::PortalSession, auth::AuthOutcome>>(current);
  if (auto refusal = checkCsrf(*context.portalSessions(), session, req)) return std::move(*refusal);
  return std::move(user);
}

}  // namespace mgw::server
