#include "lifecycle/key_management.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>

namespace mgw::lifecycle {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::int64_t kNow = 1'700'000'000;

// A real embedded store in a private temporary folder; no sockets.
class KeyManagementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "mgw-km-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::string error;
    store_ = LifecycleService::open((dir_ / "micro-gw.db").string(), 5000, kNow, &error);
    ASSERT_TRUE(store_) << error;
    config::IssuerApi pizza;
    pizza.name = "Pizza";
    pizza.versions = {"1.0"};
    config_.issuerApis.push_back(pizza);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  KeyManagement as(const std::string& user, bool admin = false, std::int64_t now = kNow) {
    Environment env{config_,
                    policies_,
                    keys_,
                    store_->opaqueKeys().get(),
                    [](const ApiRef& api) {
                      return (api.name == "Pizza" || api.name == "Other") && api.version == "1.0";
                    },
                    &taken_,
                    [this](const ApiRef& api) -> std::optional<ApiFacts> {
                      auto it = facts_.find(api.name);
                      if (it == facts_.end()) return std::nullopt;
                      return it->second;
                    },
                    [this](const std::string& user) {
                      std::vector<ApiRef> out;
                      for (const auto& [name, f] : facts_)
                        for (const auto& p : f.publishers)
                          if (p == user) out.push_back({name, "1.0"});
                      return out;
                    }};
    return KeyManagement(*store_, std::move(env), Caller{user, admin, std::nullopt}, now);
  }
  static Reply replyOf(OrRefusal<Reply> r) {
    if (auto* refusal = std::get_if<Refusal>(&r)) {
      ADD_FAILURE() << "refused: " << failureName(refusal->failure) << ": " << refusal->description;
      return {};
    }
    return std::get<Reply>(r);
  }
  static Refusal refusalOf(OrRefusal<Reply> r) {
    if (auto* refusal = std::get_if<Refusal>(&r)) return *refusal;
    ADD_FAILURE() << "accepted: " << std::get<Reply>(r).body.dump();
    return {};
  }
  static CreateKeyRequest keyFor(const std::string& api) {
    CreateKeyRequest r;
    r.name = "k";
    r.api = ApiRef{api, "1.0"};
    return r;
  }

  fs::path dir_;
  std::unique_ptr<LifecycleService> store_;
  config::Config config_;
  throttle::PolicySet policies_;
  token::KeySet keys_;
  TakenValueLimiter taken_;
  std::map<std::string, ApiFacts> facts_;  // issue 26: plans and publishers by API name
};

TEST_F(KeyManagementTest, AKeyIsShownOnceAndBelongsToItsOwner) {
  Reply made = replyOf(as("alice").createKey(keyFor("Pizza")));
  EXPECT_EQ(made.status, 201);
  const std::string id = made.body["id"];
  EXPECT_EQ(made.body["owner"], "alice");
  EXPECT_EQ(made.body["tier"], "Unlimited");
  EXPECT_EQ(made.body["apiKey"].get<std::string>().size(), 54u);  // mgw_<43>_<6> (issue 25)

  Reply got = replyOf(as("alice").getKey(id));
  EXPECT_EQ(got.status, 200);
  EXPECT_FALSE(got.body.contains("apiKey"));  // metadata only, never the value again

  Refusal other = refusalOf(as("bob").getKey(id));
  EXPECT_EQ(other.failure, Failure::kForbidden);
  EXPECT_EQ(other.description, "API key " + id + " belongs to another user");
  EXPECT_EQ(replyOf(as("root", true).getKey(id)).status, 200);  // an admin sees everyone's

  Refusal unknown = refusalOf(as("alice").getKey("no/such<id>"));
  EXPECT_EQ(unknown.failure, Failure::kNotFound);
  EXPECT_EQ(unknown.description, "no API key with id no?such?id?");

  EXPECT_EQ(replyOf(as("alice").listKeys()).body["count"], 1);
  EXPECT_EQ(replyOf(as("bob").listKeys()).body["count"], 0);
  EXPECT_EQ(replyOf(as("alice").deleteKey(id)).status, 204);
  EXPECT_EQ(refusalOf(as("alice").regenerateKey(id, {})).failure, Failure::kConflict);
}

