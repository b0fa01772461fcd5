#include "apis/definition_reader.h"
#include "apis/endpoint_overrides.h"
#include "apis/schema_reader.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <map>

#include "common/base64url.h"
#include "common/endpoint_url.h"
#include "common/syntax.h"
#include "gateway/selection_rule.h"
#include "validation/schema.h"

namespace mgw::apis {

using gateway::ApiDefinition;
using gateway::Endpoints;
using gateway::KeyLocation;
using gateway::KeySource;
using gateway::Resource;
using gateway::ResourceSecurity;

void replaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s->find(from, pos)) != std::string::npos; pos += to.size()) {
    s->replace(pos, from.size(), to);
  }
}

// Normalises a context (basePath) in place; returns why it is unusable, or "" when it is fine.
std::string checkContext(std::string* ctx) {
  if (ctx->empty() || (*ctx)[0] != '/') return "must start with '/'";
  while (ctx->size() > 1 && ctx->back() == '/') ctx->pop_back();
  if (*ctx == "/")
    return "must name at least one path segment (an API at '/' would shadow every other route)";
  for (char c : *ctx) {
    unsigned char u = static_cast<unsigned char>(c);
    // RFC 3986 pchar without '%' (the router compares decoded paths) plus '/'.
    // (strchr would find c == '\0' as the terminator, so NUL is refused explicitly.)
    if (c == '\0' || c == '*' ||
        !(std::isalnum(u) || std::strchr("/-._~!$&'()+,;=:@", c) != nullptr)) {
      static constexpr char kHex[] = "0123456789abcdef";
      const std::string shown =
          std::isprint(u) ? std::string(1, c) : std::string("\\x") + kHex[u >> 4] + kHex[u & 15];
      return "contains '" + shown + "' (allowed: letters, digits and -._~!$&'()+,;=:@)";
    }
  }
  std::size_t start = 1;
  while (start <= ctx->size()) {
    std::size_t slash = ctx->find('/', start);
    std::string seg =
        ctx->substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg.empty()) return "contains an empty segment ('//')";
    if (seg == "." || seg == "..") return "contains a '" + seg + "' segment";
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return "";
}

// Normalises an endpoint URL in place (drops a trailing '/'); returns why it is unusable, or "".
// The syntax is parseEndpointUrl's (the one the transport uses); the policy on top: the request
// path and query are appended, so the URL itself carries neither a query nor a fragment.
std::string checkEndpointUrl(std::string* url) {
  std::string why;
  if (!parseEndpointUrl(*url, &why)) return "endpoint '" + *url + "': " + why;
  const std::size_t hostStart = url->find("://") + 3;
  if (url->find('#', hostStart) != std::string::npos) {
    return "endpoint '" + *url + "' has a fragment (the request path and query are appended)";
  }
  // A query (WSO2 MGW 3.x definitions have them) is sent before the request's own query.
  if (url->find('?', hostStart) != std::string::npos) return "";
  while (url->size() > hostStart + 1 && url->back() == '/') url->pop_back();
  return "";
}

std::string checkOneProtocol(const std::vector<std::string>& urls) {
  std::string why;
  std::optional<bool> http2;
  for (const std::string& url : urls) {
    const auto target = parseEndpointUrl(url, &why);
    if (!target) continue;
    if (!http2) http2 = target->http2;
    if (target->http2 != *http2)
      return "endpoint '" + url + "' speaks HTTP/" + (target->http2 ? "2" : "1.1") + " and '" +
             urls.front() + "' HTTP/" + (*http2 ? "2" : "1.1") +
             ": the URLs of one endpoint list take one protocol (h2c:// and h2:// are HTTP/2)";
  }
  return "";
}

namespace {

constexpr const char* kMethods[] = {"get",     "put",  "post",  "delete",
                                    "options", "head", "patch", "trace"};

std::string child(const std::string& pointer, const std::string& token) {
  return pointer + "/" + validation::escapePointerToken(token);  // RFC 6901 section 3
}
std::string child(const std::string& pointer, std::size_t index) {
  return pointer + "/" + std::to_string(index);
}

std::string lowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool isAbsoluteUrl(const std::string& s) { return s.find("://") != std::string::npos; }

std::string pathOfUrl(const std::string& url) {
  if (!isAbsoluteUrl(url)) return url;
  std::size_t hostStart = url.find("://") + 3;
  std::size_t slash = url.find_first_of("/?#", hostStart);
  if (slash == std::string::npos || url[slash] != '/') return "/";
  std::size_t end = url.find_first_of("?#", slash);
  return url.substr(slash, end == std::string::npos ? std::string::npos : end - slash);
}

const char* const kCorsPointer = "/x-wso2-cors";

// One x-wso2-cors list (a single string is a list of one), each entry through check ("" = fine).
void readCorsList(Reader& r, const YAML::Node& node, const char* key,
                  const std::function<std::string(const std::string&)>& check,
                  std::vector<std::string>* out) {
  const YAML::Node n = node[key];
  if (!n) return;
  const std::string pointer = std::string(kCorsPointer) + "/" + key;
  if (!n.IsSequence() && !n.IsScalar()) {
    r.error(pointer, "must be a list of strings");
    return;
  }
  out->clear();
  const std::size_t count = n.IsSequence() ? n.size() : 1;
  for (std::size_t i = 0; i < count; ++i) {
    const YAML::Node item = n.IsSequence() ? n[i] : n;
    const std::string at = n.IsSequence() ? pointer + "/" + std::to_string(i) : pointer;
    auto value = r.scalar(item, at, key);
    if (!value) continue;
    const std::string why = check(*value);
    if (!why.empty()) {
      r.error(at, "\"" + value->substr(0, 80) + "\": " + why);
      continue;
    }
    out->push_back(*value);
  }
}

// Every x-wso2-cors field must be one micro-gw reads: a typo is an error, not a silent default.
void checkCorsFields(Reader& r, const YAML::Node& node) {
  static const std::vector<std::string> kKeys = {
      "corsConfigurationEnabled",  "accessControlAllowOrigins", "accessControlAllowCredentials",
      "accessControlAllowHeaders", "accessControlAllowMethods", "accessControlExposeHeaders",
      "accessControlMaxAge"};
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      std::string allowed;
      for (const auto& k : kKeys) allowed += (allowed.empty() ? "" : ", ") + k;
      r.error(std::string(kCorsPointer) + "/" + key, "unknown field; allowed: " + allowed);
    }
  }
}

