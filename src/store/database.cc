#include "store/database.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/log.h"

namespace mgw::store {
namespace {

// The schema's history. Never edit a released step: add the next one. Each runs in its own
// transaction together with the PRAGMA user_version bump, so a crash leaves the database at
// exactly one known version.
struct Migration {
  int version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
      -- Revoked signed keys (SPEC section 8). expires_at: the key's exp, 0 = never expires.
      CREATE TABLE revoked_jtis (
        jti        TEXT PRIMARY KEY NOT NULL,
        sub        TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_by TEXT NOT NULL,
        revoked_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- "Every key of sub issued before issued_before is revoked"; only the highest is kept.
      CREATE TABLE subject_watermarks (
        sub           TEXT PRIMARY KEY NOT NULL,
        issued_before INTEGER NOT NULL,
        revoked_by    TEXT NOT NULL,
        revoked_at    INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- API-bound opaque keys: only a keyed BLAKE2b hash of the value is stored.
      CREATE TABLE opaque_keys (
        id                TEXT PRIMARY KEY NOT NULL,
        name              TEXT NOT NULL,
        owner             TEXT NOT NULL,
        api_name          TEXT NOT NULL,
        api_version       TEXT NOT NULL,
        key_type          TEXT NOT NULL CHECK (key_type IN ('PRODUCTION', 'SANDBOX')),
        key_hash          BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32),
        last_four         TEXT NOT NULL,
        created_at        INTEGER NOT NULL,
        expires_at        INTEGER NOT NULL DEFAULT 0,
        permitted_ip      TEXT NOT NULL DEFAULT '',
        permitted_referer TEXT NOT NULL DEFAULT '',
        revoked           INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
        revoked_at        INTEGER NOT NULL DEFAULT 0
      );
    )sql"},
    {2, R"sql(
      -- Applications and their subscriptions; an opaque key may be associated with one application.
      CREATE TABLE applications (
        id         TEXT PRIMARY KEY NOT NULL,
        name       TEXT NOT NULL,
        owner      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (owner, name)
      );
      CREATE TABLE subscriptions (
        application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        api_name       TEXT NOT NULL,
        api_version    TEXT NOT NULL,
        created_at     INTEGER NOT NULL,
        PRIMARY KEY (application_id, api_name, api_version)
      ) WITHOUT ROWID;
      ALTER TABLE opaque_keys ADD COLUMN application_id TEXT
        REFERENCES applications(id) ON DELETE SET NULL;
    )sql"},
    {3, R"sql(
      -- purgeExpired scans by expiry; listing is by owner; ON DELETE SET NULL needs an index on the
      -- child column or every application delete scans all keys.
      CREATE INDEX revoked_jtis_expires_at ON revoked_jtis(expires_at) WHERE expires_at != 0;
      CREATE INDEX opaque_keys_owner ON opaque_keys(owner);
      CREATE INDEX opaque_keys_application ON opaque_keys(application_id);
    )sql"},
    {4, R"sql(
      -- Throttling tiers (SPEC section 13): an opaque key's subscription policy, an application's
      -- application policy. Rows from before get 'Unlimited', which is what they had.
      ALTER TABLE opaque_keys ADD COLUMN tier TEXT NOT NULL DEFAULT 'Unlimited';
      ALTER TABLE applications ADD COLUMN tier TEXT NOT NULL DEFAULT 'Unlimited';
    )sql"},
    {5, R"sql(
      -- Key rotation with a grace period and last use (issue 25). previous_hash: the value before
      -- the last regenerate, accepted until previous_until; replaced_at: when it was replaced.
      -- last_used: epoch seconds, minute precision, 0 = never (written at most once a minute).
      ALTER TABLE opaque_keys ADD COLUMN previous_hash BLOB
        CHECK (previous_hash IS NULL OR length(previous_hash) = 32);
      ALTER TABLE opaque_keys ADD COLUMN previous_until INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE opaque_keys ADD COLUMN replaced_at INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE opaque_keys ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX opaque_keys_previous_hash ON opaque_keys(previous_hash)
        WHERE previous_hash IS NOT NULL;
      ALTER TABLE applications ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0;
      -- Signed keys' last use per jti, only with [apikey] trackLastUsed = true.
      CREATE TABLE signed_key_usage (
        jti       TEXT PRIMARY KEY NOT NULL,
        sub       TEXT NOT NULL,
        last_used INTEGER NOT NULL
      ) WITHOUT ROWID;
    )sql"},
    {6, R"sql(
      -- Plans and shared API keys (issue 26). An application's key mode: '' = not chosen yet
      -- (behaves as perSubscription), then 'perSubscription' or 'shared', never changed again.
      ALTER TABLE applications ADD COLUMN key_mode TEXT NOT NULL DEFAULT ''
        CHECK (key_mode IN ('', 'perSubscription', 'shared'));
      -- An application's shared key: bound to no API (api_name and api_version are '').
      ALTER TABLE opaque_keys ADD COLUMN shared INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1));
      -- A subscription is to one plan of an API ('' = the API has no plans, or the row predates
      -- plans: it counts for the API's first plan). shared_key: the application's shared key serves
      -- it. The primary key gains the plan, so the table is rebuilt.
      CREATE TABLE subscriptions_v6 (
        application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        api_name       TEXT NOT NULL,
        api_version    TEXT NOT NULL,
        plan           TEXT NOT NULL DEFAULT '',
        shared_key     INTEGER NOT NULL DEFAULT 0 CHECK (shared_key IN (0, 1)),
        created_at     INTEGER NOT NULL,
        PRIMARY KEY (application_id, api_name, api_version, plan)
      ) WITHOUT ROWID;
      INSERT INTO subscriptions_v6 (application_id, api_name, api_version, plan, shared_key, created_at)
        SELECT application_id, api_name, api_version, '', 0, created_at FROM subscriptions;
      DROP TABLE subscriptions;
      ALTER TABLE subscriptions_v6 RENAME TO subscriptions;
    )sql"},
};

static_assert(sizeof kMigrations / sizeof kMigrations[0] == Database::kSchemaVersion,
              "one migration per schema version");

std::string sqliteMessage(sqlite3* db, int rc) {
  return db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
}

// Creates the file with mode 0600 if it does not exist yet, so the database (and its -wal and
// -shm, which SQLite creates with the database's mode) is never readable by other users.
void createPrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw StoreError(SQLITE_CANTOPEN,
                     path + ": cannot open or create the database file: " + std::strerror(errno));
  }
  ::close(fd);
}

}  // namespace

