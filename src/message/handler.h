// The seam between the transport and the handlers (Envoy's jwt_authn filter is the model): a
// protocol session parses the wire into a plain message::HttpRequest and asks the Handler what to
// do; the Handler never sees a socket, Asio or Beast, nor which protocol carried the request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "common/status.h"
#include "message/forward_plan.h"
#include "message/http_message.h"

namespace mgw::message {

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

struct Decision;
// Carries out a decision made later; called exactly once, from any thread.
using Resume = std::function<void(Decision)>;

// Answer at once (the request body, if any, is discarded).
struct Reply {
  HttpResponse response;
};

// Read the whole body (at most maxBodyBytes), then answer with run(request).
struct Local {
  std::function<HttpResponse(HttpRequest&)> run;
  // On the worker pool (argon2id, store writes); when it waited longer than workerQueueSeconds,
  // the transport answers 503 itself and run never runs.
  bool blocking = false;
  std::size_t maxBodyBytes = 64 * 1024;
};

// Relay to a backend as the plan says, streaming both bodies.
struct Forward {
  std::shared_ptr<const ForwardPlan> plan;
};

// The decision depends on work that completes later, maybe on another thread (a shared throttling
// counter store, argon2id): the transport calls start(resume) once and waits, without blocking its
// I/O thread, until resume(decision) is called; then it carries out that decision (which may defer
// again). Handlers that can decide at once never return this, so the fast path costs nothing.
// resume must be called before the Server is destroyed (a store with its own threads times out and
// answers before stop() returns).
struct Defer {
  std::function<void(Resume)> start;
  // start runs on the worker pool (the pool Local uses, so the argon2id bound holds for every
  // caller), with Local's queue limit.
  bool blocking = false;
};

struct Decision {
  std::variant<Reply, Local, Forward, Defer> action;
  // Called once when the exchange ends (access log); may be empty.
  std::function<void(const HttpRequest&, const Outcome&)> done;

  static Decision reply(HttpResponse response) { return Decision{Reply{std::move(response)}, {}}; }
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Called on an I/O thread with the request head (body still unread): must not block.
  virtual Decision decide(HttpRequest& request) = 0;
};

}  // namespace mgw::message
