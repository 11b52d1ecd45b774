#include "anxin/core/store.hpp"

#include <sodium.h>
#include <sqlite3.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

namespace anxin {

namespace {

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
};

void check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw StoreError(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
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

template <class E> E enum_or(std::string_view text, E fallback) {
  return parse_enum<E>(text).value_or(fallback);
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ',';
    out += p;
  }
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

sqlite3* open_connection(const std::string& path, bool synchronous_full) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw StoreError("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  auto pragma = [&](const char* sql) {
    check(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), sql);
  };
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

std::string token_hash(std::string_view token) {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw StoreError("libsodium failed to initialise");
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  char hex[2 * sizeof h + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return hex;
}

struct Store::Statements {
  Stmt put_alert, put_incident, add_timeline, touch_device, begin, commit, rollback;
  explicit Statements(sqlite3* db)
      : put_alert(db,
                  "INSERT INTO alerts(id, device_id, elder_id, kind, device_time_ms, received_ms,"
                  " device_seq, incident_id, detail) VALUES (?,?,?,?,?,?,?,?,?)"),
        put_incident(db,
                     "INSERT INTO incidents(id, elder_id, state, opened_ms, acknowledged_ms,"
                     " acknowledged_by, resolved_ms, disposition) VALUES (?,?,?,?,?,?,?,?)"
                     " ON CONFLICT(id) DO UPDATE SET state=excluded.state,"
                     " acknowledged_ms=excluded.acknowledged_ms,"
                     " acknowledged_by=excluded.acknowledged_by,"
                     " resolved_ms=excluded.resolved_ms, disposition=excluded.disposition"),
        add_timeline(db,
                     "INSERT INTO incident_events(incident_id, at_ms, kind, actor, alert_id,"
                     " alert_kind, text) VALUES (?,?,?,?,?,?,?)"),
        touch_device(db, "UPDATE devices SET battery_pct=?, last_seen_ms=? WHERE id=?"),
        begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        rollback(db, "ROLLBACK") {}
};

Store::Store(const std::string& path, StoreOptions options) : path_(path), options_(options) {
  write_db_ = open_connection(path, options.synchronous_full);
  int version = schema_version();
  if (version > kSchemaVersion) {
    sqlite3_close(write_db_);
    throw StoreError(path + " has schema version " + std::to_string(version) +
                     ", newer than this program's " + std::to_string(kSchemaVersion));
  }
  for (int v = version; v < kSchemaVersion; ++v) {
    exec("BEGIN IMMEDIATE");
    try {
      exec(kMigrations[v]);
      exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(write_db_, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(write_db_);
      throw;
    }
  }
  read_db_ = open_connection(path, options.synchronous_full);
  stmts_ = std::make_unique<Statements>(write_db_);
}

Store::~Store() {
  stop();
  stmts_.reset();
  sqlite3_close(read_db_);
  sqlite3_close(write_db_);
}

void Store::exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(write_db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
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
  exec("BEGIN IMMEDIATE");
  try {
    Stmt w(write_db_,
           "INSERT INTO workers(id, name, phone, role, skills, town, on_duty, lat, lon,"
           " position_ms) VALUES (?,?,?,?,?,?,?,?,?,?)");
    for (const auto& x : workers)
      w.bind(1, x.id).bind(2, x.name).bind(3, x.phone).bind(4, name_of(x.role))
          .bind(5, join(x.skills)).bind(6, x.town).bind(7, x.on_duty).bind(8, x.lat)
          .bind(9, x.lon).bind(10, x.position_ms).run();

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
           "INSERT INTO devices(id, elder_id, kind, vendor, battery_pct, last_seen_ms)"
           " VALUES (?,?,?,?,?,?)");
    for (const auto& x : devices)
      d.bind(1, x.id).bind(2, x.elder).bind(3, name_of(x.kind)).bind(4, x.vendor)
          .bind(5, x.battery_pct).bind(6, x.last_seen_ms).run();
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(write_db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void Store::put_token(std::string_view token, const Principal& who) {
  Stmt s(write_db_, "INSERT OR REPLACE INTO tokens(token_hash, role, subject) VALUES (?,?,?)");
  s.bind(1, token_hash(token)).bind(2, name_of(who.role)).bind(3, who.subject).run();
}

LiveState Store::load() const {
  LiveState st;
  {
    Stmt s(read_db_,
           "SELECT id, name, phone, role, skills, town, on_duty, lat, lon, position_ms"
           " FROM workers ORDER BY id");
    while (s.next()) {
      Worker w;
      w.id = s.i64(0); w.name = s.text(1); w.phone = s.text(2);
      w.role = enum_or(s.text(3), WorkerRole::volunteer);
      w.skills = split(s.text(4)); w.town = s.text(5); w.on_duty = s.i64(6) != 0;
      w.lat = s.f64(7); w.lon = s.f64(8); w.position_ms = s.i64(9);
      st.workers.push_back(std::move(w));
    }
  }
  {
    std::map<ElderId, std::vector<EmergencyContact>> contacts;
    Stmt c(read_db_,
           "SELECT elder_id, name, relation, phone FROM emergency_contacts ORDER BY elder_id, ord");
    while (c.next()) contacts[c.i64(0)].push_back({c.text(1), c.text(2), c.text(3)});

    Stmt s(read_db_,
           "SELECT id, name, sex, birth_date, phone, id_number, town, community, address, lat,"
           " lon, living, ability, bedridden, limited_mobility, disability_grade, dementia,"
           " special_family, economic, family_doctor, family_doctor_phone, paired_worker,"
           " visit_consent FROM elders ORDER BY id");
    while (s.next()) {
      Elder e;
      e.id = s.i64(0); e.name = s.text(1); e.sex = enum_or(s.text(2), Sex::male);
      e.birth_date = s.text(3); e.phone = s.text(4); e.id_number = s.text(5);
      e.town = s.text(6); e.community = s.text(7); e.address = s.text(8);
      e.lat = s.f64(9); e.lon = s.f64(10);
      e.living = enum_or(s.text(11), LivingSituation::alone);
      if (!s.is_null(12)) e.ability = parse_enum<Ability>(s.text(12));
      e.bedridden = s.i64(13) != 0; e.limited_mobility = s.i64(14) != 0;
      e.disability_grade = static_cast<int>(s.i64(15));
      e.dementia = s.i64(16) != 0; e.special_family = s.i64(17) != 0;
      e.economic = enum_or(s.text(18), EconomicStatus::ordinary);
      e.family_doctor = s.text(19); e.family_doctor_phone = s.text(20);
      if (!s.is_null(21)) e.paired_worker = s.i64(21);
      e.visit_consent = s.i64(22) != 0;
      if (auto it = contacts.find(e.id); it != contacts.end()) e.contacts = std::move(it->second);
      st.elders.push_back(std::move(e));
    }
  }
  {
    Stmt s(read_db_,
           "SELECT id, elder_id, kind, vendor, battery_pct, last_seen_ms FROM devices ORDER BY id");
    while (s.next()) {
      Device d;
      d.id = s.text(0); d.elder = s.i64(1); d.kind = enum_or(s.text(2), DeviceKind::sos_button);
      d.vendor = s.text(3); d.battery_pct = static_cast<int>(s.i64(4)); d.last_seen_ms = s.i64(5);
      st.devices.push_back(std::move(d));
    }
  }
  {
    Stmt s(read_db_,
           "SELECT id, elder_id, state, opened_ms, acknowledged_ms, acknowledged_by, resolved_ms,"
           " disposition FROM incidents WHERE state <> 'resolved' ORDER BY id");
    std::map<IncidentId, size_t> index;
    while (s.next()) {
      Incident i;
      i.id = s.i64(0); i.elder = s.i64(1); i.state = enum_or(s.text(2), IncidentState::open);
      i.opened_ms = s.i64(3); i.acknowledged_ms = s.i64(4); i.acknowledged_by = s.text(5);
      i.resolved_ms = s.i64(6); i.disposition = s.text(7);
      index[i.id] = st.open_incidents.size();
      st.open_incidents.push_back(std::move(i));
    }
    Stmt t(read_db_,
           "SELECT e.incident_id, e.at_ms, e.kind, e.actor, e.alert_id, e.alert_kind, e.text"
           " FROM incident_events e JOIN incidents i ON i.id = e.incident_id"
           " WHERE i.state <> 'resolved' ORDER BY e.id");
    while (t.next()) {
      TimelineEntry e;
      e.at_ms = t.i64(1); e.kind = enum_or(t.text(2), TimelineKind::note); e.actor = t.text(3);
      e.alert = t.i64(4); e.alert_kind = enum_or(t.text(5), AlertKind::sos); e.text = t.text(6);
      if (auto it = index.find(t.i64(0)); it != index.end())
        st.open_incidents[it->second].timeline.push_back(std::move(e));
    }
  }
  {
    Stmt s(read_db_, "SELECT token_hash, role, subject FROM tokens");
    while (s.next())
      if (auto role = parse_role(s.text(1)))
        st.tokens.push_back({s.text(0), Principal{*role, s.text(2)}});
  }
  {
    // SQLite takes the bare columns of an aggregate from the row holding the MAX.
    Stmt s(read_db_,
           "SELECT device_id, MAX(device_seq), id, incident_id FROM alerts GROUP BY device_id");
    while (s.next()) st.progress.push_back({s.text(0), s.i64(1), s.i64(2), s.i64(3)});
  }
  {
    Stmt s(read_db_,
           "SELECT (SELECT IFNULL(MAX(id), 0) FROM alerts), (SELECT IFNULL(MAX(id), 0) FROM incidents)");
    while (s.next()) {
      st.max_alert_id = s.i64(0);
      st.max_incident_id = s.i64(1);
    }
  }
  return st;
}

std::optional<Alert> Store::find_alert(const DeviceId& device, std::int64_t device_seq) const {
  Stmt s(read_db_,
         "SELECT id, elder_id, kind, device_time_ms, received_ms, incident_id, detail"
         " FROM alerts WHERE device_id=? AND device_seq=?");
  s.bind(1, device).bind(2, device_seq);
  std::optional<Alert> found;
  while (s.next()) {
    Alert a;
    a.id = s.i64(0); a.device = device; a.elder = s.i64(1);
    a.kind = enum_or(s.text(2), AlertKind::sos); a.device_time_ms = s.i64(3);
    a.received_ms = s.i64(4); a.device_seq = device_seq; a.incident = s.i64(5);
    a.detail = s.text(6);
    found = std::move(a);
  }
  return found;
}

// --- the writer ----------------------------------------------------------------

void Store::start() {
  std::lock_guard lock(mu_);
  if (writer_.joinable()) return;
  stopping_ = false;
  writer_ = std::thread([this] { writer_loop(); });
}

void Store::submit(WriteBatch batch, std::function<void()> on_durable) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(batch), std::move(on_durable)});
  }
  wake_.notify_one();
}

void Store::drain() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return (queue_.empty() && !busy_) || !writer_.joinable(); });
}

