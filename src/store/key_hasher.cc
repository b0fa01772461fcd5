#include "store/key_hasher.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "common/base64url.h"
#include "common/crypto_util.h"
#include "common/log.h"
#include "store/database.h"

namespace mgw::store {
namespace {

constexpr size_t kMinCustomKeyLength = 8;
constexpr size_t kMaxCustomKeyLength = 64;
constexpr size_t kGeneratedKeyBytes = 32;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw StoreError(SQLITE_CANTOPEN, path + ": " + what);
}

std::string errnoText() { return std::strerror(errno); }

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// nullopt when the file does not exist.
std::optional<std::string> readSecret(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail(path, "cannot open the key-hash secret: " + errnoText());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(path, "cannot stat the key-hash secret: " + errnoText());
  if (!S_ISREG(st.st_mode)) fail(path, "the key-hash secret is not a regular file");
  if (st.st_size != static_cast<off_t>(KeyHasher::kSecretBytes)) {
    fail(path, "the key-hash secret must be exactly " + std::to_string(KeyHasher::kSecretBytes) +
                   " bytes (found " + std::to_string(st.st_size) +
                   "); restore it from a backup: without it no stored opaque key can be verified");
  }
  if ((st.st_mode & 077) != 0) {
    log::warn("key-hash secret is readable by other users; chmod 600 it", {{"path", path}});
  }
  std::string secret(KeyHasher::kSecretBytes, '\0');
  size_t done = 0;
  while (done < secret.size()) {
    ssize_t n = ::read(fd.get(), secret.data() + done, secret.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      secureWipe(secret);
      fail(path,
           "cannot read the key-hash secret: " + (n < 0 ? errnoText() : std::string("short file")));
    }
    done += static_cast<size_t>(n);
  }
  return secret;
}

void fsyncFolder(const std::string& folder) {
  Fd fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}

// Writes a new secret to a temporary file and links it into place: link() fails if the name
// exists, so two processes starting together agree on one secret, and nobody ever reads a
// half-written file. Returns false if another process created the file first.
bool createSecret(const std::string& path) {
  std::filesystem::path target(path);
  std::string folder = target.has_parent_path() ? target.parent_path().string() : std::string(".");
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) fail(path, "cannot create the folder " + folder + ": " + ec.message());

  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> tmpPath(tmpl.begin(), tmpl.end());
  tmpPath.push_back('\0');
  int raw = ::mkstemp(tmpPath.data());  // mode 0600
  if (raw < 0) fail(path, "cannot create the key-hash secret: " + errnoText());
  std::string tmp(tmpPath.data());
  bool linked = false;
  {
    Fd fd(raw);
    std::string secret = randomBytes(KeyHasher::kSecretBytes);
    size_t done = 0;
    while (done < secret.size()) {
      ssize_t n = ::write(fd.get(), secret.data() + done, secret.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        secureWipe(secret);
        ::unlink(tmp.c_str());
        fail(path, "cannot write the key-hash secret: " + errnoText());
      }
      done += static_cast<size_t>(n);
    }
    secureWipe(secret);
    if (::fchmod(fd.get(), 0600) != 0 || ::fsync(fd.get()) != 0) {
      ::unlink(tmp.c_str());
      fail(path, "cannot sync the key-hash secret: " + errnoText());
    }
  }
  if (::link(tmp.c_str(), path.c_str()) == 0) {
    linked = true;
  } else if (errno != EEXIST) {
    std::string why = errnoText();
    ::unlink(tmp.c_str());
    fail(path, "cannot install the key-hash secret: " + why);
  }
  ::unlink(tmp.c_str());
  fsyncFolder(folder);
  if (linked) log::info("created the key-hash secret for opaque API keys", {{"path", path}});
  return linked;
}

bool isAllowedKeyCharacter(unsigned char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    // RFC 3986 section 2.3 unreserved, without '~'.
    case '-':
    case '.':
    case '_':
    // RFC 3986 section 2.2 sub-delims, without ',' ';' '='.
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
      return true;
    default:
      return false;
  }
}

}  // namespace

KeyHasher KeyHasher::loadOrCreate(const std::string& secretPath) {
  if (sodium_init() < 0) throw StoreError(SQLITE_ERROR, "libsodium failed to initialise");
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (std::optional<std::string> secret = readSecret(secretPath)) {
      KeyHasher hasher(std::move(*secret));
      secureWipe(*secret);
      return hasher;
    }
    createSecret(secretPath);  // ours or a concurrent creator's: read it back either way
  }
  fail(secretPath, "the key-hash secret disappeared while it was being created");
}

std::string KeyHasher::secretPathFor(const std::string& databasePath) {
  return databasePath + ".key";
}

KeyHasher::KeyHasher(std::string secret) : secret_(std::move(secret)) {
  if (secret_.size() != kSecretBytes) {
    secureWipe(secret_);
    throw std::invalid_argument("KeyHasher: the secret must be 32 bytes");
  }
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

KeyHasher::~KeyHasher() { secureWipe(secret_); }

KeyHasher::KeyHasher(KeyHasher&& other) noexcept : secret_(std::move(other.secret_)) {
  secureWipe(other.secret_);
}

std::string KeyHasher::hash(std::string_view keyValue) const {
  static_assert(kHashBytes >= crypto_generichash_BYTES_MIN &&
                kHashBytes <= crypto_generichash_BYTES_MAX);
  static_assert(kSecretBytes >= crypto_generichash_KEYBYTES_MIN &&
                kSecretBytes <= crypto_generichash_KEYBYTES_MAX);
  std::string out(kHashBytes, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(keyValue.data()), keyValue.size(),
                     reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size());
  return out;
}

std::string generateOpaqueKey() {
  std::string bytes = randomBytes(kGeneratedKeyBytes);
  std::string key = base64UrlEncode(bytes);
  secureWipe(bytes);
  return key;
}

std::optional<std::string> validateCustomKeyValue(std::string_view value) {
  if (value.size() < kMinCustomKeyLength || value.size() > kMaxCustomKeyLength) {
    return "a custom API key must be 8 to 64 characters long (got " + std::to_string(value.size()) +
           ")";
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (!isAllowedKeyCharacter(static_cast<unsigned char>(value[i]))) {
      // Name the position, not the character: the message must not leak the value's contents.
      return "a custom API key may only contain letters, digits and - . _ ! $ & ' ( ) * +"
             " (character " +
             std::to_string(i + 1) + " is not allowed)";
    }
  }
  return std::nullopt;
}

std::string lastFourOf(std::string_view value) {
  return std::string(value.size() <= 4 ? value : value.substr(value.size() - 4));
}

}  // namespace mgw::store
