#include "gateway/refusal.h"

#include "gateway/cors.h"
#include "message/fault_reply.h"

namespace mgw::gateway {

message::HttpResponse refusalAnswer(const Refusal& refusal, const CorsPolicy* cors,
                                    const message::HttpRequest& request,
                                    std::string_view requestId) {
  // A gRPC call gets the same refusal as grpc-status and grpc-message (message::writeFault).
  message::HttpResponse reply =
      message::faultReplyFor(request, refusal.failure, refusal.description);
  if (refusal.decorated) {
    if (cors)
      for (auto& [name, value] : cors->responseHeaders(request)) reply.headers.emplace(name, value);
    reply.setHeader("X-Request-Id", std::string(requestId));
  }
  for (const HeaderEdit& edit : refusal.headers) {
    if (edit.append)
      reply.headers.emplace(edit.name, edit.value);
    else
      reply.setHeader(edit.name, edit.value);
  }
  return reply;
}

}  // namespace mgw::gateway
