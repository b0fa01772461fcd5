// Decision::kDefer through the real transport: a handler whose decision completes later, on
// another thread (as the Redis counter store of several nodes does), inline, or twice in a row.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"

namespace mgw::http {
namespace {

using message::Decision;
using message::Defer;
using message::Handler;
using message::Outcome;
using message::Resume;

Decision replyWith(int status, std::string body) {
  message::HttpResponse reply;
  reply.status = status;
  reply.setContent(std::move(body), "text/plain");
  return Decision::reply(std::move(reply));
}

class DeferringHandler : public Handler {
 public:
  ~DeferringHandler() override {
    for (auto& t : threads_) t.join();
  }
  Decision decide(message::HttpRequest& request) override {
    Defer d;
    const std::string path = request.path;
    if (path == "/later") {
      d.start = [this](Resume resume) {
        std::lock_guard lock(mutex_);
        threads_.emplace_back([resume = std::move(resume)] {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          resume(replyWith(200, "later"));
        });
      };
    } else if (path == "/inline") {
      d.start = [](Resume resume) { resume(replyWith(429, "inline")); };
    } else {  // deferred twice: the first decision defers again
      d.start = [](Resume resume) {
        Defer again;
        again.start = [](Resume r) { r(replyWith(200, "twice")); };
        resume(Decision{std::move(again), {}});
      };
    }
    Decision decision{std::move(d), {}};
    decision.done = [this](const message::HttpRequest&, const Outcome& outcome) {
      if (outcome.status != 0) ++done_;
    };
    return decision;
  }
  std::atomic<int> done_{0};

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

// Sends raw requests on one connection and reads until `answers` responses' bodies arrived.
std::string exchange(int port, const std::string& requests, const std::vector<std::string>& until) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "";
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::send(fd, requests.data(), requests.size(), 0);
  std::string got;
  char buf[4096];
  auto complete = [&] {
    for (const auto& u : until)
      if (got.find(u) == std::string::npos) return false;
    return true;
  };
  while (!complete()) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return got;
}

TEST(DeferredDecision, ResumesOnTheConnectionFromAnotherThreadInlineAndTwice) {
  DeferringHandler handler;
  ServerOptions options;
  options.httpPort = 0;
  Server server(options, handler);
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  // Pipelined: answered in order, each after its own deferred decision.
  const std::string got =
      exchange(server.httpPort(),
               "GET /later HTTP/1.1\r\nHost: a\r\n\r\nGET /inline HTTP/1.1\r\nHost: a\r\n\r\n"
               "GET /twice HTTP/1.1\r\nHost: a\r\n\r\n",
               {"later", "inline", "twice"});
  const auto later = got.find("later");
  const auto inl = got.find("inline");
  const auto twice = got.find("twice");
  ASSERT_NE(later, std::string::npos) << got;
  ASSERT_NE(inl, std::string::npos) << got;
  ASSERT_NE(twice, std::string::npos) << got;
  EXPECT_LT(later, inl);
  EXPECT_LT(inl, twice);
  EXPECT_NE(got.find("HTTP/1.1 429"), std::string::npos);
  // Many connections waiting at once do not block the I/O thread (ioThreads = 1).
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    clients.emplace_back([&] {
      if (exchange(server.httpPort(), "GET /later HTTP/1.1\r\nHost: a\r\n\r\n", {"later"})
              .find("200") != std::string::npos)
        ++ok;
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 20);
  server.stop(std::chrono::seconds(2));
  EXPECT_EQ(handler.done_.load(), 23);  // the access-log callback ran once per exchange
}

}  // namespace
}  // namespace mgw::http
