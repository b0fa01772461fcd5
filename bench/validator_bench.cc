// token::verifyToken per algorithm, and gateway::KeyValidator::validate with the cache missing
// (a distinct key per iteration, from a pool larger than the cache) and hitting (one key).
// Run: build-bench/bench/mgw-validator-bench (bench/run.sh does, with --benchmark_min_time).
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

#include "config/config.h"
#include "gateway/api.h"
#include "gateway/key_validator.h"
#include "token/jws.h"
#include "token/keys.h"

namespace {

using namespace mgw;

const char* kIssuer = "https://localhost:9095/apikey";

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Fixture {
  std::unique_ptr<token::SigningKey> signer;
  std::shared_ptr<token::KeySet> keys = std::make_shared<token::KeySet>();

  explicit Fixture(token::Algorithm alg) {
    const auto dir =
        std::filesystem::temp_directory_path() /
        ("mgw-vbench-" + std::to_string(getpid()) + "-" + std::string(token::algorithmName(alg)));
    std::filesystem::create_directories(dir);
    const std::string pem = (dir / "signing.pem").string();
    std::string error;
    if (!token::generateKeystore(pem, alg, "", &error)) {
      fprintf(stderr, "keystore: %s\n", error.c_str());
      std::abort();
    }
    signer = token::SigningKey::load(pem, "", alg, &error);
    std::filesystem::remove_all(dir);
    if (!signer) {
      fprintf(stderr, "load: %s\n", error.c_str());
      std::abort();
    }
    keys->add(token::TrustedKey{"ballerina", kIssuer, signer->publicKey(), true});
  }

  // A key as the STS issues it: same header and claim set.
  std::string issue(int serial) const {
    nlohmann::json header = {{"typ", "JWT"}, {"kid", "ballerina"}};
    nlohmann::json claims = {
        {"sub", "admin"},
        {"iss", kIssuer},
        {"iat", now()},
        {"exp", now() + 86400},
        {"jti", "00000000-0000-4000-8000-" + std::to_string(100000000000 + serial)},
        {"keytype", "PRODUCTION"},
        {"allowedAPIs", {{{"name", "BenchAPI"}, {"version", "1.0.0"}}}}};
    return *token::signCompact(header, claims, *signer);
  }
};

Fixture& fixture(token::Algorithm alg) {
  static Fixture rs(token::Algorithm::kRS256), es(token::Algorithm::kES256),
      ed(token::Algorithm::kEdDSA);
  return alg == token::Algorithm::kRS256 ? rs : alg == token::Algorithm::kES256 ? es : ed;
}

void BM_VerifyToken(benchmark::State& state, token::Algorithm alg) {
  Fixture& f = fixture(alg);
  const std::string key = f.issue(1);
  const std::int64_t t = now();
  for (auto _ : state) {
    auto result = token::verifyToken(key, *f.keys, t, 5000);
    if (result.failure != Failure::kNone) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK_CAPTURE(BM_VerifyToken, RS256, token::Algorithm::kRS256);
BENCHMARK_CAPTURE(BM_VerifyToken, ES256, token::Algorithm::kES256);
BENCHMARK_CAPTURE(BM_VerifyToken, EdDSA, token::Algorithm::kEdDSA);

// Signing, for the STS's physical limit next to openssl speed.
void BM_Sign(benchmark::State& state, token::Algorithm alg) {
  Fixture& f = fixture(alg);
  int serial = 0;
  for (auto _ : state) benchmark::DoNotOptimize(f.issue(++serial));
}
BENCHMARK_CAPTURE(BM_Sign, RS256, token::Algorithm::kRS256);
BENCHMARK_CAPTURE(BM_Sign, ES256, token::Algorithm::kES256);
BENCHMARK_CAPTURE(BM_Sign, EdDSA, token::Algorithm::kEdDSA);

gateway::ApiDefinition benchApi() {
  gateway::ApiDefinition api;
  api.name = "BenchAPI";
  api.version = "1.0.0";
  api.context = "/bench";
  return api;
}

config::Config benchConfig() {
  config::Config c;
  c.caching.enabled = true;
  c.caching.tokenCacheCapacity = 1000;
  c.caching.tokenCacheExpiryTime = 900;
  return c;
}

// cached = 1: one key, every iteration after the first a cache hit.
// cached = 0: 2,000 keys against a 1,000-entry cache, taken in turn: every lookup misses.
void BM_Validate(benchmark::State& state, token::Algorithm alg) {
  const bool cached = state.range(0) == 1;
  Fixture& f = fixture(alg);
  // Issued once per algorithm (RS256 signing takes milliseconds): Google Benchmark calls this
  // function several times.
  static std::map<token::Algorithm, std::vector<std::string>> pools;
  std::vector<std::string>& pool = pools[alg];
  if (pool.empty())
    for (int i = 0; i < 2000; ++i) pool.push_back(f.issue(i));
  const std::vector<std::string> one = {pool.front()};
  const std::vector<std::string>& keys = cached ? one : pool;
  gateway::KeyValidator validator(f.keys, benchConfig(), nullptr);
  const auto api = benchApi();
  gateway::RequestContext ctx;
  ctx.clientAddress = "127.0.0.1";
  const std::int64_t t = now();
  size_t i = 0;
  for (auto _ : state) {
    auto verdict = validator.validate(keys[i], api, ctx, t);
    if (verdict.failure != Failure::kNone) state.SkipWithError("validate failed");
    benchmark::DoNotOptimize(verdict);
    if (++i == keys.size()) i = 0;
  }
  state.SetLabel(cached ? "cached" : "uncached");
}
BENCHMARK_CAPTURE(BM_Validate, RS256, token::Algorithm::kRS256)->Arg(0)->Arg(1);
BENCHMARK_CAPTURE(BM_Validate, ES256, token::Algorithm::kES256)->Arg(0)->Arg(1);
BENCHMARK_CAPTURE(BM_Validate, EdDSA, token::Algorithm::kEdDSA)->Arg(0)->Arg(1);

// The 401 path: a well-formed key with a wrong signature (never cached).
void BM_ValidateBadSignature(benchmark::State& state) {
  Fixture& f = fixture(token::Algorithm::kRS256);
  std::string key = f.issue(7);
  char& c = key[key.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  gateway::KeyValidator validator(f.keys, benchConfig(), nullptr);
  const auto api = benchApi();
  gateway::RequestContext ctx;
  const std::int64_t t = now();
  for (auto _ : state) {
    auto verdict = validator.validate(key, api, ctx, t);
    if (verdict.failure == Failure::kNone) state.SkipWithError("tampered key accepted");
    benchmark::DoNotOptimize(verdict);
  }
}
BENCHMARK(BM_ValidateBadSignature);

}  // namespace

BENCHMARK_MAIN();
