#include "gateway/pipeline.h"

#include <memory>

namespace mgw::gateway {
namespace {

using Kind = StageResult::Kind;

message::Decision runFrom(const std::shared_ptr<Exchange>& ex, std::span<const Stage> stages,
                          std::size_t i);

// What stage i's result makes of the request.
message::Decision settle(const std::shared_ptr<Exchange>& ex, StageResult r,
                         std::span<const Stage> stages, std::size_t i) {
  switch (r.kind) {
    case Kind::kContinue:
      return runFrom(ex, stages, i + 1);
    case Kind::kRefuse: {
      ex->entry.failure = r.refusal.failure;
      ex->entry.reason = std::move(r.refusal.reason);
      auto reply = refusalAnswer(r.refusal, ex->cors, ex->request, ex->trace.requestId);
      return message::Decision{message::Reply{std::move(reply)}, accessLog(std::move(ex->entry))};
    }
    case Kind::kAnswer:
      return message::Decision{message::Reply{std::move(r.answer)},
                               accessLog(std::move(ex->entry))};
    case Kind::kDefer: {
      message::Defer deferred;
      deferred.blocking = r.blocking;
      deferred.start = [ex, stages, i, start = std::move(r.start)](message::Resume resume) {
        start(*ex, [ex, stages, i, resume = std::move(resume)](StageResult done) {
          resume(settle(ex, std::move(done), stages, i));
        });
      };
      // The access log line when the transport answers without resuming (503: the task waited
      // in the worker queue past workerQueueSeconds; 500: it threw).
      return message::Decision{std::move(deferred), accessLog(ex->entry)};
    }
  }
  return runFrom(ex, stages, i + 1);
}

message::Decision runFrom(const std::shared_ptr<Exchange>& ex, std::span<const Stage> stages,
                          std::size_t i) {
  for (; i < stages.size(); ++i) {
    StageResult r = stages[i].run(*ex);
    if (r.kind != Kind::kContinue) return settle(ex, std::move(r), stages, i);
  }
  return message::Decision{message::Forward{std::move(ex->plan)}, accessLog(std::move(ex->entry))};
}

}  // namespace

message::Decision decide(message::HttpRequest& request, GatewayState state,
                         const GatewayContext& context, std::span<const Stage> stages) {
  auto ex = std::make_shared<Exchange>(request, std::move(state), context);
  return runFrom(ex, stages, 0);
}

}  // namespace mgw::gateway
