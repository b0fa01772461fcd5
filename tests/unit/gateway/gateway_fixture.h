// What the pipeline's tests share: one API with a resource per way of securing it, a signing key
// made per test binary run (no key is committed), signed keys, basic-auth users, and a narrow
// context with an injected clock. Everything real (validator, router, user store, throttler), no
// socket.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/password_hash.h"
#include "common/base64url.h"
#include "gateway/cors.h"
#include "gateway/exchange.h"
#include "gateway/pipeline.h"
#include "token/keys.h"

namespace mgw::gateway::testing {

namespace fs = std::filesystem;
using nlohmann::json;

inline constexpr std::int64_t kNowMs = 1'700'000'000'000;
inline const std::string kIssuer = "https://localhost:9095/apikey";
inline const std::string kAlias = "ballerina";
inline const std::string kOAuthIssuer = "https://idp.example";
inline const std::string kOAuthAlias = "idp";

inline std::int64_t fixedNow() { return kNowMs; }

inline message::HttpRequest request(const std::string& method, const std::string& target,
                                    message::HeaderMap headers = {}, bool tls = false) {
  message::HttpRequest r;
  r.method = method;
  r.target = target;
  EXPECT_EQ(message::parseTarget(target, &r), "");
  r.headers = std::move(headers);
  r.headers.emplace("Host", "gw.test");
  r.clientAddress = "192.0.2.7";
  r.tls = tls;
  return r;
}

inline Resource resource(const std::string& method, const std::string& path) {
  Resource r;
  r.method = method;
  r.pathTemplate = path;
  return r;
}

class GatewayFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("mgw-gw-test-" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    std::string error;
    const std::string path = (*dir_ / "signing.pem").string();
    EXPECT_TRUE(token::generateKeystore(path, token::Algorithm::kES256, "", &error)) << error;
    signer_ = token::SigningKey::load(path, "", token::Algorithm::kES256, &error).release();
    ASSERT_TRUE(signer_) << error;
    aliceHash_ = new std::string(auth::hashPassword("alice-secret"));
  }
  static void TearDownTestSuite() {
    delete signer_;
    delete aliceHash_;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }

  void SetUp() override {
    config_.tokenIssuer.issuer = kIssuer;
    config_.tokenIssuer.certificateAlias = kAlias;
    config_.auth.keyLookupFailuresPerMinute = 3;
    config::UserConfig alice;
    alice.name = "alice";
    alice.password = *aliceHash_;
    alice.tier = "Gold";
    alice.scopes = {"read"};
    config::UserConfig bob = alice;
    bob.name = "bob";
    bob.apis = std::vector<std::string>{"OtherAPI:*"};
    config_.users = {alice, bob};

    auto keys = std::make_shared<token::KeySet>();
    keys->add({kAlias, kIssuer, signer_->publicKey(), true});
    keys->add({kOAuthAlias, kOAuthIssuer, signer_->publicKey(), false, "", true});
    validator_ = std::make_unique<KeyValidator>(keys, config_, nullptr);
    users_ = std::make_unique<auth::UserStore>(config_.users, config_.auth);

    ApiDefinition api;
    api.name = "PizzaShackAPI";
    api.version = "1.0.0";
    api.context = "/pizzashack/1.0.0";
    api.production.urls = {"http://127.0.0.1:9080/pizzashack"};
    api.resources.push_back(resource("GET", "/menu"));  // the API's key locations
    Resource open = resource("GET", "/open");
    open.secured = false;
    api.resources.push_back(open);
    Resource basic = resource("GET", "/basic");  // basic only
    basic.security.declared = true;
    basic.security.basic = true;
    api.resources.push_back(basic);
    Resource either = resource("GET", "/either");  // an API key or basic
    either.security.declared = true;
    either.security.basic = true;
    either.security.keySources = {{KeyLocation::kHeader, "apikey"}};
    api.resources.push_back(either);
    Resource oauth = resource("GET", "/oauth");  // bearer with a scope, or an API key
    oauth.security.declared = true;
    oauth.security.oauth2 = true;
    oauth.security.scopes = {"read"};
    oauth.security.keySources = {{KeyLocation::kQuery, "key"}};
    api.resources.push_back(oauth);
    Resource unsupported = resource("GET", "/mtls");
    unsupported.security.declared = true;
    api.resources.push_back(unsupported);
    Resource throttled = resource("GET", "/tiny");
    throttled.throttlingTier = "Tiny";
    api.resources.push_back(throttled);
    Resource missing = resource("GET", "/missing-tier");
    missing.throttlingTier = "NoSuchTier";
    api.resources.push_back(missing);
    api.resources.push_back(resource("POST", "/order"));

    ApiDefinition cors = api;
    cors.name = "CorsAPI";
    cors.context = "/cors/1.0.0";
    config::CorsConfig c;
    c.enabled = true;
    c.allowOrigins = {"https://app.example"};
    c.allowMethods = {"GET", "POST"};
    c.allowHeaders = {"apikey"};
    cors.cors = std::make_shared<CorsPolicy>(c);
    router_ = std::make_unique<Router>(std::vector<ApiDefinition>{api, cors});

    std::string error;
    endpoints_["http://127.0.0.1:9080/pizzashack"] =
        *parseEndpointUrl("http://127.0.0.1:9080/pizzashack", &error);

    throttle::PolicySet policies;
    throttle::Policy tiny;
    tiny.name = "Tiny";
    tiny.level = throttle::PolicyLevel::kApi;
    tiny.count = 1;
    tiny.window = std::chrono::minutes(1);
    policies.put(tiny);
    throttler_ = std::make_unique<throttle::Throttler>(policies, "Unlimited");
    counters_ = std::make_unique<throttle::LocalCounterStore>([] { return std::int64_t{1}; });
  }

