// One change to the shared state (SPEC section 14), as the lifecycle service hands it to the
// cluster and takes it back from other nodes. Each change is idempotent: applying it twice, or
// applying one that a node already has, leaves the same state (revocations only widen).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "store/application_store.h"
#include "store/opaque_key_store.h"

namespace mgw::lifecycle {

struct Change {
  enum class Kind {
    kRevokeJti,         // jti, sub, expiresAt, by, at
    kSubjectWatermark,  // sub, issuedBefore, by, at
    kKey,               // key: the whole record after a create, regenerate, (dis)associate, revoke
    kApplication,       // application
    kApplicationRemoved,  // id
    kSubscribed,          // id (the application), apiName, apiVersion, at, plan, sharedKey, keyMode
    kUnsubscribed,        // id, apiName, apiVersion, plan (allPlans: every plan of the API)
    kKeyUsed,             // id (the opaque key), at: its last use, a whole minute (issue 25)
  };
  Kind kind = Kind::kRevokeJti;
  std::string id;  // jti, or the application id
  std::string sub;
  std::int64_t expiresAt = 0;
  std::int64_t issuedBefore = 0;
  std::string by;
  std::int64_t at = 0;
  std::string apiName;
  std::string apiVersion;
  // Issue 26: the subscription's plan ("" = none); kUnsubscribed with allPlans: every plan.
  std::string plan;
  bool allPlans = false;
  bool sharedKey = false;  // kSubscribed: the application's shared key serves it
  std::string keyMode;     // kSubscribed: the application's key mode chosen with it ("" = none)
  std::optional<store::OpaqueKeyRecord> key;
  std::optional<store::ApplicationRecord> application;
};

// Where the lifecycle service sends its changes when the node is one of several (the cluster
// module). Null sink = one node: changes stay local, exactly as before.
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  // Before a change: kNone when it can be shared now, kClusterUnavailable otherwise (the change is
  // then not made anywhere). A slot taken here is released by share() or release().
  [[nodiscard]] virtual Failure admit() = 0;
  // After the local write: shares the change, waiting at most a bounded time. kClusterUnavailable
  // when it could not be confirmed in time (the change stays queued and is shared when Redis is
  // back, so no node keeps it alone for good).
  [[nodiscard]] virtual Failure share(const Change& change) = 0;
  // The change was refused locally (validation, conflict): nothing to share.
  virtual void release() = 0;
};

}  // namespace mgw::lifecycle
