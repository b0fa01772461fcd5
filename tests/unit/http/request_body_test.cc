// The HTTP/1.1 request body source the relay reads: the bytes read with the head taken first
// (Content-Length or chunked, decoded), the rest from the connection, the next request's bytes
// left in the buffer, malformed and oversized chunked bodies refused.
#include "http/request_body.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

namespace mgw::http {
namespace {

RequestHead headOf(Framing framing, std::uint64_t length = 0) {
  RequestHead head;
  head.framing = framing;
  head.contentLength = length;
  return head;
}

TEST(RequestBodyTest, ContentLengthBytesAtHandLeaveTheNextRequest) {
  Connection conn;
  InputBuffer in;
  in.append("helloworldNEXT");
  H1RequestBody body(conn, in, headOf(Framing::kLength, 10), 1 << 20, std::chrono::seconds(1));
  EXPECT_EQ(body.framing(), Framing::kLength);
  EXPECT_EQ(body.contentLength(), 10u);
  const BodyPiece piece = body.atHand();
  EXPECT_EQ(piece.bytes, "helloworld");
  EXPECT_TRUE(piece.last);
  EXPECT_EQ(in.view(), "NEXT");
}

TEST(RequestBodyTest, ChunkedDecodedAndFramingChecked) {
  Connection conn;
  InputBuffer in;
  in.append("5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\nNEXT");
  H1RequestBody body(conn, in, headOf(Framing::kChunked), 1 << 20, std::chrono::seconds(1));
  const BodyPiece piece = body.atHand();
  EXPECT_EQ(piece.bytes, "helloabc");
  EXPECT_TRUE(piece.last);
  EXPECT_EQ(in.view(), "NEXT");

  InputBuffer bad;
  bad.append("zz\r\n");
  H1RequestBody malformed(conn, bad, headOf(Framing::kChunked), 1 << 20, std::chrono::seconds(1));
  EXPECT_EQ(malformed.atHand().failure, Failure::kBadFraming);

  InputBuffer big;
  big.append("5\r\nhello\r\n0\r\n\r\n");
  H1RequestBody tooLarge(conn, big, headOf(Framing::kChunked), 4, std::chrono::seconds(1));
  EXPECT_EQ(tooLarge.atHand().failure, Failure::kPayloadTooLarge);
}

TEST(RequestBodyTest, NoBodyEndsAtOnce) {
  Connection conn;
  InputBuffer in;
  in.append("NEXT");
  H1RequestBody body(conn, in, headOf(Framing::kNone), 1 << 20, std::chrono::seconds(1));
  const BodyPiece piece = body.atHand();
  EXPECT_TRUE(piece.last);
  EXPECT_TRUE(piece.bytes.empty());
  EXPECT_EQ(in.view(), "NEXT");
}

TEST(RequestBodyTest, TheRestIsReadFromTheConnection) {
  boost::asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket peer(io);
  peer.connect(acceptor.local_endpoint());
  Connection conn;
  conn.plain = std::make_unique<beast::tcp_stream>(acceptor.accept());
  InputBuffer in;
  in.append("abc");
  H1RequestBody body(conn, in, headOf(Framing::kLength, 6), 1 << 20, std::chrono::seconds(5));
  std::string got;
  bool last = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        BodyPiece piece = body.atHand();
        got.append(piece.bytes);
        while (!piece.last && piece.failure == Failure::kNone) {
          piece = co_await body.next();
          got.append(piece.bytes);
        }
        last = piece.last;
      },
      asio::detached);
  asio::write(peer, asio::buffer(std::string_view("defNEXT")));
  io.run();
  EXPECT_EQ(got, "abcdef");
  EXPECT_TRUE(last);
}

}  // namespace
}  // namespace mgw::http