// x-wso2-cors (SPEC section 15), each value through the validator config/cors_config.h gives
// the [cors] table too. Declaring the object is the opt-in: corsConfigurationEnabled defaults to
// true, and false turns the global [cors] off for this API.
std::optional<config::CorsConfig> readCors(Reader& r, const YAML::Node& node) {
  const std::string base = kCorsPointer;
  if (!node.IsMap()) {
    r.error(base, "must be an object (corsConfigurationEnabled, accessControlAllowOrigins, ...)");
    return std::nullopt;
  }
  config::CorsConfig c;
  c.enabled = true;
  const bool before = r.ok;
  checkCorsFields(r, node);
  if (const YAML::Node n = node["corsConfigurationEnabled"]) {
    if (auto v = r.boolean(n, base + "/corsConfigurationEnabled")) c.enabled = *v;
  }
  if (const YAML::Node n = node["accessControlAllowCredentials"]) {
    if (auto v = r.boolean(n, base + "/accessControlAllowCredentials")) c.allowCredentials = *v;
  }
  readCorsList(
      r, node, "accessControlAllowOrigins",
      [](const std::string& o) {
        std::string why;
        return config::parseOriginPattern(o, &why) ? std::string() : why;
      },
      &c.allowOrigins);
  readCorsList(r, node, "accessControlAllowHeaders", config::checkCorsHeader, &c.allowHeaders);
  readCorsList(r, node, "accessControlAllowMethods", config::checkCorsMethod, &c.allowMethods);
  readCorsList(r, node, "accessControlExposeHeaders", config::checkCorsHeader, &c.exposeHeaders);
  if (const YAML::Node n = node["accessControlMaxAge"]) {
    long long v = 0;
    if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v) ||
        !config::checkCorsMaxAge(v).empty())
      r.error(base + "/accessControlMaxAge", config::checkCorsMaxAge(-2));
    else
      c.maxAgeSeconds = static_cast<int>(v);
  }
  if (const std::string why = config::checkCorsConfig(c); !why.empty()) r.error(base, why);
  if (!r.ok && before) return std::nullopt;
  return c;
}

struct SecurityScheme {
  std::string type;                 // apiKey, oauth2, http (scheme basic), or one not served
  std::optional<KeySource> source;  // for type apiKey
  bool basic = false;               // type http, scheme basic
};

// A security requirement list (OpenAPI 3 section 4.8.30, Swagger 2 "security"), read as WSO2 MGW
// 3.x reads it: every scheme named by any alternative is a way in.
struct Requirement {
  bool open = false;               // [] or an empty alternative {}: no key needed
  std::vector<KeySource> sources;  // apiKey schemes named by the alternatives
  bool oauth2 = false;
  std::vector<std::string> scopes;  // of the oauth2 schemes
  bool basic = false;
  std::string unsupported;  // the schemes micro-gw does not serve, for the warning
  int undeclared = 0;       // names declared in no scheme list (skipped, with a warning)
  // Only undeclared names: WSO2's default (OAuth2 bearer tokens) applies.
  bool onlyUndeclared() const {
    return undeclared > 0 && sources.empty() && !oauth2 && !basic && unsupported.empty();
  }
  std::vector<gateway::SchemeSet> alternatives;  // what each object names (AND within one)
};

// What the readers after the first few need to know about the document.
struct Document {
  bool swagger2 = false;
  std::vector<std::string> servers;  // OpenAPI 3 server URLs, variables replaced
  std::map<std::string, SecurityScheme> schemes;
};

// The API-wide security every operation starts from.
struct ApiSecurity {
  std::optional<Requirement> requirement;  // the top-level security, if declared
  Requirement application;                 // x-wso2-application-security: added to every one
  bool disabled = false;                   // x-wso2-disable-security: true
  std::vector<KeySource> sources;          // every apiKey location named anywhere in the API
  int defaulted = 0;  // operations secured by WSO2's default (nothing declared anywhere)
};

void addSource(std::vector<KeySource>* sources, const KeySource& s) {
  for (const KeySource& e : *sources) {
    if (e.in == s.in && (s.in == KeyLocation::kHeader || s.in == KeyLocation::kBearer
                             ? strcasecmp(e.name.c_str(), s.name.c_str()) == 0
                             : e.name == s.name)) {
      return;
    }
  }
  sources->push_back(s);
}

// One alternative {schemeName: [scopes], ...} of a security requirement, added to *req.
bool readAlternative(Reader& r, const YAML::Node& alt, const std::string& altPointer,
                     const std::map<std::string, SecurityScheme>& schemes, Requirement* req) {
  gateway::SchemeSet kinds;
  for (auto it = alt.begin(); it != alt.end(); ++it) {
    std::string name = it->first.Scalar();
    auto s = schemes.find(name);
    if (s == schemes.end()) {
      // WSO2 MGW 3.x's toolkit skipped a name it found in no scheme list; an operation left with
      // no scheme got its default (OAuth2 bearer tokens). The same here, said at load.
      r.warn(child(altPointer, name),
             "security scheme '" + name +
                 "' is not declared (components.securitySchemes / securityDefinitions): ignored, "
                 "as WSO2 API Microgateway 3.x ignored it");
      ++req->undeclared;
      continue;
    }
    if (s->second.source) {
      addSource(&req->sources, *s->second.source);
      kinds.apiKey = true;
    } else if (s->second.type == "oauth2") {
      req->oauth2 = true;
      kinds.oauth2 = true;
      const YAML::Node scopes = it->second;
      if (scopes && scopes.IsScalar()) {
        // "read:books write:books" (a string, not a list): its words, as WSO2's toolkit read it.
        r.warn(child(altPointer, name), "the scopes of '" + name +
                                            "' are a string, read as a space-separated list "
                                            "(write them as a YAML list)");
        std::string word;
        for (char ch : scopes.Scalar() + " ") {
          if (ch == ' ' || ch == ',' || ch == '\t') {
            if (!word.empty()) req->scopes.push_back(word);
            word.clear();
          } else {
            word += ch;
          }
        }
        continue;
      }
      if (scopes && !scopes.IsNull() && !scopes.IsSequence()) {
        r.error(child(altPointer, name), "the scopes of '" + name + "' must be a list");
        return false;
      }
      for (std::size_t k = 0; scopes && scopes.IsSequence() && k < scopes.size(); ++k) {
        auto scope = r.scalar(scopes[k], child(child(altPointer, name), k), "a scope");
        if (!scope) return false;
        req->scopes.push_back(*scope);
      }
    } else if (s->second.basic) {
      req->basic = true;  // Authorization: Basic against [b7a.users]
      kinds.basic = true;
    } else {
      if (!req->unsupported.empty()) req->unsupported += ", ";
      req->unsupported += "'" + name + "' (" + s->second.type + ")";
      kinds.unsupported = true;
    }
  }
  req->alternatives.push_back(kinds);
  return true;
}

