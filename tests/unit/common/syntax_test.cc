#include "common/syntax.h"

#include <gtest/gtest.h>

#include "common/endpoint_url.h"
#include "common/ip_address.h"
#include "common/status.h"

namespace mgw {
namespace {

// What `micro-gw hash-password` writes (the shipped admin/admin hash).
constexpr const char* kGood =
    "$argon2id$v=19$m=65536,t=2,p=1$mhu3QKphxZpAP7x8okRmHQ$"
    "AguW3eQx87y3wQAV4UArfJTlfIGJ2trKGbhzFsF9TUs";

TEST(Argon2idSyntax, AcceptsWhatHashPasswordWrites) {
  EXPECT_TRUE(isArgon2idString(kGood));
  EXPECT_EQ(classifyPasswordHash(kGood), PasswordHashKind::kArgon2id);
}

// Issue 10 item 3: these passed the config loader's copy and made UserStore throw on SIGHUP.
TEST(Argon2idSyntax, RefusesWhatLibsodiumCannotVerify) {
  EXPECT_FALSE(isArgon2idString("$argon2id$v=18$m=1,t=1,p=1$abc$def"));
  EXPECT_FALSE(isArgon2idString("$argon2id$v=19$m=1,t=1,p=1$abc$def"));
  EXPECT_FALSE(isArgon2idString("$argon2id$v=19$m=65536,t=2,p=1$abc$def"));  // 2-byte salt
  EXPECT_FALSE(classifyPasswordHash("$argon2id$v=19$m=1,t=1,p=1$abc$def").has_value());
  EXPECT_FALSE(isArgon2idString(""));
  EXPECT_FALSE(isArgon2idString(std::string(kGood) + "x$"));
}

TEST(PasswordHashSyntax, Digests) {
  EXPECT_EQ(classifyPasswordHash(std::string("@sha256:") + std::string(64, 'a')),
            PasswordHashKind::kSha256);
  EXPECT_EQ(classifyPasswordHash(std::string(40, 'F')), PasswordHashKind::kSha1Legacy);
  EXPECT_FALSE(classifyPasswordHash("admin").has_value());
}

TEST(HttpToken, Rfc9110) {
  EXPECT_TRUE(isHttpToken("X-API-Key"));
  EXPECT_TRUE(isHttpToken("a!#$%&'*+-.^_`|~z"));
  EXPECT_FALSE(isHttpToken(""));
  EXPECT_FALSE(isHttpToken("api key"));
  EXPECT_FALSE(isHttpToken("api:key"));
  EXPECT_FALSE(isHttpToken(std::string_view("a\0b", 3)));
}

TEST(HostField, Rfc9112UriHostAndPort) {
  for (const char* ok :
       {"", "example.com", "example.com:8080", "127.0.0.1", "127.0.0.1:9090", "[::1]", "[::1]:9095",
        "[v1.fe80::a+en1]", "xn--bcher-kva.example", "a%2Db", "a_b~c!$&'()*+,;=", "host:"})
    EXPECT_TRUE(isHostFieldValue(ok)) << ok;
  for (const char* bad :
       {"a b", "user@host", "host/path", "host?q", "host#f", "host:80:81", "host:8a", "[::1", "[]",
        "[::1]x", "[::1]:x", "a%2", "a%zz", "\"a\"", "host\\x", "h\x7f"})
    EXPECT_FALSE(isHostFieldValue(bad)) << bad;
}

TEST(IpRange, OneParserForAddressesAndRanges) {
  std::string error;
  EXPECT_TRUE(parseIpRange("10.0.0.0/8", &error));
  EXPECT_TRUE(parseIpRange(" ::1 ", &error));
  EXPECT_FALSE(parseIpRange("10.0.0.0/33", &error));
  EXPECT_FALSE(parseIpRange("10.0.0.0/08", &error));
  EXPECT_FALSE(parseIpRange("010.0.0.1", &error));
  auto r = parseIpRange("10.1.2.3/8", &error);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->contains(*parseIpAddress("10.200.0.1")));
  EXPECT_FALSE(r->contains(*parseIpAddress("11.0.0.1")));
}

TEST(EndpointUrl, RefusesWhitespaceAndControls) {
  std::string error;
  EXPECT_TRUE(parseEndpointUrl("http://localhost:8080/api", &error));
  EXPECT_FALSE(parseEndpointUrl("http://local host/api", &error));
  EXPECT_FALSE(parseEndpointUrl("http://localhost:99999/", &error));
  EXPECT_FALSE(parseEndpointUrl("ftp://localhost/", &error));
}

// Issue 23 item 3: HTTP/2 backends. h2c:// is cleartext with prior knowledge, h2:// TLS with ALPN;
// their origins differ from http:// and https:// to the same address (never one pooled connection
// for both protocols).
TEST(EndpointUrl, Http2Schemes) {
  std::string error;
  auto h2c = parseEndpointUrl("h2c://127.0.0.1:50051", &error);
  ASSERT_TRUE(h2c) << error;
  EXPECT_TRUE(h2c->http2);
  EXPECT_FALSE(h2c->tls);
  EXPECT_EQ(h2c->port, 50051);
  EXPECT_EQ(h2c->origin, "h2c://127.0.0.1:50051");
  EXPECT_EQ(h2c->hostHeader, "127.0.0.1:50051");
  auto h2 = parseEndpointUrl("H2://grpc.example:8443/base?x=1", &error);
  ASSERT_TRUE(h2) << error;
  EXPECT_TRUE(h2->http2);
  EXPECT_TRUE(h2->tls);
  EXPECT_EQ(h2->host, "grpc.example");
  EXPECT_EQ(h2->basePath, "/base");
  EXPECT_EQ(h2->baseQuery, "x=1");
  EXPECT_EQ(h2->origin, "h2://grpc.example:8443");
  // Default ports: 80 cleartext, 443 TLS, as for http and https.
  EXPECT_EQ(parseEndpointUrl("h2c://backend", &error)->port, 80);
  EXPECT_EQ(parseEndpointUrl("h2c://backend", &error)->hostHeader, "backend");
  EXPECT_EQ(parseEndpointUrl("h2://[::1]", &error)->port, 443);
  EXPECT_EQ(parseEndpointUrl("h2://[::1]", &error)->hostHeader, "[::1]");
  auto http = parseEndpointUrl("http://127.0.0.1:50051", &error);
  EXPECT_FALSE(http->http2);
  EXPECT_NE(http->origin, h2c->origin);
  EXPECT_FALSE(parseEndpointUrl("https://127.0.0.1", &error)->http2);
  // Errors stay precise, naming the schemes allowed.
  for (const char* bad :
       {"grpc://host:50051", "h2s://host", "h3://host", "h2c:/host", "h2c//host"}) {
    EXPECT_FALSE(parseEndpointUrl(bad, &error)) << bad;
    EXPECT_EQ(error, "endpoint URL is not an http://, https://, h2c:// or h2:// URL") << bad;
  }
  EXPECT_FALSE(parseEndpointUrl("h2c://:50051", &error));
  EXPECT_EQ(error, "endpoint URL has no host");
  EXPECT_FALSE(parseEndpointUrl("h2://host:0", &error));
  EXPECT_EQ(error, "endpoint URL has an invalid port");
  EXPECT_FALSE(parseEndpointUrl("h2c://user@host", &error));
  EXPECT_EQ(error, "endpoint URL must not carry user info");
}

// One split of host and port for a backend URL's authority and a request's Host field.
TEST(EndpointUrl, AuthorityErrorsAndIpv6) {
  std::string error;
  auto v6 = parseEndpointUrl("https://[::1]:8443/api", &error);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8443);
  EXPECT_EQ(v6->hostHeader, "[::1]:8443");
  EXPECT_EQ(parseEndpointUrl("http://[::1]/", &error)->port, 80);
  EXPECT_FALSE(parseEndpointUrl("http://[::1/", &error));
  EXPECT_EQ(error, "endpoint URL has an unterminated IPv6 literal");
  EXPECT_FALSE(parseEndpointUrl("http://[::1]x/", &error));
  EXPECT_EQ(error, "endpoint URL has junk after the IPv6 literal");
  EXPECT_FALSE(parseEndpointUrl("http://[::1]:/", &error));
  EXPECT_EQ(error, "endpoint URL has an empty port");
  EXPECT_FALSE(parseEndpointUrl("http://host:/", &error));
  EXPECT_EQ(error, "endpoint URL has an empty port");
  EXPECT_FALSE(parseEndpointUrl("http://:80/", &error));
  EXPECT_EQ(error, "endpoint URL has no host");
}

