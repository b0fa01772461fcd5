#include "auth/login_refusal.h"

#include <algorithm>

#include <string>

namespace mgw::auth {

Refusal loginRefusal(const AuthOutcome& outcome) {
  // Exhaustive: a new Failure is placed here on purpose. UserStore::authenticate answers the
  // first five; any other is answered as bad credentials, the safe answer.
  switch (outcome.failure) {
    case Failure::kAuthMissing:
      return refuse(Failure::kAuthMissing, "send Authorization: Basic base64(user:password)");
    case Failure::kAuthMalformed:
      return refuse(Failure::kAuthMalformed,
                    "the Authorization header is not Basic base64(user:password)");
    case Failure::kTooManyAttempts: {
      const int retryAfter = std::max(1, outcome.retryAfterSeconds);
      return Refusal{
          Failure::kTooManyAttempts,
          "too many failed attempts; retry after " + std::to_string(retryAfter) + " seconds",
          retryAfter};
    }
    case Failure::kOverloaded: {
      const int retryAfter = std::max(1, outcome.retryAfterSeconds);
      return Refusal{Failure::kOverloaded,
                     "the server is checking too many passwords at once; retry after " +
                         std::to_string(retryAfter) + " seconds",
                     retryAfter};
    }
    case Failure::kAuthInvalid:
    case Failure::kNone:
    case Failure::kMissingCredentials:
    case Failure::kKeyTooLarge:
    case Failure::kMalformedKey:
    case Failure::kUnknownKey:
    case Failure::kAlgorithmMismatch:
    case Failure::kBadSignature:
    case Failure::kWrongIssuer:
    case Failure::kExpired:
    case Failure::kNotYetValid:
    case Failure::kRevoked:
    case Failure::kWrongAudience:
    case Failure::kUnsupportedSecurity:
    case Failure::kApiNotAllowed:
    case Failure::kIpNotPermitted:
    case Failure::kRefererNotPermitted:
    case Failure::kSandboxNotAvailable:
    case Failure::kNotSubscribed:
    case Failure::kMissingScope:
    case Failure::kCorsRefused:
    case Failure::kNoApi:
    case Failure::kNoResource:
    case Failure::kPathParameters:
    case Failure::kAmbiguousPath:
    case Failure::kBackendUnreachable:
    case Failure::kBackendRefused:
    case Failure::kBackendReset:
    case Failure::kBackendTlsFailed:
    case Failure::kBackendBadResponse:
    case Failure::kBackendTimeout:
    case Failure::kTooManyInvalidKeys:
    case Failure::kApiThrottled:
    case Failure::kResourceThrottled:
    case Failure::kApplicationThrottled:
    case Failure::kSubscriptionThrottled:
    case Failure::kThrottlePolicyMissing:
    case Failure::kBadRequestBody:
    case Failure::kRequestBroaderThanAllowed:
    case Failure::kIssuerDisabled:
    case Failure::kSigningFailed:
    case Failure::kForbidden:
    case Failure::kNotFound:
    case Failure::kConflict:
    case Failure::kClusterUnavailable:
    case Failure::kSchemaViolation:
    case Failure::kResponseSchemaViolation:
    case Failure::kPayloadTooLarge:
    case Failure::kUriTooLong:
    case Failure::kHeadersTooLarge:
    case Failure::kMethodNotAllowed:
    case Failure::kInternalError:
    case Failure::kBadFraming:
    case Failure::kRequestTimeout:
    case Failure::kExpectationFailed:
    case Failure::kNotImplemented:
    case Failure::kVersionNotSupported:
    case Failure::kForeignOrigin:
    case Failure::kUnsupportedMediaType:
      break;
  }
  return refuse(Failure::kAuthInvalid, "invalid user name or password");
}

}  // namespace mgw::auth
