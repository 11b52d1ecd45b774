#include "anxin/core/store.hpp"

#include "incident_json.hpp"
#include "store_registry.hpp"
#include "store_sql.hpp"
#include "wal_writes.hpp"
#include "anxin/core/visits_store.hpp"
#include "anxin/core/write_plan.hpp"

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <sstream>

namespace anxin {

using store_sql::check;
using store_sql::enum_or;
using store_sql::join;
using store_sql::out_of_space;
using store_sql::OwnReader;
using store_sql::Stmt;

namespace {

// How long the writer pauses before trying again a commit that another program's
// lock kept out. Short: SQLite's busy handler has already waited 5 s for the lock
// (busy_timeout), and a SQLITE_LOCKED comes back without waiting at all.
constexpr int kLockRetryMs = 50;

// Each entry moves the schema from version i to i + 1. Never edit a shipped entry;
// append a new one.
const std::array<const char*, Store::kSchemaVersion> kMigrations = {
    R"sql(
CREATE TABLE workers(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  phone TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL,
  skills TEXT NOT NULL DEFAULT '',          -- comma-separated
  town TEXT NOT NULL DEFAULT '',
  on_duty INTEGER NOT NULL DEFAULT 0,
  lat REAL NOT NULL DEFAULT 0,
  lon REAL NOT NULL DEFAULT 0,
  position_ms INTEGER NOT NULL DEFAULT 0);

CREATE TABLE elders(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  sex TEXT NOT NULL,
  birth_date TEXT NOT NULL,
  phone TEXT NOT NULL DEFAULT '',
  id_number TEXT NOT NULL UNIQUE,
  town TEXT NOT NULL,
  community TEXT NOT NULL,
  address TEXT NOT NULL,
  lat REAL NOT NULL,
  lon REAL NOT NULL,
  living TEXT NOT NULL,
  ability TEXT,                              -- NULL: not assessed
  bedridden INTEGER NOT NULL DEFAULT 0,
  limited_mobility INTEGER NOT NULL DEFAULT 0,
  disability_grade INTEGER NOT NULL DEFAULT 0 CHECK (disability_grade BETWEEN 0 AND 4),
  dementia INTEGER NOT NULL DEFAULT 0,
  special_family INTEGER NOT NULL DEFAULT 0,
  economic TEXT NOT NULL,
  family_doctor TEXT NOT NULL DEFAULT '',
  family_doctor_phone TEXT NOT NULL DEFAULT '',
  paired_worker INTEGER REFERENCES workers(id),
  visit_consent INTEGER NOT NULL DEFAULT 0);

CREATE TABLE emergency_contacts(
  elder_id INTEGER NOT NULL REFERENCES elders(id),
  ord INTEGER NOT NULL,
  name TEXT NOT NULL,
  relation TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL,
  PRIMARY KEY (elder_id, ord));

CREATE TABLE devices(
  id TEXT PRIMARY KEY,
  elder_id INTEGER NOT NULL REFERENCES elders(id),
  kind TEXT NOT NULL,
  vendor TEXT NOT NULL,
  battery_pct INTEGER NOT NULL DEFAULT 100,
  last_seen_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX devices_by_elder ON devices(elder_id);

CREATE TABLE tokens(
  token_hash TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('device', 'console', 'field')),
  subject TEXT NOT NULL);

CREATE TABLE incidents(
  id INTEGER PRIMARY KEY,
  elder_id INTEGER NOT NULL REFERENCES elders(id),
  state TEXT NOT NULL,
  opened_ms INTEGER NOT NULL,
  acknowledged_ms INTEGER NOT NULL DEFAULT 0,
  acknowledged_by TEXT NOT NULL DEFAULT '',
  resolved_ms INTEGER NOT NULL DEFAULT 0,
  disposition TEXT NOT NULL DEFAULT '');
CREATE INDEX incidents_open ON incidents(state) WHERE state <> 'resolved';
CREATE INDEX incidents_by_elder ON incidents(elder_id);

CREATE TABLE alerts(
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices(id),
  elder_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  device_time_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  device_seq INTEGER NOT NULL,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  detail TEXT NOT NULL DEFAULT '{}',
  UNIQUE (device_id, device_seq));

CREATE TABLE incident_events(
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  alert_id INTEGER,
  alert_kind TEXT,
  text TEXT NOT NULL DEFAULT '');
CREATE INDEX incident_events_by_incident ON incident_events(incident_id, id);
)sql",
    // 2: dispatch. Worker status and transport, responders, call tasks, escalations,
    // the append-only audit log and the closing records.
    R"sql(
ALTER TABLE workers ADD COLUMN status TEXT NOT NULL DEFAULT 'off_duty';
ALTER TABLE workers ADD COLUMN mode TEXT NOT NULL DEFAULT 'ebike';
ALTER TABLE workers ADD COLUMN accuracy_m REAL NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN incident_id INTEGER NOT NULL DEFAULT 0;
UPDATE workers SET status = CASE WHEN on_duty THEN 'available' ELSE 'off_duty' END;

ALTER TABLE incidents ADD COLUMN callback TEXT NOT NULL DEFAULT 'none';
ALTER TABLE incidents ADD COLUMN dispatched_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN accepted_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN on_scene_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN proposed_worker INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN responders_wanted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN escalations TEXT NOT NULL DEFAULT '[]';
CREATE INDEX incidents_by_opened ON incidents(opened_ms);

CREATE TABLE assignments(
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  worker_id INTEGER NOT NULL REFERENCES workers(id),
  state TEXT NOT NULL,
  chosen_by_operator INTEGER NOT NULL DEFAULT 0,
  eta_s REAL NOT NULL DEFAULT 0,
  distance_m REAL NOT NULL DEFAULT 0,
  offered_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL DEFAULT 0,
  accepted_ms INTEGER NOT NULL DEFAULT 0,
  on_scene_ms INTEGER NOT NULL DEFAULT 0,
  completed_ms INTEGER NOT NULL DEFAULT 0,
  note TEXT NOT NULL DEFAULT '');
CREATE INDEX assignments_by_incident ON assignments(incident_id);
CREATE INDEX assignments_by_worker ON assignments(worker_id, id);

CREATE TABLE call_tasks(
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  kind TEXT NOT NULL,
  contact_index INTEGER NOT NULL DEFAULT -1,
  name TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  due_ms INTEGER NOT NULL DEFAULT 0,
  closed_ms INTEGER NOT NULL DEFAULT 0,
  actor TEXT NOT NULL DEFAULT '');
CREATE INDEX call_tasks_by_incident ON call_tasks(incident_id);

CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  incident_id INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '{}');
CREATE INDEX audit_by_incident ON audit(incident_id);
-- Append-only: records must be complete and auditable (001 三.3).
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;

CREATE TABLE closing_records(
  incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),
  closed_ms INTEGER NOT NULL,
  disposition TEXT NOT NULL,
  record TEXT NOT NULL);
)sql",
    // 3: logins, sessions and visits. Staff and field workers log in with a
    // password (argon2id hashes only); a login opens an expiring session token.
    R"sql(
CREATE TABLE accounts(
  username TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('operator', 'supervisor', 'worker')),
  display_name TEXT NOT NULL,
  worker_id INTEGER REFERENCES workers(id),
  disabled INTEGER NOT NULL DEFAULT 0);
ALTER TABLE tokens ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN resolved_by TEXT NOT NULL DEFAULT '';

CREATE TABLE visits(
  id INTEGER PRIMARY KEY,
  elder_id INTEGER NOT NULL REFERENCES elders(id),
  worker_id INTEGER REFERENCES workers(id),
  at_ms INTEGER NOT NULL,
  mode TEXT NOT NULL,
  areas TEXT NOT NULL DEFAULT '',            -- comma-separated service areas
  notes TEXT NOT NULL DEFAULT '',
  hazards TEXT NOT NULL DEFAULT '',
  incident_id INTEGER NOT NULL DEFAULT 0);
CREATE INDEX visits_by_elder ON visits(elder_id, at_ms);
)sql",
    // 4: when each worker's shift began, for the workers board.
    R"sql(
ALTER TABLE workers ADD COLUMN duty_since_ms INTEGER NOT NULL DEFAULT 0;
)sql",
    // 5: the SIM number of a device that calls the centre (一键通), so a call on the
    // SIP line finds its elder by the caller's number (issue 9).
    R"sql(
