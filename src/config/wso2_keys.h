// WSO2 API Microgateway 3.x micro-gw.conf keys that micro-gw reads but does not use (issue 16): one
// table, so that a WSO2 project loads with one warning per such key while a typo stays an error.
// Trusts nothing: the table is matched against key paths as written in the file.
#pragma once

#include <string_view>
#include <vector>

namespace mgw::config {

enum class Wso2KeyTreatment {
  kIgnored,          // accepted with one startup warning saying why it has no effect
  kRefusedWhenTrue,  // ignored when false; true would ask for a check micro-gw does not make
  kRefused,          // a load error: ignoring it would silently drop a protection
};

struct Wso2Key {
  // Dotted path as written in the file: "listenerConfig.tokenListenerPort", a whole table
  // ("apim.eventHub": the table and everything under it), "*" matches one segment (user names).
  std::string_view path;
  Wso2KeyTreatment treatment;
  std::string_view why;  // completes "WSO2 API Microgateway 3.x setting, ignored: ..."
};

// Every WSO2 MGW 3.x key micro-gw does not honour itself (the honoured ones are read by the loader
// like its own keys: see README "Migrating from WSO2 API Microgateway 3.x").
const std::vector<Wso2Key>& wso2Keys();

// The entry covering dottedPath (the key itself or a table above it), or nullptr.
const Wso2Key* findWso2Key(std::string_view dottedPath);

// True when dottedPath is a table that holds WSO2 entries below it without being one itself
// ("apim" holds "apim.eventHub"): its keys are then checked one by one.
bool isWso2Parent(std::string_view dottedPath);

}  // namespace mgw::config
