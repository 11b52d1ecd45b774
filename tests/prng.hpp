// splitmix64 for tests and benchmarks: tiny, and the same sequence on every
// platform (std distributions are not).
#pragma once

#include <cstdint>

namespace anxin::test {

struct Prng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) {  // [lo, hi)
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1p-53;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool chance(double p) { return uniform(0, 1) < p; }
};

}  // namespace anxin::test
