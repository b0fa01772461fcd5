// Each stage alone: an exchange in (with what the earlier stages would have left), a result out.
#include "gateway/stages.h"

#include <gtest/gtest.h>

#include "gateway_fixture.h"

namespace mgw::gateway::testing {
namespace {

using Kind = StageResult::Kind;

class StagesTest : public GatewayFixture {
 protected:
  // An exchange routed as the route stage would leave it.
  std::shared_ptr<Exchange> routed(message::HttpRequest& r) {
    auto ex = exchange(r);
    EXPECT_EQ(routeStage(*ex).kind, Kind::kContinue);
    return ex;
  }
  // ... and with its credential found.
  std::shared_ptr<Exchange> withCredential(message::HttpRequest& r) {
    auto ex = routed(r);
    EXPECT_EQ(credentialsStage(*ex).kind, Kind::kContinue);
    return ex;
  }
  std::shared_ptr<Exchange> authenticated(message::HttpRequest& r) {
    auto ex = withCredential(r);
    EXPECT_EQ(authenticateStage(*ex).kind, Kind::kContinue);
    return ex;
  }
};

TEST_F(StagesTest, MethodForwardsTheMethodsOfRfc9110AndRefusesTheRest) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    auto r = request(m, "/x");
    EXPECT_EQ(methodStage(*exchange(r)).kind, Kind::kContinue) << m;
  }
  for (const char* m : {"TRACE", "CONNECT", "get", "PROPFIND"}) {
    auto r = request(m, "/x");
    auto result = methodStage(*exchange(r));
    ASSERT_EQ(result.kind, Kind::kRefuse) << m;
    EXPECT_EQ(result.refusal.failure, Failure::kMethodNotAllowed);
    EXPECT_EQ(result.refusal.description, std::string("the method ") + m + " is not forwarded");
  }
}

TEST_F(StagesTest, CorsAnswersPreflightsOfApisWithCorsOnly) {
  auto pre = request("OPTIONS", "/cors/1.0.0/menu",
                     {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}});
  auto ex = exchange(pre);
  auto result = corsStage(*ex);
  EXPECT_EQ(result.kind, Kind::kAnswer);
  EXPECT_EQ(result.answer.status, 204);
  EXPECT_EQ(ex->entry.api, "CorsAPI:1.0.0");
  // Without CORS on the API, a preflight is an ordinary OPTIONS request.
  auto plain =
      request("OPTIONS", "/pizzashack/1.0.0/menu",
              {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(corsStage(*exchange(plain)).kind, Kind::kContinue);
  auto notPreflight = request("OPTIONS", "/cors/1.0.0/menu");
  EXPECT_EQ(corsStage(*exchange(notPreflight)).kind, Kind::kContinue);
  auto refused =
      request("OPTIONS", "/cors/1.0.0/menu",
              {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "PUT"}});
  EXPECT_EQ(corsStage(*exchange(refused)).refusal.failure, Failure::kCorsRefused);
}

TEST_F(StagesTest, RouteNamesTheApiAndClipsLongPaths) {
  auto r = request("GET", "/nowhere/" + std::string(300, 'a'));
  auto result = routeStage(*exchange(r));
  EXPECT_EQ(result.refusal.failure, Failure::kNoApi);
  EXPECT_EQ(result.refusal.description.size(), std::string("no API is deployed at ").size() + 203);
  auto nores = request("DELETE", "/cors/1.0.0/menu");
  auto ex = exchange(nores);
  auto refused = routeStage(*ex);
  EXPECT_EQ(refused.refusal.failure, Failure::kNoResource);
  EXPECT_EQ(refused.refusal.description, "the API has no resource for DELETE /cors/1.0.0/menu");
  EXPECT_EQ(ex->entry.api, "CorsAPI:1.0.0");
  EXPECT_NE(ex->cors, nullptr);  // its faults carry the API's CORS fields
  auto ok = request("GET", "/pizzashack/1.0.0/menu");
  auto routedEx = routed(ok);
  EXPECT_EQ(routedEx->resource->pathTemplate, "/menu");
}

