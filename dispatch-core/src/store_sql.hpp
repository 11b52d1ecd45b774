// Private to dispatch-core's Store: errors from SQLite as StoreError or StorageFull,
// and the prepared statement every query uses. Shared by store.cpp (the live path)
// and store_admin.cpp (what anxin-admin changes).
#pragma once

#include <sqlite3.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "anxin/core/store.hpp"

namespace anxin::store_sql {

// SQLITE_FULL (a write found the disk full: SQLite's Unix layer turns ENOSPC from
// write() into it), or an I/O error the system put down to space or quota, such as
// growing the WAL index (SQLITE_IOERR_SHMSIZE).
inline bool out_of_space(sqlite3* db, int rc) {
  if ((rc & 0xff) == SQLITE_FULL) return true;
  if ((rc & 0xff) != SQLITE_IOERR || !db) return false;
  const int e = sqlite3_system_errno(db);
  return e == ENOSPC || e == EDQUOT;
}

inline void check(sqlite3* db, int rc, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (out_of_space(db, rc)) throw StorageFull(msg);
  throw StoreError(msg);
}

// A prepared statement that lives as long as its connection and resets itself
// after each use.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    check(db, sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr), sql);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& bind(int i, int v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& bind(int i, bool v) { sqlite3_bind_int(s_, i, v ? 1 : 0); return *this; }
  Stmt& bind(int i, double v) { sqlite3_bind_double(s_, i, v); return *this; }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_null(int i) { sqlite3_bind_null(s_, i); return *this; }

  // Runs a statement that returns no rows.
  void run() {
    int rc = sqlite3_step(s_);
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    check(db_, rc, sqlite3_sql(s_));
  }
  // Steps a query; false when done (and then resets).
  bool next() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    check(db_, rc, sqlite3_sql(s_));
    return false;
  }
  std::int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  double f64(int col) const { return sqlite3_column_double(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    auto p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, col)) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace anxin::store_sql
