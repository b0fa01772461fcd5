#include "token/signing_key_set.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/base64url.h"
#include "common/crypto_util.h"
#include "token/iso_time.h"

namespace mgw::token {

namespace fs = std::filesystem;
using nlohmann::json;

std::string jwkThumbprint(const VerificationKey& key) {
  // RFC 7638 section 3.2: the required members only, in lexicographic order, no whitespace;
  // nlohmann::json orders object members and dump() writes none.
  const json jwk = key.toJwk("");
  json required;
  const std::string kty = jwk.at("kty").get<std::string>();
  if (kty == "RSA") {
    required = {{"e", jwk.at("e")}, {"kty", kty}, {"n", jwk.at("n")}};
  } else if (kty == "EC") {
    required = {{"crv", jwk.at("crv")}, {"kty", kty}, {"x", jwk.at("x")}, {"y", jwk.at("y")}};
  } else {  // OKP (RFC 8037 section 2)
    required = {{"crv", jwk.at("crv")}, {"kty", kty}, {"x", jwk.at("x")}};
  }
  return base64UrlEncode(sha256(required.dump()));
}

std::string_view keyStateName(KeyState state) {
  switch (state) {
    case KeyState::kNext:
      return "next";
    case KeyState::kActive:
      return "active";
    case KeyState::kRetired:
      return "retired";
    case KeyState::kExpired:
      return "expired";
  }
  return "unknown";
}

SigningKeySet::SigningKeySet(std::vector<SigningKeyEntry> keys, std::int64_t maxValiditySeconds,
                             std::int64_t skewSeconds)
    : keys_(std::move(keys)),
      maxValidity_(maxValiditySeconds),
      skew_(std::max<std::int64_t>(0, skewSeconds)) {
  std::stable_sort(keys_.begin(), keys_.end(),
                   [](const auto& a, const auto& b) { return a.activates < b.activates; });
}

const SigningKeyEntry* SigningKeySet::activeAt(std::int64_t now) const {
  if (keys_.empty()) return nullptr;
  const SigningKeyEntry* active = &keys_.front();
  for (const auto& k : keys_)
    if (k.activates <= now) active = &k;
  return active;
}

std::optional<std::int64_t> SigningKeySet::retiresAt(std::size_t index) const {
  if (index + 1 >= keys_.size()) return std::nullopt;
  return keys_[index + 1].activates;
}

std::optional<std::int64_t> SigningKeySet::verifiesUntil(std::size_t index) const {
  if (keys_[index].verifyUntil) return keys_[index].verifyUntil;
  auto retires = retiresAt(index);
  if (!retires || maxValidity_ <= 0) return std::nullopt;
  return *retires + maxValidity_ + skew_;
}

KeyState SigningKeySet::stateAt(std::size_t index, std::int64_t now) const {
  if (&keys_[index] == activeAt(now)) return KeyState::kActive;
  if (keys_[index].activates > now) return KeyState::kNext;
  auto until = verifiesUntil(index);
  return until && now > *until ? KeyState::kExpired : KeyState::kRetired;
}

std::optional<std::int64_t> parseIsoTime(std::string_view text) {
  // Exactly YYYY-MM-DDTHH:MM:SSZ, what isoTime writes.
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z')
    return std::nullopt;
  auto number = [&](std::size_t at, std::size_t len, int* out) {
    int v = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  std::tm tm{};
  int year = 0, month = 0;
  if (!number(0, 4, &year) || !number(5, 2, &month) || !number(8, 2, &tm.tm_mday) ||
      !number(11, 2, &tm.tm_hour) || !number(14, 2, &tm.tm_min) || !number(17, 2, &tm.tm_sec))
    return std::nullopt;
  if (month < 1 || month > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  const std::time_t t = timegm(&tm);
  // timegm normalises 2026-02-31 into March: refuse a date that does not round-trip.
  if (isoTime(t) != text && tm.tm_sec != 60) return std::nullopt;
  return static_cast<std::int64_t>(t);
}

bool readKeySetFile(const std::string& folder, std::vector<SigningKeyEntry>* entries,
                    std::string* error) {
  entries->clear();
  const fs::path path = fs::path(folder) / kKeySetFileName;
  std::error_code ec;
  if (!fs::exists(path, ec)) return true;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    *error = path.string() + ": cannot be read";
    return false;
  }
  const json doc = json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    *error = path.string() + ": not {\"keys\": [...]} JSON";
    return false;
  }
  std::size_t n = 0;
  for (const json& k : doc["keys"]) {
    const std::string where = path.string() + ": keys[" + std::to_string(n++) + "]";
    if (!k.is_object()) {
      *error = where + ": must be an object";
      return false;
    }
    SigningKeyEntry e;
    auto text = [&](const char* name, std::string* out, bool required) {
      auto it = k.find(name);
      if (it == k.end() && !required) return true;
      if (it == k.end() || !it->is_string()) {
        *error = where + ": \"" + name + "\" must be a string";
        return false;
      }
      *out = it->get<std::string>();
      return true;
    };
    auto date = [&](const char* name, std::optional<std::int64_t>* out, bool required) {
      std::string s;
      if (!text(name, &s, required)) return false;
      if (s.empty() && !required) return true;
      *out = parseIsoTime(s);
      if (!*out) {
        *error = where + ": \"" + name + "\" is \"" + s +
                 "\"; write an RFC 3339 UTC time such as 2026-12-31T00:00:00Z";
        return false;
      }
      return true;
    };
    std::optional<std::int64_t> created, activates;
    if (!text("kid", &e.kid, true) || !text("file", &e.file, false) ||
        !date("created", &created, false) || !date("activates", &activates, true) ||
        !date("verifyUntil", &e.verifyUntil, false))
      return false;
    if (e.kid.empty()) {
      *error = where + ": \"kid\" is empty";
      return false;
    }
    // A file name inside the folder, never a path out of it.
    if (e.file.find('/') != std::string::npos || e.file.find('\\') != std::string::npos ||
        (!e.file.empty() && e.file.front() == '.')) {
      *error = where + ": \"file\" must be a file name in " + folder;
      return false;
    }
    for (const auto& other : *entries) {
      if (other.kid == e.kid) {
        *error = where + ": kid \"" + e.kid + "\" appears twice";
        return false;
      }
    }
    e.created = created.value_or(0);
    e.activates = *activates;
    entries->push_back(std::move(e));
  }
  return true;
}

bool writeKeySetFile(const std::string& folder, const std::vector<SigningKeyEntry>& entries,
                     std::string* error) {
  json keys = json::array();
  for (const auto& e : entries) {
    json k = {{"kid", e.kid},
              {"file", e.file},
              {"created", isoTime(e.created)},
              {"activates", isoTime(e.activates)}};
    if (e.verifyUntil) k["verifyUntil"] = isoTime(*e.verifyUntil);
    keys.push_back(std::move(k));
  }
  const std::string data = json{{"keys", keys}}.dump(2) + "\n";
  const fs::path path = fs::path(folder) / kKeySetFileName;
  const std::string tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot create " + tmp + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot write " + path.string() + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace mgw::token
