// How much a connection reads while a head is incomplete: 1 KiB while idle, then a head buffer of
// 10 KiB at most until the head outgrows it, never past the header limit.
#include "http/h1_session.h"

#include <gtest/gtest.h>

namespace mgw::http {
namespace {

TEST(H1SessionTest, HeadReadStep) {
  const std::size_t room = 16384 + 2;
  EXPECT_EQ(headReadStep(false, 0, room), kIdleReadBytes);
  // A head in progress fills a buffer of kHeadBufferBytes in all.
  EXPECT_EQ(headReadStep(true, 100, room), kHeadBufferBytes - 100);
  EXPECT_EQ(headReadStep(true, 1024, room) + 1024, kHeadBufferBytes);
  // A head larger than that reads more at a time.
  EXPECT_EQ(headReadStep(true, kHeadBufferBytes - 10, room), 16384u);
  // Never more than the header limit allows.
  EXPECT_EQ(headReadStep(true, 100, 500), 500u);
  EXPECT_EQ(headReadStep(false, 0, 10), 10u);
}

}  // namespace
}  // namespace mgw::http
