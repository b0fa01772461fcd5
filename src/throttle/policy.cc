#include "throttle/policy.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace mgw::throttle {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::string_view policyLevelName(PolicyLevel level) {
  switch (level) {
    case PolicyLevel::kApi:
      return "api";
    case PolicyLevel::kApplication:
      return "application";
    case PolicyLevel::kSubscription:
      return "subscription";
  }
  return "api";
}

milliseconds windowOf(std::int64_t unitTime, std::string_view unit) {
  std::int64_t ms = 0;
  if (unit == "ms" || unit == "millisecond" || unit == "milliseconds") {
    ms = 1;
  } else if (unit == "sec" || unit == "s" || unit == "second" || unit == "seconds") {
    ms = 1000;
  } else if (unit == "min" || unit == "m" || unit == "minute" || unit == "minutes") {
    ms = 60000;
  } else if (unit == "hour" || unit == "h" || unit == "hours") {
    ms = 3600000;
  } else if (unit == "day" || unit == "d" || unit == "days") {
    ms = 86400000;
  }
  return milliseconds(unitTime > 0 ? ms * unitTime : 0);
}

namespace {

Policy builtIn(std::string name, PolicyLevel level, std::int64_t perMinute) {
  Policy p;
  p.name = std::move(name);
  p.level = level;
  p.count = perMinute;
  p.window = milliseconds(60000);
  p.source = "built in";
  return p;
}

}  // namespace

PolicySet::PolicySet() {
  // WSO2 API Manager's and MGW 3.x's defaults.
  for (auto [name, count] : {std::pair{"Gold", 5000}, {"Silver", 2000}, {"Bronze", 1000}})
    put(builtIn(name, PolicyLevel::kSubscription, count));
  for (auto [name, count] : {std::pair{"50PerMin", 50}, {"20PerMin", 20}, {"10PerMin", 10}})
    put(builtIn(name, PolicyLevel::kApplication, count));
  for (auto [name, count] :
       {std::pair{"50KPerMin", 50000}, {"20KPerMin", 20000}, {"10KPerMin", 10000}})
    put(builtIn(name, PolicyLevel::kApi, count));
  for (PolicyLevel level :
       {PolicyLevel::kApi, PolicyLevel::kApplication, PolicyLevel::kSubscription})
    put(builtIn("Unlimited", level, 0));
}

void PolicySet::put(Policy policy) {
  auto key = std::pair{policy.level, policy.name};
  policies_[std::move(key)] = std::move(policy);
}

const Policy* PolicySet::find(PolicyLevel level, std::string_view name) const {
  auto it = policies_.find(std::pair{level, std::string(name)});
  return it == policies_.end() ? nullptr : &it->second;
}

std::vector<const Policy*> PolicySet::all() const {
  std::vector<const Policy*> out;
  for (const auto& [key, p] : policies_) out.push_back(&p);
  return out;
}

