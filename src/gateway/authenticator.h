// One interface for every way a secured resource is called (SPEC section 16; Envoy's
// Authenticator/Verifier): an Authenticator finds its scheme's credential in a request (judging
// nothing), then verifies it into the one Principal type or a Refusal. A scheme whose check
// blocks (argon2id) answers kDefer; its verifyBlocking then runs on the worker pool, never on an
// I/O thread. A new scheme is one more Authenticator, not another flag in the pipeline.
// Trusts the API definitions and the configuration; everything in the request is client input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/api.h"
#include "gateway/principal.h"
#include "gateway/refusal.h"
#include "message/http_message.h"

namespace mgw::gateway {

// A credential as found, not yet judged.
struct Credential {
  Scheme scheme = Scheme::kApiKey;
  std::string value;  // the key or token; for basic, the Authorization field value
  KeySource source;   // where it was found
};

// What verification may look at besides the credential.
struct AuthInput {
  const message::HttpRequest& request;
  const ApiDefinition& api;
  const Resource& resource;
  std::string_view clientAddress;  // the TCP peer, or the client trustedProxies vouch for
  std::string_view forwardedFor;   // X-Forwarded-For, every line joined in order ("" = none)
  std::int64_t nowMs = 0;          // Unix time, injected
};

struct AuthVerdict {
  enum class Kind { kAccepted, kRefused, kDefer };
  Kind kind = Kind::kRefused;
  // kAccepted: the caller. kRefused: as much as is known (keyId for the access log).
  Principal principal;
  Refusal refusal;  // kRefused

  static AuthVerdict accepted(Principal&& p) { return {Kind::kAccepted, std::move(p), {}}; }
  static AuthVerdict refused(Refusal r, std::string keyId = "") {
    AuthVerdict v{Kind::kRefused, {}, std::move(r)};
    v.principal.keyId = std::move(keyId);
    return v;
  }
  static AuthVerdict deferred() { return {Kind::kDefer, {}, {}}; }
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Scheme scheme() const = 0;
  // This scheme's credential when the resource takes the scheme and the request carries it;
  // nullopt otherwise. Judges nothing.
  virtual std::optional<Credential> extract(const message::HttpRequest& request,
                                            const ApiDefinition& api,
                                            const Resource& resource) const = 0;
  // On the calling (I/O) thread: accepted, refused, or kDefer (call verifyBlocking on the worker
  // pool and take its verdict).
  [[nodiscard]] virtual AuthVerdict verify(const Credential& credential,
                                           const AuthInput& input) const = 0;
  // Only after verify answered kDefer, never on an I/O thread. Never answers kDefer.
  [[nodiscard]] virtual AuthVerdict verifyBlocking(const Credential& credential,
                                                   const AuthInput& input) const {
    return verify(credential, input);
  }
};

}  // namespace mgw::gateway
