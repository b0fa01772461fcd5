#include "token/iso_time.h"

#include <gtest/gtest.h>

namespace mgw::token {
namespace {

TEST(IsoTime, FormatsUtc) {
  EXPECT_EQ(isoTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(isoTime(1300819380), "2011-03-22T18:43:00Z");  // exp of the RFC 7515 appendix A keys
  EXPECT_EQ(isoTime(1795428000), "2026-11-23T10:00:00Z");
  EXPECT_EQ(isoTime(253402300799), "9999-12-31T23:59:59Z");
}

TEST(IsoTime, SaysOutOfRangeInsteadOfWrapping) {
  EXPECT_EQ(isoTime(253402300800), "<253402300800 seconds since epoch, out of range>");
  EXPECT_NE(isoTime(INT64_MAX).find("out of range"), std::string::npos);
  EXPECT_NE(isoTime(INT64_MIN).find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace mgw::token
