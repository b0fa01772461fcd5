// What a handler returns instead of writing an error reply: the Failure (faultFor gives the status,
// fault code and message) and the description for the client. message::faultReply is the one
// function that turns it into an answer, so handlers never build error bodies (STYLE pattern 4).
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "common/status.h"

namespace mgw {

struct Refusal {
  Failure failure = Failure::kInternalError;
  // Specific enough to fix the request; never a key or a password.
  std::string description;
  int retryAfterSeconds = 0;  // > 0: the answer carries Retry-After (kTooManyAttempts)
};

// A handler's result: the answer T, or a refusal.
template <typename T>
using OrRefusal = std::variant<T, Refusal>;

inline Refusal refuse(Failure failure, std::string description) {
  return Refusal{failure, std::move(description), 0};
}

}  // namespace mgw
