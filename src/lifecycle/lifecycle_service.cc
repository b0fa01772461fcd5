#include "lifecycle/lifecycle_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "common/crypto_util.h"
#include "common/log.h"

namespace mgw::lifecycle {

store::OpaqueKeyEntry toIndexEntry(const store::OpaqueKeyRecord& r) {
  store::OpaqueKeyEntry e;
  e.id = r.id;
  e.owner = r.owner;
  e.apiName = r.apiName;
  e.apiVersion = r.apiVersion;
  e.sandbox = r.keyType == store::KeyType::kSandbox;
  e.expiresAt = r.expiresAt;
  e.permittedIp = r.permittedIp;
  e.permittedReferer = r.permittedReferer;
  e.applicationId = r.applicationId;
  e.revoked = r.revoked;
  e.tier = r.tier;
  e.previousHash = r.previousHash;
  e.previousUntil = r.previousUntil;
  e.replacedAt = r.replacedAt;
  e.lastUsed = std::make_shared<std::atomic<std::int64_t>>(r.lastUsed);
  e.shared = r.shared;
  return e;
}

LifecycleService::LifecycleService(std::unique_ptr<store::Database> db,
                                   std::unique_ptr<store::KeyHasher> hasher, std::int64_t skewMs)
    : db_(std::move(db)),
      hasher_(std::move(hasher)),
      revocationStore_(std::make_unique<store::RevocationStore>(*db_)),
      keys_(std::make_unique<store::OpaqueKeyStore>(*db_, *hasher_)),
      applications_(std::make_unique<store::ApplicationStore>(*db_)),
      replica_(std::make_unique<store::ReplicaStore>(*db_)),
      revocations_(std::make_shared<store::RevocationList>()),
      index_(std::make_shared<store::OpaqueKeyIndex>(
          [hasher = hasher_.get()](std::string_view value) { return hasher->hash(value); })),
      // Rounded up: a key inside the skew must stay revoked.
      skewSeconds_(skewMs <= 0 ? 0 : (skewMs + 999) / 1000) {}

LifecycleService::~LifecycleService() {
  stopPurger();
  stopUseWriter();
}

std::unique_ptr<LifecycleService> LifecycleService::open(const std::string& databasePath,
                                                         std::int64_t skewMs,
                                                         std::int64_t nowSeconds,
                                                         std::string* error) {
  std::unique_ptr<LifecycleService> service;
  try {
    auto db = std::make_unique<store::Database>(databasePath);
    auto hasher = std::make_unique<store::KeyHasher>(
        store::KeyHasher::loadOrCreate(store::KeyHasher::secretPathFor(databasePath)));
    service.reset(new LifecycleService(std::move(db), std::move(hasher), skewMs));
  } catch (const store::StoreError& e) {
    *error = std::string("[storage] path: ") + e.what();
    return nullptr;
  } catch (const std::exception& e) {
    *error = "[storage] path: " + databasePath + ": cannot open the embedded store: " + e.what();
    return nullptr;
  }
  service->purgeExpired(nowSeconds);
  if (service->load() != Failure::kNone) {
    *error = "[storage] path: " + databasePath +
             ": the embedded store could not be read (see the log above)";
    return nullptr;
  }
  return service;
}

Failure LifecycleService::load() {
  auto revoked = revocationStore_->loadAll();
  if (!revoked.ok()) return revoked.failure;
  // The snapshot carries no expiry: loaded jtis stay in memory until the next start (the store
  // drops them once the key expired, so they are not loaded again).
  for (const std::string& jti : revoked.value.jtis) revocations_->revokeJti(jti, 0);
  for (const auto& [sub, before] : revoked.value.subjectIssuedBefore)
    revocations_->setSubjectWatermark(sub, before);

  auto keys = keys_->loadAll();
  if (!keys.ok()) return keys.failure;
  auto subs = applications_->loadAllSubscriptions();
  if (!subs.ok()) return subs.failure;
  auto apps = applications_->listAll();
  if (!apps.ok()) return apps.failure;
  std::unordered_map<std::string, std::string> applicationTiers;
  for (const auto& a : apps.value) applicationTiers.emplace(a.id, a.tier);
  std::vector<std::pair<std::string, store::OpaqueKeyEntry>> entries;
  entries.reserve(keys.value.size());
  for (const auto& r : keys.value) entries.emplace_back(r.keyHash, toIndexEntry(r));
  std::vector<store::OpaqueKeyIndex::Subscription> subscriptions;
  subscriptions.reserve(subs.value.size());
  for (const auto& s : subs.value)
    subscriptions.push_back({s.applicationId, s.apiName, s.apiVersion, s.plan, s.sharedKey});
  index_->replaceAll(std::move(entries), subscriptions, std::move(applicationTiers));
  log::info("embedded store loaded",
            {{"path", db_->path()},
             {"revokedJtis", revoked.value.jtis.size()},
             {"subjectWatermarks", revoked.value.subjectIssuedBefore.size()},
             {"opaqueKeys", keys.value.size()},
             {"applications", apps.value.size()},
             {"subscriptions", subs.value.size()}});
  return Failure::kNone;
}

Failure LifecycleService::refreshKey(const std::string& id) {
  auto record = keys_->get(id);
  if (!record.ok()) return record.failure;
  index_->put(record.value.keyHash, toIndexEntry(record.value));
  return Failure::kNone;
}

Failure LifecycleService::reloadSubscriptions(const std::string& applicationId) {
  auto subs = applications_->listSubscriptions(applicationId);
  if (!subs.ok()) return subs.failure;
  for (const auto& s : subs.value)
    index_->addSubscription(s.applicationId, s.apiName, s.apiVersion, s.plan, s.sharedKey);
  return Failure::kNone;
}

Failure LifecycleService::shared(Failure local, const Change& change) {
  if (!sink_) return local;
  if (local != Failure::kNone) {
    sink_->release();
    return local;
  }
  return sink_->share(change);
}

Failure LifecycleService::revokeJti(const std::string& jti, const std::string& sub,
                                    std::int64_t expiresAt, const std::string& revokedBy,
                                    std::int64_t now) {
  if (sink_)
    if (Failure a = sink_->admit(); a != Failure::kNone) return a;
  std::lock_guard<std::mutex> lock(writeMutex_);
  Failure f = revocationStore_->revokeJti(jti, sub, expiresAt, revokedBy, now);
  if (f == Failure::kNone) revocations_->revokeJti(jti, expiresAt);
  Change c;
  c.kind = Change::Kind::kRevokeJti;
  c.id = jti;
  c.sub = sub;
  c.expiresAt = expiresAt;
  c.by = revokedBy;
  c.at = now;
  return shared(f, c);
}

Failure LifecycleService::applyWatermark(const std::string& sub, std::int64_t issuedBefore,
                                         const std::string& revokedBy, std::int64_t now,
                                         std::size_t* opaqueRevoked,
                                         std::vector<std::string>* revokedIds) {
  *opaqueRevoked = 0;
  Failure f = revocationStore_->revokeSubjectBefore(sub, issuedBefore, revokedBy, now);
  if (f != Failure::kNone) return f;
  revocations_->setSubjectWatermark(sub, issuedBefore);
  auto owned = keys_->listByOwner(sub);
  if (!owned.ok()) return owned.failure;
  for (const auto& r : owned.value) {
    if (r.revoked || r.createdAt > issuedBefore) continue;
    f = keys_->revoke(r.id, now);
    if (f != Failure::kNone) return f;
    index_->markRevoked(r.id);
    ++*opaqueRevoked;
    if (revokedIds) revokedIds->push_back(r.id);
  }
  return Failure::kNone;
}

Failure LifecycleService::revokeSubject(const std::string& sub, std::int64_t issuedBefore,
                                        const std::string& revokedBy, std::int64_t now,
                                        std::size_t* opaqueRevoked) {
  *opaqueRevoked = 0;
  if (sink_)
    if (Failure a = sink_->admit(); a != Failure::kNone) return a;
  std::lock_guard<std::mutex> lock(writeMutex_);
  Failure f = applyWatermark(sub, issuedBefore, revokedBy, now, opaqueRevoked, nullptr);
  // The other nodes apply the same watermark to their copies of sub's opaque keys.
  Change c;
  c.kind = Change::Kind::kSubjectWatermark;
  c.sub = sub;
  c.issuedBefore = issuedBefore;
  c.by = revokedBy;
  c.at = now;
  return shared(f, c);
}

store::StoreResult<store::OpaqueKeyRecord> LifecycleService::createKey(
    const store::NewOpaqueKey& key, std::string_view value) {
  if (sink_)
    if (Failure a = sink_->admit(); a != Failure::kNone) return {a, {}};
  std::lock_guard<std::mutex> lock(writeMutex_);
  auto created = keys_->create(key, value);
  if (created.ok()) index_->put(created.value.keyHash, toIndexEntry(created.value));
  Change c;
  c.kind = Change::Kind::kKey;
  if (created.ok()) c.key = created.value;
  if (Failure f = shared(created.failure, c); f != Failure::kNone) return {f, {}};
  return created;
}

store::StoreResult<store::OpaqueKeyRecord> LifecycleService::regenerateKey(
    const std::string& id, std::string_view newValue, std::int64_t now, std::int64_t graceSeconds) {
  if (sink_)
    if (Failure a = sink_->admit(); a != Failure::kNone) return {a, {}};
  std::lock_guard<std::mutex> lock(writeMutex_);
  auto updated = keys_->regenerate(id, newValue, now, graceSeconds);
  // put() drops the entry under the old hash: the old value is unknown from here on, or, with a
  // grace period, an entry marked isPreviousValue until the grace period ends.
  if (updated.ok()) index_->put(updated.value.keyHash, toIndexEntry(updated.value));
  Change c;
  c.kind = Change::Kind::kKey;
  if (updated.ok()) c.key = updated.value;
  if (Failure f = shared(updated.failure, c); f != Failure::kNone) return {f, {}};
  return updated;
}

Failure LifecycleService::revokeKey(const std::string& id, std::int64_t now) {
  if (sink_)
    if (Failure a = sink_->admit(); a != Failure::kNone) return a;
  std::lock_guard<std::mutex> lock(writeMutex_);
  Failure f = keys_->revoke(id, now);
  if (f == Failure::kNone) index_->markRevoked(id);
  Change c;
  c.kind = Change::Kind::kKey;
  if (f == Failure::kNone) {
    auto record = keys_->get(id);
    f = record.failure;
    if (record.ok()) c.key = std::move(record.value);
  }
  return shared(f, c);
}

Failure LifecycleService::associateKey(const std::string& id, const std::string& applicationId) {
  if (sink_)
    if (Failure a = sink_->admit(); a != Failure::kNone) return a;
  std::lock_guard<std::mutex> lock(writeMutex_);
  Failure f = keys_->associateApplication(id, applicationId);
  Change c;
  c.kind = Change::Kind::kKey;
  if (f == Failure::kNone) {
    auto record = keys_->get(id);
    f = record.failure;
    if (record.ok()) {
      index_->put(record.value.keyHash, toIndexEntry(record.value));
      c.key = std::move(record.value);
    }
  }
  return shared(f, c);
}

Failure LifecycleService::dissociateKey(const std::string& id) {
  if (sink_)
    if (Failure a = sink_->admit(); a != Failure::kNone) return a;
  std::lock_guard<std::mutex> lock(writeMutex_);
  Failure f = keys_->dissociateApplication(id);
  Change c;
  c.kind = Change::Kind::kKey;
  if (f == Failure::kNone) {
    auto record = keys_->get(id);
    f = record.failure;
    if (record.ok()) {
      index_->put(record.value.keyHash, toIndexEntry(record.value));
      c.key = std::move(record.value);
    }
  }
  return shared(f, c);
}

store::StoreResult<store::ApplicationRecord> LifecycleService::createApplication(
    const std::string& name, const std::string& owner, std::int64_t now, const std::string& tier,
    const std::string& keyMode) {
  if (sink_)
    if (Failure a = sink_->admit(); a != Failure::kNone) return {a, {}};
  std::lock_guard<std::mutex> lock(writeMutex_);
  auto created = applications_->create(name, owner, now, tier, keyMode);
  if (created.ok()) index_->putApplication(created.value.id, created.value.tier);
  Change c;
  c.kind = Change::Kind::kApplication;
  if (created.ok()) c.application = created.value;
  if (Failure f = shared(created.failure, c); f != Failure::kNone) return {f, {}};
  return created;
}

Failure LifecycleService::removeApplication(const std::string& id) {
  if (sink_)
    if (Failure a = sink_->admit(); a != Failure::kNone) return a;
  std::lock_guard<std::mutex> lock(writeMutex_);
  Failure f = applications_->remove(id);
  if (f == Failure::kNone) index_->removeApplication(id);
  Change c;
  c.kind = Change::Kind::kApplicationRemoved;
  c.id = id;
  return shared(f, c);
}

Failure LifecycleService::subscribe(const std::string& applicationId, const std::string& apiName,
                                    const std::string& apiVersion, std::int64_t now,
                                    const std::string& plan, bool sharedKey,
                                    const std::string& setKeyMode) {
  if (sink_)
    if (Failure a = sink_->admit(); a != Failure::kNone) return a;
  std::lock_guard<std::mutex> lock(writeMutex_);
  Failure f = applications_->subscribe(applicationId, apiName, apiVersion, now, plan, sharedKey,
                                       setKeyMode);
  if (f == Failure::kNone) {
    index_->addSubscription(applicationId, apiName, apiVersion, plan, sharedKey);
    if (setKeyMode == store::kShared) f = reloadSubscriptions(applicationId);
  }
  Change c;
  c.kind = Change::Kind::kSubscribed;
  c.id = applicationId;
  c.apiName = apiName;
  c.apiVersion = apiVersion;
  c.at = now;
  c.plan = plan;
  c.sharedKey = sharedKey;
  c.keyMode = setKeyMode;
  return shared(f, c);
}

Failure LifecycleService::unsubscribe(const std::string& applicationId, const std::string& apiName,
                                      const std::string& apiVersion,
                                      const std::optional<std::string>& plan) {
  if (sink_)
    if (Failure a = sink_->admit(); a != Failure::kNone) return a;
  std::lock_guard<std::mutex> lock(writeMutex_);
  Failure f = applications_->unsubscribe(applicationId, apiName, apiVersion, plan);
  // Memory with the store: the next request on this node is refused.
  if (f == Failure::kNone) index_->removeSubscription(applicationId, apiName, apiVersion, plan);
  Change c;
  c.kind = Change::Kind::kUnsubscribed;
  c.id = applicationId;
  c.apiName = apiName;
  c.apiVersion = apiVersion;
  c.plan = plan.value_or("");
  c.allPlans = !plan;
  return shared(f, c);
}

Failure LifecycleService::apply(const Change& c) {
  std::lock_guard<std::mutex> lock(writeMutex_);
  switch (c.kind) {
    case Change::Kind::kRevokeJti: {
      // Memory first: the gateway refuses the key from here on, without waiting for the durable
      // write (a revocation only widens, so memory ahead of the store is never less safe).
      revocations_->revokeJti(c.id, c.expiresAt);
      return revocationStore_->revokeJti(c.id, c.sub, c.expiresAt, c.by, c.at);
    }
    case Change::Kind::kSubjectWatermark: {
      std::size_t n = 0;
      revocations_->setSubjectWatermark(c.sub, c.issuedBefore);  // memory first, as above
      return applyWatermark(c.sub, c.issuedBefore, c.by, c.at, &n, nullptr);
    }
    case Change::Kind::kKey: {
      if (!c.key) return Failure::kBadRequestBody;
      Failure f = replica_->upsertKey(*c.key);
      return f == Failure::kNone ? refreshKey(c.key->id) : f;
    }
    case Change::Kind::kApplication:
      if (!c.application) return Failure::kBadRequestBody;
      if (Failure f = replica_->insertApplication(*c.application); f != Failure::kNone) return f;
      // What the store holds now (the id may have existed under another name: its row wins).
      if (auto stored = applications_->get(c.application->id); stored.ok())
        index_->putApplication(stored.value.id, stored.value.tier);
      return Failure::kNone;
    case Change::Kind::kApplicationRemoved: {
      Failure f = applications_->remove(c.id);
      if (f == Failure::kNone || f == Failure::kNotFound) index_->removeApplication(c.id);
      return f == Failure::kNotFound ? Failure::kNone : f;
    }
    case Change::Kind::kSubscribed: {
      Failure f = applications_->subscribe(c.id, c.apiName, c.apiVersion, c.at, c.plan, c.sharedKey,
                                           c.keyMode);
      if (f == Failure::kNone || f == Failure::kConflict)
        index_->addSubscription(c.id, c.apiName, c.apiVersion, c.plan, c.sharedKey);
      if (f == Failure::kNone && c.keyMode == store::kShared) f = reloadSubscriptions(c.id);
      return f == Failure::kConflict ? Failure::kNone : f;
    }
    case Change::Kind::kUnsubscribed: {
      const std::optional<std::string> plan =
          c.allPlans ? std::nullopt : std::optional<std::string>(c.plan);
      // Memory first, as for a revocation: an unsubscription only narrows what a key may call.
      index_->removeSubscription(c.id, c.apiName, c.apiVersion, plan);
      Failure f = applications_->unsubscribe(c.id, c.apiName, c.apiVersion, plan);
      return f == Failure::kNotFound ? Failure::kNone : f;
    }
    case Change::Kind::kKeyUsed: {
      index_->raiseLastUsed(c.id, c.at);
      auto written = keys_->recordUse({{c.id, c.at}});
      if (written.ok()) lastUsedWrites_ += written.value;
      return written.failure;
    }
  }
  return Failure::kInternalError;
}

std::string LifecycleService::clusterMacKey() const {
  return hasher_->hash("micro-gw [cluster] change stream MAC key v1");
}

std::string LifecycleService::portalSessionKey() const {
  return hasher_->hash("micro-gw portal session MAC key v1");
}

std::string LifecycleService::keyHashCheck() const {
  return hexEncode(hasher_->hash("micro-gw [cluster] key hash secret check"));
}

store::StoreResult<std::vector<Change>> LifecycleService::snapshot() const {
  std::vector<Change> out;
  auto jtis = replica_->listRevokedJtis();
  if (!jtis.ok()) return {jtis.failure, {}};
  for (auto& r : jtis.value) {
    Change c;
    c.kind = Change::Kind::kRevokeJti;
    c.id = std::move(r.jti);
    c.sub = std::move(r.sub);
    c.expiresAt = r.expiresAt;
    c.by = std::move(r.revokedBy);
    c.at = r.revokedAt;
    out.push_back(std::move(c));
  }
  auto marks = replica_->listWatermarks();
  if (!marks.ok()) return {marks.failure, {}};
  for (auto& r : marks.value) {
    Change c;
    c.kind = Change::Kind::kSubjectWatermark;
    c.sub = std::move(r.sub);
    c.issuedBefore = r.issuedBefore;
    c.by = std::move(r.revokedBy);
    c.at = r.revokedAt;
    out.push_back(std::move(c));
  }
  // Applications before the keys and subscriptions that name them.
  auto apps = applications_->listAll();
  if (!apps.ok()) return {apps.failure, {}};
  for (auto& a : apps.value) {
    Change c;
    c.kind = Change::Kind::kApplication;
    c.application = std::move(a);
    out.push_back(std::move(c));
  }
  auto subs = applications_->loadAllSubscriptions();
  if (!subs.ok()) return {subs.failure, {}};
  for (auto& s : subs.value) {
    Change c;
    c.kind = Change::Kind::kSubscribed;
    c.id = std::move(s.applicationId);
    c.apiName = std::move(s.apiName);
    c.apiVersion = std::move(s.apiVersion);
    c.at = s.createdAt;
    c.plan = std::move(s.plan);
    c.sharedKey = s.sharedKey;
    out.push_back(std::move(c));
  }
  auto keys = keys_->loadAll();
  if (!keys.ok()) return {keys.failure, {}};
  for (auto& k : keys.value) {
    Change c;
    c.kind = Change::Kind::kKey;
    c.key = std::move(k);
    out.push_back(std::move(c));
  }
  return {Failure::kNone, std::move(out)};
}

void LifecycleService::writeUses() {
  store::OpaqueKeyIndex::Uses uses = index_->takeUses();
  if (uses.keys.empty() && uses.jtis.empty()) return;
  std::vector<store::KeyUse> keyUses;
  keyUses.reserve(uses.keys.size());
  for (const auto& u : uses.keys) keyUses.push_back({u.id, u.at});
  std::vector<store::OpaqueKeyStore::JtiUse> jtiUses;
  jtiUses.reserve(uses.jtis.size());
  for (const auto& u : uses.jtis) jtiUses.push_back({u.id, u.sub, u.at});
  auto written = keys_->recordUse(keyUses);
  if (written.ok()) lastUsedWrites_ += written.value;
  auto jtisWritten = keys_->recordJtiUse(jtiUses);
  if (jtisWritten.ok()) lastUsedWrites_ += jtisWritten.value;
  if (!written.ok() || !jtisWritten.ok())
    log::warn("last use of API keys not written",
              {{"keys", keyUses.size()}, {"jtis", jtiUses.size()}});
  if (!sink_) return;
  // Shared like every other change, so that `keys stale` on any node sees the use.
  for (const auto& u : keyUses) {
    if (sink_->admit() != Failure::kNone) break;  // Redis away: this node's store has it
    Change c;
    c.kind = Change::Kind::kKeyUsed;
    c.id = u.id;
    c.at = u.at;
    (void)sink_->share(c);
  }
}

void LifecycleService::startUseWriter(std::chrono::seconds interval) {
  std::lock_guard<std::mutex> lock(useWriterMutex_);
  if (useWriter_.joinable()) return;
  useWriterStop_ = false;
  useWriter_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(useWriterMutex_);
    while (!useWriterWake_.wait_for(lock, interval, [this] { return useWriterStop_; })) {
      lock.unlock();
      writeUses();
      lock.lock();
    }
  });
}

