// Shared helpers for the token unit tests: test data paths, temporary directories, keys generated
// once per test binary (no private key used here ships or is used in production).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "common/base64url.h"
#include "token/jws.h"
#include "token/keys.h"

namespace mgw::token::testing {

inline std::string testdata(const std::string& name) {
  return std::string(MGW_TESTDATA_DIR) + "/token/" + name;
}

inline std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mgw-token-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline const Algorithm kAllAlgorithms[] = {Algorithm::kRS256, Algorithm::kES256, Algorithm::kEdDSA};

// One key per algorithm, made by generateKeystore (PEM) once per process: RSA-3072 takes a moment.
inline const SigningKey& generatedKey(Algorithm alg) {
  static TempDir dir;
  static std::map<Algorithm, std::unique_ptr<SigningKey>> keys;
  auto& slot = keys[alg];
  if (!slot) {
    std::string path = dir.file(std::string(algorithmName(alg)) + ".pem");
    std::string error;
    EXPECT_TRUE(generateKeystore(path, alg, "", &error)) << error;
    slot = SigningKey::load(path, "", alg, &error);
    EXPECT_TRUE(slot) << error;
  }
  return *slot;
}

constexpr std::int64_t kNow = 1700000000;  // 2023-11-14T22:13:20Z
constexpr std::int64_t kSkewMs = 5000;
constexpr const char* kIssuer = "https://localhost:9095/apikey";

inline nlohmann::json goodClaims() {
  return {{"sub", "admin"},
          {"iss", kIssuer},
          {"iat", kNow - 10},
          {"jti", "5f0c1c1e-0a5e-4a37-9d36-1b2b0d8c7c11"},
          {"exp", kNow + 3600},
          {"keytype", "PRODUCTION"},
          {"allowedAPIs", {{{"name", "PizzaShackAPI"}, {"version", "1.0.0"}}}}};
}

inline std::string signWith(const SigningKey& key, const nlohmann::json& claims,
                            const std::string& kid = "ballerina") {
  auto token = signCompact({{"typ", "JWT"}, {"kid", kid}}, claims, key);
  EXPECT_TRUE(token);
  return token.value_or("");
}

inline KeySet keySetFor(const SigningKey& key, const std::string& kid = "ballerina",
                        const std::string& issuer = kIssuer) {
  KeySet keys;
  keys.add({kid, issuer, key.publicKey(), true});
  return keys;
}

// The three segments of a compact JWS.
struct Segments {
  std::string header, payload, signature;
  std::string join() const { return header + "." + payload + "." + signature; }
};

inline Segments split(const std::string& token) {
  auto a = token.find('.');
  auto b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

}  // namespace mgw::token::testing