// Issue 10 item 9: every Failure has a row in the one mapping (a name, a status a client can be
// sent, and a fault code), so none falls through to a default.
TEST(FailureModel, EveryFailureMapsToHttp) {
  for (int i = 0; i <= static_cast<int>(kLastFailure); ++i) {
    const auto failure = static_cast<Failure>(i);
    const Fault fault = faultFor(failure);
    SCOPED_TRACE(std::string(failureName(failure)));
    EXPECT_NE(failureName(failure), "unknown");
    EXPECT_GE(fault.httpStatus, 200);
    EXPECT_LE(fault.httpStatus, 599);
    EXPECT_FALSE(fault.message.empty());
    if (failure != Failure::kNone) {
      EXPECT_GE(fault.httpStatus, 400);
      EXPECT_NE(fault.code, 0);
    }
  }
  EXPECT_EQ(failureName(static_cast<Failure>(static_cast<int>(kLastFailure) + 1)), "unknown");
  for (Failure f : {Failure::kBackendRefused, Failure::kBackendReset, Failure::kBackendTlsFailed,
                    Failure::kBackendBadResponse})
    EXPECT_EQ(faultFor(f).code, 101503);
  EXPECT_EQ(faultFor(Failure::kTooManyInvalidKeys).httpStatus, 429);
}

}  // namespace
}  // namespace mgw
