#include "gateway/openapi_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

#include "common/endpoint_url.h"
#include "common/syntax.h"
#include "gateway/cors.h"

namespace mgw::gateway {

std::string ApiLoadError::toString() const {
  if (pointer.empty()) return file + ": " + message;
  return file + ": " + pointer + ": " + message;
}

namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxDefinitionBytes = 16 * 1024 * 1024;
constexpr const char* kMethods[] = {"get",     "put",  "post",  "delete",
                                    "options", "head", "patch", "trace"};

// RFC 6901 section 3: '~' -> "~0", '/' -> "~1".
std::string escapePointer(const std::string& token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string child(const std::string& pointer, const std::string& token) {
  return pointer + "/" + escapePointer(token);
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

bool isAbsoluteUrl(const std::string& s) { return s.find("://") != std::string::npos; }

std::string pathOfUrl(const std::string& url) {
  if (!isAbsoluteUrl(url)) return url;
  std::size_t hostStart = url.find("://") + 3;
  std::size_t slash = url.find_first_of("/?#", hostStart);
  if (slash == std::string::npos || url[slash] != '/') return "/";
  std::size_t end = url.find_first_of("?#", slash);
  return url.substr(slash, end == std::string::npos ? std::string::npos : end - slash);
}

// One definition file being read: collects errors with the file name.
struct Reader {
  std::string file;
  std::vector<ApiLoadError>* errors;
  std::vector<ApiLoadError>* warnings = nullptr;
  bool ok = true;

  // Loads, but worth a startup log line (WSO2 MGW 3.x constructs micro-gw does not serve).
  void warn(const std::string& pointer, const std::string& message) {
    if (warnings) warnings->push_back(ApiLoadError{file, pointer, message});
  }

  void error(const std::string& pointer, const std::string& message) {
    ok = false;
    if (errors) errors->push_back(ApiLoadError{file, pointer, message});
  }

  std::optional<std::string> scalar(const YAML::Node& node, const std::string& pointer,
                                    const char* what) {
    if (!node.IsScalar()) {
      error(pointer, std::string(what) + " must be a string");
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<bool> boolean(const YAML::Node& node, const std::string& pointer) {
    bool v = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v)) {
      error(pointer, "must be true or false");
      return std::nullopt;
    }
    return v;
  }
};

// x-wso2-cors (SPEC section 15), each value through the validator config/cors_config.h gives
// the [cors] table too. Declaring the object is the opt-in: corsConfigurationEnabled defaults to
// true, and false turns the global [cors] off for this API.
std::optional<config::CorsConfig> readCors(Reader& r, const YAML::Node& node) {
  const std::string base = "/x-wso2-cors";
  if (!node.IsMap()) {
    r.error(base, "must be an object (corsConfigurationEnabled, accessControlAllowOrigins, ...)");
    return std::nullopt;
  }
  config::CorsConfig c;
  c.enabled = true;
  const bool before = r.ok;
  auto list = [&](const char* key, std::vector<std::string>* out,
                  const std::function<std::string(const std::string&)>& check) {
    const YAML::Node n = node[key];
    if (!n) return;
    const std::string pointer = base + "/" + key;
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
  };
  static const std::vector<std::string> kKeys = {
      "corsConfigurationEnabled",  "accessControlAllowOrigins", "accessControlAllowCredentials",
      "accessControlAllowHeaders", "accessControlAllowMethods", "accessControlExposeHeaders",
      "accessControlMaxAge"};
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      std::string allowed;
      for (const auto& k : kKeys) allowed += (allowed.empty() ? "" : ", ") + k;
      r.error(base + "/" + key, "unknown field; allowed: " + allowed);
    }
  }
  if (const YAML::Node n = node["corsConfigurationEnabled"]) {
    if (auto v = r.boolean(n, base + "/corsConfigurationEnabled")) c.enabled = *v;
  }
  if (const YAML::Node n = node["accessControlAllowCredentials"]) {
    if (auto v = r.boolean(n, base + "/accessControlAllowCredentials")) c.allowCredentials = *v;
  }
  list("accessControlAllowOrigins", &c.allowOrigins, [](const std::string& o) {
    std::string why;
    return config::parseOriginPattern(o, &why) ? std::string() : why;
  });
  list("accessControlAllowHeaders", &c.allowHeaders,
       [](const std::string& h) { return config::checkCorsHeader(h); });
  list("accessControlAllowMethods", &c.allowMethods,
       [](const std::string& m) { return config::checkCorsMethod(m); });
  list("accessControlExposeHeaders", &c.exposeHeaders,
       [](const std::string& h) { return config::checkCorsHeader(h); });
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
};

struct Loaded {
  ApiDefinition api;
  std::string contextPointer;  // where the context came from, for duplicate-context errors
  std::string namePointer;
};

void addSource(std::vector<KeySource>* sources, const KeySource& s) {
  for (const KeySource& e : *sources) {
    if (e.in == s.in &&
        (s.in == KeyLocation::kHeader ? strcasecmp(e.name.c_str(), s.name.c_str()) == 0
                                      : e.name == s.name)) {
      return;
    }
  }
  sources->push_back(s);
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
    if (!alt.IsMap()) {
      r.error(altPointer, "a security requirement must be an object {schemeName: [scopes]}");
      return std::nullopt;
    }
    for (auto it = alt.begin(); it != alt.end(); ++it) {
      std::string name = it->first.Scalar();
      auto s = schemes.find(name);
      if (s == schemes.end()) {
        r.error(altPointer, "unknown security scheme '" + name + "'");
        return std::nullopt;
      }
      if (s->second.source) {
        addSource(&req.sources, *s->second.source);
      } else if (s->second.type == "oauth2") {
        req.oauth2 = true;
        const YAML::Node scopes = it->second;
        if (scopes && !scopes.IsNull() && !scopes.IsSequence()) {
          r.error(child(altPointer, name), "the scopes of '" + name + "' must be a list");
          return std::nullopt;
        }
        for (std::size_t k = 0; scopes && scopes.IsSequence() && k < scopes.size(); ++k) {
          auto scope = r.scalar(scopes[k], child(child(altPointer, name), k), "a scope");
          if (!scope) return std::nullopt;
          req.scopes.push_back(*scope);
        }
      } else if (s->second.basic) {
        req.basic = true;  // Authorization: Basic against [b7a.users]
      } else {
        if (!req.unsupported.empty()) req.unsupported += ", ";
        req.unsupported += "'" + name + "' (" + s->second.type + ")";
      }
    }
  }
  return req;
}

