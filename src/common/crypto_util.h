// Small crypto helpers every module shares: constant-time comparison, randomness, hashing, wiping.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mgw {

// Constant time in the length of the inputs; different lengths compare unequal without early exit
// on content.
[[nodiscard]] bool constantTimeEquals(std::string_view a, std::string_view b);

std::string randomBytes(size_t n);
std::string uuidV4();
using Sha256Digest = std::array<unsigned char, 32>;
Sha256Digest sha256Digest(std::string_view data);  // no allocation: for per-request lookups
std::string sha256(std::string_view data);         // raw 32 bytes
std::string hexEncode(std::string_view bytes);
// A short, non-reversible fingerprint of a secret for logs: first 12 hex chars of SHA-256.
std::string fingerprint(std::string_view secret);
void secureWipe(std::string& secret);

}  // namespace mgw