ALTER TABLE devices ADD COLUMN sim TEXT NOT NULL DEFAULT '';
ALTER TABLE elders ADD COLUMN unknown_caller INTEGER NOT NULL DEFAULT 0;
)sql",
    // 6: the outbox (issue 11). Every SMS and call request is written here in the
    // transaction of the command that caused it, and settled when the notifier
    // reports on it; a start re-sends what is still pending.
    R"sql(
CREATE TABLE outbox(
  id TEXT PRIMARY KEY,                       -- the notice's id, e.g. call-12
  kind TEXT NOT NULL,
  task_id INTEGER NOT NULL DEFAULT 0,
  incident_id INTEGER NOT NULL DEFAULT 0,
  elder_id INTEGER NOT NULL DEFAULT 0,
  to_name TEXT NOT NULL DEFAULT '',
  to_phone TEXT NOT NULL,
  text TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  settled_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX outbox_pending ON outbox(at_ms) WHERE state = 'pending';
)sql",
    // 7: the visiting programme (issue 12), whose tables visits_store.cpp keeps.
    visits::kSchema,
    // 8: devices as they really connect (issue 13). A device's counter restarts when
    // it reboots, so (device, seq) is no longer unique: an alarm is known by its boot,
    // seq, kind and device time. SQLite cannot drop a UNIQUE constraint, so the table
    // is built again. `repeats` counts the alarms of a storm folded into an alert;
    // `supervised` marks a device that has sent heartbeats and so has a check-in.
    R"sql(
CREATE TABLE alerts_v8(
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices(id),
  elder_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  device_time_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  device_seq INTEGER NOT NULL,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  detail TEXT NOT NULL DEFAULT '{}',
  device_boot TEXT NOT NULL DEFAULT '',
  repeats INTEGER NOT NULL DEFAULT 0);
INSERT INTO alerts_v8(id, device_id, elder_id, kind, device_time_ms, received_ms, device_seq, incident_id, detail)
  SELECT id, device_id, elder_id, kind, device_time_ms, received_ms, device_seq, incident_id, detail FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_v8 RENAME TO alerts;
CREATE INDEX alerts_by_device ON alerts(device_id, device_boot, device_seq);
ALTER TABLE incidents ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN supervised INTEGER NOT NULL DEFAULT 0;
)sql",
    // 9: manual incidents, history and reopening (issue 14). The history search reads
    // resolved incidents newest first and each one's alerts (history.cpp). Manual
    // incidents need no table: their alerts come from each elder's desk pseudo-device,
    // a row of `devices` (dispatch_manual.cpp).
    R"sql(
CREATE INDEX incidents_resolved ON incidents(resolved_ms) WHERE state = 'resolved';
CREATE INDEX alerts_by_incident ON alerts(incident_id, id);
)sql",
    // 10: handover and presence (issue 14): each handover offered between staff, with its
    // notes and incidents (a JSON array of ids) and what became of it
    // (ws-gateway/src/handover.cpp, docs/protocol.md "Presence and handover").
    R"sql(
CREATE TABLE handovers (
  id INTEGER PRIMARY KEY,
  from_name TEXT NOT NULL,
  to_name TEXT NOT NULL,
  notes TEXT NOT NULL DEFAULT '',
  incidents TEXT NOT NULL DEFAULT '[]',
  state TEXT NOT NULL CHECK (state IN ('offered', 'accepted', 'declined', 'cancelled', 'lapsed')),
  offered_ms INTEGER NOT NULL,
  answered_ms INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX handovers_by_time ON handovers(offered_ms);
)sql",
    // 11: the elder's care record (issue 14, item 6; elder_record.hpp): one row per
    // elder who has one, read on demand, never loaded into memory. Lists are JSON arrays.
    R"sql(
CREATE TABLE elder_care(
  elder_id INTEGER PRIMARY KEY REFERENCES elders(id),
  conditions TEXT NOT NULL DEFAULT '[]',
  medications TEXT NOT NULL DEFAULT '[]',
  allergies TEXT NOT NULL DEFAULT '[]',
  hospital TEXT NOT NULL DEFAULT '',
  entry TEXT NOT NULL DEFAULT '',
  entry_code TEXT NOT NULL DEFAULT '',
  hearing TEXT NOT NULL DEFAULT '',
  dialect TEXT NOT NULL DEFAULT '',
  photo BLOB,
  updated_ms INTEGER NOT NULL DEFAULT 0,
  updated_by TEXT NOT NULL DEFAULT '');
)sql",
    // 12: the registry's image beside the file (issue 15, item 5; registry_image.hpp):
    // the stamp of the image that holds this file's elders and devices, when a server
    // stopped cleanly and nothing has changed them since.
    "CREATE TABLE registry_image(stamp TEXT NOT NULL);",
    // 13: an alert's row is also its entry on the incident's timeline (issue 15, item
    // 1): `after_event` is the last id in incident_events when it was written, which
    // places it among its incident's other entries; an older alert (null) has its
    // entry in incident_events. A joined alert wrote the same five facts twice, two
    // b-trees more per alert for the writer and the WAL (docs/benchmarks.md, "An
    // alert's row is its timeline entry").
    "ALTER TABLE alerts ADD COLUMN after_event INTEGER;",
    // 14: no index of the audit log by incident. Nothing the server reads uses one: it
    // reads the log in id order (replay, the admin tool's changes), and an incident's
    // history is its timeline. Every alarm's audit row put an entry at a random place in
    // it: 23 % of the pages the commits wrote with only new alerts (issue 15, item 1;
    // docs/benchmarks.md, "The audit log's index by incident, and a joining alert's
    // incident row").
    "DROP INDEX IF EXISTS audit_by_incident;",
    // 15: whether a server has run on the file since its registry's image was written
    // (registry_image.hpp). The image then still holds the elders and devices, but the
    // devices' battery, last contact and supervision are those in the rows.
    "ALTER TABLE registry_image ADD COLUMN server_ran INTEGER NOT NULL DEFAULT 0;",
    // 16: the elders and devices added, changed or taken away since the registry's
    // image was written (registry_image.hpp), which a start reads from the rows over
    // the image; an edit used to send it back to every row.
    "CREATE TABLE registry_changed_elders(id INTEGER PRIMARY KEY);"
    "CREATE TABLE registry_changed_devices(serial TEXT PRIMARY KEY) WITHOUT ROWID;",
    // 17: each name of a change in the order it was made, so that an image written from
    // the rows while the server runs (Store::image_from_rows) forgets only the names
    // made before it read them; a later change to the same elder renames it after.
    // The names so far are kept; the triggers that write them are this version's
    // from here on (Store::Store).
    "ALTER TABLE registry_changed_elders RENAME TO registry_changed_elders_16;"
    "ALTER TABLE registry_changed_devices RENAME TO registry_changed_devices_16;"
    "CREATE TABLE registry_changed_elders(seq INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER NOT NULL UNIQUE);"
    "CREATE TABLE registry_changed_devices(seq INTEGER PRIMARY KEY AUTOINCREMENT, serial TEXT NOT NULL UNIQUE);"
    "INSERT INTO registry_changed_elders(id) SELECT id FROM registry_changed_elders_16;"
    "INSERT INTO registry_changed_devices(serial) SELECT serial FROM registry_changed_devices_16;"
    "DROP TABLE registry_changed_elders_16; DROP TABLE registry_changed_devices_16;",
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

// `coalesce_wal`: write each commit to the WAL in one piece (wal_writes.hpp), for the
// writer's connection when it syncs every commit.
sqlite3* open_connection(const std::string& path, bool synchronous_full, bool coalesce_wal = false) {
  // No memory statistics: keeping them takes one process-wide mutex on every
  // allocation SQLite makes, which the writer, the readers and the checkpointer then
  // contend for. Only possible before SQLite's first use in the process; after it,
  // SQLITE_MISUSE, and the statistics stay on.
  static const int no_memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)no_memstatus;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           coalesce_wal && synchronous_full ? coalescing_wal_vfs() : nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw StoreError("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  auto pragma = [&](const char* sql) {
    check(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), sql);
  };
  // Keep the WAL and its index (-wal, -shm) when the last connection closes. The
  // next start cuts the index to 3 bytes and regrows it at once, into the space it
  // has just given back; an index made afresh needs space a full disk does not
  // have, and without one nothing can be read.
  int persist = 1;
  sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  pragma("PRAGMA journal_mode=WAL");
  pragma(synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  pragma("PRAGMA foreign_keys=ON");
  return db;
}

}  // namespace

