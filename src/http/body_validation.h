// Schema validation in the relay (issue 27), for a plan with a message::BodyCheck: the request
// body read whole (at most the check's limit: larger is 413 before any backend is asked) and
// checked, then sent as received from what was held; the answer's head and (Content-Length framed,
// up to a limit) body checked before the client sees a byte. The checks are the gateway's; this
// file only reads, holds and answers.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>

#include "http/buffered_body.h"
#include "http/connection.h"
#include "http/downstream_writer.h"
#include "http/wire.h"
#include "message/forward_plan.h"
#include "message/handler.h"

namespace mgw::http {

// Reads and checks the request body into `held`. nullopt: forward, with `held` as the body
// (*continued: 100 Continue was sent). Otherwise the client was answered (413, 400, 415, or the
// body's own failure) and the value says whether the connection may serve another request.
boost::asio::awaitable<std::optional<bool>> checkRequestBody(
    DownstreamWriter& writer, const RequestHead& head, BufferedRequestBody& held,
    const message::ForwardPlan& plan, bool keepAlive, message::Outcome* outcome, bool* continued);

// Checks the backend's answer (its head parsed into `response`, its first body bytes in `upIn`),
// reading a Content-Length body of at most the check's limit into upIn. kNone: relay it (a bad
// answer with enforceResponse = false is logged and counted, then relayed). Otherwise the failure
// (kResponseSchemaViolation, or the backend's connection failing) with *description: the caller
// answers 500 and closes the backend connection.
boost::asio::awaitable<Failure> checkResponse(const message::ForwardPlan& plan,
                                              const RequestHead& head, const ResponseHead& response,
                                              Connection& up, InputBuffer& upIn,
                                              std::string* description);

}  // namespace mgw::http
