#include "store/database.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/application_store.h"
#include "store/key_hasher.h"
#include "store/opaque_key_store.h"
#include "store/revocation_store.h"
#include "store_test_util.h"

namespace mgw::store {
namespace {

using testing::rawExec;
using testing::rawQueryInt;
using testing::TempDir;

int64_t queryInt(Database& db, const std::string& sql) {
  return db.read([&](const Database::Session& s) {
    Statement stmt = s.prepare(sql);
    return stmt.step() ? stmt.columnInt(0) : -1;
  });
}

std::string queryText(Database& db, const std::string& sql) {
  return db.read([&](const Database::Session& s) {
    Statement stmt = s.prepare(sql);
    return stmt.step() ? stmt.columnText(0) : std::string();
  });
}

// Version 1 as released: written out by hand, not taken from the migration code, so the test
// catches a migration that no longer applies to real old files.
const char* const kVersion1Schema = R"sql(
  CREATE TABLE revoked_jtis (jti TEXT PRIMARY KEY NOT NULL, sub TEXT NOT NULL, expires_at INTEGER NOT NULL,
                             revoked_by TEXT NOT NULL, revoked_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE subject_watermarks (sub TEXT PRIMARY KEY NOT NULL, issued_before INTEGER NOT NULL,
                                   revoked_by TEXT NOT NULL, revoked_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE opaque_keys (
    id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL, api_name TEXT NOT NULL,
    api_version TEXT NOT NULL, key_type TEXT NOT NULL CHECK (key_type IN ('PRODUCTION', 'SANDBOX')),
    key_hash BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32), last_four TEXT NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL DEFAULT 0,
    permitted_ip TEXT NOT NULL DEFAULT '', permitted_referer TEXT NOT NULL DEFAULT '',
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)), revoked_at INTEGER NOT NULL DEFAULT 0);
  INSERT INTO revoked_jtis VALUES ('jti-old', 'alice', 0, 'admin', 1700000000);
  INSERT INTO subject_watermarks VALUES ('bob', 1700000500, 'admin', 1700000600);
  INSERT INTO opaque_keys (id, name, owner, api_name, api_version, key_type, key_hash, last_four, created_at)
    VALUES ('key-1', 'legacy', 'alice', 'PizzaShack', '1.0.0', 'SANDBOX', zeroblob(32), 'abcd', 1700000000);
  PRAGMA user_version = 1;
)sql";

