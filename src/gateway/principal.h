// Who is calling, once an Authenticator has verified the request's credential: the one caller type
// every scheme (API key, bearer JWT, basic) returns, and what the backend JWT, throttling and the
// access log read. Holds no credential: a key is named by its jti or fingerprint, a user by name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mgw::gateway {

// The schemes a secured resource may take (SPEC section 16), one Authenticator each.
enum class Scheme { kApiKey, kBearer, kBasic, kMutualTls };

struct Principal {
  Scheme scheme = Scheme::kApiKey;  // how the caller authenticated (the backend JWT's authMethod)
  std::string keyId;     // the jti, "opaque:<id>" for an opaque key, "basic:<user>" for basic auth,
                         // or fingerprint(key) when there is none or it is not yet trusted
  std::string subject;   // sub, once verified (the user for basic auth)
  std::string issuer;    // iss, once verified; this gateway's issuer for basic and opaque keys
  bool sandbox = false;  // keytype SANDBOX: forward to the sandbox endpoints
  // Once verified, for the backend JWT (SPEC section 15); "" when the key does not say.
  std::string keytype;      // PRODUCTION or SANDBOX
  std::string application;  // the key's application (name for signed keys, id for opaque ones)
  std::string tier;
  // Throttling (SPEC section 13), once valid: the subscription tier for this API (API Manager's
  // subscribedAPIs[].subscriptionTier, else the key's "tier" claim, else the opaque key's tier),
  // and the application (API Manager's application object, or the micro-gw application).
  std::string subscriptionTier;
  std::string applicationId;  // the counter of the application level
  // Who holds the subscription (issue 22 item 5): the subscription-level quota is counted per
  // (subscriber, API), as WSO2 counts it per subscription, so three keys of one user share one
  // quota. "app<US><id>" for a key of an application, else "user<US><subject>" (the subject
  // qualified by its issuer unless it is the local one: a partner issuer's admin is not ours);
  // "" = count per key (no subject).
  std::string subscriber;
  std::string applicationTier;
  // The client certificate the HTTPS listener verified, on an API with x-wso2-mutual-ssl (whatever
  // scheme made the caller): its subject (RFC 2253) and SHA-256 (hex). "" = none.
  std::string clientCertSubject;
  std::string clientCertSha256;
  // The API's plan this request was selected into (issue 26 item 1); "" = the implicit one.
  std::string plan;
  // The key is its application's shared key (issue 26): it passes a plan's subscription check
  // only where the subscription is served by the shared key.
  bool sharedKey = false;
  // Told to the client in response headers (issue 25): the key's value was replaced at replacedAt
  // (Deprecation, RFC 9745) and stops working at graceUntil (Sunset, RFC 8594); the key expires
  // at expiresSoon, within [apikey] expiryWarningDays (API-Key-Expires). 0 = nothing to tell.
  std::int64_t replacedAt = 0;
  std::int64_t graceUntil = 0;
  std::int64_t expiresSoon = 0;
};

// Principal::subscriber from an application id and a subject, each already qualified by its
// issuer (KeyValidator::subjectKey): the application when there is one, else the subject.
inline std::string subscriberOf(std::string_view application, std::string_view subject) {
  if (!application.empty()) return "app\x1f" + std::string(application);
  if (!subject.empty()) return "user\x1f" + std::string(subject);
  return "";
}

}  // namespace mgw::gateway
