#include "gateway/http_message.h"

#include <string_view>

namespace mgw::gateway {
namespace {

// RFC 3986 section 2.3: only unreserved characters go out as they are.
bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void appendEncoded(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (isUnreserved(c)) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0x0F]);
    }
  }
}

}  // namespace

std::string encodeQuery(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    appendEncoded(name, &out);
    out.push_back('=');
    appendEncoded(value, &out);
  }
  return out;
}

}  // namespace mgw::gateway
