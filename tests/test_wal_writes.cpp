// The WAL written in one piece per commit (dispatch-core/src/wal_writes.hpp): fewer
// system calls, the same file. Counted with this thread's own write calls
// (/proc/thread-self/io), read back through connections of the default VFS.
#include <catch2/catch.hpp>

#include "anxin/core/store.hpp"
#include "full_disk.hpp"
#include "support.hpp"
#include "wal_writes.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using anxin::test::TempDir;

namespace {

struct Db {
  sqlite3* db = nullptr;
  Db(const std::string& path, const char* vfs) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) == SQLITE_OK);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
  }
  ~Db() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    INFO(sql << ": " << (error ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
  }
  std::int64_t number(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    const std::int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    std::string out(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    return out;
  }
};

// Write system calls made by a thread so far: this one, or another by its /proc path.
long long writes_so_far(const std::string& thread = "/proc/thread-self") {
  std::ifstream io(thread + "/io");
  std::string key;
  long long value = 0;
  while (io >> key >> value)
    if (key == "syscw:") return value;
  FAIL("no syscw in /proc/thread-self/io");
  return 0;
}

// Write calls for one transaction of `rows` rows of 3,000 bytes, a page each, after
// one like it: the first also makes the file, the WAL and its index.
long long writes_for_commit(const char* vfs, const std::string& path, int rows) {
  Db d(path, vfs);
  d.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  long long writes = 0;
  // No assertion between the two counts: with -s, Catch2 writes each one out.
  int failed = SQLITE_OK;
  auto run = [&](const char* sql) { failed |= sqlite3_exec(d.db, sql, nullptr, nullptr, nullptr); };
  for (int round = 0; round < 2; ++round) {
    const long long before = writes_so_far();
    run("BEGIN IMMEDIATE");
    for (int i = 0; i < rows; ++i) run("INSERT INTO t(v) VALUES (printf('%.3000c', 'x'))");
    run("COMMIT");
    writes = writes_so_far() - before;
  }
  REQUIRE(failed == SQLITE_OK);
  return writes;
}

// The file a descriptor is open on: its inode.
ino_t inode_of(int fd) {
  struct stat st {};
  REQUIRE(fstat(fd, &st) == 0);
  return st.st_ino;
}
ino_t inode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

// The store's WAL syncs as a test sees them: the first is held until released.
struct HeldSync {
  std::mutex m;
  std::condition_variable cv;
  int calls = 0;
  int fd = -1;
  bool released = false;
};
HeldSync held;
void release_held_sync() {
  {
    std::lock_guard lock(held.m);
    held.released = true;
  }
  held.cv.notify_all();
}
int hold_first_sync(int fd) {
  {
    std::unique_lock lock(held.m);
    if (++held.calls == 1) {
      held.fd = fd;
      held.cv.notify_all();
      held.cv.wait(lock, [] { return held.released; });
    }
  }
  return fdatasync(fd);
}

}  // namespace

TEST_CASE("a commit of 20 pages goes to the WAL in one write", "[store][wal]") {
  TempDir dir;
  const long long coalesced = writes_for_commit(anxin::coalescing_wal_vfs(), dir.file("a.db"), 20);
  const long long frame_by_frame = writes_for_commit(nullptr, dir.file("b.db"), 20);
  INFO("coalesced " << coalesced << ", default VFS " << frame_by_frame);
  CHECK(frame_by_frame >= 40);  // a header and a page per frame
  CHECK(coalesced == 1);
}

