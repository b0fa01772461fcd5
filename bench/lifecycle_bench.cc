// Opaque API keys next to signed keys, measured the same way (Google Benchmark, one process, one
// run): KeyValidator::validate for an opaque key against an OpaqueKeyIndex of 100,000 keys hashed
// with the store's KeyHasher (keyed BLAKE2b-256), one key (hit) and 2,000 keys in turn; the index
// lookup and the hash alone; and signed ES256/RS256/EdDSA keys with the validated-key cache hitting
// and missing, as in validator_bench.cc.
// Run: build-bench/bench/mgw-lifecycle-bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/key_format.h"
#include "config/config.h"
#include "gateway/api.h"
#include "gateway/key_validator.h"
#include "store/key_hasher.h"
#include "store/opaque_key_index.h"
#include "token/jws.h"
#include "token/keys.h"

namespace {

using namespace mgw;

const char* kIssuer = "https://localhost:9095/apikey";
constexpr int kIndexedKeys = 100000;
constexpr int kPool = 2000;

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

gateway::ApiDefinition benchApi() {
  gateway::ApiDefinition api;
  api.name = "BenchAPI";
  api.version = "1.0.0";
  api.context = "/bench";
  api.production.urls = {"http://127.0.0.1:1/bench"};
  return api;
}

config::Config benchConfig() {
  config::Config c;
  c.caching.enabled = true;
  c.caching.tokenCacheCapacity = 1000;  // < kPool: the rotating signed pool misses every time
  c.caching.tokenCacheExpiryTime = 900;
  return c;
}

// --- opaque ---

struct OpaqueFixture {
  store::KeyHasher hasher{std::string(store::KeyHasher::kSecretBytes, '\x42')};
  std::shared_ptr<store::OpaqueKeyIndex> index;
  std::vector<std::string> values;  // the first kPool of the indexed keys

  OpaqueFixture() {
    index = std::make_shared<store::OpaqueKeyIndex>(
        [this](std::string_view v) { return hasher.hash(v); });
    std::vector<std::pair<std::string, store::OpaqueKeyEntry>> entries;
    entries.reserve(kIndexedKeys);
    for (int i = 0; i < kIndexedKeys; ++i) {
      std::string value = store::generateOpaqueKey();
      store::OpaqueKeyEntry e;
      e.id = "00000000-0000-4000-8000-" + std::to_string(100000000000 + i);
      e.owner = "admin";
      e.apiName = "BenchAPI";
      e.apiVersion = "1.0.0";
      entries.emplace_back(hasher.hash(value), std::move(e));
      if (i < kPool) values.push_back(std::move(value));
    }
    index->replaceAll(std::move(entries), {});
  }
};

OpaqueFixture& opaque() {
  static OpaqueFixture f;
  return f;
}

void BM_OpaqueValidate(benchmark::State& state) {
  const bool one = state.range(0) == 1;
  OpaqueFixture& f = opaque();
  gateway::KeyValidator validator(std::make_shared<token::KeySet>(), benchConfig(), nullptr,
                                  f.index);
  const auto api = benchApi();
  gateway::RequestContext ctx;
  ctx.clientAddress = "127.0.0.1";
  const std::int64_t t = now();
  const std::size_t n = one ? 1 : f.values.size();
  std::size_t i = 0;
  for (auto _ : state) {
    auto verdict = validator.validate(f.values[i], api, ctx, t);
    if (verdict.failure != Failure::kNone) state.SkipWithError("validate failed");
    benchmark::DoNotOptimize(verdict);
    if (++i == n) i = 0;
  }
  state.SetLabel(one ? "one key, index of 100k" : "2,000 keys in turn, index of 100k");
}
BENCHMARK(BM_OpaqueValidate)->Arg(1)->Arg(0);

void BM_OpaqueIndexFind(benchmark::State& state) {
  OpaqueFixture& f = opaque();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.index->find(f.values[i]));
    if (++i == f.values.size()) i = 0;
  }
}
BENCHMARK(BM_OpaqueIndexFind);

