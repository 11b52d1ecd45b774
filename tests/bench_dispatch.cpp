// Benchmarks of the dispatcher: re-ranking every open incident, raising alarms. Run with
//   anxin-tests "[bench]" --benchmark-samples 50
#include <catch2/catch.hpp>

#include "anxin/core/dispatcher.hpp"
#include "district.hpp"
#include "support.hpp"

using namespace anxin;

TEST_CASE("rank refresh with 10,000 open incidents", "[.][bench][dispatch]") {
  sim::District district = sim::generate_district({42, 10'000, 60, "2026-11-26"});
  ManualClock clock(sim::local_noon_ms("2026-11-26"));
  Dispatcher d(clock);
  test::open_district(d, clock, district, 10'000, 360);  // one alarm a home, a realistic mix, over an hour
  REQUIRE(d.open_count() == 10'000);

  BENCHMARK_ADVANCED("ranked_incidents(), 10,000 open")(Catch::Benchmark::Chronometer meter) {
    clock.advance(1000);  // a second later: waiting points have moved
    meter.measure([&] { return d.ranked_incidents().size(); });
  };
  d.tick();  // raises the escalations due by now: after it nothing is
  d.take_effects();
  BENCHMARK_ADVANCED("tick(), 10,000 open, nothing due")(Catch::Benchmark::Chronometer meter) {
    meter.measure([&] {
      d.tick();
      return d.take_effects().deltas.size();
    });
  };
}

// The service thread's part of an alarm (issue 15, item 1): raise_alarm and taking its
// effects, on 15,000 homes with 14,000 incidents open, so that most alarms join an
// open incident or fold into its alert as the throughput bench's do. The alarms are
// made before timing; a tick runs every 2,000 of them, as the server's would.
TEST_CASE("raise_alarm at 14000 open incidents", "[.][bench][city]") {
  sim::District district = sim::generate_district({42, 15'000, 60, "2026-11-26"});
  ManualClock clock(sim::local_noon_ms("2026-11-26"));
  Dispatcher d(clock);
  test::open_district(d, clock, district, 14'000, 10);
  sim::DeviceFleet fleet(district, 8);
  std::vector<std::pair<Principal, AlarmIn>> alarms;
  for (int k = 0; k < 300'000; ++k) {
    AlarmIn a = fleet.next(clock.now_ms() + k);
    alarms.push_back({{Role::device, "vendor:" + fleet.vendor_of(a.device)}, std::move(a)});
  }
  size_t next = 0;
  BENCHMARK_ADVANCED("1000 alarms, each raised and its effects taken")(Catch::Benchmark::Chronometer meter) {
    meter.measure([&] {
      size_t n = 0;
      for (int i = 0; i < 1000; ++i) {
        const auto& [who, a] = alarms[next++ % alarms.size()];
        clock.advance(1);
        n += d.raise_alarm(who, a).ok();
        if (next % 2000 == 0) d.tick();
        n += d.take_effects().writes.size();
      }
      return n;
    });
  };
}

// find_elders and the history's elder text scan the whole registry (issue 15, item 5):
// through views of the compact table's text, against each elder made in turn.
TEST_CASE("an elder search over 200000 elders", "[.][bench][city]") {
  sim::District district = sim::generate_district({42, 200'000, 60, "2026-11-26"});
  const ElderTable table(district.elders);
  const std::string q = "不在任何名字里";  // found nowhere: the whole table is read
  BENCHMARK("views of the table's text (rows_by_id + matches)") {
    size_t n = 0;
    table.rows_by_id([&](ElderTable::Row r) { return n += table.matches(r, q), true; });
    return n;
  };
  BENCHMARK("each elder made in turn (each)") {
    size_t n = 0;
    table.each([&](const Elder& e) {
      n += e.name.find(q) != std::string::npos || e.phone.find(q) != std::string::npos ||
           e.address.find(q) != std::string::npos;
    });
    return n;
  };
}

// An edit to one elder (a supervisor's update_elder, a one-line roster import) at city
// scale (issue 15, item 4): put_roster used to make the whole callers' index anew,
// holding the service thread and so every alarm; now the elder's numbers go over it.
TEST_CASE("an elder edited among 200000 elders", "[.][bench][city]") {
  sim::District district = sim::generate_district({42, 200'000, 60, "2026-11-26"});
  ManualClock clock(sim::local_noon_ms("2026-11-26"));
  Dispatcher d(clock);
  d.restore(test::live_state(district));
  Elder e = d.elder_table().at(4242);
  int n = 0;
  BENCHMARK("put_roster of one elder, a new phone each time") {
    e.phone = "1390000" + std::to_string(1000 + n++ % 9000);
    return d.put_roster({e}, {}).size();
  };
  BENCHMARK("index_numbers(), as put_roster did before") {
    d.index_numbers();
    return d.match_caller(e.phone).has_value();
  };
}
