// The HTTP/2 session's flat bookkeeping: streams by identifier, the newest identifiers a client
// opened (what tells a reused identifier from one never opened), and the recycled blocks.
#include "http/h2_tables.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace mgw::http {
namespace {

TEST(H2TablesTest, StreamTableFindsSetsAndTakes) {
  StreamTable<std::string> t;
  EXPECT_EQ(t.find(1), nullptr);
  t.set(1, "a");
  t.set(5, "c");
  t.set(3, "b");  // out of order: inserted in its place
  ASSERT_NE(t.find(3), nullptr);
  EXPECT_EQ(*t.find(3), "b");
  t.set(3, "B");
  EXPECT_EQ(*t.find(3), "B");
  EXPECT_EQ(t.size(), 3u);
  std::string out;
  EXPECT_FALSE(t.take(2, &out));
  EXPECT_TRUE(t.take(1, &out));
  EXPECT_EQ(out, "a");
  EXPECT_EQ(t.find(1), nullptr);
  std::string ids;
  for (auto& [id, v] : t) ids += std::to_string(id) + v;
  EXPECT_EQ(ids, "3B5c");
}

TEST(H2TablesTest, RecentIdsForgetsTheOldestOnly) {
  RecentIds ids(4);
  EXPECT_TRUE(ids.empty());
  for (int id : {1, 3, 7, 9}) ids.add(id);
  EXPECT_FALSE(ids.truncated());
  EXPECT_TRUE(ids.contains(3));
  EXPECT_FALSE(ids.contains(5));
  ids.add(11);  // 1 is forgotten
  ids.add(13);  // and 3
  EXPECT_TRUE(ids.truncated());
  EXPECT_EQ(ids.oldest(), 7);
  EXPECT_FALSE(ids.contains(1));
  EXPECT_FALSE(ids.contains(3));
  for (int id : {7, 9, 11, 13}) EXPECT_TRUE(ids.contains(id)) << id;
  for (int id : {5, 8, 10, 12, 15}) EXPECT_FALSE(ids.contains(id)) << id;
  for (int id = 15; id < 200; id += 2) ids.add(id);
  EXPECT_EQ(ids.oldest(), 193);
  EXPECT_TRUE(ids.contains(199));
  EXPECT_FALSE(ids.contains(191));
}

TEST(H2TablesTest, BlockPoolRecyclesBlocksOfOneSize) {
  BlockPool pool(1);
  void* a = pool.allocate(64);
  void* b = pool.allocate(64);
  pool.deallocate(a, 64);
  pool.deallocate(b, 64);  // beyond `keep`: back to the heap
  EXPECT_EQ(pool.allocate(64), a);
  void* other = pool.allocate(32);  // another size is never recycled
  pool.deallocate(other, 32);
  pool.deallocate(a, 64);
  auto shared = std::allocate_shared<std::string>(PoolAllocator<std::string>(pool), "x");
  EXPECT_EQ(*shared, "x");
}

#if defined(__SANITIZE_ADDRESS__)
TEST(H2TablesTest, BlockPoolPoisonsKeptBlocksUnderAsan) {
  // A block kept for reuse is out of bounds for ASan until handed out again, so a stream's state
  // reached after the stream was released is reported as it would be on the heap, not written
  // into the next stream's block.
  BlockPool pool(1);
  auto* a = static_cast<char*>(pool.allocate(64));
  EXPECT_FALSE(__asan_address_is_poisoned(a + 10));
  pool.deallocate(a, 64);
  EXPECT_TRUE(__asan_address_is_poisoned(a));
  EXPECT_TRUE(__asan_address_is_poisoned(a + 63));
  EXPECT_EQ(pool.allocate(64), a);
  EXPECT_FALSE(__asan_address_is_poisoned(a + 63));
  pool.deallocate(a, 64);
}
#endif

}  // namespace
}  // namespace mgw::http
