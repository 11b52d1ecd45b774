// Response metrics: for each incident, the five intervals from alarm to resolution,
// and for the dashboard their live p50/p90 and how many incidents were acknowledged
// within the TSA thresholds (97.5% within 60 s, 99% within 180 s).
//
// The figures are a day's: over the incidents opened that local day (from
// start_of_local_day), each with everything it has reached so far, whatever the time
// of its later events. An incident opened at 23:50 and resolved at 00:20 counts in
// the day it opened and not at all in the next, so the live figures and figures
// rebuilt from the incident rows of the day (Dispatcher::restore) are the same.
#pragma once

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <cstdint>
#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin {

enum class Interval {
  to_acknowledge,  // received -> acknowledged
  to_dispatch,     // acknowledged -> first offer
  to_accept,       // first offer -> first acceptance
  to_arrive,       // acceptance -> on scene
  on_scene,        // on scene -> resolved
};
inline constexpr size_t kIntervals = 5;
std::string_view name_of(Interval);

struct IntervalStats {
  size_t count = 0;
  Millis p50_ms = 0;
  Millis p90_ms = 0;
};

struct OperatorLoad {
  size_t acknowledged = 0;  // of today's incidents
  size_t resolved = 0;      // of today's incidents
  size_t open = 0;          // acknowledged by them and still open now
};

struct MetricsSummary {
  std::array<IntervalStats, kIntervals> intervals;
  std::array<size_t, 24> opened_per_hour{};  // incidents opened today, by local hour
  std::map<std::string, OperatorLoad> operators;
  size_t acknowledged = 0;
  size_t acknowledged_within_60s = 0;
  size_t acknowledged_within_180s = 0;
};

class ResponseMetrics {
 public:
  // Starts afresh on the local day holding `at`; until then every incident counts.
  void start_day(Millis at);
  Millis day_start() const { return day_start_ms_; }
  // Takes what an incident has reached so far; each interval counts once per incident.
  // An incident opened on another day than the one started is ignored.
  void observe(const Incident& incident);
  MetricsSummary summary() const;
  void clear();

 private:
  Millis day_start_ms_ = 0;
  Millis day_end_ms_ = INT64_MAX;  // excluded
  std::array<std::vector<Millis>, kIntervals> samples_;
  std::unordered_map<IncidentId, std::uint8_t> counted_;  // a bit per interval already taken
  size_t within_60s_ = 0, within_180s_ = 0;
  std::array<size_t, 24> opened_per_hour_{};
  std::map<std::string, OperatorLoad> operators_;
};

}  // namespace anxin
