#include "lifecycle/request.h"

#include <gtest/gtest.h>

namespace mgw::lifecycle {
namespace {

template <typename T>
std::string refusalOf(const OrRefusal<T>& r) {
  if (!std::holds_alternative<Refusal>(r)) return "(accepted)";
  EXPECT_EQ(std::get<Refusal>(r).failure, Failure::kBadRequestBody);
  return std::get<Refusal>(r).description;
}

// The fault a create-key body gets: a refusal of the whole body, or the fault of a field after
// name and api (reported after the API check).
std::string createKeyFault(const std::string& body) {
  auto r = parseCreateKeyRequest(body);
  if (std::holds_alternative<Refusal>(r)) return refusalOf(r);
  const auto& fault = std::get<CreateKeyRequest>(r).fieldError;
  if (!fault) return "(accepted)";
  EXPECT_EQ(fault->failure, Failure::kBadRequestBody);
  return fault->description;
}

std::string apiFault(const OrRefusal<SubscriptionRequest>& r) {
  if (std::holds_alternative<Refusal>(r)) return refusalOf(r);
  const auto& fault = std::get<SubscriptionRequest>(r).apiError;
  return fault ? fault->description : "(accepted)";
}

TEST(RequestTest, BodiesAreJsonObjectsWithOnlyTheirFields) {
  EXPECT_EQ(refusalOf(parseCreateApplicationRequest("")), "a JSON object body is required");
  EXPECT_EQ(refusalOf(parseCreateApplicationRequest("{")), "the body is not valid JSON");
  EXPECT_EQ(refusalOf(parseCreateApplicationRequest("[1]")), "the body must be a JSON object");
  EXPECT_EQ(refusalOf(parseCreateApplicationRequest("{\"name\": \"a\", \"nmae\": 1}")),
            "unknown field \"nmae\"; allowed: name, tier, keyMode");
  // Regenerate alone accepts an empty body.
  auto regen = parseRegenerateRequest("");
  ASSERT_TRUE(std::holds_alternative<RegenerateRequest>(regen));
  EXPECT_FALSE(std::get<RegenerateRequest>(regen).value);
}

TEST(RequestTest, RevokeTakesExactlyOneForm) {
  const std::string oneOf =
      "send exactly one of {\"apiKey\": \"...\"}, {\"jti\": \"...\"} or "
      "{\"sub\": \"...\", \"issuedBefore\": <epoch seconds>}";
  EXPECT_EQ(refusalOf(parseRevokeRequest("{}")), oneOf);
  EXPECT_EQ(refusalOf(parseRevokeRequest("{\"jti\": \"a\", \"sub\": \"b\"}")), oneOf);
  EXPECT_EQ(refusalOf(parseRevokeRequest("{\"apiKey\": \"\"}")),
            "apiKey must be a non-empty string, alone in the body");
  EXPECT_EQ(refusalOf(parseRevokeRequest("{\"jti\": \"a\", \"issuedBefore\": 1}")),
            "issuedBefore goes with sub, not with jti");
  EXPECT_EQ(refusalOf(parseRevokeRequest("{\"jti\": \"a\", \"expiresAt\": 1.5}")),
            "expiresAt must be an integer");
  EXPECT_EQ(refusalOf(parseRevokeRequest("{\"sub\": \"alice\"}")),
            "issuedBefore (epoch seconds) is required with sub");
  EXPECT_EQ(refusalOf(parseRevokeRequest("{\"sub\": \"alice\", \"issuedBefore\": 1, "
                                         "\"expiresAt\": 2}")),
            "expiresAt goes with jti, not with sub");

  auto byJti = parseRevokeRequest("{\"jti\": \"j-1\", \"expiresAt\": \"1700000000\"}");
  ASSERT_TRUE(std::holds_alternative<RevokeRequest>(byJti));
  EXPECT_EQ(std::get<RevokeRequest>(byJti).form, RevokeRequest::Form::kJti);
  EXPECT_EQ(std::get<RevokeRequest>(byJti).jti, "j-1");
  EXPECT_EQ(std::get<RevokeRequest>(byJti).expiresAt, 1700000000);

  auto bySub = parseRevokeRequest("{\"sub\": \"alice\", \"issuedBefore\": 10}");
  ASSERT_TRUE(std::holds_alternative<RevokeRequest>(bySub));
  EXPECT_EQ(std::get<RevokeRequest>(bySub).form, RevokeRequest::Form::kSubject);
  EXPECT_EQ(std::get<RevokeRequest>(bySub).issuedBefore, 10);
}

TEST(RequestTest, CreateKeyChecksEveryField) {
  const std::string api = "\"api\": {\"name\": \"Pizza\", \"version\": \"1.0\"}";
  EXPECT_EQ(refusalOf(parseCreateKeyRequest("{" + api + "}")),
            "name is required: a string of 1 to 128 characters");
  EXPECT_EQ(refusalOf(parseCreateKeyRequest("{\"name\": \"k\"}")),
            "api is required: {\"name\": \"...\", \"version\": \"...\"}");
  EXPECT_EQ(createKeyFault("{\"name\": \"k\", " + api + ", \"keyType\": \"X\"}"),
            "keyType must be PRODUCTION or SANDBOX");
  EXPECT_EQ(createKeyFault("{\"name\": \"k\", " + api + ", \"validityPeriod\": 0}"),
            "validityPeriod must be a number of seconds from 1 to 3153600000, or -1 (or absent) "
            "for a key that never expires");
  EXPECT_EQ(createKeyFault("{\"name\": \"k\", " + api + ", \"tier\": 5}"), "tier must be a string");
  EXPECT_EQ(createKeyFault("{\"name\": \"k\", " + api + ", \"permittedIP\": \"300.1.1.1\"}")
                .rfind("permittedIP: ", 0),
            0u);

  auto ok = parseCreateKeyRequest("{\"name\": \"k\", " + api +
                                  ", \"keyType\": \"SANDBOX\", \"validityPeriod\": -1, "
                                  "\"permittedIP\": \"10.0.0.0/8\", \"tier\": \"Bronze\"}");
  ASSERT_TRUE(std::holds_alternative<CreateKeyRequest>(ok)) << refusalOf(ok);
  const auto& r = std::get<CreateKeyRequest>(ok);
  EXPECT_FALSE(r.fieldError) << r.fieldError->description;
  EXPECT_EQ(r.name, "k");
  EXPECT_EQ(r.api.label(), "Pizza:1.0");
  EXPECT_EQ(r.keyType, store::KeyType::kSandbox);
  EXPECT_FALSE(r.validitySeconds);  // -1: never expires
  EXPECT_EQ(r.permittedIp, "10.0.0.0/8");
  EXPECT_EQ(r.tier, "Bronze");
}

TEST(RequestTest, SubscribeIsStricterThanUnsubscribe) {
  const std::string extra = "{\"api\": {\"name\": \"P\", \"version\": \"1\", \"x\": 1}}";
  EXPECT_EQ(apiFault(parseSubscribeRequest(extra)),
            "api is required: {\"name\": \"...\", \"version\": \"...\"}");
  auto un = parseUnsubscribeRequest(extra);
  ASSERT_TRUE(std::holds_alternative<SubscriptionRequest>(un));
  EXPECT_EQ(apiFault(un), "(accepted)");
  EXPECT_EQ(std::get<SubscriptionRequest>(un).api.label(), "P:1");
  EXPECT_EQ(refusalOf(parseUnsubscribeRequest("{\"api\": 1, \"x\": 2}")),
            "unknown field \"x\"; allowed: api, plan");
  EXPECT_EQ(apiFault(parseUnsubscribeRequest("{\"api\": {\"name\": \"P\"}}")),
            "api is required: {\"name\": \"...\", \"version\": \"...\"}");
  EXPECT_EQ(refusalOf(parseAssociateRequest("{\"application\": \"\"}")),
            "application (an application id) is required");
}

}  // namespace
}  // namespace mgw::lifecycle