std::optional<Requirement> readRequirement(Reader& r, const YAML::Node& node,
                                           const std::string& pointer,
                                           const std::map<std::string, SecurityScheme>& schemes) {
  if (!node.IsSequence()) {
    r.error(pointer, "security must be a list of security requirement objects");
    return std::nullopt;
  }
  Requirement req;
  if (node.size() == 0) req.open = true;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node alt = node[i];
    std::string altPointer = child(pointer, i);
    if (alt.IsNull() || (alt.IsMap() && alt.size() == 0)) {
      // An empty alternative makes the key optional (OpenAPI 3 section 4.8.30): the resource is
      // open.
      req.open = true;
      continue;
    }
    if (alt.IsScalar()) {
      // "- api_key" instead of "- api_key: []": the scheme without scopes, as WSO2's toolkit
      // took it.
      r.warn(altPointer, "security entry '" + alt.Scalar() + "' is a string: read as {" +
                             alt.Scalar() + ": []} (write it as an object)");
      YAML::Node asObject(YAML::NodeType::Map);
      asObject[alt.Scalar()] = YAML::Node(YAML::NodeType::Sequence);
      if (!readAlternative(r, asObject, altPointer, schemes, &req)) return std::nullopt;
      continue;
    }
    if (!alt.IsMap()) {
      r.error(altPointer, "a security requirement must be an object {schemeName: [scopes]}");
      return std::nullopt;
    }
    if (!readAlternative(r, alt, altPointer, schemes, &req)) return std::nullopt;
  }
  if (req.onlyUndeclared()) req.oauth2 = true;
  return req;
}

std::optional<Endpoints> readEndpointObject(Reader& r, const YAML::Node& root,
                                            const YAML::Node& node, const std::string& pointer,
                                            int depth);

// {"$ref": "#/x-wso2-endpoints/<name>"}: the named entry of x-wso2-endpoints, which may not be a
// $ref itself.
std::optional<Endpoints> readEndpointRef(Reader& r, const YAML::Node& root, const YAML::Node& ref,
                                         const std::string& pointer, int depth) {
  auto target = r.scalar(ref, child(pointer, "$ref"), "$ref");
  if (!target) return std::nullopt;
  static const std::string kPrefix = "#/x-wso2-endpoints/";
  if (target->rfind(kPrefix, 0) != 0 || target->size() == kPrefix.size()) {
    r.error(child(pointer, "$ref"),
            "$ref must be \"#/x-wso2-endpoints/<name>\", not '" + *target + "'");
    return std::nullopt;
  }
  if (depth > 0) {
    r.error(child(pointer, "$ref"), "an endpoint $ref may not point to another $ref");
    return std::nullopt;
  }
  std::string name = target->substr(kPrefix.size());
  const YAML::Node all = root["x-wso2-endpoints"];
  // The entry's name is the one its runtime overrides use (<name>_prod_endpoint_0, ...).
  auto named = [&](std::optional<Endpoints> e) {
    if (e) e->overrideName = name;
    return e;
  };
  // WSO2 writes x-wso2-endpoints as a list of one-key objects; a plain object is accepted too.
  if (all && all.IsSequence()) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].IsMap() && all[i][name]) {
        return named(readEndpointObject(r, root, all[i][name],
                                        child(child("/x-wso2-endpoints", i), name), depth + 1));
      }
    }
  } else if (all && all.IsMap() && all[name]) {
    return named(
        readEndpointObject(r, root, all[name], child("/x-wso2-endpoints", name), depth + 1));
  }
  r.error(child(pointer, "$ref"),
          "$ref to missing endpoint '" + name + "' (not declared in x-wso2-endpoints)");
  return std::nullopt;
}

// WSO2 MGW 3.x securityConfig {type: basic, username, password}: the gateway sends
// Authorization: Basic to the backend. The password is never put in a message.
bool readEndpointSecurity(Reader& r, const YAML::Node& node, const std::string& pointer,
                          Endpoints* out) {
  const YAML::Node sec = node["securityConfig"];
  if (!sec) return true;
  const std::string at = child(pointer, "securityConfig");
  if (!sec.IsMap() || !sec["type"] || !sec["type"].IsScalar()) {
    r.error(at, "must be an object {type: basic, username, password}");
    return false;
  }
  if (lowerAscii(sec["type"].Scalar()) != "basic") {
    r.error(child(at, "type"), "endpoint security type '" + sec["type"].Scalar().substr(0, 40) +
                                   "' is not supported (allowed: basic)");
    return false;
  }
  const YAML::Node user = sec["username"];
  const YAML::Node password = sec["password"];
  if (!user || !user.IsScalar() || user.Scalar().empty() ||
      user.Scalar().find(':') != std::string::npos) {
    r.error(child(at, "username"), "must be a non-empty user name without ':' (RFC 7617)");
    return false;
  }
  // Without a password, WSO2 3.x took it from <name>_<prod|sand>_basic_password only (its
  // toolkit never read this one): left to apis/endpoint_overrides.h, which requires it.
  if (password && !password.IsScalar()) {
    r.error(child(at, "password"), "must be a string");
    return false;
  }
  const std::string secret = password ? password.Scalar() : std::string();
  for (char c : user.Scalar() + secret) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      r.error(at, "the user name or password holds a control character");
      return false;
    }
  }
  out->basicUsername = user.Scalar();
  out->basicPasswordMissing = !password;
  if (password) out->backendAuthorization = "Basic " + base64Encode(user.Scalar() + ":" + secret);
  return true;
}

// WSO2 MGW 3.x advanceEndpointConfig: timeoutInMillis is served (rounded up to seconds); the
// retry, circuit breaker and pool settings are not, said at load.
bool readAdvanceConfig(Reader& r, const YAML::Node& node, const std::string& pointer,
                       Endpoints* out) {
  const YAML::Node adv = node["advanceEndpointConfig"];
  if (!adv) return true;
  const std::string at = child(pointer, "advanceEndpointConfig");
  if (!adv.IsMap()) {
    r.error(at, "must be an object (timeoutInMillis, retryConfig, ...)");
    return false;
  }
  for (auto it = adv.begin(); it != adv.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (key == "timeoutInMillis") {
      long long ms = 0;
      if (!it->second.IsScalar() || !YAML::convert<long long>::decode(it->second, ms) || ms < 1 ||
          ms > 3600000) {
        r.error(child(at, key), "must be between 1 and 3600000 (milliseconds)");
        return false;
      }
      out->timeoutSeconds = static_cast<int>((ms + 999) / 1000);
    } else {
      r.warn(child(at, key),
             key + " ignored: " +
                 (key == "retryConfig" ? std::string("a request is not retried (type: failover "
                                                     "tries the next URL when one is down)")
                                       : std::string("not served; the gateway's own connection "
                                                     "pool and limits apply")));
    }
  }
  return true;
}

