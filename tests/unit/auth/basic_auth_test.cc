#include "auth/basic_auth.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "common/base64url.h"

namespace mgw::auth {
namespace {

std::string basic(std::string_view userPass) { return "Basic " + base64Encode(userPass); }

TEST(BasicAuthTest, SeedHeaderIsAdminAdmin) {
  auto c = parseBasicAuthorization("Basic YWRtaW46YWRtaW4=");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "admin");
  EXPECT_EQ(c->password, "admin");
}

TEST(BasicAuthTest, ValidHeader) {
  auto c = parseBasicAuthorization(basic("alice:s3cret"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "s3cret");
}

TEST(BasicAuthTest, SchemeIsCaseInsensitive) {
  for (std::string scheme : {"basic", "BASIC", "bAsIc"}) {
    auto c = parseBasicAuthorization(scheme + " YWRtaW46YWRtaW4=");
    ASSERT_TRUE(c.has_value()) << scheme;
    EXPECT_EQ(c->user, "admin");
  }
}

TEST(BasicAuthTest, SeveralSpacesAndSurroundingWhitespace) {
  auto c = parseBasicAuthorization("  Basic    YWRtaW46YWRtaW4=\t ");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->password, "admin");
}

TEST(BasicAuthTest, MissingOrWrongScheme) {
  EXPECT_FALSE(parseBasicAuthorization("YWRtaW46YWRtaW4="));
  EXPECT_FALSE(parseBasicAuthorization("Bearer YWRtaW46YWRtaW4="));
  EXPECT_FALSE(parseBasicAuthorization("BasicYWRtaW46YWRtaW4="));
  EXPECT_FALSE(parseBasicAuthorization("Basic\tYWRtaW46YWRtaW4="));  // RFC 7235: 1*SP
  EXPECT_FALSE(parseBasicAuthorization("Basic"));
  EXPECT_FALSE(parseBasicAuthorization("Basic    "));
  EXPECT_FALSE(parseBasicAuthorization(""));
}

TEST(BasicAuthTest, BadBase64) {
  EXPECT_FALSE(parseBasicAuthorization("Basic YWRtaW46YWRtaW4"));    // padding missing
  EXPECT_FALSE(parseBasicAuthorization("Basic YWRtaW46YWRtaW4=="));  // too much padding
  EXPECT_FALSE(parseBasicAuthorization("Basic YWRta!46YWRtaW4="));
  EXPECT_FALSE(parseBasicAuthorization("Basic YWRtaW46YWRtaW4-"));   // base64url, not base64
  EXPECT_FALSE(parseBasicAuthorization("Basic YWRtaW46 YWRtaW4="));  // a second token
  EXPECT_FALSE(parseBasicAuthorization("Basic YWRtaW46YWRtaW4=, realm=x"));
}

TEST(BasicAuthTest, NoColon) { EXPECT_FALSE(parseBasicAuthorization(basic("adminadmin"))); }

TEST(BasicAuthTest, EmptyUser) { EXPECT_FALSE(parseBasicAuthorization(basic(":admin"))); }

TEST(BasicAuthTest, EmptyPasswordIsParsed) {
  auto c = parseBasicAuthorization(basic("admin:"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "admin");
  EXPECT_EQ(c->password, "");
}

TEST(BasicAuthTest, PasswordMayContainColons) {
  auto c = parseBasicAuthorization(basic("bob:pa:ss:word"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "bob");
  EXPECT_EQ(c->password, "pa:ss:word");
}

TEST(BasicAuthTest, Utf8IsAllowed) {
  auto c = parseBasicAuthorization(basic("test:123\xC2\xA3"));  // RFC 7617 section 2.1 example
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->password, "123\xC2\xA3");
}

TEST(BasicAuthTest, ControlCharactersAreRejected) {
  EXPECT_FALSE(parseBasicAuthorization(basic(std::string("admin:ad\0min", 12))));
  EXPECT_FALSE(parseBasicAuthorization(basic(std::string("ad\0min:admin", 12))));
  EXPECT_FALSE(parseBasicAuthorization(basic("admin:admin\r\n")));
  EXPECT_FALSE(parseBasicAuthorization(basic("ad\tmin:admin")));
  EXPECT_FALSE(parseBasicAuthorization(basic("admin:\x1b[0m")));
  EXPECT_FALSE(parseBasicAuthorization(basic("admin:del\x7f")));
}

TEST(BasicAuthTest, SizeLimit) {
  // Exactly at the limit parses; one byte more does not.
  std::string userPass = "u:";
  std::string header;
  while (true) {
    header = basic(userPass + "x");
    if (header.size() > kMaxAuthorizationHeaderBytes) break;
    userPass += "x";
  }
  const std::string atLimit =
      basic(userPass) + std::string(kMaxAuthorizationHeaderBytes - basic(userPass).size(), ' ');
  EXPECT_EQ(atLimit.size(), kMaxAuthorizationHeaderBytes);
  EXPECT_TRUE(parseBasicAuthorization(atLimit));
  EXPECT_FALSE(parseBasicAuthorization(atLimit + " "));
  EXPECT_FALSE(parseBasicAuthorization(basic("u:" + std::string(8192, 'x'))));
}

TEST(BasicAuthTest, MovedFromCredentialsHoldNoPassword) {
  auto c = parseBasicAuthorization(basic("admin:admin"));
  ASSERT_TRUE(c.has_value());
  BasicCredentials moved = std::move(*c);
  EXPECT_EQ(moved.password, "admin");
  EXPECT_TRUE(c->password.empty());
  BasicCredentials assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.user, "admin");
  EXPECT_EQ(assigned.password, "admin");
  EXPECT_TRUE(moved.password.empty());
}

}  // namespace
}  // namespace mgw::auth
