#include "validation/operation.h"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace mgw::validation {

using nlohmann::json;

namespace {

// A value echoed in a description is cut to this many bytes.
constexpr std::size_t kExcerpt = 64;

// A failed rule is cut to this many: room for the length refusal's whole sentence
// ("a string of 200000 bytes is longer than the 1024 bytes a pattern is checked on").
constexpr std::size_t kRuleExcerpt = 96;

std::string excerpt(std::string_view s, std::size_t limit = kExcerpt) {
  std::string out;
  for (char c : s.substr(0, limit))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (s.size() > limit) out += "...";
  return out;
}

// object[key] == expected; false when the member is absent or of another type.
bool memberEquals(const json& object, const char* key, const json& expected) {
  if (!object.is_object()) return false;
  auto it = object.find(key);
  return it != object.end() && *it == expected;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool isJsonMediaType(const std::string& mt) {
  return mt == "application/json" ||
         (mt.size() > 5 && mt.compare(mt.size() - 5, 5, "+json") == 0) || mt == "*/*" ||
         mt == "application/*";
}

std::string typeOf(const json& schema) {
  if (!schema.is_object()) return "";
  auto t = schema.find("type");
  if (t == schema.end()) return "";
  if (t->is_string()) return t->get<std::string>();
  if (t->is_array())
    for (const auto& v : *t)
      if (v.is_string() && v.get<std::string>() != "null") return v.get<std::string>();
  return "";
}

struct Builder {
  const json& document;
  Dialect dialect;
  std::vector<SchemaError>* errors;
  bool ok = true;

  void error(std::string pointer, std::string message) {
    ok = false;
    if (errors) errors->push_back(SchemaError{std::move(pointer), std::move(message)});
  }

  // An object's member of one type: the fallback when absent, an error (and the fallback) when of
  // another type. json::value would throw type_error 302 out of the loader on "required: yes".
  bool boolean(const json& object, const char* key, bool fallback, const std::string& pointer) {
    auto it = object.find(key);
    if (it == object.end()) return fallback;
    if (!it->is_boolean()) {
      error(pointer + "/" + key, std::string(key) + " must be true or false");
      return fallback;
    }
    return it->get<bool>();
  }
  std::string string(const json& object, const char* key, std::string fallback,
                     const std::string& pointer) {
    auto it = object.find(key);
    if (it == object.end()) return fallback;
    if (!it->is_string()) {
      error(pointer + "/" + key, std::string(key) + " must be a string");
      return fallback;
    }
    return it->get<std::string>();
  }
  bool required(const json& object, const std::string& pointer) {
    return boolean(object, "required", false, pointer);
  }

  // An object that may be {"$ref": ...} (a parameter, a request body, a response): what it names,
  // and the pointer to report from.
  const json* follow(const json& node, std::string* pointer) {
    const json* at = &node;
    for (int hops = 0; at->is_object() && at->contains("$ref"); ++hops) {
      const json& ref = (*at)["$ref"];
      if (!ref.is_string() || hops > 16) {
        error(*pointer + "/$ref", "$ref must be a string naming a value in the definition");
        return nullptr;
      }
      const json* next = resolveLocalRef(document, ref.get<std::string>());
      if (!next) {
        error(*pointer + "/$ref", "dangling $ref '" + excerpt(ref.get<std::string>()) +
                                      "': the definition has no value there");
        return nullptr;
      }
      *pointer = ref.get<std::string>().substr(1);
      at = next;
    }
    return at;
  }

  // The schema at pointer, its $refs inlined and its dialect translated, compiled.
  std::shared_ptr<const CompiledSchema> compile(json schema, const std::string& pointer) {
    if (auto e = inlineRefs(document, pointer, &schema)) {
      error(e->pointer, e->message);
      return nullptr;
    }
    if (dialect == Dialect::kOpenApi31)
      translateOpenApi31(&schema);
    else
      translateOpenApi30(&schema);
    std::string why;
    auto compiled = CompiledSchema::compile(
        schema, dialect == Dialect::kOpenApi31 ? Draft::kDraft7 : Draft::kDraft4, &why);
    if (!compiled) error(pointer, why);
    return compiled;
  }

  std::vector<std::string> mediaTypes(const json& op, const char* key) {
    std::vector<std::string> out;
    for (const json* from : {&op, &document}) {
      auto it = from->find(key);
      if (it == from->end() || !it->is_array()) continue;
      for (const auto& m : *it)
        if (m.is_string()) out.push_back(mediaTypeOf(m.get<std::string>()));
      return out;
    }
    return {"application/json"};
  }

  // Swagger 2.0's parameter keywords as a schema.
  static json swaggerParameterSchema(const json& p) {
    json schema = json::object();
    for (const char* key :
         {"type", "format", "items", "enum", "minimum", "maximum", "exclusiveMinimum",
          "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems",
          "uniqueItems", "multipleOf", "x-nullable"}) {
      auto it = p.find(key);
      if (it != p.end()) schema[key] = *it;
    }
    if (memberEquals(schema, "type", "file")) schema.erase("type");
    return schema;
  }

  void parameter(const json& node, std::string pointer, OperationSchemas* out) {
    const json* p = follow(node, &pointer);
    if (!p) return;
    if (!p->is_object() || !p->contains("name") || !(*p)["name"].is_string() ||
        !p->contains("in") || !(*p)["in"].is_string()) {
      error(pointer, "a parameter needs a string name and in");
      return;
    }
    const std::string name = (*p)["name"].get<std::string>();
    const std::string in = (*p)["in"].get<std::string>();
    const bool required = this->required(*p, pointer);
    Parameter param;
    param.name = name;
    param.required = required || in == "path";
    if (in == "path")
      param.in = ParamIn::kPath;
    else if (in == "query")
      param.in = ParamIn::kQuery;
    else if (in == "header")
      param.in = ParamIn::kHeader;
    else if (in == "cookie")
      param.in = ParamIn::kCookie;
    else
      return;  // formData: not validated (README)
    // OpenAPI 3 section 4.8.12.1: these header parameters are ignored.
    if (param.in == ParamIn::kHeader &&
        (strcasecmp(name.c_str(), "Accept") == 0 || strcasecmp(name.c_str(), "Content-Type") == 0 ||
         strcasecmp(name.c_str(), "Authorization") == 0))
      return;
    json schema;
    std::string schemaPointer = pointer + "/schema";
    if (dialect == Dialect::kSwagger2) {
      schema = swaggerParameterSchema(*p);
      schemaPointer = pointer;
      const std::string format = string(*p, "collectionFormat", "csv", pointer);
      param.style = format == "multi"   ? "form"
                    : format == "ssv"   ? "spaceDelimited"
                    : format == "tsv"   ? "tabDelimited"
                    : format == "pipes" ? "pipeDelimited"
                                        : "simple";
      param.explode = format == "multi";
    } else {
      if (p->contains("schema")) schema = (*p)["schema"];
      const bool formLike = param.in == ParamIn::kQuery || param.in == ParamIn::kCookie;
      param.style = string(*p, "style", formLike ? "form" : "simple", pointer);
      param.explode = boolean(*p, "explode", param.style == "form", pointer);
    }
    if (schema.is_object()) {
      param.schema = compile(schema, schemaPointer);
      if (param.schema) {
        param.type = typeOf(param.schema->source());
        if (param.type == "array" && param.schema->source().contains("items"))
          param.itemsType = typeOf(param.schema->source()["items"]);
      }
    }
    // A later declaration of the same name and location replaces the earlier (the operation's
    // over its path item's: OpenAPI 3 section 4.8.10).
    for (Parameter& existing : out->parameters) {
      if (existing.in == param.in && existing.name == param.name) {
        existing = std::move(param);
        return;
      }
    }
    out->parameters.push_back(std::move(param));
  }

  void content(const json& node, const std::string& pointer, std::vector<MediaSchema>* out) {
    if (!node.is_object()) return;
    for (const auto& [type, media] : node.items()) {
      MediaSchema m{mediaTypeOf(type), nullptr};
      if (isJsonMediaType(m.mediaType) && media.is_object() && media.contains("schema"))
        m.schema = compile(media["schema"], pointer + "/" + escapePointerToken(type) + "/schema");
      out->push_back(std::move(m));
    }
  }
};

// The raw values of a parameter in the request (empty: absent).
std::vector<std::string> rawValues(const Parameter& p, const message::HttpRequest& request,
                                   std::string_view pathTemplate, std::string_view path) {
  std::vector<std::string> out;
  switch (p.in) {
    case ParamIn::kQuery:
      for (const auto& [name, value] : request.query)
        if (name == p.name) out.push_back(value);
      break;
    case ParamIn::kHeader:
      if (request.hasHeader(p.name)) out.push_back(request.joinedHeader(p.name));
      break;
    case ParamIn::kCookie: {
      auto [first, last] = request.headers.equal_range("Cookie");
      for (auto it = first; it != last; ++it) {
        std::string_view rest = it->second;
        while (!rest.empty()) {
          const std::size_t semi = rest.find(';');
          std::string_view pair = rest.substr(0, semi);
          while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
          const std::size_t eq = pair.find('=');
          if (eq != std::string_view::npos && pair.substr(0, eq) == p.name)
            out.emplace_back(pair.substr(eq + 1));
          if (semi == std::string_view::npos) break;
          rest.remove_prefix(semi + 1);
        }
      }
      break;
    }
    case ParamIn::kPath: {
      // Segment by segment; a template segment that is exactly "{name}" gives the value.
      const std::string want = "{" + p.name + "}";
      std::size_t ti = 0, pi = 0;
      while (ti <= pathTemplate.size() && pi <= path.size()) {
        const std::size_t te = std::min(pathTemplate.find('/', ti), pathTemplate.size());
        const std::size_t pe = std::min(path.find('/', pi), path.size());
        if (pathTemplate.substr(ti, te - ti) == want) {
          out.emplace_back(path.substr(pi, pe - pi));
          break;
        }
        if (te == pathTemplate.size() || pe == path.size()) break;
        ti = te + 1;
        pi = pe + 1;
      }
      break;
    }
  }
  return out;
}

// The text read as the schema's type; nullopt when it cannot be.
std::optional<json> coerce(const std::string& text, const std::string& type) {
  if (type == "integer") {
    if (text.empty() || text.size() > 20) return std::nullopt;
    std::size_t i = text[0] == '-' ? 1 : 0;
    if (i == text.size() || !std::all_of(text.begin() + static_cast<std::ptrdiff_t>(i), text.end(),
                                         [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    errno = 0;
    const long long v = std::strtoll(text.c_str(), nullptr, 10);
    if (errno == ERANGE) return json(std::strtod(text.c_str(), nullptr));
    return json(v);
  }
  if (type == "number") {
    if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
    if (text.find_first_not_of("-0123456789") == std::string::npos) {
      errno = 0;
      const long long i = std::strtoll(text.c_str(), nullptr, 10);
      if (errno != ERANGE) return json(i);
    }
    return json(v);
  }
  if (type == "boolean") {
    if (text == "true") return json(true);
    if (text == "false") return json(false);
    return std::nullopt;
  }
  return json(text);
}

std::vector<std::string> split(const std::string& text, char delimiter) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = text.find(delimiter, start);
    out.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

const char* whereName(ParamIn in) {
  switch (in) {
    case ParamIn::kPath:
      return "path";
    case ParamIn::kQuery:
      return "query";
    case ParamIn::kHeader:
      return "header";
    case ParamIn::kCookie:
      return "cookie";
  }
  return "query";
}

// "request body #: Missing required property 'name'., #: Missing ..." (WSO2 MGW 3.x listed every
// failed rule as "#<pointer>: <rule>, "); each rule and pointer cut to an excerpt.
std::string describe(const std::string& where, const Violation& v) {
  std::string out = where + " ";
  if (v.all.empty()) return out + "#" + excerpt(v.pointer) + ": " + excerpt(v.rule, kRuleExcerpt);
  for (std::size_t i = 0; i < v.all.size(); ++i) {
    if (i) out += ", ";
    out += "#" + excerpt(v.all[i].pointer) + ": " + excerpt(v.all[i].rule, kRuleExcerpt);
  }
  return out;
}

Finding jsonBody(const CompiledSchema& schema, std::string_view body, const std::string& where,
                 Failure failure) {
  std::string unreadable;
  if (auto v = schema.checkText(body, &unreadable)) return Finding{failure, describe(where, *v)};
  if (!unreadable.empty()) return Finding{failure, where + " " + unreadable};
  return {};
}

// The entry of list matching the media type: exact, then type/*, then */*.
const MediaSchema* matchMedia(const std::vector<MediaSchema>& list, const std::string& mt) {
  const std::string range = mt.substr(0, mt.find('/')) + "/*";
  for (const std::string& want : {mt, range, std::string("*/*")})
    for (const MediaSchema& m : list)
      if (m.mediaType == want) return &m;
  return nullptr;
}

std::string mediaList(const std::vector<MediaSchema>& list) {
  std::string out;
  for (const MediaSchema& m : list) out += (out.empty() ? "" : ", ") + m.mediaType;
  return out;
}

}  // namespace

bool OperationSchemas::checksBody() const {
  return bodyRequired ||
         std::any_of(body.begin(), body.end(), [](const MediaSchema& m) { return m.schema; });
}

std::string mediaTypeOf(std::string_view contentType) {
  std::string_view mt = contentType.substr(0, contentType.find(';'));
  while (!mt.empty() && (mt.back() == ' ' || mt.back() == '\t')) mt.remove_suffix(1);
  while (!mt.empty() && (mt.front() == ' ' || mt.front() == '\t')) mt.remove_prefix(1);
  return lower(std::string(mt));
}

std::shared_ptr<const OperationSchemas> buildOperation(const json& document,
                                                       const std::string& opPointer,
                                                       Dialect dialect,
                                                       std::vector<SchemaError>* errors) {
  Builder b{document, dialect, errors};
  auto out = std::make_shared<OperationSchemas>();
  const json* op = resolveLocalRef(document, "#" + opPointer);
  if (!op || !op->is_object()) return out;
  const std::string itemPointer = opPointer.substr(0, opPointer.rfind('/'));
  const json* item = resolveLocalRef(document, "#" + itemPointer);
  // Swagger 2.0's body parameter: its schema, under the operation's consumes.
  std::shared_ptr<const CompiledSchema> swaggerBody;
  for (const auto& [from, pointer] : {std::pair{item, itemPointer}, std::pair{op, opPointer}}) {
    if (!from || !from->is_object() || !from->contains("parameters")) continue;
    const json& list = (*from)["parameters"];
    if (!list.is_array()) continue;
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string p = pointer + "/parameters/" + std::to_string(i);
      const json& node = list[i];
      std::string followed = p;
      const json* resolved = b.follow(node, &followed);
      if (resolved && resolved->is_object() && memberEquals(*resolved, "in", "body")) {
        out->bodyDeclared = true;
        out->bodyRequired = b.required(*resolved, followed);
        swaggerBody = resolved->contains("schema")
                          ? b.compile((*resolved)["schema"], followed + "/schema")
                          : nullptr;
        continue;
      }
      if (resolved) b.parameter(node, p, out.get());
    }
  }
  if (dialect == Dialect::kSwagger2) {
    if (out->bodyDeclared)
      for (const std::string& mt : b.mediaTypes(*op, "consumes"))
        out->body.push_back(MediaSchema{mt, isJsonMediaType(mt) ? swaggerBody : nullptr});
  } else if (op->contains("requestBody")) {
    std::string pointer = opPointer + "/requestBody";
    if (const json* rb = b.follow((*op)["requestBody"], &pointer); rb && rb->is_object()) {
      out->bodyDeclared = true;
      out->bodyRequired = b.required(*rb, pointer);
      if (rb->contains("content")) b.content((*rb)["content"], pointer + "/content", &out->body);
    }
  }
  if (op->contains("responses") && (*op)["responses"].is_object()) {
    out->responsesDeclared = true;
    for (const auto& [code, node] : (*op)["responses"].items()) {
      if (code.rfind("x-", 0) == 0) continue;
      std::string pointer = opPointer + "/responses/" + escapePointerToken(code);
      const json* r = b.follow(node, &pointer);
      if (!r || !r->is_object()) continue;
      ResponseSpec spec{code, {}};
      if (dialect == Dialect::kSwagger2) {
        if (r->contains("schema")) {
          auto schema = b.compile((*r)["schema"], pointer + "/schema");
          for (const std::string& mt : b.mediaTypes(*op, "produces"))
            spec.content.push_back(MediaSchema{mt, isJsonMediaType(mt) ? schema : nullptr});
        }
      } else if (r->contains("content")) {
        b.content((*r)["content"], pointer + "/content", &spec.content);
      }
      out->responses.push_back(std::move(spec));
    }
  }
  if (!b.ok) return nullptr;
  return out;
}

Finding checkParameters(const OperationSchemas& op, const message::HttpRequest& request,
                        std::string_view pathTemplate, std::string_view path) {
  for (const Parameter& p : op.parameters) {
    const std::string where = std::string(whereName(p.in)) + " parameter '" + excerpt(p.name) + "'";
    std::vector<std::string> raw = rawValues(p, request, pathTemplate, path);
    if (raw.empty()) {
      if (p.required)
        return Finding{Failure::kSchemaViolation, "the required " + where + " is missing"};
      continue;
    }
    if (!p.schema) continue;
    json value;
    if (p.type == "array") {
      std::vector<std::string> items;
      if (p.explode && p.style == "form") {
        items = raw;
      } else {
        const char delimiter = p.style == "spaceDelimited"  ? ' '
                               : p.style == "pipeDelimited" ? '|'
                               : p.style == "tabDelimited"  ? '\t'
                                                            : ',';
        items = split(raw.front(), delimiter);
      }
      value = json::array();
      for (const std::string& item : items) {
        auto v = coerce(item, p.itemsType);
        if (!v)
          return Finding{Failure::kSchemaViolation,
                         where + ": '" + excerpt(item) + "' is not a valid " + p.itemsType};
        value.push_back(std::move(*v));
      }
    } else {
      auto v = coerce(raw.front(), p.type);
      if (!v)
        return Finding{Failure::kSchemaViolation,
                       where + ": '" + excerpt(raw.front()) + "' is not a valid " + p.type};
      value = std::move(*v);
    }
    if (auto v = p.schema->check(value))
      return Finding{Failure::kSchemaViolation, describe(where, *v)};
  }
  return {};
}

Finding checkRequestBody(const OperationSchemas& op, std::string_view contentType,
                         std::string_view body) {
  if (body.empty()) {
    if (op.bodyRequired)
      return Finding{Failure::kSchemaViolation, "the operation requires a request body"};
    return {};
  }
  if (op.body.empty()) return {};
  const std::string mt = mediaTypeOf(contentType);
  const MediaSchema* media = matchMedia(op.body, mt);
  if (!media)
    return Finding{Failure::kUnsupportedMediaType, "Content-Type '" + excerpt(mt) +
                                                       "' is not one the operation takes (" +
                                                       excerpt(mediaList(op.body)) + ")"};
  if (!media->schema) return {};
  return jsonBody(*media->schema, body, "request body", Failure::kSchemaViolation);
}

Finding checkResponseHead(const OperationSchemas& op, int status, std::string_view contentType,
                          const CompiledSchema** schema) {
  *schema = nullptr;
  if (!op.responsesDeclared) return {};
  const std::string code = std::to_string(status);
  const std::string range = code.substr(0, 1) + "XX";
  const ResponseSpec* spec = nullptr;
  for (const std::string& want : {code, range, std::string("default")}) {
    for (const ResponseSpec& r : op.responses)
      if (r.status == want || (want == range && r.status == code.substr(0, 1) + "xx")) spec = &r;
    if (spec) break;
  }
  if (!spec)
    return Finding{Failure::kResponseSchemaViolation,
                   "the backend answered " + code + ", a status the definition does not declare"};
  if (spec->content.empty()) return {};
  const std::string mt = mediaTypeOf(contentType);
  const MediaSchema* media = matchMedia(spec->content, mt);
  if (!media)
    return Finding{Failure::kResponseSchemaViolation,
                   "the backend answered " + code + " with Content-Type '" + excerpt(mt) +
                       "', which the definition does not declare (" +
                       excerpt(mediaList(spec->content)) + ")"};
  *schema = media->schema.get();
  return {};
}

Finding checkResponseBody(const CompiledSchema& schema, std::string_view body) {
  return jsonBody(schema, body, "response body", Failure::kResponseSchemaViolation);
}

}  // namespace mgw::validation