// An endpoint object: {"urls": [...], "type": "failover"} or a $ref to one.
std::optional<Endpoints> readEndpointObject(Reader& r, const YAML::Node& root,
                                            const YAML::Node& node, const std::string& pointer,
                                            int depth) {
  if (node.IsScalar() && node.Scalar().find("#/x-wso2-endpoints/") != std::string::npos) {
    // "#/x-wso2-endpoints/name" as a plain string: WSO2's toolkit read it as a $ref.
    YAML::Node ref(node.Scalar().substr(node.Scalar().find("#/x-wso2-endpoints/")));
    return readEndpointRef(r, root, ref, pointer, depth);
  }
  if (!node.IsMap()) {
    r.error(pointer,
            "endpoints must be an object with 'urls' (and optional 'type'), a '$ref', or the "
            "string \"#/x-wso2-endpoints/<name>\"");
    return std::nullopt;
  }
  if (const YAML::Node ref = node["$ref"]) return readEndpointRef(r, root, ref, pointer, depth);
  Endpoints out;
  const YAML::Node urls = node["urls"];
  if (!urls || !urls.IsSequence() || urls.size() == 0) {
    r.error(child(pointer, "urls"),
            "no endpoints: 'urls' must be a non-empty list of http(s) URLs");
    return std::nullopt;
  }
  for (std::size_t i = 0; i < urls.size(); ++i) {
    auto url = r.scalar(urls[i], child(child(pointer, "urls"), i), "an endpoint URL");
    if (!url) return std::nullopt;
    if (url->rfind("etcd(", 0) == 0) {
      r.error(child(child(pointer, "urls"), i),
              "endpoint '" + url->substr(0, 80) +
                  "': etcd(...) service discovery is not supported; give the backend's URL");
      return std::nullopt;
    }
    if (std::string why = checkEndpointUrl(&*url); !why.empty()) {
      r.error(child(child(pointer, "urls"), i), why);
      return std::nullopt;
    }
    out.urls.push_back(*url);
  }
  if (std::string why = checkOneProtocol(out.urls); !why.empty()) {
    r.error(child(pointer, "urls"), why);
    return std::nullopt;
  }
  if (!readEndpointSecurity(r, node, pointer, &out) || !readAdvanceConfig(r, node, pointer, &out))
    return std::nullopt;
  if (const YAML::Node type = node["type"]) {
    auto t = r.scalar(type, child(pointer, "type"), "type");
    if (!t) return std::nullopt;
    if (*t == "failover") {
      out.failover = true;
    } else {
      r.error(child(pointer, "type"),
              "endpoint type '" + *t +
                  "' is not supported (allowed: failover, or no type for one URL)");
      return std::nullopt;
    }
  }
  return out;
}

// Server URL with its variables replaced by their defaults (OpenAPI 3 section 4.8.5).
std::optional<std::string> serverUrl(Reader& r, const YAML::Node& server,
                                     const std::string& pointer) {
  if (!server.IsMap() || !server["url"]) {
    r.error(pointer, "a server must be an object with a 'url'");
    return std::nullopt;
  }
  auto url = r.scalar(server["url"], child(pointer, "url"), "url");
  if (!url) return std::nullopt;
  if (const YAML::Node vars = server["variables"]; vars && vars.IsMap()) {
    for (auto it = vars.begin(); it != vars.end(); ++it) {
      if (it->second.IsMap() && it->second["default"] && it->second["default"].IsScalar()) {
        replaceAll(&*url, "{" + it->first.Scalar() + "}", it->second["default"].Scalar());
      }
    }
  }
  if (url->find('{') != std::string::npos) {
    r.error(child(pointer, "url"), "server URL '" + *url + "' has a variable without a default");
    return std::nullopt;
  }
  return url;
}

std::string checkPathTemplate(const std::string& path) {
  if (path.empty() || path[0] != '/') return "a path must start with '/'";
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    bool last = slash == std::string::npos;
    std::string seg = path.substr(start, last ? std::string::npos : slash - start);
    if (seg == "." || seg == "..") return "a path may not contain '" + seg + "' segments";
    if (seg == "*") {
      if (!last) return "'*' is allowed only as the last segment";
    } else if (seg.find_first_of("{}*") != std::string::npos) {
      bool whole = seg.size() >= 3 && seg.front() == '{' && seg.back() == '}' &&
                   seg.find_first_of("{}*", 1) == seg.size() - 1;
      if (!whole)
        return "a path parameter must be a whole segment ('/order/{orderId}', not '" + seg + "')";
    }
    if (last) break;
    start = slash + 1;
  }
  return "";
}

// Which document this is: OpenAPI 3.x, or Swagger 2.0 (true).
std::optional<bool> readDialect(Reader& r, const YAML::Node& root) {
  if (!root.IsMap()) {
    r.error("", "not an OpenAPI document (expected an object at the top level)");
    return std::nullopt;
  }
  if (const YAML::Node v = root["openapi"]) {
    if (!v.IsScalar() || v.Scalar().rfind("3.", 0) != 0) {
      r.error("/openapi", "unsupported OpenAPI version (allowed: 3.x, or swagger: \"2.0\")");
      return std::nullopt;
    }
    return false;
  }
  if (const YAML::Node v2 = root["swagger"]) {
    if (!v2.IsScalar() || v2.Scalar() != "2.0") {
      r.error("/swagger", "unsupported Swagger version (allowed: \"2.0\", or openapi: 3.x)");
      return std::nullopt;
    }
    return true;
  }
  r.error("", "neither 'openapi' (3.x) nor 'swagger' (2.0) is declared");
  return std::nullopt;
}

// info.title and info.version: the API's name and version (both reported when both are missing).
bool readInfo(Reader& r, const YAML::Node& root, ApiDefinition* api) {
  const YAML::Node info = root["info"];
  if (!info || !info.IsMap()) {
    r.error("/info", "missing info object (info.title is the API name, info.version its version)");
    return false;
  }
  const YAML::Node title = info["title"];
  if (!title || !title.IsScalar() || title.Scalar().empty()) {
    r.error("/info/title", "missing info.title (the API name)");
  } else {
    api->name = title.Scalar();
  }
  const YAML::Node version = info["version"];
  if (!version || !version.IsScalar() || version.Scalar().empty()) {
    r.error("/info/version", "missing info.version (the API version)");
  } else {
    api->version = version.Scalar();
  }
  return r.ok;
}

// servers (OpenAPI 3): the fallback for both the context and the endpoints.
bool readServers(Reader& r, const YAML::Node& root, std::vector<std::string>* servers) {
  const YAML::Node s = root["servers"];
  if (!s) return true;
  if (!s.IsSequence()) {
    r.error("/servers", "servers must be a list");
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto url = serverUrl(r, s[i], child("/servers", i));
    if (!url) return false;
    servers->push_back(*url);
  }
  return true;
}

