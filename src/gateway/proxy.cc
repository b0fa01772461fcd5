#include "gateway/proxy.h"

#include <httplib.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "gateway/hop_by_hop.h"
#include "gateway/upstream_pool.h"

namespace mgw::gateway {
namespace {

// cpp-httplib 0.11.4 percent-decodes response header values: a backend's legitimate
// "Location: /login?next=%0d%0aSet-Cookie:%20x" arrives holding a CRLF, which the server would
// write to the client verbatim (response splitting). Percent-encoding CR, LF and NUL again
// restores what the backend sent and keeps every relayed value on one line (RFC 9110 section 5.5).
std::string withoutLineBreaks(std::string value) {
  if (value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos) return value;
  std::string out;
  out.reserve(value.size() + 8);
  for (char c : value) {
    if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else if (c == '\0') {
      out += "%00";
    } else {
      out += c;
    }
  }
  return out;
}

constexpr std::array<std::string_view, 7> kForwardedMethods = {"GET",   "HEAD",   "POST",   "PUT",
                                                               "PATCH", "DELETE", "OPTIONS"};
// RFC 9110 section 9.2.2: these may be sent again when a reused connection turns out to be dead.
constexpr std::array<std::string_view, 5> kIdempotentMethods = {"GET", "HEAD", "PUT", "DELETE",
                                                                "OPTIONS"};

template <size_t N>
bool contains(const std::array<std::string_view, N>& table, std::string_view value) {
  return std::find(table.begin(), table.end(), value) != table.end();
}

// RFC 3986 section 3.3: a path keeps unreserved, sub-delims, ':', '@' and the '/' between segments.
bool isPathChar(unsigned char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

std::string encodePath(std::string_view decoded) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(decoded.size());
  for (unsigned char c : decoded) {
    if (isPathChar(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

std::string joinPath(const std::string& base, const std::string& tail) {
  if (tail.empty()) return base.empty() ? "/" : base;
  if (base.empty()) return tail.front() == '/' ? tail : "/" + tail;
  const bool baseSlash = base.back() == '/';
  const bool tailSlash = tail.front() == '/';
  if (baseSlash && tailSlash) return base + tail.substr(1);
  if (!baseSlash && !tailSlash) return base + "/" + tail;
  return base + tail;
}

std::string joinQuery(const std::string& base, const std::string& own) {
  if (base.empty()) return own;
  if (own.empty()) return base;
  return base + "&" + own;
}

enum class Outcome { kOk, kConnectFailed, kTimeout, kBroken };

struct Attempt {
  Outcome outcome = Outcome::kBroken;
  httplib::Response response;
  std::string reason;
};

bool isConnectError(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::BindIPAddress:
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
      return true;
    case httplib::Error::Success:
    case httplib::Error::Unknown:
    case httplib::Error::Read:
    case httplib::Error::Write:
    case httplib::Error::ExceedRedirectCount:
    case httplib::Error::Canceled:
    case httplib::Error::UnsupportedMultipartBoundaryChars:
    case httplib::Error::Compression:
      return false;
  }
  return false;
}

// The forwarded request minus what depends on the endpoint (path prefix, Host).
struct Outgoing {
  std::string method;
  std::string encodedPath;  // backendPath, percent-encoded
  std::string query;        // encoded, without '?'
  HeaderMap headers;
  const std::string* body = nullptr;  // the incoming body, relayed as it is
  bool idempotent = false;
};

Outgoing prepare(const HttpRequest& in, const ApiDefinition& api, std::string_view backendPath) {
  Outgoing out;
  out.method = in.method;
  out.idempotent = contains(kIdempotentMethods, in.method);
  out.encodedPath = encodePath(backendPath);
  out.body = &in.body;
  out.headers = in.headers;
  QueryParams query = in.query;
  // SPEC section 9 (WSO2 issue #2572): the key is the gateway's business, not the backend's.
  if (!api.propagateApiKey) {
    for (const KeySource& source : api.keySources) {
      if (source.in == KeyLocation::kHeader) {
        out.headers.erase(source.name);  // case-insensitive map
      } else {
        query.erase(std::remove_if(query.begin(), query.end(),
                                   [&](const auto& param) { return param.first == source.name; }),
                    query.end());
      }
    }
  }
  out.query = encodeQuery(query);

  std::string incomingHost;
  if (auto it = in.headers.find("Host"); it != in.headers.end()) incomingHost = it->second;
  removeHopByHopHeaders(out.headers);
  out.headers.erase("Host");  // the backend's own Host is set per endpoint
  // The inbound server already answered any 100-continue and holds the whole body; forwarded, the
  // expectation would make the backend send an interim 100 the upstream client cannot handle.
  out.headers.erase("Expect");

  // X-Forwarded-For: append the TCP peer to whatever chain arrived (trust is decided elsewhere).
  std::string chain;
  auto [begin, end] = out.headers.equal_range("X-Forwarded-For");
  for (auto it = begin; it != end; ++it) {
    if (it->second.empty()) continue;
    if (!chain.empty()) chain += ", ";
    chain += it->second;
  }
  out.headers.erase("X-Forwarded-For");
  if (!in.clientAddress.empty()) {
    if (!chain.empty()) chain += ", ";
    chain += in.clientAddress;
  }
  if (!chain.empty()) out.headers.emplace("X-Forwarded-For", chain);
  out.headers.erase("X-Forwarded-Proto");
  out.headers.emplace("X-Forwarded-Proto", in.tls ? "https" : "http");
  out.headers.erase("X-Forwarded-Host");
  if (!incomingHost.empty()) out.headers.emplace("X-Forwarded-Host", incomingHost);
  return out;
}

}  // namespace

struct Proxy::Impl {
  explicit Impl(ProxyOptions options)
      : options_(options),
        pool_(UpstreamPoolOptions{options.trustStorePath, options.connectTimeoutSeconds,
                                  options.maxIdleConnectionsPerHost}) {}

  struct ParsedUrl {
    std::optional<UpstreamTarget> target;
    std::string error;
  };

  // Endpoint URLs come from the configuration only, so this cache is bounded by it.
  std::shared_ptr<const ParsedUrl> parse(const std::string& url) {
    std::lock_guard<std::mutex> lock(urlMutex_);
    auto it = urls_.find(url);
    if (it != urls_.end()) return it->second;
    auto parsed = std::make_shared<ParsedUrl>();
    parsed->target = parseEndpointUrl(url, &parsed->error);
    urls_.emplace(url, parsed);
    return parsed;
  }

  Attempt send(const UpstreamTarget& target, const Outgoing& out, int timeoutSeconds) {
    const std::string path = joinPath(target.basePath, out.encodedPath);
    const std::string query = joinQuery(target.baseQuery, out.query);
    // Built afresh for each round (send() adds headers to the request it is given), straight from
    // out: no intermediate copy of the headers and body.
    auto makeRequest = [&] {
      httplib::Request request;
      request.method = out.method;
      request.path = query.empty() ? path : path + "?" + query;
      request.headers.insert(out.headers.begin(),
                             out.headers.end());  // both case-insensitive: sorted, appended
      request.headers.emplace("Host", target.hostHeader);
      request.body = *out.body;
      return request;
    };
    // Messages name the origin and path only: a propagated key may sit in the query.
    const std::string where = out.method + " " + target.origin + path;

    Attempt attempt;
    std::string error;
    std::unique_ptr<httplib::ClientImpl> client = pool_.acquire(target, &error);
    if (client == nullptr) {
      attempt.outcome = Outcome::kConnectFailed;
      attempt.reason = where + ": " + error;
      return attempt;
    }
    for (int round = 0; round < 2; ++round) {
      const bool reused = client->is_socket_open() != 0;
      client->set_read_timeout(timeoutSeconds, 0);
      client->set_write_timeout(timeoutSeconds, 0);
      httplib::Request copy = makeRequest();
      httplib::Response response;
      httplib::Error result = httplib::Error::Success;
      const auto start = std::chrono::steady_clock::now();
      bool ok = false;
      try {
        ok = client->send(copy, response, result);
      } catch (const std::exception& e) {
        attempt.outcome = Outcome::kBroken;
        attempt.reason = where + ": upstream client threw: " + e.what();
        return attempt;  // the client is dropped: its state is unknown
      } catch (...) {
        attempt.outcome = Outcome::kBroken;
        attempt.reason = where + ": upstream client threw";
        return attempt;
      }
      const auto elapsed = std::chrono::steady_clock::now() - start;
      if (ok && response.status >= 200 && response.status <= 599) {
        attempt.outcome = Outcome::kOk;
        attempt.response = std::move(response);
        pool_.release(target, std::move(client));
        return attempt;
      }
      if (ok) {
        attempt.outcome = Outcome::kBroken;
        attempt.reason =
            where + ": backend sent unusable status " + std::to_string(response.status);
        return attempt;
      }
      if (isConnectError(result)) {
        attempt.outcome = Outcome::kConnectFailed;
        attempt.reason = where + ": connect failed (" + httplib::to_string(result) + ")";
        if (result == httplib::Error::SSLServerVerification) {
          auto* ssl = static_cast<httplib::SSLClient*>(client.get());
          attempt.reason +=
              ": " + std::string(X509_verify_cert_error_string(ssl->get_openssl_verify_result()));
        }
        return attempt;
      }
      // httplib reports a read timeout and a malformed or cut answer alike (Error::Read); the time
      // spent tells them apart.
      const bool timedOut =
          (result == httplib::Error::Read || result == httplib::Error::Write) &&
          elapsed >= std::chrono::seconds(timeoutSeconds) - std::chrono::milliseconds(100);
      if (timedOut) {
        attempt.outcome = Outcome::kTimeout;
        attempt.reason = where + ": no answer within " + std::to_string(timeoutSeconds) + " s (" +
                         httplib::to_string(result) + ")";
        return attempt;
      }
      // A kept-alive connection the backend closed while idle fails at once: one retry on a new
      // connection, for idempotent methods only.
      if (round == 0 && reused && out.idempotent &&
          (result == httplib::Error::Read || result == httplib::Error::Write)) {
        client = pool_.create(target, &error);
        if (client == nullptr) {
          attempt.outcome = Outcome::kConnectFailed;
          attempt.reason = where + ": " + error;
          return attempt;
        }
        continue;
      }
      attempt.outcome = Outcome::kBroken;
      attempt.reason =
          where + ": malformed or truncated answer (" + httplib::to_string(result) + ")";
      return attempt;
    }
    attempt.outcome = Outcome::kBroken;
    attempt.reason = where + ": retry failed";
    return attempt;
  }

  ProxyOptions options_;
  UpstreamPool pool_;
  std::mutex urlMutex_;
  std::unordered_map<std::string, std::shared_ptr<const ParsedUrl>> urls_;
  std::atomic<size_t> nextUrl_{0};
};

Proxy::Proxy(ProxyOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Proxy::~Proxy() = default;

HttpResponse Proxy::forward(const HttpRequest& in, const ApiDefinition& api,
                            const Endpoints& endpoints, std::string_view backendPath,
                            Failure* failure, std::string* reason) {
  Failure ignoredFailure = Failure::kNone;
  std::string ignoredReason;
  if (failure == nullptr) failure = &ignoredFailure;
  if (reason == nullptr) reason = &ignoredReason;
  *failure = Failure::kNone;
  reason->clear();
  HttpResponse response;
  try {
    if (!contains(kForwardedMethods, in.method)) {
      *failure = Failure::kMethodNotAllowed;
      *reason = "method " + in.method.substr(0, 16) + " is not forwarded";
      return response;
    }
    if (endpoints.empty()) {
      *failure = Failure::kBackendUnreachable;
      *reason = "API " + api.name + ":" + api.version + " has no endpoint for this key type";
      return response;
    }
    const Outgoing out = prepare(in, api, backendPath);
    const int timeoutSeconds = api.timeoutSeconds > 0 ? api.timeoutSeconds : 30;

    // Failover walks the list in order; otherwise requests take the URLs in turn (load balance).
    const size_t count = endpoints.urls.size();
    const size_t first =
        endpoints.failover || count == 1 ? 0 : impl_->nextUrl_.fetch_add(1) % count;
    const size_t tries = endpoints.failover ? count : 1;
    std::string reasons;
    for (size_t i = 0; i < tries; ++i) {
      const std::string& url = endpoints.urls[(first + i) % count];
      auto parsed = impl_->parse(url);
      Attempt attempt;
      if (!parsed->target) {
        attempt.outcome = Outcome::kConnectFailed;
        attempt.reason = "endpoint " + std::to_string(i) + ": " + parsed->error;
      } else {
        attempt = impl_->send(*parsed->target, out, timeoutSeconds);
      }
      if (!attempt.reason.empty()) {
        if (!reasons.empty()) reasons += "; ";
        reasons += attempt.reason;
      }
      switch (attempt.outcome) {
        case Outcome::kOk:
          *failure = Failure::kNone;
          *reason = std::move(reasons);  // empty unless earlier endpoints failed over
          response.status = attempt.response.status;
          for (auto& [name, value] : attempt.response.headers)
            response.headers.emplace(name, withoutLineBreaks(std::move(value)));
          removeHopByHopHeaders(response.headers);
          response.body = std::move(attempt.response.body);
          return response;
        case Outcome::kConnectFailed:
          *failure = Failure::kBackendUnreachable;
          continue;  // the request never reached this backend: the next one may take it
        case Outcome::kTimeout:
          *failure = Failure::kBackendTimeout;
          break;
        case Outcome::kBroken:
          *failure = Failure::kBackendUnreachable;
          break;
      }
      break;  // the backend may have acted on the request: never sent twice
    }
    *reason = std::move(reasons);
  } catch (const std::exception& e) {
    *failure = Failure::kBackendUnreachable;
    *reason = std::string("proxy error: ") + e.what();
  } catch (...) {
    *failure = Failure::kBackendUnreachable;
    *reason = "proxy error";
  }
  return HttpResponse{};
}

size_t Proxy::idleConnections(std::string_view endpointUrl) {
  auto parsed = impl_->parse(std::string(endpointUrl));
  return parsed->target ? impl_->pool_.idleCount(parsed->target->origin) : 0;
}

}  // namespace mgw::gateway
