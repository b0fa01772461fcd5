// A message's header fields: a flat vector in arrival order, looked up by name in any letter case
// (RFC 9110 section 5.1). It replaces a std::multimap (one heap node per field, names compared
// with strcasecmp in a tree) and keeps the multimap's interface that stages call (find,
// equal_range, count, emplace, erase by name), so a request's fields can be moved in from the
// parsed head instead of copied (a head is a few fields; a linear scan comparing lengths first is
// cheaper than a tree).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mgw::message {

// ASCII case-insensitive equality, for field names.
inline bool sameFieldName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x == y) continue;
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

class HeaderMap {
 public:
  using value_type = std::pair<std::string, std::string>;
  using Entries = std::vector<value_type>;
  using iterator = Entries::iterator;
  using const_iterator = Entries::const_iterator;
  using size_type = std::size_t;

  // The fields of one name, in arrival order: what equal_range returns (a forward iterator that
  // skips the other names).
  template <typename It>
  class NameIterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = HeaderMap::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = decltype(std::declval<It>().operator->());
    using reference = decltype(*std::declval<It>());

    NameIterator() = default;
    NameIterator(It at, It end, std::string_view name) : at_(at), end_(end), name_(name) { skip(); }
    reference operator*() const { return *at_; }
    pointer operator->() const { return at_.operator->(); }
    NameIterator& operator++() {
      ++at_;
      skip();
      return *this;
    }
    NameIterator operator++(int) {
      NameIterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const NameIterator& a, const NameIterator& b) { return a.at_ == b.at_; }
    friend bool operator!=(const NameIterator& a, const NameIterator& b) { return a.at_ != b.at_; }

   private:
    void skip() {
      while (at_ != end_ && !sameFieldName(at_->first, name_)) ++at_;
    }
    It at_{};
    It end_{};
    std::string_view name_;  // the caller's name: valid while the range is used
  };
  template <typename It>
  using Range = std::pair<NameIterator<It>, NameIterator<It>>;

  HeaderMap() = default;
  HeaderMap(std::initializer_list<value_type> fields) : entries_(fields) {}

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  size_type size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }
  void reserve(size_type n) { entries_.reserve(n); }
  void swap(HeaderMap& other) noexcept { entries_.swap(other.entries_); }
  const value_type& operator[](size_type i) const { return entries_[i]; }

  // The first field of that name, or end().
  iterator find(std::string_view name) { return entries_.begin() + indexOf(name); }
  const_iterator find(std::string_view name) const { return entries_.begin() + indexOf(name); }
  size_type count(std::string_view name) const {
    size_type n = 0;
    for (const auto& e : entries_) n += sameFieldName(e.first, name);
    return n;
  }
  Range<iterator> equal_range(std::string_view name) {
    return {NameIterator<iterator>(begin(), end(), name),
            NameIterator<iterator>(end(), end(), name)};
  }
  Range<const_iterator> equal_range(std::string_view name) const {
    return {NameIterator<const_iterator>(begin(), end(), name),
            NameIterator<const_iterator>(end(), end(), name)};
  }

  // Appends a field (after the others of its name, as a multimap does).
  template <typename... Args>
  iterator emplace(Args&&... args) {
    entries_.emplace_back(std::forward<Args>(args)...);
    return entries_.end() - 1;
  }
  // Removes every field of that name; returns how many.
  size_type erase(std::string_view name) {
    const size_type before = entries_.size();
    std::erase_if(entries_, [name](const value_type& e) { return sameFieldName(e.first, name); });
    return before - entries_.size();
  }
  iterator erase(const_iterator at) { return entries_.erase(at); }

 private:
  std::ptrdiff_t indexOf(std::string_view name) const {
    std::ptrdiff_t i = 0;
    for (const auto& e : entries_) {
      if (sameFieldName(e.first, name)) return i;
      ++i;
    }
    return i;
  }

  Entries entries_;
};

}  // namespace mgw::message
