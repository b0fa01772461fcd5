#include "http/request_body.h"

#include <algorithm>

namespace mgw::http {
namespace {

constexpr std::size_t kChunk = 65536;  // at most this much read at a time

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
  for (;;) {
    BodyPiece piece = atHand();
    if (piece.failure != Failure::kNone || piece.last || !piece.bytes.empty()) co_return piece;
    conn_.expiresAfter(bodyTimeout_);
    // What is left of a Content-Length body (a small one does not take a 64 KiB buffer), else
    // kChunk.
    std::size_t step = kChunk;
    if (framing_ == Framing::kLength && remaining_ < kChunk)
      step = static_cast<std::size_t>(remaining_);
    if (co_await in_.readMore(conn_, step)) {
      conn_.close();
      co_return BodyPiece{{}, false, Failure::kRequestTimeout};
    }
  }
}

}  // namespace mgw::http
