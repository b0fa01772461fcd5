// Request buffering (issue 22 item 2): the body held before a backend connection is taken, then
// handed to the relay as the first piece, the rest (if any) from the source.
#include "http/buffered_body.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <deque>

namespace mgw::http {
namespace {

// A source that hands out fixed pieces, then a failure or the end.
class Pieces final : public RequestBody {
 public:
  Pieces(Framing framing, std::deque<std::string> pieces, Failure failure = Failure::kNone)
      : framing_(framing), pieces_(std::move(pieces)), failure_(failure) {}
  Framing framing() const override { return framing_; }
  std::uint64_t contentLength() const override { return 0; }
  BodyPiece atHand() override { return BodyPiece{}; }
  boost::asio::awaitable<BodyPiece> next() override {
    ++calls;
    if (pieces_.empty()) co_return BodyPiece{{}, failure_ == Failure::kNone, failure_};
    current_ = std::move(pieces_.front());
    pieces_.pop_front();
    co_return BodyPiece{current_, pieces_.empty() && failure_ == Failure::kNone, Failure::kNone};
  }
  int calls = 0;

 private:
  Framing framing_;
  std::deque<std::string> pieces_;
  Failure failure_;
  std::string current_;
};

template <class T>
T run(boost::asio::awaitable<T> a) {
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(io, std::move(a), boost::asio::use_future);
  io.run();
  return f.get();
}

TEST(BufferedRequestBodyTest, HoldsAWholeSmallBodyThenHandsItOutOnce) {
  Pieces source(Framing::kChunked, {"ab", "cd", "ef"});
  BufferedRequestBody body(source);
  EXPECT_EQ(run(body.fill(1024)), Failure::kNone);
  EXPECT_TRUE(body.whole());
  EXPECT_EQ(body.held(), 6u);
  const BodyPiece first = run(body.next());
  EXPECT_EQ(first.bytes, "abcdef");
  EXPECT_TRUE(first.last);
  EXPECT_EQ(source.calls, 3);
}

TEST(BufferedRequestBodyTest, StopsAtTheLimitAndStreamsTheRest) {
  Pieces source(Framing::kChunked, {"abcd", "efgh", "ij"});
  BufferedRequestBody body(source);
  EXPECT_EQ(run(body.fill(4)), Failure::kNone);
  EXPECT_FALSE(body.whole());
  const BodyPiece first = body.atHand();
  EXPECT_EQ(first.bytes, "abcd");
  EXPECT_FALSE(first.last);
  EXPECT_EQ(run(body.next()).bytes, "efgh");  // from the source now
  const BodyPiece last = run(body.next());
  EXPECT_EQ(last.bytes, "ij");
  EXPECT_TRUE(last.last);
}

TEST(BufferedRequestBodyTest, ASourceFailureComesBackBeforeAnyBackendIsAsked) {
  Pieces source(Framing::kLength, {"ab"}, Failure::kRequestTimeout);
  BufferedRequestBody body(source);
  EXPECT_EQ(run(body.fill(1024)), Failure::kRequestTimeout);
}

}  // namespace
}  // namespace mgw::http
