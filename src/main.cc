// micro-gw: flags, subcommands and wiring; nothing else (SPEC section 2).
#include <httplib.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "auth/password_hash.h"
#include "common/crypto_util.h"
#include "config/endpoint_overrides.h"
#include "server/app.h"
#include "server/keys_command.h"
#include "server/signing_keys.h"
#include "token/inspect.h"
#include "token/keys.h"

namespace {

constexpr const char* kUsage = R"(usage:
  micro-gw [--config PATH] [--ready-file PATH]   run the gateway (default config conf/micro-gw.conf)
  micro-gw --validate [--config PATH]            check configuration, keystores and APIs; print OK or errors
  micro-gw ... --<name>_prod_endpoint_0=URL      WSO2 MGW 3.x endpoint overrides (also _sand_, _basic_username,
                                                 _basic_password; see README "Endpoint overrides")
  micro-gw hash-password                         read a password, print an argon2id string for [b7a.users.<name>]
  micro-gw keystore init [--alg RS256|ES256|EdDSA] [--out DIR] [--p12 --password PW]
                                                 create a development signing key and self-signed certificate
  micro-gw keystore rotate [--config PATH] [--lead-time SECONDS] [--alg ALG] [--verify-until DATE]
                                                 create the next STS signing key (published now, signs after the lead time)
  micro-gw keystore list [--config PATH]         every STS signing key with its state and dates
  micro-gw token inspect KEY                     print a key's header and claims WITHOUT verifying it
  micro-gw keys scan [--prefix P] PATH...        find this gateway's keys in files (exit 1 if any)
  micro-gw keys stale --days N [--config PATH]   list keys not used for N days
  micro-gw health [--url URL]                    GET URL (default http://127.0.0.1:9090/health); exit 0 on 200
)";

int usageError(const std::string& message) {
  std::cerr << "micro-gw: " << message << "\n" << kUsage;
  return 2;
}

std::string readSecretLine(const char* prompt, bool tty) {
  if (tty) std::cerr << prompt << std::flush;
  termios old{};
  if (tty) {
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int hashPassword() {
  const bool tty = isatty(STDIN_FILENO);
  std::string password = readSecretLine("password: ", tty);
  if (tty) {
    std::string again = readSecretLine("again: ", tty);
    bool same = mgw::constantTimeEquals(password, again);
    mgw::secureWipe(again);
    if (!same) {
      mgw::secureWipe(password);
      std::cerr << "micro-gw: the passwords differ\n";
      return 1;
    }
  }
  if (password.empty()) {
    std::cerr << "micro-gw: empty password\n";
    return 1;
  }
  std::cout << mgw::auth::hashPassword(password) << "\n";
  mgw::secureWipe(password);
  return 0;
}

int keystoreInit(const std::vector<std::string>& args) {
  std::string alg = "RS256", out = "runtime/security", password;
  bool p12 = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--alg" && i + 1 < args.size())
      alg = args[++i];
    else if (args[i] == "--out" && i + 1 < args.size())
      out = args[++i];
    else if (args[i] == "--password" && i + 1 < args.size())
      password = args[++i];
    else if (args[i] == "--p12")
      p12 = true;
    else
      return usageError("keystore init: unknown argument '" + args[i] + "'");
  }
  auto algorithm = mgw::token::parseAlgorithm(alg);
  if (!algorithm) return usageError("--alg must be RS256, ES256 or EdDSA");
  if (p12 && password.empty())
    return usageError("--p12 needs --password (PKCS#12 files are encrypted)");
  std::string path = out + "/micro-gw-signing" + (p12 ? ".p12" : ".pem");
  if (access(path.c_str(), F_OK) == 0) {
    std::cerr << "micro-gw: " << path << " exists; refusing to overwrite a key\n";
    return 1;
  }
  std::string error;
  if (!mgw::token::generateKeystore(path, *algorithm, password, &error)) {
    std::cerr << "micro-gw: " << error << "\n";
    return 1;
  }
  std::cout << "created " << path << " (" << alg << ", self-signed certificate, development use)\n";
  return 0;
}

// The container's HEALTHCHECK: a liveness probe that sends no credential, so an https:// URL is
// not verified (the development certificate is self-signed). Exit 0 on 200, 1 otherwise.
int health(const std::vector<std::string>& args) {
  std::string url = "http://127.0.0.1:9090/health";
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--url" && i + 1 < args.size())
      url = args[++i];
    else
      return usageError("health: unknown argument '" + args[i] + "'");
  }
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos ||
      (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0))
    return usageError("health: --url must be http://HOST:PORT/PATH or https://...");
  const size_t slash = url.find('/', scheme + 3);
  const std::string origin = url.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/" : url.substr(slash);
  httplib::Client client(origin);
  client.enable_server_certificate_verification(false);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  client.set_write_timeout(5, 0);
  auto res = client.Get(path);
  if (!res) {
    std::cerr << "micro-gw: health: " << url << ": " << httplib::to_string(res.error()) << "\n";
    return 1;
  }
  std::cout << res->status << " " << res->body << (res->body.ends_with('\n') ? "" : "\n");
  return res->status == 200 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "hash-password") return hashPassword();
  if (args.size() >= 2 && args[0] == "keystore" && args[1] == "init")
    return keystoreInit({args.begin() + 2, args.end()});
  if (args.size() >= 2 && args[0] == "keystore" && args[1] == "rotate")
    return mgw::server::keystoreRotate({args.begin() + 2, args.end()});
  if (args.size() >= 2 && args[0] == "keystore" && args[1] == "list")
    return mgw::server::keystoreList({args.begin() + 2, args.end()});
  if (!args.empty() && args[0] == "health") return health({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "keys")
    return mgw::server::keysCommand({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "token") {
    if (args.size() != 3 || args[1] != "inspect")
      return usageError("usage: micro-gw token inspect KEY");
    bool ok = false;
    std::cout << mgw::token::inspectToken(args[2], &ok) << "\n";
    return ok ? 0 : 1;
  }

  mgw::server::RunOptions options;
  bool validate = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size())
      options.configPath = args[++i];
    else if (args[i] == "--ready-file" && i + 1 < args.size())
      options.readyFile = args[++i];
    else if (args[i] == "--validate")
      validate = true;
    else if (auto o = mgw::config::overrideFromArgument(args[i]))
      options.endpointOverrides.push_back(std::move(*o));
    else if (args[i] == "--help" || args[i] == "-h") {
      std::cout << kUsage;
      return 0;
    } else {
      return usageError("unknown argument '" + args[i] + "'");
    }
  }
  if (validate)
    return mgw::server::validateConfiguration(options.configPath, options.endpointOverrides);
  return mgw::server::runGateway(options);
}
