// The proxy against real httplib servers on 127.0.0.1: what the backend receives, what the client
// gets back, connection reuse, and every backend fault mapped to its Failure.
#include "gateway/proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

namespace mgw::gateway {
namespace {

using nlohmann::json;
using std::chrono::steady_clock;

// A backend that records each connection's remote port and echoes what it received.
class TestBackend {
 public:
  explicit TestBackend(
      std::unique_ptr<httplib::Server> server = std::make_unique<httplib::Server>())
      : server_(std::move(server)) {
    server_->set_keep_alive_max_count(10000);
    server_->set_tcp_nodelay(true);
    server_->new_task_queue = [] { return new httplib::ThreadPool(16); };
    server_->Get("/slow", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::atoi(req.get_param_value("ms").c_str())));
      res.set_content("slept", "text/plain");
    });
    server_->Get(R"(/status/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.status = std::atoi(req.matches[1].str().c_str());
      res.set_content("status " + req.matches[1].str(), "text/plain");
    });
    server_->Get("/respond", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.status = 201;
      res.set_header("X-End", "kept");
      res.set_header("Connection", "X-Hop");
      res.set_header("X-Hop", "dropped");
      res.set_header("Proxy-Authenticate", "Basic");
      res.set_header("Set-Cookie", "a=1");
      res.set_header("Set-Cookie", "b=2");
      res.set_content(std::string("binary\0body", 11), "application/octet-stream");
    });
    auto echo = [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      json headers = json::object();
      for (const auto& [name, value] : req.headers) {
        std::string key = name;
        for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (key == "remote_addr" || key == "remote_port" || key == "local_addr" ||
            key == "local_port")
          continue;
        if (headers.contains(key)) {
          headers[key] = headers[key].get<std::string>() + ", " + value;
        } else {
          headers[key] = value;
        }
      }
      json body = {
          {"method", req.method}, {"target", req.target}, {"headers", headers}, {"body", req.body}};
      res.set_content(body.dump(), "application/json");
    };
    server_->Get(".*", echo);
    server_->Post(".*", echo);
    server_->Put(".*", echo);
    server_->Patch(".*", echo);
    server_->Delete(".*", echo);
    server_->Options(".*", echo);
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TestBackend() {
    server_->stop();
    thread_.join();
  }

  int port() const { return port_; }
  std::string url(const std::string& base = "", const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + base;
  }
  size_t connections() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ports_.size();
  }

 private:
  void record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mutex_);
    ports_.insert(req.remote_port);
  }

  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::set<int> ports_;
};

// A port nothing listens on: bound once by the kernel's choice, then released.
int unusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

HttpRequest makeRequest(std::string method = "GET", HeaderMap headers = {}, QueryParams query = {},
                        std::string body = "") {
  HttpRequest in;
  in.method = std::move(method);
  in.headers = std::move(headers);
  if (in.headers.find("Host") == in.headers.end())
    in.headers.emplace("Host", "gw.example.com:9090");
  in.query = std::move(query);
  in.body = std::move(body);
  in.clientAddress = "192.0.2.7";
  return in;
}

ApiDefinition makeApi(int timeoutSeconds = 5) {
  ApiDefinition api;
  api.name = "PizzaShackAPI";
  api.version = "1.0.0";
  api.context = "/pizzashack/1.0.0";
  api.timeoutSeconds = timeoutSeconds;
  return api;
}

Endpoints single(const std::string& url) { return Endpoints{{url}, false}; }

class ProxyTest : public ::testing::Test {
 protected:
  HttpResponse forward(const HttpRequest& in, const Endpoints& endpoints, std::string_view path,
                       const ApiDefinition& api = makeApi()) {
    failure_ = Failure::kInternalError;
    reason_ = "unset";
    return proxy_.forward(in, api, endpoints, path, &failure_, &reason_);
  }
  json echoed(const HttpResponse& response) {
    EXPECT_EQ(failure_, Failure::kNone) << reason_;
    EXPECT_EQ(response.status, 200) << reason_;
    return json::parse(response.body, nullptr, false);
  }

  TestBackend backend_;
  Proxy proxy_{ProxyOptions{}};
  Failure failure_ = Failure::kNone;
  std::string reason_;
};

