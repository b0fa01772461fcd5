// `micro-gw keys scan PATH...` and `micro-gw keys stale --days N` (issue 25): the command-line side
// of the opaque key format and of last use. Output goes to stdout; never a whole key value.
#pragma once

#include <string>
#include <vector>

namespace mgw::server {

// args: what follows "keys". Exit code: scan 0 = none found, 1 = keys found; stale 0; 2 = usage.
int keysCommand(const std::vector<std::string>& args);

}  // namespace mgw::server
