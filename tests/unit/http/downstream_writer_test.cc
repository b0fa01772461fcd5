// writeReply: what a micro-gw answer hands to any DownstreamWriter (fields less the hop-by-hop
// ones, Date, the framing information), checked on a recording writer.
#include "http/downstream_writer.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <vector>

namespace mgw::http {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

class RecordingWriter final : public DownstreamWriter {
 public:
  asio::awaitable<error_code> writeInterim(int, std::string_view,
                                           std::span<const FieldView>) override {
    ++interims;
    co_return error_code{};
  }
  asio::awaitable<error_code> writeHead(const ResponseStart& head, std::string_view firstBody,
                                        bool last) override {
    status = head.status;
    reason = head.reason;
    for (const auto& f : head.fields) fields.emplace_back(f.name, f.value);
    body = head.body;
    length = head.contentLength;
    keepAliveAsked = head.keepAlive;
    first = firstBody;
    firstIsLast = last;
    co_return error_code{};
  }
  asio::awaitable<error_code> writeBody(std::string_view, bool) override { co_return error_code{}; }
  asio::awaitable<error_code> writeTrailers(std::span<const FieldView>) override {
    co_return error_code{};
  }
  asio::awaitable<error_code> end() override { co_return error_code{}; }
  bool keepAlive() const override { return keepAliveAsked; }
  std::uint64_t bytesWritten() const override { return 0; }

  int interims = 0;
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> fields;
  BodyKind body = BodyKind::kUntilClose;
  std::uint64_t length = 0;
  bool keepAliveAsked = false;
  std::string first;
  bool firstIsLast = false;
};

void run(RecordingWriter& w, const message::HttpResponse& reply, bool keepAlive) {
  asio::io_context io;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { co_await writeReply(w, reply, keepAlive); },
      asio::detached);
  io.run();
}

TEST(DownstreamWriterTest, ReplyWithBody) {
  message::HttpResponse reply;
  reply.status = 401;
  reply.setContent("{}", "application/json");
  reply.headers.emplace("Connection", "keep-alive");  // the writer's business, never the reply's
  reply.headers.emplace("Content-Length", "999");
  reply.headers.emplace("WWW-Authenticate", "Basic");
  RecordingWriter w;
  run(w, reply, true);
  EXPECT_EQ(w.status, 401);
  EXPECT_EQ(w.reason, "Unauthorized");
  ASSERT_EQ(w.fields.size(), 3u);
  EXPECT_EQ(w.fields[0].first, "Content-Type");
  EXPECT_EQ(w.fields[1].first, "WWW-Authenticate");
  EXPECT_EQ(w.fields[2].first, "Date");
  EXPECT_EQ(w.fields[2].second, httpDate());
  EXPECT_EQ(w.body, BodyKind::kLength);
  EXPECT_EQ(w.length, 2u);
  EXPECT_EQ(w.first, "{}");
  EXPECT_TRUE(w.firstIsLast);
  EXPECT_TRUE(w.keepAliveAsked);
}

TEST(DownstreamWriterTest, NoContentHasNoLength) {
  message::HttpResponse reply;
  reply.status = 204;
  RecordingWriter w;
  run(w, reply, false);
  EXPECT_EQ(w.body, BodyKind::kNone);
  EXPECT_EQ(w.reason, "No Content");
  EXPECT_FALSE(w.keepAliveAsked);
}

TEST(DownstreamWriterTest, ReasonPhrases) {
  EXPECT_EQ(reasonPhrase(200), "OK");
  EXPECT_EQ(reasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reasonPhrase(599), "Status");
  EXPECT_EQ(httpDate().size(), 29u);  // "Sun, 06 Nov 1994 08:49:37 GMT"
}

}  // namespace
}  // namespace mgw::http
