// The client side towards backends: connecting (plain or TLS with verification), and the request
// head a backend gets (the client's end-to-end fields as received, less what the gateway owns).
// Trusts the ForwardPlan; the client's head was parsed by wire.h.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/endpoint_url.h"
#include "common/status.h"
#include "http/connection.h"
#include "http/wire.h"
#include "message/forward_plan.h"

namespace mgw::http {

// A new connection to `target`, TLS-handshaken when the target is https; null with *reason and
// *failure set (unreachable, refused, TLS failed) when it cannot be made within timeoutSeconds.
asio::awaitable<std::unique_ptr<Connection>> connectUpstream(asio::io_context& io,
                                                             asio::ssl::context& clientTls,
                                                             const mgw::UpstreamTarget& target,
                                                             int timeoutSeconds,
                                                             std::string* reason, Failure* failure);

// Whether a client's field `name` goes to the backend as received: not hop-by-hop nor listed in
// the request's Connection field (`connectionOptions`), not Host, Expect or X-Forwarded-* (the
// gateway writes its own), not one the plan drops (the API key) or sets (traceparent).
bool forwardedToBackend(std::string_view name, const std::vector<std::string>& connectionOptions,
                        const message::ForwardPlan& plan);

// Whether a backend may leave the request's body unread: only POST, PUT and PATCH give content a
// meaning every server reads (RFC 9110 section 9.3); cpp-httplib, Python's http.server and many
// small servers ignore a GET, HEAD, OPTIONS or DELETE body and read it as the next request. A
// chunked body counts even when empty (its last chunk is bytes on the wire). Such a request is
// sent with "Connection: close" and its connection is never pooled.
bool bodyMayBeIgnored(const RequestHead& head);

// The request head for `target`: the plan's target, the client's fields less hop-by-hop ones,
// Host, Expect, X-Forwarded-* and the plan's own; then the gateway's fields and the framing.
// `lastOnConnection` adds "Connection: close".
std::string upstreamHead(const RequestHead& head, const mgw::UpstreamTarget& target,
                         const message::ForwardPlan& plan, bool lastOnConnection);

}  // namespace mgw::http