// The context: x-wso2-basePath, else basePath (Swagger 2) or the first server URL's path.
bool readContext(Reader& r, const YAML::Node& root, const Document& doc, Loaded* out) {
  std::string context;
  if (const YAML::Node bp = root["x-wso2-basePath"]) {
    out->contextPointer = "/x-wso2-basePath";
    auto v = r.scalar(bp, out->contextPointer, "x-wso2-basePath");
    if (!v) return false;
    context = *v;
  } else if (doc.swagger2) {
    out->contextPointer = "/basePath";
    const YAML::Node bp2 = root["basePath"];
    if (!bp2) {
      r.error(out->contextPointer,
              "bad basePath: neither x-wso2-basePath nor basePath is declared");
      return false;
    }
    auto v = r.scalar(bp2, out->contextPointer, "basePath");
    if (!v) return false;
    context = *v;
  } else {
    out->contextPointer = "/servers/0/url";
    if (doc.servers.empty()) {
      r.error("/x-wso2-basePath",
              "bad basePath: neither x-wso2-basePath nor a servers URL is declared");
      return false;
    }
    context = pathOfUrl(doc.servers[0]);
  }
  replaceAll(&context, "{version}", out->api.version);
  if (context == "/*" || context == "/") {
    // WSO2 MGW 3.x served such an API on every path; here it would shadow every other API and
    // micro-gw's own endpoints (/apikey, /.well-known).
    r.error(out->contextPointer,
            "bad basePath '" + context +
                "': an API on every path is not served (it would shadow every other API and "
                "micro-gw's own endpoints); give it a base path of its own (/orders/v1)");
    return false;
  }
  if (std::string why = checkContext(&context); !why.empty()) {
    r.error(out->contextPointer, "bad basePath '" + context + "': " + why);
    return false;
  }
  out->api.context = context;
  return true;
}

// Swagger 2 without x-wso2-production-endpoints: the first http(s) scheme listed (default http),
// the host, and basePath as the backend's path.
bool readSwaggerHost(Reader& r, const YAML::Node& root, Endpoints* production) {
  const YAML::Node host = root["host"];
  if (!host) return true;
  auto h = r.scalar(host, "/host", "host");
  if (!h) return false;
  std::string scheme = "http";
  if (const YAML::Node schemes = root["schemes"]; schemes && schemes.IsSequence()) {
    for (std::size_t i = 0; i < schemes.size(); ++i) {
      if (schemes[i].IsScalar() &&
          (schemes[i].Scalar() == "https" || schemes[i].Scalar() == "http")) {
        scheme = schemes[i].Scalar();
        break;
      }
    }
  }
  std::string url = scheme + "://" + *h;
  if (const YAML::Node bp2 = root["basePath"]; bp2 && bp2.IsScalar()) url += bp2.Scalar();
  if (std::string why = checkEndpointUrl(&url); !why.empty()) {
    r.error("/host", why);
    return false;
  }
  production->urls.push_back(url);
  return true;
}

// OpenAPI 3 without x-wso2-production-endpoints: every absolute server URL, failover in order.
bool readServerEndpoints(Reader& r, const Document& doc, Endpoints* production) {
  for (std::size_t i = 0; i < doc.servers.size(); ++i) {
    if (!isAbsoluteUrl(doc.servers[i])) continue;  // a relative server URL names no backend
    std::string url = doc.servers[i];
    if (std::string why = checkEndpointUrl(&url); !why.empty()) {
      r.error(child(child("/servers", i), "url"), why);
      return false;
    }
    production->urls.push_back(url);
  }
  production->failover = production->urls.size() > 1;
  return true;
}

// The API's endpoints: x-wso2-production-endpoints, else the servers (OpenAPI 3) or the host
// (Swagger 2); and x-wso2-sandbox-endpoints.
bool readApiEndpoints(Reader& r, const YAML::Node& root, const Document& doc, ApiDefinition* api) {
  if (const YAML::Node prod = root["x-wso2-production-endpoints"]) {
    auto e = readEndpointObject(r, root, prod, "/x-wso2-production-endpoints", 0);
    if (!e) return false;
    api->production = *e;
  } else if (!doc.swagger2) {
    if (!readServerEndpoints(r, doc, &api->production)) return false;
  } else if (!readSwaggerHost(r, root, &api->production)) {
    return false;
  }
  if (const YAML::Node sand = root["x-wso2-sandbox-endpoints"]) {
    auto e = readEndpointObject(r, root, sand, "/x-wso2-sandbox-endpoints", 0);
    if (!e) return false;
    api->sandbox = *e;
  }
  // The API's own lists (not an x-wso2-endpoints entry): WSO2's toolkit named them by the API's
  // id for the runtime overrides, api_<md5(title:version)>.
  for (Endpoints* list : {&api->production, &api->sandbox}) {
    if (list->overrideName.empty() && !list->empty())
      list->overrideName = wso2ApiId(api->name, api->version);
  }
  return true;
}

// One entry of components.securitySchemes (OpenAPI 3) or securityDefinitions (Swagger 2).
std::optional<SecurityScheme> readSecurityScheme(Reader& r, const std::string& name,
                                                 const YAML::Node& s, const std::string& p) {
  if (!s.IsMap() || !s["type"] || !s["type"].IsScalar()) {
    r.error(p, "security scheme '" + name + "' has no type");
    return std::nullopt;
  }
  SecurityScheme scheme{s["type"].Scalar(), std::nullopt, false};
  // OpenAPI 3 http schemes name the RFC 7235 scheme; Swagger 2 calls basic auth "basic".
  if ((scheme.type == "http" && s["scheme"] && s["scheme"].IsScalar() &&
       lowerAscii(s["scheme"].Scalar()) == "basic") ||
      scheme.type == "basic")
    scheme.basic = true;
  if (scheme.type == "apiKey") {
    std::string in = s["in"] && s["in"].IsScalar() ? s["in"].Scalar() : "";
    std::string keyName = s["name"] && s["name"].IsScalar() ? s["name"].Scalar() : "";
    if (in != "header" && in != "query" && in != "cookie") {
      r.error(child(p, "in"),
              "apiKey scheme '" + name + "': in must be header, query or cookie, not '" + in + "'");
      return std::nullopt;
    }
    if (keyName.empty()) {
      r.error(child(p, "name"), "apiKey scheme '" + name + "' has no name");
      return std::nullopt;
    }
    scheme.source = KeySource{in == "header"  ? KeyLocation::kHeader
                              : in == "query" ? KeyLocation::kQuery
                                              : KeyLocation::kCookie,
                              keyName};
  }
  // Issue 26 item 4: {type: http, scheme: bearer, x-mgw-api-key: true} is an API key sent as
  // "Authorization: Bearer <key>" (OpenAI-style clients), not an OAuth2 token.
  if (const YAML::Node k = s["x-mgw-api-key"]) {
    auto v = r.boolean(k, child(p, "x-mgw-api-key"));
    if (!v) return std::nullopt;
    if (*v && (scheme.type != "http" || !s["scheme"] || !s["scheme"].IsScalar() ||
               lowerAscii(s["scheme"].Scalar()) != "bearer")) {
      r.error(child(p, "x-mgw-api-key"),
              "only an http scheme with scheme: bearer may carry an API key "
              "(x-mgw-api-key: true)");
      return std::nullopt;
    }
    if (*v) scheme.source = KeySource{KeyLocation::kBearer, "Authorization"};
  }
  return scheme;
}

