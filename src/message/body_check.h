// Checks the relay runs on the bodies it would otherwise only stream (issue 27: schema
// validation): the request body read whole (up to a limit) and checked before anything reaches a
// backend, then sent as received; the answer's head and (up to a limit) body checked before the
// client sees them. The gateway implements it; the transport only calls it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace mgw::message {

struct CheckResult {
  Failure failure = Failure::kNone;
  std::string description;  // for the client (bounded; never a key or a password)
  bool ok() const { return failure == Failure::kNone; }
};

class BodyCheck {
 public:
  virtual ~BodyCheck() = default;

  // Request: a body of more than requestBodyLimit bytes is 413 before any backend is asked; 0 = the
  // request body is not checked (it streams).
  std::size_t requestBodyLimit = 0;
  virtual CheckResult checkRequest(std::string_view contentType, std::string_view body) const = 0;

  // Response: checked when checksResponse; a body past responseBodyLimit streams unchecked (with
  // a log line). enforceResponse false: a bad answer is logged and counted, then relayed.
  bool checksResponse = false;
  std::size_t responseBodyLimit = 0;
  bool enforceResponse = true;
  // The head: *wantsBody = its body must be checked too.
  virtual CheckResult checkResponseHead(int status, std::string_view contentType,
                                        bool* wantsBody) const = 0;
  virtual CheckResult checkResponseBody(int status, std::string_view contentType,
                                        std::string_view body) const = 0;
  // Counts a refusal (metrics): response = an answer, else a request.
  virtual void counted(bool response) const = 0;
};

}  // namespace mgw::message