void BM_KeyHasherHash(benchmark::State& state) {
  OpaqueFixture& f = opaque();
  for (auto _ : state) benchmark::DoNotOptimize(f.hasher.hash(f.values[0]));
}
BENCHMARK(BM_KeyHasherHash);

// --- signed, as validator_bench.cc ---

struct SignedFixture {
  std::unique_ptr<token::SigningKey> signer;
  std::shared_ptr<token::KeySet> keys = std::make_shared<token::KeySet>();
  std::vector<std::string> pool;

  explicit SignedFixture(token::Algorithm alg) {
    const auto dir =
        std::filesystem::temp_directory_path() /
        ("mgw-lbench-" + std::to_string(getpid()) + "-" + std::string(token::algorithmName(alg)));
    std::filesystem::create_directories(dir);
    const std::string pem = (dir / "signing.pem").string();
    std::string error;
    if (!token::generateKeystore(pem, alg, "", &error)) std::abort();
    signer = token::SigningKey::load(pem, "", alg, &error);
    std::filesystem::remove_all(dir);
    if (!signer) std::abort();
    keys->add(token::TrustedKey{"ballerina", kIssuer, signer->publicKey(), true});
    nlohmann::json header = {{"typ", "JWT"}, {"kid", "ballerina"}};
    for (int i = 0; i < kPool; ++i) {
      nlohmann::json claims = {
          {"sub", "admin"},
          {"iss", kIssuer},
          {"iat", now()},
          {"exp", now() + 86400},
          {"jti", "00000000-0000-4000-8000-" + std::to_string(100000000000 + i)},
          {"keytype", "PRODUCTION"},
          {"allowedAPIs", {{{"name", "BenchAPI"}, {"version", "1.0.0"}}}}};
      pool.push_back(*token::signCompact(header, claims, *signer));
    }
  }
};

SignedFixture& signedFixture(token::Algorithm alg) {
  static std::map<token::Algorithm, std::unique_ptr<SignedFixture>> fixtures;
  auto& f = fixtures[alg];
  if (!f) f = std::make_unique<SignedFixture>(alg);
  return *f;
}

// cached = 1: one key, a cache hit after the first; 0: 2,000 keys against a 1,000-entry cache.
void BM_SignedValidate(benchmark::State& state, token::Algorithm alg) {
  const bool cached = state.range(0) == 1;
  SignedFixture& f = signedFixture(alg);
  gateway::KeyValidator validator(f.keys, benchConfig(), nullptr, opaque().index);
  const auto api = benchApi();
  gateway::RequestContext ctx;
  ctx.clientAddress = "127.0.0.1";
  const std::int64_t t = now();
  const std::size_t n = cached ? 1 : f.pool.size();
  std::size_t i = 0;
  for (auto _ : state) {
    auto verdict = validator.validate(f.pool[i], api, ctx, t);
    if (verdict.failure != Failure::kNone) state.SkipWithError("validate failed");
    benchmark::DoNotOptimize(verdict);
    if (++i == n) i = 0;
  }
  state.SetLabel(cached ? "cached" : "uncached");
}
BENCHMARK_CAPTURE(BM_SignedValidate, ES256, token::Algorithm::kES256)->Arg(1)->Arg(0);
BENCHMARK_CAPTURE(BM_SignedValidate, RS256, token::Algorithm::kRS256)->Arg(1)->Arg(0);
BENCHMARK_CAPTURE(BM_SignedValidate, EdDSA, token::Algorithm::kEdDSA)->Arg(1)->Arg(0);

// --- issue 25: the key format's checksum, last-use tracking ---

