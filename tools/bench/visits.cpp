// The visiting programme at city scale: plan generation and the daily due-list for
// a million elders, timed and with the process's memory (docs/benchmarks.md).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "anxin/core/visits.hpp"
#include "bench.hpp"
#include "district.hpp"

namespace anxin::bench {

namespace {

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Elders with the spreads of the demo district: ages 60-99, a quarter unassessed,
// one in three paired visitors per 30 elders, a home within some 50 km of the seat.
std::vector<Elder> elders(int n, sim::Rng& rng) {
  std::vector<Elder> out(static_cast<size_t>(n));
  const Ability abilities[] = {Ability::intact, Ability::mild, Ability::moderate, Ability::severe, Ability::complete};
  for (int i = 0; i < n; ++i) {
    Elder& e = out[static_cast<size_t>(i)];
    e.id = i + 1;
    e.name = "老人" + std::to_string(i + 1);
    e.birth_date = std::to_string(1926 + rng.uniform(0, 39)) + "-06-15";
    e.town = "镇" + std::to_string(rng.uniform(1, 40));
    e.community = "村" + std::to_string(rng.uniform(1, 30));
    e.lat = 34.83 + rng.uniform(-45000, 45000) * 1e-5;
    e.lon = 115.54 + rng.uniform(-55000, 55000) * 1e-5;
    if (rng.chance(0.75)) e.ability = abilities[rng.uniform(0, 4)];
    e.visit_consent = rng.chance(0.7);
    e.paired_worker = 1 + i / 30;
  }
  return out;
}

}  // namespace

int run_visits(const VisitsOptions& o) {
  sim::Rng rng(42);
  const long rss0 = rss_kib();
  std::vector<Elder> registry = elders(o.elders, rng);
  const long rss_registry = rss_kib();
  const visits::Day today = *visits::parse_day("2026-12-03");
  const Millis now = visits::start_of(today) + 10 * 3'600'000;

  visits::Book book;
  auto t = std::chrono::steady_clock::now();
  for (const auto& e : registry) book.put_elder(e, today);
  const double plan_s = seconds_since(t);
  const long rss_book = rss_kib();

  double due_s = 1e9, phone_s = 1e9, field_s = 1e9;
  size_t due = 0, phone = 0, field = 0;
  for (int r = 0; r < o.rounds; ++r) {
    t = std::chrono::steady_clock::now();
    due = book.due_list(today, now).size();
    due_s = std::min(due_s, seconds_since(t));
    t = std::chrono::steady_clock::now();
    phone = book.phone_list(today, now).size();
    phone_s = std::min(phone_s, seconds_since(t));
    t = std::chrono::steady_clock::now();
    field = book.field_list(1 + r, today, now, 34.83, 115.54).size();
    field_s = std::min(field_s, seconds_since(t));
  }
  std::printf("visits: %d elders\n", o.elders);
  std::printf("  plans derived:        %.3f s (%.2f us per elder)\n", plan_s, plan_s * 1e6 / o.elders);
  std::printf("  due list, all elders: %.3f s, %zu items (best of %d)\n", due_s, due, o.rounds);
  std::printf("  phone list, sorted:   %.3f s, %zu items\n", phone_s, phone);
  std::printf("  one visitor's field list (30 elders): %.3f ms, %zu items\n", field_s * 1e3, field);
  std::printf("  memory: registry %.0f MiB, book %.0f MiB (%.0f bytes per elder)\n",
              (rss_registry - rss0) / 1024.0, (rss_book - rss_registry) / 1024.0,
              (rss_book - rss_registry) * 1024.0 / o.elders);
  return 0;
}

}  // namespace anxin::bench
