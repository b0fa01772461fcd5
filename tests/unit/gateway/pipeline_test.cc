// The pipeline as a table (SPEC sections 7, 13, 15, 16): a request in, a decision out, with the
// real stages, validator, router, user store and throttler; and how it defers and resumes.
#include "gateway/pipeline.h"

#include <gtest/gtest.h>

#include "gateway_fixture.h"

namespace mgw::gateway::testing {
namespace {

struct Row {
  const char* name;
  std::string method;
  std::string target;
  message::HeaderMap headers;
  Failure expected;  // kNone: forwarded
  bool tls = false;
};

class PipelineTest : public GatewayFixture {
 protected:
  message::Decision run(message::HttpRequest& r) { return decide(r, state(), context()); }

  // Forwarded, or the fault code and status of the refusal.
  void expect(const Row& row) {
    SCOPED_TRACE(row.name);
    auto r = request(row.method, row.target, row.headers, row.tls);
    auto d = run(r);
    if (row.expected == Failure::kNone) {
      ASSERT_TRUE(std::holds_alternative<message::Forward>(d.action)) << row.name;
      return;
    }
    ASSERT_TRUE(std::holds_alternative<message::Reply>(d.action)) << row.name;
    const auto& reply = std::get<message::Reply>(d.action).response;
    EXPECT_EQ(reply.status, faultFor(row.expected).httpStatus) << row.name << ": " << reply.body;
    EXPECT_EQ(faultCode(reply), faultFor(row.expected).code) << row.name << ": " << reply.body;
  }
};

TEST_F(PipelineTest, TheOrderOfSection7AndSection16) {
  const std::string key = goodKey();
  json other = claims();
  other["allowedAPIs"] = json::array({{{"name", "OtherAPI"}, {"version", "1.0.0"}}});
  const std::string notAllowed = sign(other);
  json expired = claims();
  expired["exp"] = kNowMs / 1000 - 100;
  const Row rows[] = {
      // The method is refused first, before routing and before any key.
      {"TRACE on a secured resource",
       "TRACE",
       "/pizzashack/1.0.0/menu",
       {},
       Failure::kMethodNotAllowed},
      {"CONNECT nowhere", "CONNECT", "/nowhere", {}, Failure::kMethodNotAllowed},
      // Routing before credentials.
      {"no API", "GET", "/nowhere", {}, Failure::kNoApi},
      {"no resource", "PUT", "/pizzashack/1.0.0/menu", {{"apikey", "x"}}, Failure::kNoResource},
      // Missing (900902) before malformed (900901) before not allowed (900908).
      {"no key", "GET", "/pizzashack/1.0.0/menu", {}, Failure::kMissingCredentials},
      {"empty key",
       "GET",
       "/pizzashack/1.0.0/menu",
       {{"apikey", " "}},
       Failure::kMissingCredentials},
      {"malformed key",
       "GET",
       "/pizzashack/1.0.0/menu",
       {{"apikey", std::string(100, 'x')}},
       Failure::kMalformedKey},
      {"expired key",
       "GET",
       "/pizzashack/1.0.0/menu",
       {{"apikey", sign(expired)}},
       Failure::kExpired},
      {"key for another API",
       "GET",
       "/pizzashack/1.0.0/menu",
       {{"apikey", notAllowed}},
       Failure::kApiNotAllowed},
      {"good key in the header",
       "GET",
       "/pizzashack/1.0.0/menu",
       {{"apikey", key}},
       Failure::kNone},
      {"good key in the query", "GET", "/pizzashack/1.0.0/menu?apikey=" + key, {}, Failure::kNone},
      // A resource's own locations: a key elsewhere is no key.
      {"key in an undeclared place",
       "GET",
       "/pizzashack/1.0.0/either?apikey=" + key,
       {},
       Failure::kMissingCredentials},
      {"open resource", "GET", "/pizzashack/1.0.0/open", {}, Failure::kNone},
      {"only unsupported schemes",
       "GET",
       "/pizzashack/1.0.0/mtls",
       {{"apikey", key}},
       Failure::kUnsupportedSecurity},
      // Basic: missing, over plain HTTP (not checked), bad, not allowed, good.
      {"basic resource, nothing sent", "GET", "/pizzashack/1.0.0/basic", {}, Failure::kAuthMissing},
      {"basic over HTTP",
       "GET",
       "/pizzashack/1.0.0/basic",
       {{"Authorization", basicHeader("alice", "alice-secret")}},
       Failure::kAuthMissing},
      // Bearer tokens with scopes, an API key where oauth2 is declared too.
      {"bearer with the scope",
       "GET",
       "/pizzashack/1.0.0/oauth",
       {{"Authorization", "Bearer " + bearerToken("read write")}},
       Failure::kNone},
      {"bearer without the scope",
       "GET",
       "/pizzashack/1.0.0/oauth",
       {{"Authorization", "Bearer " + bearerToken("write")}},
       Failure::kMissingScope},
      {"API key sent as a bearer token",
       "GET",
       "/pizzashack/1.0.0/oauth",
       {{"Authorization", "Bearer " + key}},
       Failure::kWrongIssuer},
      {"API key where oauth2 is declared",
       "GET",
       "/pizzashack/1.0.0/oauth?key=" + key,
       {},
       Failure::kNone},
      // A definition naming a policy that does not exist: 500 once the caller is known.
      {"missing throttling policy",
       "GET",
       "/pizzashack/1.0.0/missing-tier",
       {{"apikey", key}},
       Failure::kThrottlePolicyMissing},
      {"missing policy, no key",
       "GET",
       "/pizzashack/1.0.0/missing-tier",
       {},
       Failure::kMissingCredentials},
  };
  for (const Row& row : rows) expect(row);
}

TEST_F(PipelineTest, CorsPreflightIsAnsweredBeforeAnyKey) {
  auto r = request("OPTIONS", "/cors/1.0.0/menu",
                   {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}});
  auto d = run(r);
  ASSERT_TRUE(std::holds_alternative<message::Reply>(d.action));
  const auto& reply = std::get<message::Reply>(d.action).response;
  EXPECT_EQ(reply.status, 204);
  EXPECT_EQ(reply.headers.find("Access-Control-Allow-Origin")->second, "https://app.example");
  EXPECT_TRUE(reply.headers.count("X-Request-Id"));