// Issue 22 item 5: the live keys one user holds are capped; revoked and expired keys free a place.
TEST_F(KeyManagementTest, LiveKeysPerUserAreCapped) {
  config_.storage.maxKeysPerUser = 3;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(replyOf(as("alice").createKey(keyFor("Pizza"))).body["id"].get<std::string>());
  Refusal over = refusalOf(as("alice").createKey(keyFor("Pizza")));
  EXPECT_EQ(over.failure, Failure::kConflict);
  EXPECT_EQ(faultFor(over.failure).httpStatus, 409);
  EXPECT_NE(over.description.find("you hold 3 live API keys"), std::string::npos)
      << over.description;
  EXPECT_NE(over.description.find("[storage] maxKeysPerUser"), std::string::npos);
  // A custom value refused for the cap is not taken.
  CreateKeyRequest custom = keyFor("Pizza");
  custom.value = "custom-value-1234";
  EXPECT_EQ(refusalOf(as("alice").createKey(custom)).failure, Failure::kConflict);
  // Another user is not affected; a revoked key frees a place.
  EXPECT_EQ(replyOf(as("bob").createKey(keyFor("Pizza"))).status, 201);
  EXPECT_EQ(replyOf(as("alice").deleteKey(ids[0])).status, 204);
  EXPECT_EQ(replyOf(as("alice").createKey(keyFor("Pizza"))).status, 201);
  EXPECT_EQ(refusalOf(as("alice").createKey(keyFor("Pizza"))).failure, Failure::kConflict);
  // An expired key does not count.
  config_.storage.maxKeysPerUser = 1;
  CreateKeyRequest shortLived = keyFor("Pizza");
  shortLived.validitySeconds = 60;
  EXPECT_EQ(replyOf(as("carol").createKey(shortLived)).status, 201);
  EXPECT_EQ(refusalOf(as("carol").createKey(keyFor("Pizza"))).failure, Failure::kConflict);
  Environment env{config_, policies_, keys_, store_->opaqueKeys().get(),
                  [](const ApiRef&) { return true; }};
  KeyManagement later(*store_, std::move(env), Caller{"carol", false, std::nullopt}, kNow + 61);
  EXPECT_EQ(replyOf(later.createKey(keyFor("Pizza"))).status, 201);
}

// Issue 22 item 8: a custom value another user holds is "not accepted" (never "exists"), on create
// and on regenerate alike, and such refusals are rate-limited per caller, so the endpoint is no
// faster an oracle for other users' keys than guessing them on the gateway.
TEST_F(KeyManagementTest, CustomValuesAreNoExistenceOracle) {
  auto custom = [](const std::string& value) {
    CreateKeyRequest r = keyFor("Pizza");
    r.value = value;
    return r;
  };
  ASSERT_EQ(replyOf(as("bob").createKey(custom("bob-value-0"))).status, 201);
  const std::string mine = replyOf(as("alice").createKey(custom("alice-value"))).body["id"];
  // Her own value: named (it is hers).
  Refusal own = refusalOf(as("alice").createKey(custom("alice-value")));
  EXPECT_EQ(own.failure, Failure::kConflict);
  EXPECT_EQ(own.description, "you already have an API key with this value (id " + mine + ")");
  // Bob's value: the answer a refused value gets, on create and on regenerate.
  for (int i = 0; i < TakenValueLimiter::kLimit; ++i) {
    Refusal taken = i % 2 == 0 ? refusalOf(as("alice").createKey(custom("bob-value-0")))
                               : refusalOf(as("alice").regenerateKey(mine, {"bob-value-0"}));
    EXPECT_EQ(taken.failure, Failure::kBadRequestBody) << i;
    EXPECT_EQ(taken.description, "value: not accepted; choose another value") << i;
  }
  // Then every custom value is refused for the rest of the hour, free or taken alike.
  for (const char* value : {"bob-value-0", "a-free-value"}) {
    Refusal limited = refusalOf(as("alice").createKey(custom(value)));
    EXPECT_EQ(limited.failure, Failure::kTooManyAttempts) << value;
    EXPECT_EQ(limited.retryAfterSeconds, TakenValueLimiter::kWindowSeconds);
    EXPECT_EQ(refusalOf(as("alice").regenerateKey(mine, {value})).failure,
              Failure::kTooManyAttempts);
  }
  EXPECT_EQ(replyOf(as("alice").createKey(keyFor("Pizza"))).status, 201);      // generated: fine
  EXPECT_EQ(replyOf(as("bob").createKey(custom("bob-value-1"))).status, 201);  // others: fine
  const std::int64_t later = kNow + TakenValueLimiter::kWindowSeconds;
  EXPECT_EQ(replyOf(as("alice", false, later).createKey(custom("a-free-value"))).status, 201);
}

