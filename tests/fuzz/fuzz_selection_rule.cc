// Fuzzes plan selection rules (gateway/selection_rule.h): compile, then evaluate against a request
// built from the rest of the input. Input: "<rule>\n<header value>\n<path>" (missing parts empty).
// A rule either compiles or names a line and column inside the text with a message; evaluation
// never throws or crashes, whatever the pattern or the value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/selection_rule.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto first = input.find('\n');
  const std::string_view rule = input.substr(0, first);
  std::string_view rest = first == std::string_view::npos ? "" : input.substr(first + 1);
  const auto second = rest.find('\n');
  const std::string_view header = rest.substr(0, second);
  const std::string_view path = second == std::string_view::npos ? "" : rest.substr(second + 1);

  mgw::gateway::RuleError error;
  auto compiled = mgw::gateway::SelectionRule::compile(rule, &error);
  if (!compiled) {
    if (error.message.empty() || error.line < 1 || error.column < 1) std::abort();
    // The position is inside the rule (or just past its end).
    if (error.line == 1 && static_cast<std::size_t>(error.column) > rule.size() + 1) std::abort();
    return 0;
  }
  mgw::message::HttpRequest request;
  request.method = "GET";
  request.path = std::string(path);
  request.headers.emplace("x-tier", std::string(header));
  request.query.push_back({"region", std::string(header)});
  mgw::gateway::Principal principal;
  principal.keytype = std::string(header);
  mgw::gateway::RuleInput in{request, header, &principal};
  (void)compiled->evaluate(in);
  mgw::gateway::RuleInput anonymous{request, "10.0.0.1", nullptr};
  (void)compiled->evaluate(anonymous);
  return 0;
}
