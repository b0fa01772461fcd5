// Finds the API key in a request at the API's declared locations, in order. Judges nothing: the
// value is client input, validated later by the key validator.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/api.h"
#include "message/http_message.h"

namespace mgw::gateway {

struct ExtractedKey {
  std::string value;
  KeySource source;  // where it was found, so the proxy strips exactly that
};

// The first non-empty value among api.keySources: header names case-insensitive (RFC 9110 section
// 5.1), surrounding whitespace trimmed (5.5); query names exact, values as the server decoded them;
// a bearer location takes the credentials of "Authorization: Bearer <key>" (extractBearer), a
// cookie location the cookie's value (extractCookie). An empty value counts as absent. nullopt when
// no source has a key.
std::optional<ExtractedKey> extractKey(const ApiDefinition& api,
                                       const message::HttpRequest& request);

// The same over the given locations (a resource's own, SPEC section 7 / WSO2 MGW 3.x).
std::optional<ExtractedKey> extractKey(const std::vector<KeySource>& sources,
                                       const message::HttpRequest& request);

// "Authorization: Bearer <token>" (RFC 6750 section 2.1; the scheme compares case-insensitively),
// for resources secured by OAuth2 (WSO2 MGW 3.x [[jwtTokenConfig]] tokens). nullopt without one.
// header: the API's x-wso2-auth-header (WSO2 MGW 3.x), Authorization by default.
std::optional<ExtractedKey> extractBearer(const message::HttpRequest& request,
                                          const std::string& header = "Authorization");

// The value of the first cookie named name (RFC 6265 section 4.2.1; names compare exactly, a
// DQUOTE-wrapped value is unwrapped) among every Cookie field; an empty value counts as absent.
std::optional<std::string> extractCookie(const message::HttpRequest& request,
                                         std::string_view name);

// The Cookie fields joined ("; ", RFC 9113 section 8.2.3) without the cookies named name, for the
// backend; nullopt when the request has no such cookie (the fields pass untouched), "" when it
// was the only one.
std::optional<std::string> cookiesWithout(const message::HttpRequest& request,
                                          std::string_view name);

// Where a secured resource takes an API key: its own security's locations when its definition
// declares them, else the API's.
const std::vector<KeySource>& keySourcesFor(const ApiDefinition& api, const Resource& resource);

}  // namespace mgw::gateway