TEST_F(ProxyTest, StripsApiKeyHeaderAndQueryParameter) {
  auto in = makeRequest("GET", {{"APIKEY", "secret-header-key"}, {"Accept", "application/json"}},
                        {{"apikey", "secret-query-key"}, {"keep", "1"}, {"apikey", "again"}});
  json got = echoed(forward(in, single(backend_.url("/pizzashack/1.0.0")), "/menu"));
  EXPECT_EQ(got["target"], "/pizzashack/1.0.0/menu?keep=1");
  EXPECT_FALSE(got["headers"].contains("apikey"));
  EXPECT_EQ(got["headers"]["accept"], "application/json");
  EXPECT_EQ(got.dump().find("secret"), std::string::npos);
}

TEST_F(ProxyTest, StripsCustomKeySourcesOnly) {
  ApiDefinition api = makeApi();
  api.keySources = {{KeyLocation::kHeader, "X-API-Key"}, {KeyLocation::kQuery, "key"}};
  auto in = makeRequest("GET", {{"x-api-key", "k1"}, {"apikey", "not-a-source"}},
                        {{"key", "k2"}, {"Key", "case-differs"}, {"apikey", "not-a-source"}});
  json got = echoed(forward(in, single(backend_.url()), "/echo", api));
  EXPECT_EQ(got["target"], "/echo?Key=case-differs&apikey=not-a-source");
  EXPECT_FALSE(got["headers"].contains("x-api-key"));
  EXPECT_EQ(got["headers"]["apikey"], "not-a-source");
}

TEST_F(ProxyTest, PropagateApiKeyKeepsTheKey) {
  ApiDefinition api = makeApi();
  api.propagateApiKey = true;
  auto in = makeRequest("GET", {{"apikey", "hk"}}, {{"apikey", "qk"}});
  json got = echoed(forward(in, single(backend_.url()), "/echo", api));
  EXPECT_EQ(got["target"], "/echo?apikey=qk");
  EXPECT_EQ(got["headers"]["apikey"], "hk");
}

TEST_F(ProxyTest, SetsForwardedHeadersAndBackendHost) {
  auto in = makeRequest("GET", {{"X-Forwarded-For", "10.0.0.1, 10.0.0.2"},
                                {"X-Forwarded-Proto", "ftp"},
                                {"X-Forwarded-Host", "evil.example"}});
  in.tls = true;
  json got = echoed(forward(in, single(backend_.url()), "/echo"));
  EXPECT_EQ(got["headers"]["x-forwarded-for"], "10.0.0.1, 10.0.0.2, 192.0.2.7");
  EXPECT_EQ(got["headers"]["x-forwarded-proto"], "https");
  EXPECT_EQ(got["headers"]["x-forwarded-host"], "gw.example.com:9090");
  EXPECT_EQ(got["headers"]["host"], "127.0.0.1:" + std::to_string(backend_.port()));

  auto plain = makeRequest("GET");
  got = echoed(forward(plain, single(backend_.url()), "/echo"));
  EXPECT_EQ(got["headers"]["x-forwarded-for"], "192.0.2.7");
  EXPECT_EQ(got["headers"]["x-forwarded-proto"], "http");
}

TEST_F(ProxyTest, RemovesHopByHopRequestHeaders) {
  auto in = makeRequest("POST",
                        {{"Connection", "X-Private"},
                         {"X-Private", "1"},
                         {"Keep-Alive", "timeout=1"},
                         {"TE", "trailers"},
                         {"Upgrade", "websocket"},
                         {"Proxy-Authorization", "Basic eA=="},
                         {"Content-Length", "999"},
                         {"Expect", "100-continue"},
                         {"X-End", "kept"}},
                        {}, "abc");
  json got = echoed(forward(in, single(backend_.url()), "/echo"));
  for (const char* gone :
       {"x-private", "keep-alive", "te", "upgrade", "proxy-authorization", "expect"}) {
    EXPECT_FALSE(got["headers"].contains(gone)) << gone;
  }
  EXPECT_EQ(got["headers"]["x-end"], "kept");
  EXPECT_EQ(got["headers"]["content-length"], "3");  // recomputed, not the client's 999
  EXPECT_EQ(got["body"], "abc");
}