TEST(DatabaseTest, FreshDatabaseIsAtCurrentVersionWithDurablePragmas) {
  TempDir dir;
  std::string path = dir.file("nested/data/micro-gw.db");  // the parent folders do not exist yet
  Database db(path);
  EXPECT_EQ(db.path(), path);
  EXPECT_EQ(queryInt(db, "PRAGMA user_version"), Database::kSchemaVersion);
  EXPECT_EQ(queryText(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(queryInt(db, "PRAGMA synchronous"), 2);  // FULL
  EXPECT_EQ(queryInt(db, "PRAGMA foreign_keys"), 1);
  EXPECT_GT(queryInt(db, "PRAGMA busy_timeout"), 0);

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(DatabaseTest, ReopeningACurrentDatabaseChangesNothing) {
  TempDir dir;
  std::string path = dir.file("micro-gw.db");
  { Database db(path); }
  Database again(path);
  EXPECT_EQ(queryInt(again, "PRAGMA user_version"), Database::kSchemaVersion);
}

TEST(DatabaseTest, MigratesAHandMadeVersion1DatabaseAndKeepsItsData) {
  TempDir dir;
  std::string path = dir.file("micro-gw.db");
  rawExec(path, kVersion1Schema);
  ASSERT_EQ(rawQueryInt(path, "PRAGMA user_version"), 1);

  Database db(path);
  EXPECT_EQ(queryInt(db, "PRAGMA user_version"), Database::kSchemaVersion);

  // Version 1 data is intact.
  RevocationStore revocations(db);
  StoreResult<RevocationSnapshot> snapshot = revocations.loadAll();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot.value.jtis.count("jti-old"), 1u);
  EXPECT_EQ(snapshot.value.subjectIssuedBefore.at("bob"), 1700000500);

  KeyHasher hasher(std::string(KeyHasher::kSecretBytes, 'k'));
  OpaqueKeyStore keys(db, hasher);
  StoreResult<OpaqueKeyRecord> legacy = keys.get("key-1");
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(legacy.value.name, "legacy");
  EXPECT_EQ(legacy.value.keyType, KeyType::kSandbox);
  EXPECT_EQ(legacy.value.lastFour, "abcd");
  EXPECT_FALSE(legacy.value.applicationId.has_value());  // column added by version 2 reads NULL

  // Version 2 and 3 objects exist and work on the old rows.
  ApplicationStore apps(db);
  StoreResult<ApplicationRecord> app = apps.create("mobile", "alice", 1700001000);
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(keys.associateApplication("key-1", app.value.id), Failure::kNone);
  EXPECT_EQ(keys.get("key-1").value.applicationId, app.value.id);
  EXPECT_EQ(queryInt(db,
                     "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = "
                     "'opaque_keys_application'"),
            1);
}

// Version 3 as released (the last schema before the throttling tiers), by hand as above: the
// file a micro-gw of the previous version leaves behind.
const char* const kVersion3Schema = R"sql(
  CREATE TABLE revoked_jtis (jti TEXT PRIMARY KEY NOT NULL, sub TEXT NOT NULL, expires_at INTEGER NOT NULL,
                             revoked_by TEXT NOT NULL, revoked_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE subject_watermarks (sub TEXT PRIMARY KEY NOT NULL, issued_before INTEGER NOT NULL,
                                   revoked_by TEXT NOT NULL, revoked_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE opaque_keys (
    id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL, api_name TEXT NOT NULL,
    api_version TEXT NOT NULL, key_type TEXT NOT NULL CHECK (key_type IN ('PRODUCTION', 'SANDBOX')),
    key_hash BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32), last_four TEXT NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL DEFAULT 0,
    permitted_ip TEXT NOT NULL DEFAULT '', permitted_referer TEXT NOT NULL DEFAULT '',
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)), revoked_at INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE applications (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL,
                             created_at INTEGER NOT NULL, UNIQUE (owner, name));
  CREATE TABLE subscriptions (
    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    api_name TEXT NOT NULL, api_version TEXT NOT NULL, created_at INTEGER NOT NULL,
    PRIMARY KEY (application_id, api_name, api_version)) WITHOUT ROWID;
  ALTER TABLE opaque_keys ADD COLUMN application_id TEXT REFERENCES applications(id) ON DELETE SET NULL;
  CREATE INDEX revoked_jtis_expires_at ON revoked_jtis(expires_at) WHERE expires_at != 0;
  CREATE INDEX opaque_keys_owner ON opaque_keys(owner);
  CREATE INDEX opaque_keys_application ON opaque_keys(application_id);
  INSERT INTO applications VALUES ('app-1', 'mobile', 'alice', 1700000000);
  INSERT INTO subscriptions VALUES ('app-1', 'PizzaShack', '1.0.0', 1700000001);
  INSERT INTO opaque_keys (id, name, owner, api_name, api_version, key_type, key_hash, last_four, created_at,
                           application_id)
    VALUES ('key-3', 'before-tiers', 'alice', 'PizzaShack', '1.0.0', 'PRODUCTION', zeroblob(32), 'wxyz',
            1700000002, 'app-1');
  PRAGMA user_version = 3;
)sql";

TEST(DatabaseTest, MigratesAVersion3DatabaseToTheTiersAndKeepsItWorking) {
  TempDir dir;
  std::string path = dir.file("micro-gw.db");
  rawExec(path, kVersion3Schema);
  ASSERT_EQ(rawQueryInt(path, "PRAGMA user_version"), 3);

  KeyHasher hasher(std::string(KeyHasher::kSecretBytes, 'k'));
  {
    Database db(path);
    EXPECT_EQ(queryInt(db, "PRAGMA user_version"), Database::kSchemaVersion);
    OpaqueKeyStore keys(db, hasher);
    ApplicationStore apps(db);
    // The old rows read with the tier they had: none, i.e. Unlimited.
    StoreResult<OpaqueKeyRecord> old = keys.get("key-3");
    ASSERT_TRUE(old.ok());
    EXPECT_EQ(old.value.tier, "Unlimited");
    EXPECT_EQ(old.value.applicationId, "app-1");
    EXPECT_EQ(old.value.lastFour, "wxyz");
    StoreResult<ApplicationRecord> app = apps.get("app-1");
    ASSERT_TRUE(app.ok());
    EXPECT_EQ(app.value.tier, "Unlimited");
    EXPECT_EQ(app.value.name, "mobile");
    StoreResult<bool> subscribed = apps.isSubscribed("app-1", "PizzaShack", "1.0.0");
    EXPECT_TRUE(subscribed.ok() && subscribed.value);
    // New rows carry their tiers, next to the old ones.
    NewOpaqueKey fresh;
    fresh.name = "after-tiers";
    fresh.owner = "alice";
    fresh.apiName = "PizzaShack";
    fresh.apiVersion = "1.0.0";
    fresh.createdAt = 1700000100;
    fresh.tier = "Bronze";
    fresh.applicationId = "app-1";
    ASSERT_TRUE(keys.create(fresh, "a-custom-key-value-1").ok());
    ASSERT_TRUE(apps.create("web", "alice", 1700000200, "10PerMin").ok());
    EXPECT_EQ(keys.revoke("key-3", 1700000300), Failure::kNone);
  }
  // Reopened: nothing migrates again, everything reads back.
  Database again(path);
  EXPECT_EQ(queryInt(again, "PRAGMA user_version"), Database::kSchemaVersion);
  OpaqueKeyStore keys(again, hasher);
  StoreResult<std::vector<OpaqueKeyRecord>> all = keys.loadAll();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all.value.size(), 2u);
  for (const OpaqueKeyRecord& r : all.value) {
    EXPECT_EQ(r.tier, r.id == "key-3" ? "Unlimited" : "Bronze") << r.id;
    EXPECT_EQ(r.revoked, r.id == "key-3") << r.id;
  }
  ApplicationStore apps(again);
  StoreResult<std::vector<ApplicationRecord>> listed = apps.listByOwner("alice");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed.value.size(), 2u);
  EXPECT_EQ(listed.value[0].tier, "Unlimited");
  EXPECT_EQ(listed.value[1].tier, "10PerMin");
}

