// Fuzzes the chunked body decoder (http/wire.h ChunkedDecoder) on its own, without a request head
// in front, so every input reaches it. Properties: fed whole, fed byte by byte, and fed in two
// parts at an input-chosen split, the decoder gives the same verdict, the same body and consumes
// the same bytes; the body never exceeds the limit; a decoded body is never longer than its input.
// Input: the first byte chooses the split point, the rest is the chunked body (and what follows).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "http/wire.h"

using mgw::http::ChunkedDecoder;
using mgw::http::WireError;

namespace {

struct Result {
  std::string body;
  std::size_t used = 0;
  WireError error;
  bool done = false;
};

template <typename Parts>
Result run(std::uint64_t max, const Parts& parts) {
  ChunkedDecoder d(max);
  Result r;
  for (std::string_view part : parts) {
    if (r.error || d.done()) break;
    r.used += d.feed(part, &r.body, &r.error);
  }
  r.done = d.done();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint64_t max = 64 + data[0] * 16u;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = body.empty() ? 0 : (data[0] * 7919u) % body.size();

  const Result whole = run(max, std::initializer_list<std::string_view>{body});
  const Result two =
      run(max, std::initializer_list<std::string_view>{body.substr(0, cut), body.substr(cut)});
  std::vector<std::string_view> singles;
  for (std::size_t i = 0; i < body.size(); ++i) singles.push_back(body.substr(i, 1));
  const Result one = run(max, singles);

  for (const Result* r : {&two, &one}) {
    if (r->error.failure != whole.error.failure || r->done != whole.done) std::abort();
    if (!whole.error && (r->body != whole.body || r->used != whole.used)) std::abort();
  }
  if (whole.body.size() > max || whole.body.size() > body.size() || whole.used > body.size())
    std::abort();
  if (whole.done && whole.error) std::abort();
  return 0;
}
