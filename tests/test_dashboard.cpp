// The supervisor's figures for a known day: a day is replayed into a real file,
// a real server opens it at 23:59:59 of that day, and the metrics a console
// receives must match the replay's own figures and the same figures computed
// directly from the file with SQL.
#include <sqlite3.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "replay.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

std::vector<long long> column(const std::string& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  std::vector<long long> out;
  while (sqlite3_step(s) == SQLITE_ROW) out.push_back(sqlite3_column_int64(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(raw);
  return out;
}

// Nearest rank, as the dashboard defines p50/p90.
long long nearest_rank(std::vector<long long> v, double p) {
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

}  // namespace

TEST_CASE("dashboard figures match a known replayed day", "[ws][replay][dashboard]") {
  test::TempDir dir;
  sim::ReplayOptions o;
  o.seed = 11;
  o.alarms = 160;
  o.elders = 400;
  o.workers = 20;
  o.db_path = dir.file("day.db");
  const sim::ReplayResult day = sim::replay_day(o);

  ManualClock end_of_day(sim::local_noon_ms(o.date) + 12 * 3600 * 1000 - 1000);  // 23:59:59
  test::Centre centre(false, {}, &end_of_day, o.db_path);
  {
    Store store(o.db_path);
    store.put_token("tok-supervisor", {Role::console, "supervisor:张敏"});
  }
  centre.restart();
  auto console = centre.client("console", "tok-supervisor");
  console->send(R"({"type":"metrics"})");
  json m = test::next_json(*console);
  INFO(m.dump());
  REQUIRE(m["type"] == "metrics");

  // What the replay says.
  const MetricsSummary& want = day.metrics;
  const char* names[] = {"to_acknowledge", "to_dispatch", "to_accept", "to_arrive", "on_scene"};
  for (size_t k = 0; k < kIntervals; ++k) {
    INFO(names[k]);
    CHECK(m["intervals"][names[k]]["count"] == want.intervals[k].count);
    CHECK(m["intervals"][names[k]]["p50_ms"] == want.intervals[k].p50_ms);
    CHECK(m["intervals"][names[k]]["p90_ms"] == want.intervals[k].p90_ms);
  }
  CHECK(m["acknowledged_within_60s"] == want.acknowledged_within_60s);
  CHECK(m["acknowledged_within_180s"] == want.acknowledged_within_180s);
  for (size_t h = 0; h < 24; ++h) CHECK(m["per_hour"][h] == want.opened_per_hour[h]);
  for (const auto& op : m["per_operator"]) {
    const auto& load = want.operators.at(op["operator"]);
    CHECK(op["acknowledged"] == load.acknowledged);
    CHECK(op["resolved"] == load.resolved);
  }

  // And what the file says, computed another way.
  const auto waits = column(o.db_path, "SELECT acknowledged_ms - opened_ms FROM incidents WHERE acknowledged_ms > 0");
  // Every incident was acknowledged (two alarms of one elder make one incident).
  REQUIRE(static_cast<long long>(waits.size()) == column(o.db_path, "SELECT COUNT(*) FROM incidents")[0]);
  REQUIRE(waits.size() > 150);
  CHECK(m["intervals"]["to_acknowledge"]["count"] == waits.size());
  CHECK(m["intervals"]["to_acknowledge"]["p50_ms"] == nearest_rank(waits, 0.5));
  CHECK(m["intervals"]["to_acknowledge"]["p90_ms"] == nearest_rank(waits, 0.9));
  CHECK(m["acknowledged_within_60s"] == std::count_if(waits.begin(), waits.end(), [](long long w) { return w <= 60'000; }));
  const auto hours = column(o.db_path, "SELECT ((opened_ms + 28800000) / 3600000) % 24 FROM incidents");
  for (size_t h = 0; h < 24; ++h)
    CHECK(m["per_hour"][h] == std::count(hours.begin(), hours.end(), static_cast<long long>(h)));
  const auto arrivals =
      column(o.db_path, "SELECT on_scene_ms - accepted_ms FROM incidents WHERE on_scene_ms > 0 AND accepted_ms > 0");
  CHECK(m["intervals"]["to_arrive"]["count"] == arrivals.size());
  CHECK(m["intervals"]["to_arrive"]["p90_ms"] == nearest_rank(arrivals, 0.9));
  const auto by_wang = column(o.db_path, "SELECT COUNT(*) FROM incidents WHERE acknowledged_by = '王芳'");
  for (const auto& op : m["per_operator"])
    if (op["operator"] == "王芳") CHECK(op["acknowledged"] == by_wang[0]);
}
