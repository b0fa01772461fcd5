#include "common/log.h"

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>

namespace mgw::log {
namespace {
std::atomic<Level> gMinimum{Level::kInfo};

std::string timestamp() {
  std::string out;
  appendTimestamp(out);
  return out;
}

void writeAll(const char* data, std::size_t left) {
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed or full log must never stop a request
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

// Access lines waiting to be written. The flusher thread sleeps on the condition variable while
// nothing waits (an idle gateway costs no wake-ups), and writes kAccessFlushMs after a first line.
class AccessBatch {
 public:
  static constexpr std::size_t kFlushBytes = 64 * 1024;

  void add(std::string_view line) {
    bool full = false;
    {
      std::lock_guard lock(mutex_);
      const bool first = waiting_.empty();
      waiting_.append(line);
      waiting_ += '\n';
      full = waiting_.size() >= kFlushBytes;
      if (!started_) {
        started_ = true;
        std::thread([this] { run(); }).detach();  // ends with the process (see accessBatch)
      }
      if (first && !full) wake_.notify_one();
    }
    if (full) flush();
  }

  // The write lock keeps batches in order when the flusher and a caller flush at once.
  void flush() {
    std::lock_guard write(writeMutex_);
    {
      std::lock_guard lock(mutex_);
      if (waiting_.empty()) return;
      writing_.swap(waiting_);
    }
    writeAll(writing_.data(), writing_.size());
    writing_.clear();
    if (writing_.capacity() > 4 * kFlushBytes) writing_.shrink_to_fit();
  }

 private:
  [[noreturn]] void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return !waiting_.empty(); });
      // Lines that come within the next kAccessFlushMs share this batch.
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(kAccessFlushMs));
      flush();
      lock.lock();
    }
  }

  std::mutex writeMutex_;  // taken before mutex_
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string waiting_;
  std::string writing_;  // guarded by writeMutex_
  bool started_ = false;
};

// Never destroyed: a static destructor that logs must still find it. What waits is written at
// exit (std::exit, a return from main); the flusher thread ends with the process.
AccessBatch& accessBatch() {
  static AccessBatch* batch = [] {
    auto* b = new AccessBatch;
    std::atexit([] { accessBatch().flush(); });
    return b;
  }();
  return *batch;
}

}  // namespace

void appendTimestamp(std::string& out) {
  // Called for every access line: the "YYYY-MM-DDTHH:MM:SS" part is formatted once a second per
  // thread (gmtime_r and snprintf cost more than the rest of the line), the milliseconds by hand.
  thread_local std::time_t cachedSecond = -1;
  thread_local char cached[32];
  thread_local std::size_t cachedSize = 0;
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  if (secs != cachedSecond) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    const int n =
        std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cachedSize = n > 0 ? std::min(static_cast<std::size_t>(n), sizeof cached - 1) : 0;
    cachedSecond = secs;
  }
  const int m = ms < 0 ? 0 : ms;
  const char tail[] = {'.', static_cast<char>('0' + m / 100), static_cast<char>('0' + m / 10 % 10),
                       static_cast<char>('0' + m % 10), 'Z'};
  out.append(cached, cachedSize);
  out.append(tail, sizeof tail);
}

namespace {

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void emit(const nlohmann::json& line) {
  // replace invalid UTF-8 rather than throw: a hostile path must not crash logging.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  // Access lines of earlier requests first, so the log keeps the order of events.
  accessBatch().flush();
  // One write(2) per line: whole lines never interleave across threads, and no lock is held.
  writeAll(text.data(), text.size());
}
}  // namespace

void setMinimumLevel(Level level) { gMinimum = level; }

void write(Level level, std::string_view message, const nlohmann::json& fields) {
  if (level < gMinimum.load()) return;
  nlohmann::json line = {{"time", timestamp()}, {"level", levelName(level)}, {"msg", message}};
  if (fields.is_object()) line.update(fields);
  emit(line);
}

void accessLine(std::string_view line) { accessBatch().add(line); }

void flushAccess() { accessBatch().flush(); }

}  // namespace mgw::log
