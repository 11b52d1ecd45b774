// Benchmarks of the candidate search: nearest() against brute_force() on a county.
// Workers are clustered the way a county's are: 20 town centres scattered over a
// 60 km x 60 km square hold 80% of them (about 2.5 km spread around each centre);
// the other 20% are spread evenly (village volunteers). Query points come from the
// same mix, since elders live where people live. Everyone is on duty and available.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "anxin/core/candidates.hpp"
#include "prng.hpp"
#include "anxin/core/geo.hpp"

using namespace anxin;

namespace {

constexpr double kBaseLat = 34.83, kBaseLon = 115.54;
constexpr double kMPerDegLat = kEarthRadiusM * std::numbers::pi / 180;
constexpr double kHalfSideM = 30'000;
constexpr Millis kNowMs = 1'700'000'000'000;

using test::Prng;

struct PlaceM {
  double north_m, east_m;
};

class County {
 public:
  explicit County(std::uint64_t seed) : rng_{seed} {
    for (int i = 0; i < 20; ++i)
      towns_.push_back({rng_.uniform(-kHalfSideM, kHalfSideM), rng_.uniform(-kHalfSideM, kHalfSideM)});
  }

  // 80% near a town, 20% anywhere in the square.
  PlaceM somewhere() {
    if (rng_.below(5) == 0)
      return {rng_.uniform(-kHalfSideM, kHalfSideM), rng_.uniform(-kHalfSideM, kHalfSideM)};
    const PlaceM town = towns_[rng_.below(towns_.size())];
    // The sum of four uniforms on +-2165 m is bell-shaped with a 2.5 km spread.
    auto spread_m = [&] {
      double sum = 0;
      for (int i = 0; i < 4; ++i) sum += rng_.uniform(-2165, 2165);
      return sum;
    };
    return {town.north_m + spread_m(), town.east_m + spread_m()};
  }

  static double lat_of(PlaceM p) { return kBaseLat + p.north_m / kMPerDegLat; }
  static double lon_of(PlaceM p) {
    return kBaseLon + p.east_m / (kMPerDegLat * std::cos(kBaseLat * std::numbers::pi / 180));
  }

  WorkerSpot worker(WorkerId id) {
    const PlaceM p = somewhere();
    const auto mode_pick = rng_.below(20);  // 40% e-bike, 35% on foot, 25% car
    return {.id = id,
            .lat = lat_of(p),
            .lon = lon_of(p),
            .position_ms = kNowMs - static_cast<Millis>(rng_.below(5 * 60'000)),
            .mode = mode_pick < 8 ? TransportMode::ebike
                    : mode_pick < 15 ? TransportMode::walk
                                     : TransportMode::car,
            .role = static_cast<WorkerRole>(rng_.below(6)),
            .skills = static_cast<SkillSet>(rng_.below(128)),
            .available = true};
  }

  CandidateQuery query() {
    const PlaceM p = somewhere();
    return {.lat = lat_of(p), .lon = lon_of(p), .now_ms = kNowMs, .limit = 5};
  }

 private:
  Prng rng_;
  std::vector<PlaceM> towns_;
};

}  // namespace

TEST_CASE("candidate search: nearest() vs brute_force()", "[.][bench]") {
  for (WorkerId workers : {1'000, 10'000, 100'000}) {
    County county(42);
    WorkerIndex index;
    for (WorkerId id = 1; id <= workers; ++id) index.upsert(county.worker(id));
    std::vector<CandidateQuery> queries;
    for (int i = 0; i < 256; ++i) queries.push_back(county.query());
    // What is timed must be right.
    for (int i = 0; i < 8; ++i) {
      const auto got = index.nearest(queries[i]);
      REQUIRE(got.size() == 5);
      const auto want = index.brute_force(queries[i]);
      for (size_t k = 0; k < got.size(); ++k) REQUIRE(got[k].id == want[k].id);
    }

    const std::string n = std::to_string(workers);
    // One counter across samples, so every query point is timed, not just the first few.
    size_t next = 0;
    BENCHMARK_ADVANCED("nearest, " + n + " workers")(Catch::Benchmark::Chronometer meter) {
      meter.measure([&] { return index.nearest(queries[next++ % queries.size()]); });
    };
    BENCHMARK_ADVANCED("brute_force, " + n + " workers")(Catch::Benchmark::Chronometer meter) {
      meter.measure([&] { return index.brute_force(queries[next++ % queries.size()]); });
    };
  }
}

TEST_CASE("candidate search: cell size at 100,000 workers", "[.][bench]") {
  // Town centres then hold ~100 workers per 0.01-degree cell; smaller cells pay off.
  for (const char* cell : {"0.005", "0.0025"}) {
    const double cell_deg = std::stod(cell);
    County county(42);
    WorkerIndex index({}, cell_deg);
    for (WorkerId id = 1; id <= 100'000; ++id) index.upsert(county.worker(id));
    std::vector<CandidateQuery> queries;
    for (int i = 0; i < 256; ++i) queries.push_back(county.query());
    size_t next = 0;
    BENCHMARK_ADVANCED(std::string("nearest, 100000, cell ") + cell)
    (Catch::Benchmark::Chronometer meter) {
      meter.measure([&] { return index.nearest(queries[next++ % queries.size()]); });
    };
  }
}
