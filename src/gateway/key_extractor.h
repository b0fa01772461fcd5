// Finds the API key in a request at the API's declared locations, in order. Judges nothing: the
// value is client input, validated later by the key validator.
#pragma once

#include <optional>
#include <string>

#include "gateway/api.h"
#include "gateway/http_message.h"

namespace mgw::gateway {

struct ExtractedKey {
  std::string value;
  KeySource source;  // where it was found, so the proxy strips exactly that
};

// The first non-empty value among api.keySources: header names case-insensitive (RFC 9110 section
// 5.1), surrounding whitespace trimmed (5.5); query names exact, values as the server decoded them.
// An empty value counts as absent. nullopt when no source has a key.
std::optional<ExtractedKey> extractKey(const ApiDefinition& api, const HttpRequest& request);

}  // namespace mgw::gateway