std::optional<std::map<std::string, SecurityScheme>> readSecuritySchemes(Reader& r,
                                                                         const YAML::Node& root,
                                                                         const Document& doc) {
  std::map<std::string, SecurityScheme> schemes;
  std::string schemesPointer =
      doc.swagger2 ? "/securityDefinitions" : "/components/securitySchemes";
  const YAML::Node schemesNode = doc.swagger2 ? root["securityDefinitions"]
                                              : (root["components"] && root["components"].IsMap()
                                                     ? root["components"]["securitySchemes"]
                                                     : YAML::Node());
  if (!schemesNode || !schemesNode.IsMap()) return schemes;
  for (auto it = schemesNode.begin(); it != schemesNode.end(); ++it) {
    std::string name = it->first.Scalar();
    auto scheme = readSecurityScheme(r, name, it->second, child(schemesPointer, name));
    if (!scheme) return std::nullopt;
    schemes.emplace(name, *scheme);
  }
  return schemes;
}

// x-wso2-application-security (WSO2 MGW 3.x): the types accepted on every resource of the API,
// besides its security.
bool readApplicationSecurity(Reader& r, const YAML::Node& root, Requirement* app) {
  const YAML::Node appSec = root["x-wso2-application-security"];
  if (!appSec) return true;
  const YAML::Node types = appSec.IsMap() ? appSec["security-types"] : YAML::Node();
  if (!types || !types.IsSequence()) {
    r.error("/x-wso2-application-security/security-types", "must be a list (e.g. [api_key])");
    return false;
  }
  for (std::size_t i = 0; i < types.size(); ++i) {
    const std::string type = types[i].IsScalar() ? types[i].Scalar() : "";
    if (type == "api_key") {
      app->sources.push_back(KeySource{KeyLocation::kHeader, "apikey"});
      app->sources.push_back(KeySource{KeyLocation::kQuery, "apikey"});
    } else if (type == "oauth2") {
      app->oauth2 = true;
    } else if (type == "basic_auth") {
      app->basic = true;
    } else {
      r.error(child("/x-wso2-application-security/security-types", i),
              "unknown security type (allowed: api_key, oauth2, basic_auth)");
      return false;
    }
  }
  return true;
}

// The API-wide security: its requirement, x-wso2-application-security, x-wso2-disable-security.
bool readApiSecurity(Reader& r, const YAML::Node& root, const Document& doc, ApiSecurity* out) {
  if (const YAML::Node sec = root["security"]) {
    out->requirement = readRequirement(r, sec, "/security", doc.schemes);
    if (!out->requirement) return false;
    for (const KeySource& k : out->requirement->sources) addSource(&out->sources, k);
  }
  if (!readApplicationSecurity(r, root, &out->application)) return false;
  for (const KeySource& k : out->application.sources) addSource(&out->sources, k);
  if (const YAML::Node d = root["x-wso2-disable-security"]) {
    auto v = r.boolean(d, "/x-wso2-disable-security");
    if (!v) return false;
    out->disabled = *v;
  }
  return true;
}

// x-mgw-plans (issue 26 item 1): [{name, security: [api_key|oauth2|basic], tier,
// subscriptionRequired, selectionRule}], in order; each rule compiled here, once.
bool readPlans(Reader& r, const YAML::Node& node, ApiDefinition* api) {
  const std::string base = "/x-mgw-plans";
  if (!node.IsSequence()) {
    r.error(base, "must be a list of plans ({name, security, tier, selectionRule})");
    return false;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string p = child(base, i);
    const YAML::Node n = node[i];
    if (!n.IsMap()) {
      r.error(p, "a plan must be a map ({name, security, tier, selectionRule})");
      return false;
    }
    gateway::ApiPlan plan;
    plan.security.apiKey = true;  // the default, as [[apis.api.plans]]
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string key = it->first.Scalar();
      const std::string at = child(p, key);
      if (key == "name" || key == "tier" || key == "selectionRule") {
        auto v = r.scalar(it->second, at, key.c_str());
        if (!v) return false;
        (key == "name" ? plan.name : key == "tier" ? plan.tier : plan.ruleText) = *v;
      } else if (key == "subscriptionRequired") {
        auto v = r.boolean(it->second, at);
        if (!v) return false;
        plan.subscriptionRequired = *v;
      } else if (key == "security") {
        if (!it->second.IsSequence()) {
          r.error(at, "must be a list (api_key, oauth2, basic)");
          return false;
        }
        plan.security = {};
        for (std::size_t k = 0; k < it->second.size(); ++k) {
          auto v = r.scalar(it->second[k], child(at, k), "a security scheme");
          if (!v) return false;
          if (*v == "api_key") {
            plan.security.apiKey = true;
          } else if (*v == "oauth2") {
            plan.security.oauth2 = true;
          } else if (*v == "basic") {
            plan.security.basic = true;
          } else {
            r.error(child(at, k), "unknown security scheme '" + v->substr(0, 40) +
                                      "' (allowed: api_key, oauth2, basic)");
            return false;
          }
        }
      } else {
        r.error(at,
                "unknown plan field (allowed: name, security, tier, subscriptionRequired, "
                "selectionRule)");
        return false;
      }
    }
    if (plan.name.empty()) {
      r.error(child(p, "name"), "every plan needs a name");
      return false;
    }
    for (const gateway::ApiPlan& other : api->plans) {
      if (other.name == plan.name) {
        r.error(child(p, "name"), "duplicate plan '" + plan.name + "'");
        return false;
      }
    }
    if (!plan.ruleText.empty()) {
      gateway::RuleError why;
      plan.rule = gateway::SelectionRule::compile(plan.ruleText, &why);
      if (!plan.rule) {
        r.error(child(p, "selectionRule"), why.text());
        return false;
      }
    }
    api->plans.push_back(std::move(plan));
  }
  return true;
}

