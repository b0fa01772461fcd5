#include "server/app.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "auth/initial_password.h"
#include "cluster/cluster_node.h"
#include "cluster/redis_counter_store.h"
#include "common/crypto_util.h"
#include "common/log.h"
#include "common/redis_url.h"
#include "config/config_loader.h"
#include "config/endpoint_overrides.h"
#include "http/server.h"
#include "lifecycle/lifecycle_service.h"
#include "observability/metrics.h"
#include "server/observability_routes.h"
#include "server/request_util.h"
#include "server/routes.h"
#include "server/server_context.h"
#include "token/keys.h"

namespace mgw::server {
namespace {

// WSO2 MGW 3.x endpoint overrides: the command line's over the environment's over the file's
// (Ballerina's config precedence), read again at every load so a reload sees the file's changes.
void addEndpointOverrides(config::Config& config,
                          const std::vector<config::EndpointOverride>& commandLine) {
  const auto environment = config::overridesFromEnvironment(environ);
  const auto file = std::move(config.endpointOverrides);
  config.endpointOverrides = config::mergeOverrides({&commandLine, &environment, &file});
}

std::optional<config::Config> loadOrReport(const RunOptions& options) {
  const std::string& path = options.configPath;
  auto result = config::loadConfig(path, config::defaultRuntimeHome(path));
  if (result.config) addEndpointOverrides(*result.config, options.endpointOverrides);
  for (const auto& w : result.warnings)
    log::warn("configuration warning", {{"detail", w.toString()}});
  for (const auto& e : result.errors) log::error("configuration error", {{"error", e.toString()}});
  if (!result.errors.empty() || !result.config) return std::nullopt;
  std::string error;  // the admin password off loopback (SPEC section 11), at start and reload
  if (!auth::applyAdminPassword(*result.config, auth::adminPasswordOptionsFromEnvironment(true),
                                &error)) {
    log::error("startup error", {{"detail", error}});
    return std::nullopt;
  }
  return std::move(result.config);
}

// A .p12/.pfx truststore file (else a folder or a PEM bundle).
bool isPkcs12Truststore(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::error_code ec;
  return (ext == ".p12" || ext == ".pfx") && std::filesystem::is_regular_file(path, ec);
}

bool isLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.rfind("127.", 0) == 0;
}

bool writeReadyFile(const std::string& path, int httpPort, int httpsPort, int metricsPort) {
  // Written to a temporary name and renamed, so a reader never sees half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "{\"httpPort\": " << httpPort << ", \"httpsPort\": " << httpsPort
        << ", \"metricsPort\": " << metricsPort << "}\n";
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

int validateConfiguration(const std::string& configPath,
                          const std::vector<config::EndpointOverride>& endpointOverrides) {
  auto result = config::loadConfig(configPath, config::defaultRuntimeHome(configPath));
  if (result.config) addEndpointOverrides(*result.config, endpointOverrides);
  // Accepted but worth knowing (WSO2 MGW 3.x keys that are ignored, SHA-1 passwords, ...).
  for (const auto& w : result.warnings) std::cerr << "warning: " << w.toString() << "\n";
  std::vector<std::string> errors;
  for (const auto& e : result.errors) errors.push_back(e.toString());
  std::string adminError;
  if (result.config &&
      !auth::applyAdminPassword(*result.config, auth::adminPasswordOptionsFromEnvironment(false),
                                &adminError))
    errors.push_back(adminError);
  if (result.config) {
    std::vector<std::string> warnings;
    BuildOptions options;
    options.createDevKeystores = false;
    buildRuntimeState(*result.config, std::make_shared<store::RevocationList>(), options, &errors,
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

  auto config = loadOrReport(options);
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
  std::error_code signingEc;
  const bool hadSigningKey = std::filesystem::exists(config->tokenIssuer.keyStorePath, signingEc);
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

  ServerContext context(state, revocations, lifecycle);
  // Observability (SPEC section 12): metricsPort -1 turns the listener and the counting off.
  ReadinessInputs readiness;
  observability::metrics().setEnabled(config->observability.metricsPort != -1);
  lifecycle->startPurger(std::chrono::hours(1));
  // Last use of keys (issue 25): at most one store write per key per minute, the noted uses
  // written every [apikey] lastUsedWriteSeconds.
  lifecycle->startUseWriter(std::chrono::seconds(config->opaqueKeys.lastUsedWriteSeconds));

  // [cluster] (SPEC section 14): other nodes' changes are applied before this node serves.
  std::shared_ptr<cluster::ClusterNode> clusterNode;
  std::shared_ptr<cluster::RedisCounterStore> clusterCounters;
  // On every way out (after the listeners stopped): the node and the service hold each other.
  struct ClusterStop {
    std::shared_ptr<cluster::ClusterNode>& node;
    std::shared_ptr<cluster::RedisCounterStore>& counters;
    LifecycleService& lifecycle;
    ~ClusterStop() {
      if (counters) counters->stop();
      if (!node) return;
      node->stop();
      lifecycle.setChangeSink(nullptr);
    }
  } clusterStop{clusterNode, clusterCounters, *lifecycle};
  if (!config->cluster.redis.empty()) {
    std::string clusterError;
    clusterNode = cluster::ClusterNode::create(config->cluster, lifecycle,
                                               config->listener.workerThreads, &clusterError);
    if (!clusterNode) {
      log::error("startup error", {{"detail", "[cluster] redis: " + clusterError}});
      return 1;
    }
    lifecycle->setChangeSink(clusterNode);
    if (state->signingKey) {
      const std::string& kid = config->tokenIssuer.certificateAlias;
      // Issue 22 item 12: a node that made its own key (no keystore copied from the first node)
      // issues keys the other nodes refuse; it says so at start, and the node compares its key with
      // the cluster's through Redis.
      if (!hadSigningKey)
        log::warn(
            "cluster: this node generated a new STS signing key at this start; unless it is the "
            "first node, the other nodes will refuse its keys: copy the signing keystore from the "
            "first node before starting the others (README, Several nodes)",
            {{"kid", kid}, {"keystore", config->tokenIssuer.keyStorePath}});
      clusterNode->expectSigningKey(kid,
                                    fingerprint(state->signingKey->publicKey()->toJwk(kid).dump()));
    }
    clusterNode->start();
    // The throttling counters too: one Lua script per request in Redis, local / node count when
    // Redis is unreachable.
    cluster::RedisCounterStore::Options counterOptions;
    counterOptions.url = *parseRedisUrl(config->cluster.redis, &clusterError);
    counterOptions.password = config->cluster.redisPassword;
    clusterCounters = std::make_shared<cluster::RedisCounterStore>(
        counterOptions, [node = clusterNode.get()] { return node->lastKnownNodes(); });
    clusterCounters->start();
    clusterNode->attachCounters(clusterCounters);
    context.setCounterStore(clusterCounters);
    if (!clusterNode->waitUntilCaughtUp(std::chrono::seconds(5)))
      log::warn("cluster: not caught up with Redis within 5 s; serving with what this node knows");
    context.setCluster(clusterNode);
  }

  std::unique_ptr<token::SigningKey> tlsKey;
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
  }

  http::ServerOptions serverOptions;
  serverOptions.host = listener.host;
  serverOptions.httpPort = listener.httpPort;
  serverOptions.httpsPort = listener.httpsPort;
  serverOptions.tlsKey = tlsKey ? tlsKey->pkey() : nullptr;
  serverOptions.tlsCertificate = tlsKey ? tlsKey->certificate() : nullptr;
  serverOptions.ioThreads = listener.ioThreads;
  // The pool gets a thread for each password check that may run at once: argon2id (at most
  // maxConcurrentPasswordChecks, LoginThrottle) never takes the workerThreads other blocking work
  // (cached credentials, store writes) runs on.
  serverOptions.workerThreads = listener.workerThreads + config->auth.maxConcurrentPasswordChecks;
  serverOptions.maxConnections = listener.maxConnections;
  serverOptions.maxConnectionsPerAddress = listener.maxConnectionsPerAddress;
  serverOptions.uncappedAddresses = listener.trustedProxies;  // a proxy speaks for many clients
  serverOptions.maxHeaderBytes = listener.maxHeaderBytes;
  serverOptions.maxHeaderCount = listener.maxHeaderCount;
  serverOptions.maxRequestBytes = listener.maxRequestBytes;
  serverOptions.headerTimeoutSeconds = listener.headerTimeoutSeconds;
  serverOptions.bodyTimeoutSeconds = listener.bodyTimeoutSeconds;
  serverOptions.minBodyBytesPerSecond = listener.minBodyBytesPerSecond;
  serverOptions.requestBuffering = listener.requestBuffering;
  serverOptions.requestBufferBytes = listener.requestBufferBytes;
  serverOptions.maxConnectionsPerBackend = listener.maxConnectionsPerBackend;
  serverOptions.writeTimeoutSeconds = listener.writeTimeoutSeconds;
  serverOptions.hstsMaxAge = listener.hstsMaxAge;
  serverOptions.keepAliveTimeoutSeconds = listener.keepAliveTimeoutSeconds;
  serverOptions.keepAliveMaxRequests = listener.keepAliveMaxRequests;
  serverOptions.http2 = listener.http2;
  serverOptions.trustStorePath = listener.trustStorePath;
  if (isPkcs12Truststore(listener.trustStorePath)) {
    // WSO2 API Microgateway 3.x's ballerinaTruststore.p12: its certificates verify HTTPS backends
    // and client certificates, as WSO2's listener and clients used it.
    std::vector<token::TrustedCertificate> trusted;
    std::string why;
    if (!token::readPkcs12Certificates(listener.trustStorePath, listener.trustStorePassword,
                                       &trusted, &why)) {
      log::error("startup error", {{"detail", "[listenerConfig] trustStorePath: " + why}});
      return 1;
    }
    serverOptions.trustStorePath.clear();
    for (const auto& cert : trusted) serverOptions.trustStorePem += cert.pem;
  }
  if (!config->mutualSsl.verifyClient.empty()) {
    serverOptions.clientCertificates = config->mutualSsl.verifyClient == "require"
                                           ? http::ClientCertificates::kRequire
                                           : http::ClientCertificates::kOptional;
    serverOptions.clientCrlPath = config->mutualSsl.crlPath;
  }
  readiness.tlsKeyLoaded = listener.httpsPort == -1 || tlsKey != nullptr;
  ObservabilityHandler observabilityHandler(context, readiness);
  serverOptions.metricsHost = config->observability.metricsHost;
  serverOptions.metricsPort = config->observability.metricsPort;
  serverOptions.metricsMaxConnections = config->observability.maxConnections;
  serverOptions.metricsHandler = &observabilityHandler;
  Dispatcher dispatcher(context);
  http::Server server(serverOptions, dispatcher);
  std::string startError;
  if (!server.start(&startError)) {
    log::error("startup error", {{"detail", startError}});
    return 1;
  }
  readiness.listenersUp = true;
  struct Ports {
    int port;
  } http{server.httpPort()}, https{server.httpsPort()}, metrics{server.metricsPort()};

  log::info("micro-gw started", {{"httpPort", http.port},
                                 {"httpsPort", https.port},
                                 {"metricsPort", metrics.port},
                                 {"host", listener.host}});
  if (!options.readyFile.empty() &&
      !writeReadyFile(options.readyFile, http.port, https.port, metrics.port))
    log::error("could not write the ready file", {{"path", options.readyFile}});

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      auto next = loadOrReport(options);
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
      readiness.swapping = true;  // not ready while the configuration is being replaced
      context.replaceState(nextState);
      readiness.swapping = false;
      log::info("configuration reloaded (listener settings apply at the next restart)");
      continue;
    }
    break;  // SIGTERM or SIGINT
  }

  readiness.listenersUp = false;
  log::info("draining: no new connections, finishing in-flight requests");
  lifecycle->stopPurger();
  // Within 10 s of SIGTERM (a container runtime kills at 10 s): exchanges still running are cut.
  server.stop(std::chrono::seconds(8));
  lifecycle->stopUseWriter();  // the uses noted since the last write are kept
  log::info("micro-gw stopped");
  return 0;
}

}  // namespace mgw::server
