// The key management API's requests (SPEC section 8), typed: each JSON body is parsed here, with
// only its named fields, into a plain struct or a 400 refusal naming the field. Nothing here looks
// at the store, the caller or the configuration (lifecycle/key_management.h decides). The body is
// client input; descriptions never echo a key value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/refusal.h"
#include "store/opaque_key_store.h"

namespace mgw::lifecycle {

constexpr std::size_t kMaxBodyBytes = 64 * 1024;  // a management request is a few hundred bytes
constexpr std::size_t kMaxNameLength = 128;
constexpr std::int64_t kMaxValiditySeconds = 100LL * 365 * 24 * 3600;

// {"name": "...", "version": "..."}: an API by name and version.
struct ApiRef {
  std::string name;
  std::string version;
  std::string label() const { return name + ":" + version; }
};

// POST /apikey/revoke: exactly one of {"apiKey"}, {"jti"[, "expiresAt"]}, {"sub", "issuedBefore"}.
struct RevokeRequest {
  enum class Form { kApiKey, kJti, kSubject };
  Form form = Form::kApiKey;
  std::string apiKey;                     // kApiKey; a secret: wiped by whoever handles it
  std::string jti;                        // kJti: 1 to 256 characters
  std::optional<std::int64_t> expiresAt;  // kJti: when the entry may be purged
  std::string sub;                        // kSubject: 1 to 256 characters
  std::int64_t issuedBefore = 0;          // kSubject
};

// POST /apikeys. Optional fields stay unset when absent; values are checked (keyType, the
// validity period, permittedIP and permittedReferer syntax, a custom value's rules).
struct CreateKeyRequest {
  std::string name;
  ApiRef api;
  std::optional<std::string> tier;
  store::KeyType keyType = store::KeyType::kProduction;
  std::optional<std::int64_t> validitySeconds;  // unset: never expires
  std::string permittedIp;
  std::string permittedReferer;
  std::optional<std::string> application;
  std::optional<std::string> value;  // a custom key value; a secret
  // Issue 26: the application's shared key ({"shared": true}): api is empty, application is set.
  bool shared = false;
  // The first fault among the fields after name and api. The API is checked first (deployed, the
  // caller may use it), so this is reported only after that check: the order the answers have
  // always come in.
  std::optional<Refusal> fieldError;
};

// POST /apikeys/{id}/regenerate: an optional custom value (a secret), and how long the old value
// keeps working (issue 25; 0 = it stops at once; the bound is [apikey] maxGracePeriodSeconds).
struct RegenerateRequest {
  std::optional<std::string> value;
  std::int64_t gracePeriodSeconds = 0;
};

// POST /apikeys/leaked: key values found where they should not be, in the shape GitHub's secret
// scanning sends: [{"token": "...", "type": "...", "url": "...", "source": "..."}, ...] (only
// token is required); or {"keys": ["...", ...]}. At most kMaxLeakReports.
constexpr std::size_t kMaxLeakReports = 1000;
struct LeakReport {
  struct Item {
    std::string token;  // a secret: wiped by whoever handles it
    std::string type;
    std::string url;
  };
  std::vector<Item> items;
};

// POST /apikeys/{id}/associate.
struct AssociateRequest {
  std::string application;
};

// POST /applications.
struct CreateApplicationRequest {
  std::string name;
  std::optional<std::string> tier;
  std::optional<std::string> keyMode;  // issue 26: "perSubscription" or "shared"; unset = later
};

// POST (subscribe) and DELETE (unsubscribe) /applications/{id}/subscriptions.
// Issue 26: "plan" names one plan of the API; left out, the subscription is to the API's first
// plan (its only one, when it has one; none when it has none), and an unsubscription is from every
// plan. "keyMode" (subscribe only) chooses the application's key mode if not chosen yet.
struct SubscriptionRequest {
  ApiRef api;
  std::optional<std::string> plan;
  std::optional<std::string> keyMode;
  // What is wrong with "api": reported only once the application is found and the caller's, the
  // order the answers have always come in.
  std::optional<Refusal> apiError;
};

OrRefusal<RevokeRequest> parseRevokeRequest(std::string_view body);
OrRefusal<CreateKeyRequest> parseCreateKeyRequest(std::string_view body);
OrRefusal<RegenerateRequest> parseRegenerateRequest(std::string_view body);  // empty body: {}
OrRefusal<LeakReport> parseLeakReport(std::string_view body);
OrRefusal<AssociateRequest> parseAssociateRequest(std::string_view body);
OrRefusal<CreateApplicationRequest> parseCreateApplicationRequest(std::string_view body);
// Subscribe: "api" holds exactly name and version. Unsubscribe takes any object with both.
OrRefusal<SubscriptionRequest> parseSubscribeRequest(std::string_view body);
OrRefusal<SubscriptionRequest> parseUnsubscribeRequest(std::string_view body);

}  // namespace mgw::lifecycle
