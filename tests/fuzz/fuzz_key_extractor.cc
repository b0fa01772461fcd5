// Fuzzes key extraction (gateway/key_extractor.h) on a request built the way the server builds one
// (message::parseTarget decodes the query, headers as sent). Also checks that cutting the key
// parameters out of the raw query (removeQueryParams) leaves exactly the other parameters, in
// order. Input: "<query string>\n<Name: value>\n<Name: value>..."
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/api.h"
#include "gateway/key_extractor.h"
#include "message/http_message.h"

namespace {

mgw::gateway::ApiDefinition makeApi() {
  mgw::gateway::ApiDefinition api;
  api.name = "FuzzAPI";
  api.version = "1.0.0";
  api.context = "/fuzz";
  api.keySources = {{mgw::gateway::KeyLocation::kHeader, "apikey"},
                    {mgw::gateway::KeyLocation::kHeader, "X-API-Key"},
                    {mgw::gateway::KeyLocation::kQuery, "apikey"},
                    {mgw::gateway::KeyLocation::kQuery, "key"}};
  return api;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const mgw::gateway::ApiDefinition api = makeApi();
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string query = input.substr(0, newline);

  mgw::message::HttpRequest request;
  request.method = "GET";
  if (query.find_first_of("#") != std::string::npos) return 0;
  if (!mgw::message::parseTarget("/fuzz/resource?" + query, &request).empty()) return 0;

  std::size_t start = newline == std::string::npos ? input.size() : newline + 1;
  while (start < input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string::npos) end = input.size();
    const std::string line = input.substr(start, end - start);
    const auto colon = line.find(':');
    if (colon != std::string::npos)
      request.headers.emplace(line.substr(0, colon), line.substr(colon + 1));
    start = end + 1;
  }

  const auto key = mgw::gateway::extractKey(api, request);
  if (key) {
    if (key->value.empty()) std::abort();
    const char first = key->value.front(), last = key->value.back();
    if (key->source.in == mgw::gateway::KeyLocation::kHeader &&
        (first == ' ' || first == '\t' || last == ' ' || last == '\t'))
      std::abort();  // header values are trimmed (RFC 9110 section 5.5)
  }

  // What the proxy forwards is the query less the key parameters: parsed again, it must hold
  // exactly the other parameters, in the same order.
  const std::string forwarded =
      mgw::message::removeQueryParams(request.rawQuery, {"apikey", "key"});
  mgw::message::HttpRequest again;
  if (!mgw::message::parseTarget("/fuzz/resource?" + forwarded, &again).empty()) std::abort();
  mgw::message::QueryParams expected;
  for (const auto& param : request.query)
    if (param.first != "apikey" && param.first != "key") expected.push_back(param);
  if (again.query != expected) std::abort();
  return 0;
}
