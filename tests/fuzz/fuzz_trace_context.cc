// Fuzzes the W3C traceparent parser and the X-Request-Id check (observability/trace_context.h).
// Input: "<traceparent>\n<x-request-id>" (without a newline, the whole input is both).
// Properties: an accepted traceparent re-formats to a value the parser accepts with the same ids;
// traceRequest always yields exactly one valid traceparent and a sane request id.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "observability/trace_context.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace o = mgw::observability;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view traceparent = input.substr(0, newline);
  const std::string_view requestId =
      newline == std::string_view::npos ? input : input.substr(newline + 1);

  if (auto tp = o::parseTraceparent(traceparent)) {
    const std::string again = o::formatTraceparent(tp->traceId, tp->parentId, tp->flags);
    auto back = o::parseTraceparent(again);
    if (!back || back->traceId != tp->traceId || back->parentId != tp->parentId ||
        back->flags != tp->flags)
      std::abort();
  }
  const auto trace = o::traceRequest({traceparent}, {requestId});
  const auto sent = o::parseTraceparent(trace.traceparent);
  if (!sent || sent->traceId != trace.traceId) std::abort();
  if (!o::isSaneRequestId(trace.requestId)) std::abort();
  if (trace.keepTracestate != o::parseTraceparent(traceparent).has_value()) std::abort();
  return 0;
}
