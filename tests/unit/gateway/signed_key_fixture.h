// A test fixture for code that verifies signed API keys: two fresh ES256 signing keys per test
// suite in a temp dir (no key is committed), the local issuer's configuration, PizzaShackAPI, and
// signed keys made from claims. Shared by the validator's tests (gateway/) and the trusted key
// sets' tests (apis/).
#pragma once

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"
#include "gateway/api.h"
#include "store/revocation_list.h"
#include "token/jws.h"
#include "token/keys.h"

namespace mgw::gateway::fixture {

inline constexpr std::int64_t kNow = 1'700'000'000;
inline const std::string kIssuer = "https://localhost:9095/apikey";
inline const std::string kAlias = "ballerina";

class SignedKeyFixture : public ::testing::Test {
 protected:
  using json = nlohmann::json;

  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("mgw-signed-key-test-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    signer_ = load(*dir_ / "signing.pem").release();
    other_ = load(*dir_ / "other.pem").release();
  }
  static void TearDownTestSuite() {
    delete signer_;
    delete other_;
    std::error_code ec;
    std::filesystem::remove_all(*dir_, ec);
    delete dir_;
  }
  static std::unique_ptr<token::SigningKey> load(const std::filesystem::path& path) {
    std::string error;
    EXPECT_TRUE(token::generateKeystore(path.string(), token::Algorithm::kES256, "", &error))
        << error;
    auto key = token::SigningKey::load(path.string(), "", token::Algorithm::kES256, &error);
    EXPECT_TRUE(key) << error;
    return key;
  }
  static void writePublicKey(const token::SigningKey& key, const std::filesystem::path& path) {
    FILE* f = std::fopen(path.string().c_str(), "w");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(PEM_write_PUBKEY(f, key.pkey()), 1);
    std::fclose(f);
  }

  void SetUp() override {
    config_.tokenIssuer.issuer = kIssuer;
    config_.tokenIssuer.certificateAlias = kAlias;
    revocations_ = std::make_shared<store::RevocationList>();
    api_.name = "PizzaShackAPI";
    api_.version = "1.0.0";
    api_.context = "/pizzashack/1.0.0";
    api_.production.urls = {"http://127.0.0.1:9080/pizzashack/1.0.0"};
  }

  static json claims() {
    return {{"sub", "alice"},
            {"iss", kIssuer},
            {"iat", kNow - 10},
            {"jti", "jti-1"},
            {"exp", kNow + 3600},
            {"keytype", "PRODUCTION"},
            {"allowedAPIs", json::array({{{"name", "PizzaShackAPI"}, {"version", "1.0.0"}}})}};
  }
  static std::string sign(const json& c, const token::SigningKey& key,
                          const std::string& kid = kAlias) {
    auto t = token::signCompact({{"typ", "JWT"}, {"kid", kid}}, c, key);
    EXPECT_TRUE(t);
    return t.value_or("");
  }
  static std::string sign(const json& c) { return sign(c, *signer_); }

  static inline std::filesystem::path* dir_ = nullptr;
  static inline token::SigningKey* signer_ = nullptr;
  static inline token::SigningKey* other_ = nullptr;
  config::Config config_;
  std::shared_ptr<store::RevocationList> revocations_;
  ApiDefinition api_;
};

}  // namespace mgw::gateway::fixture