  auto refused =
      request("OPTIONS", "/cors/1.0.0/menu",
              {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "GET"}});
  auto d2 = run(refused);
  const auto& no = std::get<message::Reply>(d2.action).response;
  EXPECT_EQ(no.status, faultFor(Failure::kCorsRefused).httpStatus);
  EXPECT_FALSE(no.headers.count("Access-Control-Allow-Origin"));
  // A fault of an API with CORS on carries its CORS fields.
  auto keyless = request("GET", "/cors/1.0.0/menu", {{"Origin", "https://app.example"}});
  auto d3 = run(keyless);
  const auto& fault = std::get<message::Reply>(d3.action).response;
  EXPECT_EQ(fault.status, 401);
  EXPECT_EQ(fault.headers.find("Access-Control-Allow-Origin")->second, "https://app.example");
}

TEST_F(PipelineTest, BasicOverHttpIsRefusedWithoutCheckingThePassword) {
  auto r =
      request("GET", "/pizzashack/1.0.0/basic", {{"Authorization", basicHeader("alice", "wrong")}});
  auto d = run(r);
  ASSERT_TRUE(std::holds_alternative<message::Reply>(d.action));
  EXPECT_EQ(faultCode(std::get<message::Reply>(d.action).response),
            faultFor(Failure::kAuthMissing).code);
  EXPECT_EQ(users_->argon2Verifications(), 0u);
}

