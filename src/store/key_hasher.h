// Opaque API key values: generation, the rules for caller-supplied values, and the keyed hash that
// is the only form in which a value is ever stored. The secret lives in a 0600 file next to the db.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mgw::store {

// Keyed BLAKE2b-256 (libsodium crypto_generichash) of a key value with a per-installation secret:
// a copied database alone does not let anyone test guesses of key values offline.
class KeyHasher {
 public:
  static constexpr size_t kSecretBytes = 32;
  static constexpr size_t kHashBytes = 32;

  // Loads the secret from secretPath, or creates it (32 random bytes, mode 0600, fsynced) when the
  // file does not exist. A file of the wrong size is refused, never replaced: replacing it would
  // silently invalidate every stored key. Throws StoreError.
  static KeyHasher loadOrCreate(const std::string& secretPath);
  // "<databasePath>.key", e.g. runtime/data/micro-gw.db.key.
  static std::string secretPathFor(const std::string& databasePath);

  // secret must be kSecretBytes long (throws std::invalid_argument otherwise). For tests and
  // loadOrCreate.
  explicit KeyHasher(std::string secret);
  ~KeyHasher();  // wipes the secret
  KeyHasher(KeyHasher&& other) noexcept;
  KeyHasher& operator=(KeyHasher&&) = delete;
  KeyHasher(const KeyHasher&) = delete;  // one copy of the secret in memory
  KeyHasher& operator=(const KeyHasher&) = delete;

  // kHashBytes raw bytes.
  std::string hash(std::string_view keyValue) const;

 private:
  std::string secret_;
};

// A new random key: 32 random bytes, base64url without padding (43 characters).
std::string generateOpaqueKey();

// nullopt when value may be a custom key: 8 to 64 characters, each an RFC 3986 unreserved
// character or sub-delim (section 2.2, 2.3), minus ~ , ; = (so: A-Z a-z 0-9 - . _ ! $ & ' ( ) * +).
// Otherwise a message for the caller that never repeats the value.
std::optional<std::string> validateCustomKeyValue(std::string_view value);

// The last four characters shown in listings (the whole value if shorter).
std::string lastFourOf(std::string_view value);

}  // namespace mgw::store
