// gRPC's view of an answer (grpc/doc/PROTOCOL-HTTP2.md, statuscodes.md): which requests are gRPC
// calls, the status code a refusal becomes, and the grpc-message encoding. A gRPC client reads
// only grpc-status and grpc-message (an HTTP status other than 200 or a JSON body is an INTERNAL or
// UNKNOWN error to it), so every micro-gw answer to a gRPC call is a trailers-only response built
// by message::writeFault from these. Trusts nothing: the content type is the client's.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "message/http_message.h"

namespace mgw::message {

// The canonical gRPC status codes (grpc/doc/statuscodes.md).
enum class GrpcStatus {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "application/grpc", alone or followed by "+<format>" or parameters, in any letter case (the
// gRPC-Web content types, "application/grpc-web...", are not gRPC: their trailers travel in the
// body).
bool isGrpcContentType(std::string_view contentType);

// Whether the request is a gRPC call (its Content-Type).
bool isGrpcRequest(const HttpRequest& request);

// The status a refusal gives a gRPC client. Exhaustive (no default; -Werror=switch): a key
// problem is UNAUTHENTICATED, a key that may not call the method PERMISSION_DENIED, throttling
// RESOURCE_EXHAUSTED, a backend that cannot be reached UNAVAILABLE, no such service or method
// UNIMPLEMENTED.
GrpcStatus grpcStatusFor(Failure failure);

// grpc-message's encoding: UTF-8 bytes outside printable ASCII (0x20-0x7E) and '%' as %XX
// (upper-case hex), everything else as is.
std::string percentEncodeGrpcMessage(std::string_view text);

}  // namespace mgw::message
