#include "message/hop_by_hop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace mgw::message {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The table is data: it must hold exactly RFC 9110 section 7.6.1's list plus Content-Length.
TEST(HopByHopTest, TableIsTheRfcListPlusContentLength) {
  const std::vector<std::string> expected = {"Connection",
                                             "Keep-Alive",
                                             "Proxy-Connection",
                                             "Proxy-Authenticate",
                                             "Proxy-Authorization",
                                             "TE",
                                             "Trailer",
                                             "Transfer-Encoding",
                                             "Upgrade",
                                             "Content-Length"};
  ASSERT_EQ(kHopByHopHeaders.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(kHopByHopHeaders[i], expected[i]);
}

TEST(HopByHopTest, EachListedHeaderIsRemovedInAnyCase) {
  for (std::string_view name : kHopByHopHeaders) {
    for (const std::string& spelled : {std::string(name), lower(name)}) {
      HeaderMap headers{{spelled, "x"}, {"Accept", "application/json"}};
      removeHopByHopHeaders(headers);
      EXPECT_EQ(headers.count(std::string(name)), 0u) << spelled;
      EXPECT_EQ(headers.size(), 1u) << spelled;
      EXPECT_TRUE(isHopByHopHeader(spelled)) << spelled;
    }
  }
}

TEST(HopByHopTest, HeadersNamedByConnectionAreRemoved) {
  HeaderMap headers{{"connection", "X-Secret ,\tx-other, close"},
                    {"Connection", "Keep-Alive"},
                    {"X-SECRET", "1"},
                    {"X-Other", "2"},
                    {"X-Other", "3"},
                    {"Keep-Alive", "timeout=5"},
                    {"X-Kept", "4"}};
  removeHopByHopHeaders(headers);
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers.begin()->first, "X-Kept");
}

TEST(HopByHopTest, EndToEndHeadersAreKept) {
  HeaderMap headers{{"Accept", "*/*"},
                    {"Authorization", "Basic eA=="},
                    {"Content-Type", "text/plain"},
                    {"Cache-Control", "no-store"},
                    {"X-Forwarded-For", "192.0.2.1"},
                    {"Host", "example.com"},
                    {"Set-Cookie", "a=1"},
                    {"Set-Cookie", "b=2"}};
  const HeaderMap before = headers;
  removeHopByHopHeaders(headers);
  EXPECT_TRUE(std::equal(headers.begin(), headers.end(), before.begin(), before.end()));
  EXPECT_FALSE(isHopByHopHeader("Authorization"));
  EXPECT_FALSE(isHopByHopHeader("Proxy"));
  EXPECT_FALSE(isHopByHopHeader("Content-Length2"));
}

TEST(HopByHopTest, EmptyAndOddConnectionValues) {
  HeaderMap headers{{"Connection", ""}, {"X-A", "1"}};
  removeHopByHopHeaders(headers);
  EXPECT_EQ(headers.size(), 1u);
  HeaderMap commas{{"Connection", ",,, ,"}, {"X-A", "1"}};
  removeHopByHopHeaders(commas);
  EXPECT_EQ(commas.size(), 1u);
}

}  // namespace
}  // namespace mgw::message