TEST(DatabaseTest, AFailingMigrationStepLeavesTheDatabaseAtThePreviousVersion) {
  TempDir dir;
  std::string path = dir.file("micro-gw.db");
  rawExec(path, kVersion1Schema);
  // Something a version 2 step must create already exists: the step fails halfway through.
  rawExec(path, "CREATE TABLE subscriptions (x); PRAGMA user_version = 1;");
  try {
    Database db(path);
    FAIL() << "the migration did not fail";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("migration to schema version 2 failed"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(rawQueryInt(path, "PRAGMA user_version"), 1);
  EXPECT_EQ(rawQueryInt(path, "SELECT count(*) FROM sqlite_master WHERE name = 'applications'"), 0);
  EXPECT_EQ(rawQueryInt(path, "SELECT count(*) FROM revoked_jtis"), 1);
}

TEST(DatabaseTest, RefusesADatabaseNewerThanItKnowsAndLeavesItUntouched) {
  TempDir dir;
  std::string path = dir.file("micro-gw.db");
  rawExec(path, "CREATE TABLE future (x); PRAGMA user_version = " +
                    std::to_string(Database::kSchemaVersion + 1));
  std::string before = testing::readBytes(path);
  try {
    Database db(path);
    FAIL() << "a newer schema was opened";
  } catch (const StoreError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("newer"), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(Database::kSchemaVersion + 1)), std::string::npos)
        << message;
  }
  EXPECT_EQ(testing::readBytes(path), before);  // not switched to WAL, not migrated
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(DatabaseTest, RefusesAFileThatIsNotADatabase) {
  TempDir dir;
  std::string path = dir.file("micro-gw.db");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(4096, 'x');
  }
  EXPECT_THROW(Database db(path), StoreError);
}

