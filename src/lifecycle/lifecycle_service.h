// Key lifecycle (SPEC section 8): the one owner of the embedded store in the running process. Every
// write goes to SQLite first (durable on return) and then, under the same lock, into the in-memory
// RevocationList and OpaqueKeyIndex the gateway reads, so the next request sees it. Lives in the
// ServerContext: it outlives SIGHUP reloads. Ownership checks are the caller's (the routes).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "lifecycle/change.h"
#include "store/application_store.h"
#include "store/database.h"
#include "store/key_hasher.h"
#include "store/opaque_key_index.h"
#include "store/opaque_key_store.h"
#include "store/replica_store.h"
#include "store/revocation_list.h"
#include "store/revocation_store.h"

namespace mgw::lifecycle {

class LifecycleService {
 public:
  // Opens (creating when missing) the store at databasePath and its hash secret
  // (KeyHasher::secretPathFor), purges expired revocations (now - skew) and loads the rest, with
  // every opaque key and subscription, into memory. Null with *error set (naming the file and what
  // to do) when the store cannot be opened or read.
  static std::unique_ptr<LifecycleService> open(const std::string& databasePath,
                                                std::int64_t skewMs, std::int64_t nowSeconds,
                                                std::string* error);
  ~LifecycleService();  // stops the purger
  LifecycleService(const LifecycleService&) = delete;
  LifecycleService& operator=(const LifecycleService&) = delete;

  const std::string& databasePath() const { return db_->path(); }
  // Readiness (SPEC section 12): the store's file can still be opened read-write where it was
  // opened, and a read transaction works. False with *why set otherwise. Blocks briefly (the
  // store's lock): call it off the I/O threads.
  bool usable(std::string* why) const;
  std::shared_ptr<store::RevocationList> revocations() const { return revocations_; }
  std::shared_ptr<const store::OpaqueKeyIndex> opaqueKeys() const { return index_; }

  // Reads go straight to the store.
  const store::OpaqueKeyStore& keys() const { return *keys_; }
  const store::ApplicationStore& applications() const { return *applications_; }

  // --- Revocation of signed keys. ---
  [[nodiscard]] Failure revokeJti(const std::string& jti, const std::string& sub,
                                  std::int64_t expiresAt, const std::string& revokedBy,
                                  std::int64_t now);
  // Raises sub's watermark, and revokes sub's opaque keys created at or before issuedBefore
  // (*opaqueRevoked counts them).
  [[nodiscard]] Failure revokeSubject(const std::string& sub, std::int64_t issuedBefore,
                                      const std::string& revokedBy, std::int64_t now,
                                      std::size_t* opaqueRevoked);

  // --- Opaque keys. ---
  [[nodiscard]] store::StoreResult<store::OpaqueKeyRecord> createKey(const store::NewOpaqueKey& key,
                                                                     std::string_view value);
  // graceSeconds > 0: the old value keeps working until now + graceSeconds (issue 25).
  [[nodiscard]] store::StoreResult<store::OpaqueKeyRecord> regenerateKey(
      const std::string& id, std::string_view newValue, std::int64_t now = 0,
      std::int64_t graceSeconds = 0);
  [[nodiscard]] Failure revokeKey(const std::string& id, std::int64_t now);
  [[nodiscard]] Failure associateKey(const std::string& id, const std::string& applicationId);
  [[nodiscard]] Failure dissociateKey(const std::string& id);

  // --- Applications and subscriptions. ---
  [[nodiscard]] store::StoreResult<store::ApplicationRecord> createApplication(
      const std::string& name, const std::string& owner, std::int64_t now,
      const std::string& tier = "Unlimited", const std::string& keyMode = "");
  [[nodiscard]] Failure removeApplication(const std::string& id);
  // Issue 26: plan "" = the API has no plans; sharedKey: the application's shared key serves the
  // subscription; setKeyMode non-empty: the application's key mode, chosen with this subscription
  // (in the same transaction and the same change).
  [[nodiscard]] Failure subscribe(const std::string& applicationId, const std::string& apiName,
                                  const std::string& apiVersion, std::int64_t now,
                                  const std::string& plan = "", bool sharedKey = false,
                                  const std::string& setKeyMode = "");
  // plan unset: every plan of the API.
  [[nodiscard]] Failure unsubscribe(const std::string& applicationId, const std::string& apiName,
                                    const std::string& apiVersion,
                                    const std::optional<std::string>& plan = std::nullopt);

