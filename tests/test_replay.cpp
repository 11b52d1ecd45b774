// A simulated day replayed twice gives the same decisions: the same audit log, the
// same metrics. This is what lets a supervisor's figures be checked, and a bug
// reproduced, from a seed.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <set>

#include "replay.hpp"
#include "support.hpp"

using namespace anxin;

namespace {

sim::ReplayResult run(const test::TempDir& dir, const std::string& name, std::uint64_t seed) {
  sim::ReplayOptions o;
  o.seed = seed;
  o.alarms = 150;
  o.elders = 400;
  o.workers = 20;
  o.db_path = dir.file(name);
  return sim::replay_day(o);
}

bool same(const AuditEntry& a, const AuditEntry& b) {
  return a.at_ms == b.at_ms && a.actor == b.actor && a.action == b.action && a.incident == b.incident &&
         a.detail == b.detail;
}

}  // namespace

TEST_CASE("replaying the same seed twice gives the same audit log", "[replay]") {
  test::TempDir dir;
  auto first = run(dir, "a.db", 7);
  auto second = run(dir, "b.db", 7);
  REQUIRE(first.audit.size() > 300);
  REQUIRE(first.audit.size() == second.audit.size());
  size_t differing = 0;
  for (size_t k = 0; k < first.audit.size(); ++k) differing += !same(first.audit[k], second.audit[k]);
  CHECK(differing == 0);
  for (size_t k = 0; k < kIntervals; ++k) {
    CHECK(first.metrics.intervals[k].count == second.metrics.intervals[k].count);
    CHECK(first.metrics.intervals[k].p50_ms == second.metrics.intervals[k].p50_ms);
    CHECK(first.metrics.intervals[k].p90_ms == second.metrics.intervals[k].p90_ms);
  }
  CHECK(first.dispositions == second.dispositions);

  // The day is a real one: everything opened was closed, offers went out, the staff
  // never tried anything the dispatcher refused.
  CHECK(first.incidents_opened == 150);
  CHECK(first.incidents_resolved == first.incidents_opened);
  CHECK(first.offers > 20);
  CHECK(first.refused == 0);
  std::set<std::string> actions;
  for (const auto& e : first.audit) actions.insert(e.action);
  for (const char* a : {"alarm", "acknowledge", "callback", "offer", "accept", "on_scene", "complete", "resolve"})
    CHECK(actions.count(a) == 1);

  auto other = run(dir, "c.db", 8);
  bool differs = other.audit.size() != first.audit.size();
  for (size_t k = 0; !differs && k < first.audit.size(); ++k) differs = !same(first.audit[k], other.audit[k]);
  CHECK(differs);
}

TEST_CASE("the audit log is append-only", "[replay][audit]") {
  test::TempDir dir;
  run(dir, "audit.db", 3);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.file("audit.db").c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  CHECK(sqlite3_exec(db, "UPDATE audit SET actor='someone else'", nullptr, nullptr, &err) != SQLITE_OK);
  CHECK(std::string(err ? err : "").find("append-only") != std::string::npos);
  sqlite3_free(err);
  err = nullptr;
  CHECK(sqlite3_exec(db, "DELETE FROM audit", nullptr, nullptr, &err) != SQLITE_OK);
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST_CASE("a resolved incident leaves a closing record", "[replay][audit]") {
  test::TempDir dir;
  auto r = run(dir, "closing.db", 5);
  Store store(dir.file("closing.db"));
  auto record = store.closing_record(1);
  REQUIRE(record);
  CHECK(record->state == IncidentState::resolved);
  CHECK_FALSE(record->disposition.empty());
  CHECK(record->timeline.size() >= 3);  // alert, acknowledged, ..., resolved
  CHECK(record->timeline.back().kind == TimelineKind::resolved);
  CHECK(test::count_rows(dir.file("closing.db"), "closing_records") == static_cast<long long>(r.incidents_resolved));
}
