// Basic authentication on API resources (WSO2 MGW 3.x: OpenAPI `type: http, scheme: basic`,
// Swagger 2 `type: basic`, x-wso2-application-security `basic_auth`): the same [b7a.users], hashes,
// login throttle and credential cache as /apikey. Trusts the configuration, nothing in the request.
#pragma once

#include <string>

#include "common/status.h"
#include "gateway/api.h"
#include "gateway/key_validator.h"
#include "message/http_message.h"
#include "server/server_context.h"

namespace mgw::server {

// The Authorization header carries the Basic scheme (RFC 7617 section 2; the scheme name is
// case-insensitive). Only the scheme is looked at: the credentials are parsed by the verification.
bool carriesBasicAuthorization(const message::HttpRequest& request);

struct ResourceBasicVerdict {
  // kNone, kAuthMissing, kAuthMalformed, kAuthInvalid, kTooManyAttempts (429 with
  // retryAfterSeconds), kApiNotAllowed (the user's `apis` list), kMissingScope.
  Failure failure = Failure::kNone;
  std::string description;  // for the client; never the password
  std::string reason;       // for the log; never the password
  int retryAfterSeconds = 0;
  // On success, the user as the gateway's caller (throttling subject, backend JWT, access log):
  // keyId "basic:<user>", subject the user, keytype PRODUCTION, tier and subscriptionTier the
  // user's [b7a.users.<name>] tier, no application.
  gateway::ValidationResult caller;
};

// Runs argon2id (or a legacy digest, or a cache hit): call it on the worker pool only, never on an
// I/O thread. The login throttle (failures per name and address, 900429) and the credential cache
// are the context's, shared with /apikey. A resource whose requirement names OAuth2 scopes needs
// one of them in the user's [b7a.users.<name>] scopes (WSO2 MGW 3.x applies them to basic auth);
// a user with an `apis` list may call only those APIs. Counts login failures and logs each
// refusal (never the password).
ResourceBasicVerdict verifyResourceBasic(ServerContext& context, const RuntimeState& state,
                                         const message::HttpRequest& request,
                                         const gateway::ApiDefinition& api,
                                         const gateway::Resource& resource);

}  // namespace mgw::server