std::optional<Endpoints> readEndpointObject(Reader& r, const YAML::Node& root,
                                            const YAML::Node& node, const std::string& pointer,
                                            int depth) {
  if (!node.IsMap()) {
    r.error(pointer, "endpoints must be an object with 'urls' (and optional 'type') or a '$ref'");
    return std::nullopt;
  }
  if (const YAML::Node ref = node["$ref"]) {
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
    // WSO2 writes x-wso2-endpoints as a list of one-key objects; a plain object is accepted too.
    if (all && all.IsSequence()) {
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].IsMap() && all[i][name]) {
          return readEndpointObject(r, root, all[i][name],
                                    child(child("/x-wso2-endpoints", i), name), depth + 1);
        }
      }
    } else if (all && all.IsMap() && all[name]) {
      return readEndpointObject(r, root, all[name], child("/x-wso2-endpoints", name), depth + 1);
    }
    r.error(child(pointer, "$ref"),
            "$ref to missing endpoint '" + name + "' (not declared in x-wso2-endpoints)");
    return std::nullopt;
  }
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
    if (std::string why = checkEndpointUrl(&*url); !why.empty()) {
      r.error(child(child(pointer, "urls"), i), why);
      return std::nullopt;
    }
    out.urls.push_back(*url);
  }
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

