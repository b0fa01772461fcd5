#include "http/downstream_writer.h"

#include <ctime>
#include <vector>

#include "message/hop_by_hop.h"

namespace mgw::http {

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Status";
  }
}

const std::string& httpDate() {
  thread_local std::time_t cachedAt = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cachedAt) {
    char buf[64];
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cachedAt = now;
  }
  return cached;
}

boost::asio::awaitable<boost::system::error_code> writeReply(DownstreamWriter& writer,
                                                             const message::HttpResponse& reply,
                                                             bool keepAlive) {
  std::vector<FieldView> fields;
  fields.reserve(reply.headers.size() + 1);
  for (const auto& [name, value] : reply.headers) {
    if (message::isHopByHopHeader(name)) continue;  // the writer frames the answer, once
    fields.push_back(FieldView{name, value});
  }
  fields.push_back(FieldView{"Date", httpDate()});
  ResponseStart head;
  head.status = reply.status;
  head.reason = reasonPhrase(reply.status);
  head.fields = fields;
  head.body = reply.status == 204 ? BodyKind::kNone : BodyKind::kLength;
  head.contentLength = reply.body.size();
  head.keepAlive = keepAlive;
  const std::string_view body = reply.body;
  co_return co_await writer.writeHead(head, body, true);
}

}  // namespace mgw::http
