// The relay's HTTP/2 leg (issue 23 items 3 and 4): a request forwarded to an h2c:// or h2://
// endpoint goes out as a stream on a pooled, multiplexed connection (H2UpstreamPool), its body
// streamed from the RequestBody while the answer comes back (a gRPC bidirectional call does both at
// once); the answer's head, DATA and trailers go to the DownstreamWriter. Faults before the
// answer's head are the same as for HTTP/1.1 backends (502, 503, 504; grpc-status 14 or 4 for a
// gRPC call); a gRPC answer the backend breaks off later ends with grpc-status trailers. Trusts the
// ForwardPlan; nothing the backend sends.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <vector>

#include "http/downstream_writer.h"
#include "http/request_body.h"
#include "http/server_context.h"
#include "http/wire.h"
#include "message/forward_plan.h"
#include "message/handler.h"

namespace mgw::http {

// Relays to the plan's HTTP/2 endpoints (failover over them as for HTTP/1.1). Returns whether
// the client connection may serve another request.
asio::awaitable<bool> relayH2(ServerContext& ctx, IoThread& t, DownstreamWriter& writer,
                              const RequestHead& head, RequestBody& body,
                              const message::ForwardPlan& plan, bool keepAlive,
                              message::Outcome* outcome);

// The request's HTTP/2 field list for `target` (RFC 9113 section 8.3.1): :method, :scheme,
// :authority (the endpoint's host), :path; then the client's fields as forwarded to any backend
// (forwardedToBackend), names in lower case, "te" only as "trailers" (gRPC needs it, RFC 9113
// section 8.2.2 allows nothing else); the gateway's own fields; content-length for a body of
// known length.
std::vector<Field> h2RequestFields(const RequestHead& head, Framing bodyFraming,
                                   std::uint64_t contentLength, const mgw::UpstreamTarget& target,
                                   const message::ForwardPlan& plan);

}  // namespace mgw::http
