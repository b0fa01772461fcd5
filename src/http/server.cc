#include "http/server.h"

#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <thread>

#include "common/log.h"
#include "http/h2_session.h"
#include "http/listener.h"
#include "http/server_context.h"
#include "http/tls.h"

namespace mgw::http {

using message::Handler;
using std::chrono::seconds;
using std::chrono::steady_clock;

struct Server::Impl : ServerContext {
  using ServerContext::ServerContext;
};

Server::Server(ServerOptions options, Handler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

Server::~Server() {
  if (!impl_->threads.empty() && impl_->threads.front()->thread.joinable()) stop(seconds(0));
}

bool Server::start(std::string* error) {
  auto& o = impl_->options;
  // Every connection costs a descriptor, a proxied one two: raise the soft limit to fit.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    const rlim_t wanted = static_cast<rlim_t>(o.maxConnections) * 2 + o.metricsMaxConnections + 256;
    if (limit.rlim_cur < wanted) {
      rlimit raised = limit;
      raised.rlim_cur = std::min(wanted, limit.rlim_max);
      if (setrlimit(RLIMIT_NOFILE, &raised) != 0 || raised.rlim_cur < wanted)
        log::warn("the open-file limit is below what maxConnections needs",
                  {{"limit", static_cast<long long>(raised.rlim_cur)},
                   {"needed", static_cast<long long>(wanted)},
                   {"fix", "raise the hard limit (ulimit -Hn, LimitNOFILE=, --ulimit nofile=)"}});
    }
  }
  if (o.httpsPort != -1) {
    if (!o.tlsKey || !o.tlsCertificate) {
      *error = "the HTTPS listener needs a TLS key and certificate";
      return false;
    }
    const TrustSource trust{o.trustStorePath, o.trustStorePem};
    if (!configureServerContext(impl_->serverTls, o.tlsKey, o.tlsCertificate, true,
                                ClientVerification{o.clientCertificates, trust, o.clientCrlPath},
                                error))
      return false;
  }
  std::string note;
  configureClientContext(impl_->clientTls, TrustSource{o.trustStorePath, o.trustStorePem}, &note);
  log::info("upstream TLS trust", {{"detail", note}});

  for (const std::string& entry : o.uncappedAddresses) {
    std::string why;
    if (!impl_->uncapped.add(entry, &why)) {
      *error = "trusted proxy " + entry + ": " + why;
      return false;
    }
  }
  impl_->workers = std::make_unique<asio::thread_pool>(std::max(1, o.workerThreads));
  for (int i = 0; i < std::max(1, o.ioThreads); ++i)
    impl_->threads.push_back(std::make_unique<IoThread>());
  if (!bindListeners(*impl_, error)) {
    impl_->threads.clear();
    return false;
  }
  for (auto& t : impl_->threads) {
    IoThread& thread = *t;
    for (auto& acceptor : thread.acceptors)
      asio::co_spawn(thread.io, acceptLoop(*impl_, thread, *acceptor.socket, acceptor.listener),
                     asio::detached);
    asio::co_spawn(thread.io, sweepLoop(*impl_, thread), asio::detached);
    thread.thread = std::thread([&thread] {
      for (;;) {
        try {
          thread.io.run();
          return;
        } catch (const std::exception& e) {
          log::error("I/O thread caught an exception", {{"error", e.what()}});
        }
      }
    });
  }
  impl_->accepting = true;
  return true;
}

int Server::httpPort() const { return impl_->httpPort; }
int Server::httpsPort() const { return impl_->httpsPort; }
int Server::metricsPort() const { return impl_->metricsPort; }
bool Server::accepting() const { return impl_->accepting && !impl_->draining; }

void Server::stop(seconds drain) {
  impl_->draining = true;
  for (auto& t : impl_->threads) {
    asio::post(t->io, [&thread = *t] {
      error_code ec;
      for (auto& a : thread.acceptors) a.socket->close(ec);
      // Idle keep-alive connections have no exchange to finish.
      for (IdleConnection& idle : thread.idle) {
        idle.connection->lowest().socket().close(ec);
        idle.connection->idleSlot = Connection::kNotIdle;
      }
      thread.idle.clear();
      thread.idleGateway = 0;
      // HTTP/2: GOAWAY; the streams in flight finish.
      drainHttp2(thread);
    });
  }
  const auto deadline = steady_clock::now() + drain;
  while (impl_->connections.load() > 0 && steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (auto& t : impl_->threads) {
    asio::post(t->io, [&thread = *t] {
      thread.pool.clear();
      thread.h2pool.clear();
    });
    t->io.stop();
  }
  for (auto& t : impl_->threads)
    if (t->thread.joinable()) t->thread.join();
  if (impl_->workers) impl_->workers->join();
}

}  // namespace mgw::http
