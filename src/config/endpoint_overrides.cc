#include "config/endpoint_overrides.h"

#include <algorithm>
#include <set>

namespace mgw::config {
namespace {

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool isEnvironmentName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

std::optional<OverrideKey> parseOverrideKey(std::string_view key) {
  OverrideKey out;
  std::string_view rest;
  if (endsWith(key, "_basic_username")) {
    out.field = OverrideField::kUsername;
    rest = key.substr(0, key.size() - 15);
  } else if (endsWith(key, "_basic_password")) {
    out.field = OverrideField::kPassword;
    rest = key.substr(0, key.size() - 15);
  } else {
    const std::size_t at = key.rfind("_endpoint_");
    if (at == std::string_view::npos) return std::nullopt;
    const std::string_view digits = key.substr(at + 10);
    if (digits.empty() || digits.size() > 4 || (digits.size() > 1 && digits[0] == '0') ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    out.index = std::stoul(std::string(digits));
    rest = key.substr(0, at);
  }
  if (endsWith(rest, "_prod")) {
    out.sandbox = false;
  } else if (endsWith(rest, "_sand")) {
    out.sandbox = true;
  } else {
    return std::nullopt;
  }
  rest = rest.substr(0, rest.size() - 5);
  if (rest.empty()) return std::nullopt;
  out.name = std::string(rest);
  return out;
}

std::string overrideKeyText(const std::string& name, bool sandbox, OverrideField field,
                            std::size_t index) {
  std::string key = name + (sandbox ? "_sand" : "_prod");
  switch (field) {
    case OverrideField::kUrl:
      return key + "_endpoint_" + std::to_string(index);
    case OverrideField::kUsername:
      return key + "_basic_username";
    case OverrideField::kPassword:
      return key + "_basic_password";
  }
  return key;
}

std::vector<EndpointOverride> overridesFromEnvironment(char** envp) {
  std::vector<EndpointOverride> out;
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = entry.substr(0, eq);
    if (!isEnvironmentName(name) || !parseOverrideKey(name)) continue;
    out.push_back({std::string(name), std::string(entry.substr(eq + 1)), "the environment"});
  }
  return out;
}

std::vector<EndpointOverride> mergeOverrides(
    const std::vector<const std::vector<EndpointOverride>*>& byPrecedence) {
  std::vector<EndpointOverride> out;
  std::set<std::string> seen;
  for (const auto* list : byPrecedence) {
    if (list == nullptr) continue;
    for (const EndpointOverride& o : *list) {
      if (seen.insert(o.key).second) out.push_back(o);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const EndpointOverride& a, const EndpointOverride& b) { return a.key < b.key; });
  return out;
}

std::optional<EndpointOverride> overrideFromArgument(std::string_view arg) {
  if (arg.substr(0, 2) != "--") return std::nullopt;
  const std::size_t eq = arg.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  const std::string_view key = arg.substr(2, eq - 2);
  if (!parseOverrideKey(key)) return std::nullopt;
  return EndpointOverride{std::string(key), std::string(arg.substr(eq + 1)), "the command line"};
}

}  // namespace mgw::config
