#include "sts/accept.h"

#include <gtest/gtest.h>

namespace mgw::sts {
namespace {

TEST(AcceptTest, BareKeyUnlessJsonIsPreferred) {
  EXPECT_FALSE(prefersJson(""));
  EXPECT_FALSE(prefersJson("*/*"));                                // curl
  EXPECT_FALSE(prefersJson("application/json, text/plain, */*"));  // axios, Angular: a tie
  EXPECT_FALSE(prefersJson("text/plain"));
  EXPECT_FALSE(prefersJson("text/*, application/json"));
  EXPECT_TRUE(prefersJson("application/json"));
  EXPECT_TRUE(prefersJson("application/json;charset=utf-8"));
  EXPECT_TRUE(prefersJson("APPLICATION/JSON"));  // RFC 9110 section 8.3.1: case-insensitive
  EXPECT_TRUE(prefersJson("text/plain;q=0.5, application/json"));
  EXPECT_TRUE(prefersJson("application/json, */*;q=0.1"));
  EXPECT_TRUE(prefersJson("application/*"));
  EXPECT_FALSE(prefersJson("application/json;q=0.5, text/plain"));
  EXPECT_FALSE(prefersJson("application/json;q=0"));  // q=0: not acceptable
}

TEST(AcceptTest, TheMostSpecificRangeDecides) {
  EXPECT_EQ(acceptQuality("text/*;q=0.3, text/plain;q=0.7, */*;q=0.1", "text", "plain"), 700);
  EXPECT_EQ(acceptQuality("text/*;q=0.3, */*;q=0.1", "text", "plain"), 300);
  EXPECT_EQ(acceptQuality("*/*;q=0.1", "text", "plain"), 100);
  EXPECT_EQ(acceptQuality("application/json", "text", "plain"), 0);
  EXPECT_EQ(acceptQuality("", "text", "plain"), 1000);
}

TEST(AcceptTest, MalformedRangesAreSkipped) {
  EXPECT_EQ(acceptQuality("application/json;q=2, text/plain", "application", "json"), 0);
  EXPECT_EQ(acceptQuality("application/json;q=0.1234", "application", "json"), 0);
  EXPECT_EQ(acceptQuality("json, /, application/, ,,", "application", "json"), 0);
  EXPECT_EQ(acceptQuality("application/json;q=0.25", "application", "json"), 250);
  EXPECT_FALSE(prefersJson(";;;,,,"));
}

}  // namespace
}  // namespace mgw::sts