TEST_CASE("a WAL held in memory reads back, spills, rolls back and is whole on disk", "[store][wal]") {
  TempDir dir;
  const std::string path = dir.file("w.db");
  Db w(path, anxin::coalescing_wal_vfs());
  Db other(path, nullptr);
  w.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  w.exec("CREATE INDEX t_by_v ON t(v)");
  // A cache of 20 pages: a transaction of 3 MB spills pages to the WAL before its
  // commit, and reads some back, some still held in memory.
  w.exec("PRAGMA cache_size=20");

  SECTION("each commit is seen at once by a connection of the default VFS") {
    for (int i = 1; i <= 30; ++i) {
      w.exec("INSERT INTO t(v) VALUES ('row " + std::to_string(i) + "')");
      REQUIRE(other.number("SELECT count(*) FROM t") == i);
    }
  }

  SECTION("a commit of 2 MB, held whole in the cache, goes out in pieces") {
    w.exec("PRAGMA cache_size=-16000");
    w.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < 600; ++i) w.exec("INSERT INTO t(v) VALUES (printf('%.3000c', 'p'))");
    w.exec("COMMIT");
    CHECK(other.number("SELECT count(*) FROM t") == 600);
    CHECK(other.text("PRAGMA integrity_check") == "ok");
  }

  SECTION("a transaction far past the cache and past 1 MiB") {
    w.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < 3000; ++i)
      w.exec("INSERT INTO t(v) VALUES (printf('%04d', " + std::to_string(i) + ") || printf('%.1000c', 'y'))");
    // Read inside the transaction: pages spilled to the WAL come back intact.
    CHECK(w.number("SELECT count(*) FROM t WHERE v LIKE '1%'") == 1000);
    CHECK(w.number("SELECT sum(length(v)) FROM t") == 3000 * 1004);
    w.exec("COMMIT");
    CHECK(other.number("SELECT count(*) FROM t") == 3000);
    CHECK(other.number("SELECT sum(length(v)) FROM t") == 3000 * 1004);
    CHECK(other.text("PRAGMA integrity_check") == "ok");
  }

  SECTION("a spilled transaction rolled back leaves nothing, and the next commit is whole") {
    w.exec("INSERT INTO t(v) VALUES ('kept')");
    w.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < 2000; ++i) w.exec("INSERT INTO t(v) VALUES (printf('%.1000c', 'z'))");
    w.exec("ROLLBACK");
    w.exec("INSERT INTO t(v) VALUES ('after')");
    CHECK(other.number("SELECT count(*) FROM t") == 2);
    CHECK(other.text("SELECT group_concat(v, ',') FROM (SELECT v FROM t ORDER BY id)") == "kept,after");
    CHECK(other.text("PRAGMA integrity_check") == "ok");
  }
}

TEST_CASE("what the coalescing VFS wrote is the database after it closes", "[store][wal]") {
  TempDir dir;
  const std::string path = dir.file("c.db");
  {
    Db w(path, anxin::coalescing_wal_vfs());
    int persist = 1;  // keep the WAL, as the store does: the frames are read from it
    sqlite3_file_control(w.db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    w.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    for (int i = 0; i < 100; ++i) w.exec("INSERT INTO t(v) VALUES (printf('%.500c', 'q'))");
  }
  Db again(path, nullptr);
  CHECK(again.number("SELECT count(*) FROM t") == 100);
  CHECK(again.text("PRAGMA integrity_check") == "ok");
}

namespace {

// The newest thread of this process with that name, as /proc/self/task/TID.
std::string thread_named(const std::string& name) {
  std::string found;
  long newest = -1;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::string comm;
    std::getline(std::ifstream(task.path() / "comm"), comm);
    const long tid = std::stol(task.path().filename().string());
    if (comm == name && tid > newest) {
      newest = tid;
      found = task.path().string();
    }
  }
  return found;
}

}  // namespace

TEST_CASE("the store's writer coalesces its WAL writes under FULL and not under NORMAL", "[store][wal]") {
  for (const bool full : {true, false}) {
    TempDir dir;
    anxin::Store store(dir.file("s.db"), anxin::StoreOptions{full});
    store.start();
    std::string writer;  // the writer names itself as it starts
    for (int i = 0; i < 200 && writer.empty(); ++i) {
      writer = thread_named("anxin-writer");
      if (writer.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(!writer.empty());
    auto commit_20_pages = [&] {
      store.submit({anxin::SqlWrite{[](sqlite3* db) {
        sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)", nullptr, nullptr, nullptr);
        for (int i = 0; i < 20; ++i)
          sqlite3_exec(db, "INSERT INTO t(v) VALUES (printf('%.3000c', 'x'))", nullptr, nullptr, nullptr);
      }}});
      store.drain();
    };
    commit_20_pages();  // the table, and the WAL's first frames
    const long long before = writes_so_far(writer);
    commit_20_pages();
    const long long writes = writes_so_far(writer) - before;
    store.stop();
    INFO((full ? "synchronous=FULL: " : "synchronous=NORMAL: ") << writes << " write calls");
    if (full)
      CHECK(writes == 1);
    else
      CHECK(writes >= 40);
    store.read([](sqlite3* db) {
      sqlite3_stmt* s = nullptr;
      sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &s, nullptr);
      REQUIRE(sqlite3_step(s) == SQLITE_ROW);
      CHECK(sqlite3_column_int(s, 0) == 40);
      sqlite3_finalize(s);
    });
  }
}

