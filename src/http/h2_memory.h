// The memory of one nghttp2 session (nghttp2_mem): what a stream makes nghttp2 allocate (the
// stream, its outbound items, the header list copies, HPACK table entries) is freed by the end of
// the stream, and the next stream asks for the same sizes again. Blocks up to 4 KiB are kept in
// free lists by size class for reuse, at most kKeptBytes per session; the rest is the heap's.
#pragma once

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstddef>
#include <vector>

namespace mgw::http {

class SessionMemory {
 public:
#if defined(__SANITIZE_ADDRESS__)
  static constexpr std::size_t kKeptBytes = 0;  // every block back to the heap: ASan sees misuse
#else
  static constexpr std::size_t kKeptBytes = 32 * 1024;
#endif

  SessionMemory();
  ~SessionMemory();
  SessionMemory(const SessionMemory&) = delete;
  SessionMemory& operator=(const SessionMemory&) = delete;

  // For nghttp2_session_server_new3 (valid while this lives; the session must go first).
  nghttp2_mem* mem() { return &mem_; }

  void* allocate(std::size_t bytes);
  void release(void* p);
  void* resize(void* p, std::size_t bytes);
  std::size_t keptBytes() const { return kept_; }

 private:
  static constexpr std::size_t kClasses = 7;  // 64 B .. 4 KiB
  nghttp2_mem mem_;
  std::array<std::vector<void*>, kClasses> free_;  // blocks (header included) by class
  std::size_t kept_ = 0;
};

}  // namespace mgw::http