std::string_view name_of(Role r) {
  switch (r) {
    case Role::device: return "device";
    case Role::console: return "console";
    case Role::field: return "field";
  }
  return "?";
}

std::optional<Role> parse_role(std::string_view s) {
  for (Role r : {Role::device, Role::console, Role::field})
    if (name_of(r) == s) return r;
  return std::nullopt;
}

namespace {
void sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw StoreError("libsodium failed to initialise");
}
}  // namespace

std::string token_hash(std::string_view token) {
  sodium_ready();
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  char hex[2 * sizeof h + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return hex;
}

std::string random_token(std::string_view prefix) {
  sodium_ready();
  unsigned char raw[18];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return std::string(prefix) + hex;
}

bool verify_password(const std::string& hash, std::string_view password) {
  sodium_ready();
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string hash_password(std::string_view password) {
  if (password.size() < 8) throw StoreError("a password needs at least 8 characters");
  sodium_ready();
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    throw StoreError("out of memory hashing a password");
  return hash;
}

Principal Account::principal() const {
  if (kind == "worker") return {Role::field, "worker:" + std::to_string(worker)};
  return {Role::console, kind + ":" + display_name};
}

namespace {

Stmt& bind_visit(Stmt& s, const Visit& v) {
  std::vector<std::string> areas;
  for (auto a : v.areas) areas.emplace_back(name_of(a));
  s.bind(1, v.elder);
  if (v.worker) s.bind(2, v.worker); else s.bind_null(2);
  return s.bind(3, v.at_ms).bind(4, name_of(v.mode)).bind(5, join(areas)).bind(6, v.notes).bind(7, v.hazards)
      .bind(8, v.incident);
}

Assignment read_assignment(const Stmt& a) {
  Assignment x;
  x.id = a.i64(0); x.incident = a.i64(1); x.worker = a.i64(2);
  x.state = enum_or(a.text(3), AssignmentState::cancelled); x.chosen_by_operator = a.i64(4) != 0;
  x.eta_s = a.f64(5); x.distance_m = a.f64(6); x.offered_ms = a.i64(7); x.expires_ms = a.i64(8);
  x.accepted_ms = a.i64(9); x.on_scene_ms = a.i64(10); x.completed_ms = a.i64(11); x.note = a.text(12);
  return x;
}

// The outbox's rows, oldest first, `where` a condition on them.
std::vector<Store::OutboxRow> read_outbox(sqlite3* db, const std::string& where) {
  Stmt s(db, ("SELECT id, kind, task_id, incident_id, elder_id, to_name, to_phone, text, at_ms, state, attempts,"
              " reason, settled_ms FROM outbox " + where + " ORDER BY at_ms, rowid").c_str());
  std::vector<Store::OutboxRow> out;
  while (s.next()) {
    Store::OutboxRow r;
    Notice& n = r.notice;
    n.id = s.text(0);
    n.kind = enum_or(s.text(1), NoticeKind::contact_sms);  // one this program does not know: the most harmless
    n.task_id = s.i64(2); n.incident = s.i64(3); n.elder = s.i64(4);
    n.to_name = s.text(5); n.to_phone = s.text(6); n.text = s.text(7); n.at_ms = s.i64(8);
    r.state = enum_or(s.text(9), NoticeState::pending);
    r.attempts = static_cast<int>(s.i64(10)); r.reason = s.text(11); r.settled_ms = s.i64(12);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

struct Store::Statements {
  Stmt put_alert, repeat_alert, put_incident, update_incident, add_timeline, touch_device, put_worker,
      put_assignment, put_call, append_audit, put_closing, put_visit, put_token, delete_token, put_caller,
      put_caller_device, purge_tokens, put_notice, settle_notice, last_event_id, begin, commit;
  // The last row in incident_events, as the writer goes: a new alert's `after_event`.
  std::int64_t last_event = 0;
  explicit Statements(sqlite3* db)
      : put_alert(db,
                  "INSERT INTO alerts(id, device_id, elder_id, kind, device_time_ms, received_ms,"
                  " device_seq, incident_id, detail, device_boot, repeats, after_event)"
                  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET repeats=excluded.repeats"),
        repeat_alert(db, "UPDATE alerts SET repeats=? WHERE id=?"),
        put_incident(db,
                     "INSERT INTO incidents(id, elder_id, state, opened_ms, acknowledged_ms,"
                     " acknowledged_by, resolved_ms, disposition, callback, dispatched_ms, accepted_ms,"
                     " on_scene_ms, proposed_worker, escalations, responders_wanted, resolved_by, repeats)"
                     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                     " ON CONFLICT(id) DO UPDATE SET state=excluded.state,"
                     " acknowledged_ms=excluded.acknowledged_ms, acknowledged_by=excluded.acknowledged_by,"
                     " resolved_ms=excluded.resolved_ms, disposition=excluded.disposition,"
                     " callback=excluded.callback, dispatched_ms=excluded.dispatched_ms,"
                     " accepted_ms=excluded.accepted_ms, on_scene_ms=excluded.on_scene_ms,"
                     " proposed_worker=excluded.proposed_worker, escalations=excluded.escalations,"
                     " responders_wanted=excluded.responders_wanted, resolved_by=excluded.resolved_by,"
                     " elder_id=excluded.elder_id, repeats=excluded.repeats"),
        // put_incident's parameters by number (opened_ms, ?4, never changes), for an
        // incident whose elder and state stay as they are.
        update_incident(db,
                        "UPDATE incidents SET acknowledged_ms=?5, acknowledged_by=?6, resolved_ms=?7,"
                        " disposition=?8, callback=?9, dispatched_ms=?10, accepted_ms=?11, on_scene_ms=?12,"
                        " proposed_worker=?13, escalations=?14, responders_wanted=?15, resolved_by=?16,"
                        " repeats=?17 WHERE id=?1 AND elder_id=?2 AND state=?3"),
        add_timeline(db,
                     "INSERT INTO incident_events(incident_id, at_ms, kind, actor, alert_id,"
                     " alert_kind, text) VALUES (?,?,?,?,?,?,?)"),
        touch_device(db, "UPDATE devices SET battery_pct=?, last_seen_ms=?, supervised=? WHERE id=?"),
        put_worker(db,
                   "UPDATE workers SET status=?, on_duty=?, mode=?, lat=?, lon=?, accuracy_m=?,"
                   " position_ms=?, incident_id=?, duty_since_ms=? WHERE id=?"),
        put_assignment(db,
                       "INSERT OR REPLACE INTO assignments(id, incident_id, worker_id, state,"
                       " chosen_by_operator, eta_s, distance_m, offered_ms, expires_ms, accepted_ms,"
                       " on_scene_ms, completed_ms, note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"),
        put_call(db,
                 "INSERT OR REPLACE INTO call_tasks(id, incident_id, kind, contact_index, name, phone,"
                 " state, created_ms, due_ms, closed_ms, actor) VALUES (?,?,?,?,?,?,?,?,?,?,?)"),
        append_audit(db, "INSERT INTO audit(at_ms, actor, action, incident_id, detail) VALUES (?,?,?,?,?)"),
        put_closing(db,
                    "INSERT OR REPLACE INTO closing_records(incident_id, closed_ms, disposition, record)"
                    " VALUES (?,?,?,?)"),
        put_visit(db,
                  "INSERT INTO visits(elder_id, worker_id, at_ms, mode, areas, notes, hazards, incident_id)"
                  " VALUES (?,?,?,?,?,?,?,?)"),
        put_token(db, "INSERT OR REPLACE INTO tokens(token_hash, role, subject, expires_ms) VALUES (?,?,?,?)"),
        delete_token(db, "DELETE FROM tokens WHERE token_hash=?"),
        put_caller(db,
                   "INSERT INTO elders(id, name, sex, birth_date, phone, id_number, town, community, address,"
                   " lat, lon, living, economic, unknown_caller) VALUES (?,?,?,?,?,?,'','','',0,0,?,?,1)"),
        put_caller_device(db,
                          "INSERT INTO devices(id, elder_id, kind, vendor, battery_pct, last_seen_ms, sim)"
                          " VALUES (?,?,?,?,100,?,?)"),
        purge_tokens(db, "DELETE FROM tokens WHERE expires_ms > 0 AND expires_ms <= ?"),
        put_notice(db,
                   "INSERT OR REPLACE INTO outbox(id, kind, task_id, incident_id, elder_id, to_name, to_phone, text,"
                   " at_ms) VALUES (?,?,?,?,?,?,?,?,?)"),
        settle_notice(db, "UPDATE outbox SET state=?, attempts=?, reason=?, settled_ms=? WHERE id=?"),
        last_event_id(db, "SELECT IFNULL(MAX(id), 0) FROM incident_events"),
        begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT") {}
};

Store::Store(const std::string& path, StoreOptions options) : path_(path), options_(options) {
  write_db_ = open_connection(path, options.synchronous_full, true);
  int version = schema_version();
  if (version < kSchemaVersion) {
    // Every step in one transaction, under the write lock, from the version read
    // again under that lock: another process opening the same new file may have
    // migrated it since the read above, and must not be migrated over.
    try {
      exec("BEGIN IMMEDIATE");
      version = schema_version();
      for (int v = version; v < kSchemaVersion; ++v) exec(kMigrations[v]);
      if (version < 17) remake_image_triggers();  // 17 changed the tables they write
      if (version < kSchemaVersion) exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(write_db_, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(write_db_);
      throw;
    }
  }
  if (version > kSchemaVersion) {
    sqlite3_close(write_db_);
    throw StoreError(path + " has schema version " + std::to_string(version) +
                     ", newer than this program's " + std::to_string(kSchemaVersion));
  }
  read_db_ = open_connection(path, options.synchronous_full);
  checkpoint_db_ = open_connection(path, options.synchronous_full);
  stmts_ = std::make_unique<Statements>(write_db_);
  reads_ = std::make_unique<Reads>(read_db_);
  exec(("PRAGMA journal_size_limit=" + std::to_string(options_.wal_limit_bytes)).c_str());
  Stmt page(write_db_, "PRAGMA page_size");
  while (page.next()) page_size_ = page.i64(0);
}

Store::~Store() {
  stop();
  stmts_.reset();
  reads_.reset();
  sqlite3_close(checkpoint_db_);
  sqlite3_close(read_db_);
  sqlite3_close(write_db_);
}

void Store::exec(const char* sql) const {
  char* err = nullptr;
  if (int rc = sqlite3_exec(write_db_, sql, nullptr, nullptr, &err); rc != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    if (out_of_space(write_db_, rc)) throw StorageFull(msg);
    if (store_sql::lock_busy(rc)) throw StoreBusy(msg);
    throw StoreError(msg);
  }
}

int Store::schema_version() const {
  Stmt s(write_db_, "PRAGMA user_version");
  int v = 0;
  while (s.next()) v = static_cast<int>(s.i64(0));
  return v;
}

void Store::import_registry(const std::vector<Elder>& elders, const std::vector<Device>& devices,
                            const std::vector<Worker>& workers) {
  store_sql::in_transaction(write_db_, [&] {
    Stmt w(write_db_,
           "INSERT INTO workers(id, name, phone, role, skills, town, on_duty, lat, lon,"
           " position_ms, status, mode, accuracy_m, duty_since_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const auto& x : workers) {
      // A registry that only says "on duty" means available.
      WorkerStatus status = x.status == WorkerStatus::off_duty && x.on_duty ? WorkerStatus::available : x.status;
      w.bind(1, x.id).bind(2, x.name).bind(3, x.phone).bind(4, name_of(x.role))
          .bind(5, join(x.skills)).bind(6, x.town).bind(7, status != WorkerStatus::off_duty).bind(8, x.lat)
          .bind(9, x.lon).bind(10, x.position_ms).bind(11, name_of(status)).bind(12, name_of(x.mode))
          .bind(13, x.accuracy_m).bind(14, status == WorkerStatus::off_duty ? 0 : x.duty_since_ms).run();
    }

    Stmt e(write_db_,
           "INSERT INTO elders(id, name, sex, birth_date, phone, id_number, town, community,"
           " address, lat, lon, living, ability, bedridden, limited_mobility, disability_grade,"
           " dementia, special_family, economic, family_doctor, family_doctor_phone,"
           " paired_worker, visit_consent) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    Stmt c(write_db_,
           "INSERT INTO emergency_contacts(elder_id, ord, name, relation, phone)"
           " VALUES (?,?,?,?,?)");
    for (const auto& x : elders) {
      e.bind(1, x.id).bind(2, x.name).bind(3, name_of(x.sex)).bind(4, x.birth_date)
          .bind(5, x.phone).bind(6, x.id_number).bind(7, x.town).bind(8, x.community)
          .bind(9, x.address).bind(10, x.lat).bind(11, x.lon).bind(12, name_of(x.living));
      if (x.ability) e.bind(13, name_of(*x.ability)); else e.bind_null(13);
      e.bind(14, x.bedridden).bind(15, x.limited_mobility).bind(16, x.disability_grade)
          .bind(17, x.dementia).bind(18, x.special_family).bind(19, name_of(x.economic))
          .bind(20, x.family_doctor).bind(21, x.family_doctor_phone);
      if (x.paired_worker) e.bind(22, *x.paired_worker); else e.bind_null(22);
      e.bind(23, x.visit_consent).run();
      for (size_t i = 0; i < x.contacts.size(); ++i)
        c.bind(1, x.id).bind(2, static_cast<int>(i)).bind(3, x.contacts[i].name)
            .bind(4, x.contacts[i].relation).bind(5, x.contacts[i].phone).run();
    }

    Stmt d(write_db_,
           "INSERT INTO devices(id, elder_id, kind, vendor, battery_pct, last_seen_ms, sim)"
           " VALUES (?,?,?,?,?,?,?)");
    for (const auto& x : devices)
      d.bind(1, x.id).bind(2, x.elder).bind(3, name_of(x.kind)).bind(4, x.vendor)
          .bind(5, x.battery_pct).bind(6, x.last_seen_ms).bind(7, x.sim).run();
  });
}

void Store::put_token(std::string_view token, const Principal& who, Millis expires_ms) {
  Stmt s(write_db_, "INSERT OR REPLACE INTO tokens(token_hash, role, subject, expires_ms) VALUES (?,?,?,?)");
  s.bind(1, token_hash(token)).bind(2, name_of(who.role)).bind(3, who.subject).bind(4, expires_ms).run();
}

void Store::put_account(const Account& a, std::string_view password) {
  if (a.kind != "operator" && a.kind != "supervisor" && a.kind != "worker")
    throw StoreError("account kind must be operator, supervisor or worker");
  const std::string hash = hash_password(password);
  Stmt s(write_db_,
         "INSERT OR REPLACE INTO accounts(username, password_hash, kind, display_name, worker_id, disabled)"
         " VALUES (?,?,?,?,?,?)");
  s.bind(1, a.username).bind(2, hash).bind(3, a.kind).bind(4, a.display_name);
  if (a.worker) s.bind(5, a.worker); else s.bind_null(5);
  s.bind(6, a.disabled).run();
}

size_t Store::purge_expired_tokens(Millis now) {
  Stmt s(write_db_, "DELETE FROM tokens WHERE expires_ms > 0 AND expires_ms <= ?");
  s.bind(1, now).run();
  return static_cast<size_t>(sqlite3_changes(write_db_));
}

void Store::import_visits(const std::vector<Visit>& visits) {
  store_sql::in_transaction(write_db_, [&] {
    Stmt s(write_db_,
           "INSERT INTO visits(elder_id, worker_id, at_ms, mode, areas, notes, hazards, incident_id)"
           " VALUES (?,?,?,?,?,?,?,?)");
    for (const auto& v : visits) bind_visit(s, v).run();
  });
}

std::optional<Account> Store::find_account(std::string_view username) const {
  std::lock_guard lock(read_mu_);
  Stmt& s = reads_->account.fresh();
  s.bind(1, username);
  std::optional<Account> found;
  while (s.next()) found = Account{s.text(0), s.text(1), s.text(2), s.text(3), s.i64(4), s.i64(5) != 0};
  return found;
}

ElderHistory Store::elder_history(ElderId elder, size_t limit) const {
  std::lock_guard lock(read_mu_);
  ElderHistory h;
  Stmt& s = reads_->elder_incidents.fresh();
  s.bind(1, elder).bind(2, static_cast<std::int64_t>(limit));
  while (s.next())
    h.incidents.push_back({s.i64(0), s.i64(1), s.i64(2), enum_or(s.text(4), AlertKind::sos), s.text(3)});
  Stmt& v = reads_->elder_visits.fresh();
  v.bind(1, elder).bind(2, static_cast<std::int64_t>(limit));
  while (v.next()) {
    Visit x;
    x.id = v.i64(0); x.elder = v.i64(1); x.worker = v.i64(2); x.at_ms = v.i64(3);
    x.mode = enum_or(v.text(4), VisitMode::home);
    for (const auto& a : split(v.text(5)))
      if (auto area = parse_enum<ServiceArea>(a)) x.areas.push_back(*area);
    x.notes = v.text(6); x.hazards = v.text(7); x.incident = v.i64(8);
    h.visits.push_back(std::move(x));
  }
  return h;
}

std::vector<Incident> Store::worker_history(WorkerId worker, Millis since_ms, size_t limit) const {
  std::lock_guard lock(read_mu_);
  std::vector<Incident> out;
  Stmt& s = reads_->worker_history.fresh();
  s.bind(1, worker).bind(2, since_ms).bind(3, static_cast<std::int64_t>(limit));
  while (s.next()) {
    Assignment a = read_assignment(s);
    if (out.empty() || out.back().id != a.incident) {
      Incident i;
      i.id = a.incident; i.elder = s.i64(13); i.state = enum_or(s.text(14), IncidentState::resolved);
      i.opened_ms = s.i64(15); i.resolved_ms = s.i64(16); i.disposition = s.text(17);
      out.push_back(std::move(i));
    }
    out.back().assignments.push_back(std::move(a));
  }
  return out;
}

LiveState Store::load(Millis since_ms) const {
  // When a clean stop left the elder and device tables beside the file, they are read
  // whole (registry_image.hpp), with the elders and devices changed since from their
  // rows, and the devices' state from the rows if a server ran since.
  // Otherwise a city's millions of devices are read on a second thread while this one
  // reads the elders and the rest: the two cores halve the start. Each on its own
  // connection. As before, no transaction spans the reads: at a start nothing else
  // writes, and a device read without its elder (another program adding both
  // meanwhile) is left out by restore and logged, as any row without its elder is.
  LiveState st;
  std::optional<registry_image::Tables> image = take_image(st);
  std::exception_ptr devices_failed;
  DeviceTable devices;
  std::jthread device_reader;
  if (image) {
    st.elders = std::move(image->elders);
    devices = std::move(image->devices);
  } else {
    device_reader = store_registry::read_devices_beside(path_, devices, devices_failed);
  }
  OwnReader own(path_);
  sqlite3* const db = own.db;
  {
    Stmt s(db,
           "SELECT id, name, phone, role, skills, town, status, lat, lon, position_ms, mode,"
           " accuracy_m, incident_id, duty_since_ms FROM workers ORDER BY id");
    while (s.next()) {
      Worker w;
      w.id = s.i64(0); w.name = s.text(1); w.phone = s.text(2);
      w.role = enum_or(s.text(3), WorkerRole::volunteer);
      w.skills = split(s.text(4)); w.town = s.text(5);
      w.status = enum_or(s.text(6), WorkerStatus::off_duty);
      w.on_duty = w.status != WorkerStatus::off_duty;
      w.lat = s.f64(7); w.lon = s.f64(8); w.position_ms = s.i64(9);
      w.mode = enum_or(s.text(10), TransportMode::ebike);
      w.accuracy_m = s.f64(11); w.incident = s.i64(12); w.duty_since_ms = s.i64(13);
      st.workers.push_back(std::move(w));
    }
  }
  if (!image) st.elders = store_registry::read_elders(db, store_registry::Rows::all);
  {
    const char* columns =
        "SELECT id, elder_id, state, opened_ms, acknowledged_ms, acknowledged_by, resolved_ms,"
        " disposition, callback, dispatched_ms, accepted_ms, on_scene_ms, proposed_worker, escalations,"
        " responders_wanted, resolved_by, repeats FROM incidents ";
    auto read = [](Stmt& s) {
      Incident i;
      i.id = s.i64(0); i.elder = s.i64(1); i.state = enum_or(s.text(2), IncidentState::open);
      i.opened_ms = s.i64(3); i.acknowledged_ms = s.i64(4); i.acknowledged_by = s.text(5);
      i.resolved_ms = s.i64(6); i.disposition = s.text(7);
      i.callback = enum_or(s.text(8), CallbackOutcome::none);
      i.dispatched_ms = s.i64(9); i.accepted_ms = s.i64(10); i.on_scene_ms = s.i64(11);
      i.proposed_worker = s.i64(12);
      // A bad row must not stop every start (issue 11, item 2): unreadable flags are
      // dropped, and the timers raise again those still due.
      auto esc = incident_json::json::parse(s.text(13), nullptr, false);
      try {
        if (esc.is_array()) i.escalations = incident_json::escalations_from(esc);
      } catch (...) {  // json_util's Failure, or nlohmann's type errors
        std::fprintf(stderr, "anxin store: incident %lld: unreadable escalations ignored\n",
                     static_cast<long long>(i.id));
      }
      i.responders_wanted = static_cast<int>(s.i64(14));
      i.resolved_by = s.text(15);
      i.repeats = static_cast<int>(s.i64(16));
      return i;
    };
    Stmt s(db, (std::string(columns) + "WHERE state <> 'resolved' ORDER BY id").c_str());
    std::map<IncidentId, size_t> index;
    while (s.next()) {
      Incident i = read(s);
      index[i.id] = st.open_incidents.size();
      st.open_incidents.push_back(std::move(i));
    }
    auto owner = [&](IncidentId id) -> Incident* {
      auto it = index.find(id);
      return it == index.end() ? nullptr : &st.open_incidents[it->second];
    };
    // The timelines: their rows in incident_events, and each alert since schema 13
    // right after the event it was written after (older alerts' entries are events).
    // CROSS JOIN keeps SQLite from reading every event and alert ever filed: it walks
    // the open incidents' index and reads theirs alone, each already in order.
    const size_t n = st.open_incidents.size();
    std::vector<std::vector<std::pair<std::int64_t, TimelineEntry>>> events(n), alerts(n);
    Stmt t(db,
           "SELECT e.incident_id, e.at_ms, e.kind, e.actor, e.alert_id, e.alert_kind, e.text, e.id"
           " FROM incidents i CROSS JOIN incident_events e ON e.incident_id = i.id"
           " WHERE i.state <> 'resolved' ORDER BY i.state, i.id, e.id");
    while (t.next()) {
      TimelineEntry e;
      e.at_ms = t.i64(1); e.kind = enum_or(t.text(2), TimelineKind::note); e.actor = t.text(3);
      e.alert = t.i64(4); e.alert_kind = enum_or(t.text(5), AlertKind::sos); e.text = t.text(6);
      if (auto it = index.find(t.i64(0)); it != index.end()) events[it->second].emplace_back(t.i64(7), std::move(e));
    }
    // By id, which is also by after_event: the writer never lowers it.
    Stmt al(db,
            "SELECT a.incident_id, a.received_ms, a.device_id, a.id, a.kind, a.detail, a.after_event"
            " FROM incidents i CROSS JOIN alerts a ON a.incident_id = i.id"
            " WHERE i.state <> 'resolved' AND a.after_event IS NOT NULL ORDER BY i.state, i.id, a.id");
    while (al.next()) {
      TimelineEntry e;
      e.at_ms = al.i64(1); e.kind = TimelineKind::alert; e.actor = al.text(2);
      e.alert = al.i64(3); e.alert_kind = enum_or(al.text(4), AlertKind::sos); e.text = al.text(5);
      if (auto it = index.find(al.i64(0)); it != index.end()) alerts[it->second].emplace_back(al.i64(6), std::move(e));
    }
    for (size_t k = 0; k < n; ++k) {
      auto& timeline = st.open_incidents[k].timeline;
      timeline.reserve(events[k].size() + alerts[k].size());
      auto next = alerts[k].begin();
      for (auto& [id, e] : events[k]) {
        for (; next != alerts[k].end() && next->first < id; ++next) timeline.push_back(std::move(next->second));
        timeline.push_back(std::move(e));
      }
      for (; next != alerts[k].end(); ++next) timeline.push_back(std::move(next->second));
    }
    Stmt a(db, (std::string("SELECT ") + kAssignmentColumns +
                      " FROM assignments a JOIN incidents i ON i.id = a.incident_id"
                      " WHERE i.state <> 'resolved' ORDER BY a.id").c_str());
    while (a.next()) {
      Assignment x = read_assignment(a);
      if (Incident* i = owner(x.incident)) i->assignments.push_back(std::move(x));
    }
    Stmt c(db,
           "SELECT c.id, c.incident_id, c.kind, c.contact_index, c.name, c.phone, c.state, c.created_ms,"
           " c.due_ms, c.closed_ms, c.actor FROM call_tasks c JOIN incidents i ON i.id = c.incident_id"
           " WHERE i.state <> 'resolved' ORDER BY c.id");
    while (c.next()) {
      CallTask x;
      x.id = c.i64(0); x.incident = c.i64(1); x.kind = enum_or(c.text(2), CallKind::family);
      x.contact_index = static_cast<int>(c.i64(3)); x.name = c.text(4); x.phone = c.text(5);
      x.state = enum_or(c.text(6), CallState::cancelled); x.created_ms = c.i64(7); x.due_ms = c.i64(8);
      x.closed_ms = c.i64(9); x.actor = c.text(10);
      if (Incident* i = owner(x.incident)) i->calls.push_back(std::move(x));
    }
    Stmt r(db, (std::string(columns) + "WHERE opened_ms >= ? ORDER BY id").c_str());
    r.bind(1, since_ms);
    while (r.next()) st.incidents_since.push_back(read(r));
  }
  {
    Stmt s(db, "SELECT token_hash, role, subject, expires_ms FROM tokens");
    while (s.next())
      if (auto role = parse_role(s.text(1))) st.tokens.push_back({s.text(0), Principal{*role, s.text(2)}, s.i64(3)});
  }
  {
    // Each device's latest own alarm (the server's and the phone line's have seq <= 0).
    // SQLite takes the bare columns of an aggregate from the row holding the MAX.
    Stmt s(db,
           "SELECT device_id, device_seq, MAX(id), incident_id, device_boot, kind, device_time_ms"
           " FROM alerts WHERE device_seq > 0 GROUP BY device_id");
    while (s.next())
      st.progress.push_back({s.text(0), s.i64(1), s.i64(2), s.i64(3), s.text(4),
                             enum_or(s.text(5), AlertKind::sos), s.i64(6)});
  }
  for (auto& row : read_outbox(db, "WHERE state = 'pending'")) st.outbox.push_back(std::move(row.notice));
  {
    Stmt s(db,
           "SELECT (SELECT IFNULL(MAX(id), 0) FROM alerts), (SELECT IFNULL(MAX(id), 0) FROM incidents),"
           " (SELECT IFNULL(MAX(id), 0) FROM assignments), (SELECT IFNULL(MAX(id), 0) FROM call_tasks)");
    while (s.next()) {
      st.max_alert_id = s.i64(0);
      st.max_incident_id = s.i64(1);
      st.max_assignment_id = s.i64(2);
      st.max_call_id = s.i64(3);
    }
  }
  if (device_reader.joinable()) device_reader.join();
  if (devices_failed) std::rethrow_exception(devices_failed);
  st.devices = std::move(devices);
  return st;
}

std::vector<Store::OutboxRow> Store::outbox() const { return read_outbox(read_db_, ""); }

void Store::read(const std::function<void(sqlite3*)>& read) const {
  std::lock_guard lock(read_mu_);
  read(read_db_);
}

std::vector<AuditEntry> Store::audit_log() const {
  Stmt s(read_db_, "SELECT at_ms, actor, action, incident_id, detail FROM audit ORDER BY id");
  std::vector<AuditEntry> out;
  while (s.next()) out.push_back({s.i64(0), s.text(1), s.text(2), s.i64(3), s.text(4)});
  return out;
}

std::optional<Incident> Store::closing_record(IncidentId id) const {
  Stmt s(read_db_, "SELECT record FROM closing_records WHERE incident_id=?");
  s.bind(1, id);
  std::optional<Incident> found;
  while (s.next()) {
    auto j = incident_json::json::parse(s.text(0), nullptr, false);
    if (!j.is_discarded()) {
      try {
        found = incident_json::full_from(j);
      } catch (...) {
        throw StoreError("closing record of incident " + std::to_string(id) + " is unreadable");
      }
    }
  }
  return found;
}

std::vector<Alert> Store::find_alerts(const DeviceId& device, const std::string& boot, std::int64_t device_seq) const {
  std::lock_guard lock(read_mu_);
  Stmt& s = reads_->alert.fresh();
  s.bind(1, device).bind(2, boot).bind(3, device_seq);
  std::vector<Alert> found;
  while (s.next()) {
    Alert a;
    a.id = s.i64(0); a.device = device; a.elder = s.i64(1);
    a.kind = enum_or(s.text(2), AlertKind::sos); a.device_time_ms = s.i64(3);
    a.received_ms = s.i64(4); a.device_seq = device_seq; a.incident = s.i64(5);
    a.detail = s.text(6); a.device_boot = boot; a.repeats = static_cast<int>(s.i64(7));
    found.push_back(std::move(a));
  }
  return found;
}

// --- the writer ----------------------------------------------------------------

void Store::start() {
  std::lock_guard lock(mu_);
  if (writer_.joinable()) return;
  stopping_ = false;
  // A checkpoint copies the WAL into the database and syncs it: several
  // milliseconds. Left to SQLite it runs inside whichever commit crosses the
  // threshold and delays that commit's acks; here it runs on its own thread.
  exec("PRAGMA wal_autocheckpoint=0");
  // Set after it: the hook replaces autocheckpointing, and tells the size of the WAL.
  sqlite3_wal_hook(write_db_, &Store::on_wal_commit, this);
  // Named, so top -H and a debugger tell them apart (and a test's slow disk spares the writer).
  writer_done_ = false;
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "anxin-writer");
    writer_loop();
  });
  syncer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "anxin-syncer");
    sync_loop();
  });
  checkpointer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "anxin-ckpt");
    checkpoint_loop();
  });
}

