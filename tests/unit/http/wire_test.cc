// The strict HTTP/1.1 parser (RFC 9112), without sockets: every refusal of SPEC section 10 by its
// exact Failure, and what is accepted.
#include "http/wire.h"

#include <gtest/gtest.h>

namespace mgw::http {
namespace {

struct Parsed {
  WireError error;
  RequestHead head;
};

Parsed request(std::string_view bytes, RequestLimits limits = {}, std::size_t maxHead = 16384) {
  Parsed p;
  std::size_t scanned = 0;
  const std::size_t size = findHeadEnd(bytes, maxHead, &scanned, &p.error);
  if (p.error) return p;
  if (size == 0) {
    p.error = WireError{Failure::kInternalError, "incomplete"};
    return p;
  }
  p.error = parseRequestHead(bytes.substr(0, size), limits, &p.head);
  return p;
}

Failure refusal(std::string_view bytes) { return request(bytes).error.failure; }

TEST(WireTest, HostMustBeHostAndPort) {
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: user@evil.example\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.0\r\nHost: evil.example/x\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: gw.example:9090\r\n\r\n"), Failure::kNone);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: [::1]:9090\r\n\r\n"), Failure::kNone);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost:\r\n\r\n"), Failure::kNone);
}

TEST(WireTest, AcceptsAPlainRequest) {
  auto p = request("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-A:  v  \r\n\r\n");
  ASSERT_FALSE(p.error) << p.error.description;
  EXPECT_EQ(p.head.method, "GET");
  EXPECT_EQ(p.head.target, "/a?b=1");
  ASSERT_EQ(p.head.fields.size(), 2u);
  EXPECT_EQ(p.head.fields[1].first, "X-A");
  EXPECT_EQ(p.head.fields[1].second, "v");
  EXPECT_EQ(p.head.framing, Framing::kNone);
  EXPECT_TRUE(p.head.keepAlive);
}

TEST(WireTest, NoFramingMeansNoBodyForAnyMethod) {
  EXPECT_EQ(request("POST / HTTP/1.1\r\nHost: x\r\n\r\n").head.framing, Framing::kNone);
  auto p = request("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(p.head.framing, Framing::kLength);
  EXPECT_EQ(p.head.contentLength, 5u);
  EXPECT_EQ(
      request("DELETE / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").head.framing,
      Framing::kChunked);
}

TEST(WireTest, RefusesAmbiguousFraming) {
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n"),
            Failure::kBadFraming);
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            Failure::kBadFraming);
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
            Failure::kBadFraming);
  for (const char* cl : {"+5", "5, 6", "0x5", "-1", "", "5 5", "1234567890123456789"})
    EXPECT_EQ(
        refusal(std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ") + cl + "\r\n\r\n"),
        Failure::kBadFraming)
        << cl;
}

TEST(WireTest, TransferCodings) {
  auto te = [](const char* v) {
    return refusal(std::string("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + v +
                   "\r\n\r\n");
  };
  EXPECT_EQ(te("chunked"), Failure::kNone);
  EXPECT_EQ(te("CHUNKED"), Failure::kNone);
  EXPECT_EQ(te("xchunked"), Failure::kNotImplemented);
  EXPECT_EQ(te("%63hunked"), Failure::kNotImplemented);  // never percent-decoded
  EXPECT_EQ(te("chunked, identity"), Failure::kBadFraming);
  EXPECT_EQ(te("chunked, chunked"), Failure::kBadFraming);
  EXPECT_EQ(te("chunked, (x)"), Failure::kBadFraming);  // not a token
  EXPECT_EQ(te("gzip, chunked"), Failure::kNotImplemented);
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n"),
            Failure::kNotImplemented);
  EXPECT_EQ(refusal("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), Failure::kBadFraming);
}

TEST(WireTest, RefusesMalformedFields) {
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\nX-A : a\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\nX(A): a\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\nX-A\rB: a\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal(std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 38)),
            Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7f\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.1\nHost: x\n\n"), Failure::kBadFraming);      // bare LF
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\n\n"), Failure::kBadFraming);  // bare LF
  EXPECT_EQ(request("GET / HTTP/1.1\r\nHost: x\r\nX-U: caf\xc3\xa9\r\n\r\n").error.failure,
            Failure::kNone);  // obs-text is opaque
}

// A field value is checked 16 or 8 bytes at a time (an API key is most of a head): every control
// byte (but HTAB) and DEL is refused wherever it falls in a block or in the tail, and HTAB and
// obs-text are kept wherever they fall.
TEST(WireTest, EveryControlByteInALongValueAtEveryPosition) {
  const std::string prefix = "GET / HTTP/1.1\r\nHost: x\r\nX-Key: ";
  const std::string suffix = "\r\n\r\n";
  for (std::size_t length : {1u, 7u, 8u, 15u, 16u, 17u, 40u, 874u}) {
    for (std::size_t at = 0; at < length; at += (length > 64 ? 37 : 1)) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string value(length, 'k');
        value[at] = static_cast<char>(byte);
        const bool control = (byte < 0x20 && byte != '\t') || byte == 0x7F;
        // Leading or trailing whitespace is not part of the value (RFC 9112 section 5).
        RequestHead head;
        const WireError e = parseRequestHead(prefix + value + suffix, RequestLimits{}, &head);
        EXPECT_EQ(e.failure, control ? Failure::kBadFraming : Failure::kNone)
            << "byte " << byte << " at " << at << " of " << length;
        if (!control && byte != ' ' && byte != '\t') {
          ASSERT_EQ(head.fields.size(), 2u);
          EXPECT_EQ(head.fields[1].second, value);
        }
      }
    }
  }
}

