// Candidate search: ranking rules worked by hand, then nearest() against
// brute_force() on random counties.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "anxin/core/candidates.hpp"
#include "prng.hpp"
#include "anxin/core/geo.hpp"

using namespace anxin;

namespace {

// The county seat used throughout (34.83N 115.54E).
constexpr double kBaseLat = 34.83, kBaseLon = 115.54;
constexpr double kMPerDegLat = kEarthRadiusM * std::numbers::pi / 180;

double north_deg(double m) { return m / kMPerDegLat; }
double east_deg(double m, double lat = kBaseLat) {
  return m / (kMPerDegLat * std::cos(lat * std::numbers::pi / 180));
}

// An available e-bike volunteer with a fresh position, `north_m`/`east_m` from the base.
WorkerSpot at(WorkerId id, double north_m, double east_m) {
  return {.id = id,
          .lat = kBaseLat + north_deg(north_m),
          .lon = kBaseLon + east_deg(east_m),
          .position_ms = 0,
          .mode = TransportMode::ebike,
          .role = WorkerRole::volunteer,
          .skills = 0,
          .available = true};
}

CandidateQuery at_base() { return {.lat = kBaseLat, .lon = kBaseLon, .now_ms = 0}; }

std::vector<WorkerId> ids(const std::vector<Candidate>& cs) {
  std::vector<WorkerId> out;
  for (const auto& c : cs) out.push_back(c.id);
  return out;
}

// Every field at full precision, so a mismatch shows exactly where the two differ.
std::string describe(const std::vector<Candidate>& cs) {
  std::string out;
  char line[256];
  for (const auto& c : cs) {
    std::snprintf(line, sizeof line, "%lld d=%.17g t=%.17g p=%.17g s=%.17g %d%d%d\n",
                  static_cast<long long>(c.id), c.distance_m, c.travel_s, c.penalty_s, c.score_s,
                  c.paired, c.preferred_role, c.stale);
    out += line;
  }
  return out;
}

using test::Prng;

constexpr Millis kMinuteMs = 60'000;

}  // namespace

