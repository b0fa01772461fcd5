// The only translation unit that includes toml11: it turns the TOML tree into Config and checks
// every value on the way, so the rest of micro-gw never sees an unvalidated setting.
#include "config/config_loader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>
#include <toml.hpp>
#include <type_traits>
#include <utility>

#include "common/endpoint_url.h"
#include "common/ip_address.h"
#include "common/key_format.h"
#include "common/redis_url.h"
#include "common/syntax.h"
#include "config/endpoint_overrides.h"
#include "config/wso2_keys.h"

namespace mgw::config {
namespace {

namespace fs = std::filesystem;

// std::map keeps iteration (and so error order within a table) deterministic.
using Value = toml::basic_value<toml::discard_comments, std::map, std::vector>;

constexpr const char* kDefaultListenerKeyStore = "runtime/security/micro-gw-tls.pem";
constexpr const char* kDefaultTrustStore = "runtime/security/truststore";
// WSO2 MGW 3.x's defaults for [apikey.tokenConfigs] (its micro_gw_conf_defaults).
constexpr const char* kWso2DefaultApiKeyIssuer = "https://localhost:9095/apikey";
constexpr const char* kWso2DefaultApiKeyAlias = "ballerina";
constexpr const char* kDefaultSigningKeyStore = "runtime/security/micro-gw-signing.pem";
constexpr const char* kDefaultStorage = "runtime/data/micro-gw.db";
constexpr const char* kWso2DefinitionsFolder = "api_definitions";  // WSO2 MGW 3.x toolkit layout
constexpr const char* kRuntimeHomeVar = "mgw-runtime.home";
constexpr const char* kBallerinaHomeVar = "ballerina.home";  // WSO2 MGW 3.x: <runtime home>/runtime
constexpr std::size_t kMaxSuggestDistance = 2;
constexpr std::size_t kMaxRenderedValue = 80;

const std::vector<std::string> kSignatureAlgorithms = {"RS256", "ES256", "EdDSA"};
const std::vector<std::string> kRoles = {"admin"};
const std::vector<std::string> kSecuritySchemes = {"api_key"};
// Paths micro-gw serves itself; an inline API there would shadow the STS or key management.
const std::vector<std::string> kReservedContexts = {"/apikey", "/apikeys", "/applications",
                                                    "/.well-known"};

std::string joined(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  auto end = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(begin, end - begin + 1));
}

// Case-insensitive Levenshtein distance, so "httpport" and "HttpPort" both find httpPort.
std::size_t editDistance(std::string_view a, std::string_view b) {
  std::string x = lower(a), y = lower(b);
  std::vector<std::size_t> prev(y.size() + 1), cur(y.size() + 1);
  for (std::size_t j = 0; j <= y.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= x.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= y.size(); ++j) {
      std::size_t subst = prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[y.size()];
}

std::string closest(std::string_view key, const std::vector<std::string>& known) {
  std::string best;
  std::size_t bestDistance = kMaxSuggestDistance + 1;
  for (const auto& candidate : known) {
    std::size_t d = editDistance(key, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

bool isBareKey(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// A key as the user would write it in a table header.
std::string keyPart(std::string_view key) {
  if (isBareKey(key)) return std::string(key);
  return "\"" + std::string(key) + "\"";
}

std::string typeName(const Value& v) {
  switch (v.type()) {
    case toml::value_t::empty:
      return "nothing";
    case toml::value_t::boolean:
      return "a boolean";
    case toml::value_t::integer:
      return "an integer";
    case toml::value_t::floating:
      return "a float";
    case toml::value_t::string:
      return "a string";
    case toml::value_t::offset_datetime:
    case toml::value_t::local_datetime:
    case toml::value_t::local_date:
    case toml::value_t::local_time:
      return "a date/time";
    case toml::value_t::array:
      return "an array";
    case toml::value_t::table:
      return "a table";
  }
  return "an unknown type";
}

std::string render(const Value& v) {
  std::string out;
  switch (v.type()) {
    case toml::value_t::empty:
      break;
    case toml::value_t::boolean:
      out = v.as_boolean() ? "true" : "false";
      break;
    case toml::value_t::integer:
      out = std::to_string(v.as_integer());
      break;
    case toml::value_t::floating: {
      std::ostringstream os;
      os << v.as_floating();
      out = os.str();
      break;
    }
    case toml::value_t::string:
      out = "\"" + v.as_string().str + "\"";
      break;
    case toml::value_t::offset_datetime:
    case toml::value_t::local_datetime:
    case toml::value_t::local_date:
    case toml::value_t::local_time:
      out = trim(toml::format(v));
      break;
    case toml::value_t::array: {
      std::vector<std::string> items;
      for (const auto& item : v.as_array()) items.push_back(render(item));
      out = "[" + joined(items) + "]";
      break;
    }
    case toml::value_t::table:
      out = "{...}";
      break;
  }
  if (out.size() > kMaxRenderedValue) out = out.substr(0, kMaxRenderedValue - 3) + "...";
  return out;
}

int lineOf(const Value& v) { return static_cast<int>(v.location().line()); }

// RFC 3986 unreserved characters: a query parameter name that needs no encoding.
bool isUnreserved(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '~';
  });
}

std::string normalizedHome(const std::string& home) {
  std::string out = fs::absolute(fs::path(home)).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// Where a value sits: the table header as written and the key inside it.
struct Where {
  std::string header;  // "[listenerConfig]", "[[apis.api]]", or "" at the top level
  std::string path;    // dotted path of the table: "listenerConfig", "apis.api"
  std::string key;

  std::string keyText() const { return header.empty() ? key : header + " " + key; }
  // Values of these keys are never echoed into errors or logs.
  bool secret() const { return lower(key).find("password") != std::string::npos; }
};

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629 section 4: no overlong
// forms, no surrogates, nothing above U+10FFFF), or npos. TOML 1.0 requires UTF-8, and toml11 3.7.1
// reads out of bounds when it reports invalid UTF-8 inside a string (found by fuzz_config_loader),
// so the text is checked before it reaches the parser.
std::size_t firstInvalidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > text.size()) return i;
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if (second < lo || second > hi) return i;
    for (std::size_t k = 2; k < len; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if (c < 0x80 || c > 0xBF) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

class Loader {
 public:
  Loader(std::string file, const std::string& runtimeHome)
      : file_(std::move(file)), home_(normalizedHome(runtimeHome)) {}

  LoadResult run(std::string_view text) {
    LoadResult result;
    if (const auto bad = firstInvalidUtf8(text); bad != std::string_view::npos) {
      const auto line =
          1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
      errors_.push_back(
          {file_, static_cast<int>(line), "",
           "not valid UTF-8 (byte " + std::to_string(bad + 1) + "); a TOML file must be UTF-8",
           ""});
      result.errors = std::move(errors_);
      return result;
    }
    Value root;
    try {
      std::istringstream in{std::string(text)};
      root = toml::parse<toml::discard_comments, std::map, std::vector>(in, file_);
    } catch (const toml::exception& e) {
      errors_.push_back({file_, static_cast<int>(e.location().line()), "",
                         "syntax error: " + describeSyntaxError(e.what()), ""});
      result.errors = std::move(errors_);
      return result;
    } catch (const std::exception& e) {
      errors_.push_back({file_, 0, "", std::string("cannot parse: ") + e.what(), ""});
      result.errors = std::move(errors_);
      return result;
    }

    Config config;
    config.sourcePath = file_;
    config.runtimeHome = home_;
    readRoot(root, config);
    config.endpointOverrides = std::move(overrides_);
    finish(config);

    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const LoadError& a, const LoadError& b) { return a.line < b.line; });
    std::stable_sort(warnings_.begin(), warnings_.end(),
                     [](const LoadError& a, const LoadError& b) { return a.line < b.line; });
    result.warnings = std::move(warnings_);
    if (errors_.empty()) {
      result.config = std::move(config);
    } else {
      result.errors = std::move(errors_);
    }
    return result;
  }

 private:
  using Reader = std::function<void(const Value&, const Where&)>;
  struct Field {
    std::string name;
    Reader read;
  };

  // toml11 writes "[error] toml::parse_xxx: what\n --> file\n  | ...^--- hint"; keep what and hint.
  static std::string describeSyntaxError(const std::string& what) {
    std::string first = what.substr(0, what.find('\n'));
    if (first.rfind("[error] ", 0) == 0) first = first.substr(8);
    if (first.rfind("toml::", 0) == 0) {
      auto colon = first.find(": ");
      if (colon != std::string::npos) first = first.substr(colon + 2);
    }
    auto hint = what.rfind("^--- ");
    if (hint != std::string::npos) {
      std::string h = trim(what.substr(hint + 5, what.find('\n', hint) - hint - 5));
      if (!h.empty()) first += " (" + h + ")";
    }
    return first;
  }

  void error(const Value& at, const Where& w, const std::string& message, bool showValue = true) {
    errors_.push_back(
        {file_, lineOf(at), w.keyText(), message, showValue && !w.secret() ? render(at) : ""});
  }

  void errorAt(int line, const std::string& key, const std::string& message) {
    errors_.push_back({file_, line, key, message, ""});
  }

  void warn(const Value& at, const Where& w, const std::string& message) {
    warnings_.push_back({file_, lineOf(at), w.keyText(), message, ""});
  }

  void typeError(const Value& v, const Where& w, const std::string& expected) {
    error(v, w, "wrong type: expected " + expected + ", got " + typeName(v));
  }

  // Dispatches each key of a table to its reader; anything not listed is an error, so a typo
  // never silently falls back to a default.
  void readTable(const Value& table, const std::string& header, const std::string& path,
                 const std::vector<Field>& fields) {
    std::vector<std::string> names;
    for (const auto& f : fields) names.push_back(f.name);
    for (const auto& [key, value] : table.as_table()) {
      Where w{header, path, key};
      auto it = std::find_if(fields.begin(), fields.end(),
                             [&name = key](const Field& f) { return f.name == name; });
      if (it != fields.end()) {
        it->read(value, w);
        continue;
      }
      if (path.empty() && readEndpointOverride(key, value, w)) continue;
      if (skipWso2Key(path, key, value, w)) continue;
      std::string suggestion = closest(key, names);
      std::string hint = suggestion.empty() ? "" : " (did you mean " + suggestion + "?)";
      std::string place = path.empty() ? "at the top level" : "in " + header;
      if (value.is_table()) {
        std::string full = path.empty() ? keyPart(key) : path + "." + keyPart(key);
        errorAt(lineOf(value), "[" + full + "]",
                "unknown table" + hint + "; allowed " + place + ": " + joined(names));
      } else {
        error(value, w, "unknown key" + hint + "; allowed " + place + ": " + joined(names));
      }
    }
  }

  // A WSO2 MGW 3.x endpoint override at the top level ("<name>_prod_endpoint_0" = "http://...",
  // config/endpoint_overrides.h): kept with its line, checked against the definitions by apis/.
  // False: not such a key.
  bool readEndpointOverride(const std::string& key, const Value& value, const Where& w) {
    if (value.is_table() || !parseOverrideKey(key)) return false;
    if (auto s = getString(value, w))
      overrides_.push_back({key, *s, file_ + ":" + std::to_string(lineOf(value))});
    return true;
  }

  // WSO2 API Microgateway 3.x keys micro-gw has no use for (config/wso2_keys.h): one warning
  // each, or an error for the few that would drop a protection. False: not a WSO2 key.
  bool skipWso2Key(const std::string& path, const std::string& key, const Value& value,
                   const Where& w) {
    const std::string full = path.empty() ? keyPart(key) : path + "." + keyPart(key);
    if (const Wso2Key* known = findWso2Key(full)) {
      const std::string what = value.is_table() ? "[" + full + "]" : w.keyText();
      const bool refuse = known->treatment == Wso2KeyTreatment::kRefused ||
                          (known->treatment == Wso2KeyTreatment::kRefusedWhenTrue &&
                           value.is_boolean() && value.as_boolean());
      if (refuse) {
        errorAt(lineOf(value), what,
                "a WSO2 API Microgateway 3.x setting micro-gw does not support: " +
                    std::string(known->why));
      } else {
        warnings_.push_back(
            {file_, lineOf(value), what,
             "WSO2 API Microgateway 3.x setting, ignored: " + std::string(known->why), ""});
      }
      return true;
    }
    if (value.is_table() && isWso2Parent(full)) {
      readTable(value, "[" + full + "]", full, {});
      return true;
    }
    return false;
  }

  // Applies ${NAME}, ${NAME:-default} and ${mgw-runtime.home}; nullopt after reporting an error.
  std::optional<std::string> expand(const Value& v, const Where& w, const std::string& raw) {
    std::string out;
    std::size_t pos = 0;
    bool ok = true;
    while (pos < raw.size()) {
      auto start = raw.find("${", pos);
      if (start == std::string::npos) {
        out += raw.substr(pos);
        break;
      }
      out += raw.substr(pos, start - pos);
      auto end = raw.find('}', start + 2);
      if (end == std::string::npos) {
        error(v, w, "unterminated ${ : write ${NAME}, ${NAME:-default} or ${mgw-runtime.home}");
        return std::nullopt;
      }
      std::string inner = raw.substr(start + 2, end - start - 2);
      pos = end + 1;
      if (inner == kRuntimeHomeVar) {
        out += home_;
        continue;
      }
      if (inner == kBallerinaHomeVar) {
        // WSO2 MGW 3.x starts with -Dballerina.home=<home>/runtime (its bin/gateway).
        out += home_ + "/runtime";
        continue;
      }
      std::string name = inner;
      std::optional<std::string> fallback;
      if (auto sep = inner.find(":-"); sep != std::string::npos) {
        name = inner.substr(0, sep);
        fallback = inner.substr(sep + 2);
      }
      bool validName = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                       std::all_of(name.begin(), name.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                       });
      if (!validName) {
        error(v, w,
              "\"${" + inner +
                  "}\" is not a valid reference: environment variable names are "
                  "letters, digits and _; also allowed: ${mgw-runtime.home}, ${ballerina.home}",
              !w.secret());
        ok = false;
        continue;
      }
      const char* env = std::getenv(name.c_str());
      // As in the shell, ":-" also replaces a variable that is set but empty.
      if (fallback && (env == nullptr || *env == '\0')) {
        out += *fallback;
      } else if (env != nullptr) {
        out += env;
      } else {
        error(v, w,
              "environment variable " + name + " is not set (write ${" + name +
                  ":-default} to give a default)");
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<std::string> getString(const Value& v, const Where& w) {
    if (!v.is_string()) {
      typeError(v, w, "a string");
      return std::nullopt;
    }
    return expand(v, w, v.as_string().str);
  }

  void readString(const Value& v, const Where& w, std::string& out, bool allowEmpty = true) {
    auto s = getString(v, w);
    if (!s) return;
    if (!allowEmpty && trim(*s).empty()) {
      error(v, w, "must not be empty");
      return;
    }
    out = *s;
  }

  void readPath(const Value& v, const Where& w, std::string& out) {
    if (auto s = getString(v, w)) out = *s;
  }

  // Integers may also come from the environment: httpPort = "${MGW_HTTP_PORT:-9090}".
  std::optional<std::int64_t> getInteger(const Value& v, const Where& w) {
    if (v.is_integer()) return v.as_integer();
    if (v.is_string() && v.as_string().str.find("${") != std::string::npos) {
      auto s = expand(v, w, v.as_string().str);
      if (!s) return std::nullopt;
      std::string t = trim(*s);
      std::int64_t n = 0;
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
      if (ec == std::errc() && !t.empty() && ptr == t.data() + t.size()) return n;
      error(v, w, "expected an integer after substitution, got \"" + *s + "\"");
      return std::nullopt;
    }
    typeError(v, w, "an integer");
    return std::nullopt;
  }

  template <class T>
  void readInt(const Value& v, const Where& w, T& out, std::int64_t min, std::int64_t max,
               const std::string& allowed) {
    auto n = getInteger(v, w);
    if (!n) return;
    if (*n < min || *n > max) {
      error(v, w, allowed);
      return;
    }
    out = static_cast<T>(*n);
  }

  template <class T>
  void readPositive(const Value& v, const Where& w, T& out, const char* unit) {
    std::int64_t max = std::is_same_v<T, int> ? INT_MAX : INT64_MAX;
    std::string range = max == INT_MAX ? " (1.." + std::to_string(max) + ")" : "";
    readInt(v, w, out, 1, max, std::string("must be a positive number of ") + unit + range);
  }

  void readBool(const Value& v, const Where& w, bool& out) {
    if (v.is_boolean()) {
      out = v.as_boolean();
      return;
    }
    if (v.is_string() && v.as_string().str.find("${") != std::string::npos) {
      auto s = expand(v, w, v.as_string().str);
      if (!s) return;
      if (trim(*s) == "true" || trim(*s) == "false") {
        out = trim(*s) == "true";
        return;
      }
      error(v, w, "expected true or false after substitution, got \"" + *s + "\"");
      return;
    }
    typeError(v, w, "a boolean (true or false)");
  }

  void readEnum(const Value& v, const Where& w, std::string& out,
                const std::vector<std::string>& allowed) {
    auto s = getString(v, w);
    if (!s) return;
    if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
      error(v, w, "must be one of " + joined(allowed));
      return;
    }
    out = *s;
  }

  // A string list; allowSingle also takes one string (a list of one), as endpoints are often
  // written.
  std::optional<std::vector<std::pair<std::string, const Value*>>> getStringList(const Value& v,
                                                                                 const Where& w,
                                                                                 bool allowSingle) {
    std::vector<std::pair<std::string, const Value*>> out;
    if (allowSingle && v.is_string()) {
      auto s = getString(v, w);
      if (!s) return std::nullopt;
      out.emplace_back(*s, &v);
      return out;
    }
    if (!v.is_array()) {
      typeError(v, w, allowSingle ? "a string or an array of strings" : "an array of strings");
      return std::nullopt;
    }
    bool ok = true;
    for (const auto& item : v.as_array()) {
      if (!item.is_string()) {
        error(item, w, "wrong type: expected an array of strings, found " + typeName(item));
        ok = false;
        continue;
      }
      auto s = expand(item, w, item.as_string().str);
      if (!s) {
        ok = false;
        continue;
      }
      out.emplace_back(*s, &item);
    }
    if (!ok) return std::nullopt;
    return out;
  }

  // Calls fn for a table, or for each table of an array of tables ([x] or [[x]] are both accepted).
  bool forEachTable(const Value& v, const Where& w, const std::function<void(const Value&)>& fn) {
    if (v.is_table()) {
      fn(v);
      return true;
    }
    if (!v.is_array()) {
      typeError(v, w, "a table or an array of tables");
      return false;
    }
    for (const auto& item : v.as_array()) {
      if (!item.is_table()) {
        error(item, w, "wrong type: expected an array of tables, found " + typeName(item));
        continue;
      }
      fn(item);
    }
    return true;
  }

  bool expectTable(const Value& v, const Where& w) {
    if (v.is_table()) return true;
    typeError(v, w, "a table ([" + (w.path.empty() ? w.key : w.path + "." + w.key) + "])");
    return false;
  }

  std::string resolve(const std::string& path, const char* fallback) const {
    std::string p = path.empty() && fallback != nullptr ? fallback : path;
    if (p.empty()) return p;
    fs::path fp(p);
    if (fp.is_relative()) fp = fs::path(home_) / fp;
    return fp.lexically_normal().string();
  }

  // --- tables ---------------------------------------------------------------------------------

  void readRoot(const Value& root, Config& c) {
    readTable(root, "", "",
              {
                  {"listenerConfig",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readListener(v, c.listener);
                   }},
                  {"b7a",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readB7a(v, c);
                   }},
                  {"authentication",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readAuthentication(v, c.auth);
                   }},
                  {"apikey",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readApikey(v, c);
                   }},
                  {"server",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readServer(v, c.server);
                   }},
                  {"caching",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readCaching(v, c.caching);
                   }},
                  {"apis",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readApis(v, c.apis);
                   }},
                  {"storage",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readStorage(v, c.storage);
                   }},
                  {"cors",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readCors(v, "[cors]", "cors", c.cors);
                   }},
                  {"jwtGenerator",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readJwtGenerator(v, c.jwtGenerator);
                   }},
                  {"cluster",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readCluster(v, c.cluster);
                   }},
                  {"throttling",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readThrottling(v, c.throttling);
                   }},
                  {"observability",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readObservability(v, c.observability);
                   }},
                  {"portal",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readPortal(v, c.portal);
                   }},
                  {"validationConfig",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readValidation(v, c.validation);
                   }},
                  {"jwtTokenConfig",
                   [&](const Value& v, const Where& w) {
                     forEachTable(v, w, [&](const Value& t) { readJwtIssuer(t, c); });
                   }},
                  // WSO2 MGW 3.x's backend JWT tables, mapped onto [jwtGenerator].
                  {"jwtGeneratorConfig",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readWso2JwtGenerator(v, c.jwtGenerator);
                   }},
                  {"jwtConfig",
                   [&](const Value& v, const Where& w) {
                     if (!expectTable(v, w)) return;
                     readTable(v, "[jwtConfig]", "jwtConfig",
                               {{"header", [&](const Value& hv, const Where& hw) {
                                   readJwtHeader(hv, hw, c.jwtGenerator);
                                   warn(hv, hw,
                                        "WSO2 API Microgateway 3.x setting, mapped onto "
                                        "[jwtGenerator] header");
                                 }}});
                   }},
                  // WSO2 MGW 3.x [mutualSSLConfig]: client certificates on the HTTPS listener.
                  {"mutualSSLConfig",
                   [&](const Value& v, const Where& w) {
                     if (expectTable(v, w)) readMutualSsl(v, c.mutualSsl);
                   }},
                  // WSO2 MGW 3.x [security] validateSubscriptions: mapped in finish() onto
                  // every [[jwtTokenConfig]]'s validateSubscription.
                  {"security",
                   [&](const Value& v, const Where& w) {
                     if (!expectTable(v, w)) return;
                     readTable(v, "[security]", "security",
                               {{"validateSubscriptions", [&](auto& bv, auto& bw) {
                                   readBool(bv, bw, validateSubscriptions_);
                                   validateSubscriptionsLine_ = lineOf(bv);
                                 }}});
                   }},
              });
  }

  // WSO2 MGW 3.x [mutualSSLConfig]: sslVerifyClient ("optional", WSO2's default, or "require")
  // and micro-gw's crlPath; the keys micro-gw does not use are in config/wso2_keys.cc.
  void readMutualSsl(const Value& t, MutualSslConfig& m) {
    m.verifyClient = "optional";
    readTable(t, "[mutualSSLConfig]", "mutualSSLConfig",
              {{"sslVerifyClient",
                [&](const Value& v, const Where& w) {
                  auto s = getString(v, w);
                  if (!s) return;
                  if (*s != "optional" && *s != "require") {
                    error(v, w, "must be \"optional\" or \"require\"");
                    return;
                  }
                  m.verifyClient = *s;
                }},
               {"crlPath", [&](auto& v, auto& w) { readPath(v, w, m.crlPath); }}});
  }

  // WSO2 MGW 3.x [[jwtTokenConfig]]; its keys micro-gw does not use are in config/wso2_keys.cc.
  void readJwtIssuer(const Value& t, Config& c) {
    JwtIssuerConfig j;
    j.line = lineOf(t);
    const std::string header = "[[jwtTokenConfig]]";
    readTable(
        t, header, "jwtTokenConfig",
        {
            {"issuer", [&](auto& v, auto& w) { readString(v, w, j.issuer, false); }},
            {"audience", [&](auto& v, auto& w) { readString(v, w, j.audience, false); }},
            {"certificateAlias", [&](auto& v, auto& w) { readString(v, w, j.certificateAlias); }},
            {"certificateFile", [&](auto& v, auto& w) { readPath(v, w, j.certificateFile); }},
            {"validateSubscription",
             [&](auto& v, auto& w) { readBool(v, w, j.validateSubscription); }},
            {"jwksURL",
             [&](const Value& v, const Where& w) {
               auto s = getString(v, w);
               if (s && !trim(*s).empty())
                 error(v, w,
                       "keys are not fetched from a JWKS URL; give certificateAlias (truststore) "
                       "or certificateFile, and leave jwksURL empty");
             }},
        });
    if (!t.contains("issuer"))
      errorAt(j.line, header + " issuer", "missing: the iss claim of the tokens it signs");
    // WSO2 MGW 3.x verified no signature for an issuer without certificateAlias (and jwksURL):
    // any token naming the issuer passed. micro-gw refuses rather than guess a key.
    if (j.certificateAlias.empty() && j.certificateFile.empty())
      errorAt(j.line, header + " certificateAlias",
              "missing: WSO2 API Microgateway 3.x verified no signature for such an issuer, "
              "micro-gw verifies every token: give certificateAlias (the truststore entry of the "
              "issuer's certificate) or certificateFile");
    j.certificateFile = resolve(j.certificateFile, nullptr);
    c.jwtIssuers.push_back(std::move(j));
  }

  void readListener(const Value& t, ListenerConfig& l) {
    const std::string kPorts =
        "must be between -1 and 65535 (0 = any free port, -1 = listener off)";
    readTable(
        t, "[listenerConfig]", "listenerConfig",
        {
            {"host", [&](auto& v, auto& w) { readString(v, w, l.host, false); }},
            {"httpPort", [&](auto& v, auto& w) { readInt(v, w, l.httpPort, -1, 65535, kPorts); }},
            {"httpsPort",
             [&](auto& v, auto& w) {
               httpsPortLine_ = lineOf(v);
               readInt(v, w, l.httpsPort, -1, 65535, kPorts);
             }},
            {"keyStorePath", [&](auto& v, auto& w) { readPath(v, w, l.keyStorePath); }},
            {"keyStorePassword", [&](auto& v, auto& w) { readString(v, w, l.keyStorePassword); }},
            {"trustStorePath", [&](auto& v, auto& w) { readPath(v, w, l.trustStorePath); }},
            {"trustStorePassword",
             [&](auto& v, auto& w) { readString(v, w, l.trustStorePassword); }},
            {"ioThreads",
             [&](auto& v, auto& w) {
               readInt(v, w, l.ioThreads, 0, 256, "must be between 0 and 256 (0 = one per core)");
             }},
            {"workerThreads",
             [&](auto& v, auto& w) {
               readInt(v, w, l.workerThreads, 0, 1024,
                       "must be between 0 and 1024 (0 = one per core)");
             }},
            {"maxConnections",
             [&](auto& v, auto& w) {
               readInt(v, w, l.maxConnections, 1, 1000000, "must be between 1 and 1000000");
             }},
            {"maxConnectionsPerAddress",
             [&](auto& v, auto& w) {
               readInt(v, w, l.maxConnectionsPerAddress, 0, 1000000,
                       "must be between 0 and 1000000 (0 = no cap)");
             }},
            {"maxRequestBytes",
             [&](auto& v, auto& w) { readPositive(v, w, l.maxRequestBytes, "bytes"); }},
            {"maxHeaderBytes",
             [&](auto& v, auto& w) { readPositive(v, w, l.maxHeaderBytes, "bytes"); }},
            {"maxHeaderCount",
             [&](auto& v, auto& w) { readPositive(v, w, l.maxHeaderCount, "headers"); }},
            {"headerTimeoutSeconds",
             [&](auto& v, auto& w) { readPositive(v, w, l.headerTimeoutSeconds, "seconds"); }},
            {"bodyTimeoutSeconds",
             [&](auto& v, auto& w) { readPositive(v, w, l.bodyTimeoutSeconds, "seconds"); }},
            {"minBodyBytesPerSecond",
             [&](auto& v, auto& w) {
               readInt(v, w, l.minBodyBytesPerSecond, 0, INT_MAX,
                       "must be 0 (no minimum) or a positive number of bytes per second");
             }},
            {"requestBuffering", [&](auto& v, auto& w) { readBool(v, w, l.requestBuffering); }},
            {"requestBufferBytes",
             [&](auto& v, auto& w) { readPositive(v, w, l.requestBufferBytes, "bytes"); }},
            {"maxConnectionsPerBackend",
             [&](auto& v, auto& w) {
               readInt(v, w, l.maxConnectionsPerBackend, 1, 1000000,
                       "must be between 1 and 1000000");
             }},
            // The name of bodyTimeoutSeconds before the event-driven data plane; still read.
            {"readTimeoutSeconds",
             [&](auto& v, auto& w) { readPositive(v, w, l.bodyTimeoutSeconds, "seconds"); }},
            {"writeTimeoutSeconds",
             [&](auto& v, auto& w) { readPositive(v, w, l.writeTimeoutSeconds, "seconds"); }},
            {"keepAliveTimeoutSeconds",
             [&](auto& v, auto& w) { readPositive(v, w, l.keepAliveTimeoutSeconds, "seconds"); }},
            {"keepAliveMaxRequests",
             [&](auto& v, auto& w) { readPositive(v, w, l.keepAliveMaxRequests, "requests"); }},
            {"http2Cleartext", [&](auto& v, auto& w) { readBool(v, w, l.http2.cleartext); }},
            {"http2MaxConcurrentStreams",
             [&](auto& v, auto& w) {
               readInt(v, w, l.http2.maxConcurrentStreams, 1, 10000,
                       "must be between 1 and 10000 streams");
             }},
            {"http2StreamWindowBytes",
             [&](auto& v, auto& w) {
               readInt(v, w, l.http2.streamWindowBytes, 16384, 2147483647,
                       "must be between 16384 and 2147483647 bytes");
             }},
            {"http2ConnectionWindowBytes",
             [&](auto& v, auto& w) {
               readInt(v, w, l.http2.connectionWindowBytes, 65535, 2147483647,
                       "must be between 65535 and 2147483647 bytes");
             }},
            {"http2ResetBurst",
             [&](auto& v, auto& w) {
               readInt(v, w, l.http2.resetBurst, 1, 1000000, "must be between 1 and 1000000");
             }},
            {"http2ResetsPerSecond",
             [&](auto& v, auto& w) {
               readInt(v, w, l.http2.resetsPerSecond, 1, 1000000, "must be between 1 and 1000000");
             }},
            {"http2ControlFramesPerSecond",
             [&](auto& v, auto& w) {
               readInt(v, w, l.http2.controlFramesPerSecond, 1, 1000000,
                       "must be between 1 and 1000000");
             }},
            {"http2MaxContinuations",
             [&](auto& v, auto& w) {
               readInt(v, w, l.http2.maxContinuations, 0, 1000, "must be between 0 and 1000");
             }},
            {"managementAllowedOrigins",
             [&](auto& v, auto& w) {
               auto list = getStringList(v, w, false);
               if (!list) return;
               l.managementAllowedOrigins.clear();
               for (const auto& [o, at] : *list) {
                 std::string why;
                 if (o == "*")
                   why =
                       "\"*\" would let every site use /apikey with a browser's stored "
                       "credentials; list the origins";
                 else if (parseOriginPattern(o, &why))
                   l.managementAllowedOrigins.push_back(o);
                 if (!why.empty()) error(*at, w, "\"" + o.substr(0, 80) + "\": " + why);
               }
             }},
            {"hstsMaxAge",
             [&](auto& v, auto& w) {
               readInt(v, w, l.hstsMaxAge, 0, 63072000,
                       "must be between 0 (Strict-Transport-Security not sent) and 63072000 "
                       "seconds (two years)");
             }},
            {"trustedProxies",
             [&](auto& v, auto& w) {
               auto list = getStringList(v, w, false);
               if (!list) return;
               l.trustedProxies.clear();
               for (const auto& [s, at] : *list) {
                 std::string why;
                 if (!parseIpRange(s, &why)) {
                   error(*at, w,
                         "must be an IPv4/IPv6 address or CIDR range (\"10.0.0.0/8\", \"::1\"): " +
                             why);
                   continue;
                 }
                 l.trustedProxies.push_back(s);
               }
             }},
        });
    if (l.httpPort == -1 && l.httpsPort == -1) {
      errorAt(lineOf(t), "[listenerConfig] httpPort",
              "httpPort and httpsPort are both -1: at least one listener must be on");
    } else if (l.httpPort > 0 && l.httpPort == l.httpsPort) {
      errorAt(lineOf(t), "[listenerConfig] httpsPort",
              "httpPort and httpsPort are both " + std::to_string(l.httpPort) +
                  ": the listeners need different ports");
    }
  }

  void readB7a(const Value& t, Config& c) {
    readTable(t, "[b7a]", "b7a", {{"users", [&](const Value& v, const Where& w) {
                                     if (!expectTable(v, w)) return;
                                     for (const auto& [name, user] : v.as_table()) {
                                       Where uw{"[b7a.users]", "b7a.users", name};
                                       if (!user.is_table()) {
                                         typeError(user, uw,
                                                   "a table ([b7a.users." + keyPart(name) + "])");
                                         continue;
                                       }
                                       readUser(name, user, c);
                                     }
                                   }}});
  }

  void readUser(const std::string& name, const Value& t, Config& c) {
    const std::string header = "[b7a.users." + keyPart(name) + "]";
    const std::string path = "b7a.users." + keyPart(name);
    UserConfig u;
    u.name = name;
    u.line = lineOf(t);
    // RFC 7617 section 2: the user-id of basic auth cannot contain a colon.
    if (name.find(':') != std::string::npos || std::any_of(name.begin(), name.end(), [](char ch) {
          return std::iscntrl(static_cast<unsigned char>(ch)) != 0;
        })) {
      errorAt(lineOf(t), header, "a user name cannot contain ':' or control characters (RFC 7617)");
    }
    bool hasPassword = false;
    readTable(t, header, path,
              {
                  {"password",
                   [&](const Value& v, const Where& w) {
                     hasPassword = true;
                     auto s = getString(v, w);
                     if (!s) return;
                     const auto kind = classifyPasswordHash(*s);
                     if (kind && isLegacyWso2PasswordHash(*s)) {
                       u.password = *s;
                       const char* what = kind == PasswordHashKind::kSha1Legacy ? "SHA-1"
                                          : kind == PasswordHashKind::kSha256   ? "SHA-256"
                                          : kind == PasswordHashKind::kSha384   ? "SHA-384"
                                                                                : "SHA-512";
                       warn(v, w,
                            std::string("unsalted ") + what +
                                " password (WSO2 legacy): replace it with the output of "
                                "`micro-gw hash-password`");
                     } else if (kind) {
                       u.password = *s;
                     } else {
                       error(v, w,
                             "must be an argon2id string ($argon2id$v=19$..., from "
                             "`micro-gw hash-password`), @sha256:<64 hex digits>, Ballerina's "
                             "@sha256:{hex}, @sha384:{hex} or @sha512:{hex}, or a 40-hex-digit "
                             "SHA-1 (legacy); plain-text passwords are not accepted");
                     }
                   }},
                  {"roles",
                   [&](const Value& v, const Where& w) {
                     auto list = getStringList(v, w, false);
                     if (!list) return;
                     for (const auto& [role, at] : *list) {
                       if (std::find(kRoles.begin(), kRoles.end(), role) == kRoles.end()) {
                         error(*at, w, "unknown role; must be one of " + joined(kRoles));
                         continue;
                       }
                       u.roles.push_back(role);
                     }
                   }},
                  {"apis",
                   [&](const Value& v, const Where& w) {
                     auto list = getStringList(v, w, false);
                     if (!list) return;
                     std::vector<std::string> apis;
                     for (const auto& [api, at] : *list) {
                       auto colon = api.rfind(':');
                       if (colon == std::string::npos || colon == 0 || colon + 1 == api.size()) {
                         error(*at, w, "must be \"Name:version\" or \"Name:*\" (any version)");
                         continue;
                       }
                       apis.push_back(api);
                     }
                     u.apis = std::move(apis);
                   }},
                  {"tier", [&](auto& v, auto& w) { readString(v, w, u.tier, false); }},
                  // WSO2 MGW 3.x (Ballerina's config auth store): "read:pets,write:pets"; a
                  // list of strings too. Checked for basic auth on resources with scopes.
                  {"scopes",
                   [&](const Value& v, const Where& w) {
                     auto list = getStringList(v, w, true);
                     if (!list) return;
                     for (const auto& [item, at] : *list) {
                       std::string word;
                       for (char ch : item + ",") {
                         if (ch == ',' || ch == ' ' || ch == '\t') {
                           if (!word.empty()) u.scopes.push_back(word);
                           word.clear();
                         } else {
                           word += ch;
                         }
                       }
                     }
                   }},
              });
    if (!hasPassword) {
      errorAt(lineOf(t), header + " password",
              "missing: every user needs a password ($argon2id$... from `micro-gw hash-password`, "
              "@sha256:<64 hex digits> or a 40-hex-digit SHA-1)");
    }
    c.users.push_back(std::move(u));
  }

  void readAuthentication(const Value& t, AuthConfig& a) {
    readTable(
        t, "[authentication]", "authentication",
        {
            {"maxFailures",
             [&](auto& v, auto& w) { readPositive(v, w, a.maxFailures, "failures"); }},
            {"failureWindowSeconds",
             [&](auto& v, auto& w) { readPositive(v, w, a.failureWindowSeconds, "seconds"); }},
            {"maxFailuresPerAddress",
             [&](auto& v, auto& w) { readPositive(v, w, a.maxFailuresPerAddress, "failures"); }},
            {"keyLookupFailuresPerMinute",
             [&](auto& v, auto& w) {
               readPositive(v, w, a.keyLookupFailuresPerMinute, "failed key lookups");
             }},
            {"credentialCacheSeconds",
             [&](auto& v, auto& w) {
               readInt(v, w, a.credentialCacheSeconds, 0, INT_MAX,
                       "must be 0 (no cache) or a positive number of seconds");
             }},
            {"maxConcurrentPasswordChecks",
             [&](auto& v, auto& w) {
               readInt(v, w, a.maxConcurrentPasswordChecks, 0, 1024,
                       "must be between 0 and 1024 (0 = half of workerThreads, at least 1)");
             }},
        });
  }

  void readApikey(const Value& t, Config& c) {
    readTable(
        t, "[apikey]", "apikey",
        {
            {"issuer",
             [&](const Value& v, const Where& w) {
               if (!expectTable(v, w)) return;
               // [apikey.issuer] itself holds nothing; the seed writes it as an empty parent.
               readTable(v, "[apikey.issuer]", "apikey.issuer",
                         {
                             {"tokenConfig",
                              [&](const Value& tv, const Where& tw) {
                                if (expectTable(tv, tw)) readIssuer(tv, c.tokenIssuer);
                              }},
                             {"api",
                              [&](const Value& av, const Where& aw) {
                                forEachTable(av, aw,
                                             [&](const Value& api) { readIssuerApi(api, c); });
                              }},
                         });
             }},
            {"keyPrefix",
             [&](const Value& v, const Where& w) {
               std::string prefix;
               readString(v, w, prefix);
               if (auto why = validateKeyPrefix(prefix)) {
                 error(v, w, "\"" + prefix.substr(0, 40) + "\": " + *why);
                 return;
               }
               c.opaqueKeys.keyPrefix = prefix;
             }},
            {"maxGracePeriodSeconds",
             [&](const Value& v, const Where& w) {
               readInt(v, w, c.opaqueKeys.maxGracePeriodSeconds, 0, 366LL * 24 * 3600,
                       "must be 0 (no grace period) to 31622400 seconds (366 days)");
             }},
            {"trackLastUsed",
             [&](const Value& v, const Where& w) { readBool(v, w, c.opaqueKeys.trackLastUsed); }},
            {"lastUsedWriteSeconds",
             [&](const Value& v, const Where& w) {
               readInt(v, w, c.opaqueKeys.lastUsedWriteSeconds, 1, 3600,
                       "must be 1 to 3600 seconds");
             }},
            {"expiryWarningDays",
             [&](const Value& v, const Where& w) {
               readInt(v, w, c.opaqueKeys.expiryWarningDays, 0, 3650,
                       "must be 0 (no warning) to 3650 days");
             }},
            {"leakReporters",
             [&](const Value& v, const Where& w) {
               auto list = getStringList(v, w, true);
               if (!list) return;
               c.opaqueKeys.leakReporters.clear();
               for (const auto& [item, at] : *list) c.opaqueKeys.leakReporters.push_back(item);
             }},
            {"tokenConfigs",
             [&](const Value& v, const Where& w) {
               c.tokenConfigsDeclared = true;
               const std::string header =
                   v.is_array() ? "[[apikey.tokenConfigs]]" : "[apikey.tokenConfigs]";
               forEachTable(v, w, [&](const Value& tc) { readTrustedIssuer(tc, c, header); });
               if (v.is_array() && v.as_array().empty()) {
                 error(v, w,
                       "declares no trusted issuer: add [[apikey.tokenConfigs]] entries, or "
                       "remove it to trust the local issuer");
               }
             }},
        });
  }

  void readIssuer(const Value& t, IssuerConfig& i) {
    readTable(
        t, "[apikey.issuer.tokenConfig]", "apikey.issuer.tokenConfig",
        {
            {"enabled", [&](auto& v, auto& w) { readBool(v, w, i.enabled); }},
            {"keyStorePath", [&](auto& v, auto& w) { readPath(v, w, i.keyStorePath); }},
            {"keyStorePassword", [&](auto& v, auto& w) { readString(v, w, i.keyStorePassword); }},
            {"issuer", [&](auto& v, auto& w) { readString(v, w, i.issuer, false); }},
            {"certificateAlias",
             [&](auto& v, auto& w) { readString(v, w, i.certificateAlias, false); }},
            {"validityTime",
             [&](auto& v, auto& w) {
               readInt(v, w, i.validityTime, INT64_MIN, INT64_MAX, "must be an integer");
             }},
            {"signatureAlgorithm",
             [&](auto& v, auto& w) { readEnum(v, w, i.signatureAlgorithm, kSignatureAlgorithms); }},
            {"audience", [&](auto& v, auto& w) { readString(v, w, i.audience, false); }},
            {"keySetPath", [&](auto& v, auto& w) { readPath(v, w, i.keySetPath); }},
            {"rotationLeadTime",
             [&](auto& v, auto& w) {
               readInt(v, w, i.rotationLeadTime, 0, 366LL * 24 * 3600,
                       "must be seconds from 0 to 31622400 (366 days)");
             }},
            {"keyPrefix",
             [&](const Value& v, const Where& w) {
               // One prefix per gateway: a framed signed key carries [apikey] keyPrefix, so the
               // gateway and `keys scan` know it whether or not the issuer frames keys now.
               if (v.is_string() && v.as_string().str.find("${") == std::string::npos) {
                 error(v, w,
                       "must be true or false: signed keys are framed with [apikey] keyPrefix "
                       "(set the prefix there)");
                 return;
               }
               readBool(v, w, i.keyPrefix);
             }},
        });
  }

  void readIssuerApi(const Value& t, Config& c) {
    IssuerApi api;
    api.line = lineOf(t);
    bool hasVersions = false;
    const std::string header = "[[apikey.issuer.api]]";
    readTable(t, header, "apikey.issuer.api",
              {
                  {"name", [&](auto& v, auto& w) { readString(v, w, api.name, false); }},
                  {"versions",
                   [&](const Value& v, const Where& w) {
                     hasVersions = true;
                     auto list = getStringList(v, w, true);
                     if (!list) return;
                     for (const auto& [s, at] : *list) {
                       // "1.0.0, v1, v2": the WSO2 form is one comma-separated string.
                       std::stringstream in(s);
                       std::string item;
                       while (std::getline(in, item, ',')) {
                         std::string version = trim(item);
                         if (version.empty()) {
                           error(
                               *at, w,
                               "has an empty version; write \"1.0.0, v1\" or \"*\" (any version)");
                           continue;
                         }
                         api.versions.push_back(version);
                       }
                       if (!s.empty() && s.back() == ',') {
                         error(*at, w,
                               "has an empty version; write \"1.0.0, v1\" or \"*\" (any version)");
                       }
                     }
                   }},
              });
    if (api.name.empty() && !t.contains("name")) {
      errorAt(api.line, header + " name", "missing: the API name (the OpenAPI info.title)");
    }
    if (!hasVersions) {
      errorAt(api.line, header + " versions",
              "missing: the allowed versions, \"1.0.0, v1\" or \"*\" (any version)");
    } else if (api.versions.empty() && t.at("versions").is_array()) {
      errorAt(api.line, header + " versions",
              "is empty; write \"1.0.0, v1\" or \"*\" (any version)");
    }
    if (!api.name.empty()) {
      for (const auto& other : c.issuerApis) {
        if (other.name == api.name) {
          errorAt(api.line, header + " name",
                  "duplicate API \"" + api.name + "\" (first declared at line " +
                      std::to_string(other.line) + "); list all its versions in one entry");
        }
      }
    }
    c.issuerApis.push_back(std::move(api));
  }

  void readTrustedIssuer(const Value& t, Config& c, const std::string& header) {
    TrustedIssuer ti;
    bool enforceAudience = false;
    int audienceLine = lineOf(t);
    readTable(
        t, header, "apikey.tokenConfigs",
        {
            {"issuer", [&](auto& v, auto& w) { readString(v, w, ti.issuer, false); }},
            {"certificateAlias", [&](auto& v, auto& w) { readString(v, w, ti.certificateAlias); }},
            {"certificateFile", [&](auto& v, auto& w) { readPath(v, w, ti.certificateFile); }},
            {"validateAllowedAPIs",
             [&](auto& v, auto& w) { readBool(v, w, ti.validateAllowedAPIs); }},
            {"audience",
             [&](auto& v, auto& w) {
               readString(v, w, ti.audience, false);
               audienceLine = lineOf(v);
             }},
            // micro-gw's own: require the audience (WSO2 MGW 3.2.10 never checked it).
            {"enforceAudience", [&](auto& v, auto& w) { readBool(v, w, enforceAudience); }},
        });
    // WSO2 MGW 3.2.10 read audience in its single [apikey.tokenConfigs] table and never checked
    // it, so the keys it issued may carry another aud: ignored there unless enforceAudience =
    // true, so they keep working. micro-gw's [[apikey.tokenConfigs]] list checks it.
    const bool wso2Table = header == "[apikey.tokenConfigs]";
    if (!ti.audience.empty() && !enforceAudience && wso2Table) {
      warnings_.push_back({file_, audienceLine, header + " audience",
                           "WSO2 API Microgateway 3.x setting, ignored as WSO2 3.2.10 ignored it "
                           "(keys it issued keep working); set enforceAudience = true to require "
                           "it in aud",
                           ""});
      ti.audience.clear();
    }
    // WSO2 MGW 3.x read the single [apikey.tokenConfigs] table with defaults for both (a table
    // holding only a switch, validateAllowedAPIs = true, trusted WSO2's default issuer): the same
    // defaults, said at load. [[apikey.tokenConfigs]] (micro-gw's list) has no defaults.
    if (!t.contains("issuer") && wso2Table) {
      ti.issuer = kWso2DefaultApiKeyIssuer;
      warnings_.push_back({file_, lineOf(t), header + " issuer",
                           std::string("not given: WSO2 API Microgateway 3.x's default \"") +
                               kWso2DefaultApiKeyIssuer + "\" applies",
                           ""});
    } else if (!t.contains("issuer")) {
      errorAt(lineOf(t), header + " issuer",
              "missing: the iss claim of the keys this issuer signs");
    }
    if (ti.certificateAlias.empty() && ti.certificateFile.empty() && wso2Table &&
        !t.contains("certificateAlias")) {
      ti.certificateAlias = kWso2DefaultApiKeyAlias;
      warnings_.push_back({file_, lineOf(t), header + " certificateAlias",
                           std::string("not given: WSO2 API Microgateway 3.x's default \"") +
                               kWso2DefaultApiKeyAlias + "\" applies (the truststore entry)",
                           ""});
    } else if (ti.certificateAlias.empty() && ti.certificateFile.empty()) {
      errorAt(lineOf(t), header + " certificateAlias",
              "missing: give certificateAlias (the kid of its keys and its truststore alias) "
              "and/or certificateFile (PEM certificate or public key)");
    }
    ti.certificateFile = resolve(ti.certificateFile, nullptr);
    c.trustedIssuers.push_back(std::move(ti));
  }

  void readServer(const Value& t, ServerConfig& s) {
    readTable(t, "[server]", "server",
              {{"timestampSkew", [&](auto& v, auto& w) {
                  readInt(v, w, s.timestampSkewMs, 0, 3600000,
                          "must be between 0 and 3600000 (milliseconds of clock skew)");
                }}});
  }

  // [validationConfig] (WSO2 MGW 3.x's keys, plus the body limits and enforceResponse).
  void readValidation(const Value& t, ValidationConfig& vc) {
    readTable(
        t, "[validationConfig]", "validationConfig",
        {
            {"enableRequestValidation",
             [&](auto& v, auto& w) { readBool(v, w, vc.enableRequestValidation); }},
            {"enableResponseValidation",
             [&](auto& v, auto& w) { readBool(v, w, vc.enableResponseValidation); }},
            {"maxBodyBytes",
             [&](auto& v, auto& w) {
               readInt(v, w, vc.maxBodyBytes, 1, 64 * 1024 * 1024,
                       "must be between 1 and 67108864 (bytes of a validated request body)");
             }},
            {"maxResponseBodyBytes",
             [&](auto& v, auto& w) {
               readInt(v, w, vc.maxResponseBodyBytes, 0, 64 * 1024 * 1024,
                       "must be between 0 and 67108864 (bytes of a validated answer body)");
             }},
            {"enforceResponse", [&](auto& v, auto& w) { readBool(v, w, vc.enforceResponse); }},
        });
  }

  void readCaching(const Value& t, CachingConfig& cc) {
    readTable(t, "[caching]", "caching",
              {
                  {"enabled", [&](auto& v, auto& w) { readBool(v, w, cc.enabled); }},
                  {"tokenCacheExpiryTime",
                   [&](auto& v, auto& w) {
                     readPositive(v, w, cc.tokenCacheExpiryTime, "seconds");
                     // WSO2 MGW 3.x's template says seconds but writes 900000: Ballerina's cache
                     // read milliseconds (15 minutes). micro-gw reads seconds (SPEC section 3); a
                     // value over a day that is a whole number of seconds in milliseconds is most
                     // likely WSO2's.
                     const int s = cc.tokenCacheExpiryTime;
                     if (s > 86400 && s % 1000 == 0)
                       warn(v, w,
                            "micro-gw reads seconds: " + std::to_string(s) + " is " +
                                std::to_string(s / 86400) +
                                " days; WSO2 MGW 3.x wrote milliseconds, so " + "write " +
                                std::to_string(s / 1000) + " for the same cache time");
                   }},
                  {"tokenCacheCapacity",
                   [&](auto& v, auto& w) { readPositive(v, w, cc.tokenCacheCapacity, "entries"); }},
              });
  }

  void readApis(const Value& t, ApisConfig& a) {
    readTable(t, "[apis]", "apis",
              {
                  {"definitions",
                   [&](const Value& v, const Where& w) {
                     definitionsDeclared_ = true;
                     auto list = getStringList(v, w, true);
                     if (!list) return;
                     for (const auto& [s, at] : *list) {
                       if (trim(s).empty()) {
                         error(*at, w, "an empty path; give an OpenAPI file or a folder of them");
                         continue;
                       }
                       std::string path = resolve(s, nullptr);
                       std::error_code ec;
                       if (!fs::exists(path, ec)) {
                         error(*at, w,
                               path +
                                   " does not exist; give an OpenAPI file (YAML or JSON) "
                                   "or a folder of them, relative to " +
                                   home_);
                         continue;
                       }
                       a.definitions.push_back(path);
                     }
                   }},
                  {"api",
                   [&](const Value& v, const Where& w) {
                     forEachTable(v, w, [&](const Value& api) { readInlineApi(api, a); });
                   }},
                  {"allowPathParameters",
                   [&](auto& v, auto& w) { readBool(v, w, a.allowPathParameters); }},
              });
  }

  void readEndpoints(const Value& v, const Where& w, std::vector<std::string>& out) {
    auto list = getStringList(v, w, true);
    if (!list) return;
    out.clear();
    for (const auto& [url, at] : *list) {
      std::string why;
      if (!parseEndpointUrl(url, &why)) {
        // The transport's parser decides; its reason is added when it says more than the rule.
        const bool scheme = why.find("not an http") != std::string::npos;
        error(*at, w,
              "must be an http://, https://, h2c:// or h2:// URL with a host "
              "(\"http://localhost:8080/api\")" +
                  (scheme ? std::string() : ": " + why));
        continue;
      }
      out.push_back(url);
    }
  }

  // [[apis.api.plans]] (issue 26 item 1): name (unique in the API), security, tier,
  // subscriptionRequired, selectionRule (compiled with the API, apis/openapi_loader.cc).
  void readPlan(const Value& t, InlineApi& api) {
    PlanConfig plan;
    plan.line = lineOf(t);
    const std::string header = "[[apis.api.plans]]";
    readTable(t, header, "apis.api.plans",
              {
                  {"name", [&](auto& v, auto& w) { readString(v, w, plan.name, false); }},
                  {"security",
                   [&](const Value& v, const Where& w) {
                     auto list = getStringList(v, w, false);
                     if (!list) return;
                     plan.security.clear();
                     for (const auto& [s, at] : *list) {
                       if (std::find(kSecuritySchemes.begin(), kSecuritySchemes.end(), s) ==
                           kSecuritySchemes.end()) {
                         error(*at, w,
                               "unknown security scheme; an inline API's plan takes " +
                                   joined(kSecuritySchemes));
                         continue;
                       }
                       plan.security.push_back(s);
                     }
                   }},
                  {"tier", [&](auto& v, auto& w) { readString(v, w, plan.tier, false); }},
                  {"subscriptionRequired",
                   [&](auto& v, auto& w) { readBool(v, w, plan.subscriptionRequired); }},
                  {"selectionRule",
                   [&](const Value& v, const Where& w) {
                     readString(v, w, plan.selectionRule, false);
                     plan.ruleLine = lineOf(v);
                   }},
              });
    if (!t.contains("name"))
      errorAt(plan.line, header + " name", "missing: every plan needs a name");
    for (const auto& other : api.plans) {
      if (!plan.name.empty() && other.name == plan.name) {
        errorAt(plan.line, header + " name",
                "duplicate plan '" + plan.name + "' (first declared at line " +
                    std::to_string(other.line) + "); plan names are unique within an API");
      }
    }
    api.plans.push_back(std::move(plan));
  }

  void readInlineApi(const Value& t, ApisConfig& a) {
    InlineApi api;
    api.line = lineOf(t);
    const std::string header = "[[apis.api]]";
    readTable(
        t, header, "apis.api",
        {
            {"name", [&](auto& v, auto& w) { readString(v, w, api.name, false); }},
            {"version", [&](auto& v, auto& w) { readString(v, w, api.version, false); }},
            {"context",
             [&](const Value& v, const Where& w) {
               auto s = getString(v, w);
               if (!s) return;
               const std::string& ctx = *s;
               if (ctx.size() < 2 || ctx.front() != '/' || ctx.back() == '/' ||
                   ctx.find("//") != std::string::npos ||
                   ctx.find_first_of("?# \t") != std::string::npos) {
                 error(v, w,
                       "must start with '/', not end with '/', and hold no '//', '?', '#' "
                       "or spaces (\"/pizzashack/1.0.0\")");
                 return;
               }
               for (const auto& reserved : kReservedContexts) {
                 if (ctx == reserved || ctx.rfind(reserved + "/", 0) == 0) {
                   error(v, w, "is reserved by micro-gw (" + joined(kReservedContexts) + ")");
                   return;
                 }
               }
               api.context = ctx;
             }},
            {"production", [&](auto& v, auto& w) { readEndpoints(v, w, api.production); }},
            {"sandbox", [&](auto& v, auto& w) { readEndpoints(v, w, api.sandbox); }},
            {"security",
             [&](const Value& v, const Where& w) {
               auto list = getStringList(v, w, false);
               if (!list) return;
               api.security.clear();
               for (const auto& [s, at] : *list) {
                 if (std::find(kSecuritySchemes.begin(), kSecuritySchemes.end(), s) ==
                     kSecuritySchemes.end()) {
                   error(*at, w,
                         "unknown security scheme; must be one of " + joined(kSecuritySchemes) +
                             ", or [] for an open API");
                   continue;
                 }
                 api.security.push_back(s);
               }
             }},
            {"apiKeyHeader",
             [&](const Value& v, const Where& w) {
               auto s = getString(v, w);
               if (!s) return;
               if (!isHttpToken(*s)) {
                 error(v, w,
                       "must be a header field name (RFC 9110 token: letters, digits, "
                       "!#$%&'*+-.^_`|~)");
                 return;
               }
               api.apiKeyHeader = *s;
             }},
            {"apiKeyQuery",
             [&](const Value& v, const Where& w) {
               auto s = getString(v, w);
               if (!s) return;
               if (!isUnreserved(*s)) {
                 error(v, w,
                       "must be a query parameter name of letters, digits, '-', '.', '_', '~'");
                 return;
               }
               api.apiKeyQuery = *s;
             }},
            {"apiKeyBearer", [&](auto& v, auto& w) { readBool(v, w, api.apiKeyBearer); }},
            {"apiKeyCookie",
             [&](const Value& v, const Where& w) {
               auto s = getString(v, w);
               if (!s) return;
               if (!isHttpToken(*s)) {  // RFC 6265 section 4.1.1: cookie-name is a token
                 error(v, w, "must be a cookie name (RFC 6265: an RFC 9110 token)");
                 return;
               }
               api.apiKeyCookie = *s;
             }},
            {"propagateApiKey", [&](auto& v, auto& w) { readBool(v, w, api.propagateApiKey); }},
            {"subscriptionRequired",
             [&](auto& v, auto& w) { readBool(v, w, api.subscriptionRequired); }},
            {"allowPathParameters",
             [&](auto& v, auto& w) {
               bool allow = false;
               readBool(v, w, allow);
               api.allowPathParameters = allow;
             }},
            {"timeoutSeconds",
             [&](auto& v, auto& w) { readPositive(v, w, api.timeoutSeconds, "seconds"); }},
            {"connectTimeoutSeconds",
             [&](auto& v, auto& w) { readPositive(v, w, api.connectTimeoutSeconds, "seconds"); }},
            {"cors",
             [&](const Value& v, const Where& w) {
               if (!expectTable(v, w)) return;
               api.cors.emplace();
               readCors(v, "[apis.api.cors]", "apis.api.cors", *api.cors);
             }},
            {"throttlingTier",
             [&](auto& v, auto& w) { readString(v, w, api.throttlingTier, false); }},
            {"plans",
             [&](const Value& v, const Where& w) {
               forEachTable(v, w, [&](const Value& p) { readPlan(p, api); });
             }},
            {"publishers",
             [&](const Value& v, const Where& w) {
               auto list = getStringList(v, w, true);
               if (!list) return;
               api.publishers.clear();
               for (const auto& [user, at] : *list) {
                 if (user.empty()) {
                   error(*at, w, "a publisher must be a user name, not empty");
                   continue;
                 }
                 api.publishers.push_back(user);
               }
             }},
        });
    for (const char* required : {"name", "version", "context"}) {
      if (!t.contains(required)) {
        errorAt(api.line, header + " " + required,
                std::string("missing: every inline API needs ") + "name, version and context");
      }
    }
    if (!t.contains("production") && !t.contains("sandbox")) {
      errorAt(api.line, header + " production",
              "missing: an inline API needs production and/or sandbox endpoint URLs");
    }
    for (const auto& other : a.inlineApis) {
      if (!api.name.empty() && other.name == api.name && other.version == api.version) {
        errorAt(api.line, header + " name",
                "duplicate API " + api.name + ":" + api.version + " (first declared at line " +
                    std::to_string(other.line) + "); name:version must be unique");
      } else if (!api.context.empty() && other.context == api.context) {
        errorAt(api.line, header + " context",
                "duplicate context " + api.context + " (also used by " + other.name + ":" +
                    other.version + " at line " + std::to_string(other.line) +
                    "); each API needs its own context");
      }
    }
    a.inlineApis.push_back(std::move(api));
  }

  // --- CORS and the backend JWT (SPEC section 15) ---------------------------------------------

  // [cors] and [[apis.api]] cors: x-wso2-cors's fields, each through its validator in
  // config/cors_config.h (the OpenAPI loader uses the same ones). Writing the table is the opt-in:
  // corsConfigurationEnabled defaults to true here, and false turns the global default off for one
  // API.
  void readCors(const Value& t, const std::string& header, const std::string& path, CorsConfig& c) {
    c.enabled = true;
    auto readList = [&](const Value& v, const Where& w, std::vector<std::string>& out,
                        const std::function<std::string(const std::string&)>& check) {
      auto list = getStringList(v, w, true);
      if (!list) return;
      out.clear();
      for (const auto& [item, at] : *list) {
        const std::string why = check(item);
        if (!why.empty()) {
          error(*at, w, "\"" + item.substr(0, 80) + "\": " + why);
          continue;
        }
        out.push_back(item);
      }
    };
    readTable(
        t, header, path,
        {
            {"corsConfigurationEnabled", [&](auto& v, auto& w) { readBool(v, w, c.enabled); }},
            {"accessControlAllowOrigins",
             [&](auto& v, auto& w) {
               readList(v, w, c.allowOrigins, [](const std::string& o) {
                 std::string why;
                 return parseOriginPattern(o, &why) ? std::string() : why;
               });
             }},
            {"accessControlAllowCredentials",
             [&](auto& v, auto& w) { readBool(v, w, c.allowCredentials); }},
            {"accessControlAllowHeaders",
             [&](auto& v, auto& w) {
               readList(v, w, c.allowHeaders,
                        [](const std::string& h) { return checkCorsHeader(h); });
             }},
            {"accessControlAllowMethods",
             [&](auto& v, auto& w) {
               readList(v, w, c.allowMethods,
                        [](const std::string& m) { return checkCorsMethod(m); });
             }},
            {"accessControlExposeHeaders",
             [&](auto& v, auto& w) {
               readList(v, w, c.exposeHeaders,
                        [](const std::string& h) { return checkCorsHeader(h); });
             }},
            {"accessControlMaxAge",
             [&](auto& v, auto& w) {
               readInt(v, w, c.maxAgeSeconds, -1, 86400, checkCorsMaxAge(-2));
             }},
        });
    if (const std::string why = checkCorsConfig(c); !why.empty()) errorAt(lineOf(t), header, why);
  }

  void readJwtGenerator(const Value& t, JwtGeneratorConfig& j) {
    static const std::vector<std::string> kClaims = {"sub", "keytype", "application", "tier",
                                                     "subscriber"};
    j.line = lineOf(t);
    readTable(t, "[jwtGenerator]", "jwtGenerator",
              {
                  {"enabled", [&](auto& v, auto& w) { readBool(v, w, j.enabled); }},
                  {"header", [&](auto& v, auto& w) { readJwtHeader(v, w, j); }},
                  {"signingKey", [&](auto& v, auto& w) { readPath(v, w, j.signingKey); }},
                  {"signingKeyPassword",
                   [&](auto& v, auto& w) { readString(v, w, j.signingKeyPassword); }},
                  {"kid", [&](auto& v, auto& w) { readString(v, w, j.kid, false); }},
                  {"issuer", [&](auto& v, auto& w) { readString(v, w, j.issuer, false); }},
                  {"validitySeconds",
                   [&](auto& v, auto& w) {
                     readInt(v, w, j.validitySeconds, 10, 86400,
                             "must be between 10 and 86400 seconds");
                   }},
                  {"claims",
                   [&](const Value& v, const Where& w) {
                     auto list = getStringList(v, w, false);
                     if (!list) return;
                     j.claims.clear();
                     for (const auto& [claim, at] : *list) {
                       if (std::find(kClaims.begin(), kClaims.end(), claim) == kClaims.end()) {
                         error(*at, w, "unknown claim; must be one of " + joined(kClaims));
                         continue;
                       }
                       j.claims.push_back(claim);
                     }
                   }},
                  {"cacheCapacity",
                   [&](auto& v, auto& w) { readPositive(v, w, j.cacheCapacity, "entries"); }},
              });
  }

  void readJwtHeader(const Value& v, const Where& w, JwtGeneratorConfig& j) {
    auto s = getString(v, w);
    if (!s) return;
    if (!isHttpToken(*s)) {
      error(v, w, "must be a header field name (RFC 9110 token)");
      return;
    }
    j.header = *s;
  }

  // WSO2 MGW 3.x [jwtGeneratorConfig] onto [jwtGenerator]: the switch, issuer, expiry and cache
  // size; signed by the STS key as WSO2 signed with its keystore's (signingAlgorithm NONE, an
  // unsigned JWT, is refused). The rest is in config/wso2_keys.cc (warned, ignored).
  void readWso2JwtGenerator(const Value& t, JwtGeneratorConfig& j) {
    const std::string header = "[jwtGeneratorConfig]";
    if (j.line == 0) j.line = lineOf(t);
    j.signWithStsKey = true;
    readTable(
        t, header, "jwtGeneratorConfig",
        {
            {"jwtGeneratorEnabled", [&](auto& v, auto& w) { readBool(v, w, j.enabled); }},
            {"issuer", [&](auto& v, auto& w) { readString(v, w, j.issuer, false); }},
            {"tokenExpiry",
             [&](auto& v, auto& w) {
               std::int64_t ms = 0;
               readInt(v, w, ms, 10000, 86400000,
                       "must be between 10000 and 86400000 (milliseconds)");
               if (ms >= 10000) j.validitySeconds = static_cast<int>(ms / 1000);
             }},
            {"signingAlgorithm",
             [&](const Value& v, const Where& w) {
               auto s = getString(v, w);
               if (s && *s != "SHA256withRSA")
                 error(v, w,
                       "only SHA256withRSA is served (the STS key signs; an unsigned backend JWT, "
                       "NONE, would let anyone on the way forge the caller)");
             }},
            {"jwtGeneratorCaching",
             [&](const Value& v, const Where& w) {
               if (!expectTable(v, w)) return;
               readTable(v, header + " jwtGeneratorCaching",
                         "jwtGeneratorConfig.jwtGeneratorCaching",
                         {{"tokenCacheCapacity", [&](auto& cv, auto& cw) {
                             readPositive(cv, cw, j.cacheCapacity, "entries");
                           }}});
             }},
        });
    warnings_.push_back({file_, lineOf(t), header,
                         "WSO2 API Microgateway 3.x table, mapped onto [jwtGenerator] "
                         "(jwtGeneratorEnabled, issuer, tokenExpiry, tokenCacheCapacity; signed "
                         "by the STS key, kid " +
                             j.kid + ")",
                         ""});
  }

  // [cluster] (SPEC section 14).
  void readCluster(const Value& t, ClusterConfig& cl) {
    readTable(
        t, "[cluster]", "cluster",
        {{"redis",
          [&](auto& v, auto& w) {
            readString(v, w, cl.redis);
            std::string why;
            if (!cl.redis.empty() && !parseRedisUrl(cl.redis, &why)) error(v, w, why);
          }},
         {"redisPassword", [&](auto& v, auto& w) { readString(v, w, cl.redisPassword); }},
         {"changeStreamLength",
          [&](auto& v, auto& w) {
            readInt(v, w, cl.changeStreamLength, 100, 100000000,
                    "must be between 100 and 100000000 entries");
          }},
         {"redisTls", [&](auto& v, auto& w) {
            readBool(v, w, cl.redisTls);
            if (cl.redisTls)
              error(v, w,
                    "TLS to Redis is not available in this build (Debian 12's libhiredis 0.14 has "
                    "no hiredis_ssl): use false, and a TLS tunnel (stunnel, spiped) or a private "
                    "network between the nodes and Redis");
          }}});
    // Issue 22 item 7: whoever reaches an open Redis reads the shared state and drops or delays
    // it; the entries themselves are signed (cluster/change_codec.h), the access is Redis's AUTH.
    if (!cl.redis.empty() && cl.redisPassword.empty())
      errorAt(lineOf(t), "[cluster] redisPassword",
              "missing: required when [cluster] redis is set; the password Redis asks for "
              "(requirepass, or the default user's ACL password), so that not everyone who "
              "reaches Redis can read or delay the shared state");
  }

  void readStorage(const Value& t, StorageConfig& s) {
    readTable(t, "[storage]", "storage",
              {{"path", [&](auto& v, auto& w) { readPath(v, w, s.path); }},
               {"maxKeysPerUser",
                [&](auto& v, auto& w) { readPositive(v, w, s.maxKeysPerUser, "keys"); }}});
  }

  // [throttling] and [[throttling.policy]] (SPEC section 13). Names are checked against each
  // other here; throttle/policy.cc merges them over WSO2's defaults and policies.yaml.
  void readThrottling(const Value& t, ThrottlingConfig& th) {
    readTable(
        t, "[throttling]", "throttling",
        {
            {"policiesFile",
             [&](auto& v, auto& w) {
               readPath(v, w, th.policiesFile);
               th.policiesFileDeclared = !th.policiesFile.empty();
             }},
            {"unknownTier", [&](auto& v, auto& w) { readString(v, w, th.unknownTier, false); }},
            {"policy",
             [&](const Value& v, const Where& w) {
               forEachTable(v, w, [&](const Value& p) { readThrottlePolicy(p, th); });
             }},
        });
  }

  void readThrottlePolicy(const Value& t, ThrottlingConfig& th) {
    ThrottlePolicyConfig p;
    p.line = lineOf(t);
    const std::string header = "[[throttling.policy]]";
    readTable(
        t, header, "throttling.policy",
        {
            {"name", [&](auto& v, auto& w) { readString(v, w, p.name, false); }},
            {"level",
             [&](auto& v, auto& w) {
               readEnum(v, w, p.level, {"api", "application", "subscription"});
             }},
            {"count",
             [&](auto& v, auto& w) {
               readInt(v, w, p.count, 1, std::int64_t{1} << 40,
                       "must be a positive number of requests");
             }},
            {"unitTime",
             [&](auto& v, auto& w) {
               readInt(v, w, p.unitTime, 1, 1000000, "must be between 1 and 1000000");
             }},
            {"timeUnit",
             [&](auto& v, auto& w) {
               readEnum(v, w, p.timeUnit, {"ms", "sec", "min", "hour", "day"});
             }},
            {"stopOnQuotaReach", [&](auto& v, auto& w) { readBool(v, w, p.stopOnQuotaReach); }},
        });
    for (const char* required : {"name", "level", "count"}) {
      if (!t.contains(required)) {
        errorAt(p.line, header + " " + required,
                "missing: every policy needs name, level (api, application, subscription) and "
                "count (unitTime defaults to 1, timeUnit to \"min\")");
      }
    }
    for (const auto& other : th.policies) {
      if (!p.name.empty() && other.name == p.name && other.level == p.level) {
        errorAt(p.line, header + " name",
                "duplicate " + p.level + " policy " + p.name + " (first declared at line " +
                    std::to_string(other.line) + ")");
      }
    }
    th.policies.push_back(std::move(p));
  }

  void readObservability(const Value& t, ObservabilityConfig& o) {
    readTable(t, "[observability]", "observability",
              {{"metricsPort",
                [&](auto& v, auto& w) {
                  readInt(v, w, o.metricsPort, -1, 65535,
                          "must be between -1 and 65535 (0 = any free port, -1 = off)");
                }},
               {"metricsHost", [&](auto& v, auto& w) { readString(v, w, o.metricsHost, false); }},
               {"maxConnections", [&](auto& v, auto& w) {
                  readInt(v, w, o.maxConnections, 1, 100000, "must be between 1 and 100000");
                }}});
  }

  // [portal] (issue 28).
  void readPortal(const Value& t, PortalConfig& p) {
    readTable(t, "[portal]", "portal",
              {{"enabled",
                [&](auto& v, auto& w) {
                  bool on = false;
                  readBool(v, w, on);
                  p.enabled = on;
                }},
               {"sessionLifetime", [&](auto& v, auto& w) {
                  readInt(v, w, p.sessionLifetimeSeconds, 60, 604800,
                          "must be between 60 and 604800 seconds (one week)");
                }}});
  }

  // Cross-table checks and defaults that need the whole file.
  void finish(Config& c) {
    c.listener.keyStorePath = resolve(c.listener.keyStorePath, kDefaultListenerKeyStore);
    c.listener.trustStorePath = resolve(c.listener.trustStorePath, kDefaultTrustStore);
    c.tokenIssuer.keyStorePath = resolve(c.tokenIssuer.keyStorePath, kDefaultSigningKeyStore);
    if (c.tokenIssuer.keySetPath.empty())
      c.tokenIssuer.keySetPath =
          (fs::path(c.tokenIssuer.keyStorePath).parent_path() / "signing-keys").string();
    else
      c.tokenIssuer.keySetPath = resolve(c.tokenIssuer.keySetPath, nullptr);
    c.storage.path = resolve(c.storage.path, kDefaultStorage);
    if (!c.mutualSsl.crlPath.empty()) c.mutualSsl.crlPath = resolve(c.mutualSsl.crlPath, nullptr);
    // A WSO2 MGW 3.x project folder (its toolkit layout) keeps its definitions in api_definitions/.
    if (!definitionsDeclared_) {
      std::error_code ec;
      const std::string wso2Definitions = resolve(kWso2DefinitionsFolder, nullptr);
      if (fs::is_directory(wso2Definitions, ec)) c.apis.definitions.push_back(wso2Definitions);
    }
    // [security] validateSubscriptions = true (WSO2 MGW 3.x, one switch for every issuer): each
    // [[jwtTokenConfig]] validates subscriptions (subscribedAPIs must name the API).
    if (validateSubscriptions_) {
      for (JwtIssuerConfig& j : c.jwtIssuers) j.validateSubscription = true;
      warnings_.push_back(
          {file_, validateSubscriptionsLine_, "[security] validateSubscriptions",
           "WSO2 API Microgateway 3.x setting, mapped: validateSubscription = true on every "
           "[[jwtTokenConfig]] (" +
               std::to_string(c.jwtIssuers.size()) +
               " issuer(s)); a bearer token's subscribedAPIs must name the API (403 900908)",
           ""});
    }
    // [jwtGenerator]: its own keystore, or the STS's key (then the STS must be on).
    c.jwtGenerator.signingKey = resolve(c.jwtGenerator.signingKey, nullptr);
    if (c.jwtGenerator.enabled && c.jwtGenerator.signingKey.empty() && !c.tokenIssuer.enabled)
      errorAt(c.jwtGenerator.line, "[jwtGenerator] signingKey",
              "missing: the STS is disabled, so its signing key cannot sign backend JWTs; give a "
              "keystore (an ES256 or EdDSA key signs fastest)");
    if (c.jwtGenerator.enabled && c.jwtGenerator.kid == c.tokenIssuer.certificateAlias)
      errorAt(c.jwtGenerator.line, "[jwtGenerator] kid",
              "must differ from [apikey.issuer.tokenConfig] certificateAlias: a backend JWT must "
              "never be accepted as an API key");
    // One event loop per core; the blocking pool as large, so argon2id (64 MiB each) runs at
    // most once per worker: memory stays bounded under a login flood.
    const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    if (c.listener.ioThreads == 0) c.listener.ioThreads = cores;
    if (c.listener.workerThreads == 0) c.listener.workerThreads = cores;
    // argon2id is CPU-bound and takes 64 MiB: by default at most half the workers hash passwords,
    // so a login flood leaves cores (and memory) for everything else.
    if (c.auth.maxConcurrentPasswordChecks == 0)
      c.auth.maxConcurrentPasswordChecks = std::max(1, c.listener.workerThreads / 2);
    if (c.tokenIssuer.enabled && c.listener.httpsPort == -1) {
      // The STS is HTTPS only (it takes passwords); say so instead of silently not serving it.
      warnings_.push_back({file_, httpsPortLine_, "[listenerConfig] httpsPort",
                           "the STS is enabled but httpsPort = -1: /apikey is served on HTTPS only",
                           ""});
    }
  }

  std::string file_;
  std::string home_;
  std::vector<LoadError> errors_;
  std::vector<LoadError> warnings_;
  std::vector<EndpointOverride> overrides_;  // the file's endpoint overrides
  int httpsPortLine_ = 0;                    // for the cross-table STS/HTTPS warning
  bool validateSubscriptions_ = false;       // WSO2's [security] validateSubscriptions
  int validateSubscriptionsLine_ = 0;
  bool definitionsDeclared_ = false;  // [apis] definitions present (else api_definitions/)
};

}  // namespace

std::string LoadError::toString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) {
    out += key;
    if (!value.empty()) out += " = " + value;
    out += ": ";
  }
  out += message;
  return out;
}

std::string defaultRuntimeHome(const std::string& configPath) {
  const char* env = std::getenv("MGW_RUNTIME_HOME");
  if (env != nullptr && *env != '\0') return normalizedHome(env);
  fs::path config = fs::absolute(fs::path(configPath)).lexically_normal();
  return normalizedHome(config.parent_path().parent_path().string());
}

LoadResult loadConfigFromString(std::string_view toml, const std::string& displayName,
                                const std::string& runtimeHome) {
  std::string home = runtimeHome.empty() ? defaultRuntimeHome(displayName) : runtimeHome;
  return Loader(displayName, home).run(toml);
}

LoadResult loadConfig(const std::string& path, const std::string& runtimeHome) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    int err = errno;
    result.errors.push_back({path, 0, "",
                             std::string("cannot read the configuration file: ") +
                                 (err != 0 ? std::strerror(err) : "open failed"),
                             ""});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return loadConfigFromString(text.str(), path, runtimeHome);
}

}  // namespace mgw::config