// SQLite runs one checkpoint of a file at a time and refuses a second at once
// (SQLITE_BUSY, no busy handler), so the writer's restart would mostly find the
// checkpointer's copy in the way. They take turns here instead: the restart waits for
// the copy in hand, then has little left to do. One lock for the process: checkpoints
// of different files (tests, tools) merely take turns too.
namespace {
std::mutex checkpoint_mu;
}  // namespace

// Every 500 ms, or at once while the WAL is over half its limit, but never sooner
// than 100 ms after the last unless a quarter of the limit has been written since it
// began: a PASSIVE checkpoint copies what it can beside the writer, which leaves the
// writer's restart (restart_wal) only the last frames to copy. Each one syncs the WAL
// and the database: run after every commit past the half, 400 a second at 1,000
// alarms/s, those syncs queued on the disk with the writer's own (its fdatasync p99
// 0.86 ms, and 0.36 ms with the gap; docs/benchmarks.md, "The checkpointer's syncs").
// At tens of thousands of alarms a second a quarter is written within 20 ms, and
// with only the gap the writer's restarts copied most of the WAL themselves, a
// quarter of its time ("The checkpointer keeps up").
void Store::checkpoint_loop() {
  constexpr auto kGap = std::chrono::milliseconds(100);
  const std::int64_t quarter = options_.wal_limit_bytes / 4 / page_size_;  // in frames
  std::unique_lock lock(mu_);
  while (!stopping_) {
    checkpoint_wake_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_ || checkpoint_due_; });
    if (stopping_) break;
    checkpoint_due_ = false;
    const std::int64_t began = wal_pages_;
    lock.unlock();
    // PASSIVE: copies what it can without waiting for the writer or readers. Its
    // result is not looked at: SQLITE_BUSY (another program checkpointing) or any
    // other failure just leaves the copy to the next round.
    {
      std::lock_guard one_at_a_time(checkpoint_mu);
      sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    lock.lock();
    // Every commit past the half wakes this wait (on_wal_commit). The WAL may have
    // started over since: then all of it is new.
    checkpoint_wake_.wait_for(lock, kGap, [&] {
      const std::int64_t now = wal_pages_;
      return stopping_ || (now >= began ? now - began : now) >= quarter;
    });
  }
}

