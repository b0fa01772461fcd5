#include "gateway/exchange.h"

#include <gtest/gtest.h>

#include "gateway_fixture.h"

namespace mgw::gateway::testing {
namespace {

class ExchangeTest : public GatewayFixture {};

TEST_F(ExchangeTest, AuthenticatorsInTheOrderCredentialsAreLookedFor) {
  auto r = request("GET", "/x");
  auto ex = exchange(r);
  auto order = ex->authenticators.order();
  ASSERT_TRUE(order[0] && order[1] && order[2]);
  EXPECT_EQ(order[0]->scheme(), Scheme::kBasic);
  EXPECT_EQ(order[1]->scheme(), Scheme::kBearer);
  EXPECT_EQ(order[2]->scheme(), Scheme::kApiKey);
  for (Scheme s : {Scheme::kApiKey, Scheme::kBearer, Scheme::kBasic})
    EXPECT_EQ(ex->authenticators.of(s).scheme(), s);
}

TEST_F(ExchangeTest, NoUserStoreNoBasic) {
  auto r = request("GET", "/x");
  GatewayState s = state();
  s.users = nullptr;
  Exchange ex(r, s, context());
  EXPECT_EQ(ex.authenticators.order()[0], nullptr);
}

TEST_F(ExchangeTest, TraceAndForwardedForAreTakenOnce) {
  auto r = request("GET", "/x",
                   {{"X-Request-Id", "abc-1"},
                    {"X-Forwarded-For", "198.51.100.1"},
                    {"X-Forwarded-For", "198.51.100.2"}});
  auto ex = exchange(r);
  EXPECT_EQ(ex->trace.requestId, "abc-1");
  EXPECT_EQ(ex->entry.requestId, "abc-1");
  EXPECT_EQ(ex->entry.traceId, ex->trace.traceId);
  EXPECT_EQ(ex->entry.method, observability::Method::kGet);
  EXPECT_EQ(ex->forwardedFor, "198.51.100.1, 198.51.100.2");
}

}  // namespace
}  // namespace mgw::gateway::testing
