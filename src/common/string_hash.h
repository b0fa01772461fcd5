// Heterogeneous lookup for string-keyed unordered containers: find(std::string_view) without a
// temporary std::string (C++20 transparent hashing).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace mgw {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// std::unordered_map<std::string, V, StringHash, std::equal_to<>>: find(string_view) allocates
// nothing.
using StringEqual = std::equal_to<>;

}  // namespace mgw