int Store::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  auto* store = static_cast<Store*>(self);
  store->wal_pages_ = pages;
  if (pages * store->page_size_ > store->options_.wal_limit_bytes / 2) {
    store->checkpoint_due_ = true;
    store->checkpoint_wake_.notify_all();
  }
  return SQLITE_OK;
}

// SQLite starts the WAL over only when a write begins with every frame copied into
// the database and no reader still in the WAL. Under a steady stream of commits the
// background checkpoint never quite catches up, and the file grew without end (2.24
// GB after 12 s at 8,000 alarms/s, the kernel zeroing each new block). Here the
// writer, between two commits, copies the rest and restarts: a few milliseconds once
// per wal_limit_bytes. A reader that holds the old WAL for more than 20 ms puts it off
// to the next commit rather than stall the writer (a long export must not hold alarms).
void Store::restart_wal() {
  if (wal_pages_ * page_size_ <= options_.wal_limit_bytes) return;
  sqlite3_busy_timeout(write_db_, 20);
  int log = 0, copied = 0;
  std::lock_guard one_at_a_time(checkpoint_mu);
  if (sqlite3_wal_checkpoint_v2(write_db_, nullptr, SQLITE_CHECKPOINT_RESTART, &log, &copied) == SQLITE_OK)
    wal_pages_ = 0;
  sqlite3_busy_timeout(write_db_, 5000);
}

