// The /apikey service (SPEC section 5): an authenticated caller's request body becomes a signed
// API key, rendered as the client asked (the bare key, or JSON). A typed request in, a reply or a
// refusal out: no HTTP, no sockets. Trusts the configuration, the issuer and the caller that
// auth::UserStore authenticated; the body is client input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/user_store.h"
#include "common/refusal.h"
#include "config/config.h"
#include "sts/api_key_issuer.h"
#include "throttle/policy.h"

namespace mgw::sts {

// A GET or POST /apikey after authentication.
struct IssueCall {
  std::string_view body;   // the optional JSON body (GET too: `curl -X GET -d '{...}'`)
  bool wantsJson = false;  // Accept prefers application/json (sts/accept.h)
  std::int64_t now = 0;    // seconds since the epoch
};

// The answer's body: the key itself (text/plain), or {"apiKey", "tokenType", "expiresIn", "jti",
// "tier"} (application/json). Holds a key: the caller wipes it once sent.
struct IssueReply {
  std::string body;
  std::string contentType;
};

class StsService {
 public:
  // issuer null: the issuer is disabled or has no signing key. The references outlive the service.
  StsService(const config::Config& config, const ApiKeyIssuer* issuer,
             const throttle::PolicySet& policies)
      : config_(config), issuer_(issuer), policies_(policies) {}

  // kIssuerDisabled when no key can be issued; checked before the caller authenticates.
  std::optional<Refusal> unavailable() const;

  // Parses the body, settles the tier (sts/tier.h), signs, renders; kBadRequestBody,
  // kRequestBroaderThanAllowed, kSigningFailed or the issuer's refusal otherwise.
  OrRefusal<IssueReply> issue(const auth::AuthOutcome& caller, const IssueCall& call) const;

 private:
  const config::Config& config_;
  const ApiKeyIssuer* issuer_;
  const throttle::PolicySet& policies_;
};

}  // namespace mgw::sts
