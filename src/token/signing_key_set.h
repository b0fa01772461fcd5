// The STS's signing keys over time (issue 25 item 1): one key signs (active); keys that will sign
// later (next) are already published so JWKS caches hold them first; keys that signed before
// (retired) keep verifying until the last key they signed has expired. States follow from dates,
// so a key becomes active or stops verifying at its time without a reload.
//
// On disk (README, "Rotating keys"): a folder, by default runtime/security/signing-keys next to the
// keystore, holding one PEM file per rotated key and keyset.json:
//   {"keys": [{"kid": "...", "file": "<kid>.pem", "created": "2026-12-07T03:00:00Z",
//              "activates": "2026-12-08T03:00:00Z", "verifyUntil": "2027-01-01T00:00:00Z"}]}
// The configured keystore is the first key (kid = certificateAlias, active since ever); an entry
// naming that kid with "file": "" only sets its dates. verifyUntil is optional (the operator's
// date); without it a retired key verifies for the longest validity a key it signed can have.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "token/keys.h"

namespace mgw::token {

// RFC 7638 JWK thumbprint (SHA-256, base64url, no padding) of a public key: the kid of a rotated
// key, so it follows from the key and never from configuration.
std::string jwkThumbprint(const VerificationKey& key);

enum class KeyState { kNext, kActive, kRetired, kExpired };
std::string_view keyStateName(KeyState state);

// One key as keyset.json describes it (key may be null while only the metadata is read).
struct SigningKeyEntry {
  std::string kid;
  std::string file;  // relative to the key set folder; "" for the configured keystore
  std::int64_t created = 0;
  std::int64_t activates = 0;               // starts signing at (epoch seconds)
  std::optional<std::int64_t> verifyUntil;  // the operator's date, when set
  std::shared_ptr<const SigningKey> key;
};

class SigningKeySet {
 public:
  // maxValiditySeconds: the longest validity a signed key can have (<= 0: unlimited, so a retired
  // key verifies until its verifyUntil, or forever without one). skewSeconds is added to that.
  SigningKeySet(std::vector<SigningKeyEntry> keys, std::int64_t maxValiditySeconds,
                std::int64_t skewSeconds);

  // Sorted by activates (the configured keystore first).
  const std::vector<SigningKeyEntry>& keys() const { return keys_; }
  // The key that signs at now: the last whose activates has come (the first when none has).
  // nullptr only for an empty set.
  const SigningKeyEntry* activeAt(std::int64_t now) const;
  KeyState stateAt(std::size_t index, std::int64_t now) const;
  // When keys()[index] stops signing: the next key's activates (nullopt: no successor yet).
  std::optional<std::int64_t> retiresAt(std::size_t index) const;
  // When keys()[index] stops verifying: its verifyUntil, else retiresAt + maxValidity + skew;
  // nullopt: no end (no successor, or unlimited validity without an operator's date).
  std::optional<std::int64_t> verifiesUntil(std::size_t index) const;

 private:
  std::vector<SigningKeyEntry> keys_;
  std::int64_t maxValidity_;
  std::int64_t skew_;
};

// "2026-12-07T03:00:00Z" (RFC 3339 UTC, seconds, 'Z') to epoch seconds; nullopt otherwise.
std::optional<std::int64_t> parseIsoTime(std::string_view text);

constexpr const char* kKeySetFileName = "keyset.json";

// Reads <folder>/keyset.json (without loading key files). A missing folder or file is an empty
// list (a one-key set). False with error naming the file and the entry otherwise.
bool readKeySetFile(const std::string& folder, std::vector<SigningKeyEntry>* entries,
                    std::string* error);
// Writes <folder>/keyset.json atomically (a temporary file renamed over it), mode 0644.
bool writeKeySetFile(const std::string& folder, const std::vector<SigningKeyEntry>& entries,
                     std::string* error);

}  // namespace mgw::token
