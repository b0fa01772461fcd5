// Internal to token/: RAII owners for every OpenSSL object token/ touches, and the one way a
// failure path reads and clears the OpenSSL error queue (a stale entry must never leak into the
// next call).
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace mgw::token::detail {

struct OpenSslDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_NAME* p) const { X509_NAME_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(PKCS12* p) const { PKCS12_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ASN1_INTEGER* p) const { ASN1_INTEGER_free(p); }
  void operator()(unsigned char* p) const { OPENSSL_free(p); }  // buffers from i2d_*
};

template <typename T>
using Owned = std::unique_ptr<T, OpenSslDeleter>;

// The most recent OpenSSL reason (e.g. "bad decrypt"), for error messages; always empties the
// queue.
inline std::string takeOpenSslError() {
  unsigned long code = ERR_peek_last_error();
  std::string text;
  if (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    text = reason ? reason : "error code " + std::to_string(ERR_GET_REASON(code));
  }
  ERR_clear_error();
  return text;
}

// A read-only memory BIO over text that outlives it.
inline Owned<BIO> memoryBio(std::string_view text) {
  return Owned<BIO>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

}  // namespace mgw::token::detail