std::optional<Loaded> readDefinition(Reader& r, const YAML::Node& root) {
  if (!root.IsMap()) {
    r.error("", "not an OpenAPI document (expected an object at the top level)");
    return std::nullopt;
  }
  bool swagger2 = false;
  if (const YAML::Node v = root["openapi"]) {
    if (!v.IsScalar() || v.Scalar().rfind("3.", 0) != 0) {
      r.error("/openapi", "unsupported OpenAPI version (allowed: 3.x, or swagger: \"2.0\")");
      return std::nullopt;
    }
  } else if (const YAML::Node v2 = root["swagger"]) {
    if (!v2.IsScalar() || v2.Scalar() != "2.0") {
      r.error("/swagger", "unsupported Swagger version (allowed: \"2.0\", or openapi: 3.x)");
      return std::nullopt;
    }
    swagger2 = true;
  } else {
    r.error("", "neither 'openapi' (3.x) nor 'swagger' (2.0) is declared");
    return std::nullopt;
  }

  Loaded out;
  ApiDefinition& api = out.api;
  api.source = r.file;
  out.namePointer = "/info/title";

  const YAML::Node info = root["info"];
  if (!info || !info.IsMap()) {
    r.error("/info", "missing info object (info.title is the API name, info.version its version)");
    return std::nullopt;
  }
  const YAML::Node title = info["title"];
  if (!title || !title.IsScalar() || title.Scalar().empty()) {
    r.error("/info/title", "missing info.title (the API name)");
  } else {
    api.name = title.Scalar();
  }
  const YAML::Node version = info["version"];
  if (!version || !version.IsScalar() || version.Scalar().empty()) {
    r.error("/info/version", "missing info.version (the API version)");
  } else {
    api.version = version.Scalar();
  }
  if (!r.ok) return std::nullopt;

  // servers (OpenAPI 3): the fallback for both the context and the endpoints.
  std::vector<std::string> servers;
  if (!swagger2) {
    if (const YAML::Node s = root["servers"]) {
      if (!s.IsSequence()) {
        r.error("/servers", "servers must be a list");
        return std::nullopt;
      }
      for (std::size_t i = 0; i < s.size(); ++i) {
        auto url = serverUrl(r, s[i], child("/servers", i));
        if (!url) return std::nullopt;
        servers.push_back(*url);
      }
    }
  }

  // Context.
  std::string context;
  if (const YAML::Node bp = root["x-wso2-basePath"]) {
    out.contextPointer = "/x-wso2-basePath";
    auto v = r.scalar(bp, out.contextPointer, "x-wso2-basePath");
    if (!v) return std::nullopt;
    context = *v;
  } else if (swagger2) {
    out.contextPointer = "/basePath";
    const YAML::Node bp2 = root["basePath"];
    if (!bp2) {
      r.error(out.contextPointer, "bad basePath: neither x-wso2-basePath nor basePath is declared");
      return std::nullopt;
    }
    auto v = r.scalar(bp2, out.contextPointer, "basePath");
    if (!v) return std::nullopt;
    context = *v;
  } else {
    out.contextPointer = "/servers/0/url";
    if (servers.empty()) {
      r.error("/x-wso2-basePath",
              "bad basePath: neither x-wso2-basePath nor a servers URL is declared");
      return std::nullopt;
    }
    context = pathOfUrl(servers[0]);
  }
  replaceAll(&context, "{version}", api.version);
  if (std::string why = checkContext(&context); !why.empty()) {
    r.error(out.contextPointer, "bad basePath '" + context + "': " + why);
    return std::nullopt;
  }
  api.context = context;

  // Endpoints.
  if (const YAML::Node prod = root["x-wso2-production-endpoints"]) {
    auto e = readEndpointObject(r, root, prod, "/x-wso2-production-endpoints", 0);
    if (!e) return std::nullopt;
    api.production = *e;
  } else if (!swagger2) {
    for (std::size_t i = 0; i < servers.size(); ++i) {
      if (!isAbsoluteUrl(servers[i])) continue;  // a relative server URL names no backend
      std::string url = servers[i];
      if (std::string why = checkEndpointUrl(&url); !why.empty()) {
        r.error(child(child("/servers", i), "url"), why);
        return std::nullopt;
      }
      api.production.urls.push_back(url);
    }
    api.production.failover = api.production.urls.size() > 1;
  } else if (const YAML::Node host = root["host"]) {
    auto h = r.scalar(host, "/host", "host");
    if (!h) return std::nullopt;
    // Swagger 2: the first http(s) scheme listed (default http); basePath is the backend's path.
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
      return std::nullopt;
    }
    api.production.urls.push_back(url);
  }
  const bool apiHasNoEndpoints = api.production.empty();
  if (const YAML::Node sand = root["x-wso2-sandbox-endpoints"]) {
    auto e = readEndpointObject(r, root, sand, "/x-wso2-sandbox-endpoints", 0);
    if (!e) return std::nullopt;
    api.sandbox = *e;
  }

  // Security schemes.
  std::map<std::string, SecurityScheme> schemes;
  std::string schemesPointer = swagger2 ? "/securityDefinitions" : "/components/securitySchemes";
  const YAML::Node schemesNode = swagger2 ? root["securityDefinitions"]
                                          : (root["components"] && root["components"].IsMap()
                                                 ? root["components"]["securitySchemes"]
                                                 : YAML::Node());
  if (schemesNode && schemesNode.IsMap()) {
    for (auto it = schemesNode.begin(); it != schemesNode.end(); ++it) {
      std::string name = it->first.Scalar();
      std::string p = child(schemesPointer, name);
      const YAML::Node s = it->second;
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
        if (in != "header" && in != "query") {
          r.error(child(p, "in"),
                  "apiKey scheme '" + name + "': in must be header or query, not '" + in + "'");
          return std::nullopt;
        }
        if (keyName.empty()) {
          r.error(child(p, "name"), "apiKey scheme '" + name + "' has no name");
          return std::nullopt;
        }
        scheme.source =
            KeySource{in == "header" ? KeyLocation::kHeader : KeyLocation::kQuery, keyName};
      }
      schemes.emplace(name, scheme);
    }
  }

  std::vector<KeySource> sources;
  std::optional<Requirement> apiSecurity;
  if (const YAML::Node sec = root["security"]) {
    apiSecurity = readRequirement(r, sec, "/security", schemes);
    if (!apiSecurity) return std::nullopt;
    for (const KeySource& k : apiSecurity->sources) addSource(&sources, k);
  }
  Requirement appSecurity;  // x-wso2-application-security: added to every secured resource
  if (const YAML::Node appSec = root["x-wso2-application-security"]) {
    const YAML::Node types = appSec.IsMap() ? appSec["security-types"] : YAML::Node();
    if (!types || !types.IsSequence()) {
      r.error("/x-wso2-application-security/security-types", "must be a list (e.g. [api_key])");
      return std::nullopt;
    }
    // WSO2 MGW 3.x: the types accepted on every resource of the API, besides its security.
    for (std::size_t i = 0; i < types.size(); ++i) {
      const std::string type = types[i].IsScalar() ? types[i].Scalar() : "";
      if (type == "api_key") {
        appSecurity.sources.push_back(KeySource{KeyLocation::kHeader, "apikey"});
        appSecurity.sources.push_back(KeySource{KeyLocation::kQuery, "apikey"});
      } else if (type == "oauth2") {
        appSecurity.oauth2 = true;
      } else if (type == "basic_auth") {
        appSecurity.basic = true;
      } else {
        r.error(child("/x-wso2-application-security/security-types", i),
                "unknown security type (allowed: api_key, oauth2, basic_auth)");
        return std::nullopt;
      }
    }
    for (const KeySource& k : appSecurity.sources) addSource(&sources, k);
  }
  bool apiSecurityDisabled = false;
  if (const YAML::Node d = root["x-wso2-disable-security"]) {
    auto v = r.boolean(d, "/x-wso2-disable-security");
    if (!v) return std::nullopt;
    apiSecurityDisabled = *v;
  }
  if (const YAML::Node p = root["x-mgw-propagate-api-key"]) {
    auto v = r.boolean(p, "/x-mgw-propagate-api-key");
    if (!v) return std::nullopt;
    api.propagateApiKey = *v;
  }
  if (const YAML::Node tier = root["x-wso2-throttling-tier"]) {
    auto v = r.scalar(tier, "/x-wso2-throttling-tier", "x-wso2-throttling-tier");
    if (!v) return std::nullopt;
    api.throttlingTier = *v;
  }
  if (const YAML::Node s = root["x-mgw-subscription-required"]) {
    auto v = r.boolean(s, "/x-mgw-subscription-required");
    if (!v) return std::nullopt;
    api.subscriptionRequired = *v;
  }
  if (const YAML::Node cors = root["x-wso2-cors"]) {
    api.corsConfig = readCors(r, cors);
    if (!api.corsConfig) return std::nullopt;
  }

  // Resources.
  const YAML::Node paths = root["paths"];
  if (!paths || !paths.IsMap() || paths.size() == 0) {
    r.error("/paths", "no paths: an API needs at least one resource");
    return std::nullopt;
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
      std::string opPointer = child(pathPointer, method);
      if (!op.IsMap()) {
        r.error(opPointer, "an operation must be an object");
        continue;
      }
      Resource res{upper(method), path, true, {}, {}, {}, {}};
      if (const YAML::Node tier = op["x-wso2-throttling-tier"]) {
        auto v =
            r.scalar(tier, child(opPointer, "x-wso2-throttling-tier"), "x-wso2-throttling-tier");
        if (!v) continue;
        res.throttlingTier = *v;
      }
      // WSO2 MGW 3.x: an operation's own endpoints route that operation.
      if (const YAML::Node prod = op["x-wso2-production-endpoints"]) {
        auto e =
            readEndpointObject(r, root, prod, child(opPointer, "x-wso2-production-endpoints"), 0);
        if (!e) continue;
        res.production = *e;
      }
      if (const YAML::Node sand = op["x-wso2-sandbox-endpoints"]) {
        auto e = readEndpointObject(r, root, sand, child(opPointer, "x-wso2-sandbox-endpoints"), 0);
        if (!e) continue;
        res.sandbox = *e;
      }
      bool opDisabled = false;
      if (const YAML::Node d = op["x-wso2-disable-security"]) {
        auto v = r.boolean(d, child(opPointer, "x-wso2-disable-security"));
        if (!v) continue;
        opDisabled = *v;
      }
      std::optional<Requirement> opSecurity;
      if (const YAML::Node sec = op["security"]) {
        opSecurity = readRequirement(r, sec, child(opPointer, "security"), schemes);
        if (!opSecurity) continue;
        for (const KeySource& k : opSecurity->sources) addSource(&sources, k);
      }
      // Operation security replaces the API's (OpenAPI 3 section 4.8.10); no declaration at all
      // means secured: an API is open only where its definition says so.
      // x-wso2-disable-security wins over any scheme (WSO2 MGW 3.x).
      const Requirement* effective = opSecurity    ? &*opSecurity
                                     : apiSecurity ? &*apiSecurity
                                                   : nullptr;
      if (apiSecurityDisabled || opDisabled) {
        res.secured = false;
      } else if (effective) {
        res.secured = !effective->open;
        if (res.secured) {
          ResourceSecurity& sec = res.security;
          sec.declared = true;
          sec.keySources = effective->sources;
          for (const KeySource& k : appSecurity.sources) addSource(&sec.keySources, k);
          sec.oauth2 = effective->oauth2 || appSecurity.oauth2;
          sec.scopes = effective->scopes;
          sec.basic = effective->basic || appSecurity.basic;
          if (sec.unsupportedOnly()) {
            r.warn(opPointer, "secured only by " + effective->unsupported +
                                  ", which micro-gw does not serve: the operation answers 401 "
                                  "(900902) until it names an apiKey, oauth2 or basic scheme");
          }
        }
      } else if (appSecurity.basic || appSecurity.oauth2) {
        // No security requirement anywhere: x-wso2-application-security alone says how the
        // operation is called (WSO2 MGW 3.x), e.g. [basic_auth] = basic only, no API key.
        ResourceSecurity& sec = res.security;
        sec.declared = true;
        sec.keySources = appSecurity.sources;
        sec.oauth2 = appSecurity.oauth2;
        sec.basic = appSecurity.basic;
      }
      api.resources.push_back(std::move(res));
    }
  }
  if (!r.ok) return std::nullopt;
  if (api.resources.empty()) {
    r.error("/paths", "no operations: an API needs at least one resource");
    return std::nullopt;
  }
  if (apiHasNoEndpoints) {
    // Operations may carry their own (WSO2 MGW 3.x); every operation must reach a backend.
    for (const Resource& res : api.resources) {
      if (!res.production.empty()) continue;
      r.error("/x-wso2-production-endpoints",
              swagger2 ? "no endpoints: declare x-wso2-production-endpoints, or host (with "
                         "schemes and basePath)"
                       : "no endpoints: declare x-wso2-production-endpoints, or an absolute "
                         "http(s) servers URL");
      return std::nullopt;
    }
  }
  // Secured resources with no declared location take the WSO2 defaults.
  api.keySources = sources.empty() ? std::vector<KeySource>{{KeyLocation::kHeader, "apikey"},
                                                            {KeyLocation::kQuery, "apikey"}}
                                   : sources;
  return out;
}

