#include "message/grpc.h"

#include <strings.h>

namespace mgw::message {

bool isGrpcContentType(std::string_view contentType) {
  constexpr std::string_view kGrpc = "application/grpc";
  while (!contentType.empty() && (contentType.front() == ' ' || contentType.front() == '\t'))
    contentType.remove_prefix(1);
  if (contentType.size() < kGrpc.size() ||
      strncasecmp(contentType.data(), kGrpc.data(), kGrpc.size()) != 0)
    return false;
  if (contentType.size() == kGrpc.size()) return true;
  const char next = contentType[kGrpc.size()];
  return next == '+' || next == ';' || next == ' ' || next == '\t';
}

bool isGrpcRequest(const HttpRequest& request) {
  auto it = request.headers.find("Content-Type");
  return it != request.headers.end() && isGrpcContentType(it->second);
}

GrpcStatus grpcStatusFor(Failure failure) {
  switch (failure) {
    case Failure::kNone:
      return GrpcStatus::kOk;
    // No key, or a key that is not one: the caller is not known.
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
    case Failure::kAuthMissing:
    case Failure::kAuthMalformed:
    case Failure::kAuthInvalid:
      return GrpcStatus::kUnauthenticated;
    // A known caller that may not call this method.
    case Failure::kApiNotAllowed:
    case Failure::kIpNotPermitted:
    case Failure::kRefererNotPermitted:
    case Failure::kSandboxNotAvailable:
    case Failure::kNotSubscribed:
    case Failure::kMissingScope:
    case Failure::kCorsRefused:
    case Failure::kForbidden:
    case Failure::kForeignOrigin:
      return GrpcStatus::kPermissionDenied;
    // No such service or method (gRPC's own answer to an unknown method).
    case Failure::kNoApi:
    case Failure::kNoResource:
    case Failure::kMethodNotAllowed:
    case Failure::kNotImplemented:
    case Failure::kVersionNotSupported:
      return GrpcStatus::kUnimplemented;
    // The backend cannot be reached or answered nothing usable; retrying may help.
    case Failure::kBackendUnreachable:
    case Failure::kBackendRefused:
    case Failure::kBackendReset:
    case Failure::kBackendTlsFailed:
    case Failure::kBackendBadResponse:
    case Failure::kIssuerDisabled:
    case Failure::kClusterUnavailable:
    case Failure::kOverloaded:
      return GrpcStatus::kUnavailable;
    case Failure::kBackendTimeout:
    case Failure::kRequestTimeout:
      return GrpcStatus::kDeadlineExceeded;
    // Quotas and limits (gRPC reports an oversized message or metadata as RESOURCE_EXHAUSTED).
    case Failure::kTooManyInvalidKeys:
    case Failure::kApiThrottled:
    case Failure::kResourceThrottled:
    case Failure::kApplicationThrottled:
    case Failure::kSubscriptionThrottled:
    case Failure::kTooManyAttempts:
    case Failure::kPayloadTooLarge:
    case Failure::kUriTooLong:
    case Failure::kHeadersTooLarge:
      return GrpcStatus::kResourceExhausted;
    case Failure::kBadRequestBody:
    case Failure::kRequestBroaderThanAllowed:
    case Failure::kUnsupportedMediaType:
    case Failure::kSchemaViolation:
    // A path spelled so that it could name another resource (a ';' parameter, /Admin for /admin).
    case Failure::kPathParameters:
    case Failure::kAmbiguousPath:
      return GrpcStatus::kInvalidArgument;
    case Failure::kNotFound:
      return GrpcStatus::kNotFound;
    case Failure::kConflict:
      return GrpcStatus::kAlreadyExists;
    // The request broke the protocol, or micro-gw failed: INTERNAL, as gRPC maps HTTP 400 and 500.
    case Failure::kThrottlePolicyMissing:
    case Failure::kSigningFailed:
    case Failure::kInternalError:
    case Failure::kResponseSchemaViolation:
    case Failure::kBadFraming:
    case Failure::kExpectationFailed:
      return GrpcStatus::kInternal;
  }
  return GrpcStatus::kUnknown;
}

std::string percentEncodeGrpcMessage(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte <= 0x7e && byte != '%') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  return out;
}

}  // namespace mgw::message
