// The access log's batches: lines wait at most kAccessFlushMs, are written whole, and never after a
// later log line. stderr is pointed at a file for the test.
#include "common/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace mgw::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "mgw-log-test-" + std::to_string(::getpid());
    FILE* f = std::fopen(path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(::fileno(f), STDERR_FILENO);
    std::fclose(f);
  }
  void TearDown() override {
    flushAccess();
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    std::remove(path_.c_str());
  }
  std::string written() {
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string path_;
  int saved_ = -1;
};

TEST_F(LogTest, AccessLinesAreWrittenInABatchSoonAfter) {
  accessLine(R"({"n":1})");
  accessLine(R"({"n":2})");
  flushAccess();
  EXPECT_EQ(written(), "{\"n\":1}\n{\"n\":2}\n");
  accessLine(R"({"n":3})");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (written().find("{\"n\":3}\n") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(kAccessFlushMs));
  EXPECT_EQ(written(), "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
}

TEST_F(LogTest, AnotherLogLineComesAfterTheAccessLinesBeforeIt) {
  accessLine(R"({"type":"access"})");
  warn("later");
  const std::string text = written();
  const auto access = text.find("\"access\"");
  const auto later = text.find("\"later\"");
  ASSERT_NE(access, std::string::npos);
  ASSERT_NE(later, std::string::npos);
  EXPECT_LT(access, later);
}

TEST_F(LogTest, ABigBatchIsWrittenWithoutWaiting) {
  const std::string line(1000, 'x');
  for (int i = 0; i < 70; ++i) accessLine(line);  // past 64 KiB
  EXPECT_GE(written().size(), 64u * 1024);
}

TEST(TimestampTest, UtcWithMilliseconds) {
  std::string t = "x";
  appendTimestamp(t);
  ASSERT_EQ(t.size(), 25u);
  EXPECT_EQ(t[5], '-');
  EXPECT_EQ(t[11], 'T');
  EXPECT_EQ(t.back(), 'Z');
}

}  // namespace
}  // namespace mgw::log