std::optional<Loaded> loadFile(const std::string& file, std::vector<ApiLoadError>* errors,
                               std::vector<ApiLoadError>* warnings) {
  Reader r{file, errors, warnings};
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (!ec && size > kMaxDefinitionBytes) {
    r.error("", "unreadable file: larger than 16 MiB");
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    r.error("", std::string("unreadable file: ") + std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::ParserException& e) {
    r.error("", "YAML syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                    std::to_string(e.mark.column + 1) + ": " + e.msg);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    r.error("", std::string("YAML error: ") + e.what());
    return std::nullopt;
  }
  try {
    return readDefinition(r, root);
  } catch (const YAML::Exception& e) {
    // A shape yaml-cpp refuses to convert (e.g. a non-scalar map key): still a located load error.
    r.error("", std::string("unexpected document structure: ") + e.what());
    return std::nullopt;
  }
}

bool isDefinitionFile(const fs::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

std::vector<Loaded> loadAll(const std::vector<std::string>& paths,
                            std::vector<ApiLoadError>* errors,
                            std::vector<ApiLoadError>* warnings) {
  std::vector<Loaded> out;
  for (const std::string& path : paths) {
    std::error_code ec;
    std::vector<std::string> files;
    if (fs::is_directory(path, ec)) {
      for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code fec;
        if (it->is_regular_file(fec) && isDefinitionFile(it->path()))
          files.push_back(it->path().string());
      }
      if (ec && errors)
        errors->push_back(ApiLoadError{path, "", "unreadable folder: " + ec.message()});
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(path);
    }
    for (const std::string& f : files) {
      if (auto loaded = loadFile(f, errors, warnings)) out.push_back(std::move(*loaded));
    }
  }
  return out;
}

// Drops later duplicates of name:version and of context, with an error at the later one.
std::vector<ApiDefinition> keepUnique(std::vector<Loaded> loaded,
                                      std::vector<ApiLoadError>* errors) {
  std::map<std::string, std::string> byName;
  std::map<std::string, std::string> byContext;
  std::vector<ApiDefinition> out;
  for (Loaded& l : loaded) {
    std::string key = l.api.name + ":" + l.api.version;
    if (auto it = byName.find(key); it != byName.end()) {
      if (errors)
        errors->push_back(ApiLoadError{l.api.source, l.namePointer,
                                       "duplicate API " + key + " (also in " + it->second + ")"});
      continue;
    }
    if (auto it = byContext.find(l.api.context); it != byContext.end()) {
      if (errors) {
        errors->push_back(ApiLoadError{
            l.api.source, l.contextPointer,
            "duplicate context " + l.api.context + " (also used by " + it->second + ")"});
      }
      continue;
    }
    byName.emplace(key, l.api.source);
    byContext.emplace(l.api.context, key + " in " + l.api.source);
    out.push_back(std::move(l.api));
  }
  return out;
}

std::optional<Loaded> validateInline(const config::InlineApi& in, const std::string& configFile,
                                     std::vector<ApiLoadError>* errors) {
  std::string where = configFile + ":" + std::to_string(in.line);
  std::string label = "[[apis.api]] " + (in.name.empty() ? std::string("(no name)") : in.name);
  bool ok = true;
  auto fail = [&](const std::string& msg) {
    ok = false;
    if (errors) errors->push_back(ApiLoadError{where, "", label + ": " + msg});
  };
  if (in.name.empty()) fail("name is missing");
  if (in.version.empty()) fail("version is missing");
  ApiDefinition api = apiFromInline(in, configFile);
  if (std::string why = checkContext(&api.context); !why.empty())
    fail("bad context '" + api.context + "': " + why);
  if (in.production.empty()) fail("no endpoints: production needs at least one http(s) URL");
  for (const auto* list : {&in.production, &in.sandbox}) {
    for (std::string url : *list) {
      if (std::string why = checkEndpointUrl(&url); !why.empty()) fail(why);
    }
  }
  for (const std::string& s : in.security) {
    if (s != "api_key")
      fail("security '" + s + "' is not supported (allowed: [\"api_key\"] or [])");
  }
  if (!in.security.empty()) {
    if (!in.apiKeyHeader.empty() && !isHttpToken(in.apiKeyHeader))
      fail("apiKeyHeader '" + in.apiKeyHeader + "' is not a header name");
    if (in.apiKeyHeader.empty() && in.apiKeyQuery.empty())
      fail("apiKeyHeader and apiKeyQuery are both empty");
  }
  if (!ok) return std::nullopt;
  return Loaded{std::move(api), "", ""};
}

}  // namespace

ApiDefinition apiFromInline(const config::InlineApi& in, const std::string& configFile) {
  ApiDefinition api;
  api.name = in.name;
  api.version = in.version;
  api.context = in.context;
  replaceAll(&api.context, "{version}", in.version);
  while (api.context.size() > 1 && api.context.back() == '/') api.context.pop_back();
  api.resources = {Resource{"*", "/*", !in.security.empty(), {}, {}, {}, {}}};
  for (std::string url : in.production) {
    checkEndpointUrl(&url);
    api.production.urls.push_back(url);
  }
  for (std::string url : in.sandbox) {
    checkEndpointUrl(&url);
    api.sandbox.urls.push_back(url);
  }
  // Several URLs are tried in order (config.h: "more than one = failover in order").
  api.production.failover = api.production.urls.size() > 1;
  api.sandbox.failover = api.sandbox.urls.size() > 1;
  api.keySources.clear();
  if (!in.apiKeyHeader.empty()) api.keySources.push_back({KeyLocation::kHeader, in.apiKeyHeader});
  if (!in.apiKeyQuery.empty()) api.keySources.push_back({KeyLocation::kQuery, in.apiKeyQuery});
  api.propagateApiKey = in.propagateApiKey;
  api.subscriptionRequired = in.subscriptionRequired;
  api.throttlingTier = in.throttlingTier;
  api.timeoutSeconds = in.timeoutSeconds;
  api.connectTimeoutSeconds = in.connectTimeoutSeconds;
  api.source = configFile + ":" + std::to_string(in.line);
  api.corsConfig = in.cors;
  return api;
}

std::vector<ApiDefinition> loadApiDefinitions(const std::vector<std::string>& paths,
                                              std::vector<ApiLoadError>* errors,
                                              std::vector<ApiLoadError>* warnings) {
  return keepUnique(loadAll(paths, errors, warnings), errors);
}

std::vector<ApiDefinition> buildApis(const config::Config& config,
                                     std::vector<ApiLoadError>* errors,
                                     std::vector<ApiLoadError>* warnings) {
  std::vector<Loaded> all;
  for (const config::InlineApi& in : config.apis.inlineApis) {
    if (auto l = validateInline(in, config.sourcePath, errors)) all.push_back(std::move(*l));
  }
  for (Loaded& l : loadAll(config.apis.definitions, errors, warnings)) all.push_back(std::move(l));
  auto apis = keepUnique(std::move(all), errors);
  // CORS: the API's own policy, else the global [cors] (SPEC section 15).
  for (ApiDefinition& api : apis) {
    const config::CorsConfig& cors = api.corsConfig ? *api.corsConfig : config.cors;
    if (cors.enabled) api.cors = std::make_shared<const CorsPolicy>(cors);
  }
  return apis;
}

}  // namespace mgw::gateway