// The API-wide WSO2 extensions besides security and endpoints: x-mgw-propagate-api-key,
// x-wso2-throttling-tier, x-mgw-subscription-required, x-wso2-cors.
bool readApiExtensions(Reader& r, const YAML::Node& root, ApiDefinition* api) {
  if (const YAML::Node p = root["x-mgw-propagate-api-key"]) {
    auto v = r.boolean(p, "/x-mgw-propagate-api-key");
    if (!v) return false;
    api->propagateApiKey = *v;
  }
  if (const YAML::Node tier = root["x-wso2-throttling-tier"]) {
    auto v = r.scalar(tier, "/x-wso2-throttling-tier", "x-wso2-throttling-tier");
    if (!v) return false;
    api->throttlingTier = *v;
  }
  if (const YAML::Node h = root["x-wso2-auth-header"]) {
    // WSO2 MGW 3.x: the header that carries "Bearer <token>" instead of Authorization.
    auto v = r.scalar(h, "/x-wso2-auth-header", "x-wso2-auth-header");
    if (!v) return false;
    if (!isHttpToken(*v)) {
      r.error("/x-wso2-auth-header", "'" + v->substr(0, 80) + "' is not a header name");
      return false;
    }
    api->authHeader = *v;
  }
  if (const YAML::Node m = root["x-wso2-mutual-ssl"]) {
    auto v = r.scalar(m, "/x-wso2-mutual-ssl", "x-wso2-mutual-ssl");
    if (!v) return false;
    std::string lower = *v;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower != "mandatory" && lower != "optional") {
      r.error("/x-wso2-mutual-ssl",
              "must be mandatory or optional, not '" + v->substr(0, 40) + "'");
      return false;
    }
    api->mutualTls =
        lower == "mandatory" ? gateway::MutualTls::kMandatory : gateway::MutualTls::kOptional;
  }
  const YAML::Node appSec = root["x-wso2-application-security"];
  if (appSec && appSec.IsMap() && appSec["optional"]) {
    auto v = r.boolean(appSec["optional"], "/x-wso2-application-security/optional");
    if (!v) return false;
    if (*v && api->mutualTls == gateway::MutualTls::kMandatory) {
      api->certificateSuffices = true;
    } else if (*v) {
      r.warn("/x-wso2-application-security/optional",
             "optional: true ignored: application security stays required (it may be optional "
             "only where x-wso2-mutual-ssl is mandatory, a client certificate then sufficing)");
    }
  }
  if (const YAML::Node s = root["x-mgw-subscription-required"]) {
    auto v = r.boolean(s, "/x-mgw-subscription-required");
    if (!v) return false;
    api->subscriptionRequired = *v;
  }
  if (const YAML::Node p = root["x-mgw-allow-path-parameters"]) {
    auto v = r.boolean(p, "/x-mgw-allow-path-parameters");
    if (!v) return false;
    api->ownAllowPathParameters = *v;
  }
  if (const YAML::Node cors = root["x-wso2-cors"]) {
    api->corsConfig = readCors(r, cors);
    if (!api->corsConfig) return false;
  }
  if (const YAML::Node plans = root["x-mgw-plans"]) {
    if (!readPlans(r, plans, api)) return false;
  }
  // x-mgw-publishers (issue 26): the users who publish the API, a list of user names.
  if (const YAML::Node publishers = root["x-mgw-publishers"]) {
    const std::string base = "/x-mgw-publishers";
    if (!publishers.IsSequence()) {
      r.error(base, "must be a list of user names");
      return false;
    }
    for (std::size_t i = 0; i < publishers.size(); ++i) {
      auto v = r.scalar(publishers[i], child(base, i), "a user name");
      if (!v) return false;
      if (v->empty()) {
        r.error(child(base, i), "a publisher must be a user name, not empty");
        return false;
      }
      api->publishers.push_back(*v);
    }
  }
  // WSO2 MGW 3.x extensions micro-gw does not run: said by name at load.
  static const std::pair<const char*, const char*> kIgnored[] = {
      {"x-wso2-request-interceptor",
       "interceptors (Ballerina or Java code) are not run; the request passes unchanged"},
      {"x-wso2-response-interceptor",
       "interceptors (Ballerina or Java code) are not run; the response passes unchanged"},
      {"x-wso2-response-cache", "responses are not cached; every request reaches the backend"},
      {"x-wso2-transports",
       "the API is served on both listeners (HTTP and HTTPS); basic credentials are taken on "
       "HTTPS only"},
  };
  for (const auto& [ext, why] : kIgnored) {
    if (root[ext]) r.warn(std::string("/") + ext, std::string(ext) + " ignored: " + why);
  }
  return true;
}

// An operation's own WSO2 extensions: x-wso2-throttling-tier, its endpoints (WSO2 MGW 3.x: they
// route that operation), x-wso2-disable-security (into *disabled: unset when the operation does
// not say, so the API's value applies).
bool readOperationExtensions(Reader& r, const YAML::Node& root, const YAML::Node& op,
                             const std::string& opPointer, Resource* res,
                             std::optional<bool>* disabled) {
  if (const YAML::Node tier = op["x-wso2-throttling-tier"]) {
    auto v = r.scalar(tier, child(opPointer, "x-wso2-throttling-tier"), "x-wso2-throttling-tier");
    if (!v) return false;
    const YAML::Node apiTier = root["x-wso2-throttling-tier"];
    if (apiTier && apiTier.IsScalar()) {
      // WSO2 MGW 3.x's toolkit: "Resource level policy ... will be neglected due to the presence
      // of API level policy". The same, said at load.
      r.warn(child(opPointer, "x-wso2-throttling-tier"),
             "resource tier " + *v + " ignored: the API-level tier " + apiTier.Scalar() +
                 " applies instead (as WSO2 API Microgateway 3.x's toolkit did)");
    } else {
      res->throttlingTier = *v;
    }
  }
  // WSO2 MGW 3.x extensions micro-gw does not run: said by name at load.
  for (const char* ext : {"x-wso2-request-interceptor", "x-wso2-response-interceptor"}) {
    if (op[ext])
      r.warn(child(opPointer, ext), std::string(ext) +
                                        " ignored: interceptors (Ballerina or Java code) are not "
                                        "run; the request and response pass unchanged");
  }
  if (const YAML::Node prod = op["x-wso2-production-endpoints"]) {
    auto e = readEndpointObject(r, root, prod, child(opPointer, "x-wso2-production-endpoints"), 0);
    if (!e) return false;
    res->production = *e;
  }
  if (const YAML::Node sand = op["x-wso2-sandbox-endpoints"]) {
    auto e = readEndpointObject(r, root, sand, child(opPointer, "x-wso2-sandbox-endpoints"), 0);
    if (!e) return false;
    res->sandbox = *e;
  }
  if (const YAML::Node d = op["x-wso2-disable-security"]) {
    auto v = r.boolean(d, child(opPointer, "x-wso2-disable-security"));
    if (!v) return false;
    *disabled = *v;
  }
  return true;
}

