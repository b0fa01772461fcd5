// The relay (the proxy's core, h2o's lib/core/proxy.c): a request the Handler forwards goes to a
// backend (pooled or new connection, failover on connect failures, one retry of a request without
// a body on a pooled connection that turned out dead), and the backend's answer comes back through
// a DownstreamWriter, so the relay never frames the client's protocol. Trusts the ForwardPlan;
// nothing the backend sends.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "http/connection.h"
#include "http/downstream_writer.h"
#include "http/request_body.h"
#include "http/server_context.h"
#include "http/wire.h"
#include "message/forward_plan.h"
#include "message/handler.h"
#include "observability/metrics.h"

namespace mgw::http {

// The request `head` (its framing agrees with `body`'s) goes to the backend, then its body as
// `body` yields it; the answer goes to `writer`. Returns whether the client connection may serve
// another request.
asio::awaitable<bool> relay(ServerContext& ctx, IoThread& t, DownstreamWriter& writer,
                            const RequestHead& head, RequestBody& body,
                            const message::ForwardPlan& plan, bool keepAlive,
                            message::Outcome* outcome);

// A session moves the parsed head's fields into its HttpRequest (the names and values are not
// copied); the relay forwards them from the head, so they are lent back to it for the relay's
// time and returned when it ends (an exception included), before the exchange's `done` reads the
// request.
class FieldsLentToHead {
 public:
  FieldsLentToHead(message::HeaderMap& request, RequestHead& head)
      : request_(request), head_(head) {
    head_.fields.swap(request_);
  }
  ~FieldsLentToHead() { head_.fields.swap(request_); }
  FieldsLentToHead(const FieldsLentToHead&) = delete;
  FieldsLentToHead& operator=(const FieldsLentToHead&) = delete;

 private:
  message::HeaderMap& request_;
  RequestHead& head_;
};

// While an exchange holds a backend connection (or stream) it counts as busy for its API.
struct UpstreamBusy {
  observability::ApiId api;
  bool on = false;
  void set() {
    if (!on) observability::metrics().upstreamBusy(api, 1);
    on = true;
  }
  ~UpstreamBusy() {
    if (on) observability::metrics().upstreamBusy(api, -1);
  }
};

// A backend fault before any byte of the answer reached the client: the fault reply (grpc-status
// for a gRPC call: plan.faultFormat; Retry-After when given), the outcome and the log line;
// returns false (close).
asio::awaitable<bool> failExchange(DownstreamWriter& writer, const message::ForwardPlan& plan,
                                   message::Outcome* outcome, Failure failure,
                                   const std::string& description, const std::string& reason,
                                   int retryAfterSeconds = 0);

// The backend's fields as the client gets them: hop-by-hop ones and those its Connection field
// lists out (but a HEAD or 304 answer keeps its Content-Length: it describes the representation,
// RFC 9110 sections 8.6 and 15.4.5), the plan's CORS fields dropped; on a final answer, `added`
// (X-Request-Id) replaces the backend's fields of those names, and the plan's CORS fields are
// appended (SPEC section 15). Views into `response` and `plan`.
void responseFields(const ResponseHead& response, bool headRequest,
                    const std::vector<std::pair<std::string, std::string>>& added,
                    const message::ForwardPlan& plan, std::vector<FieldView>* out);

}  // namespace mgw::http