TEST_F(PipelineTest, BasicOverHttpsDefersOnceToTheWorkerPoolAndResumesAfterAuthenticate) {
  auto r = request("GET", "/pizzashack/1.0.0/basic",
                   {{"Authorization", basicHeader("alice", "alice-secret")}}, true);
  auto d = run(r);
  ASSERT_TRUE(std::holds_alternative<message::Defer>(d.action));
  auto& deferred = std::get<message::Defer>(d.action);
  EXPECT_TRUE(deferred.blocking);
  EXPECT_TRUE(d.done);  // the access log line if the transport answers without resuming
  EXPECT_EQ(users_->argon2Verifications(), 0u);  // nothing blocking on the calling thread
  std::optional<message::Decision> resumed;
  deferred.start([&](message::Decision next) { resumed = std::move(next); });
  ASSERT_TRUE(resumed);
  ASSERT_TRUE(std::holds_alternative<message::Forward>(resumed->action));
  const auto& plan = *std::get<message::Forward>(resumed->action).plan;
  // Basic credentials never reach the backend.
  EXPECT_NE(std::find(plan.dropHeaders.begin(), plan.dropHeaders.end(), "Authorization"),
            plan.dropHeaders.end());
  EXPECT_EQ(users_->argon2Verifications(), 1u);
}

TEST_F(PipelineTest, BasicRefusalsAfterTheWorkerPool) {
  struct Case {
    std::string user, password;
    Failure expected;
  } cases[] = {{"alice", "nope", Failure::kAuthInvalid},
               {"bob", "alice-secret", Failure::kApiNotAllowed}};
  for (const auto& c : cases) {
    auto r = request("GET", "/pizzashack/1.0.0/either",
                     {{"Authorization", basicHeader(c.user, c.password)}}, true);
    auto d = run(r);
    std::optional<message::Decision> resumed;
    std::get<message::Defer>(d.action).start([&](message::Decision n) { resumed = std::move(n); });
    ASSERT_TRUE(resumed);
    const auto& reply = std::get<message::Reply>(resumed->action).response;
    EXPECT_EQ(faultCode(reply), faultFor(c.expected).code) << c.user;
    if (reply.status == 401)
      EXPECT_EQ(reply.headers.find("WWW-Authenticate")->second, "Basic realm=\"micro-gw\"");
    EXPECT_TRUE(reply.headers.count("X-Request-Id"));
  }
}

TEST_F(PipelineTest, KeyLookupLimitAnswers429WithRetryAfterWithoutLookingTheKeyUp) {
  const std::string good = goodKey();
  {
    auto r = request("GET", "/pizzashack/1.0.0/menu", {{"apikey", good}});
    ASSERT_TRUE(std::holds_alternative<message::Forward>(run(r).action));  // now cached
  }
  for (int i = 0; i < 3; ++i) {  // keyLookupFailuresPerMinute = 3
    expect({"guess",
            "GET",
            "/pizzashack/1.0.0/menu",
            {{"apikey", "bad-" + std::string(90, 'x')}},
            Failure::kMalformedKey});
  }
  auto r = request("GET", "/pizzashack/1.0.0/menu", {{"apikey", "bad-" + std::string(90, 'y')}});
  auto d = run(r);
  const auto& reply = std::get<message::Reply>(d.action).response;
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(faultCode(reply), faultFor(Failure::kTooManyInvalidKeys).code);
  EXPECT_EQ(reply.headers.find("Retry-After")->second, "60");
  // Missing keys are still told so (900902 comes first); a verified key is no guess.
  expect({"no key", "GET", "/pizzashack/1.0.0/menu", {}, Failure::kMissingCredentials});
  expect({"cached key", "GET", "/pizzashack/1.0.0/menu", {{"apikey", good}}, Failure::kNone});
  // A valid key not verified before is held back with the guesses.
  json fresh = claims();
  fresh["jti"] = "jti-2";
  expect({"fresh key",
          "GET",
          "/pizzashack/1.0.0/menu",
          {{"apikey", sign(fresh)}},
          Failure::kTooManyInvalidKeys});
}

TEST_F(PipelineTest, ThrottlingIsLastAndAnswers429WithItsHeaders) {
  const std::string key = goodKey();
  expect({"first", "GET", "/pizzashack/1.0.0/tiny", {{"apikey", key}}, Failure::kNone});
  // Refusals before throttling are not counted against the quota, and answer first.
  expect({"no key", "GET", "/pizzashack/1.0.0/tiny", {}, Failure::kMissingCredentials});
  auto r = request("GET", "/pizzashack/1.0.0/tiny", {{"apikey", key}});
  auto d = run(r);
  const auto& reply = std::get<message::Reply>(d.action).response;
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(faultCode(reply), faultFor(Failure::kResourceThrottled).code);
  EXPECT_TRUE(reply.headers.count("Retry-After"));
  EXPECT_TRUE(reply.headers.count("RateLimit-Policy"));
  EXPECT_EQ(stats_.throttled(throttle::Level::kResource), 1u);
}

