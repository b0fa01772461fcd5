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

// The regular files of a folder, or the file itself.
std::vector<std::string> filesOf(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  if (path.empty()) return out;
  if (std::filesystem::is_directory(path, ec)) {
    // OpenSSL's own folder lookup needs c_rehash'ed names; reading every file takes plain PEMs.
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
      std::error_code fileEc;
      if (entry.is_regular_file(fileEc)) out.push_back(entry.path().string());
    }
  } else if (std::filesystem::is_regular_file(path, ec)) {
    out.push_back(path);
  }
  return out;
}

int addTrust(const TrustSource& trust, X509_STORE* store) {
  int count = 0;
  for (const std::string& file : filesOf(trust.path)) readPemCertificates(file, store, &count);
  if (!trust.pem.empty()) {
    BIO* bio = BIO_new_mem_buf(trust.pem.data(), static_cast<int>(trust.pem.size()));
    while (X509* cert = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr) {
      if (X509_STORE_add_cert(store, cert) == 1) ++count;
      X509_free(cert);
    }
    BIO_free(bio);
    ERR_clear_error();
  }
  return count;
}

std::string nameText(const X509_NAME* name) {
  if (name == nullptr) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(size > 0 ? size : 0));
  BIO_free(bio);
  return out;
}

// The SSL ex_data slot holding the certificate a verification failed on ("subject\nissuer",
// OPENSSL_strdup'ed, freed with the SSL).
void freeRecorded(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { OPENSSL_free(ptr); }
int refusedIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, freeRecorded);
  return index;
}

// Verification as OpenSSL does it, recording the first certificate it refuses.
int recordRefusal(int ok, X509_STORE_CTX* store) {
  if (ok == 1) return 1;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl != nullptr && SSL_get_ex_data(ssl, refusedIndex()) == nullptr) {
    X509* cert = X509_STORE_CTX_get_current_cert(store);
    const std::string text =
        cert ? nameText(X509_get_subject_name(cert)) + "\n" + nameText(X509_get_issuer_name(cert))
             : std::string("\n");
    SSL_set_ex_data(ssl, refusedIndex(), OPENSSL_strdup(text.c_str()));
  }
  return 0;
}

bool readCrls(const std::string& path, X509_STORE* store, std::string* error) {
  int count = 0;
  for (const std::string& file : filesOf(path)) {
    BIO* bio = BIO_new_file(file.c_str(), "r");
    if (bio == nullptr) continue;
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr)) {
      if (X509_STORE_add_crl(store, crl) == 1) ++count;
      X509_CRL_free(crl);
    }
    BIO_free(bio);
  }
  ERR_clear_error();
  if (count == 0) {
    *error = "crlPath " + path + " holds no PEM certificate revocation list (BEGIN X509 CRL)";
    return false;
  }
  return true;
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
                            bool http2, const ClientVerification& clients, std::string* error) {
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
  if (clients.mode == ClientCertificates::kOff) return true;
  // Client certificates: only the truststore's certificates are trusted (not the system CAs), and
  // the CA names are sent in the CertificateRequest so a client picks the right certificate.
  X509_STORE* store = X509_STORE_new();
  const int count = addTrust(clients.trust, store);
  if (count == 0) {
    X509_STORE_free(store);
    *error = "[mutualSSLConfig] needs trusted client CAs: the truststore holds no certificate";
    return false;
  }
  if (!clients.crlPath.empty()) {
    if (!readCrls(clients.crlPath, store, error)) {
      X509_STORE_free(store);
      return false;
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  }
  SSL_CTX_set_cert_store(c, store);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
  for (int i = 0; names && i < sk_X509_OBJECT_num(objects); ++i) {
    X509* ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
    if (ca) sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca)));
  }
  SSL_CTX_set_client_CA_list(c, names);
  const int mode = clients.mode == ClientCertificates::kRequire
                       ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                       : SSL_VERIFY_PEER;
  SSL_CTX_set_verify(c, mode, recordRefusal);
  // Resumed sessions keep the verified certificate; OpenSSL refuses to resume without this.
  static const unsigned char kSessionContext[] = "micro-gw";
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);
  ERR_clear_error();
  return true;
}

PeerCertificate verifiedPeerCertificate(SSL* ssl) {
  PeerCertificate out;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return out;
  out.subject = nameText(X509_get_subject_name(cert));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) == 1) {
    static const char kHex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len; ++i) {
      out.sha256 += kHex[md[i] >> 4];
      out.sha256 += kHex[md[i] & 15];
    }
  }
  return out;
}

RefusedCertificate refusedCertificate(SSL* ssl) {
  RefusedCertificate out;
  const auto* recorded = static_cast<const char*>(SSL_get_ex_data(ssl, refusedIndex()));
  const long result = SSL_get_verify_result(ssl);
  if (result != X509_V_OK) out.reason = X509_verify_cert_error_string(result);
  if (recorded == nullptr) return out;
  const std::string_view text(recorded);
  const std::size_t nl = text.find('\n');
  out.subject = std::string(text.substr(0, nl));
  if (nl != std::string_view::npos) out.issuer = std::string(text.substr(nl + 1));
  return out;
}

void configureClientContext(boost::asio::ssl::context& ctx, const TrustSource& trust,
                            std::string* note) {
  SSL_CTX* c = ctx.native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cipher_list(c, kTls12Ciphers);
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, recordRefusal);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_default_verify_paths(c);  // the system CA bundle
  ERR_clear_error();
  const int count = addTrust(trust, SSL_CTX_get_cert_store(c));
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
  if (result != X509_V_OK) {
    const RefusedCertificate refused = refusedCertificate(ssl);
    std::string out =
        std::string("certificate verification failed: ") + X509_verify_cert_error_string(result);
    if (!refused.subject.empty() || !refused.issuer.empty())
      out += " (subject " + refused.subject + ", issuer " + refused.issuer + ")";
    return out;
  }
  return fallback;
}

}  // namespace mgw::http