TEST(DatabaseTest, RefusesAPathItCannotCreate) {
  TempDir dir;
  std::string blocker = dir.file("file");
  { std::ofstream out(blocker); }
  EXPECT_THROW(Database db(blocker + "/sub/micro-gw.db"), StoreError);
}

TEST(DatabaseTest, ATransactionThatThrowsLeavesNothingBehind) {
  TempDir dir;
  Database db(dir.file("micro-gw.db"));
  EXPECT_THROW(db.write([](const Database::Session& s) {
    s.exec(
        "INSERT INTO applications (id, name, owner, created_at) VALUES ('a1', 'one', 'alice', 1)");
    throw std::runtime_error("crash between statements");
  }),
               std::runtime_error);
  EXPECT_EQ(queryInt(db, "SELECT count(*) FROM applications"), 0);

  // A constraint violation on the second statement undoes the first too.
  EXPECT_THROW(db.write([](const Database::Session& s) {
    s.exec(
        "INSERT INTO applications (id, name, owner, created_at) VALUES ('a1', 'one', 'alice', 1)");
    s.exec("INSERT INTO subscriptions VALUES ('no-such-app', 'Api', 'v1', 1)");  // foreign key
  }),
               StoreError);
  EXPECT_EQ(queryInt(db, "SELECT count(*) FROM applications"), 0);
  // The connection is usable afterwards.
  db.write([](const Database::Session& s) {
    s.exec(
        "INSERT INTO applications (id, name, owner, created_at) VALUES ('a1', 'one', 'alice', 1)");
  });
  EXPECT_EQ(queryInt(db, "SELECT count(*) FROM applications"), 1);
}

// A process that dies in the middle of a transaction (no COMMIT, no close, no destructors) must
// leave nothing it wrote; one that died right after COMMIT must leave everything.
TEST(DatabaseTest, AProcessKilledMidTransactionLeavesNoHalfWrittenState) {
  TempDir dir;
  std::string path = dir.file("micro-gw.db");
  { Database db(path); }  // created and migrated; no connection open across fork()

  auto runChild = [&](bool commit) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        Database db(path);
        db.write([&](const Database::Session& s) {
          // A tiny page cache forces uncommitted pages out to the WAL before the "crash".
          s.exec("PRAGMA cache_size = 2");
          s.exec(
              "INSERT INTO applications (id, name, owner, created_at) VALUES ('app', 'half', "
              "'alice', 1)");
          Statement sub = s.prepare(
              "INSERT INTO subscriptions (application_id, api_name, api_version, created_at) "
              "VALUES ('app', ?1, 'v1', 1)");
          for (int i = 0; i < 2000; ++i) {
            sub.bindText(1, "Api-" + std::to_string(i) + std::string(100, 'p'));
            sub.run();
            sub.reset();
          }
          if (!commit) ::_exit(0);
        });
        ::_exit(0);
      } catch (...) {
        ::_exit(3);
      }
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
  };

  runChild(false);
  {
    Database db(path);
    EXPECT_EQ(queryInt(db, "SELECT count(*) FROM applications"), 0);
    EXPECT_EQ(queryInt(db, "SELECT count(*) FROM subscriptions"), 0);
    EXPECT_EQ(queryText(db, "PRAGMA integrity_check"), "ok");
  }
  runChild(true);
  {
    Database db(path);
    EXPECT_EQ(queryInt(db, "SELECT count(*) FROM applications"), 1);
    EXPECT_EQ(queryInt(db, "SELECT count(*) FROM subscriptions"), 2000);
    EXPECT_EQ(queryText(db, "PRAGMA integrity_check"), "ok");
  }
}