TEST_F(ProxyTest, RelaysMethodPathQueryAndBody) {
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    // httplib's server (the test backend) reads no body on GET and OPTIONS.
    const bool hasBody = std::string(method) != "GET" && std::string(method) != "OPTIONS";
    const std::string body = hasBody ? std::string("body of ") + method : "";
    auto in = makeRequest(method, {{"Content-Type", "application/json"}},
                          {{"q", "a b&c"}, {"n", "é"}}, body);
    json got = echoed(forward(in, single(backend_.url("/base/")), "/order/a b"));
    EXPECT_EQ(got["method"], method);
    EXPECT_EQ(got["target"], "/base/order/a%20b?q=a%20b%26c&n=%C3%A9") << method;
    EXPECT_EQ(got["body"], body) << method;
  }
  auto head = makeRequest("HEAD");
  HttpResponse response = forward(head, single(backend_.url()), "/echo");
  EXPECT_EQ(failure_, Failure::kNone) << reason_;
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.body.empty());
}

TEST_F(ProxyTest, JoinsEndpointPathAndBackendPath) {
  EXPECT_EQ(echoed(forward(makeRequest(), single(backend_.url()), ""))["target"], "/");
  EXPECT_EQ(echoed(forward(makeRequest(), single(backend_.url("/a")), ""))["target"], "/a");
  EXPECT_EQ(echoed(forward(makeRequest(), single(backend_.url("/a/")), "/b"))["target"], "/a/b");
  EXPECT_EQ(echoed(forward(makeRequest(), single(backend_.url("/a?fixed=1")), "/b"))["target"],
            "/a/b?fixed=1");
  auto in = makeRequest("GET", {}, {{"x", "1"}});
  EXPECT_EQ(echoed(forward(in, single(backend_.url("/a?fixed=1")), "/b"))["target"],
            "/a/b?fixed=1&x=1");
  // A decoded '?' or '#' in the path stays in the path.
  EXPECT_EQ(echoed(forward(makeRequest(), single(backend_.url()), "/p?q#f"))["target"],
            "/p%3Fq%23f");
}

TEST_F(ProxyTest, RelaysStatusHeadersAndBodyWithoutHopByHop) {
  HttpResponse response = forward(makeRequest(), single(backend_.url()), "/respond");
  ASSERT_EQ(failure_, Failure::kNone) << reason_;
  EXPECT_TRUE(reason_.empty());
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, std::string("binary\0body", 11));
  EXPECT_EQ(response.headers.find("X-End")->second, "kept");
  EXPECT_EQ(response.headers.find("content-type")->second, "application/octet-stream");
  EXPECT_EQ(response.headers.count("Set-Cookie"), 2u);
  for (const char* gone :
       {"Connection", "X-Hop", "Keep-Alive", "Proxy-Authenticate", "Content-Length"}) {
    EXPECT_EQ(response.headers.count(gone), 0u) << gone;
  }
}

TEST_F(ProxyTest, RelaysBackendErrorStatus) {
  HttpResponse response = forward(makeRequest(), single(backend_.url()), "/status/503");
  EXPECT_EQ(failure_, Failure::kNone) << reason_;
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body, "status 503");
}

TEST_F(ProxyTest, SequentialRequestsReuseOneConnection) {
  for (int i = 0; i < 50; ++i) {
    auto in = makeRequest(i % 2 ? "POST" : "GET", {}, {}, i % 2 ? "x" : "");
    echoed(forward(in, single(backend_.url()), "/echo"));
  }
  EXPECT_EQ(backend_.connections(), 1u);
  EXPECT_EQ(proxy_.idleConnections(backend_.url()), 1u);
}

TEST_F(ProxyTest, ConcurrentRequestsShareAtMostOneConnectionEach) {
  constexpr int kThreads = 8;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        Failure failure = Failure::kInternalError;
        std::string reason;
        HttpResponse r = proxy_.forward(makeRequest(), makeApi(), single(backend_.url()), "/echo",
                                        &failure, &reason);
        if (failure == Failure::kNone && r.status == 200) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * 25);
  EXPECT_LE(backend_.connections(), static_cast<size_t>(kThreads));
}

TEST_F(ProxyTest, IdleConnectionsAreCapped) {
  Proxy small{ProxyOptions{"", 5, 0}};
  for (int i = 0; i < 3; ++i) {
    Failure failure = Failure::kInternalError;
    std::string reason;
    small.forward(makeRequest(), makeApi(), single(backend_.url()), "/echo", &failure, &reason);
    EXPECT_EQ(failure, Failure::kNone) << reason;
  }
  EXPECT_EQ(small.idleConnections(backend_.url()), 0u);
  EXPECT_EQ(backend_.connections(), 3u);  // nothing kept, so nothing reused
}

