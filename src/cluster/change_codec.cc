#include "cluster/change_codec.h"

#include <sodium.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/base64url.h"
#include "common/crypto_util.h"

namespace mgw::cluster {
namespace {

using lifecycle::Change;
using nlohmann::json;

constexpr std::pair<Change::Kind, std::string_view> kKinds[] = {
    {Change::Kind::kRevokeJti, "revoke_jti"},
    {Change::Kind::kSubjectWatermark, "subject_watermark"},
    {Change::Kind::kKey, "key"},
    {Change::Kind::kApplication, "application"},
    {Change::Kind::kApplicationRemoved, "application_removed"},
    {Change::Kind::kSubscribed, "subscribed"},
    {Change::Kind::kUnsubscribed, "unsubscribed"},
    {Change::Kind::kKeyUsed, "key_used"},
};

// Typed reads that fail instead of throwing on a wrong type.
bool getString(const json& j, const char* name, std::string* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

bool getInt(const json& j, const char* name, std::int64_t* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return false;
  *out = it->get<std::int64_t>();
  return true;
}

json keyJson(const store::OpaqueKeyRecord& k) {
  json j = {{"id", k.id},
            {"name", k.name},
            {"owner", k.owner},
            {"apiName", k.apiName},
            {"apiVersion", k.apiVersion},
            {"keyType", std::string(store::keyTypeName(k.keyType))},
            {"hash", base64UrlEncode(k.keyHash)},
            {"lastFour", k.lastFour},
            {"createdAt", k.createdAt},
            {"expiresAt", k.expiresAt},
            {"permittedIp", k.permittedIp},
            {"permittedReferer", k.permittedReferer},
            {"revoked", k.revoked},
            {"revokedAt", k.revokedAt},
            {"tier", k.tier}};
  if (k.applicationId) j["applicationId"] = *k.applicationId;
  // Rotation and last use (issue 25); a node of a version before ignores them.
  if (!k.previousHash.empty()) {
    j["previousHash"] = base64UrlEncode(k.previousHash);
    j["previousUntil"] = k.previousUntil;
  }
  if (k.replacedAt > 0) j["replacedAt"] = k.replacedAt;
  if (k.lastUsed > 0) j["lastUsed"] = k.lastUsed;
  if (k.shared) j["shared"] = true;  // issue 26: absent = a per-subscription key
  return j;
}

std::optional<store::OpaqueKeyRecord> parseKey(const json& j) {
  if (!j.is_object()) return std::nullopt;
  store::OpaqueKeyRecord k;
  std::string type, hash;
  if (!getString(j, "id", &k.id) || !getString(j, "name", &k.name) ||
      !getString(j, "owner", &k.owner) || !getString(j, "apiName", &k.apiName) ||
      !getString(j, "apiVersion", &k.apiVersion) || !getString(j, "keyType", &type) ||
      !getString(j, "hash", &hash) || !getString(j, "lastFour", &k.lastFour) ||
      !getInt(j, "createdAt", &k.createdAt) || !getInt(j, "expiresAt", &k.expiresAt) ||
      !getString(j, "permittedIp", &k.permittedIp) ||
      !getString(j, "permittedReferer", &k.permittedReferer) ||
      !getInt(j, "revokedAt", &k.revokedAt))
    return std::nullopt;
  auto kt = store::parseKeyType(type);
  auto raw = base64UrlDecode(hash);
  auto revoked = j.find("revoked");
  if (!kt || !raw || raw->size() != store::KeyHasher::kHashBytes || revoked == j.end() ||
      !revoked->is_boolean())
    return std::nullopt;
  k.keyType = *kt;
  k.keyHash = std::move(*raw);
  k.revoked = revoked->get<bool>();
  if (j.contains("applicationId")) {
    std::string app;
    if (!getString(j, "applicationId", &app)) return std::nullopt;
    k.applicationId = std::move(app);
  }
  // Added with the throttling tiers: a node of the previous version sends none, and its keys are
  // Unlimited (what the record's default says); that node ignores the field in ours.
  if (j.contains("tier") && (!getString(j, "tier", &k.tier) || k.tier.empty())) return std::nullopt;
  // Added with rotation and last use (issue 25): absent from a previous version's entry.
  if (j.contains("previousHash")) {
    std::string previous;
    if (!getString(j, "previousHash", &previous) || !getInt(j, "previousUntil", &k.previousUntil))
      return std::nullopt;
    auto bytes = base64UrlDecode(previous);
    if (!bytes || bytes->size() != store::KeyHasher::kHashBytes) return std::nullopt;
    k.previousHash = std::move(*bytes);
  }
  if (j.contains("replacedAt") && !getInt(j, "replacedAt", &k.replacedAt)) return std::nullopt;
  if (j.contains("lastUsed") && !getInt(j, "lastUsed", &k.lastUsed)) return std::nullopt;
  if (j.contains("shared")) {
    auto shared = j.find("shared");
    if (!shared->is_boolean()) return std::nullopt;
    k.shared = shared->get<bool>();
  }
  return k;
}

// An application's key mode as sent: "" (absent), perSubscription or shared.
bool validKeyMode(std::string_view mode) {
  return mode.empty() || mode == store::kPerSubscription || mode == store::kShared;
}

}  // namespace

std::string_view changeKindName(Change::Kind kind) {
  for (const auto& [k, name] : kKinds)
    if (k == kind) return name;
  return "unknown";
}

std::string encodeChange(const Change& c) {
  json j = {{"kind", std::string(changeKindName(c.kind))}};
  switch (c.kind) {
    case Change::Kind::kRevokeJti:
      j.update(
          {{"jti", c.id}, {"sub", c.sub}, {"expiresAt", c.expiresAt}, {"by", c.by}, {"at", c.at}});
      break;
    case Change::Kind::kSubjectWatermark:
      j.update({{"sub", c.sub}, {"issuedBefore", c.issuedBefore}, {"by", c.by}, {"at", c.at}});
      break;
    case Change::Kind::kKey:
      if (c.key) j["key"] = keyJson(*c.key);
      break;
    case Change::Kind::kApplication:
      if (c.application)
        j["application"] = {{"id", c.application->id},
                            {"name", c.application->name},
                            {"owner", c.application->owner},
                            {"createdAt", c.application->createdAt},
                            {"tier", c.application->tier}};
      if (c.application && !c.application->keyMode.empty())
        j["application"]["keyMode"] = c.application->keyMode;
      break;
    case Change::Kind::kApplicationRemoved:
      j["id"] = c.id;
      break;
    case Change::Kind::kSubscribed:
    case Change::Kind::kUnsubscribed:
      j.update({{"id", c.id}, {"apiName", c.apiName}, {"apiVersion", c.apiVersion}, {"at", c.at}});
      // Issue 26. An unsubscription without "plan" is from every plan (what a node of a version
      // before plans meant); a subscription without it is to no plan.
      if (c.kind == Change::Kind::kSubscribed || !c.allPlans) j["plan"] = c.plan;
      if (c.sharedKey) j["sharedKey"] = true;
      if (!c.keyMode.empty()) j["keyMode"] = c.keyMode;
      break;
    case Change::Kind::kKeyUsed:
      j.update({{"id", c.id}, {"at", c.at}});
      break;
  }
  return j.dump();
}

std::optional<Change> decodeChange(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  std::string kind;
  if (!getString(j, "kind", &kind)) return std::nullopt;
  Change c;
  bool known = false;
  for (const auto& [k, name] : kKinds)
    if (name == kind) {
      c.kind = k;
      known = true;
    }
  if (!known) return std::nullopt;
  bool ok = false;
  switch (c.kind) {
    case Change::Kind::kRevokeJti:
      ok = getString(j, "jti", &c.id) && !c.id.empty() && getString(j, "sub", &c.sub) &&
           getInt(j, "expiresAt", &c.expiresAt) && getString(j, "by", &c.by) &&
           getInt(j, "at", &c.at);
      break;
    case Change::Kind::kSubjectWatermark:
      ok = getString(j, "sub", &c.sub) && !c.sub.empty() &&
           getInt(j, "issuedBefore", &c.issuedBefore) && getString(j, "by", &c.by) &&
           getInt(j, "at", &c.at);
      break;
    case Change::Kind::kKey: {
      auto it = j.find("key");
      if (it != j.end()) c.key = parseKey(*it);
      ok = c.key.has_value();
      break;
    }
    case Change::Kind::kApplication: {
      auto it = j.find("application");
      store::ApplicationRecord a;
      ok = it != j.end() && it->is_object() && getString(*it, "id", &a.id) && !a.id.empty() &&
           getString(*it, "name", &a.name) && getString(*it, "owner", &a.owner) &&
           getInt(*it, "createdAt", &a.createdAt);
      // Optional, as for a key's tier: absent from a previous version's entry = Unlimited.
      if (ok && it->contains("tier")) ok = getString(*it, "tier", &a.tier) && !a.tier.empty();
      if (ok && it->contains("keyMode"))
        ok = getString(*it, "keyMode", &a.keyMode) && validKeyMode(a.keyMode);
      if (ok) c.application = std::move(a);
      break;
    }
    case Change::Kind::kApplicationRemoved:
      ok = getString(j, "id", &c.id) && !c.id.empty();
      break;
    case Change::Kind::kSubscribed:
    case Change::Kind::kUnsubscribed:
      ok = getString(j, "id", &c.id) && !c.id.empty() && getString(j, "apiName", &c.apiName) &&
           getString(j, "apiVersion", &c.apiVersion) && getInt(j, "at", &c.at);
      if (ok && j.contains("plan")) ok = getString(j, "plan", &c.plan);
      c.allPlans = c.kind == Change::Kind::kUnsubscribed && !j.contains("plan");
      if (ok && j.contains("sharedKey")) {
        ok = j["sharedKey"].is_boolean();
        if (ok) c.sharedKey = j["sharedKey"].get<bool>();
      }
      if (ok && j.contains("keyMode"))
        ok = getString(j, "keyMode", &c.keyMode) && validKeyMode(c.keyMode);
      break;
    case Change::Kind::kKeyUsed:
      ok = getString(j, "id", &c.id) && !c.id.empty() && getInt(j, "at", &c.at) && c.at > 0;
      break;
  }
  if (!ok) return std::nullopt;
  return c;
}

EntryAuthenticator::EntryAuthenticator(std::string key) : key_(std::move(key)) {
  if (key_.size() != kKeyBytes) throw std::invalid_argument("cluster MAC key: 32 bytes");
}

EntryAuthenticator::~EntryAuthenticator() { secureWipe(key_); }

std::string EntryAuthenticator::mac(std::string_view node, std::uint64_t seq,
                                    std::string_view payload) const {
  // Length-prefixed fields: no two (node, seq, payload) triples share an input.
  std::string input = "mgw-change-v1";
  const std::string seqText = std::to_string(seq);
  for (std::string_view field : {node, std::string_view(seqText), payload}) {
    input += std::to_string(field.size());
    input.push_back(':');
    input.append(field);
  }
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key_.data()),
                              key_.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(input.data()),
                                input.size());
  crypto_auth_hmacsha256_final(&state, out);
  sodium_memzero(&state, sizeof state);
  return base64UrlEncode(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

bool EntryAuthenticator::verify(std::string_view node, std::uint64_t seq, std::string_view payload,
                                std::string_view mac) const {
  return constantTimeEquals(this->mac(node, seq, payload), mac);
}

std::string_view rejectionName(EntryRejection r) {
  switch (r) {
    case EntryRejection::kNone:
      return "none";
    case EntryRejection::kUnsigned:
      return "unsigned";
    case EntryRejection::kBadMac:
      return "bad_mac";
    case EntryRejection::kReplayed:
      return "replayed";
    case EntryRejection::kMalformed:
      return "malformed";
    case EntryRejection::kFutureWatermark:
      return "future_watermark";
  }
  return "unknown";
}

namespace {

std::optional<std::uint64_t> parseSeq(std::string_view s) {
  if (s.empty() || s.size() > 19 || s.front() == '0') return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

EntryRejection acceptEntry(const StreamEntry& entry, const EntryAuthenticator& auth,
                           std::map<std::string, std::uint64_t>* lastSeq, std::int64_t nowSeconds,
                           Change* out) {
  auto seq = parseSeq(entry.seq);
  if (entry.mac.empty() || !seq || entry.node.empty()) return EntryRejection::kUnsigned;
  if (!auth.verify(entry.node, *seq, entry.change, entry.mac)) return EntryRejection::kBadMac;
  auto last = lastSeq->find(entry.node);
  if (last != lastSeq->end() && *seq <= last->second) return EntryRejection::kReplayed;
  (*lastSeq)[entry.node] = *seq;  // authenticated: its seq is used, whatever it holds
  auto change = decodeChange(entry.change);
  if (!change) return EntryRejection::kMalformed;
  if (change->kind == Change::Kind::kSubjectWatermark &&
      change->issuedBefore > nowSeconds + kMaxClockSkewSeconds)
    return EntryRejection::kFutureWatermark;
  *out = std::move(*change);
  return EntryRejection::kNone;
}

}  // namespace mgw::cluster
