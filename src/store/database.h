// The embedded store's one SQLite connection: opened durable (WAL, synchronous=FULL, foreign keys),
// schema migrated step by step at open. Trusts nothing in the file it opens beyond SQLite itself.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/status.h"

namespace mgw::store {

// Every SQLite failure surfaces as a StoreError carrying the extended result code.
class StoreError : public std::runtime_error {
 public:
  StoreError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const {
    return code_;
  }  // SQLite extended result code, or SQLITE_ERROR for our own checks
  bool isUniqueViolation() const {
    return code_ == SQLITE_CONSTRAINT_UNIQUE || code_ == SQLITE_CONSTRAINT_PRIMARYKEY;
  }
  bool isForeignKeyViolation() const { return code_ == SQLITE_CONSTRAINT_FOREIGNKEY; }

 private:
  int code_;
};

// What a store operation answers: kNone and a value, or the reason it failed.
// kConflict: a unique row already exists; kNotFound: no such row (or a reference to none);
// kInternalError: SQLite failed (logged with the operation's name, never with a key value).
template <typename T>
struct StoreResult {
  Failure failure = Failure::kNone;
  T value{};
  bool ok() const { return failure == Failure::kNone; }
};

// Maps a StoreError to the Failure a store method answers, and logs the ones that are not the
// caller's doing (anything but conflicts and dangling references).
Failure failureFromStoreError(const StoreError& error, std::string_view operation);

// A prepared statement, finalized on destruction. Indexes are 1-based for bind, 0-based for
// columns, as in the SQLite C API. Any SQLite error throws StoreError.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Distinct names rather than overloads: a string literal must never silently bind as a blob
  // or an optional.
  Statement& bindInt(int index, int64_t value);
  Statement& bindText(int index, std::string_view text);
  Statement& bindBlob(int index, std::string_view bytes);
  Statement& bindOptionalText(int index, const std::optional<std::string>& text);  // nullopt = NULL
  Statement& bindNull(int index);

  // true: a row is ready to read; false: the statement is done.
  [[nodiscard]] bool step();
  // Steps to completion; for statements that return no rows.
  void run();
  void reset();

  int64_t columnInt(int column) const;
  std::string columnText(int column) const;                         // NULL reads as ""
  std::string columnBlob(int column) const;                         // NULL reads as ""
  std::optional<std::string> columnOptionalText(int column) const;  // NULL reads as nullopt

 private:
  void check(int rc, std::string_view what) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Thread-safe: one connection behind one mutex. Writes are rare (key management, revocations) and
// the gateway answers requests from its in-memory copy, so serialising the store costs nothing.
class Database {
 public:
  // The schema version this build writes. Migration N takes a database from version N-1 to N.
  static constexpr int kSchemaVersion = 6;

  // Opens (creating the parent folder and, mode 0600, the file when missing), refuses a schema
  // newer than kSchemaVersion and migrates an older one. Throws StoreError with a message that
  // names the file and what to do.
  explicit Database(std::string path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }

  // Access to the connection while the store's mutex is held. Only handed out by read()/write(),
  // so no statement can run outside the lock or outside a transaction.
  class Session {
   public:
    Statement prepare(std::string_view sql) const { return Statement(db_, sql); }
    // One or more statements without parameters (schema changes).
    void exec(std::string_view sql) const;
    int64_t changes() const { return sqlite3_changes64(db_); }

   private:
    friend class Database;
    explicit Session(sqlite3* db) : db_(db) {}
    sqlite3* db_;
  };

  // Runs fn(const Session&) in a read transaction (one consistent snapshot across statements).
  template <typename Fn>
  auto read(Fn&& fn) {
    return inTransaction("BEGIN", std::forward<Fn>(fn));
  }

  // Runs fn(const Session&) in a write transaction (BEGIN IMMEDIATE: the write lock is taken up
  // front, so a concurrent writer waits on busy_timeout instead of failing at COMMIT). Committed
  // when fn returns (durable on disk: synchronous=FULL), rolled back when it throws.
  template <typename Fn>
  auto write(Fn&& fn) {
    return inTransaction("BEGIN IMMEDIATE", std::forward<Fn>(fn));
  }

 private:
  template <typename Fn>
  auto inTransaction(const char* begin, Fn&& fn) {
    // One connection behind one mutex: writes are rare (key management, revocations) and the
    // gateway serves every request from its in-memory index, so the store is never on the hot
    // path and serialising it costs nothing while keeping SQLite's threading rules trivial.
    std::lock_guard<std::mutex> lock(mutex_);
    Session session(db_);
    session.exec(begin);
    try {
      if constexpr (std::is_void_v<decltype(fn(session))>) {
        fn(session);
        session.exec("COMMIT");
      } else {
        auto result = fn(session);
        session.exec("COMMIT");
        return result;
      }
    } catch (...) {
      rollbackQuietly();
      throw;
    }
  }

  void rollbackQuietly() noexcept;
  void configure();
  void migrate();

  std::string path_;
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
};

}  // namespace mgw::store
