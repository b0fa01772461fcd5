#include "observability/prometheus_text.h"

#include <gtest/gtest.h>

#include "observability/metrics.h"

namespace mgw::observability {
namespace {

TEST(PrometheusText, EscapesLabelValues) {
  EXPECT_EQ(escapeLabelValue("plain"), "plain");
  EXPECT_EQ(escapeLabelValue("a\"b"), "a\\\"b");
  EXPECT_EQ(escapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(escapeLabelValue("a\nb"), "a\\nb");
  EXPECT_EQ(escapeLabelValue("\\\"\n"), "\\\\\\\"\\n");
}

TEST(PrometheusText, EscapesHelpButNotQuotes) {
  EXPECT_EQ(escapeHelp("say \"hi\"\\\n"), "say \"hi\"\\\\\\n");
}

TEST(PrometheusText, FormatsNumbersAsPrometheusReadsThem) {
  EXPECT_EQ(formatDouble(0.0001), "0.0001");
  EXPECT_EQ(formatDouble(0.25), "0.25");
  EXPECT_EQ(formatDouble(10), "10");
  EXPECT_EQ(formatDouble(0.00001), "1e-05");
  EXPECT_EQ(formatDouble(1234.5), "1234.5");
  EXPECT_EQ(formatDouble(1.0 / 0.0), "+Inf");
  EXPECT_EQ(formatDouble(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(formatDouble(0.0 / 0.0), "NaN");
}

TEST(PrometheusText, WritesFamiliesAndSamples) {
  std::string out;
  writeFamily(out, "mgw_x_total", "counter", "Things.\nMore");
  writeSample(out, "mgw_x_total", {{"a", "1"}, {"b", "q\""}}, std::uint64_t{7});
  writeSample(out, "mgw_y", {}, 0.5);
  EXPECT_EQ(out,
            "# HELP mgw_x_total Things.\\nMore\n# TYPE mgw_x_total counter\n"
            "mgw_x_total{a=\"1\",b=\"q\\\"\"} 7\nmgw_y 0.5\n");
}

TEST(Histogram, BucketsAreCumulativeWithInf) {
  Histogram h;
  h.observe(std::chrono::microseconds(50));   // <= 0.0001
  h.observe(std::chrono::microseconds(100));  // == 0.0001: le is inclusive
  h.observe(std::chrono::milliseconds(3));    // <= 0.005
  h.observe(std::chrono::seconds(20));        // +Inf only
  const auto s = h.snapshot();
  EXPECT_EQ(s.cumulative[0], 2u);
  EXPECT_EQ(s.cumulative[4], 2u);                           // le 0.0025
  EXPECT_EQ(s.cumulative[5], 3u);                           // le 0.005
  EXPECT_EQ(s.cumulative[kLatencyBuckets.size() - 1], 3u);  // le 10
  EXPECT_EQ(s.cumulative[kLatencyBuckets.size()], 4u);      // +Inf
  EXPECT_EQ(s.count, 4u);
  EXPECT_NEAR(s.sumSeconds, 20.00315, 1e-9);
}

TEST(Registry, RendersCountersWithBoundedLabels) {
  Registry r;
  const ApiId pizza = r.registerApi("Pizza", "1.0.0");
  EXPECT_EQ(r.registerApi("Pizza", "1.0.0"), pizza);
  EXPECT_NE(pizza, kNoApiId);
  r.countRequest(pizza, methodOf("GET"), 200, Failure::kNone);
  r.countRequest(pizza, methodOf("GET"), 200, Failure::kNone);
  r.countRequest(kNoApiId, methodOf("BREW"), 404, Failure::kNoApi);
  r.countKeyValidation(Failure::kExpired);
  r.observeRequest(pizza, std::chrono::milliseconds(2));
  const std::string page = r.render(ScrapeGauges{3, "9.9"});
  EXPECT_NE(page.find("mgw_requests_total{api=\"Pizza\",version=\"1.0.0\",method=\"GET\","
                      "status=\"200\",fault=\"none\",reason=\"none\",protocol=\"HTTP/1.1\"} 2\n"),
            std::string::npos)
      << page;
  EXPECT_NE(
      page.find("mgw_requests_total{api=\"none\",version=\"none\",method=\"other\","
                "status=\"404\",fault=\"900404\",reason=\"no_api\",protocol=\"HTTP/1.1\"} 1\n"),
      std::string::npos)
      << page;
  EXPECT_NE(page.find("mgw_key_validations_total{result=\"expired\"} 1\n"), std::string::npos);
  EXPECT_NE(page.find("mgw_key_validations_total{result=\"valid\"} 0\n"), std::string::npos);
  EXPECT_NE(page.find("mgw_request_duration_seconds_bucket{api=\"Pizza\",version=\"1.0.0\","
                      "le=\"+Inf\"} 1\n"),
            std::string::npos);
  EXPECT_NE(page.find("mgw_request_duration_seconds_count{api=\"Pizza\",version=\"1.0.0\"} 1\n"),
            std::string::npos);
  EXPECT_NE(page.find("mgw_key_cache_entries 3\n"), std::string::npos);
  EXPECT_NE(page.find("mgw_build_info{version=\"9.9\"} 1\n"), std::string::npos);
  EXPECT_NE(page.find("mgw_throttled_requests_total{level=\"subscription\"} 0\n"),
            std::string::npos);
  EXPECT_NE(page.find("process_open_fds "), std::string::npos);
  EXPECT_NE(page.find("process_start_time_seconds "), std::string::npos);
}

TEST(Registry, OffCountsNothing) {
  Registry r;
  r.setEnabled(false);
  r.countRequest(kNoApiId, Method::kGet, 200, Failure::kNone);
  r.countLoginFailure();
  const std::string page = r.render(ScrapeGauges{});
  EXPECT_EQ(page.find("mgw_requests_total{"), std::string::npos);
  EXPECT_NE(page.find("mgw_login_failures_total 0\n"), std::string::npos);
}

TEST(Registry, MethodLabelIsAFixedSet) {
  EXPECT_EQ(methodName(methodOf("GET")), "GET");
  EXPECT_EQ(methodName(methodOf("get")), "other");
  EXPECT_EQ(methodName(methodOf("PROPFIND")), "other");
  EXPECT_EQ(methodName(methodOf("PATCH")), "PATCH");
}

}  // namespace
}  // namespace mgw::observability