void LifecycleService::stopUseWriter() {
  {
    std::lock_guard<std::mutex> lock(useWriterMutex_);
    useWriterStop_ = true;
  }
  useWriterWake_.notify_all();
  if (useWriter_.joinable()) useWriter_.join();
  writeUses();  // what was noted since the last write is kept over a restart
}

void LifecycleService::purgeExpired(std::int64_t now) {
  const std::int64_t cutoff = now - skewSeconds_;
  auto purged = revocationStore_->purgeExpired(cutoff);
  revocations_->purgeExpired(cutoff);
  if (purged.ok() && purged.value > 0)
    log::info("expired revocations purged", {{"rows", purged.value}});
}

void LifecycleService::startPurger(std::chrono::seconds interval) {
  std::lock_guard<std::mutex> lock(purgerMutex_);
  if (purger_.joinable()) return;
  purgerStop_ = false;
  purger_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(purgerMutex_);
    while (!purgerWake_.wait_for(lock, interval, [this] { return purgerStop_; })) {
      lock.unlock();
      purgeExpired(std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count());
      lock.lock();
    }
  });
}

void LifecycleService::stopPurger() {
  {
    std::lock_guard<std::mutex> lock(purgerMutex_);
    purgerStop_ = true;
  }
  purgerWake_.notify_all();
  if (purger_.joinable()) purger_.join();
}

bool LifecycleService::usable(std::string* why) const {
  const int fd = ::open(db_->path().c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    *why = "the store cannot be opened: " + std::string(std::strerror(errno));
    return false;
  }
  ::close(fd);
  try {
    db_->read([](const store::Database::Session& s) {
      auto statement = s.prepare("SELECT count(*) FROM sqlite_master");
      (void)statement.step();
    });
  } catch (const std::exception& e) {
    *why = std::string("the store cannot be read: ") + e.what();
    return false;
  }
  return true;
}

}  // namespace mgw::lifecycle