TEST_F(KeyManagementTest, OnlyDeployedAndCoveredApis) {
  Refusal missing = refusalOf(as("alice").createKey(keyFor("Nope")));
  EXPECT_EQ(missing.failure, Failure::kNotFound);
  EXPECT_EQ(missing.description, "no API Nope:1.0 is deployed on this gateway");
  // Deployed, but not in [[apikey.issuer.api]]: only an admin may use it.
  Refusal notMine = refusalOf(as("alice").createKey(keyFor("Other")));
  EXPECT_EQ(notMine.failure, Failure::kForbidden);
  EXPECT_EQ(notMine.description,
            "user 'alice' may not use API Other:1.0 (see [[apikey.issuer.api]] and "
            "[b7a.users.alice] apis)");
  EXPECT_EQ(replyOf(as("root", true).createKey(keyFor("Other"))).status, 201);
}

// A request with two faults answers the one checked first, as the routes always have: the API
// before the other fields of a new key, the application before the api of a subscription.
TEST_F(KeyManagementTest, TheFirstCheckAnswersARequestWithTwoFaults) {
  auto parsed = parseCreateKeyRequest(
      "{\"name\": \"k\", \"api\": {\"name\": \"Nope\", \"version\": \"1.0\"}, "
      "\"keyType\": \"X\"}");
  ASSERT_TRUE(std::holds_alternative<CreateKeyRequest>(parsed));
  EXPECT_EQ(refusalOf(as("alice").createKey(std::get<CreateKeyRequest>(parsed))).failure,
            Failure::kNotFound);
  parsed = parseCreateKeyRequest(
      "{\"name\": \"k\", \"api\": {\"name\": \"Pizza\", \"version\": \"1.0\"}, "
      "\"keyType\": \"X\"}");
  ASSERT_TRUE(std::holds_alternative<CreateKeyRequest>(parsed));
  EXPECT_EQ(refusalOf(as("alice").createKey(std::get<CreateKeyRequest>(parsed))).description,
            "keyType must be PRODUCTION or SANDBOX");

  auto sub = parseSubscribeRequest("{\"api\": {\"name\": 1}}");
  ASSERT_TRUE(std::holds_alternative<SubscriptionRequest>(sub));
  EXPECT_EQ(refusalOf(as("alice").subscribe("unknown", std::get<SubscriptionRequest>(sub))).failure,
            Failure::kNotFound);
  EXPECT_EQ(
      refusalOf(as("alice").unsubscribe("unknown", std::get<SubscriptionRequest>(sub))).failure,
      Failure::kNotFound);
  const std::string app = replyOf(as("alice").createApplication({"shop", std::nullopt})).body["id"];
  EXPECT_EQ(refusalOf(as("alice").subscribe(app, std::get<SubscriptionRequest>(sub))).failure,
            Failure::kBadRequestBody);
}