bool PolicySet::readPoliciesYaml(std::string_view text, const std::string& source,
                                 std::vector<std::string>* errors) {
  const std::size_t before = errors->size();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    errors->push_back(source + ":" + std::to_string(e.mark.line + 1) +
                      ": not valid YAML: " + e.msg);
    return false;
  }
  if (root.IsNull()) return true;
  if (!root.IsMap()) {
    errors->push_back(source +
                      ": must be a map of resourcePolicies, applicationPolicies, "
                      "subscriptionPolicies");
    return false;
  }
  auto at = [&](const YAML::Node& n) {
    return source + ":" + std::to_string(n.Mark().line + 1) + ": ";
  };
  static const std::pair<const char*, PolicyLevel> kSections[] = {
      {"resourcePolicies", PolicyLevel::kApi},
      {"applicationPolicies", PolicyLevel::kApplication},
      {"subscriptionPolicies", PolicyLevel::kSubscription}};
  for (const auto& entry : root) {
    const std::string section = entry.first.as<std::string>("");
    const PolicyLevel* level = nullptr;
    for (const auto& [name, l] : kSections)
      if (section == name) level = &l;
    if (level == nullptr) {
      errors->push_back(at(entry.first) + "unknown section \"" + section +
                        "\"; allowed: resourcePolicies, applicationPolicies, subscriptionPolicies");
      continue;
    }
    const YAML::Node& list = entry.second;
    if (list.IsNull()) continue;
    if (!list.IsSequence()) {
      errors->push_back(at(list) + section +
                        " must be a list of \"- Name: {count, unitTime, "
                        "timeUnit}\"");
      continue;
    }
    for (const auto& item : list) {
      if (!item.IsMap() || item.size() != 1) {
        errors->push_back(at(item) + section +
                          ": each entry is one \"- Name:\" with count, "
                          "unitTime, timeUnit");
        continue;
      }
      const auto one = *item.begin();
      Policy p;
      p.name = one.first.as<std::string>("");
      p.level = *level;
      p.source = source + ":" + std::to_string(one.first.Mark().line + 1);
      const YAML::Node& body = one.second;
      if (p.name.empty() || !body.IsMap()) {
        errors->push_back(at(item) + section +
                          ": each entry is one \"- Name:\" with count, "
                          "unitTime, timeUnit");
        continue;
      }
      bool ok = true;
      std::int64_t unitTime = 1;
      std::string timeUnit = "min";
      bool hasCount = false;
      for (const auto& field : body) {
        const std::string key = field.first.as<std::string>("");
        try {
          if (key == "count") {
            hasCount = true;
            p.count = field.second.as<std::int64_t>();
            if (p.count < 1) throw YAML::Exception(field.second.Mark(), "");
          } else if (key == "unitTime") {
            unitTime = field.second.as<std::int64_t>();
            if (unitTime < 1) throw YAML::Exception(field.second.Mark(), "");
          } else if (key == "timeUnit") {
            timeUnit = field.second.as<std::string>();
          } else if (key == "stopOnQuota" || key == "stopOnQuotaReach") {
            p.stopOnQuotaReach = field.second.as<bool>();
          } else {
            // WSO2's other fields (description, ...) change nothing here.
            continue;
          }
        } catch (const YAML::Exception&) {
          errors->push_back(at(field.second) + section + "." + p.name + "." + key + ": must be " +
                            (key == "timeUnit"      ? "a string (sec, min, hour, day)"
                             : key == "stopOnQuota" ? "true or false"
                                                    : "a positive integer"));
          ok = false;
        }
      }
      if (!hasCount) {
        errors->push_back(at(one.first) + section + "." + p.name + ": count is missing");
        ok = false;
      }
      p.window = windowOf(unitTime, timeUnit);
      if (ok && p.window.count() <= 0) {
        errors->push_back(at(one.first) + section + "." + p.name + ".timeUnit: \"" + timeUnit +
                          "\" must be one of sec, min, hour, day");
        ok = false;
      }
      if (ok) put(std::move(p));
    }
  }
  return errors->size() == before;
}

PolicySet PolicySet::build(const config::Config& config, std::vector<std::string>* errors) {
  PolicySet set;
  const auto& th = config.throttling;
  std::string file = th.policiesFile;
  if (file.empty() && !config.runtimeHome.empty()) {
    const fs::path fallback = fs::path(config.runtimeHome) / "policies.yaml";
    std::error_code ec;
    if (fs::is_regular_file(fallback, ec)) file = fallback.string();
  }
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      errors->push_back(file +
                        ": cannot read the throttling policies file ([throttling] "
                        "policiesFile)");
    } else {
      std::ostringstream text;
      text << in.rdbuf();
      set.readPoliciesYaml(text.str(), file, errors);
    }
  }
  for (const auto& pc : th.policies) {
    Policy p;
    p.name = pc.name;
    p.level = pc.level == "application"    ? PolicyLevel::kApplication
              : pc.level == "subscription" ? PolicyLevel::kSubscription
                                           : PolicyLevel::kApi;
    p.count = pc.count;
    p.window = windowOf(pc.unitTime, pc.timeUnit);
    p.stopOnQuotaReach = pc.stopOnQuotaReach;
    p.source = config.sourcePath + ":" + std::to_string(pc.line);
    set.put(std::move(p));
  }
  return set;
}

}  // namespace mgw::throttle
