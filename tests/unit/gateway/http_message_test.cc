#include "gateway/http_message.h"

#include <gtest/gtest.h>

namespace mgw::gateway {
namespace {

TEST(EncodeQueryTest, EmptyParams) { EXPECT_EQ(encodeQuery({}), ""); }

TEST(EncodeQueryTest, UnreservedCharactersPassThrough) {
  EXPECT_EQ(encodeQuery({{"AZaz09-._~", "AZaz09-._~"}}), "AZaz09-._~=AZaz09-._~");
}

TEST(EncodeQueryTest, EverythingElseIsPercentEncodedUpperHex) {
  EXPECT_EQ(encodeQuery({{"q", "a b&c=d+e/f?g#h%i"}}), "q=a%20b%26c%3Dd%2Be%2Ff%3Fg%23h%25i");
  EXPECT_EQ(encodeQuery({{"k y", "="}}), "k%20y=%3D");
  EXPECT_EQ(encodeQuery({{"u", "\xC3\xA9"}}), "u=%C3%A9");
  EXPECT_EQ(encodeQuery({{"z", std::string("a\0b", 3)}}), "z=a%00b");
  EXPECT_EQ(encodeQuery({{"s", "!*'();:@$,[]"}}), "s=%21%2A%27%28%29%3B%3A%40%24%2C%5B%5D");
}

TEST(EncodeQueryTest, KeepsOrderRepeatsAndEmptyValues) {
  EXPECT_EQ(encodeQuery({{"b", "2"}, {"a", "1"}, {"b", "3"}, {"flag", ""}}), "b=2&a=1&b=3&flag=");
}

TEST(EncodeQueryTest, JwtPaddingIsEncoded) {
  // A WSO2 3.1 key in a query parameter keeps its '=' padding only if it is encoded.
  EXPECT_EQ(encodeQuery({{"apikey", "eyJ.e30=.c2ln=="}}), "apikey=eyJ.e30%3D.c2ln%3D%3D");
}

}  // namespace
}  // namespace mgw::gateway
