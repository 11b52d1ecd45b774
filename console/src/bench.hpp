// --bench-frames N: how much CPU a frame costs on a busy night. Fills the replica
// with a synthetic centre (10,000 open incidents with their elders, 2,000 field
// workers), renders N frames of each view with vsync off, and prints the CPU
// time per frame on the UI thread (p50, p99, max), the views' own work and with
// the GL submission. Not a test: a number for docs/benchmarks.md.
#pragma once

#include <string>

#include "app.hpp"

struct GLFWwindow;

namespace anxin::console {

struct BenchOptions {
  int frames = 0;  // per view; 0: no benchmark
  int incidents = 10'000;
  int workers = 2'000;
  std::string only;  // --bench-view: one pass by name (for a profiler); empty: all
};

// Returns the process exit code.
int run_bench(GLFWwindow* window, App& app, const BenchOptions& options);

// The synthetic centre, deterministic for a seed.
protocol::Snapshot synthetic_centre(int incidents, int workers, Millis now_ms, unsigned seed = 7);

}  // namespace anxin::console
