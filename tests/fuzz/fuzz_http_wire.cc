// Fuzzes the strict HTTP/1.1 parser (http/wire.h) on the bytes of one connection: the head
// scanner, the request and response head parsers, the chunked decoder, and the request-target
// parser (message/http_message.h). Properties, not only "no crash": a head fed in two parts is
// measured exactly as when fed whole, and the chunked decoder gives the same body fed byte by byte.
// Input: arbitrary bytes (a request head, maybe followed by a body).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/wire.h"
#include "message/http_message.h"

using mgw::http::WireError;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kMaxHead = 4096;

  WireError whole;
  std::size_t scanned = 0;
  const std::size_t headSize = mgw::http::findHeadEnd(input, kMaxHead, &scanned, &whole);

  // The same bytes in two reads: the same verdict.
  WireError split;
  std::size_t scanned2 = 0;
  const std::size_t half = size / 2;
  std::size_t headSize2 =
      mgw::http::findHeadEnd(input.substr(0, half), kMaxHead, &scanned2, &split);
  if (!split && headSize2 == 0)
    headSize2 = mgw::http::findHeadEnd(input, kMaxHead, &scanned2, &split);
  if (!whole && !split && headSize != headSize2) std::abort();
  if (headSize > size || headSize > kMaxHead) std::abort();

  if (headSize > 0 && !whole) {
    mgw::http::RequestHead head;
    const WireError e =
        mgw::http::parseRequestHead(input.substr(0, headSize), {100, 1 << 20}, &head);
    if (!e) {
      if (head.framing == mgw::http::Framing::kLength && head.contentLength == 0) std::abort();
      mgw::message::HttpRequest request;
      (void)mgw::message::parseTarget(head.target, &request);
      if (head.framing == mgw::http::Framing::kChunked) {
        const std::string_view body = input.substr(headSize);
        mgw::http::ChunkedDecoder a(1 << 20), b(1 << 20);
        std::string outA, outB;
        WireError ea, eb;
        const std::size_t usedA = a.feed(body, &outA, &ea);
        std::size_t usedB = 0;
        for (std::size_t i = 0; i < body.size() && !eb && !b.done(); ++i)
          usedB += b.feed(body.substr(i, 1), &outB, &eb);
        if (ea.failure != eb.failure || a.done() != b.done()) std::abort();
        if (!ea && (outA != outB || usedA != usedB)) std::abort();
      }
    }
    mgw::http::ResponseHead response;
    (void)mgw::http::parseResponseHead(input.substr(0, headSize), "GET", &response);
  }
  return 0;
}