// 0: a key of the format with a wrong checksum (refused on the checksum alone); 1: a well-formed
// key this gateway does not know (hashed and looked up in the 100k index). The first must be at
// least 10x faster than the second.
void BM_FormattedKeyRefused(benchmark::State& state) {
  const bool wellFormed = state.range(0) == 1;
  OpaqueFixture& f = opaque();
  gateway::KeyValidator validator(std::make_shared<token::KeySet>(), benchConfig(), nullptr,
                                  f.index);
  const auto api = benchApi();
  gateway::RequestContext ctx;
  ctx.clientAddress = "127.0.0.1";
  const std::int64_t t = now();
  std::vector<std::string> keys;
  for (int i = 0; i < 256; ++i) {
    std::string k = generateFormattedKey("mgw");
    if (!wellFormed) k.back() = k.back() == 'a' ? 'b' : 'a';
    keys.push_back(std::move(k));
  }
  const Failure expected = wellFormed ? Failure::kUnknownKey : Failure::kMalformedKey;
  std::size_t i = 0;
  for (auto _ : state) {
    auto verdict = validator.validate(keys[i], api, ctx, t);
    if (verdict.failure != expected) state.SkipWithError("unexpected verdict");
    benchmark::DoNotOptimize(verdict);
    i = (i + 1) & 255;
  }
  state.SetLabel(wellFormed ? "unknown well-formed key (lookup)" : "mangled checksum (no lookup)");
}
BENCHMARK(BM_FormattedKeyRefused)->Arg(0)->Arg(1);

// Signed ES256 keys framed as "mgw_<JWS>_<checksum>" ([apikey.issuer.tokenConfig] keyPrefix),
// 2,000 in turn (the refusal cache of 1,000 misses): 0, the checksum mangled (refused on it
// alone); 1, the checksum right but a signature character changed (the signature is checked and
// fails). The first must be at least 10x faster than the second.
void BM_FramedKeyRefused(benchmark::State& state) {
  const bool wellFormed = state.range(0) == 1;
  SignedFixture& f = signedFixture(token::Algorithm::kES256);
  gateway::KeyValidator validator(f.keys, benchConfig(), nullptr, opaque().index);
  const auto api = benchApi();
  gateway::RequestContext ctx;
  ctx.clientAddress = "127.0.0.1";
  const std::int64_t t = now();
  std::vector<std::string> keys;
  for (const std::string& jws : f.pool) {
    std::string bad = jws;
    char& c = bad[bad.size() - 10];  // inside the signature: still base64url, no longer valid
    if (wellFormed) c = c == 'A' ? 'B' : 'A';
    std::string k = frameSignedKey("mgw", bad);
    if (!wellFormed) k.back() = k.back() == 'a' ? 'b' : 'a';
    keys.push_back(std::move(k));
  }
  const Failure expected = wellFormed ? Failure::kBadSignature : Failure::kMalformedKey;
  std::size_t i = 0;
  for (auto _ : state) {
    auto verdict = validator.validate(keys[i], api, ctx, t);
    if (verdict.failure != expected) state.SkipWithError("unexpected verdict");
    benchmark::DoNotOptimize(verdict);
    if (++i == keys.size()) i = 0;
  }
  state.SetLabel(wellFormed ? "framed, bad signature (verified)" : "framed, mangled checksum");
}
BENCHMARK(BM_FramedKeyRefused)->Arg(0)->Arg(1);

// Signed ES256 key, cached, with [apikey] trackLastUsed off (0) and on (1): on must be >= 0.97x.
void BM_SignedLastUsed(benchmark::State& state) {
  SignedFixture& f = signedFixture(token::Algorithm::kES256);
  config::Config c = benchConfig();
  c.opaqueKeys.trackLastUsed = state.range(0) == 1;
  gateway::KeyValidator validator(f.keys, c, nullptr, opaque().index);
  const auto api = benchApi();
  gateway::RequestContext ctx;
  ctx.clientAddress = "127.0.0.1";
  std::int64_t t = now();
  for (auto _ : state) {
    auto verdict = validator.validate(f.pool[0], api, ctx, t);
    if (verdict.failure != Failure::kNone) state.SkipWithError("validate failed");
    benchmark::DoNotOptimize(verdict);
  }
  (void)opaque().index->takeUses();
  state.SetLabel(state.range(0) == 1 ? "trackLastUsed on" : "trackLastUsed off");
}
BENCHMARK(BM_SignedLastUsed)->Arg(0)->Arg(1)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
