#include "common/status.h"

namespace mgw {

Fault faultFor(Failure failure) {
  switch (failure) {
    case Failure::kNone:
      return {200, 0, "OK"};
    case Failure::kMissingCredentials:
      return {401, 900902, "Missing Credentials"};
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
      return {401, 900901, "Invalid Credentials"};
    case Failure::kUnsupportedSecurity:
      return {401, 900902, "Missing Credentials"};
    case Failure::kMissingScope:
      return {403, 900910, "The access token does not allow you to access the requested resource"};
    case Failure::kApiNotAllowed:
    case Failure::kIpNotPermitted:
    case Failure::kRefererNotPermitted:
    case Failure::kSandboxNotAvailable:
    case Failure::kNotSubscribed:
      return {403, 900908, "Resource forbidden"};
    case Failure::kCorsRefused:
      return {403, 900403, "CORS request refused"};
    case Failure::kNoApi:
      return {404, 900404, "No matching API"};
    case Failure::kNoResource:
      return {404, 900906, "No matching resource found in the API for the given request"};
    case Failure::kPathParameters:
    case Failure::kAmbiguousPath:
      return {400, 900400, "Bad Request"};
    case Failure::kBackendUnreachable:
    case Failure::kBackendRefused:
    case Failure::kBackendReset:
    case Failure::kBackendTlsFailed:
    case Failure::kBackendBadResponse:
      return {502, 101503, "Error connecting to the backend"};
    case Failure::kTooManyInvalidKeys:
      return {429, 900429, "Too many invalid API keys"};
    case Failure::kApiThrottled:
      return {429, 900800, "Message throttled out"};
    case Failure::kResourceThrottled:
      return {429, 900802, "Message throttled out"};
    case Failure::kApplicationThrottled:
      return {429, 900803, "Message throttled out"};
    case Failure::kSubscriptionThrottled:
      return {429, 900804, "Message throttled out"};
    case Failure::kThrottlePolicyMissing:
      return {500, 900809, "Internal Server Error"};
    case Failure::kBackendTimeout:
      return {504, 101504, "Connection timed out"};
    case Failure::kAuthMissing:
      return {401, 900902, "Missing Credentials"};
    case Failure::kAuthMalformed:
    case Failure::kAuthInvalid:
      return {401, 900901, "Invalid Credentials"};
    case Failure::kTooManyAttempts:
      return {429, 900429, "Too many failed attempts"};
    case Failure::kBadRequestBody:
    case Failure::kRequestBroaderThanAllowed:
      return {400, 900400, "Bad Request"};
    case Failure::kIssuerDisabled:
      return {503, 900503, "API key issuer disabled"};
    case Failure::kSigningFailed:
      return {500, 900500, "Internal Server Error"};
    case Failure::kForbidden:
      return {403, 900403, "Forbidden"};
    case Failure::kNotFound:
      return {404, 900404, "Not Found"};
    case Failure::kConflict:
      return {409, 900409, "Conflict"};
    case Failure::kClusterUnavailable:
      return {503, 900503, "Service Unavailable"};
    case Failure::kForeignOrigin:
      return {403, 900403, "Cross-origin request refused"};
    case Failure::kUnsupportedMediaType:
      return {415, 900415, "Unsupported Media Type"};
    case Failure::kSchemaViolation:
      return {400, 400, "Bad Request"};
    case Failure::kResponseSchemaViolation:
      return {500, 500, "Bad Response"};
    case Failure::kPayloadTooLarge:
      return {413, 900413, "Request Entity Too Large"};
    case Failure::kUriTooLong:
      return {414, 900414, "URI Too Long"};
    case Failure::kHeadersTooLarge:
      return {431, 900431, "Request Header Fields Too Large"};
    case Failure::kMethodNotAllowed:
      return {405, 900405, "Method Not Allowed"};
    case Failure::kInternalError:
      return {500, 900500, "Internal Server Error"};
    case Failure::kBadFraming:
      return {400, 900400, "Bad Request"};
    case Failure::kRequestTimeout:
      return {408, 900408, "Request Timeout"};
    case Failure::kExpectationFailed:
      return {417, 900417, "Expectation Failed"};
    case Failure::kNotImplemented:
      return {501, 900501, "Not Implemented"};
    case Failure::kVersionNotSupported:
      return {505, 900505, "HTTP Version Not Supported"};
    case Failure::kOverloaded:
      return {503, 900503, "Service Unavailable"};
  }
  return {500, 900500, "Internal Server Error"};
}

std::string_view failureName(Failure failure) {
  switch (failure) {
    case Failure::kNone:
      return "none";
    case Failure::kMissingCredentials:
      return "missing_credentials";
    case Failure::kKeyTooLarge:
      return "key_too_large";
    case Failure::kMalformedKey:
      return "malformed_key";
    case Failure::kUnknownKey:
      return "unknown_key";
    case Failure::kAlgorithmMismatch:
      return "algorithm_mismatch";
    case Failure::kBadSignature:
      return "bad_signature";
    case Failure::kWrongIssuer:
      return "wrong_issuer";
    case Failure::kExpired:
      return "expired";
    case Failure::kNotYetValid:
      return "not_yet_valid";
    case Failure::kRevoked:
      return "revoked";
    case Failure::kWrongAudience:
      return "wrong_audience";
    case Failure::kUnsupportedSecurity:
      return "unsupported_security";
    case Failure::kMissingScope:
      return "missing_scope";
    case Failure::kApiNotAllowed:
      return "api_not_allowed";
    case Failure::kIpNotPermitted:
      return "ip_not_permitted";
    case Failure::kRefererNotPermitted:
      return "referer_not_permitted";
    case Failure::kSandboxNotAvailable:
      return "sandbox_not_available";
    case Failure::kNotSubscribed:
      return "not_subscribed";
    case Failure::kNoApi:
      return "no_api";
    case Failure::kCorsRefused:
      return "cors_refused";
    case Failure::kNoResource:
      return "no_resource";
    case Failure::kPathParameters:
      return "path_parameters";
    case Failure::kAmbiguousPath:
      return "ambiguous_path";
    case Failure::kBackendUnreachable:
      return "backend_unreachable";
    case Failure::kBackendRefused:
      return "backend_refused";
    case Failure::kBackendReset:
      return "backend_reset";
    case Failure::kBackendTlsFailed:
      return "backend_tls_failed";
    case Failure::kBackendBadResponse:
      return "backend_bad_response";
    case Failure::kTooManyInvalidKeys:
      return "too_many_invalid_keys";
    case Failure::kApiThrottled:
      return "api_throttled";
    case Failure::kResourceThrottled:
      return "resource_throttled";
    case Failure::kApplicationThrottled:
      return "application_throttled";
    case Failure::kSubscriptionThrottled:
      return "subscription_throttled";
    case Failure::kThrottlePolicyMissing:
      return "throttle_policy_missing";
    case Failure::kBackendTimeout:
      return "backend_timeout";
    case Failure::kAuthMissing:
      return "auth_missing";
    case Failure::kAuthMalformed:
      return "auth_malformed";
    case Failure::kAuthInvalid:
      return "auth_invalid";
    case Failure::kTooManyAttempts:
      return "too_many_attempts";
    case Failure::kBadRequestBody:
      return "bad_request_body";
    case Failure::kRequestBroaderThanAllowed:
      return "request_broader_than_allowed";
    case Failure::kIssuerDisabled:
      return "issuer_disabled";
    case Failure::kSigningFailed:
      return "signing_failed";
    case Failure::kForbidden:
      return "forbidden";
    case Failure::kNotFound:
      return "not_found";
    case Failure::kConflict:
      return "conflict";
    case Failure::kClusterUnavailable:
      return "cluster_unavailable";
    case Failure::kForeignOrigin:
      return "foreign_origin";
    case Failure::kUnsupportedMediaType:
      return "unsupported_media_type";
    case Failure::kSchemaViolation:
      return "schema_violation";
    case Failure::kResponseSchemaViolation:
      return "response_schema_violation";
    case Failure::kPayloadTooLarge:
      return "payload_too_large";
    case Failure::kUriTooLong:
      return "uri_too_long";
    case Failure::kHeadersTooLarge:
      return "headers_too_large";
    case Failure::kMethodNotAllowed:
      return "method_not_allowed";
    case Failure::kInternalError:
      return "internal_error";
    case Failure::kBadFraming:
      return "bad_framing";
    case Failure::kRequestTimeout:
      return "request_timeout";
    case Failure::kExpectationFailed:
      return "expectation_failed";
    case Failure::kNotImplemented:
      return "not_implemented";
    case Failure::kVersionNotSupported:
      return "version_not_supported";
    case Failure::kOverloaded:
      return "overloaded";
  }
  return "unknown";
}

}  // namespace mgw
