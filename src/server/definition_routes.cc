// GET /apikey/apis/definition?name=N&version=V: an API's definition as its clients may read it
// (apis/public_definition.h), on the TLS listener, behind the same authentication as /apikey (basic
// credentials or a portal session). Only the APIs the caller may put in a key, as the portal lists
// them. Glue only: the document was cleaned once, when it was loaded.
#include <cctype>

#include "server/routes.h"
#include "sts/api_key_issuer.h"

namespace mgw::server {
namespace {

// A file name for Content-Disposition: the API's name and version in safe characters.
std::string fileName(const gateway::ApiDefinition& api) {
  std::string out = api.name + "-" + api.version;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  return out + ".json";
}

std::optional<std::string> queryValue(const RouteRequest& req, std::string_view name) {
  for (const auto& [k, v] : req.query)
    if (k == name) return v;
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<token::AllowedApi>> apisOpenTo(const RuntimeState& state,
                                                         const auth::AuthOutcome& user) {
  if (!state.issuer) return std::nullopt;
  return state.issuer->apisFor(user.apis);
}

bool isApiOpen(const std::optional<std::vector<token::AllowedApi>>& open,
               const gateway::ApiDefinition& api) {
  return !open || sts::apiCovered(*open, api.name, api.version);
}

OrRefusal<HttpResponse> apiDefinition(ServerContext& context, const RouteRequest& req) {
  const auto state = context.state();
  auto caller = authenticate(context, *state, req);
  if (auto* refusal = std::get_if<Refusal>(&caller)) return std::move(*refusal);
  const auto name = queryValue(req, "name"), version = queryValue(req, "version");
  if (!name || name->empty() || !version || version->empty())
    return refuse(Failure::kBadRequestBody,
                  "name and version: required query parameters (GET "
                  "/apikey/apis/definition?name=PizzaShackAPI&version=1.0.0)");
  const std::string label = *name + ":" + *version;
  for (const auto& api : state->router->apis()) {
    if (api.name != *name || api.version != *version) continue;
    if (!isApiOpen(apisOpenTo(*state, std::get<auth::AuthOutcome>(caller)), api))
      return refuse(Failure::kForbidden, "API " + label + " is not one you may use");
    if (!api.publicDefinition)
      return refuse(
          Failure::kNotFound,
          "API " + label + "'s definition could not be written as JSON (" + api.source + ")");
    HttpResponse res;
    res.setContent(*api.publicDefinition, "application/json");
    res.setHeader("Content-Disposition", "inline; filename=\"" + fileName(api) + "\"");
    // Opened in a tab, the document is inert: no script, no frame, no sniffing.
    res.setHeader("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox");
    res.setHeader("X-Content-Type-Options", "nosniff");
    return res;
  }
  return refuse(Failure::kNotFound, "no API " + label + " on this gateway");
}

}  // namespace mgw::server