TEST_F(StagesTest, CredentialsPickTheSchemeAndSayWhereAKeyGoes) {
  struct Case {
    std::string target;
    message::HeaderMap headers;
    Failure failure;
    std::string description;
  } cases[] = {
      {"/pizzashack/1.0.0/menu",
       {},
       Failure::kMissingCredentials,
       "an API key is required in the 'apikey' header"},
      {"/pizzashack/1.0.0/oauth",
       {},
       Failure::kMissingCredentials,
       "an API key is required in the 'key' query parameter"},
      {"/pizzashack/1.0.0/basic",
       {},
       Failure::kAuthMissing,
       "this resource takes Authorization: Basic base64(user:password)"},
      {"/pizzashack/1.0.0/either",
       {},
       Failure::kMissingCredentials,
       "an API key is required in the 'apikey' location, or Authorization: Basic"},
      {"/pizzashack/1.0.0/mtls",
       {},
       Failure::kUnsupportedSecurity,
       "this resource is secured only by schemes micro-gw does not serve"},
  };
  for (auto& c : cases) {
    auto r = request("GET", c.target, c.headers);
    auto result = credentialsStage(*routed(r));
    ASSERT_EQ(result.kind, Kind::kRefuse) << c.target;
    EXPECT_EQ(result.refusal.failure, c.failure) << c.target;
    EXPECT_EQ(result.refusal.description, c.description) << c.target;
  }
  // Basic where the resource takes it decides alone, even with a key present.
  auto both = request("GET", "/pizzashack/1.0.0/either",
                      {{"apikey", goodKey()}, {"Authorization", basicHeader("alice", "x")}});
  auto ex = withCredential(both);
  EXPECT_EQ(ex->credential->scheme, Scheme::kBasic);
  auto bearer = request("GET", "/pizzashack/1.0.0/oauth?key=k",
                        {{"Authorization", "Bearer " + bearerToken("read")}});
  EXPECT_EQ(withCredential(bearer)->credential->scheme, Scheme::kBearer);
  auto open = request("GET", "/pizzashack/1.0.0/open", {{"apikey", "ignored"}});
  EXPECT_FALSE(withCredential(open)->credential);
}

TEST_F(StagesTest, KeyLookupLimitCountsOnlyKeysAndBlocksPastTheLimit) {
  for (int i = 0; i < 3; ++i) keyLookupFailures_.recordFailure("192.0.2.7", kNowMs);
  auto r = request("GET", "/pizzashack/1.0.0/menu", {{"apikey", "guess"}});
  auto result = keyLookupLimitStage(*withCredential(r));
  ASSERT_EQ(result.kind, Kind::kRefuse);
  EXPECT_EQ(result.refusal.failure, Failure::kTooManyInvalidKeys);
  EXPECT_EQ(result.refusal.headers.at(0).name, "Retry-After");
  EXPECT_EQ(result.refusal.reason, "key lookups from 192.0.2.7 throttled");
  // Basic has the login throttle instead.
  auto basic = request("GET", "/pizzashack/1.0.0/basic",
                       {{"Authorization", basicHeader("alice", "x")}}, true);
  EXPECT_EQ(keyLookupLimitStage(*withCredential(basic)).kind, Kind::kContinue);
  // Another address is not blocked.
  auto other = request("GET", "/pizzashack/1.0.0/menu", {{"apikey", "guess"}});
  other.clientAddress = "192.0.2.8";
  EXPECT_EQ(keyLookupLimitStage(*withCredential(other)).kind, Kind::kContinue);
}

