// ALPN as data (RFC 7301): the server's preference, h2 then http/1.1, whatever the client's order.
#include "http/tls.h"

#include <gtest/gtest.h>

namespace mgw::http {
namespace {

std::string list(std::initializer_list<std::string_view> names) {
  std::string out;
  for (auto n : names) {
    out += static_cast<char>(n.size());
    out += n;
  }
  return out;
}

TEST(TlsTest, AlpnPrefersH2) {
  EXPECT_EQ(chooseAlpn(list({"http/1.1", "h2"}), true), "h2");
  EXPECT_EQ(chooseAlpn(list({"h2", "http/1.1"}), true), "h2");
  EXPECT_EQ(chooseAlpn(list({"http/1.1", "h2"}), false), "http/1.1");
  EXPECT_EQ(chooseAlpn(list({"http/1.1"}), true), "http/1.1");
  EXPECT_EQ(chooseAlpn(list({"h3", "spdy/3"}), true), "");
  EXPECT_EQ(chooseAlpn(std::string("\x09h2"), true), "");  // a length past the end
  EXPECT_EQ(chooseAlpn("", true), "");
}

}  // namespace
}  // namespace mgw::http
