// What a backend is sent: the rule that a body it may ignore closes the connection after the
// answer, and the request head's fields (hop-by-hop and gateway-owned fields out, framing set).
#include "http/upstream_client.h"

#include <gtest/gtest.h>

namespace mgw::http {
namespace {

RequestHead head(std::string method, Framing framing, std::uint64_t length = 0) {
  RequestHead h;
  h.method = std::move(method);
  h.target = "/x";
  h.framing = framing;
  h.contentLength = length;
  return h;
}

TEST(UpstreamClientTest, BodyMayBeIgnoredOnMethodsWithoutBodySemantics) {
  EXPECT_TRUE(bodyMayBeIgnored(head("GET", Framing::kLength, 5)));
  EXPECT_TRUE(bodyMayBeIgnored(head("DELETE", Framing::kLength, 1)));
  EXPECT_TRUE(bodyMayBeIgnored(head("OPTIONS", Framing::kChunked)));
  EXPECT_TRUE(bodyMayBeIgnored(head("HEAD", Framing::kChunked)));  // even an empty chunked body
  EXPECT_FALSE(bodyMayBeIgnored(head("GET", Framing::kNone)));
  EXPECT_FALSE(bodyMayBeIgnored(head("GET", Framing::kLength, 0)));
  EXPECT_FALSE(bodyMayBeIgnored(head("POST", Framing::kLength, 5)));
  EXPECT_FALSE(bodyMayBeIgnored(head("PUT", Framing::kChunked)));
  EXPECT_FALSE(bodyMayBeIgnored(head("PATCH", Framing::kLength, 5)));
}

mgw::UpstreamTarget target() {
  mgw::UpstreamTarget t;
  t.host = "127.0.0.1";
  t.port = 8080;
  t.basePath = "/base";
  t.hostHeader = "127.0.0.1:8080";
  t.origin = "http://127.0.0.1:8080";
  return t;
}

TEST(UpstreamClientTest, HeadDropsWhatTheGatewayOwnsAndSetsFraming) {
  RequestHead h = head("GET", Framing::kLength, 3);
  h.fields = {{"Host", "gw"},          {"Connection", "X-Hop"},  {"X-Hop", "1"},
              {"apikey", "secret"},    {"Accept", "*/*"},        {"X-Forwarded-For", "9.9.9.9"},
              {"Content-Length", "3"}, {"traceparent", "client"}};
  message::ForwardPlan plan;
  plan.rawPath = "/r";
  plan.dropHeaders = {"apikey"};
  plan.forwardedFor = "1.2.3.4";
  plan.setHeaders = {{"traceparent", "gateway"}};
  // A GET body: the backend is told to close (the connection is then never pooled).
  EXPECT_EQ(upstreamHead(h, target(), plan, bodyMayBeIgnored(h)),
            "GET /base/r HTTP/1.1\r\nAccept: */*\r\ntraceparent: gateway\r\n"
            "Host: 127.0.0.1:8080\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: http\r\n"
            "Content-Length: 3\r\nConnection: close\r\n\r\n");
  RequestHead post = head("POST", Framing::kChunked);
  EXPECT_EQ(upstreamHead(post, target(), plan, bodyMayBeIgnored(post)),
            "POST /base/r HTTP/1.1\r\ntraceparent: gateway\r\nHost: 127.0.0.1:8080\r\n"
            "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: http\r\n"
            "Transfer-Encoding: chunked\r\n\r\n");
}

}  // namespace
}  // namespace mgw::http
