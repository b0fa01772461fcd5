#include "apis/endpoint_overrides.h"

#include <openssl/evp.h>

#include <map>
#include <set>

#include "apis/definition_reader.h"
#include "common/base64url.h"
#include "common/crypto_util.h"
#include "config/endpoint_overrides.h"

namespace mgw::apis {
namespace {

using config::EndpointOverride;
using config::OverrideField;
using gateway::ApiDefinition;
using gateway::Endpoints;

const char* listKind(bool sandbox) { return sandbox ? "sandbox" : "production"; }

// One endpoint list of one API, where the overrides can reach it.
struct ListRef {
  std::size_t api;
  Endpoints* list;
  bool sandbox;
};

// The password of "Basic base64(user:password)" (the user name holds no ':', RFC 7617).
std::string passwordOf(const std::string& authorization) {
  auto decoded = base64Decode(std::string_view(authorization).substr(6));
  if (!decoded) return "";
  const std::size_t colon = decoded->find(':');
  std::string password = colon == std::string::npos ? "" : decoded->substr(colon + 1);
  secureWipe(*decoded);
  return password;
}

bool hasControlCharacter(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  return false;
}

class Applier {
 public:
  Applier(std::vector<ApiDefinition>* apis, const std::vector<EndpointOverride>& overrides,
          std::vector<ApiLoadError>* errors)
      : apis_(*apis), errors_(errors), failed_(apis->size(), false) {
    for (const EndpointOverride& o : overrides) byKey_.emplace(o.key, &o);
  }

  void run() {
    std::vector<ListRef> lists;
    for (std::size_t i = 0; i < apis_.size(); ++i) {
      ApiDefinition& api = apis_[i];
      lists.push_back({i, &api.production, false});
      lists.push_back({i, &api.sandbox, true});
      for (gateway::Resource& res : api.resources) {
        lists.push_back({i, &res.production, false});
        lists.push_back({i, &res.sandbox, true});
      }
    }
    for (const ListRef& ref : lists) {
      if (ref.list->empty()) continue;
      if (!ref.list->overrideName.empty()) known_[ref.list->overrideName].insert(ref.sandbox);
      apply(ref);
    }
    for (const auto& [key, o] : byKey_) {
      if (!used_.count(key)) fail(*o, unknownReason(key));
    }
    std::vector<ApiDefinition> kept;
    for (std::size_t i = 0; i < apis_.size(); ++i)
      if (!failed_[i]) kept.push_back(std::move(apis_[i]));
    apis_ = std::move(kept);
  }

 private:
  const EndpointOverride* find(const ListRef& ref, OverrideField field, std::size_t index = 0) {
    const std::string key =
        config::overrideKeyText(ref.list->overrideName, ref.sandbox, field, index);
    auto it = byKey_.find(key);
    if (it == byKey_.end()) return nullptr;
    used_.insert(key);
    return it->second;
  }

  void apply(const ListRef& ref) {
    Endpoints& list = *ref.list;
    if (!list.overrideName.empty()) {
      bool changed = false;
      for (std::size_t i = 0; i < list.urls.size(); ++i) {
        const EndpointOverride* o = find(ref, OverrideField::kUrl, i);
        if (!o) continue;
        std::string url = o->value;
        std::string why;
        if (url.empty())
          why = "is empty (give the backend's URL)";
        else if (url.rfind("etcd(", 0) == 0)
          why = "etcd(...) service discovery is not supported; give the backend's URL";
        else
          why = checkEndpointUrl(&url);
        if (!why.empty()) {
          fail(*o, why, ref.api);
          continue;
        }
        list.urls[i] = url;
        changed = true;
      }
      if (changed) {
        if (std::string why = checkOneProtocol(list.urls); !why.empty())
          fail(apis_[ref.api].source,
               "endpoint list '" + list.overrideName + "' (" + listKind(ref.sandbox) +
                   ") after its overrides: " + why,
               ref.api);
      }
    }
    applyCredentials(ref);
  }

