// Private to dispatch-core's Store: errors from SQLite as StoreError, StorageFull or StoreBusy,
// and the prepared statement every query uses. Shared by store.cpp (the live path)
// and store_admin.cpp (what anxin-admin changes), and by store_image.cpp.
#pragma once

#include <sqlite3.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

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

// Another connection holds a lock this one needs: SQLITE_BUSY (in this program,
// only once the 5 s busy timeout has passed, or at once where waiting could not help)
// or SQLITE_LOCKED, with any of their extended codes.
// A stored name read back as its enum; a name this program does not know (a newer
// version's, a hand edit) reads as `fallback`.
template <class E> E enum_or(std::string_view text, E fallback) { return parse_enum<E>(text).value_or(fallback); }

// Comma-separated, as list columns (skills, service areas, flags) are kept.
inline std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ',';
    out += p;
  }
  return out;
}

inline bool lock_busy(int rc) { return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED; }

inline void check(sqlite3* db, int rc, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (out_of_space(db, rc)) throw StorageFull(msg);
  if (lock_busy(rc)) throw StoreBusy(msg);
  throw StoreError(msg);
}

// `body` under the write lock, committed, or rolled back if anything in it throws.
template <class F> void in_transaction(sqlite3* db, F&& body) {
  check(db, sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), "BEGIN IMMEDIATE");
  try {
    body();
    check(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), "COMMIT");
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
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
  // Text that stays where it is until run() returns (a field of the op being applied,
  // or a temporary of the same expression as run()): SQLite reads it in place instead
  // of copying it. Binding and copying the writer's text was 9 % of the writer with
  // only new alerts (docs/benchmarks.md, "The alarm's own JSON").
  Stmt& bind_kept(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind_null(int i) { sqlite3_bind_null(s_, i); return *this; }
  // Ready for a new use, even if the last one stopped half-way (an exception while
  // reading rows): a statement kept for reuse must not keep its read open.
  Stmt& fresh() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return *this;
  }

  // Runs a statement that returns no rows; for an INSERT, UPDATE or DELETE, how many
  // rows it changed.
  int run() {
    int rc = sqlite3_step(s_);
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    check(db_, rc, sqlite3_sql(s_));
    return sqlite3_changes(db_);
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
  std::string text(int col) const { return std::string(view(col)); }
  // The column's text where SQLite holds it, until the next step: for rows read by the
  // million, into strings that keep their room (no allocation per field).
  std::string_view view(int col) const {
    auto p = sqlite3_column_text(s_, col);
    return p ? std::string_view(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, col)) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

// A connection of one reader's own, opened without SQLite's serialized mode: on the
// shared ones its mutex was taken by every sqlite3_column_* call, 16 % of a city's
// start in a profile (docs/benchmarks.md, "A million elders"). Closed when it goes.
struct OwnReader {
  sqlite3* db = nullptr;
  explicit OwnReader(const std::string& path) {
    if (int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
        rc != SQLITE_OK) {
      std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close(db);
      throw StoreError("cannot open " + path + " to load: " + why);
    }
    sqlite3_busy_timeout(db, 5000);
  }
  ~OwnReader() { sqlite3_close(db); }
  OwnReader(const OwnReader&) = delete;
  OwnReader& operator=(const OwnReader&) = delete;
};

}  // namespace anxin::store_sql

namespace anxin {

// One row per assignment; queries select kAssignmentColumns first, from `assignments a`.
constexpr const char* kAssignmentColumns =
    "a.id, a.incident_id, a.worker_id, a.state, a.chosen_by_operator, a.eta_s, a.distance_m, a.offered_ms,"
    " a.expires_ms, a.accepted_ms, a.on_scene_ms, a.completed_ms, a.note";

// The statements behind Store's reads on the live path (issue 11, item 3): prepared
// once, not on every call. Guarded by Store::read_mu_.
struct Store::Reads {
  store_sql::Stmt account, elder_incidents, elder_visits, worker_history, alert, last_audit, audit_since,
      token;
  explicit Reads(sqlite3* db)
      : account(db,
                "SELECT username, password_hash, kind, display_name, IFNULL(worker_id, 0), disabled FROM accounts"
                " WHERE username=?"),
        elder_incidents(db,
                        "SELECT i.id, i.opened_ms, i.resolved_ms, i.disposition,"
                        " (SELECT kind FROM alerts WHERE incident_id = i.id ORDER BY id LIMIT 1)"
                        " FROM incidents i WHERE i.elder_id=? AND i.state='resolved'"
                        " ORDER BY i.opened_ms DESC LIMIT ?"),
        elder_visits(db,
                     "SELECT id, elder_id, IFNULL(worker_id, 0), at_ms, mode, areas, notes, hazards, incident_id"
                     " FROM visits WHERE elder_id=? ORDER BY at_ms DESC LIMIT ?"),
        // The worker's assignments in the latest `limit` resolved incidents, in one
        // query rather than one per incident.
        worker_history(db, (std::string("SELECT ") + kAssignmentColumns +
                            ", i.elder_id, i.state, i.opened_ms, i.resolved_ms, i.disposition"
                            " FROM assignments a JOIN incidents i ON i.id = a.incident_id"
                            " WHERE a.worker_id = ?1 AND a.incident_id IN ("
                            "  SELECT i2.id FROM incidents i2 JOIN assignments a2 ON a2.incident_id = i2.id"
                            "  WHERE a2.worker_id = ?1 AND i2.state = 'resolved' AND i2.opened_ms >= ?2"
                            "  GROUP BY i2.id ORDER BY i2.opened_ms DESC LIMIT ?3)"
                            " ORDER BY i.opened_ms DESC, i.id, a.id")
                               .c_str()),
        alert(db,
              "SELECT id, elder_id, kind, device_time_ms, received_ms, incident_id, detail, repeats"
              " FROM alerts WHERE device_id=? AND device_boot=? AND device_seq=? ORDER BY id"),
        last_audit(db, "SELECT IFNULL(MAX(id), 0) FROM audit"),
        audit_since(db,
                    "SELECT action, detail FROM audit WHERE id > ? AND id <= ? AND action IN (?,?,?,?) ORDER BY id"),
        token(db, "SELECT role, subject, expires_ms FROM tokens WHERE token_hash=?") {}
};

}  // namespace anxin
