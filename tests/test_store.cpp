// The SQLite store against real files: migrations, a registry round trip, and a
// restart that rebuilds the open incidents from what was committed.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/store.hpp"
#include "support.hpp"

using namespace anxin;

namespace {

const Principal kVendor{Role::device, "vendor:acme"};
const Principal kOperator{Role::console, "operator:王芳"};

// An alarm from the small registry's vendor platform, taken: its incident.
IncidentId raise(Dispatcher& d, const char* device, std::int64_t seq, AlertKind kind, std::string detail = "{}") {
  return test::raise(d, kVendor, device, seq, kind, std::move(detail)).incident;
}

}  // namespace

TEST_CASE("a new file is migrated to the current schema", "[store]") {
  test::TempDir dir;
  const auto db = dir.file("new.db");
  {
    Store store(db);
    CHECK(store.schema_version() == Store::kSchemaVersion);
  }
  CHECK(test::count_rows(db, "elders") == 0);
  CHECK(test::count_rows(db, "incident_events") == 0);
  {
    Store again(db);  // opening a current file migrates nothing
    CHECK(again.schema_version() == Store::kSchemaVersion);
  }
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))) == "wal");
  sqlite3_finalize(s);
  sqlite3_close(raw);
}

// Schema 14 dropped the audit log's index by incident: nothing reads the log that way,
// and each alarm's audit row wrote a page of it at a random place.
TEST_CASE("a file at schema 13 loses the audit index by incident and keeps its audit", "[store]") {
  test::TempDir dir;
  const auto db = dir.file("v13.db");
  { Store store(db); }
  auto no_index = [&] {
    return test::sql_text(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'audit_by_incident'") == "0";
  };
  CHECK(no_index());
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw,
                       "CREATE INDEX audit_by_incident ON audit(incident_id);"
                       "INSERT INTO audit(at_ms, actor, action, incident_id) VALUES (1, 'system', 'alarm', 7);"
                       "ALTER TABLE registry_image DROP COLUMN server_ran;"  // schema 15's
                       "DROP TABLE registry_changed_elders; DROP TABLE registry_changed_devices;"  // 16's
                       "PRAGMA user_version=13;",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  REQUIRE_FALSE(no_index());
  {
    Store again(db);
    CHECK(again.schema_version() == Store::kSchemaVersion);
  }
  CHECK(no_index());
  CHECK(test::sql_text(db, "SELECT actor || ' ' || action || ' ' || incident_id FROM audit") == "system alarm 7");
}

TEST_CASE("a file from a newer program is refused, untouched", "[store]") {
  test::TempDir dir;
  const auto db = dir.file("future.db");
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw, "CREATE TABLE x(y); PRAGMA user_version=99;", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  CHECK_THROWS_AS(Store(db), StoreError);
  CHECK(test::count_rows(db, "x") == 0);
}

TEST_CASE("the registry round-trips through the file", "[store]") {
  test::TempDir dir;
  const auto db = dir.file("registry.db");
  auto r = test::small_registry();
  {
    Store store(db);
    store.import_registry(r.elders, r.devices, r.workers);
  }
  LiveState st = Store(db).load();
  REQUIRE(st.elders.size() == 2);
  const Elder a = st.elders.elder(0);
  const Elder& want = r.elders[0];
  CHECK(a.name == want.name);
  CHECK(a.birth_date == want.birth_date);
  CHECK(a.id_number == want.id_number);
  CHECK(a.address == want.address);
  CHECK(a.lat == Approx(want.lat));
  CHECK(a.living == want.living);
  CHECK(a.ability == want.ability);
  CHECK(a.economic == want.economic);
  CHECK(a.paired_worker == want.paired_worker);
  CHECK(a.visit_consent);
  REQUIRE(a.contacts.size() == 2);
  CHECK(a.contacts[0].name == "王建国");  // order kept: the cascade calls them in turn
  CHECK(a.contacts[1].relation == "邻居");
  CHECK_FALSE(st.elders.elder(1).ability.has_value());  // not assessed stays not assessed
  REQUIRE(st.devices.size() == 4);
  CHECK(st.devices.at(1).kind == DeviceKind::smoke);
  REQUIRE(st.workers.size() == 2);
  CHECK(st.workers[0].status == WorkerStatus::available);  // "on duty" in a registry means available
  CHECK(st.workers[1].mode == TransportMode::ebike);
  CHECK(st.workers[0].skills == std::vector<std::string>{"first_aid", "medical"});
  CHECK(st.workers[0].role == WorkerRole::nurse);
}

TEST_CASE("a restart rebuilds the open incidents from the file", "[store]") {
  test::TempDir dir;
  const auto db = dir.file("restart.db");
  test::seed_small_registry(db);
  ManualClock clock(1795622400000LL);

  IncidentId kept = 0, acked = 0, closed = 0;
  {
    Store store(db);
    Dispatcher d(clock);
    d.restore(store.load());
    store.start();
    kept = raise(d, "D1", 1, AlertKind::sos);
    clock.advance(1000);
    raise(d, "D2", 1, AlertKind::smoke);
    acked = raise(d, "D4", 1, AlertKind::fall);
    REQUIRE(d.acknowledge(kOperator, acked).ok());
    store.submit(d.take_effects().writes);
    store.drain();
    // elder 2's incident is resolved; a new one opens for them
    REQUIRE(d.resolve(kOperator, acked, Disposition::false_alarm).ok());
    closed = acked;
    acked = raise(d, "D3", 1, AlertKind::sos);
    REQUIRE(d.acknowledge(kOperator, acked).ok());
    store.submit(d.take_effects().writes);
    store.stop();
  }

  Store store(db);
  Dispatcher d(clock);
  d.restore(store.load());
  REQUIRE(d.open_count() == 2);
  CHECK(d.incident(closed) == nullptr);
  const Incident* k = d.incident(kept);
  REQUIRE(k);
  CHECK(k->state == IncidentState::open);
  REQUIRE(k->alert_count() == 2);
  CHECK(k->timeline[0].alert_kind == AlertKind::sos);
  CHECK(k->timeline[1].alert_kind == AlertKind::smoke);
  const Incident* a = d.incident(acked);
  REQUIRE(a);
  CHECK(a->state == IncidentState::acknowledged);
  CHECK(a->acknowledged_by == "王芳");

  // Ids continue, and a device's retry is still known after the restart.
  AlarmIn retry;
  retry.device = "D1";
  retry.seq = 1;
  retry.kind = AlertKind::sos;
  retry.device_time_ms = 1795622400000LL;  // the first raise's, as a resend carries
  auto r = d.raise_alarm(kVendor, retry);
  REQUIRE(r.ok());
  CHECK(r->duplicate);
  retry.seq = 2;
  auto fresh = d.raise_alarm(kVendor, retry);
  REQUIRE(fresh.ok());
  CHECK(fresh->alert == 5);
  CHECK(fresh->incident == kept);
}

TEST_CASE("callbacks run in order, after the commit", "[store]") {
  test::TempDir dir;
  const auto db = dir.file("order.db");
  test::seed_small_registry(db);
  Store store(db);
  store.start();
  std::vector<int> order;
  std::vector<long long> seen_alerts;
  for (int i = 1; i <= 50; ++i) {
    Alert a;
    a.id = i;
    a.device = "D1";
    a.elder = 1;
    a.device_seq = i;
    a.incident = 1;
    WriteBatch b;
    if (i == 1) {
      Incident inc;
      inc.id = 1;
      inc.elder = 1;
      b.push_back(PutIncident{inc});
    }
    if (i % 5 != 0) b.push_back(PutAlert{a});  // every fifth is a barrier with no writes
    store.submit(std::move(b), [&, i] {
      order.push_back(i);
      seen_alerts.push_back(test::count_rows(db, "alerts"));
    });
  }
  store.drain();
  REQUIRE(order.size() == 50);
  for (int i = 0; i < 50; ++i) {
    CHECK(order[i] == i + 1);
    CHECK(seen_alerts[i] >= (i + 1) - (i + 1) / 5);  // each callback sees its own write committed
  }
  CHECK(test::count_rows(db, "alerts") == 40);
}

TEST_CASE("an incident written again keeps every column and its indexes match", "[store]") {
  // Store::apply updates an incident's own columns alone while its elder and state
  // stay, and writes the whole row when either changes: each step is read back
  // through the row and through the index on what changed.
  test::TempDir dir;
  const auto db = dir.file("incident.db");
  test::seed_small_registry(db);
  Store store(db);
  store.start();
  Incident inc;
  inc.id = 7;
  inc.elder = 1;
  inc.opened_ms = 1000;
  auto save = [&] {
    store.submit({PutIncident{inc}});
    store.drain();
  };
  auto row = [&] {
    return test::sql_text(db, "SELECT elder_id || ' ' || state || ' ' || acknowledged_by || ' ' || repeats || ' ' ||"
                              " resolved_ms || ' ' || opened_ms FROM incidents WHERE id = 7");
  };
  auto open_ids = [&] {
    return test::sql_text(db, "SELECT group_concat(id) FROM incidents INDEXED BY incidents_open"
                              " WHERE state <> 'resolved'");
  };
  auto by_elder = [&](int elder) {
    return test::sql_text(db, "SELECT group_concat(id) FROM incidents INDEXED BY incidents_by_elder WHERE elder_id = " +
                                  std::to_string(elder));
  };
  save();
  CHECK(row() == "1 open  0 0 1000");
  inc.repeats = 3;  // an alert joins: neither elder nor state moves
  save();
  CHECK(row() == "1 open  3 0 1000");
  inc.state = IncidentState::acknowledged;
  inc.acknowledged_by = "王芳";
  save();
  CHECK(row() == "1 acknowledged 王芳 3 0 1000");
  CHECK(open_ids() == "7");
  inc.elder = 2;  // an unknown caller linked to their elder
  save();
  CHECK(row() == "2 acknowledged 王芳 3 0 1000");
  CHECK(by_elder(1).empty());
  CHECK(by_elder(2) == "7");
  inc.state = IncidentState::resolved;
  inc.resolved_ms = 5000;
  save();
  CHECK(row() == "2 resolved 王芳 3 5000 1000");
  CHECK(open_ids().empty());
  store.stop();
  CHECK(test::sql_text(db, "PRAGMA integrity_check") == "ok");
}

TEST_CASE("an incident's timeline comes back in its order with its alerts among its notes", "[store]") {
  // A new alert's row is its timeline entry (schema 13): a restart places each after
  // the events written before it, here all within one millisecond. An alert from an
  // older file has its entry in incident_events and comes back once, from there.
  test::TempDir dir;
  const auto db = dir.file("timeline.db");
  test::seed_small_registry(db);
  ManualClock clock(1795622400000LL);
  auto same = [](const std::vector<TimelineEntry>& a, const std::vector<TimelineEntry>& b) {
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      INFO("entry " << i);
      CHECK(a[i].at_ms == b[i].at_ms);
      CHECK(a[i].kind == b[i].kind);
      CHECK(a[i].actor == b[i].actor);
      CHECK(a[i].alert == b[i].alert);
      CHECK(a[i].text == b[i].text);
      if (a[i].kind == TimelineKind::alert) CHECK(a[i].alert_kind == b[i].alert_kind);
    }
  };
  IncidentId id = 0;
  std::vector<TimelineEntry> before;
  {
    Store store(db);
    Dispatcher d(clock);
    d.restore(store.load());
    store.start();
    id = raise(d, "D1", 1, AlertKind::sos, R"({"bseq":1})");
    REQUIRE(d.add_note(kOperator, id, "first note").ok());
    REQUIRE(raise(d, "D2", 1, AlertKind::smoke, R"({"ppm":900})") == id);
    REQUIRE(d.add_note(kOperator, id, "second note").ok());
    REQUIRE(d.acknowledge(kOperator, id).ok());
    store.submit(d.take_effects().writes);
    store.stop();
    before = d.incident(id)->timeline;
  }
  REQUIRE(before.size() >= 5);
  CHECK(test::count_rows(db, "incident_events WHERE kind = 'alert'") == 0);
  {
    Store store(db);
    Dispatcher d(clock);
    d.restore(store.load());
    REQUIRE(d.incident(id));
    same(d.incident(id)->timeline, before);
  }

  // The first alert as an older program wrote it: its entry an event, first.
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  const std::string legacy =
      "UPDATE alerts SET after_event = NULL WHERE id = 1;"
      "INSERT INTO incident_events(id, incident_id, at_ms, kind, actor, alert_id, alert_kind, text)"
      " SELECT 0, incident_id, received_ms, 'alert', device_id, id, kind, detail FROM alerts WHERE id = 1;";
  REQUIRE(sqlite3_exec(raw, legacy.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  Store store(db);
  Dispatcher d(clock);
  d.restore(store.load());
  REQUIRE(d.incident(id));
  same(d.incident(id)->timeline, before);
}
