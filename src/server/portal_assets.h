// The developer portal's static files (src/server/portal/), embedded in the binary at build time
// by cmake/embed_files.cmake: the page needs no file next to the binary and no network.
#pragma once

#include <cstddef>
#include <string_view>

namespace mgw::server {

struct PortalAsset {
  std::string_view name;  // the file name in src/server/portal/ ("portal.js")
  std::string_view contentType;
  std::string_view content;
};

extern const PortalAsset kPortalAssets[];
extern const std::size_t kPortalAssetCount;

}  // namespace mgw::server
