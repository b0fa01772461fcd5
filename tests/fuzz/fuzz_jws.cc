// Fuzzes the API key path before trust: JWS compact parsing, kid -> key, alg pinning, signature,
// iss, exp/nbf (token/jws.h), and the claim reader on whatever payload parsed. The key set holds
// the RFC 7515 A.2 (RS256), A.3 (ES256) and RFC 8037 (EdDSA) public keys, loaded once, so the seed
// corpus can carry correctly signed keys that reach the claim checks.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "token/jws.h"
#include "token/keys.h"

#ifndef MGW_TESTDATA_DIR
#error "MGW_TESTDATA_DIR must name tests/testdata"
#endif

namespace {

constexpr std::int64_t kNow = 1700000000;  // fixed, so a run is reproducible
constexpr std::int64_t kSkewMs = 5000;

mgw::token::KeySet makeKeys() {
  mgw::token::KeySet keys;
  const struct {
    const char* kid;
    const char* file;
  } entries[] = {{"ballerina", "rfc7515_a2_rsa_public.pem"},
                 {"ec", "rfc7515_a3_ec_public.pem"},
                 {"ed", "rfc8037_a_ed25519_public.pem"}};
  for (const auto& e : entries) {
    std::string error;
    auto key = mgw::token::VerificationKey::fromPemFile(
        std::string(MGW_TESTDATA_DIR) + "/token/" + e.file, &error);
    if (!key) {
      std::fprintf(stderr, "fuzz_jws: cannot load %s: %s\n", e.file, error.c_str());
      std::abort();
    }
    keys.add({e.kid, "https://localhost:9095/apikey", std::move(key), true});
  }
  return keys;
}

const mgw::token::KeySet& keys() {
  static const mgw::token::KeySet set = makeKeys();
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);

  mgw::Failure failure = mgw::Failure::kNone;
  std::string reason;
  auto parsed = mgw::token::parseCompact(token, &failure, &reason);
  if (parsed) {
    if (!parsed->header.is_object() || !parsed->payload.is_object()) std::abort();
    mgw::token::Claims claims;
    std::string why;
    (void)mgw::token::claimsFromJson(parsed->payload, &claims, &why);
  } else if (failure != mgw::Failure::kKeyTooLarge && failure != mgw::Failure::kMalformedKey) {
    std::abort();
  }

  const auto result = mgw::token::verifyToken(token, keys(), kNow, kSkewMs);
  if (result.failure == mgw::Failure::kNone) {
    if (!parsed) std::abort();  // verified what does not even parse
    if (result.claims.iss != "https://localhost:9095/apikey") std::abort();
  } else if (result.reason.empty()) {
    std::abort();  // every refusal has an internal reason for the log
  }
  // The reason goes to the log: it must never carry a key. (Only for key-shaped inputs: random
  // text can equal a piece of the fixed reason wording.)
  const bool keyShaped =
      size >= 24 && std::count(token.begin(), token.end(), '.') == 2 &&
      token.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=") ==
          std::string_view::npos;
  if (keyShaped && result.reason.find(token) != std::string::npos) std::abort();
  return 0;
}