TEST_F(StagesTest, AuthenticateRecordsFailedLookupsAndKeepsTheKeyId) {
  auto r = request("GET", "/pizzashack/1.0.0/menu", {{"apikey", std::string(100, 'x')}});
  auto ex = withCredential(r);
  auto result = authenticateStage(*ex);
  EXPECT_EQ(result.refusal.failure, Failure::kMalformedKey);
  EXPECT_FALSE(ex->entry.keyId.empty());  // a fingerprint, never the key
  EXPECT_EQ(ex->entry.keyId.find("xxxxxxxx"), std::string::npos);
  EXPECT_EQ(keyLookupFailures_.blockedForMs("192.0.2.7", 1, kNowMs), 60000);
  auto good = request("GET", "/pizzashack/1.0.0/menu", {{"apikey", goodKey()}});
  auto ok = authenticated(good);
  EXPECT_EQ(ok->principal->keyId, "jti-1");
  EXPECT_EQ(ok->entry.keyId, "jti-1");
  EXPECT_EQ(ok->principal->subscriptionTier, "Gold");
}

TEST_F(StagesTest, AuthenticateDefersBasicToTheWorkerPool) {
  auto r = request("GET", "/pizzashack/1.0.0/basic",
                   {{"Authorization", basicHeader("alice", "alice-secret")}}, true);
  auto ex = withCredential(r);
  auto result = authenticateStage(*ex);
  ASSERT_EQ(result.kind, Kind::kDefer);
  EXPECT_TRUE(result.blocking);
  std::optional<StageResult> done;
  result.start(*ex, [&](StageResult r) { done = std::move(r); });
  ASSERT_TRUE(done);
  EXPECT_EQ(done->kind, Kind::kContinue);
  EXPECT_EQ(ex->principal->keyId, "basic:alice");
  EXPECT_EQ(ex->entry.keyId, "basic:alice");
}

// Issue 22 item 8 (OpenAPI 3 section 4.8.30): security: [{apiKey: [], basicAuth: []}] needs both
// credentials; security: [{apiKey: []}, {basicAuth: []}] takes either.
TEST_F(StagesTest, SchemesOfOneRequirementObjectAreAllRequired) {
  const std::string key = goodKey();
  const std::string basic = basicHeader("alice", "alice-secret");
  auto run = [&](message::HeaderMap headers, bool together) {
    auto r = request("GET", "/pizzashack/1.0.0/either", std::move(headers), true);
    auto ex = routed(r);
    auto both = std::make_shared<Resource>(*ex->resource);  // apikey header, or basic
    if (together) both->security.alternatives = {SchemeSet{.apiKey = true, .basic = true}};
    ex->resource = both.get();
    StageResult result = credentialsStage(*ex);
    if (result.kind == Kind::kContinue) result = authenticateStage(*ex);
    if (result.kind == Kind::kDefer) {
      std::optional<StageResult> done;
      result.start(*ex, [&](StageResult r) { done = std::move(r); });
      result = std::move(*done);
    }
    return std::pair{std::move(result), ex->principal ? ex->principal->keyId : ""};
  };
  // AND: one credential alone is not enough, whichever it is.
  for (const message::HeaderMap& one :
       {message::HeaderMap{{"apikey", key}}, message::HeaderMap{{"Authorization", basic}}}) {
    auto [result, caller] = run(one, true);
    EXPECT_EQ(result.refusal.failure, Failure::kMissingCredentials);
    EXPECT_EQ(result.refusal.description,
              "this resource needs an API key and Authorization: Basic (together where joined by "
              "\"and\")");
  }
  auto [ok, caller] = run({{"apikey", key}, {"Authorization", basic}}, true);
  EXPECT_EQ(ok.kind, Kind::kContinue) << ok.refusal.description;
  EXPECT_EQ(caller, "basic:alice");
  // Both present, the API key bad: refused before the password is looked at.
  auto [badKey, none] = run({{"apikey", "not-a-key"}, {"Authorization", basic}}, true);
  EXPECT_EQ(badKey.refusal.failure, Failure::kMalformedKey);
  auto [badPassword, none2] =
      run({{"apikey", key}, {"Authorization", basicHeader("alice", "wrong")}}, true);
  EXPECT_EQ(badPassword.refusal.failure, Failure::kAuthInvalid);
  // OR: either alone is enough.
  EXPECT_EQ(run({{"apikey", key}}, false).second, "jti-1");
  EXPECT_EQ(run({{"Authorization", basic}}, false).second, "basic:alice");
}

