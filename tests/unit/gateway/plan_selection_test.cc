// Issue 26: plan selection (items 1 and 2) and the bearer and cookie key locations (item 4), each
// stage alone on a real validator and router.
#include <gtest/gtest.h>

#include <algorithm>

#include "gateway/key_extractor.h"
#include "gateway/selection_rule.h"
#include "gateway/stages.h"
#include "gateway_fixture.h"

namespace mgw::gateway::testing {
namespace {

using Kind = StageResult::Kind;

std::shared_ptr<const SelectionRule> rule(std::string_view text) {
  RuleError error;
  auto r = SelectionRule::compile(text, &error);
  EXPECT_TRUE(r) << error.text();
  return r;
}

ApiPlan plan(std::string name, std::string tier, std::string_view ruleText) {
  ApiPlan p;
  p.name = std::move(name);
  p.tier = std::move(tier);
  p.security.apiKey = true;
  if (!ruleText.empty()) {
    p.rule = rule(ruleText);
    p.ruleText = std::string(ruleText);
  }
  return p;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class PlanSelectionTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    ApiDefinition plans;
    plans.name = "PizzaShackAPI";  // the name the fixture's keys allow
    plans.version = "1.0.0";
    plans.context = "/plans";
    plans.production.urls = {"http://127.0.0.1:9080/pizzashack"};
    plans.sandbox.urls = {"http://127.0.0.1:9080/pizzashack"};
    plans.resources.push_back(resource("*", "/*"));
    plans.plans.push_back(plan("gold", "Gold", "{#request.headers['x-tier'][0] == 'gold'}"));
    plans.plans.push_back(plan("sandbox", "Bronze", "key.claims['keytype'] == 'SANDBOX'"));

    ApiDefinition where = plans;  // bearer and cookie keys, no plans
    where.name = "CorsAPI";
    where.context = "/where";
    where.plans.clear();
    where.keySources = {{KeyLocation::kHeader, "apikey"},
                        {KeyLocation::kBearer, "Authorization"},
                        {KeyLocation::kCookie, "mgw_key"}};

    ApiDefinition mixed = where;  // OAuth2 tokens and bearer keys on one header
    mixed.context = "/mixed";
    Resource both = resource("GET", "/items");
    both.security.declared = true;
    both.security.oauth2 = true;
    both.security.scopes = {"read"};
    both.security.keySources = {{KeyLocation::kBearer, "Authorization"}};
    mixed.resources = {both};
    router_ = std::make_unique<Router>(std::vector<ApiDefinition>{plans, where, mixed});
  }

  std::shared_ptr<Exchange> authenticated(message::HttpRequest& r) {
    auto ex = exchange(r);
    EXPECT_EQ(routeStage(*ex).kind, Kind::kContinue);
    EXPECT_EQ(credentialsStage(*ex).kind, Kind::kContinue);
    EXPECT_EQ(authenticateStage(*ex).kind, Kind::kContinue);
    return ex;
  }

