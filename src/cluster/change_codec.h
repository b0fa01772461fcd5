// The wire form of a lifecycle::Change in the Redis stream: one JSON object per entry. Holds ids,
// owners, keyed hashes of opaque keys (never a key value) and revocation facts. decodeChange
// trusts nothing: a field of the wrong type or a missing one rejects the entry.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lifecycle/change.h"

namespace mgw::cluster {

std::string encodeChange(const lifecycle::Change& change);
std::optional<lifecycle::Change> decodeChange(std::string_view text);

// A short name of the change for logs ("revoke_jti", "key", ...).
std::string_view changeKindName(lifecycle::Change::Kind kind);

}  // namespace mgw::cluster
