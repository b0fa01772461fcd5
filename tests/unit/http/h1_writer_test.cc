// The HTTP/1.1 framing of answers (H1Framer), as data: the exact bytes for each body kind, each
// client version, HEAD, 204/304 and 1xx, without a socket.
#include "http/h1_writer.h"

#include <gtest/gtest.h>

#include <vector>

namespace mgw::http {
namespace {

std::string bytes(std::span<const boost::asio::const_buffer> buffers) {
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

ResponseStart start(int status, std::string_view reason, const std::vector<FieldView>& fields,
                    BodyKind body, std::uint64_t length = 0, bool keepAlive = true) {
  ResponseStart s;
  s.status = status;
  s.reason = reason;
  s.fields = fields;
  s.body = body;
  s.contentLength = length;
  s.keepAlive = keepAlive;
  return s;
}

const std::vector<FieldView> kFields = {{"Content-Type", "text/plain"}, {"X-A", "1"}};

TEST(H1FramerTest, ContentLengthAnswerGoesWithItsFirstBytesInOneWrite) {
  H1Framer f(false, false);
  const auto head = f.head(start(200, "OK", kFields, BodyKind::kLength, 11), "hello", false);
  EXPECT_EQ(head.size(), 2u);  // head and body: one gathered write
  EXPECT_EQ(bytes(head),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nContent-Length: 11\r\n\r\n"
            "hello");
  EXPECT_TRUE(f.keepAlive());
  EXPECT_EQ(bytes(f.body(" world", true)), " world");
  EXPECT_TRUE(f.end().empty());
}

// Issue 22 item 8: the TLS listener owns Strict-Transport-Security; every final head carries
// the connection's value once, a backend's is replaced, interim answers carry none.
TEST(H1FramerTest, OwnedFieldOnEveryFinalHeadReplacingTheCallers) {
  H1Framer f(false, false);
  f.setOwnedField("Strict-Transport-Security", "max-age=600");
  const std::vector<FieldView> backend = {{"strict-transport-security", "max-age=0"}, {"X-A", "1"}};
  EXPECT_EQ(bytes(f.head(start(200, "OK", backend, BodyKind::kNone), "", true)),
            "HTTP/1.1 200 OK\r\nX-A: 1\r\nStrict-Transport-Security: max-age=600\r\n"
            "Content-Length: 0\r\n\r\n");
  f.reset(false, false);  // the next answer on the connection keeps it
  EXPECT_NE(bytes(f.head(start(404, "Not Found", {}, BodyKind::kNone), "", true))
                .find("Strict-Transport-Security: max-age=600\r\n"),
            std::string::npos);
  EXPECT_EQ(bytes(f.interim(103, "Early Hints", {})), "HTTP/1.1 103 Early Hints\r\n\r\n");
  H1Framer plain(false, false);
  EXPECT_EQ(bytes(plain.head(start(200, "OK", backend, BodyKind::kNone), "", true)),
            "HTTP/1.1 200 OK\r\nstrict-transport-security: max-age=0\r\nX-A: 1\r\n"
            "Content-Length: 0\r\n\r\n");
}

TEST(H1FramerTest, StreamedBodyIsChunkedToAnHttp11Client) {
  H1Framer f(false, false);
  EXPECT_EQ(bytes(f.head(start(200, "OK", kFields, BodyKind::kStreamed), "", false)),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\n"
            "Transfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(f.chunked());
  EXPECT_TRUE(f.keepAlive());
  EXPECT_EQ(bytes(f.body("abc", false)), "3\r\nabc\r\n");
  EXPECT_TRUE(f.body("", false).empty());  // an empty piece is not a last chunk
  EXPECT_EQ(bytes(f.body("0123456789abcdef!", true)), "11\r\n0123456789abcdef!\r\n0\r\n\r\n");
  EXPECT_TRUE(f.end().empty());  // already ended
}

TEST(H1FramerTest, StreamedBodyEndsWithTheLastChunkOrTrailers) {
  H1Framer ended(false, false);
  ended.head(start(200, "OK", {}, BodyKind::kStreamed), "", false);
  EXPECT_EQ(bytes(ended.body("ab", false)), "2\r\nab\r\n");
  EXPECT_EQ(bytes(ended.end()), "0\r\n\r\n");
  EXPECT_TRUE(ended.end().empty());

  H1Framer trailers(false, false);
  trailers.head(start(200, "OK", {}, BodyKind::kStreamed), "", false);
  const std::vector<FieldView> t = {{"Checksum", "abc"}};
  EXPECT_EQ(bytes(trailers.trailers(t)), "0\r\nChecksum: abc\r\n\r\n");
  EXPECT_TRUE(trailers.end().empty());

  // Without chunked framing there is nowhere to put trailers: dropped.
  H1Framer length(false, false);
  length.head(start(200, "OK", {}, BodyKind::kLength, 2), "ab", true);
  EXPECT_TRUE(length.trailers(t).empty());
}

TEST(H1FramerTest, StreamedBodyToAnHttp10ClientEndsAtTheClose) {
  H1Framer f(true, false);
  EXPECT_EQ(bytes(f.head(start(200, "OK", kFields, BodyKind::kStreamed), "", false)),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(f.chunked());
  EXPECT_FALSE(f.keepAlive());
  EXPECT_EQ(bytes(f.body("abc", false)), "abc");
  EXPECT_EQ(bytes(f.body("de", true)), "de");
  EXPECT_TRUE(f.end().empty());
}

TEST(H1FramerTest, Http10ClientIsToldTheConnectionStaysOpen) {
  H1Framer f(true, false);
  EXPECT_EQ(bytes(f.head(start(200, "OK", {}, BodyKind::kLength, 2), "ok", true)),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok");
  EXPECT_TRUE(f.keepAlive());
}

TEST(H1FramerTest, UntilCloseAnswerClosesTheClientConnection) {
  H1Framer f(false, false);
  EXPECT_EQ(bytes(f.head(start(200, "OK", {}, BodyKind::kUntilClose), "", false)),
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(f.keepAlive());
  EXPECT_EQ(bytes(f.body("raw", false)), "raw");
}

TEST(H1FramerTest, ConnectionCloseWhenTheSessionEnds) {
  H1Framer f(false, false);
  EXPECT_EQ(bytes(f.head(start(404, "Not Found", {}, BodyKind::kLength, 0, false), "", true)),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(f.keepAlive());
}

TEST(H1FramerTest, HeadAnswerKeepsTheRepresentationLengthAndSendsNoBody) {
  // Relayed: the backend's Content-Length is among the fields, no body follows.
  const std::vector<FieldView> fields = {{"Content-Length", "1234"}};
  H1Framer relayed(false, true);
  EXPECT_EQ(bytes(relayed.head(start(200, "OK", fields, BodyKind::kNone), "", true)),
            "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
  // A local reply to HEAD: the length of the body it would have sent, and no body.
  H1Framer local(false, true);
  EXPECT_EQ(bytes(local.head(start(200, "OK", {}, BodyKind::kLength, 5), "hello", true)),
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
  EXPECT_TRUE(local.body("more", true).empty());
}

TEST(H1FramerTest, NoBodyAnswers) {
  const std::vector<FieldView> fields = {{"Content-Length", "99"}, {"ETag", "\"x\""}};
  H1Framer notModified(false, false);
  EXPECT_EQ(bytes(notModified.head(start(304, "Not Modified", fields, BodyKind::kNone), "", true)),
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: \"x\"\r\n\r\n");
  H1Framer noContent(false, false);
  EXPECT_EQ(bytes(noContent.head(start(204, "No Content", {}, BodyKind::kNone), "", true)),
            "HTTP/1.1 204 No Content\r\n\r\n");
  H1Framer empty(false, false);
  EXPECT_EQ(bytes(empty.head(start(200, "", {}, BodyKind::kNone), "", true)),
            "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");  // an empty reason stays empty
}

TEST(H1FramerTest, InterimAnswersOnlyToHttp11Clients) {
  const std::vector<FieldView> link = {{"Link", "</a.css>; rel=preload"}};
  H1Framer f(false, false);
  EXPECT_EQ(bytes(f.interim(103, "Early Hints", link)),
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n");
  EXPECT_EQ(bytes(f.interim(100, "Continue", {})), "HTTP/1.1 100 Continue\r\n\r\n");
  H1Framer old(true, false);
  EXPECT_TRUE(old.interim(103, "Early Hints", link).empty());
}

TEST(H1FramerTest, ResetForTheNextAnswerOnTheConnection) {
  H1Framer f(false, false);
  f.head(start(200, "OK", {}, BodyKind::kStreamed), "", false);
  EXPECT_TRUE(f.chunked());
  f.reset(false, true);  // then a HEAD request
  EXPECT_FALSE(f.chunked());
  EXPECT_EQ(bytes(f.head(start(200, "OK", {}, BodyKind::kLength, 3), "abc", true)),
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
}

}  // namespace
}  // namespace mgw::http