TEST_F(KeyManagementTest, ApplicationsTiersAndSubscriptions) {
  CreateApplicationRequest app{"shop", std::string("NoSuchTier")};
  Refusal badTier = refusalOf(as("alice").createApplication(app));
  EXPECT_EQ(badTier.failure, Failure::kBadRequestBody);
  EXPECT_NE(badTier.description.find("is not an application-level throttling policy"),
            std::string::npos);
  app.tier.reset();
  Reply made = replyOf(as("alice").createApplication(app));
  EXPECT_EQ(made.status, 201);
  EXPECT_EQ(made.body["tier"], "Unlimited");
  const std::string id = made.body["id"];
  EXPECT_EQ(refusalOf(as("alice").createApplication(app)).failure, Failure::kConflict);

  SubscriptionRequest pizza{ApiRef{"Pizza", "1.0"}};
  EXPECT_EQ(replyOf(as("alice").subscribe(id, pizza)).status, 201);
  EXPECT_EQ(refusalOf(as("alice").subscribe(id, pizza)).description,
            "application " + id + " is already subscribed to Pizza:1.0");
  EXPECT_EQ(refusalOf(as("bob").subscribe(id, pizza)).failure, Failure::kForbidden);
  EXPECT_EQ(replyOf(as("alice").listSubscriptions(id)).body.size(), 1u);
  EXPECT_EQ(replyOf(as("alice").unsubscribe(id, pizza)).status, 204);
  EXPECT_EQ(refusalOf(as("alice").unsubscribe(id, pizza)).failure, Failure::kNotFound);

  CreateKeyRequest key = keyFor("Pizza");
  key.application = id;
  Reply bound = replyOf(as("alice").createKey(key));
  EXPECT_EQ(bound.body["application"], id);
  key.application = "elsewhere";
  EXPECT_EQ(refusalOf(as("alice").createKey(key)).failure, Failure::kNotFound);
}

TEST_F(KeyManagementTest, RevocationPolicy) {
  RevokeRequest byJti;
  byJti.form = RevokeRequest::Form::kJti;
  byJti.jti = "j-1";
  EXPECT_EQ(refusalOf(as("alice").revoke(byJti)).failure, Failure::kForbidden);
  byJti.expiresAt = kNow - 1;
  EXPECT_EQ(refusalOf(as("root", true).revoke(byJti)).failure, Failure::kBadRequestBody);
  byJti.expiresAt = kNow + 60;
  Reply revoked = replyOf(as("root", true).revoke(byJti));
  EXPECT_EQ(revoked.body["revoked"]["type"], "jti");
  EXPECT_TRUE(store_->revocations()->isRevoked("j-1", "", kNow));

  RevokeRequest bySub;
  bySub.form = RevokeRequest::Form::kSubject;
  bySub.sub = "bob";
  bySub.issuedBefore = kNow;
  EXPECT_EQ(refusalOf(as("alice").revoke(bySub)).failure, Failure::kForbidden);
  bySub.issuedBefore = kNow + 1;
  EXPECT_EQ(refusalOf(as("bob").revoke(bySub)).failure, Failure::kBadRequestBody);

  // An opaque value: the owner's own key is revoked; an unknown value is a 400.
  const std::string value =
      replyOf(as("alice").createKey(keyFor("Pizza"))).body["apiKey"].get<std::string>();
  RevokeRequest byValue;
  byValue.apiKey = value;
  EXPECT_EQ(refusalOf(as("bob").revoke(byValue)).failure, Failure::kForbidden);
  byValue.apiKey = value;
  EXPECT_EQ(replyOf(as("alice").revoke(byValue)).body["revoked"]["type"], "opaque");
  byValue.apiKey = "x";
  EXPECT_EQ(refusalOf(as("alice").revoke(byValue)).description,
            "apiKey is neither a signed key this gateway trusts nor a known opaque key");
}

TEST(StoreRefusalTest, EveryFailureHasOneAnswer) {
  for (int i = 0; i <= static_cast<int>(kLastFailure); ++i) {
    const auto f = static_cast<Failure>(i);
    const Refusal r = storeRefusal(f, "nf", "cf");
    switch (r.failure) {
      case Failure::kNotFound:
        EXPECT_EQ(f, Failure::kNotFound);
        EXPECT_EQ(r.description, "nf");
        break;
      case Failure::kConflict:
        EXPECT_EQ(f, Failure::kConflict);
        EXPECT_EQ(r.description, "cf");
        break;
      default:
        if (f == Failure::kBadRequestBody || f == Failure::kClusterUnavailable) {
          EXPECT_EQ(r.failure, f);
        } else {
          EXPECT_EQ(r.failure, Failure::kInternalError) << failureName(f);
          EXPECT_EQ(r.description, "the embedded store failed; see the server log");
        }
    }
  }
}

}  // namespace
}  // namespace mgw::lifecycle

