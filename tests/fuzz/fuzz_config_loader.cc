// Fuzzes the TOML configuration loader (config/config_loader.h) and the inline [[apis.api]]
// validation that follows it (gateway::buildApis). Definition files named by the input are not
// read: that would fuzz the file system, not the parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config_loader.h"
#include "gateway/openapi_loader.h"

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
    std::vector<mgw::gateway::ApiLoadError> errors;
    auto apis = mgw::gateway::buildApis(*result.config, &errors);
    for (const auto& api : apis)
      if (api.context.empty() || api.context.front() != '/') std::abort();
  }
  return 0;
}
