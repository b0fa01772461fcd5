// Every reason micro-gw refuses a request, and the one mapping from a reason to what the client
// sees. Logs carry the internal name (failureName); clients get the status, fault code and message.
#pragma once

#include <string_view>

namespace mgw {

enum class Failure {
  kNone,

  // Gateway: no key or an unusable key (401, 900901/900902).
  kMissingCredentials,  // no key in any declared header or query parameter
  kKeyTooLarge,         // over 8 KiB
  kMalformedKey,        // not three base64url segments with JSON header and payload
  kUnknownKey,          // kid names no trusted key, or an opaque key that is not known
  kAlgorithmMismatch,   // alg differs from the one the key pins (incl. none, HS*)
  kBadSignature,
  kWrongIssuer,
  kExpired,
  kNotYetValid,
  kRevoked,
  // WSO2 MGW 3.x migration (issue 16).
  kWrongAudience,        // the issuer is configured with an audience the token's aud lacks
  kUnsupportedSecurity,  // 401, 900902: the resource takes only schemes micro-gw does not serve

  // Gateway: a valid key that may not call this resource (403, 900908).
  kApiNotAllowed,
  kIpNotPermitted,
  kRefererNotPermitted,
  kSandboxNotAvailable,  // SANDBOX key, API without sandbox endpoints
  kNotSubscribed,        // opaque key on a subscriptionRequired API without subscription
  kMissingScope,         // 403, 900910: a bearer token without a scope the resource requires
  kCorsRefused,          // a CORS preflight whose origin, method or headers the API does not allow

  // Gateway routing and backends.
  kNoApi,       // 404
  kNoResource,  // 404, 900906
  // 400, 900400 (issue 22 item 6): a ';' parameter in a path segment under an API that does not
  // allow them (servlet containers strip ";jsessionid=x" and serve another resource).
  kPathParameters,
  // 400, 900400: the path fell to a template or wildcard, but case-folded, trailing dots
  // stripped and slashes merged it names a secured literal resource (/Admin, /admin., //admin).
  kAmbiguousPath,
  kBackendUnreachable,  // 502, 101503: no usable endpoint, or a connect failure not named below
  kBackendRefused,      // 502, 101503: the connection was refused
  kBackendReset,        // 502, 101503: the connection was reset or closed mid-exchange
  kBackendTlsFailed,    // 502, 101503: TLS handshake or certificate verification failed
  kBackendBadResponse,  // 502, 101503: the answer is not valid HTTP/1.1
  kBackendTimeout,      // 504, 101504
  kTooManyInvalidKeys,  // 429, 900429: too many unknown or invalid keys from this client address

  // Gateway: throttling (SPEC section 13): 429 with Retry-After and RateLimit headers, WSO2's
  // codes; the login and key-lookup throttles keep 900429, distinct from these.
  kApiThrottled,           // 429, 900800: the API's tier (x-wso2-throttling-tier, throttlingTier)
  kResourceThrottled,      // 429, 900802: the operation's tier
  kApplicationThrottled,   // 429, 900803: the application's tier
  kSubscriptionThrottled,  // 429, 900804: the key's subscription tier for this API
  kThrottlePolicyMissing,  // 500, 900809: a definition names a policy that does not exist

  // STS and management endpoints.
  kAuthMissing,                // 401: no Authorization header
  kAuthMalformed,              // 401: not "Basic base64(user:password)"
  kAuthInvalid,                // 401: unknown user or wrong password (one answer for both)
  kTooManyAttempts,            // 429, 900429 (the login throttle's own code)
  kBadRequestBody,             // 400: malformed JSON or a field of the wrong type
  kRequestBroaderThanAllowed,  // 400: allowedAPIs outside what the user may have
  kIssuerDisabled,             // 503
  kSigningFailed,              // 500
  kForbidden,                  // 403: the caller may not act on this object
  kNotFound,                   // 404: no such key, application or subscription
  kConflict,                   // 409: duplicate custom key or name
  // 503: [cluster] on and the change could not be shared with the other nodes through Redis
  // (unreachable, too slow, or this node's key hash secret differs from the cluster's).
  kClusterUnavailable,
  // CSRF (sts/cross_site.h): a browser on another origin (403, 900403), or a change whose body
  // is not JSON (415, 900415).
  kForeignOrigin,
  kUnsupportedMediaType,

  // Schema validation (issue 27): the request breaks the API's OpenAPI definition (400, code 400
  // "Bad Request", as WSO2 MGW 3.x's validation filter answers), or the backend's answer does
  // (500, code 500 "Bad Response").
  kSchemaViolation,
  kResponseSchemaViolation,

  // Transport limits enforced by the server.
  kPayloadTooLarge,   // 413
  kUriTooLong,        // 414
  kHeadersTooLarge,   // 431
  kMethodNotAllowed,  // 405
  kInternalError,     // 500

  // HTTP/1.1 on the wire (RFC 9112), refused by the server before any handler runs; the
  // connection is closed after each of these.
  kBadFraming,           // 400: malformed request line, field, Content-Length or chunk
  kRequestTimeout,       // 408: the head did not arrive within headerTimeoutSeconds
  kExpectationFailed,    // 417: an Expect other than 100-continue
  kNotImplemented,       // 501: a transfer coding other than chunked
  kVersionNotSupported,  // 505: not HTTP/1.x
  kOverloaded,           // 503: the blocking-work queue waited too long (Retry-After)
};

struct Fault {
  int httpStatus;
  int code;
  std::string_view message;
};

// The last value of Failure: tests walk 0..kLastFailure through faultFor and failureName.
inline constexpr Failure kLastFailure = Failure::kOverloaded;

// Exhaustive: adding a Failure without a row here does not compile (-Werror=switch).
Fault faultFor(Failure failure);

// Stable internal name for logs, e.g. "expired".
std::string_view failureName(Failure failure);

}  // namespace mgw
