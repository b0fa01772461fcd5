// mgw-sample-backend: the PizzaShack and Petstore backends the samples and integration tests call,
// plus test helpers (/echo, /slow, /status). Serves production and sandbox on two ports.
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;

// The PizzaShack menu exactly as the seed's documentation shows the backend answering.
constexpr const char kMenu[] =
    R"JSON([{"name":"BBQ Chicken Bacon","description":"Grilled white chicken, hickory-smoked bacon and fresh sliced onions in barbeque sauce","price":"24.99","icon":"/images/6.png"},{"name":"Chicken Parmesan","description":"Grilled chicken, fresh tomatoes, feta and mozzarella cheese","price":"11.99","icon":"/images/1.png"},{"name":"Chilly Chicken Cordon Bleu","description":"Spinash Alfredo sauce topped with grilled chicken, ham, onions and mozzarella","price":"23.99","icon":"/images/10.png"},{"name":"Double Bacon 6Cheese","description":"Hickory-smoked bacon, Julienne cut Canadian bacon, Parmesan, mozzarella, Romano, Asiago and and Fontina cheese","price":"20.99","icon":"/images/9.png"},{"name":"Garden Fresh","description":"Slices onions and green peppers, gourmet mushrooms, black olives and ripe Roma tomatoes","price":"11.99","icon":"/images/3.png"},{"name":"Grilled Chicken Club","description":"Grilled white chicken, hickory-smoked bacon and fresh sliced onions topped with Roma tomatoes","price":"14.99","icon":"/images/8.png"},{"name":"Hawaiian BBQ Chicken","description":"Grilled white chicken, hickory-smoked bacon, barbeque sauce topped with sweet pine-apple","price":"12.99","icon":"/images/7.png"},{"name":"Spicy Italian","description":"Pepperoni and a double portion of spicy Italian sausage","price":"23.99","icon":"/images/2.png"},{"name":"Spinach Alfredo","description":"Rich and creamy blend of spinach and garlic Parmesan with Alfredo sauce","price":"25.99","icon":"/images/5.png"},{"name":"Tuscan Six Cheese","description":"Six cheese blend of mozzarella, Parmesan, Romano, Asiago and Fontina","price":"24.99","icon":"/images/4.png"}])JSON";

struct Options {
  std::string host = "127.0.0.1";
  int port = 9080;
  int sandboxPort = -1;  // -1: no sandbox server
  std::string readyFile;
  int threads = 16;
};

void usage(std::ostream& out) {
  out << "usage: mgw-sample-backend [--host 127.0.0.1] [--port N] [--sandbox-port M] [--ready-file "
         "PATH]"
         " [--threads 16]\n  port 0 picks a free port; the ready file gets "
         "{\"port\":N,\"sandboxPort\":M}\n";
}

bool parseInt(const char* text, int low, int high, int* out) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < low || value > high) return false;
  *out = static_cast<int>(value);
  return true;
}

// In-memory orders, so a created order can be read, replaced and deleted.
class OrderBook {
 public:
  std::string nextId() { return std::to_string(next_.fetch_add(1)); }
  void put(const std::string& id, json order) {
    std::lock_guard<std::mutex> lock(mutex_);
    orders_[id] = std::move(order);
  }
  bool get(const std::string& id, json* order) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = orders_.find(id);
    if (it == orders_.end()) return false;
    *order = it->second;
    return true;
  }
  bool erase(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    return orders_.erase(id) > 0;
  }

 private:
  std::atomic<long> next_{1001};
  std::mutex mutex_;
  std::map<std::string, json> orders_;
};

const json& pets() {
  static const json kPets = json::parse(R"JSON([
    {"id": 1, "category": {"id": 1, "name": "Dogs"}, "name": "doggie", "photoUrls": ["https://example.com/dog.png"], "tags": [{"id": 1, "name": "friendly"}], "status": "available"},
    {"id": 2, "category": {"id": 2, "name": "Cats"}, "name": "kitty", "photoUrls": ["https://example.com/cat.png"], "tags": [{"id": 2, "name": "calm"}], "status": "available"},
    {"id": 3, "category": {"id": 3, "name": "Birds"}, "name": "tweety", "photoUrls": [], "tags": [], "status": "pending"},
    {"id": 4, "category": {"id": 1, "name": "Dogs"}, "name": "rex", "photoUrls": [], "tags": [], "status": "sold"}
  ])JSON");
  return kPets;
}