  void applyCredentials(const ListRef& ref) {
    Endpoints& list = *ref.list;
    const bool named = !list.overrideName.empty();
    const EndpointOverride* user = named ? find(ref, OverrideField::kUsername) : nullptr;
    const EndpointOverride* pass = named ? find(ref, OverrideField::kPassword) : nullptr;
    if (list.basicUsername.empty()) {
      for (const EndpointOverride* o : {user, pass}) {
        if (o)
          fail(*o,
               "endpoint list '" + list.overrideName + "' (" + listKind(ref.sandbox) +
                   ") has no securityConfig {type: basic}: there is no basic auth to override",
               ref.api);
      }
      return;
    }
    if (!user && !pass && !list.basicPasswordMissing) return;
    std::string username = user ? user->value : list.basicUsername;
    if (user && (username.empty() || username.find(':') != std::string::npos ||
                 hasControlCharacter(username))) {
      fail(*user, "must be a non-empty user name without ':' or control characters (RFC 7617)",
           ref.api);
      return;
    }
    std::string password;
    if (pass) {
      if (pass->value.empty() || hasControlCharacter(pass->value)) {
        fail(*pass, "must be a non-empty password without control characters", ref.api);
        return;
      }
      password = pass->value;
    } else if (list.basicPasswordMissing) {
      const std::string key =
          named ? config::overrideKeyText(list.overrideName, ref.sandbox, OverrideField::kPassword)
                : "";
      fail(apis_[ref.api].source,
           named ? "endpoint list '" + list.overrideName + "' (" + listKind(ref.sandbox) +
                       "): securityConfig has no password; set " + key +
                       " (in the environment, at the top of micro-gw.conf, or --" + key +
                       "=... on the command line), as WSO2 API Microgateway 3.x read it"
                 : "an operation's own endpoints: securityConfig has no password, and only a "
                   "named x-wso2-endpoints entry can take one at run time; write the password",
           ref.api);
      return;
    } else {
      password = passwordOf(list.backendAuthorization);
    }
    std::string pair = username + ":" + password;
    list.backendAuthorization = "Basic " + base64Encode(pair);
    list.basicUsername = username;
    list.basicPasswordMissing = false;
    secureWipe(pair);
    secureWipe(password);
  }

  // Why a key matched no list: the list exists for the other kind, its index is past the URLs,
  // or no list has the name (then the names that can be overridden).
  std::string unknownReason(const std::string& key) const {
    auto parsed = config::parseOverrideKey(key);
    const std::string kind = parsed && parsed->sandbox ? "sandbox" : "production";
    auto it = parsed ? known_.find(parsed->name) : known_.end();
    if (it != known_.end() && it->second.count(parsed->sandbox)) {
      return "endpoint list '" + parsed->name + "' (" + kind + ") has fewer than " +
             std::to_string(parsed->index + 1) + " URLs (the index counts from 0)";
    }
    if (it != known_.end())
      return "endpoint list '" + parsed->name + "' is not used as " + kind + " endpoints";
    std::string names;
    std::size_t shown = 0;
    for (const auto& [name, kinds] : known_) {
      if (shown++ == 12) {
        names += ", ...";
        break;
      }
      if (!names.empty()) names += ", ";
      names += name + " (" +
               (kinds.size() == 2 ? "prod, sand" : (*kinds.begin() ? "sand" : "prod")) + ")";
    }
    return "no API's endpoint list is named '" + (parsed ? parsed->name : key) +
           "' (names: an x-wso2-endpoints entry, or api_<md5 of title:version> for an API's own "
           "endpoints; an operation's inline endpoints take none); known: " +
           (names.empty() ? "none" : names);
  }

  // The override's value is not repeated (a password's never is; a bad URL is named by why).
  void fail(const EndpointOverride& o, const std::string& why, std::size_t api = SIZE_MAX) {
    fail(o.origin, "endpoint override " + o.key + ": " + why, api);
  }

  void fail(const std::string& where, const std::string& message, std::size_t api) {
    if (api != SIZE_MAX) failed_[api] = true;
    if (!reported_.insert(where + "\n" + message).second) return;
    if (errors_) errors_->push_back(ApiLoadError{where, "", message});
  }

  std::vector<ApiDefinition>& apis_;
  std::vector<ApiLoadError>* errors_;
  std::vector<bool> failed_;
  std::map<std::string, const EndpointOverride*> byKey_;
  std::set<std::string> used_;
  std::map<std::string, std::set<bool>> known_;  // name -> sandbox? (false: production)
  std::set<std::string> reported_;               // one error per message, however many lists
};

}  // namespace

std::string wso2ApiId(const std::string& title, const std::string& version) {
  const std::string text = title + ":" + version;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // MD5 as WSO2's toolkit used it: a name, not a protection.
  if (EVP_Digest(text.data(), text.size(), md, &size, EVP_md5(), nullptr) != 1) return "";
  return "api_" + hexEncode(std::string_view(reinterpret_cast<const char*>(md), size));
}

void applyEndpointOverrides(std::vector<ApiDefinition>* apis,
                            const std::vector<EndpointOverride>& overrides,
                            std::vector<ApiLoadError>* errors) {
  Applier(apis, overrides, errors).run();
}

}  // namespace mgw::apis