TEST_CASE("a commit's sync is left to whoever holds CommitSyncDeferred but not a new WAL header's", "[store][wal]") {
  TempDir dir;
  anxin::test::FullDisk disk(dir.path().string());  // never filled: it counts the WAL's syncs
  const std::string path = dir.file("d.db");
  Db w(path, anxin::coalescing_wal_vfs());
  {
    // The WAL's first commit: SQLite syncs its new header before the frames after
    // it, and that sync is done; the commit's own is left.
    const int before = disk.wal_syncs();
    const anxin::CommitSyncDeferred deferred;
    w.exec("CREATE TABLE t(v)");
    CHECK(disk.wal_syncs() == before + 1);
    REQUIRE(deferred.fd() >= 0);
    CHECK(inode_of(deferred.fd()) == inode_of(path + "-wal"));
  }
  {
    const int before = disk.wal_syncs();
    const anxin::CommitSyncDeferred deferred;
    w.exec("INSERT INTO t VALUES (1)");
    CHECK(disk.wal_syncs() == before);
    CHECK(deferred.fd() >= 0);
  }
  Db other(path, nullptr);
  CHECK(other.number("SELECT count(*) FROM t") == 1);  // committed, and seen by others
  const int before = disk.wal_syncs();
  w.exec("INSERT INTO t VALUES (2)");  // no CommitSyncDeferred: synced as SQLite asks
  CHECK(disk.wal_syncs() == before + 1);
}

TEST_CASE("a commit is acked after its WAL's sync and the next is committed meanwhile", "[store][wal]") {
  TempDir dir;
  const std::string path = dir.file("s.db");
  held.calls = 0;
  held.fd = -1;
  held.released = false;
  anxin::StoreOptions options;
  options.max_group = 1;
  options.sync_wal = hold_first_sync;
  anxin::Store store(path, options);
  // Released however the test ends, before the store stops (it joins the syncer).
  const std::shared_ptr<void> release(nullptr, [](void*) { release_held_sync(); });
  std::mutex m;
  std::vector<int> acked;
  // Queued before the writer starts: it takes them one at a time, each with the next
  // one waiting behind it, so each commit's sync goes to the syncer.
  for (int v = 1; v <= 3; ++v) {
    const std::string sql = "CREATE TABLE IF NOT EXISTS t(v); INSERT INTO t VALUES (" + std::to_string(v) + ")";
    store.submit({anxin::SqlWrite{[sql](sqlite3* db) { sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr); }}},
                 [&, v] {
                   std::lock_guard lock(m);
                   acked.push_back(v);
                 });
  }
  store.start();
  {
    std::unique_lock lock(held.m);
    REQUIRE(held.cv.wait_for(lock, std::chrono::seconds(5), [] { return held.calls > 0; }));
  }
  CHECK(inode_of(held.fd) == inode_of(path + "-wal"));
  // The first commit's sync is held (the file's WAL began with the store's schema):
  // the commits after it are made meanwhile, and none of the three is acked.
  Db other(path, nullptr);
  std::int64_t rows = 0;
  for (int i = 0; i < 500 && rows < 3; ++i) {
    if (other.number("SELECT count(*) FROM sqlite_schema WHERE name = 't'") == 1)
      rows = other.number("SELECT count(*) FROM t");
    if (rows < 3) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(rows == 3);
  {
    std::lock_guard lock(m);
    CHECK(acked.empty());
  }
  release_held_sync();
  store.drain();
  std::lock_guard lock(m);
  CHECK(acked == std::vector<int>{1, 2, 3});
}
