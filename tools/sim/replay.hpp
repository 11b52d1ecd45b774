// A day at the service centre, replayed under a simulated clock: alarms arrive
// through the day, simulated operators answer, call back, dispatch and resolve,
// simulated field workers accept, decline or let offers lapse, travel and report.
// Everything runs through the real Dispatcher and a real SQLite Store; the same
// seed gives the same decisions, audit log and metrics every time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "anxin/core/metrics.hpp"
#include "anxin/core/store.hpp"
#include "district.hpp"

namespace anxin::sim {

struct ReplayOptions {
  std::uint64_t seed = 42;
  std::string date = "2026-11-26";  // the day replayed, in China time
  int alarms = 300;                 // alarms over the day
  int elders = 2000;
  int workers = 60;
  std::string db_path;              // the SQLite file to write; must not exist
};

struct ReplayResult {
  std::vector<AuditEntry> audit;  // as read back from the file
  MetricsSummary metrics;
  size_t incidents_opened = 0;
  size_t incidents_resolved = 0;
  size_t offers = 0;
  size_t notices = 0;
  size_t refused = 0;  // commands the simulated staff tried that the dispatcher refused
  std::map<std::string, size_t> dispositions;
  std::vector<size_t> incidents_per_hour = std::vector<size_t>(24, 0);
};

ReplayResult replay_day(const ReplayOptions& options);

// The same staff and field workers over `span` ms from `start` (a local midnight),
// `alarms_a_day` alarms each day, on a store already holding the district (the demo's
// past weeks). The store is started and stopped.
ReplayResult replay_span(Store& store, const District& district, Millis start, Millis span, int alarms_a_day,
                         std::uint64_t seed);

}  // namespace anxin::sim
