// The key management policy (SPEC section 8) over the LifecycleService: who may revoke, create,
// read and change which keys, applications and subscriptions, and what each answers. A typed
// request (lifecycle/request.h) and an authenticated caller in, a reply or a refusal out: no HTTP,
// no sockets. A user acts on their own objects, an admin on everyone's: an unknown id is 404,
// someone else's 403. A key value appears in exactly two replies (create, regenerate) and in no
// log line.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/refusal.h"
#include "config/config.h"
#include "lifecycle/lifecycle_service.h"
#include "lifecycle/ownership.h"
#include "lifecycle/request.h"
#include "lifecycle/taken_values.h"
#include "store/opaque_key_index.h"
#include "throttle/policy.h"
#include "token/jws.h"

namespace mgw::lifecycle {

// No signed key is this short and no opaque key longer (gateway::KeyValidator's own bound, which
// server/ checks is the same): the length alone tells which kind /apikey/revoke was sent.
constexpr std::size_t kMaxOpaqueKeyLength = 64;

// An answer: its status and JSON body (null: no body, as for 204).
struct Reply {
  int status = 200;
  nlohmann::json body;
};

// What the policy knows of a deployed API (issue 26): its plans in order, its publishers.
struct ApiFacts {
  std::vector<std::string> plans;
  std::vector<std::string> publishers;
};

// What the running configuration tells the policy. The references outlive the KeyManagement.
struct Environment {
  const config::Config& config;
  const throttle::PolicySet& policies;
  const token::KeySet& trustedKeys;  // what a signed key sent to /apikey/revoke must verify with
  const store::OpaqueKeyIndex* opaqueKeys;  // null: no in-memory index (only for the 409 answer)
  std::function<bool(const ApiRef&)> deployed;  // the gateway serves this API
  TakenValueLimiter* takenValues = nullptr;     // null: custom values are not rate-limited
  // Issue 26: a deployed API's plans and publishers (null or nullopt: none), and the APIs a user
  // publishes (null: none).
  std::function<std::optional<ApiFacts>(const ApiRef&)> describe;
  std::function<std::vector<ApiRef>(const std::string& user)> publishedBy;
};

class KeyManagement {
 public:
  KeyManagement(LifecycleService& store, Environment env, Caller caller, std::int64_t now)
      : store_(store), env_(std::move(env)), caller_(std::move(caller)), now_(now) {}

  // POST /apikey/revoke.
  OrRefusal<Reply> revoke(RevokeRequest request);

  // /apikeys.
  OrRefusal<Reply> createKey(CreateKeyRequest request);
  OrRefusal<Reply> listKeys();
  OrRefusal<Reply> getKey(const std::string& id);
  OrRefusal<Reply> deleteKey(const std::string& id);
  OrRefusal<Reply> regenerateKey(const std::string& id, RegenerateRequest request);
  OrRefusal<Reply> associateKey(const std::string& id, const AssociateRequest& request);
  OrRefusal<Reply> dissociateKey(const std::string& id);
  // GET /apikeys/published (issue 26): the keys on the APIs the caller publishes: the
  // per-subscription keys bound to them (which a publisher manages), and the shared keys whose
  // application subscribes to them (id, last four, owner only: a publisher may not renew or
  // revoke those).
  OrRefusal<Reply> listPublished();

  // POST /apikeys/leaked (issue 25): an admin or an [apikey] leakReporters user reports key
  // values found in public; each one this gateway knows is revoked. The answer names each
  // report by the SHA-256 of its token (never the token) and says what was done.
  OrRefusal<Reply> reportLeaked(LeakReport report);

  // /applications.
  OrRefusal<Reply> createApplication(const CreateApplicationRequest& request);
  OrRefusal<Reply> listApplications();
  OrRefusal<Reply> getApplication(const std::string& id);
  OrRefusal<Reply> deleteApplication(const std::string& id);
  OrRefusal<Reply> subscribe(const std::string& id, const SubscriptionRequest& request);
  OrRefusal<Reply> unsubscribe(const std::string& id, const SubscriptionRequest& request);
  OrRefusal<Reply> listSubscriptions(const std::string& id);

 private:
  // A new generated value in the format of [apikey] keyPrefix (common/key_format.h).
  std::string newKeyValue() const;
  // 400 (and the value wiped) for a custom value of the generated format with a wrong checksum.
  std::optional<Refusal> badChecksumRefusal(std::string& value) const;
  // 429 while the caller's custom values are rate-limited (TakenValueLimiter), else nullopt.
  std::optional<Refusal> takenValuesRefusal() const;
  // The answer to a custom value that is taken (wiped here): 409 naming the caller's own key,
  // else "not accepted" (never saying that another owner holds it), counted.
  Refusal takenValue(std::string& secret);
  template <typename Record>
  OrRefusal<Record> owned(store::StoreResult<Record> found, std::string_view what,
                          const std::string& id) const;
  OrRefusal<store::OpaqueKeyRecord> ownedKey(const std::string& id) const;
  // Issue 26: what the caller may do with a key. kManage: its owner, an admin, or a publisher of
  // the API a per-subscription key is bound to; kView: a publisher of an API the key's
  // application subscribes to with its shared key; kNone otherwise.
  enum class KeyAccess { kNone, kView, kManage };
  KeyAccess keyAccess(const store::OpaqueKeyRecord& key) const;
  bool publishes(const ApiRef& api) const;
  // The key when the caller may manage it (renew, revoke); 404, or 403 saying why not.
  OrRefusal<store::OpaqueKeyRecord> managedKey(const std::string& id) const;
  OrRefusal<store::ApplicationRecord> ownedApplication(const std::string& id) const;
  std::optional<Refusal> usableApi(const ApiRef& api) const;
  OrRefusal<std::string> checkedTier(const std::optional<std::string>& asked,
                                     throttle::PolicyLevel level) const;
  bool owns(const std::string& owner) const { return checkOwner(caller_, owner) == Failure::kNone; }
  nlohmann::json applicationJson(const store::ApplicationRecord& a) const;
  OrRefusal<Reply> revokeSignedKey(const std::string& value);
  OrRefusal<Reply> revokeOpaqueValue(const std::string& value);
  OrRefusal<Reply> revokeByJti(const RevokeRequest& request);
  OrRefusal<Reply> revokeBySubject(const RevokeRequest& request);

  LifecycleService& store_;
  Environment env_;
  Caller caller_;
  std::int64_t now_;
};

// A store failure as the client sees it, with the descriptions of this operation for kNotFound and
// kConflict. Exhaustive over Failure: the store answers kNotFound, kConflict, kBadRequestBody,
// kClusterUnavailable or kInternalError; anything else is the store's failure (500).
Refusal storeRefusal(Failure failure, const std::string& notFound, const std::string& conflict);

// An id from the path, safe to repeat in a description: ids are UUIDs, so anything longer or with
// other characters is cut and never echoed raw.
std::string shownId(const std::string& id);

}  // namespace mgw::lifecycle