// Object bodies name their environment on the sandbox port, so tests see where a request went.
void sendJson(httplib::Response& res, json body, bool sandbox, int status = 200) {
  if (sandbox && body.is_object()) body["environment"] = "sandbox";
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

json parseBodyObject(const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_object()) return parsed;
  return json{{"body", body}};  // not a JSON object: kept as text, still echoed
}

bool allDigits(const std::string& text) {
  return !text.empty() && text.size() <= 18 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

void addPizzaShack(httplib::Server& server, bool sandbox, OrderBook& orders) {
  server.Get("/pizzashack/1.0.0/menu", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kMenu, "application/json");
  });
  server.Post("/pizzashack/1.0.0/order",
              [sandbox, &orders](const httplib::Request& req, httplib::Response& res) {
                json order = parseBodyObject(req.body);
                order["orderId"] = orders.nextId();
                orders.put(order["orderId"], order);
                sendJson(res, order, sandbox, 201);
              });
  const std::string orderPath = R"(/pizzashack/1\.0\.0/order/([^/]+))";
  server.Get(orderPath, [sandbox, &orders](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    json order;
    if (!orders.get(id, &order)) {
      // An order this process never took: a plausible one, so calls work without a prior POST.
      order = {{"orderId", id},
               {"pizzaType", "Chicken Parmesan"},
               {"quantity", 1},
               {"customerName", "John Doe"},
               {"creditCardNumber", "xxxx-xxxx-xxxx-1234"},
               {"address", "12 Main Street"},
               {"delivered", false}};
    }
    sendJson(res, order, sandbox);
  });
  server.Put(orderPath, [sandbox, &orders](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    json order = parseBodyObject(req.body);
    order["orderId"] = id;
    orders.put(id, order);
    sendJson(res, order, sandbox);
  });
  server.Delete(orderPath, [sandbox, &orders](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    const bool existed = orders.erase(id);
    sendJson(res, {{"orderId", id}, {"deleted", true}, {"existed", existed}}, sandbox);
  });
}

void addPetstore(httplib::Server& server, bool sandbox) {
  server.Get("/petstore/v1/pet/findByStatus",
             [sandbox](const httplib::Request& req, httplib::Response& res) {
               const std::string status =
                   req.has_param("status") ? req.get_param_value("status") : "available";
               if (status != "available" && status != "pending" && status != "sold") {
                 sendJson(res, {{"code", 400}, {"message", "Invalid status value"}}, sandbox, 400);
                 return;
               }
               json found = json::array();
               for (const auto& pet : pets()) {
                 if (pet["status"] == status) found.push_back(pet);
               }
               sendJson(res, found, sandbox);
             });
  server.Get(R"(/petstore/v1/pet/([^/]+))",
             [sandbox](const httplib::Request& req, httplib::Response& res) {
               const std::string id = req.matches[1];
               if (!allDigits(id)) {
                 sendJson(res, {{"code", 400}, {"message", "Invalid ID supplied"}}, sandbox, 400);
                 return;
               }
               const long long number = std::stoll(id);
               for (const auto& pet : pets()) {
                 if (pet["id"] == number) {
                   sendJson(res, pet, sandbox);
                   return;
                 }
               }
               sendJson(res, {{"code", 404}, {"message", "Pet not found"}}, sandbox, 404);
             });
  server.Post("/petstore/v1/pet", [sandbox](const httplib::Request& req, httplib::Response& res) {
    json pet = json::parse(req.body, nullptr, false);
    if (!pet.is_object()) {
      sendJson(res, {{"code", 405}, {"message", "Invalid input"}}, sandbox, 405);
      return;
    }
    if (!pet.contains("id")) pet["id"] = 100;
    if (!pet.contains("status")) pet["status"] = "available";
    sendJson(res, pet, sandbox);
  });
  server.Get("/petstore/v1/store/inventory",
             [sandbox](const httplib::Request&, httplib::Response& res) {
               sendJson(res, {{"available", 2}, {"pending", 1}, {"sold", 1}}, sandbox);
             });
}

