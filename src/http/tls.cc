#include "http/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#include <filesystem>
#include <string_view>
#include <system_error>
#include <vector>

namespace mgw::http {
namespace {

// Mozilla "intermediate": ECDHE key exchange, AEAD ciphers only (TLS 1.2); TLS 1.3 suites are
// all AEAD and stay at OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void* arg) {
  const bool http2 = arg != nullptr;
  const std::string_view chosen =
      chooseAlpn(std::string_view(reinterpret_cast<const char*>(in), inlen), http2);
  if (chosen.empty())
    return SSL_TLSEXT_ERR_NOACK;  // no ALPN in the answer: the client falls back to HTTP/1.1
  *out = reinterpret_cast<const unsigned char*>(chosen.data());
  *outlen = static_cast<unsigned char>(chosen.size());
  return SSL_TLSEXT_ERR_OK;
}

void readPemCertificates(const std::string& path, X509_STORE* store, int* count) {
  BIO* bio = BIO_new_file(path.c_str(), "r");
  if (bio == nullptr) {
    ERR_clear_error();
    return;
  }
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++*count;
    X509_free(cert);
  }
  ERR_clear_error();  // the loop ends on "no start line"; a duplicate is reported but harmless
  BIO_free(bio);
}

}  // namespace

std::string_view chooseAlpn(std::string_view offered, bool http2) {
  // The server's preference decides (RFC 7301 section 3.2): h2 wherever the client lists it.
  std::string_view http11;
  for (std::size_t i = 0; i < offered.size();) {
    const std::size_t len = static_cast<unsigned char>(offered[i]);
    if (len == 0 || i + 1 + len > offered.size()) break;
    const std::string_view name = offered.substr(i + 1, len);
    if (http2 && name == "h2") return name;
    if (name == "http/1.1") http11 = name;
    i += 1 + len;
  }
  return http11;
}

bool configureServerContext(boost::asio::ssl::context& ctx, EVP_PKEY* key, X509* certificate,
                            bool http2, std::string* error) {
  SSL_CTX* c = ctx.native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(
      c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1 ||
      SSL_CTX_use_certificate(c, certificate) != 1 || SSL_CTX_use_PrivateKey(c, key) != 1 ||
      SSL_CTX_check_private_key(c) != 1) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    ERR_clear_error();
    *error = std::string("the TLS key and certificate do not make a TLS context: ") + buf;
    return false;
  }
  // A non-null argument: h2 is offered (a pointer to anything static).
  static const char kHttp2 = 1;
  SSL_CTX_set_alpn_select_cb(c, selectAlpn, http2 ? const_cast<char*>(&kHttp2) : nullptr);
  // OpenSSL's 34 KiB record buffers are freed while a connection is idle.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
  return true;
}

void configureClientContext(boost::asio::ssl::context& ctx, const std::string& trustStorePath,
                            std::string* note) {
  SSL_CTX* c = ctx.native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cipher_list(c, kTls12Ciphers);
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_default_verify_paths(c);  // the system CA bundle
  ERR_clear_error();
  int count = 0;
  X509_STORE* store = SSL_CTX_get_cert_store(c);
  std::error_code ec;
  if (!trustStorePath.empty() && std::filesystem::is_directory(trustStorePath, ec)) {
    // OpenSSL's own folder lookup needs c_rehash'ed names; reading every file takes plain PEMs.
    for (const auto& entry : std::filesystem::directory_iterator(trustStorePath, ec)) {
      std::error_code fileEc;
      if (entry.is_regular_file(fileEc)) readPemCertificates(entry.path().string(), store, &count);
    }
  } else if (!trustStorePath.empty() && std::filesystem::is_regular_file(trustStorePath, ec)) {
    readPemCertificates(trustStorePath, store, &count);
  }
  *note = std::to_string(count) + " truststore certificate(s) besides the system CAs";
}

bool prepareClientSsl(SSL* ssl, const mgw::UpstreamTarget& target) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  // RFC 6125 section 6.4.4: the CN is never consulted (a certificate with a SAN, or without).
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  in6_addr v6;
  in_addr v4;
  const bool isIp = inet_pton(AF_INET, target.host.c_str(), &v4) == 1 ||
                    inet_pton(AF_INET6, target.host.c_str(), &v6) == 1;
  bool ok;
  if (isIp) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, target.host.c_str()) == 1;  // only an IP SAN
  } else {
    ok = SSL_set_tlsext_host_name(ssl, target.host.c_str()) == 1 &&
         SSL_set1_host(ssl, target.host.c_str()) == 1;
  }
  ERR_clear_error();
  return ok;
}

std::string handshakeFailure(SSL* ssl, const std::string& fallback) {
  const long result = SSL_get_verify_result(ssl);
  ERR_clear_error();
  if (result != X509_V_OK)
    return std::string("certificate verification failed: ") + X509_verify_cert_error_string(result);
  return fallback;
}

}  // namespace mgw::http
