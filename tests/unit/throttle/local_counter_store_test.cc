#include "throttle/local_counter_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace mgw::throttle {
namespace {

using std::chrono::milliseconds;
constexpr std::int64_t kMs = 1000000;  // ns

struct FakeClock {
  std::atomic<std::int64_t> now{1000 * kMs};
  LocalCounterStore::Clock fn() {
    return [this] { return now.load(); };
  }
};

Hit hit(std::string key, std::int64_t limit, milliseconds window, bool enforce = true) {
  Hit h;
  h.key = std::move(key);
  h.limit = limit;
  h.window = window;
  h.enforce = enforce;
  return h;
}

TEST(LocalCounterStore, ExactlyLimitThenRefusedThenRoomAfterInterval) {
  FakeClock clock;
  LocalCounterStore store(clock.fn());
  const std::vector<Hit> hits{hit("a", 3, milliseconds(60000))};
  for (int i = 0; i < 3; ++i) {
    const Verdict v = store.chargeNow(hits);
    ASSERT_TRUE(v.allowed) << i;
    EXPECT_EQ(v.remaining, 2 - i);
  }
  Verdict refused = store.chargeNow(hits);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.refused, 0u);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.reset, milliseconds(20000));  // one emission interval: 60 s / 3
  clock.now += 20000 * kMs - 1;
  EXPECT_FALSE(store.chargeNow(hits).allowed);
  clock.now += 1;
  EXPECT_TRUE(store.chargeNow(hits).allowed);
  EXPECT_FALSE(store.chargeNow(hits).allowed);
  // A whole window later the full burst is back.
  clock.now += 60000 * kMs;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(store.chargeNow(hits).allowed) << i;
  EXPECT_FALSE(store.chargeNow(hits).allowed);
}

TEST(LocalCounterStore, UnevenIntervalStillAllowsExactlyTheCount) {
  FakeClock clock;
  LocalCounterStore store(clock.fn());
  const std::vector<Hit> hits{hit("seven", 7, milliseconds(60000))};  // 8571428.57... ns each
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(store.chargeNow(hits).allowed) << i;
  EXPECT_FALSE(store.chargeNow(hits).allowed);
}

TEST(LocalCounterStore, AllOrNothingAcrossCounters) {
  FakeClock clock;
  LocalCounterStore store(clock.fn());
  const Hit wide = hit("wide", 10, milliseconds(60000));
  const Hit narrow = hit("narrow", 2, milliseconds(60000));
  EXPECT_TRUE(store.chargeNow({wide, narrow}).allowed);
  EXPECT_TRUE(store.chargeNow({wide, narrow}).allowed);
  const Verdict v = store.chargeNow({wide, narrow});
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.refused, 1u);
  // "wide" was not charged by the refused request: 8 left, not 7.
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(store.chargeNow({wide}).allowed) << i;
  EXPECT_FALSE(store.chargeNow({wide}).allowed);
}

TEST(LocalCounterStore, FirstRefusingHitIsReportedAndTightestRemaining) {
  FakeClock clock;
  LocalCounterStore store(clock.fn());
  const Hit a = hit("a", 5, milliseconds(1000));
  const Hit b = hit("b", 2, milliseconds(1000));
  Verdict v = store.chargeNow({a, b});
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.remaining, 1);              // b's
  EXPECT_EQ(v.reset, milliseconds(500));  // b's emission interval: back to full in 500 ms
  store.chargeNow({b});
  v = store.chargeNow({a, b});
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.refused, 1u);
}

TEST(LocalCounterStore, NotEnforcedCountsWithoutRefusing) {
  FakeClock clock;
  LocalCounterStore store(clock.fn());
  const Hit soft = hit("soft", 2, milliseconds(60000), false);
  EXPECT_EQ(store.chargeNow({soft}).overQuota, 0u);
  EXPECT_EQ(store.chargeNow({soft}).overQuota, 0u);
  const Verdict v = store.chargeNow({soft});
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.overQuota, 1u);
  EXPECT_EQ(v.remaining, 0);
}

TEST(LocalCounterStore, IdleCountersExpire) {
  FakeClock clock;
  LocalCounterStore store(clock.fn());
  for (int i = 0; i < 1000; ++i)
    store.chargeNow({hit("k" + std::to_string(i), 5, milliseconds(1000))});
  EXPECT_EQ(store.size(), 1000u);
  clock.now += 200 * kMs + 1;  // one request of 5/s is back after 200 ms: each counter is idle
  // The incremental sweep alone (charges on other keys) empties the map over time.
  for (int i = 0; i < 5000 && store.size() > 1; ++i)
    store.chargeNow({hit("busy", 1000000, milliseconds(1000))});
  EXPECT_LE(store.size(), 1u);
  for (int i = 0; i < 10; ++i)
    store.chargeNow({hit("x" + std::to_string(i), 5, milliseconds(1000))});
  clock.now += 1000 * kMs;
  store.sweep();
  EXPECT_EQ(store.size(), 0u);
  EXPECT_GT(LocalCounterStore::bytesPerCounter(40), 40u);
  EXPECT_LT(LocalCounterStore::bytesPerCounter(40), 200u);
}

TEST(LocalCounterStore, ExactUnderManyThreads) {
  LocalCounterStore store;  // the real clock: 1000 per hour never refills within the test
  const Hit shared = hit("shared", 1000, milliseconds(3600000));
  constexpr int kThreads = 16;
  constexpr int kEach = 500;
  std::atomic<int> allowed{0};
  std::atomic<int> allowedPair{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const Hit own = hit("own" + std::to_string(t % 4), 100, milliseconds(3600000));
      for (int i = 0; i < kEach; ++i) {
        if (store.chargeNow({shared}).allowed) ++allowed;
        // Two counters at once, across shards: all or nothing, still exact.
        if (store.chargeNow({own, hit("pair", 250, milliseconds(3600000))}).allowed) ++allowedPair;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 1000);
  EXPECT_EQ(allowedPair.load(), 250);
}

TEST(LocalCounterStore, ChargeCompletesInline) {
  LocalCounterStore store;
  bool called = false;
  store.charge({hit("inline", 1, milliseconds(1000))}, [&](Verdict v) {
    called = true;
    EXPECT_TRUE(v.allowed);
  });
  EXPECT_TRUE(called);
}

}  // namespace
}  // namespace mgw::throttle