TEST(DatabaseTest, TwoConnectionsWritingAtOnceBothSucceed) {
  TempDir dir;
  std::string path = dir.file("micro-gw.db");
  Database first(path);
  Database second(
      path);  // as a second micro-gw process would: relies on BEGIN IMMEDIATE + busy_timeout
  constexpr int kPerThread = 100;
  std::atomic<int> failures{0};
  auto writer = [&](Database& db, const std::string& prefix) {
    for (int i = 0; i < kPerThread; ++i) {
      try {
        db.write([&](const Database::Session& s) {
          s.prepare("INSERT INTO revoked_jtis VALUES (?1, 'alice', 0, 'admin', 1)")
              .bindText(1, prefix + std::to_string(i))
              .run();
        });
      } catch (const StoreError&) {
        ++failures;
      }
    }
  };
  std::thread a(writer, std::ref(first), "a-");
  std::thread b(writer, std::ref(second), "b-");
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(queryInt(first, "SELECT count(*) FROM revoked_jtis"), 2 * kPerThread);
}

TEST(StatementTest, BindsAndReadsEveryType) {
  TempDir dir;
  Database db(dir.file("micro-gw.db"));
  db.write([](const Database::Session& s) {
    s.exec("CREATE TEMP TABLE t (i INTEGER, txt TEXT, b BLOB, o TEXT)");
    s.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)")
        .bindInt(1, INT64_MIN)
        .bindText(2, std::string_view("a\0b", 3))
        .bindBlob(3, std::string_view("\x00\xff", 2))
        .bindOptionalText(4, std::nullopt)
        .run();
    s.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)")
        .bindNull(1)
        .bindText(2, "")
        .bindBlob(3, "")
        .bindOptionalText(4, std::string("set"))
        .run();
    Statement rows = s.prepare("SELECT i, txt, b, o, typeof(b) FROM t ORDER BY rowid");
    ASSERT_TRUE(rows.step());
    EXPECT_EQ(rows.columnInt(0), INT64_MIN);
    EXPECT_EQ(rows.columnText(1), std::string("a\0b", 3));
    EXPECT_EQ(rows.columnBlob(2), std::string("\x00\xff", 2));
    EXPECT_EQ(rows.columnOptionalText(3), std::nullopt);
    ASSERT_TRUE(rows.step());
    EXPECT_EQ(rows.columnInt(0), 0);
    EXPECT_EQ(rows.columnText(1), "");
    EXPECT_EQ(rows.columnText(4), "blob");  // an empty blob is a blob, not NULL
    EXPECT_EQ(rows.columnOptionalText(3), std::optional<std::string>("set"));
    EXPECT_FALSE(rows.step());
  });
}

TEST(StatementTest, InvalidSqlThrowsWithTheSqliteMessage) {
  TempDir dir;
  Database db(dir.file("micro-gw.db"));
  try {
    db.read([](const Database::Session& s) { s.prepare("SELEKT 1"); });
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
  }
}

TEST(StoreErrorTest, MapsConstraintsToFailures) {
  EXPECT_EQ(failureFromStoreError(StoreError(SQLITE_CONSTRAINT_UNIQUE, "x"), "t"),
            Failure::kConflict);
  EXPECT_EQ(failureFromStoreError(StoreError(SQLITE_CONSTRAINT_PRIMARYKEY, "x"), "t"),
            Failure::kConflict);
  EXPECT_EQ(failureFromStoreError(StoreError(SQLITE_CONSTRAINT_FOREIGNKEY, "x"), "t"),
            Failure::kNotFound);
  EXPECT_EQ(failureFromStoreError(StoreError(SQLITE_IOERR_FSYNC, "x"), "t"),
            Failure::kInternalError);
  EXPECT_EQ(failureFromStoreError(StoreError(SQLITE_CONSTRAINT_CHECK, "x"), "t"),
            Failure::kInternalError);
}

}  // namespace
}  // namespace mgw::store