  // --- Several nodes (SPEC section 14). ---
  // Every write above is first admitted by the sink, then shared through it after the local
  // write; a write the sink cannot admit or confirm answers kClusterUnavailable. Set once, before
  // serving; null (the default) = one node.
  void setChangeSink(std::shared_ptr<ChangeSink> sink) { sink_ = std::move(sink); }
  // Applies another node's change here (store and memory), without sharing it again. Idempotent.
  // kNone, or the store's failure (logged by the caller).
  [[nodiscard]] Failure apply(const Change& change);
  // The keyed hash of a fixed public text under this node's key hash secret (hex): equal on two
  // nodes exactly when they share the secret, so an opaque key made on one works on the other.
  // Reveals nothing of the secret (a PRF output of a public input).
  std::string keyHashCheck() const;
  // The cluster's stream MAC key (32 bytes): the key hash secret's keyed BLAKE2b of a label, a PRF
  // used as a KDF (as libsodium's crypto_kdf is), so the secret itself is used for nothing else.
  std::string clusterMacKey() const;
  // The developer portal's session MAC key (32 bytes, auth/portal_session.h), derived the same
  // way: every node that shares the key hash secret verifies the sessions of the others.
  std::string portalSessionKey() const;
  // Everything this node holds, as changes: what it shares when Redis lost its data.
  [[nodiscard]] store::StoreResult<std::vector<Change>> snapshot() const;

  // Last use (issue 25): writes what the gateway noted since the last call (OpaqueKeyIndex::
  // noteUsed, at most once per key per minute) to the store in one transaction, and shares each
  // key's use with the other nodes. Runs every interval on a background thread from
  // startUseWriter() until stopUseWriter() (which writes once more), or destruction.
  void writeUses();
  void startUseWriter(std::chrono::seconds interval);
  void stopUseWriter();
  // Store rows written for last use since start (mgw_key_last_used_writes_total).
  std::uint64_t lastUsedWrites() const { return lastUsedWrites_.load(); }

  // Drops revocations of keys that expired before now - skew, in the store and in memory.
  void purgeExpired(std::int64_t now);
  // Runs purgeExpired every interval on a background thread until stopPurger() (or destruction).
  void startPurger(std::chrono::seconds interval);
  void stopPurger();

 private:
  LifecycleService(std::unique_ptr<store::Database> db, std::unique_ptr<store::KeyHasher> hasher,
                   std::int64_t skewMs);
  Failure load();
  // Re-reads the key from the store into the index (after a write that changed it).
  Failure refreshKey(const std::string& id);
  // Re-reads the application's subscriptions into the index (after its key mode became shared).
  Failure reloadSubscriptions(const std::string& applicationId);
  // The sink's verdict on a local write: shares the change when local succeeded.
  Failure shared(Failure local, const Change& change);
  Failure applyWatermark(const std::string& sub, std::int64_t issuedBefore,
                         const std::string& revokedBy, std::int64_t now, std::size_t* opaqueRevoked,
                         std::vector<std::string>* revokedIds);

  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::KeyHasher> hasher_;
  std::unique_ptr<store::RevocationStore> revocationStore_;
  std::unique_ptr<store::OpaqueKeyStore> keys_;
  std::unique_ptr<store::ApplicationStore> applications_;
  std::unique_ptr<store::ReplicaStore> replica_;
  std::shared_ptr<ChangeSink> sink_;
  std::shared_ptr<store::RevocationList> revocations_;
  std::shared_ptr<store::OpaqueKeyIndex> index_;
  std::int64_t skewSeconds_;

  // Serialises write-then-update, so two writers cannot leave the memory copy older than the store.
  std::mutex writeMutex_;

  std::atomic<std::uint64_t> lastUsedWrites_{0};
  std::mutex useWriterMutex_;
  std::condition_variable useWriterWake_;
  bool useWriterStop_ = false;
  std::thread useWriter_;

  std::mutex purgerMutex_;
  std::condition_variable purgerWake_;
  bool purgerStop_ = false;
  std::thread purger_;
};

// The gateway's view of a stored key.
store::OpaqueKeyEntry toIndexEntry(const store::OpaqueKeyRecord& record);

}  // namespace mgw::lifecycle
