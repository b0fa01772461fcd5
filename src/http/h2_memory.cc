#include "http/h2_memory.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace mgw::http {
namespace {

// Each block starts with a header that names its size class (kLarge: the heap's, of `bytes`);
// the caller's memory follows, aligned as malloc's.
constexpr std::size_t kHeader = alignof(std::max_align_t);
constexpr std::size_t kLarge = ~std::size_t{0};
constexpr std::size_t kSmallest = 64;

struct Header {
  std::size_t sizeClass;
  std::size_t bytes;  // the usable size
};
static_assert(sizeof(Header) <= kHeader);

std::size_t classOf(std::size_t bytes) {
  std::size_t c = 0;
  for (std::size_t size = kSmallest; size < bytes; size *= 2) ++c;
  return c;
}

Header* headerOf(void* p) { return reinterpret_cast<Header*>(static_cast<char*>(p) - kHeader); }

}  // namespace

SessionMemory::SessionMemory() {
  mem_.mem_user_data = this;
  mem_.malloc = [](std::size_t size, void* self) {
    return static_cast<SessionMemory*>(self)->allocate(size);
  };
  mem_.free = [](void* p, void* self) { static_cast<SessionMemory*>(self)->release(p); };
  mem_.calloc = [](std::size_t n, std::size_t size, void* self) -> void* {
    if (size != 0 && n > ~std::size_t{0} / size) return nullptr;
    void* p = static_cast<SessionMemory*>(self)->allocate(n * size);
    if (p) std::memset(p, 0, n * size);
    return p;
  };
  mem_.realloc = [](void* p, std::size_t size, void* self) {
    return static_cast<SessionMemory*>(self)->resize(p, size);
  };
}

SessionMemory::~SessionMemory() {
  for (auto& list : free_)
    for (void* block : list) std::free(block);
}

void* SessionMemory::allocate(std::size_t bytes) {
  // No heap has it, and past here classOf's doubling and kHeader + usable would wrap around.
  if (bytes > std::numeric_limits<std::size_t>::max() / 2) return nullptr;
  const std::size_t c = classOf(bytes);
  void* block = nullptr;
  std::size_t usable = bytes;
  if (c < kClasses) {
    usable = kSmallest << c;
    if (!free_[c].empty()) {
      block = free_[c].back();
      free_[c].pop_back();
      kept_ -= usable;
    }
  }
  if (!block) block = std::malloc(kHeader + usable);
  if (!block) return nullptr;
  auto* h = static_cast<Header*>(block);
  h->sizeClass = c < kClasses ? c : kLarge;
  h->bytes = usable;
  return static_cast<char*>(block) + kHeader;
}

void SessionMemory::release(void* p) {
  if (!p) return;
  Header* h = headerOf(p);
  if (h->sizeClass != kLarge && kept_ + h->bytes <= kKeptBytes) {
    try {
      free_[h->sizeClass].push_back(h);
      kept_ += h->bytes;
      return;
    } catch (const std::bad_alloc&) {  // called from C: the block goes back to the heap
    }
  }
  std::free(h);
}

void* SessionMemory::resize(void* p, std::size_t bytes) {
  if (!p) return allocate(bytes);
  if (bytes == 0) {
    release(p);
    return nullptr;
  }
  const std::size_t old = headerOf(p)->bytes;
  if (bytes <= old) return p;
  void* q = allocate(bytes);
  if (!q) return nullptr;  // p stays valid, as with realloc
  std::memcpy(q, p, old);
  release(p);
  return q;
}

}  // namespace mgw::http