void Store::stop() {
  {
    std::lock_guard lock(mu_);
    if (!writer_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
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
    s.put_alert.bind(1, a.id).bind(2, a.device).bind(3, a.elder).bind(4, name_of(a.kind))
        .bind(5, a.device_time_ms).bind(6, a.received_ms).bind(7, a.device_seq)
        .bind(8, a.incident).bind(9, a.detail).run();
  } else if (auto* p = std::get_if<PutIncident>(&op)) {
    const Incident& i = p->incident;
    s.put_incident.bind(1, i.id).bind(2, i.elder).bind(3, name_of(i.state)).bind(4, i.opened_ms)
        .bind(5, i.acknowledged_ms).bind(6, i.acknowledged_by).bind(7, i.resolved_ms)
        .bind(8, i.disposition).run();
  } else if (auto* p = std::get_if<AddTimeline>(&op)) {
    const TimelineEntry& e = p->entry;
    s.add_timeline.bind(1, p->incident).bind(2, e.at_ms).bind(3, name_of(e.kind)).bind(4, e.actor);
    if (e.kind == TimelineKind::alert)
      s.add_timeline.bind(5, e.alert).bind(6, name_of(e.alert_kind));
    else
      s.add_timeline.bind_null(5).bind_null(6);
    s.add_timeline.bind(7, e.text).run();
  } else if (auto* p = std::get_if<TouchDevice>(&op)) {
    s.touch_device.bind(1, p->battery_pct).bind(2, p->last_seen_ms).bind(3, p->device).run();
  }
}

// Takes everything queued (up to max_group batches), applies it in one transaction,
// commits, and only then runs the callbacks. A failed commit leaves the in-memory
// state ahead of the file, so the process stops rather than acknowledge anything
// further; a restart rebuilds from what is durable.
void Store::writer_loop() {
  std::deque<Pending> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      busy_ = false;
      if (queue_.empty()) idle_.notify_all();
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and drained
      size_t n = std::min(queue_.size(), options_.max_group);
      for (size_t i = 0; i < n; ++i) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      busy_ = true;
    }
    bool any_writes = false;
    for (const auto& p : group) any_writes |= !p.batch.empty();
    if (any_writes) {
      try {
        stmts_->begin.run();
        for (const auto& p : group)
          for (const auto& op : p.batch) apply(op);
        stmts_->commit.run();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "anxin store: commit failed, stopping: %s\n", e.what());
        std::abort();
      }
    }
    if (any_writes) {
      std::lock_guard lock(mu_);
      ++commits_;
    }
    for (auto& p : group)
      if (p.on_durable) p.on_durable();
    group.clear();
  }
}

}  // namespace anxin
