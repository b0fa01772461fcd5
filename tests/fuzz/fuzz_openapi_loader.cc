// Fuzzes the OpenAPI 3.x / Swagger 2.0 loader with the WSO2 extensions (apis/openapi_loader.h).
// The loader reads files, so each input is written to one private temporary file and loaded from
// there.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "apis/openapi_loader.h"

namespace {

std::string makeTempFile() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/mgw-fuzz-openapi-XXXXXX.yaml";
  int fd = mkstemps(path.data(), 5);
  if (fd < 0) {
    std::perror("mkstemps");
    std::abort();
  }
  close(fd);
  return path;
}

struct TempFile {
  std::string path = makeTempFile();
  ~TempFile() { unlink(path.c_str()); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static TempFile file;
  FILE* out = std::fopen(file.path.c_str(), "wb");
  if (!out) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, out) != size) std::abort();
  std::fclose(out);

  std::vector<mgw::apis::ApiLoadError> errors;
  const auto apis = mgw::apis::loadApiDefinitions({file.path}, &errors);
  if (apis.size() > 1) std::abort();                 // one file, at most one API
  if (apis.empty() && errors.empty()) std::abort();  // a refused definition says why
  for (const auto& api : apis) {
    if (api.name.empty() || api.context.empty() || api.context.front() != '/') std::abort();
    if (api.production.empty() && api.sandbox.empty()) std::abort();
  }
  return 0;
}
