#include "message/grpc.h"

#include <gtest/gtest.h>

#include <set>

#include "message/fault_reply.h"

namespace mgw::message {
namespace {

std::string decode(std::string_view encoded) {
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      out += static_cast<char>(std::stoi(std::string(encoded.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += encoded[i];
    }
  }
  return out;
}

std::vector<Failure> allFailures() {
  std::vector<Failure> all;
  for (int i = 0; i <= static_cast<int>(kLastFailure); ++i) all.push_back(static_cast<Failure>(i));
  return all;
}

TEST(GrpcContentTypeTest, ApplicationGrpcWithFormatOrParametersInAnyCase) {
  for (const char* ct :
       {"application/grpc", "application/grpc+proto", "application/grpc+json", "Application/GRPC",
        "application/grpc; charset=utf-8", " application/grpc"})
    EXPECT_TRUE(isGrpcContentType(ct)) << ct;
  for (const char* ct :
       {"", "application/json", "application/grpc-web", "application/grpc-web+proto",
        "application/grpcx", "text/application/grpc", "application/grp"})
    EXPECT_FALSE(isGrpcContentType(ct)) << ct;
}

TEST(GrpcContentTypeTest, TheRequestsContentTypeDecidesTheFormat) {
  HttpRequest r;
  EXPECT_FALSE(isGrpcRequest(r));
  EXPECT_EQ(faultFormatFor(r), FaultFormat::kJson);
  r.headers.emplace("content-type", "application/grpc");
  EXPECT_TRUE(isGrpcRequest(r));
  EXPECT_EQ(faultFormatFor(r), FaultFormat::kGrpc);
}

// The statuses the issue names, by Failure.
TEST(GrpcStatusTest, KeyFailuresAreUnauthenticated) {
  for (Failure f : {Failure::kMissingCredentials, Failure::kUnknownKey, Failure::kMalformedKey,
                    Failure::kBadSignature, Failure::kExpired, Failure::kRevoked,
                    Failure::kWrongIssuer, Failure::kNotYetValid})
    EXPECT_EQ(grpcStatusFor(f), GrpcStatus::kUnauthenticated) << failureName(f);
}

TEST(GrpcStatusTest, ForbiddenCallsArePermissionDenied) {
  for (Failure f :
       {Failure::kApiNotAllowed, Failure::kIpNotPermitted, Failure::kRefererNotPermitted,
        Failure::kNotSubscribed, Failure::kMissingScope, Failure::kSandboxNotAvailable})
    EXPECT_EQ(grpcStatusFor(f), GrpcStatus::kPermissionDenied) << failureName(f);
}

TEST(GrpcStatusTest, ThrottlingIsResourceExhausted) {
  for (Failure f :
       {Failure::kApiThrottled, Failure::kResourceThrottled, Failure::kApplicationThrottled,
        Failure::kSubscriptionThrottled, Failure::kTooManyInvalidKeys})
    EXPECT_EQ(grpcStatusFor(f), GrpcStatus::kResourceExhausted) << failureName(f);
}

TEST(GrpcStatusTest, BackendDownIsUnavailableAndATimeoutDeadlineExceeded) {
  for (Failure f : {Failure::kBackendUnreachable, Failure::kBackendRefused, Failure::kBackendReset,
                    Failure::kBackendTlsFailed, Failure::kBackendBadResponse})
    EXPECT_EQ(grpcStatusFor(f), GrpcStatus::kUnavailable) << failureName(f);
  EXPECT_EQ(grpcStatusFor(Failure::kBackendTimeout), GrpcStatus::kDeadlineExceeded);
}

TEST(GrpcStatusTest, NoSuchServiceOrMethodIsUnimplemented) {
  EXPECT_EQ(grpcStatusFor(Failure::kNoApi), GrpcStatus::kUnimplemented);
  EXPECT_EQ(grpcStatusFor(Failure::kNoResource), GrpcStatus::kUnimplemented);
  EXPECT_EQ(grpcStatusFor(Failure::kMethodNotAllowed), GrpcStatus::kUnimplemented);
}

// Every Failure: the gRPC status agrees with the HTTP status class of the JSON fault, and only
// kNone is OK.
TEST(GrpcStatusTest, EveryFailureAgreesWithItsHttpStatus) {
  for (Failure f : allFailures()) {
    const GrpcStatus s = grpcStatusFor(f);
    const int http = faultFor(f).httpStatus;
    EXPECT_EQ(s == GrpcStatus::kOk, f == Failure::kNone) << failureName(f);
    EXPECT_NE(s, GrpcStatus::kUnknown) << failureName(f);
    if (http == 401) {
      EXPECT_EQ(s, GrpcStatus::kUnauthenticated) << failureName(f);
    } else if (http == 403) {
      EXPECT_EQ(s, GrpcStatus::kPermissionDenied) << failureName(f);
    } else if (http == 429) {
      EXPECT_EQ(s, GrpcStatus::kResourceExhausted) << failureName(f);
    } else if (http == 502 || http == 503) {
      EXPECT_EQ(s, GrpcStatus::kUnavailable) << failureName(f);
    } else if (http == 500) {
      EXPECT_EQ(s, GrpcStatus::kInternal) << failureName(f);
    }
  }
}

TEST(GrpcMessageTest, PercentEncodesWhatIsNotPrintableAsciiAndThePercentSign) {
  EXPECT_EQ(percentEncodeGrpcMessage("retry after 3 s"), "retry after 3 s");
  EXPECT_EQ(percentEncodeGrpcMessage("100% done"), "100%25 done");
  EXPECT_EQ(percentEncodeGrpcMessage("a\r\nb\x7f"), "a%0D%0Ab%7F");
  EXPECT_EQ(percentEncodeGrpcMessage("caf\xc3\xa9"), "caf%C3%A9");
  EXPECT_EQ(percentEncodeGrpcMessage(""), "");
}

// The gRPC rendering of every Failure: a trailers-only answer, never a body.
TEST(GrpcFaultTest, EveryFailureIsATrailersOnlyAnswerWithTheSameDescription) {
  const std::string description = "the key is revoked: 50% of \"x\"\n\xc3\xa9";
  for (Failure f : allFailures()) {
    if (f == Failure::kNone) continue;
    const HttpResponse r = faultReply(f, description, Challenge::kApiKey, FaultFormat::kGrpc);
    SCOPED_TRACE(std::string(failureName(f)));
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.empty());
    ASSERT_EQ(r.headers.count("Content-Type"), 1u);
    EXPECT_EQ(r.headers.find("Content-Type")->second, "application/grpc");
    ASSERT_EQ(r.headers.count("grpc-status"), 1u);
    EXPECT_EQ(r.headers.find("grpc-status")->second,
              std::to_string(static_cast<int>(grpcStatusFor(f))));
    ASSERT_EQ(r.headers.count("grpc-message"), 1u);
    const std::string& message = r.headers.find("grpc-message")->second;
    for (char c : message) EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << message;
    EXPECT_EQ(decode(message), description);
    EXPECT_EQ(r.headers.count("WWW-Authenticate"), 0u);  // 401 is not what a gRPC client reads
  }
}

TEST(GrpcFaultTest, WithoutADescriptionTheFaultMessageIsSent) {
  const HttpResponse r =
      faultReply(Failure::kNoResource, "", Challenge::kApiKey, FaultFormat::kGrpc);
  EXPECT_EQ(r.headers.find("grpc-message")->second,
            std::string(faultFor(Failure::kNoResource).message));
}

TEST(GrpcFaultTest, TheJsonFormatIsUnchanged) {
  const HttpResponse r = faultReply(Failure::kExpired, "expired");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers.find("Content-Type")->second, "application/json");
  EXPECT_EQ(r.headers.count("grpc-status"), 0u);
  EXPECT_NE(r.body.find("900901"), std::string::npos);
}

TEST(GrpcFaultTest, FaultReplyForFollowsTheRequest) {
  HttpRequest grpc;
  grpc.headers.emplace("Content-Type", "application/grpc+proto");
  EXPECT_EQ(faultReplyFor(grpc, Failure::kApiThrottled, "retry after 2 s")
                .headers.find("grpc-status")
                ->second,
            "8");
  HttpRequest rest;
  rest.headers.emplace("Content-Type", "application/json");
  EXPECT_EQ(faultReplyFor(rest, Failure::kApiThrottled, "retry after 2 s").status, 429);
}

}  // namespace
}  // namespace mgw::message