void Store::submit(WriteBatch batch, std::function<void()> on_durable) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(batch), std::move(on_durable)});
  }
  wake_.notify_one();
}

bool Store::quiet() const {
  return queue_.empty() && !busy_ && committed_.empty() && !syncing_;
}

void Store::drain() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return quiet() || !writer_.joinable(); });
}

void Store::stop() {
  {
    std::lock_guard lock(mu_);
    if (!writer_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  checkpoint_wake_.notify_all();
  writer_.join();
  {
    std::lock_guard lock(mu_);
    writer_done_ = true;
  }
  sync_wake_.notify_one();
  syncer_.join();
  checkpointer_.join();
  exec("PRAGMA wal_autocheckpoint=1000");
  idle_.notify_all();
}

std::uint64_t Store::commits() const {
  std::lock_guard lock(mu_);
  return commits_;
}

void Store::apply(const WriteOp& op) {
  auto& s = *stmts_;
  if (auto* p = std::get_if<PutAlert>(&op)) {
    const Alert& a = p->alert;
    s.put_alert.bind(1, a.id).bind_kept(2, a.device).bind(3, a.elder).bind_kept(4, name_of(a.kind))
        .bind(5, a.device_time_ms).bind(6, a.received_ms).bind(7, a.device_seq)
        .bind(8, a.incident).bind_kept(9, a.detail).bind_kept(10, a.device_boot).bind(11, a.repeats)
        .bind(12, s.last_event).run();
  } else if (auto* p = std::get_if<RepeatAlert>(&op)) {
    s.repeat_alert.bind(1, p->repeats).bind(2, p->alert).run();
  } else if (auto* p = std::get_if<PutCaller>(&op)) {
    const Elder& e = p->elder;
    s.put_caller.bind(1, e.id).bind(2, e.name).bind(3, name_of(e.sex)).bind(4, e.birth_date).bind(5, e.phone)
        .bind(6, e.id_number).bind(7, name_of(e.living)).bind(8, name_of(e.economic)).run();
    const Device& d = p->device;
    s.put_caller_device.bind(1, d.id).bind(2, d.elder).bind(3, name_of(d.kind)).bind(4, d.vendor)
        .bind(5, d.last_seen_ms).bind(6, d.sim).run();
  } else if (auto* p = std::get_if<PutIncident>(&op)) {
    // Most writes of an open incident are an alert joining it: its elder and state stay,
    // and so the update leaves them out. Naming them in the upsert's SET made SQLite
    // rewrite their indexes' entries and check the elder's foreign key, each at a
    // random place, on every joining alert
    // (docs/benchmarks.md, "An incident's indexes left alone").
    // A new incident, or a new state or elder, finds no row to update.
    const Incident& i = p->incident;
    const std::string escalations = incident_json::escalations(i.escalations).dump();
    auto bind = [&](Stmt& st) -> Stmt& {
      return st.bind(1, i.id).bind(2, i.elder).bind_kept(3, name_of(i.state)).bind(4, i.opened_ms)
          .bind(5, i.acknowledged_ms).bind_kept(6, i.acknowledged_by).bind(7, i.resolved_ms)
          .bind_kept(8, i.disposition).bind_kept(9, name_of(i.callback)).bind(10, i.dispatched_ms)
          .bind(11, i.accepted_ms).bind(12, i.on_scene_ms).bind(13, i.proposed_worker).bind_kept(14, escalations)
          .bind(15, i.responders_wanted).bind_kept(16, i.resolved_by).bind(17, i.repeats);
    };
    if (bind(s.update_incident).run() == 0) bind(s.put_incident).run();
  } else if (auto* p = std::get_if<AddTimeline>(&op)) {
    const TimelineEntry& e = p->entry;
    s.add_timeline.bind(1, p->incident).bind(2, e.at_ms).bind_kept(3, name_of(e.kind)).bind_kept(4, e.actor);
    if (e.kind == TimelineKind::alert)
      s.add_timeline.bind(5, e.alert).bind_kept(6, name_of(e.alert_kind));
    else
      s.add_timeline.bind_null(5).bind_null(6);
    s.add_timeline.bind_kept(7, e.text).run();
    s.last_event = sqlite3_last_insert_rowid(write_db_);
  } else if (auto* p = std::get_if<TouchDevice>(&op)) {
    s.touch_device.bind(1, p->battery_pct).bind(2, p->last_seen_ms).bind(3, p->supervised).bind(4, p->device).run();
  } else if (auto* p = std::get_if<PutWorker>(&op)) {
    const Worker& w = p->worker;
    s.put_worker.bind(1, name_of(w.status)).bind(2, w.status != WorkerStatus::off_duty)
        .bind(3, name_of(w.mode)).bind(4, w.lat).bind(5, w.lon).bind(6, w.accuracy_m)
        .bind(7, w.position_ms).bind(8, w.incident).bind(9, w.duty_since_ms).bind(10, w.id).run();
  } else if (auto* p = std::get_if<PutAssignment>(&op)) {
    const Assignment& a = p->assignment;
    s.put_assignment.bind(1, a.id).bind(2, a.incident).bind(3, a.worker).bind(4, name_of(a.state))
        .bind(5, a.chosen_by_operator).bind(6, a.eta_s).bind(7, a.distance_m).bind(8, a.offered_ms)
        .bind(9, a.expires_ms).bind(10, a.accepted_ms).bind(11, a.on_scene_ms).bind(12, a.completed_ms)
        .bind(13, a.note).run();
  } else if (auto* p = std::get_if<PutCallTask>(&op)) {
    const CallTask& c = p->task;
    s.put_call.bind(1, c.id).bind(2, c.incident).bind(3, name_of(c.kind)).bind(4, c.contact_index)
        .bind(5, c.name).bind(6, c.phone).bind(7, name_of(c.state)).bind(8, c.created_ms)
        .bind(9, c.due_ms).bind(10, c.closed_ms).bind(11, c.actor).run();
  } else if (auto* p = std::get_if<AppendAudit>(&op)) {
    const AuditEntry& e = p->entry;
    s.append_audit.bind(1, e.at_ms).bind_kept(2, e.actor).bind_kept(3, e.action).bind(4, e.incident)
        .bind_kept(5, e.detail).run();
  } else if (auto* p = std::get_if<PutVisit>(&op)) {
    bind_visit(s.put_visit, p->visit).run();
  } else if (auto* p = std::get_if<PutToken>(&op)) {
    const TokenRow& t = p->token;
    s.put_token.bind(1, t.hash).bind(2, name_of(t.who.role)).bind(3, t.who.subject).bind(4, t.expires_ms).run();
  } else if (auto* p = std::get_if<DeleteToken>(&op)) {
    s.delete_token.bind(1, p->hash).run();
  } else if (auto* p = std::get_if<PurgeExpiredTokens>(&op)) {
    s.purge_tokens.bind(1, p->now_ms).run();
  } else if (auto* p = std::get_if<PutNotice>(&op)) {
    const Notice& n = p->notice;
    s.put_notice.bind_kept(1, n.id).bind_kept(2, name_of(n.kind)).bind(3, n.task_id).bind(4, n.incident).bind(5, n.elder)
        .bind_kept(6, n.to_name).bind_kept(7, n.to_phone).bind_kept(8, n.text).bind(9, n.at_ms).run();
  } else if (auto* p = std::get_if<SettleNotice>(&op)) {
    s.settle_notice.bind_kept(1, name_of(p->state)).bind(2, p->attempts).bind_kept(3, p->reason).bind(4, p->at_ms)
        .bind_kept(5, p->id).run();
  } else if (auto* p = std::get_if<SqlWrite>(&op)) {
    p->run(write_db_);
  } else if (auto* p = std::get_if<PutClosingRecord>(&op)) {
    const Incident& i = p->incident;
    s.put_closing.bind(1, i.id).bind(2, i.resolved_ms).bind(3, i.disposition)
        .bind(4, incident_json::full(i).dump()).run();
  }
}

// Takes everything queued (up to max_group batches), applies it in one transaction,
// commits, and only then runs the callbacks. A commit the disk has no room for is
// held and tried again every full_retry_ms, as it was, with no callback run, until
// it goes through; one that another program's write lock kept out past the busy
// timeout is held the same way and tried again after kLockRetryMs. Stopping
// meanwhile drops it (and what queued behind it), still unacknowledged. Any other
// failure leaves the in-memory state of the caller ahead of the file, so the process
// stops rather than acknowledge anything further; a restart rebuilds from what is
// durable.
void Store::writer_loop() {
  std::deque<Pending> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (group.empty()) {
        busy_ = false;
        if (quiet()) idle_.notify_all();
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and drained
        size_t n = std::min(queue_.size(), options_.max_group);
        for (size_t i = 0; i < n; ++i) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        busy_ = true;
      } else {
        // Held: try again after a pause, or at once to stop. Behind a lock the pause
        // is short, as SQLite has just waited the busy timeout for it.
        const int pause_ms = full_ ? options_.full_retry_ms : kLockRetryMs;
        wake_.wait_for(lock, std::chrono::milliseconds(pause_ms), [&] { return stopping_; });
      }
    }
    int unsynced = -1;
    if (!commit_group(group, unsynced)) {
      std::lock_guard lock(mu_);
      if (stopping_) {
        std::fprintf(stderr,
                     "anxin store: stopping while %s: what is held (%zu batches) was never committed, and never "
                     "acknowledged\n",
                     full_ ? "the disk is full" : "another program holds the write lock", group.size() + queue_.size());
        queue_.clear();
        busy_ = false;
        dropped_ = true;
        return;
      }
      continue;
    }
    std::deque<Committed> done(1, Committed{unsynced, {}});
    for (auto& p : group)
      if (p.on_durable) done.front().on_durable.push_back(std::move(p.on_durable));
    group.clear();
    // With nothing else to write, and no commit before it still unsynced, the writer
    // syncs and acks as it always did: a handover to the syncer cost the alarm
    // 35-40 µs at 1,000 a second.
    bool here;
    {
      std::lock_guard lock(mu_);
      here = queue_.empty() && committed_.empty() && !syncing_;
      if (!here) committed_.push_back(std::move(done.front()));
    }
    if (here)
      sync_then_ack(done);
    else
      sync_wake_.notify_one();
    restart_wal();
  }
}

