// /apikey (SPEC section 5) and /.well-known/jwks.json (RFC 7517), served on the TLS listener only.
#include <nlohmann/json.hpp>

#include "common/crypto_util.h"
#include "common/log.h"
#include "server/fault_reply.h"
#include "server/request_util.h"
#include "server/routes.h"

namespace mgw::server {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxStsBodyBytes = 64 * 1024;  // a key request is a few hundred bytes

bool wantsJson(const httplib::Request& req) {
  return req.get_header_value("Accept").find("application/json") != std::string::npos;
}

void issueApiKey(ServerContext& context, const httplib::Request& req, httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  const auto state = context.state();
  // First, so that no early answer leaves body bytes in the connection.
  std::string getBody;
  if (req.method == "GET" &&
      !readUnreadTlsBody(req, res, kMaxStsBodyBytes, state->config.listener.readTimeoutSeconds,
                         &getBody))
    return;
  if (!checkRequestLimits(req, res, state->config.listener.maxHeaderCount,
                          state->config.listener.maxRequestBytes))
    return;
  if (!state->config.tokenIssuer.enabled || !state->issuer) {
    writeFault(res, Failure::kIssuerDisabled,
               "the API key issuer is disabled ([apikey.issuer.tokenConfig] enabled = false)");
    return;
  }
  auto caller = authenticate(*state, req, res);
  if (!caller) return;

  if (req.method == "POST" && req.body.size() > kMaxStsBodyBytes) {
    writeFault(res, Failure::kPayloadTooLarge, "the request body exceeds 64 KiB");
    return;
  }
  auto parsed = sts::parseIssueRequest(req.method == "GET" ? getBody : req.body);
  if (parsed.failure != Failure::kNone) {
    writeFault(res, parsed.failure, parsed.description);
    return;
  }
  auto issued = state->issuer->issue(caller->user, caller->apis, parsed.request, nowSeconds());
  if (issued.failure != Failure::kNone) {
    if (issued.failure == Failure::kSigningFailed)
      log::error("signing an API key failed", {{"user", caller->user}});
    writeFault(res, issued.failure, issued.description);
    return;
  }
  log::info("API key issued",
            {{"user", caller->user},
             {"jti", issued.jti},
             {"keytype", parsed.request.keyType},
             {"expiresIn", issued.expiresIn ? json(*issued.expiresIn) : json(nullptr)}});
  if (wantsJson(req)) {
    json body = {{"apiKey", issued.apiKey},
                 {"tokenType", "apikey"},
                 {"expiresIn", issued.expiresIn ? json(*issued.expiresIn) : json(nullptr)},
                 {"jti", issued.jti}};
    res.set_content(body.dump(), "application/json");
  } else {
    res.set_content(issued.apiKey, "text/plain");
  }
  secureWipe(issued.apiKey);
}

}  // namespace

std::optional<auth::AuthOutcome> authenticate(const RuntimeState& state,
                                              const httplib::Request& req, httplib::Response& res) {
  const std::string header = req.get_header_value("Authorization");
  auth::AuthOutcome outcome = state.users->authenticate(header, req.remote_addr, nowMillis());
  if (outcome.failure == Failure::kNone) return outcome;

  log::warn("authentication failed", {{"client", req.remote_addr},
                                      {"path", req.path},
                                      {"reason", failureName(outcome.failure)},
                                      {"detail", outcome.reason}});
  switch (outcome.failure) {
    case Failure::kAuthMissing:
      writeFault(res, outcome.failure, "send Authorization: Basic base64(user:password)",
                 Challenge::kBasic);
      break;
    case Failure::kAuthMalformed:
      writeFault(res, outcome.failure,
                 "the Authorization header is not Basic base64(user:password)", Challenge::kBasic);
      break;
    case Failure::kTooManyAttempts:
      writeFault(res, outcome.failure,
                 "too many failed attempts; retry after " +
                     std::to_string(outcome.retryAfterSeconds) + " seconds");
      res.set_header("Retry-After", std::to_string(outcome.retryAfterSeconds));
      break;
    default:
      writeFault(res, Failure::kAuthInvalid, "invalid user name or password", Challenge::kBasic);
  }
  return std::nullopt;
}

void registerStsRoutes(httplib::Server& server, ServerContext& context) {
  auto issue = [&context](const httplib::Request& req, httplib::Response& res) {
    issueApiKey(context, req, res);
  };
  server.Get("/apikey", issue);
  server.Post("/apikey", issue);

  server.Get("/.well-known/jwks.json", [&context](const httplib::Request&, httplib::Response& res) {
    res.set_content(context.state()->publishedKeys->toJwks().dump(), "application/json");
  });
}

}  // namespace mgw::server
