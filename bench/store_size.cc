// The size of the embedded store after N API-bound opaque keys (default 100,000), created through
// OpaqueKeyStore as POST /apikeys does (one durable transaction each), measured after the last
// connection closed (WAL checkpointed into the main file).
// Run: build-bench/bench/mgw-store-size [N] [DIR]   (DIR on tmpfs, e.g. /dev/shm, skips the fsyncs)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "store/database.h"
#include "store/key_hasher.h"
#include "store/opaque_key_store.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using namespace mgw::store;
  const long n = argc > 1 ? std::atol(argv[1]) : 100000;
  const fs::path dir = fs::path(argc > 2 ? argv[2] : fs::temp_directory_path().string()) /
                       ("mgw-store-size-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "micro-gw.db").string();
  const auto started = std::chrono::steady_clock::now();
  {
    Database db(path);
    KeyHasher hasher = KeyHasher::loadOrCreate(KeyHasher::secretPathFor(path));
    OpaqueKeyStore keys(db, hasher);
    for (long i = 0; i < n; ++i) {
      NewOpaqueKey k;
      k.name = "key " + std::to_string(i);
      k.owner = "user" + std::to_string(i % 100);
      k.apiName = "PizzaShackAPI";
      k.apiVersion = "1.0.0";
      k.createdAt = 1'760'000'000 + i;
      k.expiresAt = i % 2 ? 0 : 1'790'000'000;
      if (i % 10 == 0) k.permittedIp = "10.0.0.0/8";
      if (keys.create(k, generateOpaqueKey()).failure != mgw::Failure::kNone) {
        std::fprintf(stderr, "create %ld failed\n", i);
        return 1;
      }
    }
  }  // the last connection closes: SQLite checkpoints the WAL into the database file
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::uintmax_t total = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::printf("%-40s %12ju bytes\n", e.path().filename().c_str(),
                static_cast<std::uintmax_t>(e.file_size()));
    if (e.path().filename().string().rfind("micro-gw.db", 0) == 0 && e.path().extension() != ".key")
      total += e.file_size();
  }
  std::printf("%ld keys: database %ju bytes (%.1f MiB, %.0f bytes/key), %.1f s, %.0f creates/s\n",
              n, total, total / 1048576.0, double(total) / n, seconds, n / seconds);
  fs::remove_all(dir);
  return 0;
}
