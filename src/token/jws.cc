#include "token/jws.h"

#include <algorithm>
#include <limits>

#include "common/base64url.h"
#include "token/iso_time.h"

namespace mgw::token {
namespace {

// Header values are attacker-chosen: quote them JSON-style and cut them short before they reach a
// log.
std::string quoteForLog(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  constexpr std::size_t kMax = 64;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

bool decodeJsonObject(std::string_view segment, const char* what, nlohmann::json* out,
                      std::string* reason) {
  std::optional<std::string> bytes = base64UrlDecode(segment);
  if (!bytes) {
    *reason = std::string(what) + " is not base64url (RFC 7515 section 2)";
    return false;
  }
  // RFC 7515 section 5.2 allows a parser that keeps the lexically last duplicate member, as this
  // one does.
  nlohmann::json parsed = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    *reason = std::string(what) + " is not valid JSON";
    return false;
  }
  if (!parsed.is_object()) {
    *reason = std::string(what) + " is not a JSON object";
    return false;
  }
  *out = std::move(parsed);
  return true;
}

// Seconds to milliseconds, saturating: a hostile "exp": 9e18 must not overflow the comparison.
std::int64_t toMillis(std::int64_t seconds) {
  constexpr std::int64_t kLimit = std::numeric_limits<std::int64_t>::max() / 4000;
  if (seconds > kLimit) return kLimit * 1000;
  if (seconds < -kLimit) return -kLimit * 1000;
  return seconds * 1000;
}

VerifyResult refuse(Failure failure, std::string reason) {
  VerifyResult result;
  result.failure = failure;
  result.reason = std::move(reason);
  return result;
}

}  // namespace

std::optional<ParsedJws> parseCompact(std::string_view token, Failure* failure,
                                      std::string* reason) {
  auto malformed = [&](Failure f, std::string why) -> std::optional<ParsedJws> {
    if (failure) *failure = f;
    if (reason) *reason = std::move(why);
    return std::nullopt;
  };
  if (token.size() > kMaxTokenBytes) {
    return malformed(Failure::kKeyTooLarge, "key is " + std::to_string(token.size()) +
                                                " bytes; the limit is " +
                                                std::to_string(kMaxTokenBytes));
  }
  // RFC 7515 section 7.1: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature).
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    std::size_t dots = 0;
    for (char c : token) dots += c == '.';
    return malformed(Failure::kMalformedKey,
                     "key has " + std::to_string(dots + 1) +
                         " dot-separated segments; a JWS compact key has 3 (RFC 7515 section 7.1)");
  }
  ParsedJws jws;
  std::string why;
  if (!decodeJsonObject(token.substr(0, first), "header", &jws.header, &why) ||
      !decodeJsonObject(token.substr(first + 1, second - first - 1), "payload", &jws.payload,
                        &why)) {
    return malformed(Failure::kMalformedKey, why);
  }
  // An empty signature decodes to empty bytes, so "alg": "none" keys reach the algorithm check and
  // are refused there by name.
  std::optional<std::string> signature = base64UrlDecode(token.substr(second + 1));
  if (!signature)
    return malformed(Failure::kMalformedKey, "signature is not base64url (RFC 7515 section 2)");
  jws.signature = std::move(*signature);
  jws.signingInput = token.substr(0, second);
  return jws;
}

std::optional<std::string> signCompact(nlohmann::json header, const nlohmann::json& claims,
                                       const SigningKey& key) {
  if (!header.is_object() || !claims.is_object()) return std::nullopt;
  header["alg"] = std::string(algorithmName(key.algorithm()));
  std::string signingInput;
  try {
    // dump() throws on strings that are not UTF-8 (RFC 8259 section 8.1): refuse rather than
    // mangle.
    signingInput = base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims.dump());
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  std::optional<std::string> signature = key.sign(signingInput);
  if (!signature) return std::nullopt;
  return signingInput + "." + base64UrlEncode(*signature);
}