  GatewayState state() {
    GatewayState s;
    s.config = &config_;
    s.router = router_.get();
    s.validator = validator_.get();
    s.users = users_.get();
    s.endpoints = &endpoints_;
    s.throttler = throttler_.get();
    return s;
  }
  GatewayContext context() {
    GatewayContext c;
    c.loginThrottle = &loginThrottle_;
    c.keyLookupFailures = &keyLookupFailures_;
    c.counters = counters_.get();
    c.localCounters = counters_.get();
    c.throttleStats = &stats_;
    c.nextEndpoint = &nextEndpoint_;
    c.nowMillis = &fixedNow;
    return c;
  }
  std::shared_ptr<Exchange> exchange(message::HttpRequest& r) {
    return std::make_shared<Exchange>(r, state(), context());
  }

  static json claims() {
    return {{"sub", "carol"},
            {"iss", kIssuer},
            {"iat", kNowMs / 1000 - 10},
            {"jti", "jti-1"},
            {"exp", kNowMs / 1000 + 3600},
            {"keytype", "PRODUCTION"},
            {"tier", "Gold"},
            {"allowedAPIs", json::array({{{"name", "PizzaShackAPI"}, {"version", "1.0.0"}},
                                         {{"name", "CorsAPI"}, {"version", "1.0.0"}}})}};
  }
  static std::string sign(const json& c, const std::string& kid = kAlias) {
    auto t = token::signCompact({{"typ", "JWT"}, {"kid", kid}}, c, *signer_);
    EXPECT_TRUE(t);
    return t.value_or("");
  }
  static std::string goodKey() { return sign(claims()); }
  static std::string bearerToken(const std::string& scope) {
    json c = claims();
    c["iss"] = kOAuthIssuer;
    c["scope"] = scope;
    return sign(c, kOAuthAlias);
  }
  static std::string basicHeader(const std::string& user, const std::string& password) {
    return "Basic " + base64Encode(user + ":" + password);
  }

  // The fault code of a Reply decision's body; 0 for anything else.
  static int faultCode(const message::HttpResponse& r) {
    auto body = json::parse(r.body, nullptr, false);
    return body.is_object() ? body["fault"].value("code", 0) : 0;
  }

  inline static fs::path* dir_ = nullptr;
  inline static token::SigningKey* signer_ = nullptr;
  inline static std::string* aliceHash_ = nullptr;
  config::Config config_;
  std::unique_ptr<KeyValidator> validator_;
  std::unique_ptr<auth::UserStore> users_;
  std::unique_ptr<Router> router_;
  std::unordered_map<std::string, UpstreamTarget> endpoints_;
  std::unique_ptr<throttle::Throttler> throttler_;
  std::unique_ptr<throttle::LocalCounterStore> counters_;
  auth::LoginThrottle loginThrottle_;
  AddressLimiter keyLookupFailures_;
  throttle::Stats stats_;
  std::atomic<std::size_t> nextEndpoint_{0};
};

}  // namespace mgw::gateway::testing