Failure failureFromStoreError(const StoreError& error, std::string_view operation) {
  if (error.isUniqueViolation()) return Failure::kConflict;
  if (error.isForeignKeyViolation()) return Failure::kNotFound;
  log::error("store operation failed", {{"operation", std::string(operation)},
                                        {"sqliteCode", error.code()},
                                        {"error", error.what()}});
  return Failure::kInternalError;
}

// ---- Statement -------------------------------------------------------------------------------

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  if (sql.size() > static_cast<size_t>(INT_MAX))
    throw StoreError(SQLITE_TOOBIG, "SQL text too long");
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    int code = sqlite3_extended_errcode(db_);
    std::string message = "prepare failed: " + sqliteMessage(db_, rc);
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    throw StoreError(code, message);
  }
  if (stmt_ == nullptr) throw StoreError(SQLITE_MISUSE, "prepare: empty statement");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

void Statement::check(int rc, std::string_view what) const {
  if (rc == SQLITE_OK) return;
  throw StoreError(sqlite3_extended_errcode(db_),
                   std::string(what) + ": " + sqliteMessage(db_, rc));
}

Statement& Statement::bindInt(int index, int64_t value) {
  check(sqlite3_bind_int64(stmt_, index, value), "bind");
  return *this;
}

Statement& Statement::bindText(int index, std::string_view text) {
  if (text.size() > static_cast<size_t>(INT_MAX))
    throw StoreError(SQLITE_TOOBIG, "bind: text too long");
  // SQLITE_TRANSIENT: SQLite copies, so the view may die before step().
  check(
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
      "bind");
  return *this;
}

Statement& Statement::bindBlob(int index, std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throw StoreError(SQLITE_TOOBIG, "bind: blob too long");
  // A zero-length blob must still bind as a blob, not NULL: pass a non-null pointer.
  static const char kEmpty = 0;
  const void* data = bytes.empty() ? &kEmpty : bytes.data();
  check(sqlite3_bind_blob(stmt_, index, data, static_cast<int>(bytes.size()), SQLITE_TRANSIENT),
        "bind");
  return *this;
}

Statement& Statement::bindOptionalText(int index, const std::optional<std::string>& text) {
  return text ? bindText(index, *text) : bindNull(index);
}

