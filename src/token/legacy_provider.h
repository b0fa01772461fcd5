// OpenSSL 3's "legacy" provider, loaded on demand for PKCS#12 files written by Java and OpenSSL 1.x
// (certificates under RC2-40, WSO2 API Microgateway 3.x's ballerinaKeystore.p12 and
// ballerinaTruststore.p12). Only ever loaded when such a file is read, never for anything else.
#pragma once

#include <string>

namespace mgw::token {

// Loads the legacy provider next to the default one in the default library context, once per
// process; true when it is available. When it is not (legacy.so missing, a FIPS-only build),
// false with *error saying so and how to fix it. Thread-safe.
[[nodiscard]] bool ensureLegacyProvider(std::string* error);

}  // namespace mgw::token
