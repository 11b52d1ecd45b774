// What the whole-program benchmarks share: a database for a district with bench
// tokens, a notifier that drops notices, and timing helpers.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "anxin/core/notifier.hpp"
#include "district.hpp"

namespace anxin::bench {

using SteadyClock = std::chrono::steady_clock;

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

// Nearest-rank percentile, p in [0, 1].
double percentile(std::vector<double> samples, double p);

// Notices are delivered on the notifier's own thread in the server; the benchmarks
// measure the dispatch path, so they drop them instead of logging each.
class QuietNotifier final : public Notifier {
 public:
  void send(const Notice&) override {}
};

// A fresh database in `dir` holding the district, with tokens "bench-<vendor>" for
// each vendor platform, "bench-console" for an operator, and "bench-w<id>" for
// each worker. Returns its path.
std::string make_bench_db(const std::filesystem::path& dir, const sim::District& district);

}  // namespace anxin::bench