namespace mgw::lifecycle {
namespace {

// Issue 26: the key mode is chosen at creation or at the second subscription, then fixed (409).
TEST_F(KeyManagementTest, TheKeyModeIsChosenOnceAndNeverChanges) {
  config::IssuerApi other;
  other.name = "Other";
  other.versions = {"1.0"};
  config_.issuerApis.push_back(other);
  const std::string app = replyOf(as("alice").createApplication({"later", {}, {}})).body["id"];
  SubscriptionRequest pizza{ApiRef{"Pizza", "1.0"}, {}, {}, {}};
  Reply first = replyOf(as("alice").subscribe(app, pizza));
  EXPECT_EQ(first.body["keyMode"], "perSubscription");
  EXPECT_FALSE(replyOf(as("alice").getApplication(app)).body["keyModeChosen"]);
  // The second subscription to the same API's other plan cannot choose shared.
  facts_["Pizza"] = ApiFacts{{"gold", "silver"}, {}};
  SubscriptionRequest silverShared{
      ApiRef{"Pizza", "1.0"}, std::string("silver"), std::string("shared"), {}};
  Refusal sameApi = refusalOf(as("alice").subscribe(app, silverShared));
  EXPECT_EQ(sameApi.failure, Failure::kConflict);
  EXPECT_NE(sameApi.description.find("two plans of one API"), std::string::npos);
  SubscriptionRequest otherShared{ApiRef{"Other", "1.0"}, {}, std::string("shared"), {}};
  Reply second = replyOf(as("alice").subscribe(app, otherShared));
  EXPECT_EQ(second.body["keyMode"], "shared");
  EXPECT_TRUE(second.body["sharedKey"]);
  Reply got = replyOf(as("alice").getApplication(app));
  EXPECT_EQ(got.body["keyMode"], "shared");
  EXPECT_TRUE(got.body["keyModeChosen"]);
  SubscriptionRequest back{
      ApiRef{"Pizza", "1.0"}, std::string("silver"), std::string("perSubscription"), {}};
  Refusal changed = refusalOf(as("alice").subscribe(app, back));
  EXPECT_EQ(changed.failure, Failure::kConflict);
  EXPECT_NE(changed.description.find("chosen for good"), std::string::npos) << changed.description;
  // Choosing shared at the second subscription puts the first one under the shared key too (the
  // subscription to Pizza, made before Pizza had plans), so Pizza's silver plan is a second plan
  // of Pizza: its own key.
  EXPECT_TRUE(store_->opaqueKeys()->sharedKeyCovers(app, "Pizza", "1.0"));
  SubscriptionRequest silver{ApiRef{"Pizza", "1.0"}, std::string("silver"), {}, {}};
  Reply third = replyOf(as("alice").subscribe(app, silver));
  EXPECT_EQ(third.body["plan"], "silver");
  EXPECT_FALSE(third.body["sharedKey"]);
  // A plan the API does not have is named.
  SubscriptionRequest bronze{ApiRef{"Pizza", "1.0"}, std::string("bronze"), {}, {}};
  Refusal unknown = refusalOf(as("alice").subscribe(app, bronze));
  EXPECT_EQ(unknown.failure, Failure::kBadRequestBody);
  EXPECT_NE(unknown.description.find("its plans: gold, silver"), std::string::npos);

  // The default is taken at the second subscription when none is asked for.
  const std::string plain = replyOf(as("alice").createApplication({"plain", {}, {}})).body["id"];
  ASSERT_EQ(replyOf(as("alice").subscribe(plain, {ApiRef{"Other", "1.0"}, {}, {}, {}})).status,
            201);
  Reply plainSecond =
      replyOf(as("alice").subscribe(plain, {ApiRef{"Pizza", "1.0"}, std::string("gold"), {}, {}}));
  EXPECT_EQ(plainSecond.body["keyMode"], "perSubscription");
  EXPECT_TRUE(replyOf(as("alice").getApplication(plain)).body["keyModeChosen"]);
  CreateKeyRequest shared;
  shared.name = "s";
  shared.shared = true;
  shared.application = plain;
  Refusal notShared = refusalOf(as("alice").createKey(shared));
  EXPECT_EQ(notShared.failure, Failure::kConflict);
  EXPECT_NE(notShared.description.find("needs keyMode \"shared\""), std::string::npos);
}

// Issue 26: the owner (or an admin) renews and revokes a shared key; an API's publisher sees it
// and manages the per-subscription keys on the API, but not the shared key.
TEST_F(KeyManagementTest, PublishersSeeSharedKeysButOnlyOwnersRenewOrRevokeThem) {
  facts_["Pizza"] = ApiFacts{{}, {"bob"}};
  const std::string app =
      replyOf(as("alice").createApplication({"shop", {}, std::string("shared")})).body["id"];
  ASSERT_TRUE(replyOf(as("alice").subscribe(app, {ApiRef{"Pizza", "1.0"}, {}, {}, {}}))
                  .body["sharedKey"]
                  .get<bool>());
  CreateKeyRequest shared;
  shared.name = "s";
  shared.shared = true;
  shared.application = app;
  Reply key = replyOf(as("alice").createKey(shared));
  const std::string id = key.body["id"];
  EXPECT_TRUE(key.body["shared"]);
  EXPECT_TRUE(key.body["api"].is_null());
  EXPECT_EQ(refusalOf(as("alice").createKey(shared)).failure, Failure::kConflict);  // one only
  EXPECT_TRUE(store_->opaqueKeys()->sharedKeyCovers(app, "Pizza", "1.0"));

  Reply seen = replyOf(as("bob").getKey(id));
  EXPECT_EQ(seen.body["owner"], "alice");
  EXPECT_EQ(seen.body["lastFour"], key.body["lastFour"]);
  EXPECT_EQ(seen.body["access"], "view");
  EXPECT_FALSE(seen.body.contains("permittedIP"));
  EXPECT_EQ(replyOf(as("bob").listPublished()).body["count"], 1);
  EXPECT_EQ(replyOf(as("carol").listPublished()).body["count"], 0);
  Refusal renew = refusalOf(as("bob").regenerateKey(id, {}));
  EXPECT_EQ(renew.failure, Failure::kForbidden);
  EXPECT_NE(renew.description.find("only the application's owner or an admin"), std::string::npos);
  EXPECT_EQ(refusalOf(as("bob").deleteKey(id)).failure, Failure::kForbidden);
  EXPECT_EQ(refusalOf(as("carol").getKey(id)).failure, Failure::kForbidden);
  EXPECT_EQ(refusalOf(as("alice").dissociateKey(id)).failure, Failure::kConflict);

  CreateKeyRequest own = keyFor("Pizza");
  own.application = app;
  const std::string ownId = replyOf(as("alice").createKey(own)).body["id"];
  EXPECT_EQ(replyOf(as("bob").regenerateKey(ownId, {})).status, 200);
  EXPECT_EQ(replyOf(as("bob").deleteKey(ownId)).status, 204);

  EXPECT_EQ(replyOf(as("alice").regenerateKey(id, {})).status, 200);
  EXPECT_EQ(replyOf(as("root", true).regenerateKey(id, {})).status, 200);
  EXPECT_EQ(replyOf(as("alice").deleteKey(id)).status, 204);
  // Revoked: a new shared key may be made.
  EXPECT_EQ(replyOf(as("alice").createKey(shared)).status, 201);

  // Unsubscribed: the shared key no longer covers the API, and bob no longer sees it.
  SubscriptionRequest off{ApiRef{"Pizza", "1.0"}, {}, {}, {}};
  EXPECT_EQ(replyOf(as("alice").unsubscribe(app, off)).status, 204);
  EXPECT_FALSE(store_->opaqueKeys()->sharedKeyCovers(app, "Pizza", "1.0"));
  // What bob still sees is the revoked per-subscription key on Pizza, not the shared key.
  const json left = replyOf(as("bob").listPublished()).body["list"];
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]["id"], ownId);
  EXPECT_EQ(left[0]["access"], "manage");
}

}  // namespace
}  // namespace mgw::lifecycle
