// The per-connection bookkeeping of the HTTP/2 session in flat storage, so that a stream costs no
// tree node and no allocation of its own once the connection has served a few: the open streams
// by identifier (a sorted vector: identifiers only grow), the client's newest stream identifiers
// (a ring), and a free list that recycles the blocks of one size (each stream's shared state).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define MGW_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define MGW_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define MGW_POISON(p, n) ((void)(p), (void)(n))
#define MGW_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace mgw::http {

// Values by stream identifier, in identifier order. A new identifier is larger than every other
// one almost always (RFC 9113 section 5.1.1), so an insertion appends; a lookup is a binary search
// among at most the concurrent streams.
template <typename T>
class StreamTable {
 public:
  using Entry = std::pair<std::int32_t, T>;

  T* find(std::int32_t id) {
    auto it = lower(id);
    return it != entries_.end() && it->first == id ? &it->second : nullptr;
  }
  // Sets the value of `id` (added, or replaced).
  void set(std::int32_t id, T value) {
    if (entries_.empty() || entries_.back().first < id) {
      entries_.emplace_back(id, std::move(value));
      return;
    }
    auto it = lower(id);
    if (it != entries_.end() && it->first == id)
      it->second = std::move(value);
    else
      entries_.emplace(it, id, std::move(value));
  }
  // Removes `id`; its value is moved to `out` (so that it is destroyed after the table changed).
  bool take(std::int32_t id, T* out) {
    auto it = lower(id);
    if (it == entries_.end() || it->first != id) return false;
    *out = std::move(it->second);
    entries_.erase(it);
    return true;
  }
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  auto begin() { return entries_.begin(); }
  auto end() { return entries_.end(); }
  void clear() { entries_.clear(); }

 private:
  typename std::vector<Entry>::iterator lower(std::int32_t id) {
    return std::lower_bound(entries_.begin(), entries_.end(), id,
                            [](const Entry& e, std::int32_t v) { return e.first < v; });
  }
  std::vector<Entry> entries_;
};

// The newest `capacity` of an increasing sequence of identifiers: added in increasing order, asked
// whether one of them is known, and whether older ones were forgotten.
class RecentIds {
 public:
  explicit RecentIds(std::size_t capacity) : capacity_(capacity) {}

  // `id` must be larger than every identifier added before.
  void add(std::int32_t id) {
    if (ids_.size() < capacity_) {
      ids_.push_back(id);
      return;
    }
    ids_[start_] = id;  // the oldest goes
    start_ = (start_ + 1) % capacity_;
    truncated_ = true;
  }
  bool contains(std::int32_t id) const {
    std::size_t lo = 0, hi = ids_.size();  // in logical order (oldest first): sorted
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      const std::int32_t v = at(mid);
      if (v == id) return true;
      if (v < id)
        lo = mid + 1;
      else
        hi = mid;
    }
    return false;
  }
  bool empty() const { return ids_.empty(); }
  std::int32_t oldest() const { return at(0); }
  // Whether identifiers older than oldest() were added (and forgotten).
  bool truncated() const { return truncated_; }

 private:
  std::int32_t at(std::size_t i) const { return ids_[(start_ + i) % ids_.size()]; }
  std::size_t capacity_;
  std::vector<std::int32_t> ids_;
  std::size_t start_ = 0;
  bool truncated_ = false;
};

// Blocks of one size, kept for reuse (at most `keep` of them; the rest go back to the heap). It
// must outlive every block it handed out.
class BlockPool {
 public:
  explicit BlockPool(std::size_t keep) : keep_(keep) {}
  ~BlockPool() {
    for (void* p : free_) {
      MGW_UNPOISON(p, size_);
      ::operator delete(p);
    }
  }
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  void* allocate(std::size_t bytes) {
    if (bytes == size_ && !free_.empty()) {
      void* p = free_.back();
      free_.pop_back();
      MGW_UNPOISON(p, size_);
      return p;
    }
    if (size_ == 0) size_ = bytes;
    return ::operator new(bytes);
  }
  void deallocate(void* p, std::size_t bytes) {
    if (bytes == size_ && free_.size() < keep_) {
      free_.push_back(p);
      // Under ASan a kept block is poisoned, as a freed one would be: a use after its owner
      // released it (a stream's state reached after the stream was freed) is reported, not
      // silently written into the next stream's block.
      MGW_POISON(p, size_);
      return;
    }
    ::operator delete(p);
  }

 private:
  std::size_t keep_;
  std::size_t size_ = 0;  // the size of the first block asked for: the one recycled
  std::vector<void*> free_;
};

// An allocator over a BlockPool (for std::allocate_shared: the control block and the object in
// one recycled block).
template <typename T>
class PoolAllocator {
 public:
  using value_type = T;
  explicit PoolAllocator(BlockPool& pool) : pool_(&pool) {}
  template <typename U>
  PoolAllocator(const PoolAllocator<U>& other) : pool_(other.pool()) {}

  T* allocate(std::size_t n) { return static_cast<T*>(pool_->allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) { pool_->deallocate(p, n * sizeof(T)); }
  BlockPool* pool() const { return pool_; }
  template <typename U>
  bool operator==(const PoolAllocator<U>& other) const {
    return pool_ == other.pool();
  }

 private:
  BlockPool* pool_;
};

}  // namespace mgw::http
