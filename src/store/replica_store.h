// Writes that copy another node's records as they are (SPEC section 14): the cluster hands over
// whole records (id and keyed hash included) instead of requests, so applying one twice, or late,
// leaves the same rows. Also the full listing a node shares when Redis lost its data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/application_store.h"
#include "store/database.h"
#include "store/opaque_key_store.h"

namespace mgw::store {

struct RevokedJtiRow {
  std::string jti;
  std::string sub;
  int64_t expiresAt = 0;  // 0 = never
  std::string revokedBy;
  int64_t revokedAt = 0;
};

struct WatermarkRow {
  std::string sub;
  int64_t issuedBefore = 0;
  std::string revokedBy;
  int64_t revokedAt = 0;
};

class ReplicaStore {
 public:
  explicit ReplicaStore(Database& db) : db_(db) {}

  // Inserts the key, or updates the row with its id: hash, last four, application (dropped when
  // the application is not known here), restrictions and tier follow the record; a revocation is
  // sticky (a revoked row stays revoked whatever the record says). kConflict: another key has this
  // hash.
  [[nodiscard]] Failure upsertKey(const OpaqueKeyRecord& record);
  // Inserts the application; when its id exists, only the tier follows the record, and the key
  // mode when it was not chosen here yet (a chosen mode never changes). kConflict: the
  // owner has another application of that name here.
  [[nodiscard]] Failure insertApplication(const ApplicationRecord& record);

  [[nodiscard]] StoreResult<std::vector<RevokedJtiRow>> listRevokedJtis() const;
  [[nodiscard]] StoreResult<std::vector<WatermarkRow>> listWatermarks() const;

 private:
  Database& db_;
};

}  // namespace mgw::store