VerifyResult verifyToken(std::string_view token, const KeySet& keys, std::int64_t nowSeconds,
                         std::int64_t skewMs) {
  Failure failure = Failure::kNone;
  std::string reason;
  std::optional<ParsedJws> jws = parseCompact(token, &failure, &reason);
  if (!jws) return refuse(failure, reason);

  // RFC 7515 section 4.1.11: extensions we do not understand must not be ignored.
  if (jws->header.contains("crit")) {
    return refuse(Failure::kMalformedKey,
                  "header has \"crit\" extensions micro-gw does not implement "
                  "(RFC 7515 section 4.1.11)");
  }
  const auto alg = jws->header.find("alg");
  if (alg == jws->header.end())
    return refuse(Failure::kMalformedKey, "header has no \"alg\" (RFC 7515 section 4.1.1)");
  if (!alg->is_string()) return refuse(Failure::kMalformedKey, "header \"alg\" is not a string");

  // The kid only selects a key; the key, not the token, decides the algorithm (RFC 8725
  // section 3.1).
  std::optional<std::string> kid;
  if (auto it = jws->header.find("kid"); it != jws->header.end()) {
    if (!it->is_string()) return refuse(Failure::kMalformedKey, "header \"kid\" is not a string");
    kid = it->get<std::string>();
  }
  // The issuer selects the key (SPEC section 7): iss is read here unverified, only to choose; the
  // signature then proves it, and a key never verifies a token of another issuer.
  const auto issClaim = jws->payload.find("iss");
  if (issClaim == jws->payload.end() || !issClaim->is_string())
    return refuse(Failure::kWrongIssuer,
                  "no iss claim (or not a string): no issuer to verify with");
  std::size_t issuerKeys = 0;
  const TrustedKey* trusted =
      keys.select(issClaim->get_ref<const std::string&>(), kid, &issuerKeys);
  if (issuerKeys == 0)
    return refuse(Failure::kWrongIssuer,
                  "iss " + quoteForLog(*issClaim) + " is not a trusted issuer");
  if (trusted == nullptr || !trusted->key) {
    if (!kid) {
      return refuse(Failure::kUnknownKey,
                    "header has no \"kid\" and issuer " + quoteForLog(*issClaim) + " has " +
                        std::to_string(issuerKeys) + " trusted keys, so none can be chosen");
    }
    return refuse(Failure::kUnknownKey, "kid " + quoteForLog(*kid) +
                                            " names none of the trusted keys of issuer " +
                                            quoteForLog(*issClaim));
  }
  if (trusted->verifiesUntil && nowSeconds > *trusted->verifiesUntil) {
    return refuse(Failure::kUnknownKey, "kid " + quoteForLog(trusted->kid) +
                                            " is a retired signing key that stopped verifying at " +
                                            isoTime(*trusted->verifiesUntil));
  }
  const std::string_view expectedAlg = algorithmName(trusted->key->algorithm());
  if (alg->get_ref<const std::string&>() != expectedAlg) {
    return refuse(Failure::kAlgorithmMismatch,
                  "alg " + quoteForLog(*alg) + " is not " + std::string(expectedAlg) +
                      ", the algorithm of trusted key " + quoteForLog(trusted->kid));
  }
  if (jws->signature.size() != trusted->key->signatureSize()) {
    return refuse(Failure::kBadSignature, "signature is " + std::to_string(jws->signature.size()) +
                                              " bytes; " + std::string(expectedAlg) +
                                              " with this key needs " +
                                              std::to_string(trusted->key->signatureSize()));
  }
  if (!trusted->key->verify(jws->signingInput, jws->signature)) {
    return refuse(Failure::kBadSignature, "signature does not verify with trusted key " +
                                              quoteForLog(trusted->kid) + " (" +
                                              std::string(expectedAlg) + ")");
  }

  Claims claims;
  if (!claimsFromJson(jws->payload, &claims, &reason))
    return refuse(Failure::kMalformedKey, reason);
  // RFC 7519 section 4.1.1: compared as case-sensitive strings, no normalisation.
  if (claims.iss != trusted->issuer) {
    return refuse(Failure::kWrongIssuer,
                  (jws->payload.contains("iss") ? "iss " + quoteForLog(claims.iss)
                                                : std::string("no iss claim")) +
                      "; key " + quoteForLog(trusted->kid) + " is trusted only for issuer " +
                      quoteForLog(trusted->issuer));
  }
  // RFC 7519 section 4.1.3: an issuer configured with an audience accepts only tokens for it.
  if (!trusted->audience.empty() && std::find(claims.audience.begin(), claims.audience.end(),
                                              trusted->audience) == claims.audience.end()) {
    return refuse(
        Failure::kWrongAudience,
        (claims.audience.empty() ? std::string("no aud claim")
                                 : "aud does not name " + quoteForLog(trusted->audience)) +
            "; issuer " + quoteForLog(trusted->issuer) + " requires audience " +
            quoteForLog(trusted->audience));
  }
  // RFC 7519 sections 4.1.4 and 4.1.5, with the configured leeway; compared in milliseconds.
  const std::int64_t skew =
      std::max<std::int64_t>(0, std::min<std::int64_t>(skewMs, 365LL * 24 * 3600 * 1000));
  const std::int64_t nowMs = toMillis(nowSeconds);
  if (claims.exp && nowMs > toMillis(*claims.exp) + skew) {
    return refuse(Failure::kExpired, "key expired at " + isoTime(*claims.exp) + " (now " +
                                         isoTime(nowSeconds) + ", skew " + std::to_string(skew) +
                                         " ms)");
  }
  if (claims.nbf && nowMs + skew < toMillis(*claims.nbf)) {
    return refuse(Failure::kNotYetValid, "key is not valid before " + isoTime(*claims.nbf) +
                                             " (now " + isoTime(nowSeconds) + ", skew " +
                                             std::to_string(skew) + " ms)");
  }
  claims.validateAllowedApis = trusted->validateAllowedApis;
  claims.bearer = trusted->bearer;
  claims.keyVerifiesUntil = trusted->verifiesUntil;

  VerifyResult result;
  result.claims = std::move(claims);
  return result;
}

}  // namespace mgw::token
