#include "token/legacy_provider.h"

#include <openssl/err.h>
#include <openssl/provider.h>

#include <mutex>

namespace mgw::token {

bool ensureLegacyProvider(std::string* error) {
  static std::once_flag once;
  static bool loaded = false;
  std::call_once(once, [] {
    // Loading any provider explicitly stops OpenSSL from loading "default" by itself, so it is
    // loaded first, explicitly; both stay loaded for the life of the process.
    OSSL_PROVIDER* base = OSSL_PROVIDER_load(nullptr, "default");
    OSSL_PROVIDER* legacy = base != nullptr ? OSSL_PROVIDER_load(nullptr, "legacy") : nullptr;
    loaded = legacy != nullptr;
    ERR_clear_error();
  });
  if (!loaded && error) {
    *error =
        "the file uses legacy PKCS#12 encryption (RC2-40/3DES, as Java and OpenSSL 1.x wrote it) "
        "and OpenSSL's legacy provider could not be loaded (legacy.so in OPENSSLDIR's "
        "ossl-modules, or OPENSSL_MODULES); install it, or convert the file: openssl pkcs12 "
        "-legacy -in old.p12 -nodes | openssl pkcs12 -export -out new.p12";
  }
  return loaded;
}

}  // namespace mgw::token
