#include "auth/password_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

namespace mgw::auth {
namespace {

constexpr const char* kSha1Admin = "d033e22ae348aeb5660fc2140aec35850c4da997";
constexpr const char* kSha256Admin =
    "@sha256:8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918";

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// One argon2id hash for the whole suite: each verification costs tens of milliseconds.
const std::string& argon2Admin() {
  static const std::string hash = hashPassword("admin");
  return hash;
}

TEST(PasswordHashTest, Classify) {
  EXPECT_EQ(classifyPasswordHash(argon2Admin()), PasswordHashKind::kArgon2id);
  EXPECT_EQ(classifyPasswordHash(kSha256Admin), PasswordHashKind::kSha256);
  EXPECT_EQ(classifyPasswordHash(kSha1Admin), PasswordHashKind::kSha1Legacy);
  EXPECT_EQ(classifyPasswordHash(upper(kSha1Admin)), PasswordHashKind::kSha1Legacy);
  EXPECT_EQ(classifyPasswordHash("@sha256:" + upper(std::string(kSha256Admin).substr(8))),
            PasswordHashKind::kSha256);
}

// Issue 24 item 5: Ballerina's config auth store forms (WSO2 MGW 3.x), braces included.
TEST(PasswordHashTest, BallerinaDigestsInBraces) {
  const std::string sha256 =
      "@sha256:{8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918}";
  const std::string sha384 =
      "@sha384:{"
      "9ca694a90285c034432c9550421b7b9dbd5c0f4b6673f05f6dbce58052ba20e4248041956ee8c9a2ec9f10290cdc"
      "0782}";
  const std::string sha512 =
      "@sha512:{"
      "c7ad44cbad762a5da0a452f9e854fdc1e0e7a52a38015f23f3eab1d80b931dd472634dfac71cd34ebc35d16ab7fb"
      "8a90c81f975113d6c7538dc69dd8de9077ec}";
  EXPECT_EQ(classifyPasswordHash(sha256), PasswordHashKind::kSha256);
  EXPECT_EQ(classifyPasswordHash(sha384), PasswordHashKind::kSha384);
  EXPECT_EQ(classifyPasswordHash(sha512), PasswordHashKind::kSha512);
  EXPECT_EQ(classifyPasswordHash(upper(sha512).replace(0, 8, "@sha512:")),
            PasswordHashKind::kSha512);
  for (const std::string& stored : {sha256, sha384, sha512}) {
    EXPECT_TRUE(verifyPassword(stored, "admin")) << stored;
    EXPECT_FALSE(verifyPassword(stored, "admin ")) << stored;
    EXPECT_FALSE(verifyPassword(stored, "")) << stored;
    EXPECT_TRUE(isLegacyWso2PasswordHash(stored)) << stored;
  }
  EXPECT_FALSE(isLegacyWso2PasswordHash(kSha256Admin));  // micro-gw's own form
  EXPECT_TRUE(isLegacyWso2PasswordHash(kSha1Admin));
  EXPECT_FALSE(isLegacyWso2PasswordHash(argon2Admin()));
  // Malformed: a brace missing, the wrong length for the algorithm, an empty digest.
  for (const std::string& bad :
       {std::string("@sha384:{"
                    "9ca694a90285c034432c9550421b7b9dbd5c0f4b6673f05f6dbce58052ba20e4248041956ee8c9"
                    "a2ec9f10290cdc0782"),
        std::string("@sha512:"
                    "c7ad44cbad762a5da0a452f9e854fdc1e0e7a52a38015f23f3eab1d80b931dd472634dfac71cd3"
                    "4ebc35d16ab7fb8a90c81f975113d6c7538dc69dd8de9077ec}"),
        std::string("@sha384:{8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918}"),
        std::string("@sha512:{}"), "@sha256:{" + sha512.substr(9)}) {
    EXPECT_EQ(classifyPasswordHash(bad), std::nullopt) << bad;
    EXPECT_FALSE(verifyPassword(bad, "admin")) << bad;
  }
}

TEST(PasswordHashTest, MalformedStoredHashesAreRejected) {
  const std::string argon = argon2Admin();
  const std::string sha1(kSha1Admin);
  const std::string sha256(kSha256Admin);
  const std::string malformed[] = {
      "",
      "admin",  // a plaintext password
      sha1.substr(0, 39),
      sha1 + "0",
      "g" + sha1.substr(1),
      " " + sha1,
      sha1 + "\n",
      sha256.substr(0, sha256.size() - 1),
      sha256 + "0",
      "@SHA256:" + sha256.substr(8),
      "@sha256:" + sha1,
      "@sha256:z" + sha256.substr(9),
      "$argon2id$",
      argon.substr(0, argon.rfind('$')),      // hash part missing
      argon.substr(0, argon.rfind('$') + 1),  // hash part empty
      argon + "$",
      argon + "=",
      "$argon2i$" + argon.substr(10),  // argon2i, not argon2id
      "$argon2id$v=16$" + argon.substr(argon.find("$m=") + 1),
      "$argon2id$v=19$m=65536,t=2$" + argon.substr(argon.rfind('$', argon.rfind('$') - 1) + 1),
      std::string("$argon2id$v=19$m=65536,t=2,p=1$\0", 32),
      argon + std::string(200, 'A'),  // longer than crypto_pwhash_STRBYTES
  };
  for (const std::string& stored : malformed) {
    EXPECT_FALSE(classifyPasswordHash(stored).has_value()) << stored;
    EXPECT_FALSE(verifyPassword(stored, "admin")) << stored;
  }
}

TEST(PasswordHashTest, Argon2idVerifiesOnlyTheRightPassword) {
  EXPECT_TRUE(verifyPassword(argon2Admin(), "admin"));
  EXPECT_FALSE(verifyPassword(argon2Admin(), "Admin"));
  EXPECT_FALSE(verifyPassword(argon2Admin(), ""));
}

TEST(PasswordHashTest, Sha256VerifiesOnlyTheRightPassword) {
  EXPECT_TRUE(verifyPassword(kSha256Admin, "admin"));
  EXPECT_TRUE(verifyPassword("@sha256:" + upper(std::string(kSha256Admin).substr(8)), "admin"));
  EXPECT_FALSE(verifyPassword(kSha256Admin, "admin "));
  EXPECT_FALSE(verifyPassword(kSha256Admin, ""));
  EXPECT_TRUE(verifyPassword(
      "@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ""));
}

TEST(PasswordHashTest, Sha1LegacyVerifiesOnlyTheRightPassword) {
  EXPECT_TRUE(verifyPassword(kSha1Admin, "admin"));
  EXPECT_TRUE(verifyPassword(upper(kSha1Admin), "admin"));  // WSO2 configurations carry either case
  EXPECT_FALSE(verifyPassword(kSha1Admin, "admin1"));
  EXPECT_FALSE(verifyPassword(kSha1Admin, "ADMIN"));
  EXPECT_TRUE(verifyPassword("e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", "secret"));
}

TEST(PasswordHashTest, HashPasswordIsSaltedArgon2idWithInteractiveLimits) {
  const std::string a = hashPassword("correct horse");
  const std::string b = hashPassword("correct horse");
  EXPECT_EQ(classifyPasswordHash(a), PasswordHashKind::kArgon2id);
  EXPECT_EQ(a.rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << a;
  EXPECT_NE(a, b);  // random salt
  EXPECT_TRUE(verifyPassword(a, "correct horse"));
  EXPECT_FALSE(verifyPassword(b, "correct horse "));
}

TEST(PasswordHashTest, PasswordsWithNulAndColonsRoundTrip) {
  const std::string password("a:b\0c", 5);
  const std::string stored = hashPassword(password);
  EXPECT_TRUE(verifyPassword(stored, password));
  EXPECT_FALSE(verifyPassword(stored, "a:b"));  // not cut at the NUL
}

}  // namespace
}  // namespace mgw::auth