void addTestHelpers(httplib::Server& server, bool sandbox) {
  // What arrived, so integration tests can check what the gateway forwarded (and stripped).
  auto echo = [sandbox](const httplib::Request& req, httplib::Response& res) {
    json headers = json::object();
    for (const auto& [name, value] : req.headers) {
      std::string key = name;
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      // httplib's server adds the peer and local address as pseudo headers: not sent by anyone.
      if (key == "remote_addr" || key == "remote_port" || key == "local_addr" ||
          key == "local_port")
        continue;
      headers[key] = headers.contains(key) ? headers[key].get<std::string>() + ", " + value : value;
    }
    json params = json::object();
    for (const auto& [name, value] : req.params) {
      if (!params.contains(name)) {
        params[name] = value;
      } else {
        if (!params[name].is_array()) params[name] = json::array({params[name]});
        params[name].push_back(value);
      }
    }
    const size_t mark = req.target.find('?');
    json body = {{"method", req.method},
                 {"path", req.path},
                 {"query", mark == std::string::npos ? "" : req.target.substr(mark + 1)},
                 {"params", params},
                 {"headers", headers},
                 {"body", req.body},
                 {"remotePort", req.remote_port},
                 {"environment", sandbox ? "sandbox" : "production"}};
    res.set_content(body.dump(), "application/json");
  };
  const std::string echoPath = R"(/echo(/.*)?)";
  server.Get(echoPath, echo);
  server.Post(echoPath, echo);
  server.Put(echoPath, echo);
  server.Patch(echoPath, echo);
  server.Delete(echoPath, echo);
  server.Options(echoPath, echo);

  // Large bodies, streamed both ways with bounded memory (the HTTP/2 tests move 256 MiB to
  // 1 GiB through the gateway): GET /bytes?n=N sends N bytes ('x'); POST /count counts the bytes
  // of the request body.
  server.Get("/bytes", [sandbox](const httplib::Request& req, httplib::Response& res) {
    const std::string n = req.get_param_value("n");
    char* end = nullptr;
    const unsigned long long total = std::strtoull(n.c_str(), &end, 10);
    if (n.empty() || *end != '\0' || total > (1ull << 40)) {
      sendJson(res, {{"error", "n must be a number of bytes"}}, sandbox, 400);
      return;
    }
    res.set_content_provider(static_cast<size_t>(total), "application/octet-stream",
                             [](size_t offset, size_t length, httplib::DataSink& sink) {
                               static const std::string block(65536, 'x');
                               (void)offset;
                               return sink.write(block.data(), std::min(length, block.size()));
                             });
  });
  server.Post("/count", [sandbox](const httplib::Request&, httplib::Response& res,
                                  const httplib::ContentReader& reader) {
    unsigned long long total = 0;
    reader([&total](const char*, size_t length) {
      total += length;
      return true;
    });
    sendJson(res, {{"bytes", total}}, sandbox);
  });
  server.Get("/slow", [sandbox](const httplib::Request& req, httplib::Response& res) {
    int ms = 0;
    if (!parseInt(req.get_param_value("ms").c_str(), 0, 60000, &ms)) {
      sendJson(res, {{"error", "ms must be 0..60000"}}, sandbox, 400);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    sendJson(res, {{"sleptMs", ms}}, sandbox);
  });
  server.Get(R"(/status/(\d+))", [sandbox](const httplib::Request& req, httplib::Response& res) {
    int code = 0;
    if (!parseInt(req.matches[1].str().c_str(), 200, 599, &code)) {
      sendJson(res, {{"error", "status must be 200..599"}}, sandbox, 400);
      return;
    }
    if (code == 204 || code == 304) {
      res.status = code;  // no body allowed (RFC 9110 sections 15.3.5, 15.4.5)
      return;
    }
    sendJson(res, {{"status", code}}, sandbox, code);
  });
}

std::unique_ptr<httplib::Server> makeServer(bool sandbox, int threads, OrderBook& orders) {
  auto server = std::make_unique<httplib::Server>();
  // The packaged library is compiled with 5 requests per connection, no TCP_NODELAY and a
  // small pool: set what a benchmark backend needs at run time.
  server->set_keep_alive_max_count(10000);
  server->set_tcp_nodelay(true);
  server->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  if (sandbox) server->set_default_headers({{"X-Environment", "sandbox"}});
  addPizzaShack(*server, sandbox, orders);
  addPetstore(*server, sandbox);
  addTestHelpers(*server, sandbox);
  return server;
}

int bindServer(httplib::Server& server, const std::string& host, int port) {
  if (port == 0) return server.bind_to_any_port(host);
  return server.bind_to_port(host, port) ? port : -1;
}

bool writeReadyFile(const std::string& path, int port, int sandboxPort) {
  json ready = {{"port", port}};
  if (sandboxPort > 0) ready["sandboxPort"] = sandboxPort;
  // Written aside and renamed, so a reader never sees half a file.
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << ready.dump() << "\n";
    if (!out) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage(std::cout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "mgw-sample-backend: " << flag << " needs a value\n";
      usage(std::cerr);
      return 2;
    }
    const char* value = argv[++i];
    bool ok = true;
    if (flag == "--port") {
      ok = parseInt(value, 0, 65535, &options.port);
    } else if (flag == "--sandbox-port") {
      ok = parseInt(value, 0, 65535, &options.sandboxPort);
    } else if (flag == "--host") {
      options.host = value;
    } else if (flag == "--ready-file") {
      options.readyFile = value;
    } else if (flag == "--threads") {
      ok = parseInt(value, 1, 1024, &options.threads);
    } else {
      std::cerr << "mgw-sample-backend: unknown flag " << flag << "\n";
      usage(std::cerr);
      return 2;
    }
    if (!ok) {
      std::cerr << "mgw-sample-backend: bad value for " << flag << ": " << value << "\n";
      return 2;
    }
  }

  // Block the stop signals in every thread; main waits for them with sigwait and stops cleanly.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  OrderBook orders;
  std::vector<std::unique_ptr<httplib::Server>> servers;
  std::vector<int> ports;
  servers.push_back(makeServer(false, options.threads, orders));
  if (options.sandboxPort >= 0) servers.push_back(makeServer(true, options.threads, orders));
  const int requested[] = {options.port, options.sandboxPort};
  for (size_t i = 0; i < servers.size(); ++i) {
    const int port = bindServer(*servers[i], options.host, requested[i]);
    if (port <= 0) {
      std::cerr << "mgw-sample-backend: cannot listen on " << options.host << ":" << requested[i]
                << "\n";
      return 1;
    }
    ports.push_back(port);
  }
  std::vector<std::thread> threads;
  for (auto& server : servers) threads.emplace_back([&server] { server->listen_after_bind(); });
  for (auto& server : servers) {
    while (!server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int sandboxPort = ports.size() > 1 ? ports[1] : -1;
  if (!options.readyFile.empty() && !writeReadyFile(options.readyFile, ports[0], sandboxPort)) {
    std::cerr << "mgw-sample-backend: cannot write " << options.readyFile << "\n";
    for (auto& server : servers) server->stop();
    for (auto& thread : threads) thread.join();
    return 1;
  }
  std::cerr << "mgw-sample-backend: production on " << options.host << ":" << ports[0];
  if (sandboxPort > 0) std::cerr << ", sandbox on " << options.host << ":" << sandboxPort;
  std::cerr << std::endl;

  int received = 0;
  sigwait(&stopSignals, &received);
  for (auto& server : servers) server->stop();
  for (auto& thread : threads) thread.join();
  return 0;
}
