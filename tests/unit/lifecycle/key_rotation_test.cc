// LifecycleService and KeyManagement for issue 25: regenerate with a grace period (stored, shown,
// reloaded), last use written in batches (counted) and kept over a reopen, the leak report.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "common/key_format.h"
#include "lifecycle/key_management.h"

namespace mgw::lifecycle {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'700'000'000;

class KeyRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "mgw-rot-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void reopen() {
    store_.reset();
    std::string error;
    store_ = LifecycleService::open((dir_ / "micro-gw.db").string(), 0, kNow, &error);
    ASSERT_TRUE(store_) << error;
  }
  KeyManagement as(const std::string& user, bool admin, std::int64_t now = kNow) {
    Environment env{config_, policies_, keys_, store_->opaqueKeys().get(),
                    [](const ApiRef&) { return true; }};
    return KeyManagement(*store_, std::move(env), Caller{user, admin, std::nullopt}, now);
  }
  store::OpaqueKeyRecord made(const std::string& value) {
    store::NewOpaqueKey k;
    k.name = "k";
    k.owner = "alice";
    k.apiName = "Pizza";
    k.apiVersion = "1.0";
    k.createdAt = kNow;
    auto r = store_->createKey(k, value);
    EXPECT_TRUE(r.ok());
    return r.value;
  }

  fs::path dir_;
  std::unique_ptr<LifecycleService> store_;
  config::Config config_;
  throttle::PolicySet policies_;
  token::KeySet keys_;
};

TEST_F(KeyRotationTest, AGracePeriodIsStoredShownAndReloaded) {
  auto key = made("first-value-1");
  auto r = store_->regenerateKey(key.id, "second-value-2", kNow, 600);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.previousUntil, kNow + 600);
  EXPECT_EQ(r.value.replacedAt, kNow);
  auto old = store_->opaqueKeys()->find("first-value-1");
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->isPreviousValue);
  reopen();
  old = store_->opaqueKeys()->find("first-value-1");
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->isPreviousValue);
  EXPECT_EQ(old->previousUntil, kNow + 600);
  auto current = store_->opaqueKeys()->find("second-value-2");
  ASSERT_TRUE(current);
  EXPECT_FALSE(current->isPreviousValue);
  // Found by its old value while the grace period runs (the leak report uses this).
  EXPECT_TRUE(store_->keys().findByValue("first-value-1", kNow + 1).ok());
  EXPECT_FALSE(store_->keys().findByValue("first-value-1", kNow + 600).ok());
  EXPECT_FALSE(store_->keys().findByValue("first-value-1").ok());
  // A value in another key's grace period is taken.
  auto other = made("third-value-3");
  EXPECT_EQ(store_->regenerateKey(other.id, "first-value-1", kNow, 0).failure, Failure::kConflict);
  store::NewOpaqueKey again;
  again.name = "again";
  again.owner = "bob";
  again.apiName = "Pizza";
  again.apiVersion = "1.0";
  EXPECT_EQ(store_->createKey(again, "first-value-1").failure, Failure::kConflict);
  ASSERT_TRUE(store_->opaqueKeys()->find("first-value-1"));
  EXPECT_EQ(store_->opaqueKeys()->find("first-value-1")->id, key.id);
}

TEST_F(KeyRotationTest, TheGraceIsBoundedByConfiguration) {
  auto key = made("first-value-1");
  config_.opaqueKeys.maxGracePeriodSeconds = 60;
  RegenerateRequest req;
  req.gracePeriodSeconds = 61;
  auto refused = as("alice", false).regenerateKey(key.id, req);
  ASSERT_TRUE(std::holds_alternative<Refusal>(refused));
  EXPECT_EQ(std::get<Refusal>(refused).failure, Failure::kBadRequestBody);
  req.gracePeriodSeconds = 60;
  auto ok = as("alice", false).regenerateKey(key.id, req);
  ASSERT_TRUE(std::holds_alternative<Reply>(ok));
  const auto& body = std::get<Reply>(ok).body;
  EXPECT_EQ(keyShape(body["apiKey"].get<std::string>(), "mgw"), KeyShape::kValid);
  EXPECT_EQ(body["previousValue"]["validUntil"], kNow + 60);
}

TEST_F(KeyRotationTest, AThousandUsesMakeOneStoreWriteAMinuteAndSurviveAReopen) {
  auto key = made("first-value-1");
  const std::int64_t minute = kNow - kNow % 60;
  auto entry = store_->opaqueKeys()->find("first-value-1");
  ASSERT_TRUE(entry);
  for (int i = 0; i < 1000; ++i) store_->opaqueKeys()->noteUsed(*entry, minute + i % 60);
  store_->writeUses();
  EXPECT_EQ(store_->lastUsedWrites(), 1u);
  for (int i = 0; i < 1000; ++i) store_->opaqueKeys()->noteUsed(*entry, minute + i % 60);
  store_->writeUses();
  EXPECT_EQ(store_->lastUsedWrites(), 1u);  // same minute: nothing more to write
  store_->opaqueKeys()->noteUsed(*entry, minute + 60);
  store_->writeUses();
  EXPECT_EQ(store_->lastUsedWrites(), 2u);
  reopen();
  auto stored = store_->keys().get(key.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored.value.lastUsed, minute + 60);
  // Shown by the list endpoint.
  auto listed = as("alice", false).listKeys();
  ASSERT_TRUE(std::holds_alternative<Reply>(listed));
  EXPECT_EQ(std::get<Reply>(listed).body["list"][0]["lastUsed"], minute + 60);
  // Another node's use raises it, never lowers it.
  Change c;
  c.kind = Change::Kind::kKeyUsed;
  c.id = key.id;
  c.at = minute;
  EXPECT_EQ(store_->apply(c), Failure::kNone);
  EXPECT_EQ(store_->keys().get(key.id).value.lastUsed, minute + 60);
  c.at = minute + 600;
  EXPECT_EQ(store_->apply(c), Failure::kNone);
  EXPECT_EQ(store_->keys().get(key.id).value.lastUsed, minute + 600);
}

TEST_F(KeyRotationTest, TheLeakReportRevokesWhatItKnows) {
  auto key = made("leaked-value-1");
  LeakReport report;
  report.items = {{"leaked-value-1", "t", ""}, {"never-seen-value", "t", ""}};
  auto refused = as("bob", false).reportLeaked(report);
  ASSERT_TRUE(std::holds_alternative<Refusal>(refused));
  EXPECT_EQ(std::get<Refusal>(refused).failure, Failure::kForbidden);
  config_.opaqueKeys.leakReporters = {"bob"};
  auto done = as("bob", false).reportLeaked(report);
  ASSERT_TRUE(std::holds_alternative<Reply>(done));
  const auto& body = std::get<Reply>(done).body;
  EXPECT_EQ(body["revoked"], 1);
  EXPECT_EQ(body["results"][0]["action"], "revoked");
  EXPECT_EQ(body["results"][0]["id"], key.id);
  EXPECT_EQ(body["results"][1]["action"], "unknown");
  EXPECT_EQ(body.dump().find("leaked-value-1"), std::string::npos);
  EXPECT_TRUE(store_->keys().get(key.id).value.revoked);
}

}  // namespace
}  // namespace mgw::lifecycle
