// Stored password hashes: argon2id (libsodium's self-describing string), and the unsalted hex
// digests kept only to migrate WSO2 configurations. Trusts the stored hash (it comes from the
// validated configuration), never the password.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mgw::auth {

enum class PasswordHashKind {
  kArgon2id,    // $argon2id$v=19$m=...,t=...,p=...$salt$hash (what `micro-gw hash-password` writes)
  kSha256,      // @sha256:<64 hex>, unsalted
  kSha1Legacy,  // exactly 40 hex: WSO2 API Microgateway 3.x's unsalted SHA-1; accepted with a
                // warning
};

// What kind of hash `stored` is, or nullopt when it is none of them (malformed, truncated, a
// plaintext password). Hex digits may be in either case.
std::optional<PasswordHashKind> classifyPasswordHash(std::string_view stored);

// True when `password` matches `stored`. argon2id through crypto_pwhash_str_verify; the digests are
// compared in constant time after lowercasing the stored hex. False for a malformed `stored`.
[[nodiscard]] bool verifyPassword(std::string_view stored, std::string_view password);

// A fresh argon2id string with a random salt and libsodium's INTERACTIVE limits (the parameters
// UserStore's dummy hash uses, so unknown users and wrong passwords cost the same).
// Throws std::runtime_error when libsodium cannot allocate the memory.
std::string hashPassword(std::string_view password);

}  // namespace mgw::auth
