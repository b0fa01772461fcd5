#include "http/buffered_body.h"

namespace mgw::http {

boost::asio::awaitable<Failure> BufferedRequestBody::fill(std::uint64_t limit) {
  BodyPiece piece = source_.atHand();
  for (;;) {
    if (piece.failure != Failure::kNone) co_return piece.failure;
    held_.append(piece.bytes);
    if (piece.last) {
      ended_ = true;
      co_return Failure::kNone;
    }
    if (held_.size() >= limit) co_return Failure::kNone;
    piece = co_await source_.next();
  }
}

BodyPiece BufferedRequestBody::atHand() {
  if (handed_) return source_.atHand();
  handed_ = true;
  return BodyPiece{held_, ended_, Failure::kNone};
}

boost::asio::awaitable<BodyPiece> BufferedRequestBody::next() {
  if (!handed_) co_return atHand();
  co_return co_await source_.next();
}

}  // namespace mgw::http