TEST_CASE("distance_m is the great-circle distance", "[core][dispatch]") {
  CHECK(distance_m(kBaseLat, kBaseLon, kBaseLat, kBaseLon) == 0);
  CHECK(distance_m(34, 115, 35, 115) == Approx(kMPerDegLat).epsilon(1e-12));
  // One degree of longitude shrinks with cos(latitude).
  CHECK(distance_m(60, 10, 60, 11) == Approx(55'597.0).margin(1.0));
  CHECK(distance_m(0, 0, 0, 180) == Approx(kEarthRadiusM * std::numbers::pi));
}

TEST_CASE("skills and modes have wire names", "[core][dispatch]") {
  CHECK(skill_name(Skill::dementia_care) == "dementia_care");
  CHECK(parse_skill("fire_safety") == Skill::fire_safety);
  CHECK_FALSE(parse_skill("juggling").has_value());
  CHECK(skill_set({"first_aid", "juggling", "repair"}) ==
        (static_cast<SkillSet>(Skill::first_aid) | static_cast<SkillSet>(Skill::repair)));
  CHECK(name_of(TransportMode::walk) == "walk");
  CHECK(name_of(TransportMode::ebike) == "ebike");
  CHECK(name_of(TransportMode::car) == "car");
}

TEST_CASE("the nearest worker comes first", "[core][dispatch]") {
  WorkerIndex index;
  index.upsert(at(1, 2000, 0));
  index.upsert(at(2, 0, -500));
  index.upsert(at(3, 0, 1000));
  const auto got = index.nearest(at_base());
  REQUIRE(ids(got) == std::vector<WorkerId>{2, 3, 1});
  CHECK(got[0].distance_m == Approx(500).margin(0.01));
  CHECK(got[0].travel_s == Approx(500 * 1.35 / 4.2).margin(0.01));
  CHECK(got[0].penalty_s == 0);
  CHECK(got[0].score_s == got[0].travel_s);
  CHECK_FALSE(got[0].stale);
  CHECK(got[0].preferred_role);
  CHECK_FALSE(got[0].paired);
}

TEST_CASE("the transport mode matters", "[core][dispatch]") {
  WorkerIndex index;
  auto walker = at(1, 1000, 0);
  walker.mode = TransportMode::walk;
  auto driver = at(2, 0, 3000);
  driver.mode = TransportMode::car;
  index.upsert(walker);
  index.upsert(driver);
  const auto got = index.nearest(at_base());
  // car: 3000 m x 1.35 / 8.3 m/s = 488 s; walker: 1000 m x 1.35 / 1.25 m/s = 1080 s
  REQUIRE(ids(got) == std::vector<WorkerId>{2, 1});
  CHECK(got[0].travel_s == Approx(3000 * 1.35 / 8.3).margin(0.01));
  CHECK(got[1].travel_s == Approx(1000 * 1.35 / 1.25).margin(0.01));
}

TEST_CASE("unavailable workers are not candidates", "[core][dispatch]") {
  WorkerIndex index;
  auto busy = at(1, 100, 0);
  busy.available = false;
  index.upsert(busy);
  index.upsert(at(2, 900, 0));
  CHECK(ids(index.nearest(at_base())) == std::vector<WorkerId>{2});
  CHECK(ids(index.brute_force(at_base())) == std::vector<WorkerId>{2});
}

TEST_CASE("a candidate has every required skill", "[core][dispatch]") {
  const auto first_aid = static_cast<SkillSet>(Skill::first_aid);
  const auto medical = static_cast<SkillSet>(Skill::medical);
  WorkerIndex index;
  auto a = at(1, 100, 0);
  a.skills = first_aid;
  auto b = at(2, 800, 0);
  b.skills = first_aid | medical | static_cast<SkillSet>(Skill::repair);
  auto c = at(3, 400, 0);
  c.skills = medical;
  index.upsert(a);
  index.upsert(b);
  index.upsert(c);
  auto q = at_base();
  q.required = first_aid | medical;
  CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{2});
  q.required = first_aid;
  CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{1, 2});
  q.required = 0;
  CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{1, 3, 2});
}

TEST_CASE("a role the alert does not prefer is penalised", "[core][dispatch]") {
  WorkerIndex index;
  auto nurse = at(1, 1000, 0);
  nurse.role = WorkerRole::nurse;
  index.upsert(nurse);
  index.upsert(at(2, 500, 0));  // volunteer
  auto q = at_base();
  // Without a preference the volunteer is nearer.
  CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{2, 1});
  // volunteer: 161 s + 300 s; nurse: 321 s.
  q.preferred_roles = {WorkerRole::nurse, WorkerRole::family_doctor};
  const auto got = index.nearest(q);
  REQUIRE(ids(got) == std::vector<WorkerId>{1, 2});
  CHECK(got[0].preferred_role);
  CHECK(got[0].penalty_s == 0);
  CHECK_FALSE(got[1].preferred_role);
  CHECK(got[1].penalty_s == 300);
  CHECK(got[1].score_s == Approx(500 * 1.35 / 4.2 + 300).margin(0.01));
}

TEST_CASE("stale positions are penalised up to a cap", "[core][dispatch]") {
  const Millis now_ms = 1'000 * kMinuteMs;
  WorkerIndex index;
  auto fresh = at(1, 0, 900);
  fresh.position_ms = now_ms - 9 * kMinuteMs;
  auto stale = at(2, 0, 100);
  stale.position_ms = now_ms - 15 * kMinuteMs;  // 5 min over: 150 s
  auto ancient = at(3, 0, 50);
  ancient.position_ms = now_ms - 180 * kMinuteMs;  // 170 min over: 5100 s, capped at 1800
  index.upsert(fresh);
  index.upsert(stale);
  index.upsert(ancient);
  auto q = at_base();
  q.now_ms = now_ms;
  const auto got = index.nearest(q);
  REQUIRE(ids(got) == std::vector<WorkerId>{2, 1, 3});
  CHECK(got[0].stale);
  CHECK(got[0].penalty_s == Approx(150));
  CHECK_FALSE(got[1].stale);
  CHECK(got[1].penalty_s == 0);
  CHECK(got[2].stale);
  CHECK(got[2].penalty_s == 1800);
}

