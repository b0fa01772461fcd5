// The backend JWT: claims, signature against the published key, the cache per (key, API) and its
// bound, and the cost of a miss against a hit.
#include "gateway/backend_jwt.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "common/base64url.h"
#include "token/jws.h"

namespace mgw::gateway {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const token::SigningKey> makeKey(token::Algorithm alg, const char* name) {
  const fs::path dir =
      fs::temp_directory_path() / ("mgw-backend-jwt-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / name;
  fs::remove(path);
  std::string error;
  EXPECT_TRUE(token::generateKeystore(path.string(), alg, "", &error)) << error;
  auto key = token::SigningKey::load(path.string(), "", alg, &error);
  EXPECT_TRUE(key) << error;
  fs::remove_all(dir);
  return key;
}

Principal caller(const std::string& keyId) {
  Principal v;
  v.keyId = keyId;
  v.subject = "alice";
  v.keytype = "PRODUCTION";
  v.application = "webshop";
  return v;
}

ApiDefinition api(const std::string& name) {
  ApiDefinition a;
  a.name = name;
  a.version = "1.0.0";
  a.context = "/" + name + "/1.0.0";
  return a;
}

token::KeySet published(const BackendJwtGenerator& g, const token::SigningKey& key) {
  token::KeySet set;
  set.add({g.kid(), "micro-gw", key.publicKey(), true});
  return set;
}

TEST(BackendJwtTest, ClaimsAndSignature) {
  auto key = makeKey(token::Algorithm::kES256, "es.pem");
  config::JwtGeneratorConfig cfg;
  BackendJwtGenerator g(cfg, key);
  auto jwt = g.tokenFor(caller("jti-1"), api("Pizza"), 1000);
  ASSERT_TRUE(jwt);
  const auto set = published(g, *key);
  auto v = token::verifyToken(*jwt, set, 1000, 0);
  ASSERT_EQ(v.failure, Failure::kNone) << v.reason;
  Failure f;
  std::string why;
  auto parsed = token::parseCompact(*jwt, &f, &why);
  ASSERT_TRUE(parsed);
  const auto& c = parsed->payload;
  EXPECT_EQ(parsed->header["kid"], "micro-gw-backend");
  EXPECT_EQ(c["iss"], "micro-gw");
  EXPECT_EQ(c["aud"], "Pizza:1.0.0");
  EXPECT_EQ(c["sub"], "alice");
  EXPECT_EQ(c["subscriber"], "alice");
  EXPECT_EQ(c["keytype"], "PRODUCTION");
  EXPECT_EQ(c["application"], "webshop");
  EXPECT_FALSE(c.contains("tier"));  // the key has none: omitted
  EXPECT_EQ(c["apiName"], "Pizza");
  EXPECT_EQ(c["apiVersion"], "1.0.0");
  EXPECT_EQ(c["apiContext"], "/Pizza/1.0.0");
  EXPECT_EQ(c["iat"], 1000);
  EXPECT_EQ(c["exp"], 1900);
  EXPECT_TRUE(c.contains("jti"));
  // Expired for a verifier past exp.
  EXPECT_EQ(token::verifyToken(*jwt, set, 1901, 0).failure, Failure::kExpired);

  cfg.claims = {"sub"};
  BackendJwtGenerator only(cfg, key);
  auto less = token::parseCompact(*only.tokenFor(caller("jti-1"), api("Pizza"), 1000), &f, &why);
  EXPECT_FALSE(less->payload.contains("application"));
  EXPECT_FALSE(less->payload.contains("keytype"));
  EXPECT_EQ(less->payload["sub"], "alice");
}

// Issue 22 item 8: the token names who issued the credential (idp) and how it was presented
// (authMethod), so a partner issuer's "admin" is told from the local "admin"; a cached token is
// never handed to a caller of another issuer or scheme.
TEST(BackendJwtTest, NamesTheCredentialsIssuerAndTheAuthenticationMethod) {
  auto key = makeKey(token::Algorithm::kES256, "es.pem");
  config::JwtGeneratorConfig cfg;
  BackendJwtGenerator g(cfg, key);
  Failure f;
  std::string why;
  auto claimsOf = [&](const Principal& p) {
    auto jwt = g.tokenFor(p, api("Pizza"), 1000);
    EXPECT_TRUE(jwt);
    return token::parseCompact(jwt.value_or(""), &f, &why)->payload;
  };
  Principal local = caller("same-id");
  local.subject = "admin";
  local.issuer = "https://localhost:9095/apikey";
  Principal partner = local;
  partner.issuer = "https://partner.example/sts";
  Principal basic = local;
  basic.scheme = Scheme::kBasic;
  Principal bearer = partner;
  bearer.scheme = Scheme::kBearer;
  const auto l = claimsOf(local), p = claimsOf(partner), b = claimsOf(basic), o = claimsOf(bearer);
  EXPECT_EQ(l["sub"], "admin");
  EXPECT_EQ(p["sub"], "admin");
  EXPECT_EQ(l["idp"], "https://localhost:9095/apikey");
  EXPECT_EQ(p["idp"], "https://partner.example/sts");
  EXPECT_EQ(l["authMethod"], "api_key");
  EXPECT_EQ(b["authMethod"], "basic_auth");
  EXPECT_EQ(o["authMethod"], "oauth2");
  EXPECT_NE(l["jti"], p["jti"]);  // not the cached token of the other issuer
  EXPECT_NE(l["jti"], b["jti"]);  // nor of the other scheme
  // Mutual TLS (issue 24 item 7): the certificate's RFC 8705 confirmation and subject.
  Principal certified = local;
  certified.scheme = Scheme::kMutualTls;
  certified.clientCertSubject = "CN=reader";
  certified.clientCertSha256 = std::string(64, 'a');
  const auto m = claimsOf(certified);
  EXPECT_EQ(m["authMethod"], "mutualssl");
  EXPECT_EQ(m["clientCertificateSubject"], "CN=reader");
  EXPECT_EQ(m["cnf"]["x5t#S256"], base64UrlEncode(std::string(32, '\xaa')));
  EXPECT_FALSE(l.contains("cnf"));
}

TEST(BackendJwtTest, CachedPerKeyAndApiUntilTheRefreshMargin) {
  auto key = makeKey(token::Algorithm::kES256, "es.pem");
  config::JwtGeneratorConfig cfg;  // 900 s: reused until 60 s before exp
  BackendJwtGenerator g(cfg, key);
  EXPECT_EQ(g.refreshMargin(), 60);
  const auto first = g.tokenFor(caller("k1"), api("A"), 1000);
  EXPECT_EQ(g.tokenFor(caller("k1"), api("A"), 1000 + 839), first);
  EXPECT_NE(g.tokenFor(caller("k1"), api("A"), 1000 + 840), first);  // renewed
  EXPECT_NE(g.tokenFor(caller("k2"), api("A"), 1000), first);        // another key
  EXPECT_NE(g.tokenFor(caller("k1"), api("B"), 1000), first);        // another API
  auto moved = caller("k1");
  moved.application = "other";
  EXPECT_NE(g.tokenFor(moved, api("A"), 1000), first);  // what it says changed
}

TEST(BackendJwtTest, CacheIsBounded) {
  auto key = makeKey(token::Algorithm::kEdDSA, "ed.pem");
  config::JwtGeneratorConfig cfg;
  cfg.cacheCapacity = 3;
  BackendJwtGenerator g(cfg, key);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(g.tokenFor(caller("k" + std::to_string(i)), api("A"), 1));
  EXPECT_EQ(g.size(), 3u);
}

// Not a pass/fail bound (sanitizer builds are slower): prints the cost of a miss per algorithm
// and of a hit, the figures the README quotes.
TEST(BackendJwtTest, CostOfAMissAndOfAHit) {
  using clock = std::chrono::steady_clock;
  for (auto [alg, name] :
       {std::pair{token::Algorithm::kRS256, "RS256"}, std::pair{token::Algorithm::kES256, "ES256"},
        std::pair{token::Algorithm::kEdDSA, "EdDSA"}}) {
    auto key = makeKey(alg, "cost.pem");
    config::JwtGeneratorConfig cfg;
    BackendJwtGenerator g(cfg, key);
    constexpr int kMisses = 200;
    auto t0 = clock::now();
    for (int i = 0; i < kMisses; ++i)
      ASSERT_TRUE(g.tokenFor(caller("m" + std::to_string(i)), api("A"), 1));
    const double missUs =
        std::chrono::duration<double, std::micro>(clock::now() - t0).count() / kMisses;
    constexpr int kHits = 100000;
    const auto same = caller("m7");
    const auto a = api("A");
    t0 = clock::now();
    for (int i = 0; i < kHits; ++i) ASSERT_TRUE(g.tokenFor(same, a, 2));
    const double hitUs =
        std::chrono::duration<double, std::micro>(clock::now() - t0).count() / kHits;
    std::printf("backend JWT %s: %.1f us per miss (sign), %.2f us per hit\n", name, missUs, hitUs);
    EXPECT_LT(hitUs, missUs);
  }
}

}  // namespace
}  // namespace mgw::gateway
