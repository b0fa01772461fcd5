#include "sts/sts_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/key_format.h"
#include "token/keys.h"

namespace mgw::sts {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::int64_t kNow = 1'700'000'000;

// One ES256 key per test binary run, in a temp dir (no key is committed).
class StsServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("mgw-sts-test-" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    const std::string path = (*dir_ / "signing.pem").string();
    std::string error;
    ASSERT_TRUE(token::generateKeystore(path, token::Algorithm::kES256, "", &error)) << error;
    auto key = token::SigningKey::load(path, "", token::Algorithm::kES256, &error);
    ASSERT_TRUE(key) << error;
    key_ = new std::shared_ptr<const token::SigningKey>(std::move(key));
  }
  static void TearDownTestSuite() {
    delete key_;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }
  void SetUp() override {
    config_.tokenIssuer.enabled = true;
    config_.tokenIssuer.signatureAlgorithm = "ES256";
    config::UserConfig bronze;
    bronze.name = "alice";
    bronze.tier = "Bronze";
    config_.users.push_back(bronze);
    caller_.user = "alice";
  }
  OrRefusal<IssueReply> issue(std::string_view body, bool wantsJson = false) {
    const ApiKeyIssuer issuer(config_, *key_);
    const StsService service(config_, &issuer, policies_);
    return service.issue(caller_, IssueCall{body, wantsJson, kNow});
  }

  static fs::path* dir_;
  static std::shared_ptr<const token::SigningKey>* key_;
  config::Config config_;
  throttle::PolicySet policies_;
  auth::AuthOutcome caller_;
};

fs::path* StsServiceTest::dir_ = nullptr;
std::shared_ptr<const token::SigningKey>* StsServiceTest::key_ = nullptr;

TEST_F(StsServiceTest, DisabledIssuerIsRefusedFirst) {
  const StsService none(config_, nullptr, policies_);
  ASSERT_TRUE(none.unavailable());
  EXPECT_EQ(none.unavailable()->failure, Failure::kIssuerDisabled);
  EXPECT_EQ(none.unavailable()->description,
            "the API key issuer is disabled ([apikey.issuer.tokenConfig] enabled = false)");
  auto r = none.issue(caller_, IssueCall{"", false, kNow});
  ASSERT_TRUE(std::holds_alternative<Refusal>(r));
  EXPECT_EQ(std::get<Refusal>(r).failure, Failure::kIssuerDisabled);

  config_.tokenIssuer.enabled = false;
  const ApiKeyIssuer issuer(config_, *key_);
  EXPECT_TRUE(StsService(config_, &issuer, policies_).unavailable());
  config_.tokenIssuer.enabled = true;
  EXPECT_FALSE(StsService(config_, &issuer, policies_).unavailable());
}

TEST_F(StsServiceTest, TheBareKeyUnlessJsonIsWanted) {
  auto r = issue("");
  ASSERT_TRUE(std::holds_alternative<IssueReply>(r));
  const auto& plain = std::get<IssueReply>(r);
  EXPECT_EQ(plain.contentType, "text/plain");
  EXPECT_EQ(std::count(plain.body.begin(), plain.body.end(), '.'), 2) << plain.body;

  r = issue("", true);
  ASSERT_TRUE(std::holds_alternative<IssueReply>(r));
  const auto& reply = std::get<IssueReply>(r);
  EXPECT_EQ(reply.contentType, "application/json");
  const json body = json::parse(reply.body);
  EXPECT_EQ(body["tokenType"], "apikey");
  EXPECT_FALSE(body["jti"].get<std::string>().empty());
  EXPECT_EQ(std::count(body["apiKey"].get_ref<const std::string&>().begin(),
                       body["apiKey"].get_ref<const std::string&>().end(), '.'),
            2);
  EXPECT_EQ(body["tier"], "Bronze");  // the user's own tier
}

TEST_F(StsServiceTest, KeysAreFramedWithTheKeyPrefixWhenConfigured) {
  // Off by default (WSO2 clients expect a bare JWT).
  const std::string bare = std::get<IssueReply>(issue("")).body;
  EXPECT_TRUE(bare.starts_with("eyJ")) << bare;
  EXPECT_EQ(unframeSignedKey(bare, "mgw").shape, KeyShape::kOther);

  config_.tokenIssuer.keyPrefix = true;
  config_.opaqueKeys.keyPrefix = "acme";
  const std::string framed = std::get<IssueReply>(issue("")).body;
  ASSERT_TRUE(framed.starts_with("acme_eyJ")) << framed;
  const FramedKey inside = unframeSignedKey(framed, "acme");
  ASSERT_EQ(inside.shape, KeyShape::kValid);
  EXPECT_EQ(std::count(inside.jws.begin(), inside.jws.end(), '.'), 2);
  // The JSON answer too, with the jti of the JWS inside.
  const json body = json::parse(std::get<IssueReply>(issue("", true)).body);
  EXPECT_EQ(unframeSignedKey(body["apiKey"].get<std::string>(), "acme").shape, KeyShape::kValid);
}

TEST_F(StsServiceTest, BadBodiesAndBroaderTiersAreRefused) {
  auto r = issue("{not json");
  ASSERT_TRUE(std::holds_alternative<Refusal>(r));
  EXPECT_EQ(std::get<Refusal>(r).failure, Failure::kBadRequestBody);

  r = issue("{\"tier\": \"Gold\"}");
  ASSERT_TRUE(std::holds_alternative<Refusal>(r));
  EXPECT_EQ(std::get<Refusal>(r).failure, Failure::kRequestBroaderThanAllowed);
  EXPECT_EQ(std::get<Refusal>(r).description,
            "tier 'Gold' is higher than user 'alice' may have ('Bronze')");

  r = issue("{\"tier\": \"Unlimited\"}", true);
  ASSERT_TRUE(std::holds_alternative<Refusal>(r));
  EXPECT_EQ(std::get<Refusal>(r).failure, Failure::kRequestBroaderThanAllowed);
}

}  // namespace
}  // namespace mgw::sts
