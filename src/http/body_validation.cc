#include "http/body_validation.h"

#include <string>

#include "common/log.h"
#include "message/fault_reply.h"

namespace mgw::http {
namespace {

std::string_view fieldValue(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& f : fields)
    if (equalsIgnoreCase(f.name, name)) return f.value;
  return {};
}

std::string_view fieldValue(const message::HeaderMap& fields, std::string_view name) {
  const auto it = fields.find(name);
  return it == fields.end() ? std::string_view() : std::string_view(it->second);
}

// A refusal of the request before any backend was asked: the fault reply with the plan's fields.
boost::asio::awaitable<bool> refuse(DownstreamWriter& writer, const message::ForwardPlan& plan,
                                    message::Outcome* outcome, Failure failure,
                                    const std::string& description, bool keepAlive) {
  auto reply =
      message::faultReply(failure, description, message::Challenge::kApiKey, plan.faultFormat);
  for (const auto& [name, value] : plan.addResponseHeaders) reply.headers.emplace(name, value);
  for (const auto& [name, value] : plan.responseHeaders) reply.setHeader(name, value);
  outcome->status = reply.status;
  outcome->failure = failure;
  outcome->reason = "request body: " + description.substr(0, 200);
  const auto ec = co_await writeReply(writer, reply, keepAlive);
  co_return keepAlive && !ec;
}

std::string tooLarge(std::size_t limit) {
  return "the request body exceeds [validationConfig] maxBodyBytes (" + std::to_string(limit) +
         " bytes), the most a validated API reads";
}

}  // namespace

boost::asio::awaitable<std::optional<bool>> checkRequestBody(
    DownstreamWriter& writer, const RequestHead& head, BufferedRequestBody& held,
    const message::ForwardPlan& plan, bool keepAlive, message::Outcome* outcome, bool* continued) {
  const message::BodyCheck& check = *plan.bodyCheck;
  const std::size_t limit = check.requestBodyLimit;
  if (head.framing == Framing::kLength && head.contentLength > limit) {
    // Refused on its announced length, unread: the connection cannot be reused.
    co_return co_await refuse(writer, plan, outcome, Failure::kPayloadTooLarge, tooLarge(limit),
                              false);
  }
  if (head.framing != Framing::kNone) {
    if (head.expectContinue) {
      const int status = 100;
      const std::string_view reason = "Continue";
      const std::span<const FieldView> none;
      if (co_await writer.writeInterim(status, reason, none)) co_return false;
      *continued = true;
    }
    const std::uint64_t enough = limit + 1;
    const Failure failure = co_await held.fill(enough);
    if (failure != Failure::kNone) {
      const std::string description =
          failure == Failure::kPayloadTooLarge
              ? "the request body exceeds [listenerConfig] maxRequestBytes"
          : failure == Failure::kRequestTimeout
              ? "the request body stalled: no bytes within [listenerConfig] bodyTimeoutSeconds"
              : "the request body is not valid chunked encoding";
      co_return co_await refuse(writer, plan, outcome, failure, description, false);
    }
    if (!held.whole() || held.held() > limit)
      co_return co_await refuse(writer, plan, outcome, Failure::kPayloadTooLarge, tooLarge(limit),
                                false);
  }
  const message::CheckResult r =
      check.checkRequest(fieldValue(head.fields, "Content-Type"), held.bytes());
  if (r.ok()) co_return std::nullopt;
  check.counted(false);
  co_return co_await refuse(writer, plan, outcome, r.failure, r.description, keepAlive);
}

boost::asio::awaitable<Failure> checkResponse(const message::ForwardPlan& plan,
                                              const RequestHead& head, const ResponseHead& response,
                                              Connection& up, InputBuffer& upIn,
                                              std::string* description) {
  const message::BodyCheck& check = *plan.bodyCheck;
  const std::string_view contentType = fieldValue(response.fields, "Content-Type");
  bool wantsBody = false;
  message::CheckResult r = check.checkResponseHead(response.status, contentType, &wantsBody);
  const bool noBody = head.method == "HEAD" || response.status == 204 || response.status == 304;
  if (r.ok() && wantsBody && !noBody) {
    if (response.framing == Framing::kLength && response.contentLength <= check.responseBodyLimit) {
      const std::size_t length = static_cast<std::size_t>(response.contentLength);
      while (upIn.size() < length) {
        up.expiresAfter(std::chrono::seconds(plan.timeoutSeconds));
        const std::size_t step = 65536;
        if (auto ec = co_await upIn.readMore(up, step)) {
          *description = "the backend's answer broke off: " + ec.message();
          co_return Failure::kBackendReset;
        }
      }
      r = check.checkResponseBody(response.status, contentType, upIn.view().substr(0, length));
    } else {
      // Never a silent pass presented as a check: said in the log.
      log::warn("response not validated",
                {{"api", plan.api},
                 {"reason", response.framing == Framing::kLength
                                ? "body larger than [validationConfig] maxResponseBodyBytes"
                                : "body without Content-Length (chunked or until close)"},
                 {"trace_id", plan.traceId}});
    }
  }
  if (r.ok()) co_return Failure::kNone;
  check.counted(true);
  log::warn("invalid response", {{"api", plan.api},
                                 {"reason", r.description},
                                 {"enforced", check.enforceResponse ? "true" : "false"},
                                 {"trace_id", plan.traceId}});
  if (!check.enforceResponse) co_return Failure::kNone;
  *description = std::move(r.description);
  co_return r.failure;
}

}  // namespace mgw::http
