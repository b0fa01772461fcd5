// CSRF rules of /apikey and the key management API (issue 22 item 8), as data: a request's
// fields in, allowed or the exact refusal out.
#include "sts/cross_site.h"

#include <gtest/gtest.h>

namespace mgw::sts {
namespace {

CrossSiteFacts facts(std::string_view method, std::string_view contentType = "",
                     bool hasBody = false) {
  CrossSiteFacts f;
  f.method = method;
  f.host = "gw.example:9095";
  f.contentType = contentType;
  f.hasBody = hasBody;
  return f;
}

Failure verdict(const CrossSiteFacts& f, const std::vector<std::string>& allowed = {}) {
  const auto refusal = checkCrossSite(f, allowed);
  return refusal ? refusal->failure : Failure::kNone;
}

TEST(CrossSiteTest, ForeignOriginIsRefusedOwnAndListedOnesAreNot) {
  const std::vector<std::string> allowed = {"https://admin.example", "https://*.tools.example"};
  struct Case {
    const char* origin;
    Failure expected;
  };
  for (const Case& c :
       {Case{"https://gw.example:9095", Failure::kNone},
        Case{"HTTPS://GW.example:9095", Failure::kNone},
        Case{"https://admin.example", Failure::kNone},
        Case{"https://admin.example:443", Failure::kNone},
        Case{"https://a.tools.example", Failure::kNone},
        Case{"https://evil.example", Failure::kForeignOrigin},
        Case{"http://gw.example:9095", Failure::kForeignOrigin},
        Case{"https://gw.example", Failure::kForeignOrigin},
        Case{"https://a.b.tools.example", Failure::kForeignOrigin},
        Case{"null", Failure::kForeignOrigin}, Case{"", Failure::kForeignOrigin},
        Case{"https://admin.example, https://evil.example", Failure::kForeignOrigin}}) {
    for (const char* method : {"GET", "POST", "DELETE"}) {
      CrossSiteFacts f = facts(method, "application/json", true);
      f.origin = c.origin;
      EXPECT_EQ(verdict(f, allowed), c.expected) << c.origin << " " << method;
    }
  }
  CrossSiteFacts f = facts("POST");
  f.origin = "https://evil.example";
  const auto refusal = checkCrossSite(f, {});
  ASSERT_TRUE(refusal);
  EXPECT_NE(refusal->description.find("\"https://evil.example\""), std::string::npos);
  EXPECT_NE(refusal->description.find("managementAllowedOrigins"), std::string::npos);
  EXPECT_EQ(faultFor(refusal->failure).httpStatus, 403);
}

TEST(CrossSiteTest, FetchMetadataFromAnotherSiteIsRefusedWithoutAnOrigin) {
  for (const char* site : {"cross-site", "same-site", "Cross-Site"}) {
    CrossSiteFacts f = facts("GET");
    f.fetchSite = site;
    EXPECT_EQ(verdict(f), Failure::kForeignOrigin) << site;
  }
  for (const char* site : {"same-origin", "none"}) {
    CrossSiteFacts f = facts("GET");
    f.fetchSite = site;
    EXPECT_EQ(verdict(f), Failure::kNone) << site;
  }
}

TEST(CrossSiteTest, ChangesWithABodyMustBeJson) {
  // Anyone: JSON (with parameters) is fine; the HTML form encodings are not.
  for (const char* type :
       {"application/json", "Application/JSON; charset=utf-8", " application/json "})
    EXPECT_EQ(verdict(facts("POST", type, true)), Failure::kNone) << type;
  for (const char* type : {"text/plain", "multipart/form-data; boundary=x", "application/jsonp",
                           "text/plain; a=application/json"})
    for (const char* method : {"POST", "PUT", "PATCH", "DELETE"})
      EXPECT_EQ(verdict(facts(method, type, true)), Failure::kUnsupportedMediaType)
          << method << " " << type;
  // Not a browser (no Origin, no Sec-Fetch-Site): what curl -d sends, or nothing, is accepted.
  EXPECT_EQ(verdict(facts("POST", "application/x-www-form-urlencoded", true)), Failure::kNone);
  EXPECT_EQ(verdict(facts("POST", "", true)), Failure::kNone);
  // A browser, even on the listener's own origin: JSON only.
  for (const char* type : {"application/x-www-form-urlencoded", ""}) {
    CrossSiteFacts own = facts("POST", type, true);
    own.origin = "https://gw.example:9095";
    EXPECT_EQ(verdict(own), Failure::kUnsupportedMediaType) << type;
    CrossSiteFacts sameOrigin = facts("POST", type, true);
    sameOrigin.fetchSite = "same-origin";
    EXPECT_EQ(verdict(sameOrigin), Failure::kUnsupportedMediaType) << type;
  }
  // No body, or no change: nothing to judge.
  EXPECT_EQ(verdict(facts("POST", "text/plain", false)), Failure::kNone);
  EXPECT_EQ(verdict(facts("GET", "text/plain", true)), Failure::kNone);  // the seed's GET /apikey
  const auto refusal = checkCrossSite(facts("POST", "text/plain", true), {});
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->description,
            "the body must be JSON: send Content-Type: application/json (got \"text/plain\")");
  EXPECT_EQ(faultFor(refusal->failure).httpStatus, 415);
  EXPECT_EQ(faultFor(refusal->failure).code, 900415);
}

}  // namespace
}  // namespace mgw::sts
