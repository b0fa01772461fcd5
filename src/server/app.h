// The micro-gw process: loads the configuration, builds the runtime state, runs the HTTP and HTTPS
// listeners, writes the ready file, reloads on SIGHUP and drains on SIGTERM.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace mgw::server {

struct RunOptions {
  std::string configPath = "conf/micro-gw.conf";
  std::string readyFile;
  // --<name>_prod_endpoint_0=<url> ... (WSO2 MGW 3.x's runtime endpoint overrides), kept for
  // every reload.
  std::vector<config::EndpointOverride> endpointOverrides;
};

// Returns the process exit code.
int runGateway(const RunOptions& options);
// --validate: loads everything, opens no socket, writes no file; prints OK or every error.
int validateConfiguration(const std::string& configPath,
                          const std::vector<config::EndpointOverride>& endpointOverrides = {});

}  // namespace mgw::server
