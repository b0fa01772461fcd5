#include "http/dispatch.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "common/log.h"
#include "message/fault_reply.h"

namespace mgw::http {

using message::Decision;
using std::chrono::seconds;
using std::chrono::steady_clock;

asio::awaitable<Decision> awaitDecision(IoThread& t, std::function<void(message::Resume)>& start) {
  // The initiation captures references only (start lives in the caller's frame until resumed):
  // GCC 12 may destroy a co_await call's temporaries twice, harmless for references only.
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(Decision)>(
      [&t, &start](auto handler) {
        using Handler = decltype(handler);
        auto shared = std::make_shared<Handler>(std::move(handler));
        auto work =
            std::make_shared<decltype(asio::make_work_guard(t.io))>(asio::make_work_guard(t.io));
        start([&t, shared, work](Decision d) mutable {
          asio::post(t.io, [shared, work, d = std::move(d)]() mutable {
            (*shared)(std::move(d));
            work->reset();
          });
        });
      },
      asio::use_awaitable);
}

asio::awaitable<void> settle(ServerContext& ctx, IoThread& t, Decision* decision) {
  // A decision that completes later (Defer): the coroutine waits on this I/O thread's executor
  // and is resumed there; the thread serves other connections meanwhile.
  while (auto* deferred = std::get_if<message::Defer>(&decision->action)) {
    auto start = std::move(deferred->start);
    auto done = std::move(decision->done);
    if (deferred->blocking) start = onWorkers(ctx, std::move(start));
    // start is a named local passed by reference: a by-value std::function argument of a
    // co_await call is destroyed twice by GCC 12 (the coroutine temporaries bug; seen as a
    // double free once a store answered later, the Redis counters).
    *decision = co_await awaitDecision(t, start);
    if (!decision->done) decision->done = std::move(done);
  }
}

std::function<void(message::Resume)> onWorkers(ServerContext& ctx,
                                               std::function<void(message::Resume)> start) {
  return [&ctx, start = std::move(start)](message::Resume resume) mutable {
    const auto queued = steady_clock::now();
    const int queueLimit = ctx.options.workerQueueSeconds;
    asio::post(ctx.workers->get_executor(), [start = std::move(start), resume = std::move(resume),
                                             queued, queueLimit]() mutable {
      auto once = std::make_shared<std::atomic<bool>>(false);
      message::Resume guarded = [once, resume](Decision d) {
        if (!once->exchange(true)) resume(std::move(d));
      };
      auto answer = [&guarded](message::HttpResponse reply) {
        guarded(Decision::reply(std::move(reply)));
      };
      if (steady_clock::now() - queued > seconds(queueLimit)) {
        answer(busyReply());
        return;
      }
      try {
        start(guarded);
      } catch (const std::exception& e) {
        log::error("unhandled exception in a deferred decision", {{"error", e.what()}});
        answer(message::faultReply(Failure::kInternalError, "the request could not be processed"));
      } catch (...) {
        log::error("unhandled exception in a deferred decision");
        answer(message::faultReply(Failure::kInternalError, "the request could not be processed"));
      }
    });
  };
}

message::HttpResponse busyReply() {
  auto busy =
      message::faultReply(Failure::kOverloaded, "the server is busy; retry in a few seconds");
  busy.setHeader("Retry-After", "5");
  return busy;
}

message::HttpResponse runLocal(const message::Local& local, message::HttpRequest& request) {
  try {
    return local.run(request);
  } catch (const std::exception& e) {
    log::error("unhandled exception in a request handler",
               {{"path", request.path}, {"error", e.what()}});
  } catch (...) {
    log::error("unhandled exception in a request handler", {{"path", request.path}});
  }
  return message::faultReply(Failure::kInternalError, "the request could not be processed");
}

asio::awaitable<message::HttpResponse> runLocalOnWorkers(ServerContext& ctx,
                                                         const message::Local& local,
                                                         message::HttpRequest& request) {
  const auto queued = steady_clock::now();
  const int queueLimit = ctx.options.workerQueueSeconds;
  const message::Local* run = &local;
  message::HttpRequest* req = &request;
  co_return co_await asio::co_spawn(
      ctx.workers->get_executor(),
      [run, req, queued, queueLimit]() -> asio::awaitable<message::HttpResponse> {
        if (steady_clock::now() - queued > seconds(queueLimit)) co_return busyReply();
        co_return runLocal(*run, *req);
      },
      asio::use_awaitable);
}

}  // namespace mgw::http
