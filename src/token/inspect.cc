#include "token/inspect.h"

#include "common/key_format.h"
#include "token/iso_time.h"
#include "token/jws.h"

namespace mgw::token {

std::string inspectToken(std::string_view token, bool* ok) {
  if (ok) *ok = false;
  // Tolerate what a shell or a copy from an HTTP header adds around the key.
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.remove_suffix(1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);

  // A key framed for secret scanners ("<prefix>_<JWS>_<checksum>", issue 25 item 4): the JWS.
  std::string framing;
  const FramedKey framed = unframeSignedKeyAnyPrefix(token);
  if (framed.shape == KeyShape::kBadChecksum)
    return "malformed key: it has a key prefix but its checksum is wrong (mistyped, truncated or "
           "changed)\n";
  if (framed.shape == KeyShape::kValid) {
    framing = "framed: " + std::string(token.substr(0, token.find('_'))) +
              "_<JWS>_<checksum> (checksum right)\n";
    token = framed.jws;
  }

  Failure failure = Failure::kNone;
  std::string reason;
  std::optional<ParsedJws> jws = parseCompact(token, &failure, &reason);
  if (!jws) return "malformed key: " + reason + "\n";

  // replace: a payload string is valid UTF-8 (the parser checked), but never let printing throw.
  auto pretty = [](const nlohmann::json& j) {
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  std::string out = "NOT VERIFIED: decoded without checking the signature\n" + framing;
  out += "header:\n" + pretty(jws->header) + "\n";
  out += "claims:\n" + pretty(jws->payload) + "\n";
  std::string times;
  for (const char* name : {"iat", "nbf", "exp"}) {
    auto it = jws->payload.find(name);
    if (it == jws->payload.end()) continue;
    if (it->is_number()) {
      // RFC 7519 section 2 NumericDate; fractions are dropped for display.
      const double seconds = it->get<double>();
      const bool representable = seconds > -9.2e18 && seconds < 9.2e18;
      times += std::string("  ") + name + ": " +
               (representable ? isoTime(static_cast<std::int64_t>(seconds))
                              : std::string("<out of range>")) +
               "\n";
    } else {
      times += std::string("  ") + name + ": not a NumericDate\n";
    }
  }
  if (!times.empty()) out += "times (UTC):\n" + times;
  out += "signature: " + std::to_string(jws->signature.size()) + " bytes\n";
  if (ok) *ok = true;
  return out;
}

}  // namespace mgw::token
