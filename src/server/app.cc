#include "server/app.h"

#include <openssl/ssl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "common/log.h"
#include "config/config_loader.h"
#include "server/fault_reply.h"
#include "server/lifecycle_service.h"
#include "server/request_util.h"
#include "server/routes.h"
#include "server/server_context.h"

namespace mgw::server {
namespace {

std::optional<config::Config> loadOrReport(const std::string& path) {
  auto result = config::loadConfig(path, config::defaultRuntimeHome(path));
  for (const auto& w : result.warnings)
    log::warn("configuration warning", {{"detail", w.toString()}});
  for (const auto& e : result.errors) log::error("configuration error", {{"error", e.toString()}});
  if (!result.errors.empty() || !result.config) return std::nullopt;
  return std::move(result.config);
}

bool isLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.rfind("127.", 0) == 0;
}

// The library's compiled-in defaults (5 requests per connection, no TCP_NODELAY, 8 threads) are
// replaced by the configured, explicit limits.
void applyLimits(httplib::Server& server, const config::ListenerConfig& listener) {
  const int threads = listener.workerThreads;
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(static_cast<size_t>(listener.keepAliveMaxRequests));
  server.set_keep_alive_timeout(listener.keepAliveTimeoutSeconds);
  server.set_read_timeout(listener.readTimeoutSeconds, 0);
  server.set_write_timeout(listener.writeTimeoutSeconds, 0);
  server.set_payload_max_length(listener.maxRequestBytes);
  server.set_error_handler(
      [](const httplib::Request&, httplib::Response& res) { fillLibraryError(res); });
  server.set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                                  std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::error("unhandled exception in a request handler", {{"path", req.path}, {"error", what}});
    writeFault(res, Failure::kInternalError, "the request could not be processed");
  });
}

struct Listener {
  std::unique_ptr<httplib::Server> server;
  int socket = -1;  // the listening socket, recorded when the library creates it
  std::thread thread;
  int port = -1;
};

// The library listens with a compiled-in backlog of 5: a burst of connects (wrk -c64, a load
// balancer opening its pool) overflows it, the kernel drops handshakes and the clients retry after
// 1 s, 3 s... So the socket is recorded as it is created and, once bound and listening, listen() is
// called again on it from this thread: on a listening socket only the backlog changes.
bool bindListener(Listener& l, const std::string& host, int port) {
  l.server->set_socket_options([&l](socket_t sock) {
    httplib::default_socket_options(sock);
    l.socket = static_cast<int>(sock);
  });
  bool bound;
  if (port == 0) {
    l.port = l.server->bind_to_any_port(host);
    bound = l.port > 0;
  } else {
    l.port = port;
    bound = l.server->bind_to_port(host, port);
  }
  if (bound && l.socket >= 0) ::listen(l.socket, SOMAXCONN);
  return bound;
}

bool writeReadyFile(const std::string& path, int httpPort, int httpsPort) {
  // Written to a temporary name and renamed, so a reader never sees half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "{\"httpPort\": " << httpPort << ", \"httpsPort\": " << httpsPort << "}\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// The TLS server's key and certificate: any key type the token module loads, with a certificate.
std::unique_ptr<token::SigningKey> loadTlsKey(const std::string& path, const std::string& password,
                                              std::string* error) {
  auto key = token::SigningKey::loadAnyAlgorithm(path, password, error);
  if (key && !key->certificate()) {
    *error = path + ": the TLS keystore holds no certificate";
    return nullptr;
  }
  return key;
}

void logAll(const std::vector<std::string>& lines, log::Level level, std::string_view message) {
  for (const auto& line : lines) log::write(level, message, {{"detail", line}});
}

}  // namespace

int validateConfiguration(const std::string& configPath) {
  auto result = config::loadConfig(configPath, config::defaultRuntimeHome(configPath));
  std::vector<std::string> errors;
  for (const auto& e : result.errors) errors.push_back(e.toString());
  if (result.config) {
    std::vector<std::string> warnings;
    BuildOptions options;
    options.createDevKeystores = false;
    buildRuntimeState(*result.config, std::make_shared<gateway::RevocationList>(), options, &errors,
                      &warnings);
    if (errors.empty()) {
      const auto& listener = result.config->listener;
      std::string tlsError;
      if (listener.httpsPort != -1 && std::ifstream(listener.keyStorePath).good() &&
          !loadTlsKey(listener.keyStorePath, listener.keyStorePassword, &tlsError))
        errors.push_back(tlsError);
    }
    for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  }
  if (errors.empty()) {
    std::cout << "OK\n";
    return 0;
  }
  for (const auto& e : errors) std::cout << e << "\n";
  return 1;
}

