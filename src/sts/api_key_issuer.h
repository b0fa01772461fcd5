// The API key Security Token Service: an authenticated user and an optional request body become a
// signed, self-contained API key (SPEC sections 5 and 6). Trusts only what UserStore authenticated.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "token/jws.h"
#include "token/signing_key_set.h"

namespace mgw::sts {

// Bounds on a permittedIP or permittedReferer list (a key carries it, and a key is at most
// token::kMaxTokenBytes): the whole comma-separated string, and its number of entries.
constexpr std::size_t kMaxRestrictionListBytes = 2048;
constexpr std::size_t kMaxRestrictionEntries = 50;

// "" when `list` is within the bounds, else a description naming `field` and the bound.
std::string restrictionListTooLarge(std::string_view field, std::string_view list);

// The optional JSON body of GET/POST /apikey.
struct IssueRequest {
  std::optional<std::int64_t> validityTime;
  std::optional<std::vector<token::AllowedApi>> allowedApis;
  std::string keyType = "PRODUCTION";
  std::string permittedIP;
  std::string permittedReferer;
  // The subscription tier asked for (SPEC section 13); the caller checks it against the user's
  // and replaces it with the tier to write into the "tier" claim ("" = no claim).
  std::string tier;
};

struct ParseResult {
  Failure failure = Failure::kNone;  // kBadRequestBody
  std::string description;           // safe to show the client
  IssueRequest request;
};

// An empty body is the default request. Unknown fields are refused, so typos are not ignored.
ParseResult parseIssueRequest(std::string_view body);

struct IssuedKey {
  Failure failure = Failure::kNone;
  std::string description;
  std::string apiKey;  // the JWS, or framed "<prefix>_<JWS>_<checksum>" (tokenConfig keyPrefix)
  std::optional<std::int64_t> expiresIn;
  std::string jti;
};

class ApiKeyIssuer {
 public:
  // One key, kid = [apikey.issuer.tokenConfig] certificateAlias (may be null: rules only).
  ApiKeyIssuer(const config::Config& config, std::shared_ptr<const token::SigningKey> signingKey);
  // A rotated key set (issue 25): each key is signed by the key active at its iat, under its kid.
  // (Arguments in this order so ApiKeyIssuer(config, nullptr) stays the one-key constructor.)
  ApiKeyIssuer(std::shared_ptr<const token::SigningKeySet> keys, const config::Config& config);

  // user and userApis come from the authenticated basic-auth user ([b7a.users.<name>] apis).
  IssuedKey issue(const std::string& user, const std::optional<std::vector<std::string>>& userApis,
                  const IssueRequest& request, std::int64_t nowSeconds) const;

  // What this user may put into a key: [[apikey.issuer.api]] narrowed by the user's own list.
  std::vector<token::AllowedApi> apisFor(
      const std::optional<std::vector<std::string>>& userApis) const;

 private:
  config::IssuerConfig issuer_;
  std::string framePrefix_;  // [apikey] keyPrefix when keys are framed (tokenConfig keyPrefix)
  std::vector<config::IssuerApi> issuerApis_;
  std::shared_ptr<const token::SigningKeySet> keys_;
};

// true when (name, version) is covered by an entry of `allowed` ("*" covers any version).
bool apiCovered(const std::vector<token::AllowedApi>& allowed, std::string_view name,
                std::string_view version);

}  // namespace mgw::sts
