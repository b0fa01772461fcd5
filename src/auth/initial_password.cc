#include "auth/initial_password.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/password_hash.h"
#include "common/base64url.h"
#include "common/crypto_util.h"
#include "common/log.h"

namespace mgw::auth {
namespace fs = std::filesystem;
namespace {

config::UserConfig* findUser(config::Config& config, const std::string& name) {
  for (auto& user : config.users)
    if (user.name == name) return &user;
  return nullptr;
}

// Writes the password with mode 0600 whatever the umask; refuses to replace an existing file.
bool writeSecretFile(const std::string& path, const std::string& secret, std::string* error) {
  std::error_code ec;
  const fs::path folder = fs::path(path).parent_path();
  if (!fs::exists(folder, ec)) {
    fs::create_directories(folder, ec);
    ::chmod(folder.c_str(), 0700);
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = path + ": cannot create the admin password file: " + std::strerror(errno) +
             " (mount a writable runtime/ volume, or set " + kAdminPasswordVariable + ")";
    return false;
  }
  const std::string content = secret + "\n";
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    *error = path + ": cannot write the admin password file: " + std::strerror(errno);
    ::unlink(path.c_str());
  }
  return ok;
}

// The first line of the file, without its line ending; nullopt when it is absent or empty.
std::optional<std::string> readSecretFile(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) return std::nullopt;
  return line;
}

}  // namespace

bool isLoopbackHost(const std::string& host) {
  return host == "::1" || host == "localhost" || host.rfind("127.", 0) == 0;
}

std::string initialAdminPasswordPath(const config::Config& config) {
  return (fs::path(config.runtimeHome) / "runtime" / "security" / "initial-admin-password")
      .string();
}

bool applyAdminPassword(config::Config& config, const AdminPasswordOptions& options,
                        std::string* error) {
  config::UserConfig* admin = findUser(config, kAdminUser);
  if (options.environmentPassword && !options.environmentPassword->empty()) {
    if (!admin) {
      *error = std::string(kAdminPasswordVariable) +
               " is set but the configuration declares no [b7a.users." + kAdminUser + "]";
      return false;
    }
    admin->password = hashPassword(*options.environmentPassword);
    log::info("the admin password is the one given in the environment",
              {{"user", kAdminUser}, {"variable", kAdminPasswordVariable}});
    return true;
  }
  if (isLoopbackHost(config.listener.host) || !admin) return true;
  if (!verifyPassword(admin->password, "admin")) return true;  // a password of the user's own

  const std::string path = initialAdminPasswordPath(config);
  std::optional<std::string> password = readSecretFile(path);
  if (!password) {
    std::error_code ec;
    if (fs::exists(path, ec)) {
      *error = path + ": the admin password file is empty or unreadable (delete it to generate a " +
               "new password at the next start)";
      return false;
    }
    password = base64UrlEncode(randomBytes(24));  // 192 bits, 32 characters
    if (!options.createFile) {
      // --validate writes nothing: a throwaway password stands in for the one the start generates,
      // so validation sees what the start will run with (never the well-known password).
      admin->password = hashPassword(*password);
      secureWipe(*password);
      return true;
    }
    if (!writeSecretFile(path, *password, error)) {
      secureWipe(*password);
      return false;
    }
    log::warn(
        "first start on a non-loopback listener: generated a random password for the admin user; "
        "read it from the file (the well-known password 'admin' is refused here)",
        {{"user", kAdminUser}, {"file", path}, {"host", config.listener.host}});
  } else {
    log::info("the admin password is the one in the file",
              {{"user", kAdminUser}, {"file", path}, {"host", config.listener.host}});
  }
  admin->password = hashPassword(*password);
  secureWipe(*password);
  return true;
}

AdminPasswordOptions adminPasswordOptionsFromEnvironment(bool createFile) {
  AdminPasswordOptions options;
  options.createFile = createFile;
  if (const char* value = ::getenv(kAdminPasswordVariable); value && *value)
    options.environmentPassword = value;
  return options;
}

}  // namespace mgw::auth
