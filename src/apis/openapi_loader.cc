#include "apis/openapi_loader.h"

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

#include "apis/definition_reader.h"
#include "apis/endpoint_overrides.h"
#include "apis/public_definition.h"
#include "apis/schema_reader.h"
#include "common/endpoint_url.h"
#include "common/syntax.h"
#include "gateway/cors.h"
#include "gateway/selection_rule.h"

namespace mgw::apis {

using gateway::ApiDefinition;
using gateway::CorsPolicy;
using gateway::Endpoints;
using gateway::KeyLocation;
using gateway::KeySource;
using gateway::Resource;
using gateway::ResourceSecurity;

std::string ApiLoadError::toString() const {
  if (pointer.empty()) return file + ": " + message;
  return file + ": " + pointer + ": " + message;
}

namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxDefinitionBytes = 16 * 1024 * 1024;

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
    auto loaded = readDefinition(r, root);
    if (loaded) {
      // What clients may read of it (GET /apikey/apis/definition), made once here; bytes that are
      // not UTF-8 (YAML passes them through) become U+FFFD instead of a type_error out of the load.
      std::string why;
      if (auto document = yamlToJson(root, &why))
        loaded->api.publicDefinition = std::make_shared<const std::string>(
            publicDefinition(std::move(*document), loaded->api)
                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return loaded;
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
    if (std::string why = checkOneProtocol(*list); !why.empty()) fail(why);
  }
  for (const std::string& s : in.security) {
    if (s != "api_key")
      fail("security '" + s + "' is not supported (allowed: [\"api_key\"] or [])");
  }
  // [[apis.api.plans]] (issue 26 items 1 and 2): each rule compiled here, once.
  for (const config::PlanConfig& p : in.plans) {
    gateway::ApiPlan plan;
    plan.name = p.name;
    plan.tier = p.tier;
    plan.subscriptionRequired = p.subscriptionRequired;
    for (const std::string& scheme : p.security) plan.security.apiKey |= scheme == "api_key";
    if (!p.selectionRule.empty()) {
      gateway::RuleError why;
      plan.rule = gateway::SelectionRule::compile(p.selectionRule, &why);
      plan.ruleText = p.selectionRule;
      if (!plan.rule) {
        if (errors)
          errors->push_back(
              ApiLoadError{configFile + ":" + std::to_string(p.ruleLine), "",
                           "[[apis.api.plans]] " + p.name + " selectionRule: " + why.text()});
        ok = false;
      }
    }
    api.plans.push_back(std::move(plan));
  }
  if (!in.security.empty()) {
    if (!in.apiKeyHeader.empty() && !isHttpToken(in.apiKeyHeader))
      fail("apiKeyHeader '" + in.apiKeyHeader + "' is not a header name");
    if (in.apiKeyHeader.empty() && in.apiKeyQuery.empty() && !in.apiKeyBearer &&
        in.apiKeyCookie.empty())
      fail(
          "apiKeyHeader and apiKeyQuery are both empty (and neither apiKeyBearer nor "
          "apiKeyCookie is set)");
  }
  if (!ok) return std::nullopt;
  return Loaded{std::move(api), "", "", {}};
}

}  // namespace

ApiDefinition apiFromInline(const config::InlineApi& in, const std::string& configFile) {
  ApiDefinition api;
  api.name = in.name;
  api.version = in.version;
  api.context = in.context;
  replaceAll(&api.context, "{version}", in.version);
  while (api.context.size() > 1 && api.context.back() == '/') api.context.pop_back();
  api.resources = {Resource{"*", "/*", !in.security.empty(), {}, {}, {}, {}, {}}};
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
  if (in.apiKeyBearer) api.keySources.push_back({KeyLocation::kBearer, "Authorization"});
  if (!in.apiKeyCookie.empty()) api.keySources.push_back({KeyLocation::kCookie, in.apiKeyCookie});
  api.propagateApiKey = in.propagateApiKey;
  api.subscriptionRequired = in.subscriptionRequired;
  api.publishers = in.publishers;
  api.ownAllowPathParameters = in.allowPathParameters;
  api.throttlingTier = in.throttlingTier;
  api.timeoutSeconds = in.timeoutSeconds;
  api.connectTimeoutSeconds = in.connectTimeoutSeconds;
  api.source = configFile + ":" + std::to_string(in.line);
  api.corsConfig = in.cors;
  api.publicDefinition = std::make_shared<const std::string>(
      generatedDefinition(api).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return api;
}

std::vector<ApiDefinition> loadApiDefinitions(const std::vector<std::string>& paths,
                                              std::vector<ApiLoadError>* errors,
                                              std::vector<ApiLoadError>* warnings) {
  auto apis = keepUnique(loadAll(paths, errors, warnings), errors);
  applyEndpointOverrides(&apis, {}, errors);  // a securityConfig without a password is an error
  return apis;
}

std::vector<ApiDefinition> buildApis(const config::Config& config,
                                     std::vector<ApiLoadError>* errors,
                                     std::vector<ApiLoadError>* warnings) {
  std::vector<Loaded> all;
  for (const config::InlineApi& in : config.apis.inlineApis) {
    if (auto l = validateInline(in, config.sourcePath, errors)) all.push_back(std::move(*l));
  }
  for (Loaded& l : loadAll(config.apis.definitions, errors, warnings)) {
    // Validation (issue 27): the API's own x-mgw-validation, else [validationConfig]. A schema
    // that cannot be compiled fails the API only where it would be used.
    ApiDefinition& api = l.api;
    api.requestValidation =
        api.ownRequestValidation.value_or(config.validation.enableRequestValidation);
    api.responseValidation =
        api.ownResponseValidation.value_or(config.validation.enableResponseValidation);
    if (!api.requestValidation && !api.responseValidation) {
      for (Resource& res : api.resources) res.schemas.reset();
    } else if (!l.schemaErrors.empty()) {
      if (errors)
        for (ApiLoadError& e : l.schemaErrors) errors->push_back(std::move(e));
      continue;
    }
    all.push_back(std::move(l));
  }
  auto apis = keepUnique(std::move(all), errors);
  // WSO2 MGW 3.x runtime endpoint overrides (the command line, the environment, the file).
  applyEndpointOverrides(&apis, config.endpointOverrides, errors);
  // CORS: the API's own policy, else the global [cors] (SPEC section 15).
  for (ApiDefinition& api : apis) {
    const config::CorsConfig& cors = api.corsConfig ? *api.corsConfig : config.cors;
    if (cors.enabled) api.cors = std::make_shared<const CorsPolicy>(cors);
    api.allowPathParameters = api.ownAllowPathParameters.value_or(config.apis.allowPathParameters);
  }
  return apis;
}

}  // namespace mgw::apis