TEST_F(StagesTest, PlanStripsTheKeyAndSetsTheFieldsTheGatewayOwns) {
  auto r = request("GET", "/pizzashack/1.0.0/menu?a=1&apikey=k&b=2",
                   {{"apikey", "k"}, {"X-Forwarded-For", "198.51.100.1"}, {"tracestate", "x"}});
  auto ex = routed(r);
  ASSERT_EQ(planStage(*ex).kind, Kind::kContinue);
  const auto& plan = *ex->plan;
  EXPECT_EQ(plan.rawPath, "/menu");
  EXPECT_EQ(plan.rawQuery, "a=1&b=2");
  EXPECT_EQ(plan.forwardedFor, "192.0.2.7");  // the peer is no trusted proxy
  EXPECT_EQ(plan.forwardedHost, "gw.test");
  EXPECT_EQ(plan.api, "PizzaShackAPI:1.0.0");
  EXPECT_EQ(plan.targets.size(), 1u);
  EXPECT_NE(std::find(plan.dropHeaders.begin(), plan.dropHeaders.end(), "apikey"),
            plan.dropHeaders.end());
  EXPECT_NE(std::find(plan.dropHeaders.begin(), plan.dropHeaders.end(), "tracestate"),
            plan.dropHeaders.end());
  EXPECT_EQ(plan.setHeaders.at(1).second, ex->trace.requestId);
  EXPECT_EQ(plan.responseHeaders.at(0).second, ex->trace.requestId);
}

// Issue 22 item 8: a client's X-Forwarded-For is kept (and extended) only from a trusted proxy;
// its Forwarded and X-Real-IP never reach the backend.
TEST_F(StagesTest, PlanKeepsAForwardedChainOnlyFromATrustedProxy) {
  config::Config withProxies = config_;
  withProxies.listener.trustedProxies = {"192.0.2.0/24"};
  auto keys = std::make_shared<token::KeySet>();
  const KeyValidator trusting(keys, withProxies, nullptr);
  const message::HeaderMap sent{{"X-Forwarded-For", "198.51.100.1"},
                                {"Forwarded", "for=203.0.113.9"},
                                {"X-Real-IP", "203.0.113.9"}};
  for (const bool trusted : {false, true}) {
    auto r = request("GET", "/pizzashack/1.0.0/menu", sent);
    auto ex = routed(r);
    if (trusted) ex->state.validator = &trusting;
    ASSERT_EQ(planStage(*ex).kind, Kind::kContinue);
    const auto& plan = *ex->plan;
    EXPECT_EQ(plan.forwardedFor, trusted ? "198.51.100.1, 192.0.2.7" : "192.0.2.7");
    for (const char* dropped : {"Forwarded", "X-Real-IP"})
      EXPECT_NE(std::find(plan.dropHeaders.begin(), plan.dropHeaders.end(), dropped),
                plan.dropHeaders.end())
          << dropped;
  }
}

// Issue 22 item 8 (RFC 9112 section 3.2.2): an absolute-form target's authority, not the Host
// field, is the host the client asked for.
TEST_F(StagesTest, PlanTakesXForwardedHostFromAnAbsoluteFormTarget) {
  auto r = request("GET", "http://api.example.com:8443/pizzashack/1.0.0/menu");
  auto ex = routed(r);
  ASSERT_EQ(planStage(*ex).kind, Kind::kContinue);
  EXPECT_EQ(ex->plan->forwardedHost, "api.example.com:8443");
  EXPECT_EQ(ex->plan->rawPath, "/menu");
}