Statement& Statement::bindNull(int index) {
  check(sqlite3_bind_null(stmt_, index), "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // With sqlite3_prepare_v2 the step result is already the extended code.
  int code = rc;
  std::string message = std::string("step: ") + sqlite3_errmsg(db_);
  sqlite3_reset(stmt_);
  throw StoreError(code, message);
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::columnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::columnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string Statement::columnBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  if (data == nullptr) return {};
  return std::string(static_cast<const char*>(data),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::string> Statement::columnOptionalText(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  return columnText(column);
}

// ---- Database --------------------------------------------------------------------------------

void Database::Session::exec(std::string_view sql) const {
  std::string text(sql);  // sqlite3_exec needs a terminated string
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw StoreError(sqlite3_extended_errcode(db_), message);
  }
}

Database::Database(std::string path) : path_(std::move(path)) {
  if (path_.empty()) throw StoreError(SQLITE_CANTOPEN, "[storage] path is empty");
  std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw StoreError(SQLITE_CANTOPEN, path_ + ": cannot create the folder " + parent.string() +
                                            ": " + ec.message());
    }
  }
  createPrivateFile(path_);

  // NOMUTEX: our own mutex serialises every use of the connection (see inTransaction).
  int rc =
      sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = path_ + ": cannot open the database: " + sqliteMessage(db_, rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError(rc, message);
  }
  sqlite3_extended_result_codes(db_, 1);
  try {
    configure();
    migrate();
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Database::~Database() {
  // Every Statement is scoped to a read()/write() call, so none is left to finalize here and
  // sqlite3_close succeeds (it also checkpoints the WAL when this is the last connection).
  sqlite3_close(db_);
}

void Database::rollbackQuietly() noexcept {
  // After some errors (SQLITE_FULL, SQLITE_IOERR, ...) SQLite has already rolled back.
  if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Database::configure() {
  Session session(db_);
  // Wait for another connection (another micro-gw process, a backup tool) instead of failing.
  sqlite3_busy_timeout(db_, 5000);

  // Read the version before anything writes to the file: a newer schema is refused untouched.
  int version = 0;
  try {
    Statement stmt(db_, "PRAGMA user_version");
    if (stmt.step()) version = static_cast<int>(stmt.columnInt(0));
  } catch (const StoreError& e) {
    throw StoreError(e.code(), path_ + ": not a readable micro-gw database: " + e.what());
  }
  if (version > kSchemaVersion) {
    throw StoreError(SQLITE_ERROR,
                     path_ + ": schema version " + std::to_string(version) +
                         " is newer than this micro-gw knows (" + std::to_string(kSchemaVersion) +
                         "); refusing to open it: run the newer micro-gw or restore a backup");
  }

  Statement journal(db_, "PRAGMA journal_mode=WAL");
  std::string mode = journal.step() ? journal.columnText(0) : "";
  if (mode != "wal") {
    throw StoreError(SQLITE_ERROR,
                     path_ + ": cannot switch to WAL journal mode (got '" + mode + "')");
  }
  // FULL in WAL mode: the WAL is synced on every commit, so a write is on disk before the HTTP
  // answer that reports it (a revocation must survive a power cut).
  session.exec("PRAGMA synchronous=FULL");
  session.exec("PRAGMA foreign_keys=ON");
  Statement fk(db_, "PRAGMA foreign_keys");
  if (!fk.step() || fk.columnInt(0) != 1) {
    throw StoreError(SQLITE_ERROR, path_ + ": this SQLite cannot enforce foreign keys");
  }
}

void Database::migrate() {
  int from = -1;
  int reached = -1;
  for (const Migration& migration : kMigrations) {
    try {
      bool applied = write([&](const Session& session) {
        // Re-read inside the write lock: another process may have migrated meanwhile.
        int version = 0;
        {
          // Finalized before the step runs: a DROP TABLE fails (SQLITE_LOCKED) while any
          // statement is still open on the connection.
          Statement stmt = session.prepare("PRAGMA user_version");
          version = stmt.step() ? static_cast<int>(stmt.columnInt(0)) : 0;
        }
        if (version >= migration.version) return false;
        if (from < 0) from = version;
        session.exec(migration.sql);
        // PRAGMA user_version is part of the transaction: the step and its version commit together.
        session.exec("PRAGMA user_version = " + std::to_string(migration.version));
        return true;
      });
      if (applied) reached = migration.version;
    } catch (const StoreError& e) {
      throw StoreError(e.code(), path_ + ": migration to schema version " +
                                     std::to_string(migration.version) +
                                     " failed, the database stays at version " +
                                     std::to_string(migration.version - 1) + ": " + e.what());
    }
  }
  if (reached > 0) {
    log::info(from == 0 ? "store created" : "store schema migrated",
              {{"path", path_}, {"fromVersion", from}, {"toVersion", reached}});
  }
}

}  // namespace mgw::store