// One fdatasync covers every commit written before it began, so the acks of all the
// groups in hand go after it, in the order of their commits. SQLite has already made
// those commits visible to the other connections; nothing of them is acked, and no
// delta sent, before the sync returns.
void Store::sync_then_ack(std::deque<Committed>& commits) {
  int fd = -1;
  for (const Committed& c : commits) fd = c.unsynced >= 0 ? c.unsynced : fd;
  if (fd >= 0 && (options_.sync_wal ? options_.sync_wal(fd) : ::fdatasync(fd)) != 0) {
    // The commits are in the file, so they cannot be rolled back and held: stop with
    // nothing of them acked, as after a failed commit. A start recovers what the disk has.
    std::fprintf(stderr, "anxin store: syncing the WAL failed, stopping: %s\n", std::strerror(errno));
    std::abort();
  }
  for (Committed& c : commits)
    for (auto& on_durable : c.on_durable) on_durable();
}

// The commit's sync, off the writer's path when more is waiting: while the disk
// flushes one group's frames, the writer already applies the next group's rows
// (docs/benchmarks.md, "The sync beside the next commit").
void Store::sync_loop() {
  for (;;) {
    std::deque<Committed> took;
    {
      std::unique_lock lock(mu_);
      sync_wake_.wait(lock, [&] { return !committed_.empty() || writer_done_; });
      if (committed_.empty()) return;  // the writer is gone, and every commit is synced
      took.swap(committed_);
      syncing_ = true;
    }
    sync_then_ack(took);
    std::lock_guard lock(mu_);
    syncing_ = false;
    if (quiet()) idle_.notify_all();
  }
}