TEST_F(ProxyTest, RefusedPortIsUnreachable) {
  const std::string url = "http://127.0.0.1:" + std::to_string(unusedPort());
  auto in = makeRequest("GET", {}, {{"apikey", "secret-query-key"}});
  forward(in, single(url), "/menu");
  EXPECT_EQ(failure_, Failure::kBackendUnreachable);
  EXPECT_NE(reason_.find("connect failed"), std::string::npos) << reason_;
  EXPECT_NE(reason_.find("127.0.0.1"), std::string::npos) << reason_;
  EXPECT_EQ(reason_.find("secret"), std::string::npos) << reason_;
}

TEST_F(ProxyTest, SlowBackendTimesOutThenNextRequestSucceeds) {
  const auto start = steady_clock::now();
  forward(makeRequest("GET", {}, {{"ms", "2500"}}), single(backend_.url()), "/slow", makeApi(1));
  const auto elapsed = steady_clock::now() - start;
  EXPECT_EQ(failure_, Failure::kBackendTimeout) << reason_;
  EXPECT_NE(reason_.find("no answer within 1 s"), std::string::npos) << reason_;
  EXPECT_LT(elapsed, std::chrono::milliseconds(2300));
  // The timed-out client was discarded; the next request gets a working connection.
  EXPECT_EQ(echoed(forward(makeRequest(), single(backend_.url()), "/echo"))["method"], "GET");
}

TEST_F(ProxyTest, FailoverTriesTheNextUrlOnConnectFailure) {
  const std::string dead = "http://127.0.0.1:" + std::to_string(unusedPort());
  Endpoints endpoints{{dead, backend_.url("/b")}, true};
  json got = echoed(forward(makeRequest(), endpoints, "/echo"));
  EXPECT_EQ(got["target"], "/b/echo");
  EXPECT_NE(reason_.find("connect failed"), std::string::npos)
      << reason_;  // the failover is logged

  Endpoints noFailover{{dead}, false};
  forward(makeRequest(), noFailover, "/echo");
  EXPECT_EQ(failure_, Failure::kBackendUnreachable);

  Endpoints allDead{{dead, "http://127.0.0.1:" + std::to_string(unusedPort())}, true};
  forward(makeRequest(), allDead, "/echo");
  EXPECT_EQ(failure_, Failure::kBackendUnreachable);
  EXPECT_NE(reason_.find("; "), std::string::npos) << reason_;  // both attempts named
}

TEST_F(ProxyTest, NoFailoverOnHttpErrorStatus) {
  TestBackend second;
  Endpoints endpoints{{backend_.url(), second.url()}, true};
  HttpResponse response = forward(makeRequest(), endpoints, "/status/500");
  EXPECT_EQ(failure_, Failure::kNone);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(second.connections(), 0u);
}

TEST_F(ProxyTest, NoFailoverOnTimeout) {
  TestBackend second;
  Endpoints endpoints{{backend_.url(), second.url()}, true};
  forward(makeRequest("GET", {}, {{"ms", "1500"}}), endpoints, "/slow", makeApi(1));
  EXPECT_EQ(failure_, Failure::kBackendTimeout);
  EXPECT_EQ(second.connections(), 0u);
}

TEST_F(ProxyTest, WithoutFailoverUrlsAreTakenInTurn) {
  TestBackend second;
  Proxy proxy{ProxyOptions{}};  // closes its connections before `second` stops
  Endpoints endpoints{{backend_.url(), second.url()}, false};
  for (int i = 0; i < 4; ++i) {
    HttpResponse r =
        proxy.forward(makeRequest(), makeApi(), endpoints, "/echo", &failure_, &reason_);
    EXPECT_EQ(failure_, Failure::kNone) << reason_;
    EXPECT_EQ(r.status, 200);
  }
  EXPECT_EQ(backend_.connections(), 1u);
  EXPECT_EQ(second.connections(), 1u);
}

TEST_F(ProxyTest, BadEndpointUrlsAndMethodsFailWithoutThrowing) {
  for (const char* url : {"", "ftp://x", "http://", "http://host:0", "http://host:99999",
                          "http://u@host", "http://[::1", "127.0.0.1:80"}) {
    forward(makeRequest(), single(url), "/");
    EXPECT_EQ(failure_, Failure::kBackendUnreachable) << url;
    EXPECT_FALSE(reason_.empty()) << url;
  }
  forward(makeRequest(), Endpoints{}, "/");
  EXPECT_EQ(failure_, Failure::kBackendUnreachable);
  forward(makeRequest("TRACE"), single(backend_.url()), "/");
  EXPECT_EQ(failure_, Failure::kMethodNotAllowed);
  // Null out-parameters are tolerated.
  proxy_.forward(makeRequest(), makeApi(), single(backend_.url()), "/echo", nullptr, nullptr);
}