// A counter store that answers later (as Redis does).
class LaterStore : public throttle::CounterStore {
 public:
  void charge(std::vector<throttle::Hit> hits, Done done) override {
    hits_ = std::move(hits);
    done_ = std::move(done);
  }
  void answer(bool allowed) {
    throttle::Verdict v;
    v.allowed = allowed;
    v.reset = std::chrono::seconds(7);
    done_(v);
  }
  std::vector<throttle::Hit> hits_;
  Done done_;
};

TEST_F(PipelineTest, AnAsynchronousCounterStoreDefersWithoutBlocking) {
  LaterStore later;
  GatewayContext c = context();
  c.counters = &later;
  c.localCounters = nullptr;
  for (bool allowed : {true, false}) {
    auto r = request("GET", "/pizzashack/1.0.0/tiny", {{"apikey", goodKey()}});
    auto d = decide(r, state(), c);
    ASSERT_TRUE(std::holds_alternative<message::Defer>(d.action));
    EXPECT_FALSE(std::get<message::Defer>(d.action).blocking);
    std::optional<message::Decision> resumed;
    std::get<message::Defer>(d.action).start([&](message::Decision n) { resumed = std::move(n); });
    EXPECT_FALSE(resumed);
    ASSERT_FALSE(later.hits_.empty());  // the resource's and the key's tiers
    later.answer(allowed);
    ASSERT_TRUE(resumed);
    EXPECT_EQ(std::holds_alternative<message::Forward>(resumed->action), allowed);
  }
}

// Decided once: a stage that defers is resumed from, never the ones before it.
int gBefore = 0;
int gAfter = 0;
StageResult countBefore(Exchange&) {
  ++gBefore;
  return StageResult::next();
}
StageResult deferring(Exchange&) {
  StageResult r;
  r.kind = StageResult::Kind::kDefer;
  r.blocking = true;
  r.start = [](Exchange&, std::function<void(StageResult)> done) { done(StageResult::next()); };
  return r;
}
StageResult countAfter(Exchange&) {
  ++gAfter;
  return StageResult::refuse(Refusal{Failure::kForbidden, "after", "after"});
}

TEST_F(PipelineTest, ResumesAfterTheStageThatDeferred) {
  static constexpr Stage stages[] = {
      {"before", countBefore}, {"defer", deferring}, {"after", countAfter}};
  auto r = request("GET", "/pizzashack/1.0.0/menu");
  auto d = decide(r, state(), context(), stages);
  EXPECT_EQ(gBefore, 1);
  EXPECT_EQ(gAfter, 0);
  std::optional<message::Decision> resumed;
  std::get<message::Defer>(d.action).start([&](message::Decision n) { resumed = std::move(n); });
  ASSERT_TRUE(resumed);
  EXPECT_EQ(gBefore, 1);
  EXPECT_EQ(gAfter, 1);
  EXPECT_EQ(std::get<message::Reply>(resumed->action).response.status, 403);
}

TEST_F(PipelineTest, TheStageOrderIsData) {
  std::vector<std::string_view> names;
  for (const Stage& s : kStages) names.push_back(s.name);
  EXPECT_EQ(names,
            (std::vector<std::string_view>{"method", "cors", "route", "mutual-tls", "credentials",
                                           "key-lookup-limit", "authenticate", "select-plan",
                                           "plan", "backend-jwt", "throttle", "validate"}));
}

TEST_F(PipelineTest, EveryAnswerCarriesTheRequestIdAndWritesOneAccessLine) {
  auto r = request("GET", "/pizzashack/1.0.0/menu", {{"X-Request-Id", "req-42"}});
  auto d = run(r);
  const auto& reply = std::get<message::Reply>(d.action).response;
  EXPECT_EQ(reply.headers.find("X-Request-Id")->second, "req-42");
  ASSERT_TRUE(d.done);
}

}  // namespace
}  // namespace mgw::gateway::testing