TEST_CASE("the paired visitor goes first within the margin", "[core][dispatch]") {
  // E-bike at 4.2 m/s with detour 1.35: 1 m of distance is 0.3214 s.
  WorkerIndex index;
  index.upsert(at(1, 0, 1000));  // 321 s
  index.upsert(at(2, 0, 1200));  // 386 s
  index.upsert(at(3, 0, 1400));  // 450 s: 129 s behind the best
  index.upsert(at(4, 0, 2000));  // 643 s: 321 s behind the best
  auto q = at_base();

  SECTION("within the margin: first, even from outside the top `limit`") {
    q.paired = 3;
    q.limit = 2;
    for (const auto& got : {index.nearest(q), index.brute_force(q)}) {
      REQUIRE(ids(got) == std::vector<WorkerId>{3, 1});
      CHECK(got[0].paired);
      CHECK_FALSE(got[1].paired);
    }
    q.limit = 5;
    CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{3, 1, 2, 4});
  }
  SECTION("outside the margin: only where the score puts them") {
    q.paired = 4;
    const auto got = index.nearest(q);
    REQUIRE(ids(got) == std::vector<WorkerId>{1, 2, 3, 4});
    CHECK(got[3].paired);
    q.limit = 3;
    CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{1, 2, 3});
  }
  SECTION("the best is already the paired visitor") {
    q.paired = 1;
    const auto got = index.nearest(q);
    REQUIRE(ids(got) == std::vector<WorkerId>{1, 2, 3, 4});
    CHECK(got[0].paired);
  }
  SECTION("exactly at the margin counts as within") {
    q.paired = 4;
    const auto ranked = index.brute_force(q);
    TravelModel model;
    // Scores within a factor of two subtract exactly, so best + margin == paired.
    model.paired_margin_s = ranked[3].score_s - ranked[0].score_s;
    WorkerIndex exact(model);
    for (WorkerId id = 1; id <= 4; ++id) exact.upsert(*index.find(id));
    CHECK(ids(exact.nearest(q)) == std::vector<WorkerId>{4, 1, 2, 3});
    CHECK(ids(exact.brute_force(q)) == std::vector<WorkerId>{4, 1, 2, 3});
  }
  SECTION("an unavailable or unknown paired visitor changes nothing") {
    auto busy = at(3, 0, 1400);
    busy.available = false;
    index.upsert(busy);
    q.paired = 3;
    CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{1, 2, 4});
    q.paired = 99;
    CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{1, 2, 4});
  }
}

TEST_CASE("at most `limit` candidates", "[core][dispatch]") {
  WorkerIndex index;
  for (WorkerId id = 1; id <= 20; ++id) index.upsert(at(id, 100.0 * static_cast<double>(id), 0));
  auto q = at_base();
  q.limit = 3;
  CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{1, 2, 3});
  q.limit = 1;
  CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{1});
  q.limit = 0;
  CHECK(index.nearest(q).empty());
  CHECK(index.brute_force(q).empty());
  q.limit = 50;
  CHECK(index.nearest(q).size() == 20);
}

TEST_CASE("an empty index has no candidates", "[core][dispatch]") {
  WorkerIndex index;
  CHECK(index.size() == 0);
  CHECK(index.nearest(at_base()).empty());
  CHECK(index.brute_force(at_base()).empty());
  index.upsert(at(1, 0, 0));
  index.remove(1);
  CHECK(index.size() == 0);
  CHECK(index.nearest(at_base()).empty());
  // Nobody qualifies: the search must still end.
  index.upsert(at(2, 0, 0));
  auto q = at_base();
  q.required = static_cast<SkillSet>(Skill::medical);
  CHECK(index.nearest(q).empty());
}

