// The one validator of each small syntax that more than one module reads: argon2id password
// strings and HTTP tokens (header names). The config loader checks with the same function the
// module that later uses the value relies on, so a configuration that loads can always be applied.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mgw {

// $argon2id$v=19$m=<n>,t=<n>,p=<n>$<salt>$<hash> (libsodium's crypto_pwhash_str format) that
// libsodium itself accepts: version 19, parameters and salt and hash lengths within Argon2's
// bounds, shorter than crypto_pwhash_STRBYTES. Never throws.
[[nodiscard]] bool isArgon2idString(std::string_view s);

enum class PasswordHashKind {
  kArgon2id,    // $argon2id$v=19$m=...,t=...,p=...$salt$hash (what `micro-gw hash-password` writes)
  kSha256,      // @sha256:<64 hex>, unsalted (or Ballerina's @sha256:{<64 hex>})
  kSha1Legacy,  // exactly 40 hex: WSO2 API Microgateway 3.x's unsalted SHA-1; accepted with a
                // warning
  kSha384,      // Ballerina's @sha384:{<96 hex>} (or without the braces), unsalted
  kSha512,      // Ballerina's @sha512:{<128 hex>} (or without the braces), unsalted
};

// The hex digest of an @sha256: / @sha384: / @sha512: hash, without Ballerina's braces ("" for any
// other kind). Call after classifyPasswordHash accepted stored.
[[nodiscard]] std::string_view passwordDigestHex(std::string_view stored);

// True for the forms WSO2 API Microgateway 3.x (Ballerina's config auth store) wrote and micro-gw
// accepts only to migrate, with a warning: the bare SHA-1 and @shaN:{hex} in braces.
[[nodiscard]] bool isLegacyWso2PasswordHash(std::string_view stored);

// What kind of stored password hash `stored` is, or nullopt when it is none of them (malformed,
// truncated, an argon2id string libsodium would refuse, a plaintext password). Hex digits may be in
// either case. The config loader and the user store both decide with this.
[[nodiscard]] std::optional<PasswordHashKind> classifyPasswordHash(std::string_view stored);

// RFC 9110 section 5.6.2 token (what a header field name may be): one or more tchar.
[[nodiscard]] bool isHttpToken(std::string_view s);

// An authority without userinfo split as RFC 3986 section 3.2.2 reads it: an IP-literal in
// brackets or a name, then ":" port. Nothing is validated beyond the split.
struct HostAndPort {
  std::string_view host;  // without the brackets of an IP-literal
  std::string_view port;  // the text after the colon, "" when there is none
  bool ipLiteral = false;
  bool hasPort = false;  // a colon followed the host (the port may still be empty)
};
// nullopt with *error ("an unterminated IPv6 literal", "junk after the IPv6 literal") otherwise.
[[nodiscard]] std::optional<HostAndPort> splitHostAndPort(std::string_view authority,
                                                          std::string* error);

// RFC 9112 section 3.2 Host field value: uri-host [ ":" port ] (RFC 3986 section 3.2.2): an
// IP-literal in brackets, or a reg-name (unreserved, pct-encoded, sub-delims; an IPv4 address is
// one), then digits after one colon. Empty is valid (a target without authority). No userinfo, no
// path, no space.
[[nodiscard]] bool isHostFieldValue(std::string_view s);

}  // namespace mgw