// A backend that answers anything with bytes that are not HTTP.
TEST_F(ProxyTest, MalformedAnswerIsUnreachable) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::thread garbage([listener] {
    int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) return;
    char buffer[4096];
    (void)::recv(fd, buffer, sizeof(buffer), 0);
    const char reply[] = "SMTP READY\r\nnot: http\r\n\r\n";
    (void)::send(fd, reply, sizeof(reply) - 1, MSG_NOSIGNAL);
    ::close(fd);
  });
  forward(makeRequest(), single("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port))), "/",
          makeApi(3));
  garbage.join();
  ::close(listener);
  EXPECT_EQ(failure_, Failure::kBackendUnreachable) << reason_;
  EXPECT_NE(reason_.find("malformed"), std::string::npos) << reason_;
}

TEST_F(ProxyTest, HttpsToAPlainBackendIsUnreachable) {
  forward(makeRequest(), single(backend_.url("", "https")), "/echo");
  EXPECT_EQ(failure_, Failure::kBackendUnreachable) << reason_;
}

TEST_F(ProxyTest, MissingTruststoreFailsClosed) {
  Proxy proxy{ProxyOptions{"/nonexistent/truststore", 5, 8}};
  Failure failure = Failure::kNone;
  std::string reason;
  proxy.forward(makeRequest(), makeApi(), single("https://127.0.0.1:1"), "/", &failure, &reason);
  EXPECT_EQ(failure, Failure::kBackendUnreachable);
  EXPECT_NE(reason.find("truststore"), std::string::npos) << reason;
}

// HTTPS backends are verified against the configured truststore: a folder of plain PEM files
// (no c_rehash links) or a bundle file.
class ProxyTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mgw-proxy-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "trusted");
    std::filesystem::create_directories(dir_ / "other");
    if (!makeCert(dir_ / "server") || !makeCert(dir_ / "stranger"))
      GTEST_SKIP() << "openssl CLI unavailable";
    std::filesystem::copy_file(dir_ / "server.crt", dir_ / "trusted" / "backend-ca.pem");
    std::filesystem::copy_file(dir_ / "stranger.crt", dir_ / "other" / "stranger.pem");
    auto server = std::make_unique<httplib::SSLServer>((dir_ / "server.crt").c_str(),
                                                       (dir_ / "server.key").c_str());
    ASSERT_TRUE(server->is_valid());
    backend_ = std::make_unique<TestBackend>(std::move(server));
  }
  void TearDown() override {
    backend_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  static bool makeCert(const std::filesystem::path& stem) {
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1"
        " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        stem.string() + ".key -out " + stem.string() + ".crt >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
  }
  Failure forwardWith(const std::string& trustStore, std::string* reason) {
    Proxy proxy{ProxyOptions{trustStore, 5, 8}};
    Failure failure = Failure::kInternalError;
    HttpResponse r = proxy.forward(makeRequest(), makeApi(), single(backend_->url("", "https")),
                                   "/echo", &failure, reason);
    if (failure == Failure::kNone) {
      EXPECT_EQ(r.status, 200);
    }
    return failure;
  }

  std::filesystem::path dir_;
  std::unique_ptr<TestBackend> backend_;
};

TEST_F(ProxyTlsTest, TrustedFolderVerifies) {
  std::string reason;
  EXPECT_EQ(forwardWith((dir_ / "trusted").string(), &reason), Failure::kNone) << reason;
}

TEST_F(ProxyTlsTest, TrustedBundleFileVerifies) {
  std::string reason;
  EXPECT_EQ(forwardWith((dir_ / "server.crt").string(), &reason), Failure::kNone) << reason;
}

TEST_F(ProxyTlsTest, UntrustedCertificateIsUnreachable) {
  std::string reason;
  EXPECT_EQ(forwardWith((dir_ / "other").string(), &reason), Failure::kBackendUnreachable);
  EXPECT_NE(reason.find("SSL"), std::string::npos) << reason;
  // The system store does not know a self-signed test certificate either.
  EXPECT_EQ(forwardWith("", &reason), Failure::kBackendUnreachable);
}

}  // namespace
}  // namespace mgw::gateway
