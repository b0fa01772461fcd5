// The seam between the transport and the handlers (Envoy's jwt_authn filter is the model): the
// transport parses the wire into a plain gateway::HttpRequest and asks the Handler what to do;
// the Handler never sees a socket, Asio or Beast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "gateway/forward_plan.h"
#include "gateway/http_message.h"

namespace mgw::http {

// How an exchange ended, for the access log.
struct Outcome {
  int status = 0;                    // what the client got (0: the connection dropped first)
  Failure failure = Failure::kNone;  // a transport refusal or a backend fault
  std::string reason;                // the exact internal reason (never a key or a password)
  std::int64_t upstreamNanos = -1;   // forwarded: asking for a backend connection to its answer's
                                     // head (-1: no backend answered)
  std::uint64_t bytesIn = 0;         // from the client: request head and body, as on the wire
  std::uint64_t bytesOut = 0;        // to the client: response head and body, as on the wire
};

struct Decision {
  enum class Kind {
    kReply,    // answer at once with `reply` (the request body, if any, is discarded)
    kLocal,    // read the whole body (at most maxBodyBytes), then answer with local(request)
    kForward,  // relay to a backend as `forward` says, streaming both bodies
    // The decision depends on work that completes later, maybe on another thread (a shared
    // throttling counter store): the transport calls defer(resume) once and waits, without
    // blocking its I/O thread, until resume(decision) is called (exactly once, from any thread);
    // then it carries out that decision (which may defer again). Handlers that can decide at once
    // never return this, so the fast path costs nothing. resume must be called before the Server
    // is destroyed (a store with its own threads times out and answers before stop() returns);
    // while a decision is pending, its I/O thread's event loop keeps running.
    kDefer,
  };
  Kind kind = Kind::kReply;
  gateway::HttpResponse reply;
  std::function<gateway::HttpResponse(gateway::HttpRequest&)> local;
  // kLocal: run on the worker pool (argon2id, store writes). kDefer: call defer(resume) on the
  // worker pool (the same pool, so the argon2id bound holds for every caller); when it waited
  // longer than workerQueueSeconds, the transport resumes with a 503 itself and defer never runs.
  bool blocking = false;
  std::size_t maxBodyBytes = 64 * 1024;
  std::shared_ptr<const gateway::ForwardPlan> forward;
  using Resume = std::function<void(Decision)>;
  std::function<void(Resume)> defer;  // kDefer
  // Called once when the exchange ends (access log); may be empty.
  std::function<void(const gateway::HttpRequest&, const Outcome&)> done;
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Called on an I/O thread with the request head (body still unread): must not block.
  virtual Decision decide(gateway::HttpRequest& request) = 0;
};

}  // namespace mgw::http