// A backend fault on a gRPC call is answered with grpc-status too (the relay reads the plan).
TEST_F(StagesTest, PlanOfAGrpcCallAsksForGrpcFaults) {
  auto rest = request("GET", "/pizzashack/1.0.0/menu", {{"apikey", "k"}});
  auto plain = routed(rest);
  ASSERT_EQ(planStage(*plain).kind, Kind::kContinue);
  EXPECT_EQ(plain->plan->faultFormat, message::FaultFormat::kJson);
  auto call = request("GET", "/pizzashack/1.0.0/menu",
                      {{"apikey", "k"}, {"content-type", "application/grpc+proto"}});
  auto grpc = routed(call);
  ASSERT_EQ(planStage(*grpc).kind, Kind::kContinue);
  EXPECT_EQ(grpc->plan->faultFormat, message::FaultFormat::kGrpc);
}

TEST_F(StagesTest, PlanSendsASandboxKeyToSandboxEndpointsOrRefuses) {
  json sandbox = claims();
  sandbox["keytype"] = "SANDBOX";
  auto r = request("GET", "/pizzashack/1.0.0/menu", {{"apikey", sign(sandbox)}});
  auto ex = withCredential(r);
  // The API has no sandbox endpoints: the validator refuses first (SPEC section 7).
  EXPECT_EQ(authenticateStage(*ex).refusal.failure, Failure::kSandboxNotAvailable);
  // Were the caller a sandbox one anyway, the plan has no endpoints for it.
  auto good = request("GET", "/pizzashack/1.0.0/menu", {{"apikey", goodKey()}});
  auto ok = authenticated(good);
  ok->principal->sandbox = true;
  auto result = planStage(*ok);
  EXPECT_EQ(result.refusal.failure, Failure::kSandboxNotAvailable);
  EXPECT_EQ(result.refusal.description, "the API has no endpoints for this key type");
}

TEST_F(StagesTest, BackendJwtIsSignedForACallerAndAClientCopyIsDropped) {
  config::JwtGeneratorConfig jc;
  jc.enabled = true;
  std::string error;
  std::shared_ptr<const token::SigningKey> key = token::SigningKey::load(
      (*dir_ / "signing.pem").string(), "", token::Algorithm::kES256, &error);
  BackendJwtGenerator generator(jc, key);
  auto good = request("GET", "/pizzashack/1.0.0/menu", {{"apikey", goodKey()}});
  auto ex = authenticated(good);
  ex->state.jwtGenerator = &generator;
  ASSERT_EQ(planStage(*ex).kind, Kind::kContinue);
  ASSERT_EQ(backendJwtStage(*ex).kind, Kind::kContinue);
  EXPECT_EQ(ex->plan->setHeaders.back().first, generator.header());
  auto open = request("GET", "/pizzashack/1.0.0/open");
  auto anon = routed(open);
  anon->state.jwtGenerator = &generator;
  ASSERT_EQ(planStage(*anon).kind, Kind::kContinue);
  ASSERT_EQ(backendJwtStage(*anon).kind, Kind::kContinue);
  EXPECT_EQ(anon->plan->dropHeaders.back(), generator.header());
}

TEST_F(StagesTest, ThrottleChargesInlineAndRefusesWithoutCorsOrRequestId) {
  auto first = request("GET", "/pizzashack/1.0.0/tiny");
  EXPECT_EQ(throttleStage(*routed(first)).kind, Kind::kContinue);
  auto second = request("GET", "/pizzashack/1.0.0/tiny");
  auto result = throttleStage(*routed(second));
  ASSERT_EQ(result.kind, Kind::kRefuse);
  EXPECT_EQ(result.refusal.failure, Failure::kResourceThrottled);
  EXPECT_FALSE(result.refusal.decorated);
  auto missing = request("GET", "/pizzashack/1.0.0/missing-tier");
  EXPECT_EQ(throttleStage(*routed(missing)).refusal.failure, Failure::kThrottlePolicyMissing);
  auto open = request("GET", "/pizzashack/1.0.0/open");
  EXPECT_EQ(throttleStage(*routed(open)).kind, Kind::kContinue);  // no tier: nothing charged
}

}  // namespace
}  // namespace mgw::gateway::testing
