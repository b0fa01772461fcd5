// Carrying out the Handler's decisions that are not about the wire: a deferred decision awaited
// without blocking the I/O thread, blocking work on the worker pool with its queue limit, and a
// Local handler run with its exceptions turned into a 500.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>

#include "http/server_context.h"
#include "message/handler.h"

namespace mgw::http {

// Defer: start(resume) once; resume(decision) may be called inline or later from any thread,
// exactly once; the coroutine continues on t's executor. `start` must stay alive until resumed.
asio::awaitable<message::Decision> awaitDecision(IoThread& t,
                                                 std::function<void(message::Resume)>& start);

// Carries out Defer decisions until one is not (blocking ones on the worker pool), keeping the
// first decision's done() when a later one has none.
asio::awaitable<void> settle(ServerContext& ctx, IoThread& t, message::Decision* decision);

// A blocking Defer: start runs on the worker pool (argon2id for basic auth on a resource), with
// the queue limit of Local. resume is guarded so that it runs exactly once, even when start
// throws after calling it.
std::function<void(message::Resume)> onWorkers(ServerContext& ctx,
                                               std::function<void(message::Resume)> start);

// A blocking task that waited in the worker queue longer than workerQueueSeconds: the client is
// told to come back rather than kept waiting behind a backlog (a login flood, a slow store).
message::HttpResponse busyReply();

// local.run(request), an exception answered 500.
message::HttpResponse runLocal(const message::Local& local, message::HttpRequest& request);

// runLocal on the worker pool (a blocking Local); resumes on the caller's executor.
asio::awaitable<message::HttpResponse> runLocalOnWorkers(ServerContext& ctx,
                                                         const message::Local& local,
                                                         message::HttpRequest& request);

}  // namespace mgw::http
