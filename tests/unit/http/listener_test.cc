// The connection budgets' data: which address group a client counts in (issue 22 item 4: IPv6 by
// /64), the per-group slots, and which waiting connection is closed first under pressure.
#include "http/listener.h"

#include <gtest/gtest.h>

namespace mgw::http {
namespace {

std::string group(const char* text) { return addressGroup(asio::ip::make_address(text)); }

TEST(AddressGroupTest, Ipv4ByAddressIpv6ByItsSlash64) {
  EXPECT_EQ(group("192.0.2.1"), group("192.0.2.1"));
  EXPECT_NE(group("192.0.2.1"), group("192.0.2.2"));
  EXPECT_EQ(group("192.0.2.1").size(), 4u);
  // An IPv4 client on a dual-stack socket counts as its IPv4 address.
  EXPECT_EQ(group("::ffff:192.0.2.1"), group("192.0.2.1"));
  // One /64 is one client (a host picks any address in it); another /64 is another.
  EXPECT_EQ(group("2001:db8:1:2::1"), group("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  EXPECT_NE(group("2001:db8:1:2::1"), group("2001:db8:1:3::1"));
  EXPECT_EQ(group("2001:db8:1:2::1").size(), 8u);
}

TEST(SlotTableTest, TakesUpToTheCapPerGroupAndGivesBack) {
  SlotTable slots;
  EXPECT_TRUE(slots.take("a", 2));
  EXPECT_TRUE(slots.take("a", 2));
  EXPECT_FALSE(slots.take("a", 2));
  EXPECT_TRUE(slots.take("b", 2));  // another group has its own budget
  EXPECT_EQ(slots.held("a"), 2);
  slots.give("a");
  EXPECT_TRUE(slots.take("a", 2));
  EXPECT_TRUE(slots.take("c", 0));  // 0 = no cap
  slots.give("c");
  EXPECT_EQ(slots.held("c"), 0);
  slots.give("nobody");  // never taken: nothing happens
  EXPECT_EQ(slots.held("nobody"), 0);
}

TEST(IdleConnectionsTest, TheLongestWaitingGatewayConnectionClosesFirst) {
  IoThread t;
  auto open = [&t] {
    Connection c;
    c.plain = std::make_unique<beast::tcp_stream>(t.io);
    c.plain->socket().open(asio::ip::tcp::v4());
    return c;
  };
  Connection metrics = open(), oldest = open(), newer = open();
  t.markIdle(&metrics, false);  // the observability listener's: never closed for the gateway
  t.markIdle(&oldest, true);
  t.markIdle(&newer, true);
  t.idle[oldest.idleSlot].since -= std::chrono::seconds(1);
  EXPECT_EQ(t.idleGateway.load(), 2);
  ASSERT_TRUE(t.closeOldestIdle());
  EXPECT_FALSE(oldest.plain->socket().is_open());
  EXPECT_TRUE(newer.plain->socket().is_open());
  t.markBusy(&newer);  // its request arrived: no longer a candidate
  EXPECT_EQ(t.idleGateway.load(), 0);
  EXPECT_FALSE(t.closeOldestIdle());
  EXPECT_TRUE(metrics.plain->socket().is_open());
}

}  // namespace
}  // namespace mgw::http