TEST_CASE("impossible positions are refused", "[core][dispatch]") {
  WorkerIndex index;
  auto lost = at(1, 0, 0);
  lost.lat = std::nan("");
  CHECK_THROWS_AS(index.upsert(lost), std::invalid_argument);
  lost.lat = 91;
  CHECK_THROWS_AS(index.upsert(lost), std::invalid_argument);
  CHECK(index.size() == 0);
  CHECK_THROWS_AS(WorkerIndex({}, 0.0), std::invalid_argument);
  index.upsert(at(2, 0, 0));
  auto q = at_base();
  q.lon = std::nan("");
  CHECK(index.nearest(q).empty());
  CHECK(index.brute_force(q).empty());
}

TEST_CASE("upsert moves a worker between cells", "[core][dispatch]") {
  WorkerIndex index;
  index.upsert(at(1, 20'000, 0));
  index.upsert(at(2, 5'000, 0));
  CHECK(ids(index.nearest(at_base())) == std::vector<WorkerId>{2, 1});
  index.upsert(at(1, 0, 300));
  CHECK(index.size() == 2);
  const auto got = index.nearest(at_base());
  REQUIRE(ids(got) == std::vector<WorkerId>{1, 2});
  CHECK(got[0].distance_m == Approx(300).margin(0.01));
  REQUIRE(index.find(1) != nullptr);
  CHECK(index.find(1)->lat == Approx(kBaseLat));
  // Nobody is left at the old spot.
  CandidateQuery there = at_base();
  there.lat = kBaseLat + north_deg(20'000);
  there.limit = 1;
  CHECK(index.nearest(there)[0].id == 2);
  // A move within the cell keeps the worker and updates their details.
  auto moved = at(1, 0, 310);
  moved.mode = TransportMode::car;
  index.upsert(moved);
  CHECK(index.size() == 2);
  CHECK(index.find(1)->mode == TransportMode::car);
  CHECK(index.nearest(at_base())[0].distance_m == Approx(310).margin(0.01));
}

TEST_CASE("remove takes a worker out of the search", "[core][dispatch]") {
  WorkerIndex index;
  index.upsert(at(1, 100, 0));
  index.upsert(at(2, 200, 0));
  index.upsert(at(3, 300, 0));
  index.remove(1);
  index.remove(42);  // unknown: nothing happens
  CHECK(index.size() == 2);
  CHECK(index.find(1) == nullptr);
  CHECK(ids(index.nearest(at_base())) == std::vector<WorkerId>{2, 3});
  CHECK(ids(index.brute_force(at_base())) == std::vector<WorkerId>{2, 3});
}

TEST_CASE("equal scores are ordered by id", "[core][dispatch]") {
  WorkerIndex index;
  for (WorkerId id : {7, 3, 9, 1, 5}) index.upsert(at(id, 700, 700));
  auto q = at_base();
  q.limit = 4;
  CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{1, 3, 5, 7});
  CHECK(ids(index.brute_force(q)) == std::vector<WorkerId>{1, 3, 5, 7});
}

TEST_CASE("a worker just across a cell edge is not missed", "[core][dispatch]") {
  // The query sits a fraction of a cell from one edge of its cell, mid-cell on the
  // other axis. A car 1% beyond that edge is nearer than a car 2% of the same distance
  // back inside the cell, so the search must not stop after the query's own cell: a
  // stopping bound 2% too generous on any side, or at any latitude, fails here.
  for (double lat_deg : {kBaseLat, 60.0}) {
    for (double cell_deg : {0.01, 0.002}) {
      for (double edge_frac : {0.05, 0.15, 0.3}) {
        for (const char* side : {"north", "south", "east", "west"}) {
          CAPTURE(lat_deg, cell_deg, edge_frac, side);
          const double row = std::floor(lat_deg / cell_deg), col = std::floor(kBaseLon / cell_deg);
          double q_lat = (row + 0.5) * cell_deg, q_lon = (col + 0.5) * cell_deg;
          double lat_per_m = 0, lon_per_m = 0;  // degrees per metre towards the edge
          const std::string s = side;
          if (s == "north") q_lat = (row + 1 - edge_frac) * cell_deg, lat_per_m = 1 / kMPerDegLat;
          if (s == "south") q_lat = (row + edge_frac) * cell_deg, lat_per_m = -1 / kMPerDegLat;
          if (s == "east") q_lon = (col + 1 - edge_frac) * cell_deg, lon_per_m = east_deg(1, q_lat);
          if (s == "west") q_lon = (col + edge_frac) * cell_deg, lon_per_m = -east_deg(1, q_lat);
          const double edge_m = edge_frac * cell_deg / std::abs(lat_per_m + lon_per_m);
          WorkerIndex index({}, cell_deg);
          auto car = [&](WorkerId id, double towards_edge_m) {
            WorkerSpot w = at(id, 0, 0);
            w.lat = q_lat + towards_edge_m * lat_per_m;
            w.lon = q_lon + towards_edge_m * lon_per_m;
            w.mode = TransportMode::car;
            return w;
          };
          index.upsert(car(1, -1.02 * edge_m));  // inside the query's cell
          index.upsert(car(2, 1.01 * edge_m));   // just across the edge
          CandidateQuery q{.lat = q_lat, .lon = q_lon, .limit = 1};
          CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{2});
          CHECK(ids(index.brute_force(q)) == std::vector<WorkerId>{2});
        }
      }
    }
  }
}

TEST_CASE("queries far outside the populated area", "[core][dispatch]") {
  WorkerIndex index;
  Prng rng{7};
  for (WorkerId id = 1; id <= 300; ++id)
    index.upsert(at(id, rng.uniform(-20'000, 20'000), rng.uniform(-20'000, 20'000)));
  const std::vector<std::pair<double, double>> far_points = {
      {39.90, 116.40},    // Beijing
      {34.83, 100.00},    // due west
      {-33.87, 151.21},   // Sydney
      {0.0, 0.0},
      {34.83 + 0.5, 115.54},
  };
  for (auto [lat, lon] : far_points) {
    CAPTURE(lat, lon);
    CandidateQuery q{.lat = lat, .lon = lon, .limit = 5};
    const auto got = index.nearest(q);
    CHECK(got.size() == 5);
    CHECK(describe(got) == describe(index.brute_force(q)));
    q.required = static_cast<SkillSet>(Skill::repair);  // nobody has it
    CHECK(index.nearest(q).empty());
  }
}

TEST_CASE("a stray position far away still gives every answer", "[core][dispatch]") {
  // A failed GPS fix at 0N 0E stretches the populated box across a hemisphere (some
  // 40 million cells); a query the county cannot fill must still end, and find them.
  WorkerIndex index;
  Prng rng{3};
  for (WorkerId id = 1; id <= 50; ++id)
    index.upsert(at(id, rng.uniform(-10'000, 10'000), rng.uniform(-10'000, 10'000)));
  WorkerSpot stray = at(99, 0, 0);
  stray.lat = 0;
  stray.lon = 0;
  stray.skills = static_cast<SkillSet>(Skill::repair);
  index.upsert(stray);
  auto q = at_base();
  q.required = static_cast<SkillSet>(Skill::repair);
  CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{99});
  q.required = 0;
  CHECK(describe(index.nearest(q)) == describe(index.brute_force(q)));
  q.limit = 100;
  CHECK(index.nearest(q).size() == 51);
  CHECK(describe(index.nearest(q)) == describe(index.brute_force(q)));
}

TEST_CASE("neighbours across the antimeridian are found", "[core][dispatch]") {
  // Cells either side of 180E are far apart in the grid but not on the ground (Fiji).
  WorkerIndex index;
  Prng rng{5};
  for (WorkerId id = 10; id < 60; ++id) {  // elsewhere on the islands, either side
    WorkerSpot s = at(id, 0, 0);
    s.lat = -17.0 - rng.uniform(0, 2);
    s.lon = rng.chance(0.5) ? rng.uniform(177.0, 179.0) : rng.uniform(-180.0, -179.0);
    index.upsert(s);
  }
  CandidateQuery q{.lat = -17.8, .lon = 179.9995, .limit = 1};
  WorkerSpot same_side = at(1, 0, 0);
  same_side.lat = q.lat;
  same_side.lon = 179.9975;  // 0.002 degrees west
  WorkerSpot across = at(2, 0, 0);
  across.lat = q.lat;
  across.lon = -179.9995;  // 0.001 degrees east, over the line
  index.upsert(same_side);
  index.upsert(across);
  CHECK(ids(index.nearest(q)) == std::vector<WorkerId>{2});
  CHECK(ids(index.brute_force(q)) == std::vector<WorkerId>{2});
  q.limit = 8;
  CHECK(describe(index.nearest(q)) == describe(index.brute_force(q)));
}

TEST_CASE("queries and workers on cell boundaries", "[core][dispatch]") {
  // Workers and queries on cell corners and edges, and a hair either side of them,
  // where rounding in floor(lon / cell) could put a point in the other cell.
  for (double cell_deg : {0.01, 0.003, 0.05}) {
    CAPTURE(cell_deg);
    WorkerIndex index({}, cell_deg);
    Prng rng{static_cast<std::uint64_t>(cell_deg * 1e6)};
    const double nudges[] = {0.0, 1e-12, -1e-12, 1e-9, -1e-9};
    auto on_grid = [&](double centre, int span) {
      const auto k = std::floor(centre / cell_deg) + static_cast<double>(rng.below(2 * span + 1)) - span;
      return k * cell_deg + nudges[rng.below(5)];
    };
    for (WorkerId id = 1; id <= 400; ++id) {
      WorkerSpot s = at(id, 0, 0);
      s.lat = on_grid(kBaseLat, 6);
      s.lon = on_grid(kBaseLon, 6);
      s.mode = static_cast<TransportMode>(rng.below(3));
      s.available = rng.chance(0.5);
      index.upsert(s);
    }
    for (int i = 0; i < 300; ++i) {
      CandidateQuery q{.lat = on_grid(kBaseLat, 8), .lon = on_grid(kBaseLon, 8),
                       .limit = 1 + rng.below(6)};
      CAPTURE(i, q.lat, q.lon);
      REQUIRE(describe(index.nearest(q)) == describe(index.brute_force(q)));
    }
  }
}

TEST_CASE("the search does not stop before a worker just past the visited square",
          "[core][dispatch]") {
  // A few workers within a cell and a half of the query: whether the search may stop after
  // a ring is decided on every side, at every distance from the cell's edges. Mostly
  // cars: the stopping bound assumes the fastest mode, so with cars it is tight.
  Prng rng{11};
  for (int trial = 0; trial < 3000; ++trial) {
    const double cell_deg = trial % 3 == 0 ? 0.01 : 0.002;
    WorkerIndex index({}, cell_deg);
    const double lat = kBaseLat + rng.uniform(-1, 1), lon = kBaseLon + rng.uniform(-1, 1);
    const auto workers = 1 + rng.below(6);
    for (WorkerId id = 1; id <= static_cast<WorkerId>(workers); ++id) {
      WorkerSpot s = at(id, 0, 0);
      s.lat = lat + rng.uniform(-1.5, 1.5) * cell_deg;
      s.lon = lon + rng.uniform(-1.5, 1.5) * cell_deg;
      s.mode = rng.chance(0.8) ? TransportMode::car : TransportMode::walk;
      index.upsert(s);
    }
    CandidateQuery q{.lat = lat, .lon = lon, .limit = 1 + rng.below(3)};
    CAPTURE(trial, cell_deg);
    REQUIRE(describe(index.nearest(q)) == describe(index.brute_force(q)));
  }
}

TEST_CASE("nearest() agrees with brute_force() on random counties", "[core][dispatch]") {
  const std::vector<WorkerRole> roles = {WorkerRole::nurse,          WorkerRole::family_doctor,
                                         WorkerRole::social_worker,  WorkerRole::volunteer,
                                         WorkerRole::property_staff, WorkerRole::grid_worker};
  const Millis now_ms = 1'700'000'000'000;
  int paired_moved_first = 0;
  for (std::uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    // Vary the cell size too: the answer must not depend on it.
    const double cell_deg = seed % 2 ? 0.01 : 0.004 * static_cast<double>(seed);
    CAPTURE(seed, cell_deg);
    Prng rng{seed};
    WorkerIndex index({}, cell_deg);
    auto random_worker = [&](WorkerId id) {
      WorkerSpot s;
      s.id = id;
      s.lat = kBaseLat + north_deg(rng.uniform(-30'000, 30'000));
      s.lon = kBaseLon + east_deg(rng.uniform(-30'000, 30'000));
      if (id > 1 && rng.chance(0.05)) {  // colleagues at the same spot make exact ties
        const WorkerSpot* other = index.find(1 + static_cast<WorkerId>(rng.below(id - 1)));
        if (other) s.lat = other->lat, s.lon = other->lon;
      }
      s.position_ms = now_ms - static_cast<Millis>(rng.below((rng.chance(0.8) ? 10 : 90) * kMinuteMs));
      s.mode = static_cast<TransportMode>(rng.below(3));
      s.role = roles[rng.below(roles.size())];
      s.skills = static_cast<SkillSet>(rng.below(128) & rng.below(128));
      s.available = rng.chance(0.8);
      return s;
    };
    for (WorkerId id = 1; id <= 2000; ++id) index.upsert(random_worker(id));
    // Churn: some move, some leave, so cells empty out and the extent is stale.
    for (int i = 0; i < 200; ++i) index.upsert(random_worker(1 + static_cast<WorkerId>(rng.below(2000))));
    for (int i = 0; i < 100; ++i) index.remove(1 + static_cast<WorkerId>(rng.below(2000)));

    for (int i = 0; i < 200; ++i) {
      CandidateQuery q;
      q.lat = kBaseLat + north_deg(rng.uniform(-35'000, 35'000));
      q.lon = kBaseLon + east_deg(rng.uniform(-35'000, 35'000));
      q.now_ms = now_ms;
      if (rng.chance(0.5)) q.required = static_cast<SkillSet>(1u << rng.below(7));
      if (rng.chance(0.2)) q.required |= static_cast<SkillSet>(1u << rng.below(7));
      if (rng.chance(0.5))
        for (auto role : roles)
          if (rng.chance(0.3)) q.preferred_roles.push_back(role);
      if (rng.chance(0.5)) {
        // Often someone near enough for the paired rule to matter, sometimes anyone
        // (or nobody: ids above 2000 do not exist).
        q.limit = 8;
        const auto near = index.brute_force(q);
        q.paired = !near.empty() && rng.chance(0.6) ? near[rng.below(near.size())].id
                                                    : 1 + static_cast<WorkerId>(rng.below(2100));
      }
      q.limit = rng.below(12);
      CAPTURE(i, q.lat, q.lon, q.required, q.limit);
      const auto fast = index.nearest(q);
      const auto slow = index.brute_force(q);
      REQUIRE(ids(fast) == ids(slow));
      REQUIRE(describe(fast) == describe(slow));
      if (fast.size() > 1 && fast[0].paired && fast[1].score_s < fast[0].score_s) ++paired_moved_first;
    }
  }
  CHECK(paired_moved_first >= 10);  // the paired rule was really exercised (28 times)
}
