// SHA-1 (FIPS 180-4), only to check WSO2's legacy unsalted SHA-1 password digests during migration.
// Internal to auth: auth links libsodium (which has no SHA-1), not OpenSSL. Never use it for anything new.
#pragma once

#include <string>
#include <string_view>

namespace mgw::auth::detail {

std::string sha1(std::string_view data);  // raw 20 bytes

}  // namespace mgw::auth::detail
