// Fuzzes the TOML configuration loader (config/config_loader.h) and what is built from a loaded
// configuration (the runtime state's parts that need no keystore): the user store, the inline
// [[apis.api]] (apis::buildApis), every endpoint URL and the trusted proxies. A configuration
// that loads must build: a throw or a refusal there aborts (issue 10 item 3: an argon2id string
// the loader passed made UserStore throw on SIGHUP). Definition files named by the input are not
// read: that would fuzz the file system, not the parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "apis/openapi_loader.h"
#include "auth/user_store.h"
#include "common/endpoint_url.h"
#include "common/ip_matcher.h"
#include "config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = mgw::config::loadConfigFromString(text, "fuzz/conf/micro-gw.conf",
                                                  "/nonexistent/mgw-fuzz-home");
  if (result.ok() != result.errors.empty()) std::abort();
  for (const auto& e : result.errors) {
    if (e.toString().empty()) std::abort();
  }
  if (result.config) {
    result.config->apis.definitions.clear();
    std::vector<mgw::apis::ApiLoadError> errors;
    auto apis = mgw::apis::buildApis(*result.config, &errors);
    for (const auto& api : apis) {
      if (api.context.empty() || api.context.front() != '/') std::abort();
      for (const auto* endpoints : {&api.production, &api.sandbox})
        for (const auto& url : endpoints->urls)
          if (!mgw::parseEndpointUrl(url, nullptr)) std::abort();
    }
    for (const auto& proxy : result.config->listener.trustedProxies) {
      mgw::IpMatcher matcher;
      if (!matcher.add(proxy, nullptr)) std::abort();
    }
    try {
      mgw::auth::UserStore users(result.config->users, result.config->auth);
    } catch (...) {
      std::abort();  // the loader accepted what the user store refuses
    }
  }
  return 0;
}
