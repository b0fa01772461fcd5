// Idle keep-alive connections to backends, per I/O thread (no lock: one thread uses it). A
// connection is reused only when nothing arrived on it since its last answer: every one is checked
// (MSG_PEEK) before reuse, however briefly it was idle.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/connection.h"
#include "observability/metrics.h"

namespace mgw::http {

class UpstreamPool {
 public:
  static constexpr std::size_t kMaxIdlePerOrigin = 64;
  static constexpr std::chrono::seconds kIdleTimeout{30};

  // A live idle connection to `origin`, or null. Dead ones met on the way are closed.
  std::unique_ptr<Connection> take(const std::string& origin);

  // `api`: the API whose exchange left it here (the idle gauge's label).
  void put(const std::string& origin, std::unique_ptr<Connection> conn, observability::ApiId api);

  // Closes connections idle for too long, or closed or written to by the backend (from a timer).
  void sweep();

  void clear();

  std::size_t idle(const std::string& origin) const;

 private:
  struct Idle {
    std::unique_ptr<Connection> conn;
    std::chrono::steady_clock::time_point since;
    observability::ApiId api = observability::kNoApiId;
  };

  // A backend that closed an idle connection (or sent bytes nobody asked for) makes it unusable.
  static bool alive(Connection& c);

  std::unordered_map<std::string, std::vector<Idle>> idle_;
};

}  // namespace mgw::http