  static std::string sandboxKey() {
    json c = claims();
    c["keytype"] = "SANDBOX";
    c["jti"] = "jti-sandbox";
    return sign(c);
  }
};

TEST_F(PlanSelectionTest, TheFirstPlanWhoseRuleHoldsIsTakenWithItsTier) {
  auto r = request("GET", "/plans/x", {{"apikey", sandboxKey()}, {"X-Tier", "gold"}});
  auto ex = authenticated(r);
  ASSERT_EQ(selectPlanStage(*ex).kind, Kind::kContinue);
  ASSERT_TRUE(ex->selectedPlan);
  EXPECT_EQ(ex->selectedPlan->name, "gold");  // both rules hold: the first in order
  EXPECT_EQ(ex->entry.plan, "gold");
  EXPECT_EQ(ex->principal->plan, "gold");
  EXPECT_EQ(ex->principal->subscriptionTier, "Gold");
  const std::string goldCounter = ex->planSubscriber;
  EXPECT_NE(goldCounter.find("plan\x1fgold"), std::string::npos);

  auto s = request("GET", "/plans/x", {{"apikey", sandboxKey()}});
  auto sx = authenticated(s);
  ASSERT_EQ(selectPlanStage(*sx).kind, Kind::kContinue);
  EXPECT_EQ(sx->selectedPlan->name, "sandbox");
  EXPECT_EQ(sx->principal->subscriptionTier, "Bronze");
  EXPECT_NE(sx->planSubscriber, goldCounter);  // each plan its own quota
}

TEST_F(PlanSelectionTest, NoPlanIsAFaultAndTheRulesGoToTheLogOnly) {
  auto r = request("GET", "/plans/x", {{"apikey", goodKey()}, {"X-Tier", "silver"}});
  auto ex = authenticated(r);
  auto result = selectPlanStage(*ex);
  ASSERT_EQ(result.kind, Kind::kRefuse);
  EXPECT_EQ(result.refusal.failure, Failure::kApiNotAllowed);
  EXPECT_EQ(result.refusal.description, "no plan of API PizzaShackAPI:1.0.0 matches this request");
  EXPECT_NE(result.refusal.reason.find("rules tried: gold: {#request.headers['x-tier'][0]"),
            std::string::npos)
      << result.refusal.reason;
  EXPECT_NE(result.refusal.reason.find("sandbox: key.claims['keytype'] == 'SANDBOX'"),
            std::string::npos);
}

TEST_F(PlanSelectionTest, AnApiWithoutPlansHasTheImplicitOne) {
  auto r = request("GET", "/where/x", {{"apikey", goodKey()}});
  auto ex = authenticated(r);
  ASSERT_EQ(selectPlanStage(*ex).kind, Kind::kContinue);
  EXPECT_FALSE(ex->selectedPlan);
  EXPECT_EQ(ex->principal->subscriptionTier, "Gold");  // the key's own
  EXPECT_TRUE(ex->planSubscriber.empty());
}

TEST_F(PlanSelectionTest, BearerKeyIsTakenAndAuthorizationStripped) {
  auto r = request("GET", "/where/x", {{"Authorization", "Bearer " + goodKey()}});
  auto ex = authenticated(r);
  EXPECT_EQ(ex->credential->scheme, Scheme::kApiKey);
  EXPECT_EQ(ex->credential->source.in, KeyLocation::kBearer);
  ASSERT_EQ(planStage(*ex).kind, Kind::kContinue);
  EXPECT_TRUE(has(ex->plan->dropHeaders, "Authorization"));
}

TEST_F(PlanSelectionTest, AnAuthorizationTheKeyDidNotComeInIsTheBackends) {
  auto r = request("GET", "/where/x", {{"apikey", goodKey()}, {"Authorization", "Bearer other"}});
  auto ex = authenticated(r);
  EXPECT_EQ(ex->credential->source.in, KeyLocation::kHeader);
  ASSERT_EQ(planStage(*ex).kind, Kind::kContinue);
  EXPECT_FALSE(has(ex->plan->dropHeaders, "Authorization"));
  EXPECT_TRUE(has(ex->plan->dropHeaders, "apikey"));
}

TEST_F(PlanSelectionTest, CookieKeyIsTakenAndCutOutOfCookie) {
  auto r = request("GET", "/where/x", {{"Cookie", "a=1; mgw_key=" + goodKey() + "; b=\"2\""}});
  auto ex = authenticated(r);
  EXPECT_EQ(ex->credential->source.in, KeyLocation::kCookie);
  ASSERT_EQ(planStage(*ex).kind, Kind::kContinue);
  EXPECT_TRUE(has(ex->plan->dropHeaders, "Cookie"));
  auto cookie = std::find_if(ex->plan->setHeaders.begin(), ex->plan->setHeaders.end(),
                             [](const auto& h) { return h.first == "Cookie"; });
  ASSERT_NE(cookie, ex->plan->setHeaders.end());
  EXPECT_EQ(cookie->second, "a=1; b=\"2\"");

  // A request without the key cookie keeps its Cookie fields untouched.
  auto other = request("GET", "/where/x", {{"apikey", goodKey()}, {"Cookie", "a=1"}});
  auto ox = authenticated(other);
  ASSERT_EQ(planStage(*ox).kind, Kind::kContinue);
  EXPECT_FALSE(has(ox->plan->dropHeaders, "Cookie"));
}

TEST_F(PlanSelectionTest, OnOneHeaderAnOAuth2TokenGoesTheOAuth2WayAndAKeyTheKeyWay) {
  auto t = request("GET", "/mixed/items", {{"Authorization", "Bearer " + bearerToken("read")}});
  auto tx = authenticated(t);
  EXPECT_EQ(tx->credential->scheme, Scheme::kBearer);
  // Without the scope, the OAuth2 check refuses: it was never tried as an API key.
  auto w = request("GET", "/mixed/items", {{"Authorization", "Bearer " + bearerToken("write")}});
  auto wx = exchange(w);
  ASSERT_EQ(routeStage(*wx).kind, Kind::kContinue);
  ASSERT_EQ(credentialsStage(*wx).kind, Kind::kContinue);
  EXPECT_EQ(wx->credential->scheme, Scheme::kBearer);
  EXPECT_EQ(authenticateStage(*wx).kind, Kind::kRefuse);

  auto k = request("GET", "/mixed/items", {{"Authorization", "Bearer " + goodKey()}});
  auto kx = authenticated(k);
  EXPECT_EQ(kx->credential->scheme, Scheme::kApiKey);
  EXPECT_EQ(kx->credential->source.in, KeyLocation::kBearer);
}

TEST(CookieExtractorTest, NamesCompareExactlyAndQuotesAreUnwrapped) {
  message::HttpRequest r;
  r.headers.emplace("Cookie", "MGW_KEY=upper; mgw_key=\"quoted\"");
  r.headers.emplace("Cookie", "mgw_key=second");  // HTTP/2: one field per cookie
  EXPECT_EQ(extractCookie(r, "mgw_key").value_or(""), "quoted");
  EXPECT_EQ(cookiesWithout(r, "mgw_key").value_or("?"), "MGW_KEY=upper");
  EXPECT_FALSE(cookiesWithout(r, "absent"));
  message::HttpRequest empty;
  empty.headers.emplace("Cookie", "mgw_key=; x");
  EXPECT_FALSE(extractCookie(empty, "mgw_key"));
}

}  // namespace
}  // namespace mgw::gateway::testing
