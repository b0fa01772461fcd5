// The TLS server's key and certificate, from a PEM or PKCS#12 keystore of any key type.
#pragma once

#include <memory>
#include <string>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

namespace mgw::server {

struct TlsKeystore {
  EVP_PKEY* privateKey = nullptr;
  X509* certificate = nullptr;
  ~TlsKeystore();
};

// nullptr with error set: missing file, wrong password, no certificate, expired certificate.
std::unique_ptr<TlsKeystore> loadTlsKeystore(const std::string& path, const std::string& password, std::string* error);

// Creates a development keystore at defaultPath on first start; any other missing path is an error.
bool ensureTlsKeystore(const std::string& path, const std::string& defaultPath, const std::string& password,
                       std::string* error, std::vector<std::string>* warnings);

}  // namespace mgw::server
