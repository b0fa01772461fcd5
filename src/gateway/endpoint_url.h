// The gateway's name for the endpoint URL parser, which lives in common/ (the config loader needs
// it too, and config/ may not include gateway/).
#pragma once

#include "common/endpoint_url.h"

namespace mgw::gateway {

using mgw::parseEndpointUrl;
using mgw::UpstreamTarget;

}  // namespace mgw::gateway
