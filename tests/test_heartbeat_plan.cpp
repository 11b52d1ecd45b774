// The simulator's heartbeat plan (tools/sim/heartbeats.hpp): every device once per
// interval, evenly spread, deterministic from the seed; silences that end; batteries
// that run down and are replaced with a new boot. And anxin-sim play sending them to
// a real server, whose silent devices go offline and come back.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "district.hpp"
#include "heartbeats.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using namespace anxin::sim;

namespace {

std::vector<Device> fleet(int n, int battery_pct = 80) {
  std::vector<Device> out;
  for (int i = 1; i <= n; ++i) {
    Device d;
    d.id = "D" + std::to_string(1000000 + i).substr(1);
    d.elder = i;
    d.vendor = "v";
    d.battery_pct = battery_pct;
    out.push_back(d);
  }
  return out;
}

std::string text_of(const std::vector<HeartbeatIn>& beats) {
  std::string s;
  for (const auto& b : beats)
    s += b.device + " " + b.boot + " " + std::to_string(*b.battery_pct) + " " + std::to_string(*b.signal_dbm) + "\n";
  return s;
}

// The one number `sql` selects from the file, read while the server runs.
long long count_in(const std::string& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(raw, 2000);
  sqlite3_stmt* st = nullptr;
  long long n = -1;
  if (sqlite3_prepare_v2(raw, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(raw);
  return n;
}

}  // namespace

TEST_CASE("heartbeat plan: each device once per interval and evenly spread", "[sim]") {
  HeartbeatOptions o;
  o.interval_s = 60;
  o.silence_pct = 0;
  HeartbeatPlan plan(fleet(600), o);
  // 600 devices over 60 s: one every 100 ms, beat 0 at the start.
  CHECK(plan.due(0).size() == 1);
  CHECK(plan.due(0.05).empty());
  CHECK(plan.due(10).size() == 100);
  CHECK(plan.due(59.95).size() == 499);
  CHECK(plan.beats() == 600);
  CHECK(plan.due(59.95).empty());
  // The rest of the first round, then the whole second: every device twice in all.
  HeartbeatPlan again(fleet(600), o);
  std::map<DeviceId, int> count;
  for (const auto& b : again.due(119.95)) {
    ++count[b.device];
    CHECK(!b.boot.empty());
    CHECK(*b.battery_pct >= 0);
    CHECK(*b.battery_pct <= 100);
    CHECK(*b.signal_dbm <= 0);
    CHECK(*b.signal_dbm >= -150);
  }
  REQUIRE(count.size() == 600);
  for (const auto& [device, n] : count) CHECK(n == 2);
}

TEST_CASE("heartbeat plan: the same seed gives the same beats whatever the pace of asking", "[sim]") {
  HeartbeatOptions o;
  o.seed = 7;
  o.interval_s = 10;
  o.silence_pct = 5;
  HeartbeatPlan a(fleet(300), o), b(fleet(300), o);
  std::vector<HeartbeatIn> in_steps;
  for (double t = 0; t <= 200; t += 0.37) {
    auto step = a.due(t);
    in_steps.insert(in_steps.end(), step.begin(), step.end());
  }
  auto more = a.due(200);
  in_steps.insert(in_steps.end(), more.begin(), more.end());
  CHECK(text_of(in_steps) == text_of(b.due(200)));
  o.seed = 8;
  HeartbeatPlan c(fleet(300), o);
  CHECK(text_of(c.due(200)) != text_of(in_steps));
}

TEST_CASE("heartbeat plan: about the silent share is silent and silences end", "[sim]") {
  HeartbeatOptions o;
  o.seed = 3;
  o.interval_s = 1;
  o.silence_pct = 10;
  o.silence_min_s = 3;  // at one beat a second, 3 to 6 beats
  o.silence_max_s = 6;
  HeartbeatPlan plan(fleet(1000), o);
  std::map<DeviceId, std::vector<int>> rounds_beaten;
  size_t silent_sum = 0;
  for (int round = 0; round < 200; ++round) {
    for (const auto& b : plan.due(round + 0.5)) {  // a device's beats are always a whole round apart
      rounds_beaten[b.device].push_back(round);
      CHECK(!plan.silent(b.device));
      CHECK(!plan.boot_of(b.device).empty());
    }
    if (round >= 20) silent_sum += plan.silent_count();
  }
  const double share = static_cast<double>(silent_sum) / (180.0 * 1000);
  CHECK(share > 0.07);
  CHECK(share < 0.13);
  // A gap in a device's beats is a silence of 3 to 6 rounds; many devices came back.
  size_t came_back = 0;
  for (const auto& [device, rounds] : rounds_beaten)
    for (size_t i = 1; i < rounds.size(); ++i)
      if (rounds[i] - rounds[i - 1] > 1) {
        ++came_back;
        CHECK(rounds[i] - rounds[i - 1] - 1 >= 3);
        CHECK(rounds[i] - rounds[i - 1] - 1 <= 6);
      }
  CHECK(came_back > 100);
  // With no silent share, nobody falls silent.
  o.silence_pct = 0;
  HeartbeatPlan none(fleet(1000), o);
  CHECK(none.due(50.5).size() == 50501);
  CHECK(none.silent_count() == 0);
}

TEST_CASE("heartbeat plan: batteries run down and a new battery brings a new boot", "[sim]") {
  HeartbeatOptions o;
  o.interval_s = 1;
  o.silence_pct = 0;
  HeartbeatPlan plan(fleet(50, 8), o);
  std::map<DeviceId, std::string> first_boot;
  std::map<DeviceId, int> lowest;
  std::set<DeviceId> rebooted;
  for (const auto& b : plan.due(1000)) {
    first_boot.emplace(b.device, b.boot);
    auto [it, fresh] = lowest.emplace(b.device, *b.battery_pct);
    if (!fresh && *b.battery_pct < it->second) it->second = *b.battery_pct;
    if (b.boot != first_boot[b.device]) {
      rebooted.insert(b.device);
      CHECK(*b.battery_pct >= 70);
    }
  }
  // From 8 %, a percent about every 60 beats: most run below 5 % within 1,000 beats.
  CHECK(rebooted.size() > 25);
  for (const auto& [device, pct] : lowest) CHECK(pct >= 5);  // 5 % is reported, then replaced
  for (const auto& d : rebooted) CHECK(plan.boot_of(d) != first_boot[d]);
}

TEST_CASE("heartbeat plan: bad options are refused", "[sim]") {
  HeartbeatOptions o;
  o.interval_s = 0;
  CHECK_THROWS_AS(HeartbeatPlan(fleet(3), o), std::invalid_argument);
  o.interval_s = 60;
  o.silence_pct = 100;
  CHECK_THROWS_AS(HeartbeatPlan(fleet(3), o), std::invalid_argument);
  o.silence_pct = 1;
  o.silence_min_s = 5;
  o.silence_max_s = 4;
  CHECK_THROWS_AS(HeartbeatPlan(fleet(3), o), std::invalid_argument);
  o.silence_min_s = 0;
  CHECK_THROWS_AS(HeartbeatPlan(fleet(3), o), std::invalid_argument);
}

TEST_CASE("anxin-sim play: heartbeats reach the server and silent devices go offline and come back", "[sim]") {
  test::TempDir dir;
  const std::string db = dir.file("play.db");
  {
    test::Process gen({ANXIN_SIM_BIN, "generate", "--db", db, "--elders", "40", "--workers", "4", "--seed", "11"},
                      dir.file("generate.log"));
    REQUIRE(gen.wait(std::chrono::seconds(30)) == 0);
  }
  // Every kind checks in each second with a second's grace: offline after 2 s of silence.
  gateway::ServerOptions o;
  for (auto& [kind, check] : o.config.supervision.check_in) check = {1000, 1000};
  o.config.supervision.write_every_ms = 200;
  o.tick_ms = 50;
  test::Centre centre(false, o, nullptr, db);
  const long long devices = count_in(db, "SELECT COUNT(*) FROM devices");
  REQUIRE(devices > 40);
  // A third of the devices silent at a time, each for 3 to 4 s; beats every 0.5 s.
  test::Process sim({ANXIN_SIM_BIN, "play", "--db", db, "--port", std::to_string(centre.port()), "--rate", "2",
                     "--seed", "5", "--heartbeat-s", "0.5", "--silence", "30", "--silence-min-s", "3",
                     "--silence-max-s", "4"},
                    dir.file("sim.log"));
  const bool seen = test::eventually(
      [&] {
        return count_in(db, "SELECT COUNT(*) FROM alerts WHERE kind = 'offline'") > 0 &&
               count_in(db, "SELECT COUNT(*) FROM incident_events WHERE kind = 'note' AND text LIKE '% back online'") >
                   0 &&
               count_in(db, "SELECT COUNT(*) FROM alerts WHERE device_boot LIKE 'b-%'") > 0;
      },
      std::chrono::seconds(15));
  sim.signal(SIGTERM);
  REQUIRE(sim.wait(std::chrono::seconds(10)) == 0);
  const std::string log = test::read_file(dir.file("sim.log"));
  INFO(log);
  REQUIRE(seen);
  // Nearly every device has checked in and been written as supervised (the silent
  // ones may have missed the last write).
  CHECK(count_in(db, "SELECT COUNT(*) FROM devices WHERE supervised = 1") * 2 > devices);
  CHECK(log.find("answered ok") != std::string::npos);
  CHECK(log.find(" 0 answered ok") == std::string::npos);
}
