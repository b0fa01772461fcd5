// Fuzzes (schema, instance) pairs through validation/schema.h and validation/operation.h: the
// schema inlined against itself, translated from OpenAPI 3.0, compiled for draft 4 and draft 7,
// then the instance checked as parsed JSON and as raw body bytes (depth guard, parse, check).
// Differential: where a draft 4 schema gets the fast path (RapidJSON's SAX schema validator), it
// must never accept an instance valijson refuses (abort), and checkText must answer as valijson.
// Input: "<schema JSON>\n--\n<instance>" (without the separator, the input is both).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "validation/operation.h"
#include "validation/schema.h"

using nlohmann::json;
using namespace mgw::validation;

namespace {

// FUZZ_SCHEMA_STATS=1: how many checks the fast path answered, printed at exit (a campaign shows
// whether the differential part was reached at all).
struct FastStats {
  unsigned long long verdict[4] = {0, 0, 0, 0};  // by CompiledSchema::FastVerdict
  static FastStats& get() {
    static FastStats* stats = [] {
      auto* s = new FastStats;
      if (std::getenv("FUZZ_SCHEMA_STATS"))
        std::atexit([] {
          const FastStats& f = get();
          std::fprintf(stderr, "fast path: none %llu, unsure %llu, valid %llu, invalid %llu\n",
                       f.verdict[0], f.verdict[1], f.verdict[2], f.verdict[3]);
        });
      return s;
    }();
    return *stats;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto sep = input.find("\n--\n");
  const std::string_view schemaText = input.substr(0, sep);
  const std::string_view instanceText =
      sep == std::string_view::npos ? input : input.substr(sep + 4);

  json document = json::parse(schemaText.begin(), schemaText.end(), nullptr, false);
  if (document.is_discarded() || !document.is_object()) return 0;
  json schema = document;
  if (auto e = inlineRefs(document, "", &schema)) {
    if (e->message.empty()) std::abort();  // an error says why
    return 0;
  }
  translateOpenApi30(&schema);
  json instance = json::parse(instanceText.begin(), instanceText.end(), nullptr, false);
  for (Draft draft : {Draft::kDraft4, Draft::kDraft7}) {
    std::string error;
    auto compiled = CompiledSchema::compile(schema, draft, &error);
    if (!compiled) {
      if (error.empty()) std::abort();  // a refused schema says why
      continue;
    }
    // The raw-bytes path a request body takes: never throws, always answers.
    const Finding body = checkResponseBody(*compiled, instanceText);
    if (!body.ok() && body.description.empty()) std::abort();
    // Differential: the fast path (RapidJSON's SAX validator) never accepts what valijson
    // refuses, and checkText answers exactly as valijson does.
    std::string fastUnreadable, slowUnreadable;
    const auto slow = compiled->checkTextValijson(instanceText, &slowUnreadable);
    const bool slowValid = !slow && slowUnreadable.empty();
    const auto fast = compiled->checkFast(instanceText);
    ++FastStats::get().verdict[static_cast<int>(fast)];
    if (fast == CompiledSchema::FastVerdict::kValid && !slowValid) {
      std::fprintf(stderr, "fast path accepts what valijson refuses: %s at '%s'\n",
                   slow ? slow->rule.c_str() : slowUnreadable.c_str(),
                   slow ? slow->pointer.c_str() : "");
      std::abort();
    }
    const auto answer = compiled->checkText(instanceText, &fastUnreadable);
    if (fastUnreadable != slowUnreadable || answer.has_value() != slow.has_value() ||
        (answer && (answer->pointer != slow->pointer || answer->rule != slow->rule)))
      std::abort();
    if (instance.is_discarded()) continue;
    const auto first = compiled->check(instance);
    const auto again = compiled->check(instance);
    if (first.has_value() != again.has_value()) std::abort();  // the pattern cache changes nothing
    if (first && first->all.size() > kMaxListed) std::abort();
  }
  return 0;
}
