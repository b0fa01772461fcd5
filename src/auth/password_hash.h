// Stored password hashes: argon2id (libsodium's self-describing string), and the unsalted hex
// digests kept only to migrate WSO2 configurations. Trusts the stored hash (it comes from the
// validated configuration), never the password.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/syntax.h"

namespace mgw::auth {

// The stored-hash syntax lives in common/syntax.h (the config loader checks with it too).
using mgw::classifyPasswordHash;
using mgw::PasswordHashKind;

// True when `password` matches `stored`. argon2id through crypto_pwhash_str_verify; the digests are
// compared in constant time after lowercasing the stored hex. False for a malformed `stored`.
[[nodiscard]] bool verifyPassword(std::string_view stored, std::string_view password);

// A fresh argon2id string with a random salt and libsodium's INTERACTIVE limits (the parameters
// UserStore's dummy hash uses, so unknown users and wrong passwords cost the same).
// Throws std::runtime_error when libsodium cannot allocate the memory.
std::string hashPassword(std::string_view password);

}  // namespace mgw::auth
