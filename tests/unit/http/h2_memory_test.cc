// nghttp2's memory for one session: blocks recycled by size class up to a bound, realloc and
// calloc as the C library's, and a real session running on it.
#include "http/h2_memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace mgw::http {
namespace {

TEST(H2MemoryTest, BlocksAreRecycledBySizeClass) {
  SessionMemory m;
  nghttp2_mem* mem = m.mem();
  void* a = mem->malloc(100, mem->mem_user_data);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % alignof(std::max_align_t), 0u);
  std::memset(a, 'x', 100);
  mem->free(a, mem->mem_user_data);
  if (SessionMemory::kKeptBytes > 0) {
    EXPECT_EQ(m.keptBytes(), 128u);
    EXPECT_EQ(mem->malloc(120, mem->mem_user_data), a);  // the same class: 65..128 bytes
    EXPECT_EQ(m.keptBytes(), 0u);
  } else {
    a = mem->malloc(120, mem->mem_user_data);
  }
  auto* c = static_cast<unsigned char*>(mem->calloc(10, 10, mem->mem_user_data));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(c[i], 0) << i;
  mem->free(c, mem->mem_user_data);
  // realloc keeps the bytes, within the class and beyond it; large blocks are the heap's.
  std::memcpy(a, "abcdef", 6);
  void* b = mem->realloc(a, 5000, mem->mem_user_data);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(std::memcmp(b, "abcdef", 6), 0);
  mem->free(b, mem->mem_user_data);
  mem->free(nullptr, mem->mem_user_data);
  EXPECT_EQ(mem->calloc(~std::size_t{0}, 2, mem->mem_user_data), nullptr);
  // Sizes no heap has are refused, not rounded up to a class by a doubling that wraps around
  // (which looped forever) or padded by the header past SIZE_MAX.
  EXPECT_EQ(mem->malloc(~std::size_t{0} - 8, mem->mem_user_data), nullptr);
  EXPECT_EQ(mem->calloc(std::size_t{1} << 62, 3, mem->mem_user_data), nullptr);
}

TEST(H2MemoryTest, WhatIsKeptIsBounded) {
  SessionMemory m;
  nghttp2_mem* mem = m.mem();
  std::vector<void*> blocks;
  for (int i = 0; i < 100; ++i) blocks.push_back(mem->malloc(4000, mem->mem_user_data));
  for (void* p : blocks) mem->free(p, mem->mem_user_data);
  EXPECT_LE(m.keptBytes(), SessionMemory::kKeptBytes);
}

TEST(H2MemoryTest, ASessionRunsOnIt) {
  SessionMemory m;
  nghttp2_session_callbacks* cb = nullptr;
  ASSERT_EQ(nghttp2_session_callbacks_new(&cb), 0);
  nghttp2_session* session = nullptr;
  ASSERT_EQ(nghttp2_session_client_new3(&session, cb, nullptr, nullptr, m.mem()), 0);
  for (int i = 0; i < 50; ++i) {
    const nghttp2_nv nva[] = {
        {(uint8_t*)":method", (uint8_t*)"GET", 7, 3, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":path", (uint8_t*)"/", 5, 1, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":scheme", (uint8_t*)"http", 7, 4, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":authority", (uint8_t*)"x", 10, 1, NGHTTP2_NV_FLAG_NONE},
    };
    ASSERT_GT(nghttp2_submit_request(session, nullptr, nva, 4, nullptr, nullptr), 0);
    const std::uint8_t* data = nullptr;
    while (nghttp2_session_mem_send(session, &data) > 0) {
    }
  }
  nghttp2_session_del(session);
  nghttp2_session_callbacks_del(cb);
}

}  // namespace
}  // namespace mgw::http