// One transaction for the group. False, with nothing of it in the file, when the
// disk is full or another program holds the write lock; the first such failure, and
// the commit that ends the spell, each log one line.
bool Store::commit_group(const std::deque<Pending>& group, int& unsynced) {
  bool any_writes = false;
  for (const auto& p : group) any_writes |= !p.batch.empty();
  if (!any_writes) return true;
  const auto attempt = std::chrono::steady_clock::now();
  // SQLite may have rolled back already; if not, nothing of the group stays.
  auto roll_back = [&] {
    if (!sqlite3_get_autocommit(write_db_)) sqlite3_exec(write_db_, "ROLLBACK", nullptr, nullptr, nullptr);
  };
  try {
    std::vector<const WriteOp*> ops;
    for (const auto& p : group)
      for (const auto& op : p.batch) ops.push_back(&op);
    stmts_->begin.run();
    // Read in each transaction: a group rolled back, or another program's rows, moved it.
    while (stmts_->last_event_id.next()) stmts_->last_event = stmts_->last_event_id.i64(0);
    for (const WriteOp* op : write_plan(ops)) apply(*op);
    const CommitSyncDeferred deferred;
    stmts_->commit.run();
    unsynced = deferred.fd();
  } catch (const StorageFull& e) {
    roll_back();
    if (!full_.exchange(true)) {
      full_since_ = std::chrono::steady_clock::now();
      std::fprintf(stderr,
                   "anxin store: disk full, refusing new writes: %s; the commit in hand is held and tried again "
                   "every %d ms\n",
                   e.what(), options_.full_retry_ms);
    }
    return false;
  } catch (const StoreBusy& e) {
    // Another program (a sqlite3 shell left in a transaction, a bulk import) has held
    // the write lock through the whole busy timeout. The file is sound: wait for it.
    roll_back();
    if (!locked_since_) {
      locked_since_ = attempt;
      std::fprintf(stderr,
                   "anxin store: another program holds the database's write lock: %s; the commit in hand (%zu "
                   "batches) is held, unacknowledged, and tried again until the lock is free\n",
                   e.what(), group.size());
    }
    return false;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anxin store: commit failed, stopping: %s\n", e.what());
    std::abort();
  }
  if (full_.exchange(false)) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - full_since_);
    std::fprintf(stderr, "anxin store: space again after %llds: the held commit is done, writes resume\n",
                 static_cast<long long>(s.count()));
  }
  if (locked_since_) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - *locked_since_);
    std::fprintf(stderr,
                 "anxin store: the write lock is free again after %.1fs: the held commit is done, writes resume\n",
                 static_cast<double>(ms.count()) / 1000);
    locked_since_.reset();
  }
  std::lock_guard lock(mu_);
  ++commits_;
  return true;
}


}  // namespace anxin