TEST(WireTest, HostRules) {
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.0\r\n\r\n"), Failure::kNone);
}

TEST(WireTest, RequestLine) {
  EXPECT_EQ(refusal("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/1.1 \r\nHost: x\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("G@T / HTTP/1.1\r\nHost: x\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"), Failure::kBadFraming);
  EXPECT_EQ(refusal("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), Failure::kVersionNotSupported);
  EXPECT_EQ(refusal("GET / HTTP/1.10\r\nHost: x\r\n\r\n"), Failure::kVersionNotSupported);
  EXPECT_EQ(refusal("GET / FOO/1.1\r\nHost: x\r\n\r\n"), Failure::kBadFraming);
  // Leading empty lines are skipped (RFC 9112 section 2.2).
  EXPECT_EQ(refusal("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), Failure::kNone);
}

TEST(WireTest, LimitsWhileReading) {
  WireError e;
  std::size_t scanned = 0;
  // The request line alone passes the limit: 414, before any end of line arrived.
  EXPECT_EQ(findHeadEnd("GET /" + std::string(100, 'a'), 64, &scanned, &e), 0u);
  EXPECT_EQ(e.failure, Failure::kUriTooLong);
  e = {};
  scanned = 0;
  EXPECT_EQ(findHeadEnd("GET / HTTP/1.1\r\nX: " + std::string(100, 'a'), 64, &scanned, &e), 0u);
  EXPECT_EQ(e.failure, Failure::kHeadersTooLarge);
  // Exactly at the limit is served; one byte over is refused, also when that byte is the LF that
  // ends the head (found by fuzz_http_wire; corpus/http_wire/head-one-over-the-limit).
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
  for (const std::size_t limit : {std::size_t{64}, std::size_t{4096}}) {
    const std::string exact = head + std::string(limit - head.size() - 4, 'a') + "\r\n\r\n";
    ASSERT_EQ(exact.size(), limit);
    e = {};
    scanned = 0;
    EXPECT_EQ(findHeadEnd(exact, limit, &scanned, &e), limit);
    EXPECT_FALSE(e) << e.description;
    e = {};
    scanned = 0;
    EXPECT_EQ(findHeadEnd(exact, limit - 1, &scanned, &e), 0u);
    EXPECT_EQ(e.failure, Failure::kHeadersTooLarge);
    // Fed in two reads, the final LF in the second.
    e = {};
    scanned = 0;
    EXPECT_EQ(findHeadEnd(exact.substr(0, limit - 1), limit - 1, &scanned, &e), 0u);
    EXPECT_FALSE(e);
    EXPECT_EQ(findHeadEnd(exact, limit - 1, &scanned, &e), 0u);
    EXPECT_EQ(e.failure, Failure::kHeadersTooLarge);
  }
  // Incremental: a CR at the end of one read, its LF in the next.
  e = {};
  scanned = 0;
  std::string data = "GET / HTTP/1.1\r\nHost: x\r";
  EXPECT_EQ(findHeadEnd(data, 1024, &scanned, &e), 0u);
  data += "\n\r\n";
  EXPECT_EQ(findHeadEnd(data, 1024, &scanned, &e), data.size());
  EXPECT_FALSE(e);
  // Header count and body size.
  RequestLimits limits{2, 100};
  EXPECT_EQ(request("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", limits).error.failure,
            Failure::kHeadersTooLarge);
  EXPECT_EQ(
      request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", limits).error.failure,
      Failure::kPayloadTooLarge);
}

TEST(WireTest, ExpectAndConnection) {
  EXPECT_TRUE(request("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: "
                      "1\r\n\r\n")
                  .head.expectContinue);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n"),
            Failure::kExpectationFailed);
  EXPECT_FALSE(
      request("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n").head.keepAlive);
  EXPECT_FALSE(request("GET / HTTP/1.0\r\n\r\n").head.keepAlive);
  EXPECT_TRUE(request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").head.keepAlive);
  // The list read element by element: empty elements and whitespace around them, and a second
  // Connection line; "closed" is not "close".
  EXPECT_FALSE(
      request("GET / HTTP/1.1\r\nHost: x\r\nConnection: , ,\t close ,\r\n\r\n").head.keepAlive);
  EXPECT_FALSE(request("GET / HTTP/1.1\r\nHost: x\r\nConnection: x\r\nConnection: close\r\n\r\n")
                   .head.keepAlive);
  EXPECT_TRUE(
      request("GET / HTTP/1.1\r\nHost: x\r\nConnection: closed, x-close\r\n\r\n").head.keepAlive);
}

std::string decode(std::string_view in, WireError* e, std::size_t* used = nullptr,
                   std::uint64_t max = 1000) {
  ChunkedDecoder d(max);
  std::string out;
  const std::size_t n = d.feed(in, &out, e);
  if (used) *used = n;
  if (!*e && !d.done()) *e = WireError{Failure::kInternalError, "incomplete"};
  return out;
}

TEST(ChunkedTest, DecodesAndStopsAtTheEndOfTheMessage) {
  WireError e;
  std::size_t used = 0;
  const std::string in = "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nGET /next";
  EXPECT_EQ(decode(in, &e, &used), "hello0123456789");
  EXPECT_FALSE(e) << e.description;
  EXPECT_EQ(in.substr(used), "GET /next");
}

TEST(ChunkedTest, ByteByByteGivesTheSameResult) {
  const std::string in = "5\r\nhello\r\n0\r\n\r\n";
  ChunkedDecoder d(100);
  std::string out;
  WireError e;
  for (char c : in) d.feed(std::string_view(&c, 1), &out, &e);
  EXPECT_FALSE(e);
  EXPECT_TRUE(d.done());
  EXPECT_EQ(out, "hello");
}

TEST(ChunkedTest, RefusesMalformedChunks) {
  for (const char* bad :
       {"0x5\r\nhello\r\n0\r\n\r\n", "g\r\n", "\r\n", "5\r\nhelloXX0\r\n\r\n",
        "5\nhello\r\n0\r\n\r\n", "10000000000000000\r\n", "5\r\nhello\r\n0\r\nX\r\n\r\n",
        "5\r\nhello\r\n0\r\n\n", "+5\r\nhello\r\n0\r\n\r\n", "5;\x01\r\nhello\r\n"}) {
    WireError e;
    decode(bad, &e);
    EXPECT_EQ(e.failure, Failure::kBadFraming) << bad;
  }
}

// RFC 9112 section 7.1: chunk-size [ chunk-ext ] CRLF, with BWS only before each ";". A space
// after the size without an extension is read differently by other parsers (issue 22 item 8).
TEST(ChunkedTest, WhitespaceAfterTheSizeOnlyBeforeAnExtension) {
  for (const char* bad :
       {"5 \r\nhello\r\n0\r\n\r\n", "5\t\r\nhello\r\n0\r\n\r\n", "5  \r\nhello\r\n0\r\n\r\n",
        "5\r\nhello\r\n0 \r\n\r\n", "5 x\r\nhello\r\n0\r\n\r\n"}) {
    WireError e;
    decode(bad, &e);
    EXPECT_EQ(e.failure, Failure::kBadFraming) << bad;
    EXPECT_NE(e.description.find("whitespace"), std::string::npos) << e.description;
  }
  for (const char* good : {"5 ;a=b\r\nhello\r\n0\r\n\r\n", "5\t ; a\r\nhello\r\n0\r\n\r\n",
                           "5;a\r\nhello\r\n0 ;x\r\n\r\n"}) {
    WireError e;
    EXPECT_EQ(decode(good, &e), "hello") << good;
    EXPECT_FALSE(e) << good << ": " << e.description;
  }
}

TEST(ChunkedTest, TotalOverTheLimitIs413) {
  WireError e;
  decode("10\r\n0123456789abcdef\r\n0\r\n\r\n", &e, nullptr, 15);
  EXPECT_EQ(e.failure, Failure::kPayloadTooLarge);
}

TEST(ResponseTest, FramingOfAnswers) {
  ResponseHead r;
  EXPECT_FALSE(parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", "GET", &r));
  EXPECT_EQ(r.framing, Framing::kLength);
  EXPECT_FALSE(parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", "HEAD", &r));
  EXPECT_EQ(r.framing, Framing::kNone);
  EXPECT_FALSE(
      parseResponseHead("HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n", "GET", &r));
  EXPECT_EQ(r.framing, Framing::kNone);
  EXPECT_FALSE(parseResponseHead("HTTP/1.1 200 OK\r\n\r\n", "GET", &r));
  EXPECT_EQ(r.framing, Framing::kUntilClose);
  EXPECT_FALSE(r.keepAlive);
  EXPECT_FALSE(parseResponseHead("HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", &r));
  EXPECT_EQ(r.framing, Framing::kChunked);
  EXPECT_TRUE(
      parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: "
                        "chunked\r\n\r\n",
                        "GET", &r));
  EXPECT_TRUE(parseResponseHead("HTTP/1.1 2000 OK\r\n\r\n", "GET", &r));
  EXPECT_TRUE(parseResponseHead("NOT HTTP\r\n\r\n", "GET", &r));
}

}  // namespace
}  // namespace mgw::http
