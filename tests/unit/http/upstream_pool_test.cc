// The upstream pool's reuse rules on real loopback sockets: a connection comes back only when
// nothing arrived on it since it was pooled; bytes the backend sent unasked, or its close, cost
// the connection.
#include "http/upstream_pool.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace mgw::http {
namespace {

using asio::ip::tcp;

// A connected pair on 127.0.0.1: the gateway's Connection and the backend's socket.
struct Pair {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::unique_ptr<Connection> gateway = std::make_unique<Connection>();
  tcp::socket backend{io};
  int gatewayFd = -1;

  Pair() {
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    acceptor.accept(backend);
    gatewayFd = client.native_handle();
    gateway->plain = std::make_unique<beast::tcp_stream>(std::move(client));
  }
  // Waits until what the backend did is visible on the gateway's socket.
  void settle() const {
    pollfd p{gatewayFd, POLLIN, 0};
    ::poll(&p, 1, 2000);
  }
};

TEST(UpstreamPoolTest, QuietConnectionIsReused) {
  Pair p;
  UpstreamPool pool;
  Connection* raw = p.gateway.get();
  pool.put("http://b:1", std::move(p.gateway), observability::kNoApiId);
  EXPECT_EQ(pool.idle("http://b:1"), 1u);
  EXPECT_EQ(pool.take("http://other:1"), nullptr);
  auto again = pool.take("http://b:1");
  EXPECT_EQ(again.get(), raw);
  EXPECT_EQ(pool.idle("http://b:1"), 0u);
  EXPECT_EQ(pool.take("http://b:1"), nullptr);
}

TEST(UpstreamPoolTest, UnsolicitedBytesCostTheConnection) {
  Pair p;
  UpstreamPool pool;
  pool.put("http://b:1", std::move(p.gateway), observability::kNoApiId);
  // A late second answer (or a body after a 204): would be read as the next exchange's answer.
  asio::write(p.backend, asio::buffer(std::string_view("HTTP/1.1 200 OK\r\n\r\n")));
  p.settle();
  EXPECT_EQ(pool.take("http://b:1"), nullptr);
  EXPECT_EQ(pool.idle("http://b:1"), 0u);
}

TEST(UpstreamPoolTest, ClosedByTheBackendIsNotReusedAndSweepDropsIt) {
  Pair first;
  Pair second;
  UpstreamPool pool;
  pool.put("http://b:1", std::move(first.gateway), observability::kNoApiId);
  pool.put("http://b:1", std::move(second.gateway), observability::kNoApiId);
  second.backend.close();
  second.settle();
  pool.sweep();  // the closed one goes, the quiet one stays
  EXPECT_EQ(pool.idle("http://b:1"), 1u);
  first.backend.close();
  first.settle();
  EXPECT_EQ(pool.take("http://b:1"), nullptr);
}

TEST(UpstreamPoolTest, AtMostSoManyIdlePerOrigin) {
  std::vector<std::unique_ptr<Pair>> pairs;
  UpstreamPool pool;
  for (std::size_t i = 0; i < UpstreamPool::kMaxIdlePerOrigin + 2; ++i) {
    pairs.push_back(std::make_unique<Pair>());
    pool.put("http://b:1", std::move(pairs.back()->gateway), observability::kNoApiId);
  }
  EXPECT_EQ(pool.idle("http://b:1"), UpstreamPool::kMaxIdlePerOrigin);
  pool.clear();
  EXPECT_EQ(pool.idle("http://b:1"), 0u);
}

}  // namespace
}  // namespace mgw::http
