// The HTTP/2 request as data: the cleartext preface recognised byte by byte, and every rule of
// RFC 9113 sections 8.2-8.3 that makes a request malformed (a stream error PROTOCOL_ERROR), and
// the head the gateway and the relay read from a well-formed one.
#include "http/h2_session.h"

#include <gtest/gtest.h>

namespace mgw::http {
namespace {

message::HeaderMap base() {
  return {{":method", "GET"}, {":scheme", "https"}, {":path", "/a?b=1"}, {":authority", "x:9"}};
}

std::string refusal(message::HeaderMap fields, bool endStream = true) {
  RequestHead head;
  return h2RequestHead(fields, endStream, &head);
}

TEST(H2SessionTest, PrefaceRecognisedByteByByte) {
  EXPECT_EQ(matchPreface(""), PrefaceMatch::kMore);
  EXPECT_EQ(matchPreface("PRI * HTTP/2"), PrefaceMatch::kMore);
  EXPECT_EQ(matchPreface(kHttp2Preface), PrefaceMatch::kHttp2);
  EXPECT_EQ(matchPreface(std::string(kHttp2Preface) + "\x00\x00"), PrefaceMatch::kHttp2);
  EXPECT_EQ(matchPreface("GET / HTTP/1.1\r\n"), PrefaceMatch::kHttp1);
  EXPECT_EQ(matchPreface("PRI * HTTP/1.1\r\n"), PrefaceMatch::kHttp1);
  EXPECT_EQ(matchPreface("P"), PrefaceMatch::kMore);
}

TEST(H2SessionTest, WellFormedRequestHead) {
  auto fields = base();
  fields.emplace("apikey", "k");
  fields.emplace("cookie", "a=1");
  fields.emplace("cookie", "b=2");
  fields.emplace("te", "trailers");
  RequestHead head;
  ASSERT_EQ(h2RequestHead(fields, true, &head), "");
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/a?b=1");
  EXPECT_EQ(head.framing, Framing::kNone);
  std::string joined;
  for (const auto& [name, value] : head.fields) joined += name + "=" + value + ";";
  EXPECT_EQ(joined, "apikey=k;te=trailers;host=x:9;cookie=a=1; b=2;");
}

TEST(H2SessionTest, BodyFraming) {
  auto fields = base();
  RequestHead head;
  ASSERT_EQ(h2RequestHead(fields, false, &head), "");
  EXPECT_EQ(head.framing, Framing::kChunked);  // no content-length: known at the end
  fields.emplace("content-length", "12");
  ASSERT_EQ(h2RequestHead(fields, false, &head), "");
  EXPECT_EQ(head.framing, Framing::kLength);
  EXPECT_EQ(head.contentLength, 12u);
  auto empty = base();
  empty.emplace("content-length", "0");
  ASSERT_EQ(h2RequestHead(empty, true, &head), "");
  EXPECT_EQ(head.framing, Framing::kLength);
  EXPECT_EQ(head.contentLength, 0u);
}

TEST(H2SessionTest, MalformedRequestsAreRefused) {
  auto with = [](message::HeaderMap extra) {
    auto f = base();
    for (auto& e : extra) f.emplace(e);
    return f;
  };
  EXPECT_NE(refusal(with({{":method", "POST"}})), "");         // duplicated pseudo-header field
  EXPECT_NE(refusal(with({{":protocol", "websocket"}})), "");  // unknown pseudo-header field
  EXPECT_NE(refusal(with({{":status", "200"}})), "");          // a response pseudo-header field
  EXPECT_NE(refusal({{":method", "GET"}, {"a", "1"}, {":scheme", "https"}, {":path", "/"}}), "");
  EXPECT_NE(refusal({{":method", "GET"}, {":scheme", "https"}, {":path", ""}}), "");
  EXPECT_NE(refusal({{":method", "GET"}, {":scheme", "https"}}), "");  // no :path
  EXPECT_NE(refusal({{":method", "GET"}, {":path", "/"}}), "");        // no :scheme
  EXPECT_NE(refusal({{":scheme", "https"}, {":path", "/"}}), "");      // no :method
  for (const char* name :
       {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"})
    EXPECT_NE(refusal(with({{name, "x"}})), "") << name;
  EXPECT_NE(refusal(with({{"te", "gzip"}})), "");
  EXPECT_NE(refusal(with({{"Apikey", "k"}})), "");  // upper-case name
  EXPECT_NE(refusal(with({{"content-length", "1x"}})), "");
  EXPECT_NE(refusal(with({{"content-length", "1"}, {"content-length", "2"}}), false), "");
  EXPECT_NE(refusal(with({{"content-length", "5"}}), true), "");  // a length and no DATA
  EXPECT_NE(refusal(with({{"host", "other"}})), "");
  EXPECT_NE(refusal({{":method", "CONNECT"}, {":authority", "x:1"}}), "");
  EXPECT_EQ(refusal(with({{"host", "x:9"}})), "");
}

}  // namespace
}  // namespace mgw::http
