// The basic scheme on API resources (WSO2 MGW 3.x: OpenAPI `type: http, scheme: basic`, Swagger 2
// `type: basic`, x-wso2-application-security `basic_auth`; RFC 7617): the same [b7a.users],
// hashes, login throttle and credential cache as /apikey. argon2id must not run on an I/O thread,
// so verify answers kDefer (HTTPS) and verifyBlocking checks the password on the worker pool.
// Trusts the configuration; the header and the client address are client input.
#pragma once

#include <vector>

#include "auth/login_throttle.h"
#include "auth/user_store.h"
#include "config/config.h"
#include "gateway/authenticator.h"

namespace mgw::gateway {

// The Authorization field carries the Basic scheme (RFC 7617 section 2; the scheme name is
// case-insensitive). Only the scheme is looked at: the credentials are parsed by verification.
bool carriesBasicAuthorization(const message::HttpRequest& request);

class BasicAuthenticator final : public Authenticator {
 public:
  // users: the configured [b7a.users] (tiers, scopes); throttle: the per-process login throttle
  // shared with /apikey.
  BasicAuthenticator(auth::UserStore& store, const std::vector<config::UserConfig>& users,
                     auth::LoginThrottle& throttle)
      : store_(store), users_(users), throttle_(throttle) {}
  Scheme scheme() const override { return Scheme::kBasic; }
  // The Authorization field when the resource takes basic and it carries the Basic scheme.
  std::optional<Credential> extract(const message::HttpRequest& request, const ApiDefinition& api,
                                    const Resource& resource) const override;
  // Plain HTTP: refused (401, 900902) without looking at the password (SPEC section 1). HTTPS:
  // kDefer.
  [[nodiscard]] AuthVerdict verify(const Credential& credential,
                                   const AuthInput& input) const override;
  // argon2id (or a legacy digest, or a credential cache hit), under the login throttle (429,
  // 900429 with Retry-After). Then a user with an `apis` list may call only those APIs (403,
  // 900908), and a resource whose requirement names OAuth2 scopes needs one of them in the
  // user's scopes (403, 900910; WSO2 MGW 3.x applies them to basic auth). Accepted: keyId
  // "basic:<user>", subject the user, keytype PRODUCTION, tier and subscriptionTier the user's
  // tier (default Unlimited). Counts login failures and logs each refusal (never the password).
  [[nodiscard]] AuthVerdict verifyBlocking(const Credential& credential,
                                           const AuthInput& input) const override;

 private:
  auth::UserStore& store_;
  const std::vector<config::UserConfig>& users_;
  auth::LoginThrottle& throttle_;
};

}  // namespace mgw::gateway
