// Keep-alive connections to backends: one pool of idle HTTP clients per scheme://host:port. An
// httplib client is not safe for concurrent requests, so each is lent to one request at a time.
// HTTPS clients verify the backend's certificate and host name against the configured truststore.
#pragma once

#include <httplib.h>
#include <openssl/x509.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::gateway {

// A parsed endpoint URL: http(s)://host[:port][/base][?query]. No user info, no fragment.
struct UpstreamTarget {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  int port = 0;
  std::string basePath;    // as written in the URL (already percent-encoded), "" when absent
  std::string baseQuery;   // as written after '?', "" when absent
  std::string hostHeader;  // Host to send: host, [v6] host, plus ":port" when not the default
  std::string origin;      // "https://host:port", the pool key and what messages name
};

// nullopt (with *error set) when the URL is not an absolute http or https URL.
std::optional<UpstreamTarget> parseEndpointUrl(std::string_view url, std::string* error);

struct UpstreamPoolOptions {
  std::string trustStorePath;  // folder of PEM CA certificates or a PEM bundle; "" = system default
  int connectTimeoutSeconds = 5;
  size_t maxIdlePerOrigin = 64;
};

class UpstreamPool {
 public:
  explicit UpstreamPool(UpstreamPoolOptions options);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // An idle client for target, or a new one. Null only when a TLS client cannot be set up
  // (*error says why).
  std::unique_ptr<httplib::ClientImpl> acquire(const UpstreamTarget& target, std::string* error);
  // A new client, never an idle one (for a retry after a stale keep-alive connection).
  std::unique_ptr<httplib::ClientImpl> create(const UpstreamTarget& target, std::string* error);
  // Gives a healthy client back; dropped (and its connection closed) when the pool is full.
  void release(const UpstreamTarget& target, std::unique_ptr<httplib::ClientImpl> client);

  size_t idleCount(const std::string& origin) const;

 private:
  struct X509Free {
    void operator()(X509* cert) const { X509_free(cert); }
  };

  void loadTrustStore();

  UpstreamPoolOptions options_;
  bool trustStoreIsFolder_ = false;
  std::vector<std::unique_ptr<X509, X509Free>> folderCerts_;  // the folder's CAs, parsed once
  std::string trustStoreError_;                               // set when the truststore is unusable

  mutable std::mutex mutex_;
  std::map<std::string, std::vector<std::unique_ptr<httplib::ClientImpl>>> idle_;
};

}  // namespace mgw::gateway
