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

namespace mgw::http {

// The request `head` (its framing agrees with `body`'s) goes to the backend, then its body as
// `body` yields it; the answer goes to `writer`. Returns whether the client connection may serve
// another request.
asio::awaitable<bool> relay(ServerContext& ctx, IoThread& t, DownstreamWriter& writer,
                            const RequestHead& head, RequestBody& body,
                            const message::ForwardPlan& plan, bool keepAlive,
                            message::Outcome* outcome);

// The backend's fields as the client gets them: hop-by-hop ones and those its Connection field
// lists out (but a HEAD or 304 answer keeps its Content-Length: it describes the representation,
// RFC 9110 sections 8.6 and 15.4.5), the plan's CORS fields dropped; on a final answer, `added`
// (X-Request-Id) replaces the backend's fields of those names, and the plan's CORS fields are
// appended (SPEC section 15). Views into `response` and `plan`.
void responseFields(const ResponseHead& response, bool headRequest,
                    const std::vector<std::pair<std::string, std::string>>& added,
                    const message::ForwardPlan& plan, std::vector<FieldView>* out);

}  // namespace mgw::http