int runGateway(const RunOptions& options) {
  // Signals are taken synchronously by the main thread; every other thread has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto config = loadOrReport(options.configPath);
  if (!config) return 1;

  // The embedded store first: the validator reads its in-memory revocations and opaque keys.
  std::string storeError;
  std::shared_ptr<LifecycleService> lifecycle = LifecycleService::open(
      config->storage.path, config->server.timestampSkewMs, nowSeconds(), &storeError);
  if (!lifecycle) {
    log::error("startup error", {{"detail", storeError}});
    return 1;
  }
  auto revocations = lifecycle->revocations();
  std::vector<std::string> errors, warnings;
  auto state = buildRuntimeState(*config, revocations, BuildOptions{}, &errors, &warnings,
                                 lifecycle->opaqueKeys());
  logAll(warnings, log::Level::kWarn, "startup warning");
  if (!state) {
    logAll(errors, log::Level::kError, "startup error");
    return 1;
  }
  const auto& listener = config->listener;
  if (!isLoopback(listener.host)) {
    auto weak = state->users->usersWithWellKnownPassword();
    if (!weak.empty()) {
      log::error(
          "refusing to start: a user has the well-known password 'admin' on a non-loopback "
          "listener",
          {{"users", weak}, {"host", listener.host}});
      return 1;
    }
  }

  gateway::ProxyOptions proxyOptions;
  proxyOptions.trustStorePath = listener.trustStorePath;
  ServerContext context(state, revocations, std::make_unique<gateway::Proxy>(proxyOptions),
                        lifecycle);
  lifecycle->startPurger(std::chrono::hours(1));

  Listener http, https;
  std::unique_ptr<token::SigningKey> tlsKey;
  if (listener.httpPort != -1) {
    http.server = std::make_unique<httplib::Server>();
  }
  if (listener.httpsPort != -1) {
    std::vector<std::string> tlsErrors, tlsWarnings;
    // ES256 for the development TLS key: the cheapest handshake of the three.
    if (!ensureDevKeystore(listener.keyStorePath, defaultTlsKeystorePath(*config),
                           token::Algorithm::kES256, listener.keyStorePassword, BuildOptions{},
                           &tlsErrors, &tlsWarnings)) {
      logAll(tlsErrors, log::Level::kError, "startup error");
      return 1;
    }
    logAll(tlsWarnings, log::Level::kWarn, "startup warning");
    std::string error;
    tlsKey = loadTlsKey(listener.keyStorePath, listener.keyStorePassword, &error);
    if (!tlsKey) {
      log::error("startup error", {{"detail", error}});
      return 1;
    }
    https.server = std::make_unique<httplib::SSLServer>(tlsKey->certificate(), tlsKey->pkey());
    if (!https.server->is_valid()) {
      log::error("startup error", {{"detail", "the TLS context could not be created from " +
                                                  listener.keyStorePath}});
      return 1;
    }
  }
  for (auto* l : {&http, &https}) {
    if (!l->server) continue;
    applyLimits(*l->server, listener);
    registerRoutes(*l->server, context, l == &https);
    const int port = l == &http ? listener.httpPort : listener.httpsPort;
    if (!bindListener(*l, listener.host, port)) {
      log::error("startup error",
                 {{"detail", "cannot listen on " + listener.host + ":" + std::to_string(port) +
                                 " (in use, or not permitted)"}});
      return 1;
    }
  }
  for (auto* l : {&http, &https})
    if (l->server)
      l->thread = std::thread([server = l->server.get()] { server->listen_after_bind(); });
  for (auto* l : {&http, &https})
    while (l->server && !l->server->is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));

  log::info("micro-gw started",
            {{"httpPort", http.port}, {"httpsPort", https.port}, {"host", listener.host}});
  if (!options.readyFile.empty() && !writeReadyFile(options.readyFile, http.port, https.port))
    log::error("could not write the ready file", {{"path", options.readyFile}});

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      auto next = loadOrReport(options.configPath);
      if (!next) {
        log::error("reload refused: the new configuration is invalid; the running one stays");
        continue;
      }
      std::vector<std::string> reloadErrors, reloadWarnings;
      if (next->storage.path != lifecycle->databasePath())
        log::warn(
            "[storage] path changed: the store stays open at the old path until the next restart",
            {{"running", lifecycle->databasePath()}, {"configured", next->storage.path}});
      auto nextState = buildRuntimeState(*next, context.sharedRevocations(), BuildOptions{},
                                         &reloadErrors, &reloadWarnings, context.opaqueKeys());
      logAll(reloadWarnings, log::Level::kWarn, "reload warning");
      if (!nextState) {
        logAll(reloadErrors, log::Level::kError, "reload refused");
        continue;
      }
      context.replaceState(nextState);
      log::info("configuration reloaded (listener settings apply at the next restart)");
      continue;
    }
    break;  // SIGTERM or SIGINT
  }

  log::info("draining: no new connections, finishing in-flight requests");
  lifecycle->stopPurger();
  // stop() closes the listening socket; the worker pool then finishes its current requests.
  for (auto* l : {&http, &https})
    if (l->server) l->server->stop();
  for (auto* l : {&http, &https})
    if (l->thread.joinable()) l->thread.join();
  log::info("micro-gw stopped");
  return 0;
}

}  // namespace mgw::server