// How the operation is called. Operation security replaces the API's (OpenAPI 3 section 4.8.10);
// no declaration at all means secured: an API is open only where its definition says so.
// x-wso2-disable-security wins over any scheme (WSO2 MGW 3.x); an operation's own value wins over
// the API's either way (false under an API-level true secures the operation, as WSO2's toolkit
// read it).
void applySecurity(Reader& r, const std::string& opPointer, const Requirement* effective,
                   ApiSecurity& api, std::optional<bool> opDisabled, Resource* res) {
  const Requirement& app = api.application;
  ResourceSecurity& sec = res->security;
  if (opDisabled.value_or(api.disabled)) {
    res->secured = false;
  } else if (effective) {
    res->secured = !effective->open;
    if (!res->secured) return;
    sec.declared = true;
    sec.keySources = effective->sources;
    for (const KeySource& k : app.sources) addSource(&sec.keySources, k);
    sec.oauth2 = effective->oauth2 || app.oauth2;
    sec.scopes = effective->scopes;
    sec.basic = effective->basic || app.basic;
    bool conjunction = false;
    for (const gateway::SchemeSet& kinds : effective->alternatives)
      conjunction = conjunction || kinds.kinds() > 1;
    if (conjunction) {
      // AND within an object: the request must meet one object whole. The application
      // security's types stay ways in of their own.
      sec.alternatives = effective->alternatives;
      if (!app.sources.empty()) sec.alternatives.push_back({.apiKey = true});
      if (app.oauth2) sec.alternatives.push_back({.oauth2 = true});
      if (app.basic) sec.alternatives.push_back({.basic = true});
    }
    if (sec.unsupportedOnly()) {
      r.warn(opPointer, "secured only by " + effective->unsupported +
                            ", which micro-gw does not serve: the operation answers 401 "
                            "(900902) until it names an apiKey, oauth2 or basic scheme");
    }
  } else if (app.basic || app.oauth2) {
    // No security requirement anywhere: x-wso2-application-security alone says how the
    // operation is called (WSO2 MGW 3.x), e.g. [basic_auth] = basic only, no API key.
    sec.declared = true;
    sec.keySources = app.sources;
    sec.oauth2 = app.oauth2;
    sec.basic = app.basic;
  } else if (app.sources.empty()) {
    // Nothing declared at all: WSO2 MGW 3.x's default auth providers, OAuth2 bearer tokens
    // ([[jwtTokenConfig]] issuers) and no API key (readDefinition warns once per definition).
    sec.declared = true;
    sec.oauth2 = true;
    ++api.defaulted;
  }
}

// One operation (paths.<path>.<method>); its apiKey locations are added to api->sources.
std::optional<Resource> readOperation(Reader& r, const YAML::Node& root, const Document& doc,
                                      const YAML::Node& op, const std::string& opPointer,
                                      const char* method, const std::string& path,
                                      ApiSecurity* api) {
  if (!op.IsMap()) {
    r.error(opPointer, "an operation must be an object");
    return std::nullopt;
  }
  Resource res{upper(method), path, true, {}, {}, {}, {}, {}};
  std::optional<bool> opDisabled;
  if (!readOperationExtensions(r, root, op, opPointer, &res, &opDisabled)) return std::nullopt;
  std::optional<Requirement> opSecurity;
  if (const YAML::Node sec = op["security"]) {
    opSecurity = readRequirement(r, sec, child(opPointer, "security"), doc.schemes);
    if (!opSecurity) return std::nullopt;
    for (const KeySource& k : opSecurity->sources) addSource(&api->sources, k);
  }
  const Requirement* effective = opSecurity         ? &*opSecurity
                                 : api->requirement ? &*api->requirement
                                                    : nullptr;
  applySecurity(r, opPointer, effective, *api, opDisabled, &res);
  return res;
}

// paths: every operation of every path item, in the order kMethods lists them.
bool readPaths(Reader& r, const YAML::Node& root, const Document& doc, ApiSecurity* security,
               ApiDefinition* api) {
  const YAML::Node paths = root["paths"];
  if (!paths || !paths.IsMap() || paths.size() == 0) {
    r.error("/paths", "no paths: an API needs at least one resource");
    return false;
  }
  for (auto it = paths.begin(); it != paths.end(); ++it) {
    std::string path = it->first.Scalar();
    std::string pathPointer = child("/paths", path);
    if (std::string why = checkPathTemplate(path); !why.empty()) {
      r.error(pathPointer, why);
      continue;
    }
    const YAML::Node item = it->second;
    if (!item.IsMap()) {
      r.error(pathPointer, "a path item must be an object of operations");
      continue;
    }
    if (item["$ref"]) {
      r.error(child(pathPointer, "$ref"),
              "path item $ref is not supported; write the operations inline");
      continue;
    }
    for (const char* method : kMethods) {
      const YAML::Node op = item[method];
      if (!op) continue;
      auto res =
          readOperation(r, root, doc, op, child(pathPointer, method), method, path, security);
      if (res) api->resources.push_back(std::move(*res));
    }
  }
  return r.ok;
}

// After the paths: at least one operation, and every operation reaches a backend (operations may
// carry their own endpoints, WSO2 MGW 3.x).
bool checkResources(Reader& r, const Document& doc, bool apiHasNoEndpoints,
                    const ApiDefinition& api) {
  if (api.resources.empty()) {
    r.error("/paths", "no operations: an API needs at least one resource");
    return false;
  }
  if (!apiHasNoEndpoints) return true;
  for (const Resource& res : api.resources) {
    if (!res.production.empty()) continue;
    r.error("/x-wso2-production-endpoints",
            doc.swagger2 ? "no endpoints: declare x-wso2-production-endpoints, or host (with "
                           "schemes and basePath)"
                         : "no endpoints: declare x-wso2-production-endpoints, or an absolute "
                           "http(s) servers URL");
    return false;
  }
  return true;
}

}  // namespace

// One definition, reader by reader; the first reader that fails ends it (readInfo and readPaths
// report every error of their part first).
std::optional<Loaded> readDefinition(Reader& r, const YAML::Node& root) {
  Document doc;
  const auto swagger2 = readDialect(r, root);
  if (!swagger2) return std::nullopt;
  doc.swagger2 = *swagger2;
  Loaded out;
  ApiDefinition& api = out.api;
  api.source = r.file;
  out.namePointer = "/info/title";
  if (!readInfo(r, root, &api)) return std::nullopt;
  if (!doc.swagger2 && !readServers(r, root, &doc.servers)) return std::nullopt;
  if (!readContext(r, root, doc, &out)) return std::nullopt;
  if (!readApiEndpoints(r, root, doc, &api)) return std::nullopt;
  const bool apiHasNoEndpoints = api.production.empty();
  auto schemes = readSecuritySchemes(r, root, doc);
  if (!schemes) return std::nullopt;
  doc.schemes = std::move(*schemes);
  ApiSecurity security;
  if (!readApiSecurity(r, root, doc, &security)) return std::nullopt;
  if (!readApiExtensions(r, root, &api)) return std::nullopt;
  if (!readPaths(r, root, doc, &security, &api)) return std::nullopt;
  if (!checkResources(r, doc, apiHasNoEndpoints, api)) return std::nullopt;
  if (!readSchemas(r, root, doc.swagger2, &api, &out.schemaErrors)) return std::nullopt;
  if (security.defaulted > 0) {
    r.warn("/security",
           "no security declared: WSO2 API Microgateway 3.x's default applies, OAuth2 bearer "
           "tokens from a [[jwtTokenConfig]] issuer and no API key (without an issuer, such "
           "operations answer 401); declare an apiKey scheme or x-wso2-application-security "
           "[api_key] to take API keys");
  }
  // Secured resources with no declared location take the WSO2 defaults.
  api.keySources = security.sources.empty()
                       ? std::vector<KeySource>{{KeyLocation::kHeader, "apikey"},
                                                {KeyLocation::kQuery, "apikey"}}
                       : security.sources;
  return out;
}

}  // namespace mgw::apis
