#include "gateway/validation_stage.h"

#include <memory>

#include "common/log.h"
#include "observability/metrics.h"
#include "validation/operation.h"

namespace mgw::gateway {
namespace {

message::CheckResult result(validation::Finding f) {
  return message::CheckResult{f.failure, std::move(f.description)};
}

// The checks of one exchange; holds the operation's schemas, so a reload meanwhile changes
// nothing for it.
class SchemaBodyCheck final : public message::BodyCheck {
 public:
  SchemaBodyCheck(std::shared_ptr<const validation::OperationSchemas> op, observability::ApiId api)
      : op_(std::move(op)), api_(api) {}

  message::CheckResult checkRequest(std::string_view contentType,
                                    std::string_view body) const override {
    return result(validation::checkRequestBody(*op_, contentType, body));
  }
  message::CheckResult checkResponseHead(int status, std::string_view contentType,
                                         bool* wantsBody) const override {
    const validation::CompiledSchema* schema = nullptr;
    auto f = validation::checkResponseHead(*op_, status, contentType, &schema);
    *wantsBody = f.ok() && schema;
    return result(std::move(f));
  }
  message::CheckResult checkResponseBody(int status, std::string_view contentType,
                                         std::string_view body) const override {
    const validation::CompiledSchema* schema = nullptr;
    auto head = validation::checkResponseHead(*op_, status, contentType, &schema);
    if (!head.ok() || !schema) return result(std::move(head));
    return result(validation::checkResponseBody(*schema, body));
  }
  void counted(bool response) const override {
    observability::metrics().countValidationRefusal(api_, response);
  }

 private:
  std::shared_ptr<const validation::OperationSchemas> op_;
  observability::ApiId api_;
};

// The request path after the API's context.
std::string_view pathAfterContext(const std::string& path, const std::string& context) {
  std::string_view p = path;
  if (p.substr(0, context.size()) == context) p.remove_prefix(context.size());
  return p;
}

}  // namespace

StageResult validationStage(Exchange& ex) {
  const ApiDefinition& api = *ex.api;
  const Resource& resource = *ex.resource;
  if (!resource.schemas || (!api.requestValidation && !api.responseValidation))
    return StageResult::next();
  const validation::OperationSchemas& op = *resource.schemas;
  if (api.requestValidation) {
    auto f = validation::checkParameters(op, ex.request, resource.pathTemplate,
                                         pathAfterContext(ex.request.path, api.context));
    if (!f.ok()) {
      observability::metrics().countValidationRefusal(api.metricsId, false);
      Refusal refusal;
      refusal.failure = f.failure;
      refusal.description = std::move(f.description);
      refusal.reason = "request parameters";
      return StageResult::refuse(std::move(refusal));
    }
  }
  const bool body = api.requestValidation && op.checksBody();
  if ((!body && !api.responseValidation) || !ex.plan) return StageResult::next();
  auto check = std::make_shared<SchemaBodyCheck>(resource.schemas, api.metricsId);
  const config::ValidationConfig& vc = ex.state.config->validation;
  check->requestBodyLimit = body ? vc.maxBodyBytes : 0;
  check->checksResponse = api.responseValidation && op.responsesDeclared;
  check->responseBodyLimit = vc.maxResponseBodyBytes;
  check->enforceResponse = vc.enforceResponse;
  if (check->requestBodyLimit == 0 && !check->checksResponse) return StageResult::next();
  ex.plan->bodyCheck = std::move(check);
  return StageResult::next();
}

}  // namespace mgw::gateway
