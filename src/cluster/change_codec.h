// The wire form of a lifecycle::Change in the Redis stream: one JSON object per entry. Holds ids,
// owners, keyed hashes of opaque keys (never a key value) and revocation facts. decodeChange
// trusts nothing: a field of the wrong type or a missing one rejects the entry.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "lifecycle/change.h"

namespace mgw::cluster {

std::string encodeChange(const lifecycle::Change& change);
std::optional<lifecycle::Change> decodeChange(std::string_view text);

// A short name of the change for logs ("revoke_jti", "key", ...).
std::string_view changeKindName(lifecycle::Change::Kind kind);

// Every stream entry is authenticated (issue 22 item 7), so that who can write to Redis cannot
// widen a key or revoke keys: HMAC-SHA256 (RFC 2104) over the writing node's id, its sequence
// number and the payload, each length-prefixed, with a key derived from the key hash secret every
// node already shares (<storage path>.key; LifecycleService::clusterMacKey). Redis never sees the
// key; a node without the same secret cannot write an entry the others apply.
class EntryAuthenticator {
 public:
  static constexpr std::size_t kKeyBytes = 32;
  // key must be kKeyBytes long (throws std::invalid_argument otherwise).
  explicit EntryAuthenticator(std::string key);
  ~EntryAuthenticator();  // wipes the key
  EntryAuthenticator(const EntryAuthenticator&) = delete;
  EntryAuthenticator& operator=(const EntryAuthenticator&) = delete;

  // base64url (43 characters) of the MAC.
  std::string mac(std::string_view node, std::uint64_t seq, std::string_view payload) const;
  [[nodiscard]] bool verify(std::string_view node, std::uint64_t seq, std::string_view payload,
                            std::string_view mac) const;

 private:
  std::string key_;
};

// The fields of one stream entry as read from Redis (untrusted).
struct StreamEntry {
  std::string node;
  std::string seq;  // decimal, from 1, increasing per node
  std::string change;
  std::string mac;
};

// Why an entry of another node was not applied; the label of
// mgw_cluster_rejected_entries_total{reason}.
enum class EntryRejection {
  kNone,
  kUnsigned,         // no mac or no seq (a forged entry, or a node of a version before the MAC)
  kBadMac,           // the MAC does not verify: node id, seq or payload changed, or another key
  kReplayed,         // a seq not above the last one applied from that node (a copied entry)
  kMalformed,        // authenticated, but not a change this version reads
  kFutureWatermark,  // a subject watermark beyond now + kMaxClockSkewSeconds
};
inline constexpr EntryRejection kLastEntryRejection = EntryRejection::kFutureWatermark;
std::string_view rejectionName(EntryRejection r);

// A watermark (revoke every key of a subject issued before T) with T in the future would refuse
// keys not yet issued, for good: refused beyond this skew between the nodes' clocks.
inline constexpr std::int64_t kMaxClockSkewSeconds = 60;

// Checks one entry of another node: its MAC, then its sequence against lastSeq (the highest seq
// applied per node id, updated on acceptance), then decodes it (*out) and refuses a watermark
// beyond nowSeconds + kMaxClockSkewSeconds.
EntryRejection acceptEntry(const StreamEntry& entry, const EntryAuthenticator& auth,
                           std::map<std::string, std::uint64_t>* lastSeq, std::int64_t nowSeconds,
                           lifecycle::Change* out);

}  // namespace mgw::cluster
