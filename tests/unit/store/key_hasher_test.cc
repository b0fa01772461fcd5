#include "store/key_hasher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "store/database.h"
#include "store_test_util.h"

namespace mgw::store {
namespace {

using testing::TempDir;

std::string validKeyWith(char c) {
  std::string key = "abcdEFGH12";
  key[4] = c;
  return key;
}

TEST(GenerateOpaqueKeyTest, Is43Base64UrlCharactersAndPassesTheCustomRules) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string key = generateOpaqueKey();
    EXPECT_EQ(key.size(), 43u);
    EXPECT_EQ(
        key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << key;
    EXPECT_EQ(validateCustomKeyValue(key), std::nullopt);
    seen.insert(key);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(ValidateCustomKeyValueTest, LengthBoundaries) {
  EXPECT_NE(validateCustomKeyValue(""), std::nullopt);
  EXPECT_NE(validateCustomKeyValue(std::string(7, 'a')), std::nullopt);
  EXPECT_EQ(validateCustomKeyValue(std::string(8, 'a')), std::nullopt);
  EXPECT_EQ(validateCustomKeyValue(std::string(64, 'a')), std::nullopt);
  EXPECT_NE(validateCustomKeyValue(std::string(65, 'a')), std::nullopt);
}

TEST(ValidateCustomKeyValueTest, EachCharacterTheSeedForbidsIsRefusedOnItsOwn) {
  // Seed 003: ^ # % @ \ / ; = ? | ~ , and space.
  for (char c : std::string("^#%@\\/;=?|~, ")) {
    std::optional<std::string> error = validateCustomKeyValue(validKeyWith(c));
    EXPECT_NE(error, std::nullopt) << "accepted '" << c << "'";
  }
}

TEST(ValidateCustomKeyValueTest, CharactersOutsideUnreservedAndSubDelimsAreRefused) {
  std::string others = "\"<>[]{}:`";
  others += '\0';
  others += '\t';
  others += '\n';
  others += '\x7f';
  others += '\xc3';  // first byte of a UTF-8 sequence
  for (char c : others) {
    EXPECT_NE(validateCustomKeyValue(validKeyWith(c)), std::nullopt) << "accepted byte " << int(c);
  }
}

TEST(ValidateCustomKeyValueTest, UnreservedAndAllowedSubDelimsAreAccepted) {
  for (char c : std::string("-._!$&'()*+")) {
    EXPECT_EQ(validateCustomKeyValue(validKeyWith(c)), std::nullopt) << "refused '" << c << "'";
  }
  EXPECT_EQ(validateCustomKeyValue("ABCXYZabcxyz0189"), std::nullopt);
}

TEST(ValidateCustomKeyValueTest, TheMessageNeverRepeatsTheValue) {
  std::string value = "secret-value-with@at";
  std::optional<std::string> error = validateCustomKeyValue(value);
  ASSERT_NE(error, std::nullopt);
  EXPECT_EQ(error->find("secret-value"), std::string::npos) << *error;
  EXPECT_NE(error->find("character 18 "), std::string::npos) << *error;  // the position of '@'
}

TEST(LastFourOfTest, TakesTheLastFourCharacters) {
  EXPECT_EQ(lastFourOf("abcdefgh"), "efgh");
  EXPECT_EQ(lastFourOf("abc"), "abc");
}

TEST(KeyHasherTest, IsDeterministicKeyedAnd32Bytes) {
  KeyHasher a(std::string(KeyHasher::kSecretBytes, 'a'));
  KeyHasher b(std::string(KeyHasher::kSecretBytes, 'b'));
  EXPECT_EQ(a.hash("value-1234").size(), KeyHasher::kHashBytes);
  EXPECT_EQ(a.hash("value-1234"), a.hash("value-1234"));
  EXPECT_NE(a.hash("value-1234"), a.hash("value-1235"));
  EXPECT_NE(a.hash("value-1234"), b.hash("value-1234"));  // the secret matters
}

TEST(KeyHasherTest, RefusesASecretOfTheWrongSize) {
  EXPECT_THROW(KeyHasher(std::string(31, 'a')), std::invalid_argument);
  EXPECT_THROW(KeyHasher(std::string(33, 'a')), std::invalid_argument);
}

TEST(KeyHasherTest, CreatesAPrivateSecretFileAndReloadsTheSameSecret) {
  TempDir dir;
  std::string dbPath = dir.file("data/micro-gw.db");
  std::string secretPath = KeyHasher::secretPathFor(dbPath);
  EXPECT_EQ(secretPath, dbPath + ".key");

  std::string first;
  {
    KeyHasher hasher = KeyHasher::loadOrCreate(secretPath);
    first = hasher.hash("some-key-value");
  }
  struct stat st {};
  ASSERT_EQ(::stat(secretPath.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(KeyHasher::kSecretBytes));

  KeyHasher again = KeyHasher::loadOrCreate(secretPath);
  EXPECT_EQ(again.hash("some-key-value"), first);

  // No temporary files left next to it.
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("data"))) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(KeyHasherTest, ATruncatedSecretIsRefusedAndNotReplaced) {
  TempDir dir;
  std::string secretPath = dir.file("micro-gw.db.key");
  {
    std::ofstream out(secretPath, std::ios::binary);
    out << "short";
  }
  EXPECT_THROW(KeyHasher::loadOrCreate(secretPath), StoreError);
  EXPECT_EQ(testing::readBytes(secretPath), "short");
}

TEST(KeyHasherTest, ProcessesStartingTogetherAgreeOnOneSecret) {
  TempDir dir;
  std::string secretPath = dir.file("micro-gw.db.key");
  constexpr int kThreads = 8;
  std::vector<std::string> hashes(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(
        [&, i] { hashes[i] = KeyHasher::loadOrCreate(secretPath).hash("value-value"); });
  }
  for (auto& t : threads) t.join();
  for (const std::string& h : hashes) EXPECT_EQ(h, hashes[0]);
}

}  // namespace
}  // namespace mgw::store
