#include "gateway/upstream_pool.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>
#include <utility>

#include "common/log.h"

namespace mgw::gateway {
namespace {

std::string toLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool parsePort(std::string_view digits, int* port) {
  if (digits.empty() || digits.size() > 5) return false;
  int value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return false;
  *port = value;
  return true;
}

// Every certificate in one PEM file (a bundle may hold many). Non-PEM files yield none.
void readPemCertificates(const std::string& path, std::vector<X509*>* out) {
  BIO* bio = BIO_new_file(path.c_str(), "r");
  if (bio == nullptr) {
    ERR_clear_error();
    return;
  }
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) out->push_back(cert);
  ERR_clear_error();  // the loop ends on "no start line": expected, not an error to keep around
  BIO_free(bio);
}

}  // namespace

std::optional<UpstreamTarget> parseEndpointUrl(std::string_view url, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<UpstreamTarget> {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  const size_t schemeEnd = url.find("://");
  if (schemeEnd == std::string_view::npos) return fail("endpoint URL has no scheme");
  const std::string scheme = toLower(url.substr(0, schemeEnd));
  UpstreamTarget target;
  if (scheme == "https") {
    target.tls = true;
  } else if (scheme != "http") {
    return fail("endpoint URL scheme must be http or https");
  }
  std::string_view rest = url.substr(schemeEnd + 3);
  const size_t authorityEnd = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, authorityEnd);
  rest.remove_prefix(authorityEnd);
  if (authority.find('@') != std::string_view::npos)
    return fail("endpoint URL must not carry user info");

  std::string_view portText;
  bool ipv6 = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return fail("endpoint URL has an unterminated IPv6 literal");
    target.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("endpoint URL has junk after the IPv6 literal");
      portText = after.substr(1);
      if (portText.empty()) return fail("endpoint URL has an empty port");
    }
    ipv6 = true;
  } else {
    const size_t colon = authority.find(':');
    target.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      portText = authority.substr(colon + 1);
      if (portText.empty()) return fail("endpoint URL has an empty port");
    }
  }
  if (target.host.empty()) return fail("endpoint URL has no host");
  const int defaultPort = target.tls ? 443 : 80;
  target.port = defaultPort;
  if (!portText.empty() && !parsePort(portText, &target.port))
    return fail("endpoint URL has an invalid port");

  const size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  const size_t query = rest.find('?');
  target.basePath = std::string(rest.substr(0, query));
  if (query != std::string_view::npos) target.baseQuery = std::string(rest.substr(query + 1));

  const std::string hostPart = ipv6 ? "[" + target.host + "]" : target.host;
  target.hostHeader = hostPart;
  if (target.port != defaultPort) target.hostHeader += ":" + std::to_string(target.port);
  target.origin = scheme + "://" + hostPart + ":" + std::to_string(target.port);
  return target;
}

UpstreamPool::UpstreamPool(UpstreamPoolOptions options) : options_(std::move(options)) {
  loadTrustStore();
}

UpstreamPool::~UpstreamPool() = default;

void UpstreamPool::loadTrustStore() {
  const std::string& path = options_.trustStorePath;
  if (path.empty()) return;  // the system's default CA paths
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  std::vector<X509*> certs;
  if (!ec && std::filesystem::is_directory(status)) {
    trustStoreIsFolder_ = true;
    // OpenSSL's own folder lookup needs c_rehash'ed names; reading every file takes plain PEMs too.
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
      std::error_code fileEc;
      if (entry.is_regular_file(fileEc)) readPemCertificates(entry.path().string(), &certs);
    }
  } else if (!ec && std::filesystem::is_regular_file(status)) {
    readPemCertificates(path, &certs);  // only to fail early on a file with no certificates
  } else {
    trustStoreError_ = "truststore " + path + " is neither a folder nor a file";
  }
  if (trustStoreError_.empty() && certs.empty())
    trustStoreError_ = "truststore " + path + " holds no PEM certificate";
  for (X509* cert : certs) {
    if (trustStoreIsFolder_) {
      folderCerts_.emplace_back(cert);
    } else {
      X509_free(cert);
    }
  }
  if (!trustStoreError_.empty()) {
    // Fail closed: every HTTPS backend is then unreachable, and each 502 says why. A warning, not
    // an error: an empty truststore is the normal first start when no backend uses HTTPS.
    log::warn("upstream truststore unusable: HTTPS backends will be refused",
              {{"path", path}, {"reason", trustStoreError_}});
  }
}

std::unique_ptr<httplib::ClientImpl> UpstreamPool::create(const UpstreamTarget& target,
                                                          std::string* error) {
  std::unique_ptr<httplib::ClientImpl> client;
  if (target.tls) {
    if (!trustStoreError_.empty()) {
      if (error != nullptr) *error = trustStoreError_;
      return nullptr;
    }
    auto ssl = std::make_unique<httplib::SSLClient>(target.host, target.port);
    if (!ssl->is_valid()) {
      ERR_clear_error();
      if (error != nullptr) *error = "cannot create a TLS context for " + target.origin;
      return nullptr;
    }
    ssl->enable_server_certificate_verification(true);  // chain and host name
    if (trustStoreIsFolder_) {
      X509_STORE* store = X509_STORE_new();
      if (store == nullptr) {
        ERR_clear_error();
        if (error != nullptr) *error = "cannot allocate a certificate store";
        return nullptr;
      }
      for (const auto& cert : folderCerts_)
        X509_STORE_add_cert(store, cert.get());  // takes a reference
      ERR_clear_error();                         // a duplicate certificate is reported but harmless
      ssl->set_ca_cert_store(store);             // the client's SSL_CTX owns the store from here
      // A non-empty CA path keeps httplib from adding the system default CAs to this store.
      ssl->set_ca_cert_path("", options_.trustStorePath);
    } else if (!options_.trustStorePath.empty()) {
      ssl->set_ca_cert_path(options_.trustStorePath);
    }
    client = std::move(ssl);
  } else {
    client = std::make_unique<httplib::ClientImpl>(target.host, target.port);
  }
  client->set_keep_alive(true);
  client->set_tcp_nodelay(
      true);  // the library's compiled default is off: small requests would wait
  client->set_connection_timeout(options_.connectTimeoutSeconds, 0);
  client->set_follow_location(false);  // redirects are the client's business, relayed as they are
  client->set_url_encode(false);       // the proxy encodes the path itself, exactly once
  client->set_decompress(false);       // relay bytes as sent, with their Content-Encoding
  return client;
}

std::unique_ptr<httplib::ClientImpl> UpstreamPool::acquire(const UpstreamTarget& target,
                                                           std::string* error) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = idle_.find(target.origin);
    if (it != idle_.end() && !it->second.empty()) {
      auto client = std::move(it->second.back());
      it->second.pop_back();
      return client;
    }
  }
  return create(target, error);
}

void UpstreamPool::release(const UpstreamTarget& target,
                           std::unique_ptr<httplib::ClientImpl> client) {
  if (client == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& clients = idle_[target.origin];
    if (clients.size() < options_.maxIdlePerOrigin) {
      clients.push_back(std::move(client));
      return;
    }
  }
  // Pool full: the client (and its connection) is closed here, outside the lock.
}

size_t UpstreamPool::idleCount(const std::string& origin) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = idle_.find(origin);
  return it == idle_.end() ? 0 : it->second.size();
}

}  // namespace mgw::gateway
