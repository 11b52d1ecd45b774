// Another program on the same file (issue 11, item 4): a sqlite3 shell left in a
// transaction or a bulk import holds SQLite's write lock past the 5 s busy timeout.
// The server must not stop for it, must not acknowledge what it could not commit,
// and must go on once the lock is free; two programs opening one new file must not
// both migrate it.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <exception>
#include <future>
#include <thread>

#include "served.hpp"

using namespace anxin;
using namespace std::chrono_literals;
using test::json;

namespace {

// A raw connection of another program on the file, as the sqlite3 shell has.
class OtherProgram {
 public:
  explicit OtherProgram(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~OtherProgram() { sqlite3_close(db_); }
  OtherProgram(const OtherProgram&) = delete;
  OtherProgram& operator=(const OtherProgram&) = delete;
  void exec(const char* sql) {
    INFO(sql << ": " << sqlite3_errmsg(db_));
    REQUIRE(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  }

 private:
  sqlite3* db_ = nullptr;
};

long long alerts_of(const std::string& db, const std::string& device) {
  sqlite3* c = nullptr;
  sqlite3_open_v2(db.c_str(), &c, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(c, "SELECT COUNT(*) FROM alerts WHERE device_id=?", -1, &s, nullptr);
  sqlite3_bind_text(s, 1, device.c_str(), -1, SQLITE_TRANSIENT);
  const long long n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(c);
  return n;
}

}  // namespace

TEST_CASE("a write lock held 6 s by another program holds the ack, and the alarm is acked and stored after",
          "[busy][ws]") {
  test::TempDir dir;
  const std::string db = dir.file("busy.db"), log = dir.file("server.log"), port_file = dir.file("port");
  test::seed_small_registry(db);
  test::Process server({ANXIN_SERVER_BIN, "--db", db, "--port", "0", "--interface", "127.0.0.1", "--field-port",
                        "-1", "--port-file", port_file},
                       log);
  const auto owned = test::serving_device(port_file);
  gateway::SyncClient& device = *owned;

  OtherProgram shell(db);
  shell.exec("BEGIN IMMEDIATE");
  const auto held = std::chrono::steady_clock::now();
  device.send(test::alarm_frame("D3", 1, "sos", "a2"));
  // Past the server's 5 s busy timeout, and still no ack: the commit is held, not
  // dropped, and the server still runs (before: "database is locked", abort).
  CHECK_FALSE(device.next(std::chrono::duration_cast<std::chrono::milliseconds>(
                              held + 6s - std::chrono::steady_clock::now()))
                  .has_value());
  INFO("server log:\n" << test::read_file(log));
  REQUIRE_FALSE(server.wait(0ms).has_value());
  CHECK_FALSE(device.closed());
  CHECK(alerts_of(db, "D3") == 0);
  shell.exec("ROLLBACK");

  json ack = test::next_json(device, 3s);
  CHECK(ack["type"] == "ack");
  CHECK(ack["req"] == "a2");
  CHECK(alerts_of(db, "D3") == 1);
  // Writes go on as before.
  device.send(test::alarm_frame("D4", 1, "fall", "a3"));
  CHECK(test::next_json(device, 2s)["req"] == "a3");
  CHECK(alerts_of(db, "D4") == 1);
  CHECK_FALSE(server.wait(0ms).has_value());
  const std::string text = test::read_file(log);
  CHECK(text.find("another program holds the database's write lock") != std::string::npos);
  CHECK(text.find("the write lock is free again after") != std::string::npos);
}

TEST_CASE("stores opening one new file at once migrate it once, all to the schema version", "[busy][store]") {
  test::TempDir dir;
  const std::string db = dir.file("new.db");
  // The other program makes the file and holds its write lock, so each store reads
  // version 0 and then queues for the lock: after the first has migrated, the others
  // must find the new version under the lock, not migrate again (before: "table
  // workers already exists").
  OtherProgram other(db);
  other.exec("PRAGMA journal_mode=WAL");
  other.exec("BEGIN IMMEDIATE");
  std::vector<std::future<int>> opened;
  for (int i = 0; i < 3; ++i)
    opened.push_back(std::async(std::launch::async, [&] { return Store(db).schema_version(); }));
  std::this_thread::sleep_for(300ms);
  other.exec("ROLLBACK");
  for (auto& f : opened) {
    int version = -1;
    try {
      version = f.get();
    } catch (const std::exception& e) {
      FAIL_CHECK("a store failed to open: " << e.what());
    }
    CHECK(version == Store::kSchemaVersion);
  }
  Store again(db);
  CHECK(again.schema_version() == Store::kSchemaVersion);
  CHECK(test::count_rows(db, "workers") == 0);
}
