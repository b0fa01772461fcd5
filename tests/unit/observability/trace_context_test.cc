#include "observability/trace_context.h"

#include <gtest/gtest.h>

#include <set>

namespace mgw::observability {
namespace {

constexpr const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContext, ParsesTheSpecExample) {
  auto tp = parseTraceparent(kValid);
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(tp->parentId, "00f067aa0ba902b7");
  EXPECT_EQ(tp->flags, 1);
}

TEST(TraceContext, RefusesWhatTheSpecRefuses) {
  const char* bad[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",    // short
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // 00 with more
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // uppercase
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero parent id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
      "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version not hex
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // separator
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",   // not hex
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",   // flags not hex
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // later version, no '-'
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // leading space
  };
  for (const char* v : bad) EXPECT_FALSE(parseTraceparent(v)) << v;
}

TEST(TraceContext, ALaterVersionIsReadAs00) {
  auto tp = parseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-next");
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09"));
}

TEST(TraceContext, GeneratesValidDistinctIds) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string trace = newTraceId();
    const std::string span = newSpanId();
    ASSERT_EQ(trace.size(), 32u);
    ASSERT_EQ(span.size(), 16u);
    const std::string header = formatTraceparent(trace, span, 1);
    auto tp = parseTraceparent(header);
    ASSERT_TRUE(tp) << header;
    EXPECT_EQ(tp->traceId, trace);
    EXPECT_EQ(tp->parentId, span);
    seen.insert(trace);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(formatTraceparent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 0),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
}

// The flags are written two hex digits per byte value (a table): every value reads back.
TEST(TraceContext, EveryFlagsByteIsWrittenAsItsTwoHexDigits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int flags = 0; flags < 256; ++flags) {
    const std::string header = formatTraceparent(
        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", static_cast<std::uint8_t>(flags));
    EXPECT_EQ(header.substr(53), std::string({kHex[flags >> 4], kHex[flags & 15]})) << flags;
    auto tp = parseTraceparent(header);
    ASSERT_TRUE(tp) << header;
    EXPECT_EQ(tp->flags, flags);
  }
}

TEST(TraceContext, RequestIds) {
  EXPECT_TRUE(isSaneRequestId("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"));
  EXPECT_TRUE(isSaneRequestId("req_1:2.3+4/5="));
  EXPECT_FALSE(isSaneRequestId(""));
  EXPECT_FALSE(isSaneRequestId(std::string(129, 'a')));
  EXPECT_TRUE(isSaneRequestId(std::string(128, 'a')));
  EXPECT_FALSE(isSaneRequestId("a b"));
  EXPECT_FALSE(isSaneRequestId("a\"b"));
  EXPECT_FALSE(isSaneRequestId("a\x01"));
  const std::string id = newRequestId();
  EXPECT_EQ(id.size(), 36u);
  EXPECT_TRUE(isSaneRequestId(id));
  EXPECT_EQ(id[14], '4');
  for (std::size_t dash : {8u, 13u, 18u, 23u}) EXPECT_EQ(id[dash], '-') << id;
  EXPECT_NE(std::string_view("89ab").find(id[19]), std::string_view::npos) << id;
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef-"), std::string::npos) << id;
  EXPECT_NE(newRequestId(), id);
}

// A request without trace fields starts a trace: a traceparent naming the new trace id and the
// gateway's span, and a new request id.
TEST(TraceContext, StartsATraceWithoutTraceFields) {
  const RequestTrace trace = traceRequest({}, {});
  auto tp = parseTraceparent(trace.traceparent);
  ASSERT_TRUE(tp) << trace.traceparent;
  EXPECT_EQ(tp->traceId, trace.traceId);
  EXPECT_EQ(tp->parentId.size(), 16u);
  EXPECT_EQ(tp->flags, 1);
  EXPECT_FALSE(trace.keepTracestate);
  EXPECT_EQ(trace.requestId.size(), 36u);
  const RequestTrace continued = traceRequest({kValid}, {"req-1"});
  EXPECT_EQ(continued.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(parseTraceparent(continued.traceparent)->parentId, "00f067aa0ba902b7");
  EXPECT_EQ(continued.requestId, "req-1");
}

}  // namespace
}  // namespace mgw::observability
