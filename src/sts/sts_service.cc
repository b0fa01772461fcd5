#include "sts/sts_service.h"

#include <nlohmann/json.hpp>

#include "common/crypto_util.h"
#include "common/log.h"
#include "observability/metrics.h"
#include "sts/tier.h"

namespace mgw::sts {
namespace {

using nlohmann::json;

IssueReply render(const IssuedKey& issued, const IssueRequest& request, bool wantsJson) {
  if (!wantsJson) return IssueReply{issued.apiKey, "text/plain"};
  json body = {{"apiKey", issued.apiKey},
               {"tokenType", "apikey"},
               {"expiresIn", issued.expiresIn ? json(*issued.expiresIn) : json(nullptr)},
               {"jti", issued.jti}};
  if (!request.tier.empty()) body["tier"] = request.tier;
  std::string text = body.dump();
  return IssueReply{std::move(text), "application/json"};
}

}  // namespace

std::optional<Refusal> StsService::unavailable() const {
  if (config_.tokenIssuer.enabled && issuer_) return std::nullopt;
  return refuse(Failure::kIssuerDisabled,
                "the API key issuer is disabled ([apikey.issuer.tokenConfig] enabled = false)");
}

OrRefusal<IssueReply> StsService::issue(const auth::AuthOutcome& caller,
                                        const IssueCall& call) const {
  if (auto refusal = unavailable()) return *refusal;
  auto parsed = parseIssueRequest(call.body);
  if (parsed.failure != Failure::kNone) return refuse(parsed.failure, parsed.description);
  std::string tierError;
  parsed.request.tier =
      subscriptionTierFor(config_, policies_, caller.user, parsed.request.tier, &tierError);
  if (!tierError.empty()) return refuse(Failure::kRequestBroaderThanAllowed, tierError);
  auto issued = issuer_->issue(caller.user, caller.apis, parsed.request, call.now);
  if (issued.failure != Failure::kNone) {
    if (issued.failure == Failure::kSigningFailed)
      log::error("signing an API key failed", {{"user", caller.user}});
    return refuse(issued.failure, issued.description);
  }
  observability::metrics().countKeyIssued(config_.tokenIssuer.signatureAlgorithm,
                                          parsed.request.keyType);
  log::info("API key issued",
            {{"user", caller.user},
             {"jti", issued.jti},
             {"keytype", parsed.request.keyType},
             {"expiresIn", issued.expiresIn ? json(*issued.expiresIn) : json(nullptr)}});
  IssueReply reply = render(issued, parsed.request, call.wantsJson);
  secureWipe(issued.apiKey);
  return reply;
}

}  // namespace mgw::sts
