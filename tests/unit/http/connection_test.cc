// The input buffer: bytes kept in order across reads, consumed and compacted, and never more
// storage than the reads asked for.
#include "http/connection.h"

#include <gtest/gtest.h>

namespace mgw::http {
namespace {

TEST(InputBufferTest, KeepsBytesInOrderAndGrowsOnlyToWhatIsAsked) {
  InputBuffer in;
  EXPECT_EQ(in.capacity(), 0u);
  auto room = in.prepare(1024);
  EXPECT_EQ(room.size(), 1024u);
  EXPECT_EQ(in.capacity(), 1024u);
  std::memcpy(room.data(), "GET / HT", 8);
  in.commit(8);
  EXPECT_EQ(in.view(), "GET / HT");
  in.prepare(10 * 1024 - 8);  // the rest of a head buffer: 10 KiB in all, not more
  EXPECT_EQ(in.capacity(), 10u * 1024);
  in.commit(0);
  in.append("TP/1.1\r\n\r\nNEXT");
  EXPECT_EQ(in.view(), "GET / HTTP/1.1\r\n\r\nNEXT");
  in.consume(18);
  EXPECT_EQ(in.view(), "NEXT");
  EXPECT_EQ(in.consumedTotal, 18u);
  // Compacted in place when the free tail is too small but the whole buffer is not.
  in.prepare(10 * 1024 - 4);
  EXPECT_EQ(in.capacity(), 10u * 1024);
  EXPECT_EQ(in.view(), "NEXT");
  in.consume(4);
  EXPECT_TRUE(in.empty());
  in.release();
  EXPECT_EQ(in.capacity(), 0u);
}

TEST(InputBufferTest, ReleaseKeepsUnconsumedBytes) {
  InputBuffer in;
  in.append("abc");
  in.release();
  EXPECT_EQ(in.view(), "abc");
  EXPECT_EQ(in.capacity(), 3u);
}

}  // namespace
}  // namespace mgw::http
