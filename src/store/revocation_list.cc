#include "store/revocation_list.h"

#include <mutex>

namespace mgw::store {

void RevocationList::revokeJti(const std::string& jti, std::int64_t expiresAt) {
  if (jti.empty()) return;  // an empty jti would otherwise revoke every key without one
  std::unique_lock lock(mutex_);
  auto [it, inserted] = jtis_.emplace(jti, expiresAt);
  if (!inserted) {
    // Keep the longer life: never let a second revoke shorten the first.
    if (it->second > 0 && (expiresAt <= 0 || expiresAt > it->second)) it->second = expiresAt;
  }
}

void RevocationList::setSubjectWatermark(const std::string& sub, std::int64_t issuedBefore) {
  if (sub.empty()) return;
  std::unique_lock lock(mutex_);
  auto [it, inserted] = watermarks_.emplace(sub, issuedBefore);
  if (!inserted && issuedBefore > it->second) it->second = issuedBefore;
}

bool RevocationList::isRevoked(std::string_view jti, std::string_view sub, std::int64_t iat) const {
  std::shared_lock lock(mutex_);
  if (!jti.empty() && jtis_.find(jti) != jtis_.end()) return true;
  if (!sub.empty()) {
    auto it = watermarks_.find(sub);
    if (it != watermarks_.end() && iat <= it->second) return true;
  }
  return false;
}

void RevocationList::purgeExpired(std::int64_t now) {
  std::unique_lock lock(mutex_);
  for (auto it = jtis_.begin(); it != jtis_.end();) {
    if (it->second > 0 && it->second < now) {
      it = jtis_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t RevocationList::size() const {
  std::shared_lock lock(mutex_);
  return jtis_.size() + watermarks_.size();
}

void RevocationList::clear() {
  std::unique_lock lock(mutex_);
  jtis_.clear();
  watermarks_.clear();
}

}  // namespace mgw::store
