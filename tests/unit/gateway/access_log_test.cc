// The access log line, formatted straight into a buffer, is byte for byte the line the
// nlohmann::json object used to produce (same fields, order, numbers and escaping).
#include "gateway/access_log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace mgw::gateway {
namespace {

using nlohmann::json;

// The line as it was built before (gateway_routes.cc and log::access), the time left out.
std::string reference(const AccessEntry& entry, const message::HttpRequest& req,
                      const message::Outcome& out, std::chrono::nanoseconds elapsed,
                      const std::string& time) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  const Failure failure = entry.failure != Failure::kNone ? entry.failure : out.failure;
  json line = {{"client", req.clientAddress},
               {"method", req.method},
               {"path", req.path},
               {"protocol", req.http2 ? "HTTP/2" : "HTTP/1.1"},
               {"status", out.status},
               {"latencyMs", static_cast<double>(micros) / 1000.0},
               {"trace_id", entry.traceId},
               {"request_id", entry.requestId},
               {"bytesIn", out.bytesIn},
               {"bytesOut", out.bytesOut}};
  if (out.upstreamNanos >= 0)
    line["upstreamLatencyMs"] = static_cast<double>(out.upstreamNanos / 1000) / 1000.0;
  if (!entry.api.empty()) line["api"] = entry.api;
  if (failure != Failure::kNone) line["reason"] = failureName(failure);
  const std::string& detail = entry.reason.empty() ? out.reason : entry.reason;
  if (!detail.empty()) line["detail"] = detail;
  if (!entry.keyId.empty()) line["key"] = entry.keyId;
  json full = {{"time", time}, {"type", "access"}};
  full.update(line);
  return full.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The formatted line with its time replaced by `time` (the clock moves between the two).
std::string formatted(const AccessEntry& entry, const message::HttpRequest& req,
                      const message::Outcome& out, std::chrono::nanoseconds elapsed,
                      std::string* time) {
  std::string line;
  formatAccessLine(entry, req, out, elapsed, line);
  const auto at = line.find("\"time\":\"");
  EXPECT_NE(at, std::string::npos);
  *time = line.substr(at + 8, 24);
  return line;
}

struct Case {
  std::string path;
  std::string reason;
  std::int64_t elapsedNanos;
  std::int64_t upstreamNanos;
  Failure failure;
};

TEST(AccessLogTest, TheSameLineAsTheJsonObjectItReplaces) {
  const Case cases[] = {
      {"/pizzashack/1.0.0/menu", "", 1'234'567, 987'654, Failure::kNone},
      {"/a b/\"quoted\"\\back", "no key in any declared location", 0, -1,
       Failure::kMissingCredentials},
      {std::string("/ctl\x01\x1f\t\n\r\b\f\x7f", 12), "", 100'000'000'000, 0, Failure::kNone},
      {"/utf8/\xc3\xa9\xe2\x82\xac", "d\xc3\xa9tail", 1'000, 1'000, Failure::kBackendTimeout},
      {"/invalid/\xff\xfe\xc3", "bad \xe2\x82", 999, 999'999, Failure::kNone},
      {"", "", 5'000'000'000, 123'456'789'012, Failure::kApiThrottled},
      // Sixteen bytes are checked at a time: each kind of byte that needs the library, inside a
      // block of sixteen, at its edges, and in the tail after the blocks.
      {"/abcdefghijklmno\x7fpqrstuvwxyz01234", "", 1, 1, Failure::kNone},
      {"/abcdefghijklmnopqrstuvwxyz01234\"", "0123456789abcdef\\", 1, 1, Failure::kNone},
      {"\x1f/abcdefghijklmnopqrstuvwxyz012345", "", 1, 1, Failure::kNone},
      {"/abcdefghijklmnopqrstuvwxyz/\xc3\xa9", "0123456789abcdef\x80", 1, 1, Failure::kNone},
      {"/abcdefghijklmnopqrstuvwxyz0123456789 ~!", "", 1, 1, Failure::kNone},
  };
  for (const Case& c : cases) {
    AccessEntry entry;
    entry.api = c.path.empty() ? "" : "PizzaShackAPI:1.0.0";
    entry.failure = c.failure;
    entry.reason = c.reason;
    entry.keyId = c.failure == Failure::kNone ? "jti-1" : "";
    entry.traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    entry.requestId = c.path.empty() ? "" : "req-\"1\"";
    message::HttpRequest req;
    req.method = c.failure == Failure::kNone ? "GET" : "DELETE";
    req.path = c.path;
    req.clientAddress = "2001:db8::1";
    message::Outcome out;
    out.status = c.failure == Failure::kNone ? 200 : faultFor(c.failure).httpStatus;
    out.upstreamNanos = c.upstreamNanos;
    out.bytesIn = 123;
    out.bytesOut = 18'446'744'073'709'551'615ull;
    out.reason = "transport said";
    std::string time;
    const auto elapsed = std::chrono::nanoseconds(c.elapsedNanos);
    const std::string line = formatted(entry, req, out, elapsed, &time);
    EXPECT_EQ(line, reference(entry, req, out, elapsed, time)) << c.path;
    EXPECT_TRUE(json::accept(line)) << line;
  }
}

TEST(AccessLogTest, LatenciesReadAsTheLibraryWroteThem) {
  for (std::int64_t micros :
       {0LL, 1LL, 10LL, 999LL, 1000LL, 1500LL, 100'000'000LL, 123'456'789LL}) {
    AccessEntry entry;
    message::HttpRequest req;
    message::Outcome out;
    out.upstreamNanos = micros * 1000;
    std::string time;
    const auto elapsed = std::chrono::microseconds(micros);
    const std::string line = formatted(entry, req, out, elapsed, &time);
    EXPECT_EQ(line, reference(entry, req, out, elapsed, time)) << micros;
  }
}

// appendMillis writes its digits itself below kExactMillisBelow: every value there is checked
// against the library's Grisu2 (the proof that the line did not change), and values from there
// on are the library's own.
TEST(AccessLogTest, MillisecondsAreTheLibrarysForEveryLatencyBelowTheLimit) {
  std::string mine, theirs;
  auto library = [](std::int64_t micros, std::string& out) {
    char buf[64];
    out.assign(buf, nlohmann::detail::to_chars(buf, buf + sizeof buf,
                                               static_cast<double>(micros) / 1000.0));
  };
  std::int64_t differing = 0;
  for (std::int64_t micros = 0; micros < kExactMillisBelow; ++micros) {
    mine.clear();
    appendMillis(mine, micros);
    library(micros, theirs);
    if (mine != theirs && differing++ < 5) ADD_FAILURE() << micros << ": " << mine << " " << theirs;
  }
  EXPECT_EQ(differing, 0);
  for (const std::int64_t micros : std::initializer_list<std::int64_t>{
           kExactMillisBelow, kExactMillisBelow + 1, 123'456'789'012, -1}) {
    mine.clear();
    appendMillis(mine, micros);
    library(micros, theirs);
    EXPECT_EQ(mine, theirs) << micros;
  }
}

// Not a benchmark harness, a guard: formatting must stay well below what building the JSON object
// cost (printed, so a run shows the numbers; see the commit message for a quiet-machine run).
TEST(AccessLogTest, FormattingIsCheaperThanBuildingAJsonObject) {
  AccessEntry entry;
  entry.api = "PizzaShackAPI:1.0.0";
  entry.keyId = "0b6c5c2e-6a8e-4c2a-9f1e-2d7c1f0e3a4b";
  entry.traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  entry.requestId = "5f0c6b1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
  message::HttpRequest req;
  req.method = "GET";
  req.path = "/pizzashack/1.0.0/menu";
  req.clientAddress = "127.0.0.1";
  message::Outcome out;
  out.status = 200;
  out.upstreamNanos = 812'345;
  out.bytesIn = 312;
  out.bytesOut = 1620;
  const auto elapsed = std::chrono::microseconds(1234);
  constexpr int kRounds = 20000;
  std::size_t sink = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    std::string line;
    formatAccessLine(entry, req, out, elapsed, line);
    sink += line.size();
  }
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) sink += reference(entry, req, out, elapsed, "t").size();
  auto t2 = std::chrono::steady_clock::now();
  const double now = std::chrono::duration<double, std::nano>(t1 - t0).count() / kRounds;
  const double before = std::chrono::duration<double, std::nano>(t2 - t1).count() / kRounds;
  std::printf("access line: %.0f ns formatted, %.0f ns as a json object (%zu)\n", now, before,
              sink % 10);
  EXPECT_LT(now, before);
}

}  // namespace
}  // namespace mgw::gateway
