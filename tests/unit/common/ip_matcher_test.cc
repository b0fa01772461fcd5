#include "common/ip_matcher.h"

#include <gtest/gtest.h>

namespace mgw {
namespace {

IpMatcher parseOk(std::string_view list) {
  std::string error;
  auto m = IpMatcher::parse(list, &error);
  EXPECT_TRUE(m) << list << ": " << error;
  return m ? *m : IpMatcher();
}

TEST(IpMatcherTest, SingleIpv4) {
  IpMatcher m = parseOk("192.168.1.2");
  EXPECT_TRUE(m.matches("192.168.1.2"));
  EXPECT_FALSE(m.matches("192.168.1.3"));
  EXPECT_FALSE(m.matches("not an ip"));
  EXPECT_FALSE(m.matches(""));
}

TEST(IpMatcherTest, SingleIpv6AndLoopback) {
  IpMatcher m = parseOk("2002:eb8::2, ::1");
  EXPECT_TRUE(m.matches("2002:0eb8:0000:0000:0000:0000:0000:0002"));
  EXPECT_TRUE(m.matches("::1"));
  EXPECT_TRUE(m.matches("[::1]"));
  EXPECT_FALSE(m.matches("::2"));
  EXPECT_FALSE(m.matches("127.0.0.1"));
}

TEST(IpMatcherTest, Ipv4Cidr) {
  IpMatcher m = parseOk("152.12.0.0/13");
  EXPECT_TRUE(m.matches("152.8.0.0"));
  EXPECT_TRUE(m.matches("152.15.255.255"));
  EXPECT_FALSE(m.matches("152.16.0.0"));
  EXPECT_FALSE(m.matches("152.7.255.255"));
}

TEST(IpMatcherTest, Ipv4CidrEdges) {
  IpMatcher all = parseOk("0.0.0.0/0");
  EXPECT_TRUE(all.matches("1.2.3.4"));
  EXPECT_TRUE(all.matches("255.255.255.255"));
  EXPECT_FALSE(all.matches("::1"));  // /0 of IPv4 covers IPv4 only
  IpMatcher one = parseOk("10.0.0.1/32");
  EXPECT_TRUE(one.matches("10.0.0.1"));
  EXPECT_FALSE(one.matches("10.0.0.0"));
  IpMatcher hostBits = parseOk("10.1.2.3/8");
  EXPECT_TRUE(hostBits.matches("10.200.0.1"));
  IpMatcher odd = parseOk("10.0.0.128/25");
  EXPECT_TRUE(odd.matches("10.0.0.255"));
  EXPECT_FALSE(odd.matches("10.0.0.127"));
}

TEST(IpMatcherTest, Ipv6Cidr) {
  IpMatcher m = parseOk("1001:ab8::/14");
  EXPECT_TRUE(m.matches("1001:ab8::1"));
  EXPECT_TRUE(m.matches("1003:ffff::1"));
  EXPECT_FALSE(m.matches("1004::1"));
  IpMatcher all = parseOk("::/0");
  EXPECT_TRUE(all.matches("2001:db8::1"));
  EXPECT_TRUE(all.matches("1.2.3.4"));  // every address, mapped IPv4 included
  IpMatcher one = parseOk("2001:db8::1/128");
  EXPECT_TRUE(one.matches("2001:db8::1"));
  EXPECT_FALSE(one.matches("2001:db8::2"));
}

TEST(IpMatcherTest, MappedIpv4) {
  IpMatcher v4 = parseOk("1.2.3.0/24");
  EXPECT_TRUE(v4.matches("::ffff:1.2.3.4"));
  EXPECT_TRUE(v4.matches("::FFFF:1.2.3.99"));
  IpMatcher mapped = parseOk("::ffff:1.2.3.4");
  EXPECT_TRUE(mapped.matches("1.2.3.4"));
  IpMatcher mappedRange = parseOk("::ffff:10.0.0.0/104");
  EXPECT_TRUE(mappedRange.matches("10.9.9.9"));
  EXPECT_FALSE(mappedRange.matches("11.0.0.0"));
}

TEST(IpMatcherTest, ListsWithSpaces) {
  IpMatcher m = parseOk("  10.0.0.1 ,192.168.0.0/16,   2001:db8::/32  ");
  EXPECT_EQ(m.size(), 3u);
  EXPECT_TRUE(m.matches("10.0.0.1"));
  EXPECT_TRUE(m.matches("192.168.4.4"));
  EXPECT_TRUE(m.matches("2001:db8:1::1"));
  EXPECT_FALSE(m.matches("10.0.0.2"));
}

TEST(IpMatcherTest, EmptyListMatchesNothing) {
  IpMatcher m = parseOk("   ");
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(m.matches("1.2.3.4"));
}

TEST(IpMatcherTest, ZoneIdOfClientAddressIsIgnored) {
  IpMatcher m = parseOk("fe80::/10");
  EXPECT_TRUE(m.matches("fe80::1%eth0"));
}

TEST(IpMatcherTest, MalformedEntriesAreErrors) {
  for (const char* bad :
       {"1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.4/33", "::1/129", "1.2.3.4/-1",
        "1.2.3.4/", "1.2.3.4/08", "1.2.3.4/ 8", "example.com", "1.2.3.4, ,5.6.7.8", "1.2.3.4,",
        "gggg::1", "1.2.3.4:80", "*", "fe80::1%eth0", "10.0.0.0/8/8"}) {
    std::string error;
    EXPECT_FALSE(IpMatcher::parse(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  std::string error;
  EXPECT_FALSE(IpMatcher::parse("10.0.0.1, 999.1.1.1", &error));
  EXPECT_NE(error.find("999.1.1.1"), std::string::npos) << error;
}

TEST(IpMatcherTest, ParseIpAddress) {
  EXPECT_TRUE(parseIpAddress("127.0.0.1"));
  EXPECT_EQ(parseIpAddress("127.0.0.1"), parseIpAddress("::ffff:127.0.0.1"));
  EXPECT_FALSE(parseIpAddress("localhost"));
  EXPECT_FALSE(parseIpAddress("1.2.3.4:80"));
}

}  // namespace
}  // namespace mgw
