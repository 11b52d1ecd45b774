// A month of the visiting programme (docs/visits.md), played under a simulated clock
// through the real visits::Service and a real SQLite Store: operators work the phone
// list each morning and call back the unanswered, workers walk their lists and file
// proof of visit (now and then from too far or too briefly), hazards are found, and a
// cold-wave campaign runs mid-month. The same seed gives the same month every time.
#pragma once

#include <cstdint>
#include <string>

#include "anxin/core/clock.hpp"
#include "anxin/core/dispatcher.hpp"
#include "anxin/core/store.hpp"
#include "anxin/core/visits_service.hpp"

namespace anxin::sim {

struct MonthOptions {
  std::uint64_t seed = 42;
  std::string first_date = "2026-11-01";  // the first day played
  int days = 30;
  double answer_p = 0.8;       // an elder picks up a call
  double worker_p = 0.9;       // a worker gets to a due visit that day
  double far_p = 0.02;         // a visit filed from some 2 km away
  double short_p = 0.03;       // a visit of a few minutes
  double hazard_p = 0.06;      // a hazard found on a visit at home
  bool campaign = true;        // a three-day cold-wave campaign from day 10
};

struct MonthResult {
  size_t calls = 0, reached = 0, home_visits = 0, flagged = 0, hazards = 0, refused = 0;
  std::int64_t campaign = 0;  // its id, 0 if none
  Millis end_ms = 0;          // the clock when the month ends (the last day's evening)
};

// Plays the month on `store`, whose registry is in; `clock` must stand before the
// first day, and the dispatcher is restored from the store here. Everything written
// is durable when it returns.
MonthResult replay_month(Store& store, ManualClock& clock, const MonthOptions& options,
                         const visits::Policy& policy = {});

}  // namespace anxin::sim
