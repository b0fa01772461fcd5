#include "http/request_body.h"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>

namespace mgw::http {
namespace {

constexpr std::size_t kReadStep = 65536;  // at most this much read at a time

}  // namespace

// The bytes stay in the buffer's storage after consume() until the next read into it, which
// only the next call on this source (or the session, after the last piece) makes.
BodyPiece H1RequestBody::atHand() {
  BodyPiece piece;
  if (framing_ == Framing::kNone) {
    piece.last = true;
  } else if (framing_ == Framing::kLength) {
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in_.size()));
    piece.bytes = in_.view().substr(0, take);
    in_.consume(take);
    remaining_ -= take;
    piece.last = remaining_ == 0;
  } else {
    WireError error;
    payload_.clear();
    const std::size_t used = decoder_.feed(in_.view(), &payload_, &error);
    in_.consume(used);
    piece.failure = error.failure;
    piece.bytes = payload_;
    piece.last = decoder_.done();
  }
  return piece;
}

boost::asio::awaitable<BodyPiece> H1RequestBody::next() {
  using std::chrono::steady_clock;
  for (;;) {
    BodyPiece piece = atHand();
    if (piece.failure != Failure::kNone || piece.last || !piece.bytes.empty()) co_return piece;
    // The stall deadline: bodyTimeout from now, or the moment the average rate since the first
    // wait falls under minRate_ (never before kBodyRateGrace), whichever comes first. A timer
    // cancels the read then, so the socket stays open for the 408 (the stream's own deadline
    // would close it); that deadline stays as a backstop.
    const auto now = steady_clock::now();
    if (started_ == steady_clock::time_point{}) started_ = now;
    auto deadline = now + bodyTimeout_;
    if (minRate_ > 0) {
      const auto byRate = std::chrono::duration_cast<steady_clock::duration>(
          std::chrono::duration<double>((static_cast<double>(received_) + 1.0) / minRate_));
      deadline =
          std::min(deadline, started_ + std::max<steady_clock::duration>(kBodyRateGrace, byRate));
    }
    auto fired = std::make_shared<bool>(false);
    boost::asio::steady_timer timer(conn_.lowest().get_executor(), deadline);
    timer.async_wait([fired, alive = alive_, stream = &conn_.lowest()](error_code ec) {
      if (ec || !*alive) return;
      *fired = true;
      stream->cancel();
    });
    conn_.expiresAfter(bodyTimeout_ + std::chrono::seconds(5));
    // What is left of a Content-Length body (a small one does not take a 64 KiB buffer), else
    // kReadStep.
    std::size_t step = kReadStep;
    if (framing_ == Framing::kLength && remaining_ < kReadStep)
      step = static_cast<std::size_t>(remaining_);
    const std::size_t before = in_.size();
    const error_code ec = co_await in_.readMore(conn_, step);
    timer.cancel();
    received_ += in_.size() - before;
    if (ec) {
      if (!*fired) conn_.close();
      co_return BodyPiece{{}, false, Failure::kRequestTimeout};
    }
  }
}

}  // namespace mgw::http
