#include "http/upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

namespace mgw::http {

using std::chrono::steady_clock;

std::unique_ptr<Connection> UpstreamPool::take(const std::string& origin) {
  auto it = idle_.find(origin);
  if (it == idle_.end()) return nullptr;
  auto& stack = it->second;
  const auto now = steady_clock::now();
  while (!stack.empty()) {
    Idle idle = std::move(stack.back());
    stack.pop_back();
    observability::metrics().upstreamIdle(idle.api, -1);
    // Every connection is checked before reuse, however briefly it was idle: bytes the backend
    // sent since its last answer (a late second answer, a body on a 204, 304 or HEAD answer)
    // would be read as the next exchange's answer, so they cost the connection. A connection
    // closed after the check fails on first use: a request without a body is then sent again.
    if (now - idle.since < kIdleTimeout && alive(*idle.conn)) return std::move(idle.conn);
    idle.conn->close();
  }
  return nullptr;
}

void UpstreamPool::put(const std::string& origin, std::unique_ptr<Connection> conn,
                       observability::ApiId api) {
  auto& stack = idle_[origin];
  if (stack.size() >= kMaxIdlePerOrigin) {
    conn->close();
    return;
  }
  conn->noDeadline();
  stack.push_back(Idle{std::move(conn), steady_clock::now(), api});
  observability::metrics().upstreamIdle(api, 1);
}

void UpstreamPool::sweep() {
  const auto now = steady_clock::now();
  for (auto& [origin, stack] : idle_) {
    std::erase_if(stack, [&](Idle& idle) {
      if (now - idle.since < kIdleTimeout && alive(*idle.conn)) return false;
      idle.conn->close();
      observability::metrics().upstreamIdle(idle.api, -1);
      return true;
    });
  }
}

void UpstreamPool::clear() {
  for (auto& [origin, stack] : idle_)
    for (auto& idle : stack) {
      idle.conn->close();
      observability::metrics().upstreamIdle(idle.api, -1);
    }
  idle_.clear();
}

std::size_t UpstreamPool::idle(const std::string& origin) const {
  auto it = idle_.find(origin);
  return it == idle_.end() ? 0 : it->second.size();
}

bool UpstreamPool::alive(Connection& c) {
  char byte;
  const ssize_t n = ::recv(c.lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace mgw::http
