// auth::PortalSessions: the portal's session token, its CSRF token and the cookie parser.
#include "auth/portal_session.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace mgw::auth {
namespace {

const std::string kKey(32, 'k');
constexpr std::int64_t kNow = 1'800'000'000;
const std::string kHash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";

TEST(PortalSessionTest, IssuedTokenVerifiesUntilItExpires) {
  PortalSessions sessions(kKey);
  std::string token;
  const PortalSession made = sessions.issue("alice", kHash, kNow, 600, &token);
  EXPECT_EQ(made.expiresAt, kNow + 600);
  const auto seen = sessions.verify(token, kNow + 599);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->user, "alice");
  EXPECT_EQ(seen->id, made.id);
  EXPECT_EQ(seen->issuedAt, kNow);
  EXPECT_TRUE(sessions.matchesPassword(*seen, kHash));
  EXPECT_FALSE(sessions.matchesPassword(*seen, kHash + "x"));  // the password changed
  EXPECT_FALSE(sessions.verify(token, kNow + 600));            // expired
  EXPECT_EQ(token.find(kHash), std::string::npos);             // never the hash itself
}

TEST(PortalSessionTest, TamperedForgedOrForeignTokensAreRefused) {
  PortalSessions sessions(kKey);
  PortalSessions other(std::string(32, 'o'));
  std::string token;
  (void)sessions.issue("alice", kHash, kNow, 600, &token);
  EXPECT_FALSE(other.verify(token, kNow));  // another installation's key
  // Any one character changed: refused (user, times, id, tag, MAC). Not the MAC's last character:
  // its low bits are base64url padding, which may decode to the same bytes.
  for (std::size_t i = 0; i + 1 < token.size(); ++i) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(sessions.verify(t, kNow)) << "position " << i;
  }
  // A longer lifetime written in: the MAC no longer verifies.
  std::string longer = token;
  const auto exp = std::to_string(kNow + 600);
  longer.replace(longer.find(exp), exp.size(), std::to_string(kNow + 999999));
  EXPECT_FALSE(sessions.verify(longer, kNow));
  EXPECT_FALSE(sessions.verify("", kNow));
  EXPECT_FALSE(sessions.verify("v1.a.b.c.d.e.f", kNow));
  EXPECT_FALSE(sessions.verify(std::string(5000, 'a'), kNow));
}

TEST(PortalSessionTest, CsrfTokenIsPerSession) {
  PortalSessions sessions(kKey);
  std::string t1, t2;
  const PortalSession a = sessions.issue("alice", kHash, kNow, 600, &t1);
  const PortalSession b = sessions.issue("alice", kHash, kNow, 600, &t2);
  EXPECT_NE(a.id, b.id);
  EXPECT_TRUE(sessions.csrfMatches(a, sessions.csrfToken(a)));
  EXPECT_FALSE(sessions.csrfMatches(a, sessions.csrfToken(b)));
  EXPECT_FALSE(sessions.csrfMatches(a, ""));
  EXPECT_EQ(PortalSessions::revocationId(a), "portal-session:" + a.id);
}

TEST(PortalSessionTest, ShortKeyIsRefused) {
  EXPECT_THROW(PortalSessions(std::string(31, 'k')), std::invalid_argument);
}

TEST(PortalSessionTest, FindsTheCookieByExactName) {
  EXPECT_EQ(findCookie("a=1; __Host-mgw-portal=v1.x; b=2", "__Host-mgw-portal").value(), "v1.x");
  EXPECT_EQ(findCookie("x__Host-mgw-portal=1", "__Host-mgw-portal"), std::nullopt);
  EXPECT_EQ(findCookie("", "__Host-mgw-portal"), std::nullopt);
  EXPECT_EQ(findCookie("__Host-mgw-portal", "__Host-mgw-portal"), std::nullopt);
}

}  // namespace
}  // namespace mgw::auth
