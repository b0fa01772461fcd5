#include "common/syntax.h"

#include <array>

#include <sodium.h>

#include <string>

namespace mgw {
namespace {

bool consume(std::string_view& s, std::string_view literal) {
  if (s.substr(0, literal.size()) != literal) return false;
  s.remove_prefix(literal.size());
  return true;
}

// 1 to 10 decimal digits (the fields are 32-bit in libsodium's encoding).
bool consumeNumber(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || n > 10) return false;
  s.remove_prefix(n);
  return true;
}

bool isB64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Unpadded standard base64, as the PHC string format writes salt and hash.
bool consumeB64(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && isB64(s[n])) ++n;
  if (n == 0) return false;
  s.remove_prefix(n);
  return true;
}

bool isHexString(std::string_view s, std::size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

}  // namespace

bool isArgon2idString(std::string_view s) {
  if (s.size() >= crypto_pwhash_STRBYTES) return false;
  std::string_view rest = s;
  if (!(consume(rest, "$argon2id$v=19$m=") && consumeNumber(rest) && consume(rest, ",t=") &&
        consumeNumber(rest) && consume(rest, ",p=") && consumeNumber(rest) && consume(rest, "$") &&
        consumeB64(rest) && consume(rest, "$") && consumeB64(rest) && rest.empty()))
    return false;
  // The grammar alone passes strings libsodium cannot verify (m=1, a 2-byte salt): ask libsodium,
  // which decodes and checks every bound, without running argon2id.
  if (sodium_init() < 0) return false;
  const std::string nulTerminated(s);
  return crypto_pwhash_str_needs_rehash(nulTerminated.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) >= 0;
}

namespace {

struct DigestForm {
  std::string_view prefix;
  PasswordHashKind kind;
  std::size_t hexLength;
};
constexpr DigestForm kDigestForms[] = {{"@sha256:", PasswordHashKind::kSha256, 64},
                                       {"@sha384:", PasswordHashKind::kSha384, 96},
                                       {"@sha512:", PasswordHashKind::kSha512, 128}};

// The digest form stored starts with, or nullptr.
const DigestForm* digestForm(std::string_view stored) {
  for (const DigestForm& f : kDigestForms) {
    if (stored.substr(0, f.prefix.size()) == f.prefix) return &f;
  }
  return nullptr;
}

// After the prefix: <hex> or Ballerina's {<hex>}.
bool inBraces(std::string_view rest) {
  return rest.size() >= 2 && rest.front() == '{' && rest.back() == '}';
}

}  // namespace

std::optional<PasswordHashKind> classifyPasswordHash(std::string_view stored) {
  constexpr std::string_view kArgon2idPrefix = "$argon2id$";
  if (stored.substr(0, kArgon2idPrefix.size()) == kArgon2idPrefix) {
    if (isArgon2idString(stored)) return PasswordHashKind::kArgon2id;
    return std::nullopt;
  }
  if (const DigestForm* f = digestForm(stored)) {
    if (isHexString(passwordDigestHex(stored), f->hexLength)) return f->kind;
    return std::nullopt;
  }
  if (isHexString(stored, 40)) return PasswordHashKind::kSha1Legacy;
  return std::nullopt;
}

std::string_view passwordDigestHex(std::string_view stored) {
  const DigestForm* f = digestForm(stored);
  if (f == nullptr) return isHexString(stored, 40) ? stored : std::string_view();
  std::string_view rest = stored.substr(f->prefix.size());
  return inBraces(rest) ? rest.substr(1, rest.size() - 2) : rest;
}

bool isLegacyWso2PasswordHash(std::string_view stored) {
  const auto kind = classifyPasswordHash(stored);
  if (!kind || *kind == PasswordHashKind::kArgon2id) return false;
  if (*kind == PasswordHashKind::kSha1Legacy) return true;
  return inBraces(stored.substr(digestForm(stored)->prefix.size())) ||
         *kind != PasswordHashKind::kSha256;
}

bool isHttpToken(std::string_view s) {
  // tchar (RFC 9110 section 5.6.2) as a table: header names are checked on every request.
  static constexpr auto kTchar = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
  }();
  if (s.empty()) return false;
  for (char c : s)
    if (!kTchar[static_cast<unsigned char>(c)]) return false;
  return true;
}

std::optional<HostAndPort> splitHostAndPort(std::string_view authority, std::string* error) {
  HostAndPort out;
  std::string_view after;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      if (error) *error = "an unterminated IPv6 literal";
      return std::nullopt;
    }
    out.host = authority.substr(1, close - 1);
    out.ipLiteral = true;
    after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      if (error) *error = "junk after the IPv6 literal";
      return std::nullopt;
    }
  } else {
    const auto colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) after = authority.substr(colon);
  }
  out.hasPort = !after.empty();
  if (out.hasPort) out.port = after.substr(1);
  return out;
}

bool isHostFieldValue(std::string_view s) {
  static constexpr std::string_view kSubDelims = "!$&'()*+,;=";
  auto isHex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  auto isUnreservedOrSubDelim = [](char c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return alnum || c == '-' || c == '.' || c == '_' || c == '~' ||
           kSubDelims.find(c) != std::string_view::npos;
  };
  const auto split = splitHostAndPort(s, nullptr);
  if (!split) return false;
  const std::string_view host = split->host;
  if (split->ipLiteral) {
    // IPv6address or IPvFuture ("v" HEXDIG "." ...), both within these characters.
    if (host.empty()) return false;
    for (char c : host)
      if (!isUnreservedOrSubDelim(c) && c != ':') return false;
  } else {
    // reg-name (an IPv4 address is one): unreserved, pct-encoded, sub-delims.
    for (std::size_t i = 0; i < host.size(); ++i) {
      if (host[i] == '%') {
        if (i + 2 >= host.size() || !isHex(host[i + 1]) || !isHex(host[i + 2])) return false;
        i += 2;
      } else if (!isUnreservedOrSubDelim(host[i])) {
        return false;
      }
    }
  }
  for (char c : split->port)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace mgw
