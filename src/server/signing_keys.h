// The STS's signing key set on disk (issue 25 item 1): loaded at start and on SIGHUP, created and
// listed by `micro-gw keystore rotate` and `micro-gw keystore list`. The format is in
// token/signing_key_set.h and the README ("Rotating keys").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "token/signing_key_set.h"

namespace mgw::server {

// The configured keystore's key (kid = certificateAlias, may be null when it did not load) and the
// keys <keySetPath>/keyset.json lists, each loaded with keyStorePassword and checked against its
// kid (the RFC 7638 thumbprint). Every problem goes to errors (the entry stays, without its key); a
// retired key that would verify forever (validityTime <= 0 and no verifyUntil) to warnings.
std::shared_ptr<const token::SigningKeySet> loadSigningKeySet(
    const config::Config& config, std::shared_ptr<const token::SigningKey> configured,
    std::int64_t now, std::vector<std::string>* errors, std::vector<std::string>* warnings);

// micro-gw keystore rotate [--config PATH] [--lead-time SECONDS] [--alg ALG] [--verify-until DATE]
int keystoreRotate(const std::vector<std::string>& args);
// micro-gw keystore list [--config PATH]
int keystoreList(const std::vector<std::string>& args);

}  // namespace mgw::server
