// The supervisor's figures: the live queue (from the replica) and today's response
// performance (from the server's `metrics` reply), against the TSA targets for
// alarm receiving centres: 97.5% of alarms acknowledged within 60 s, 99% within
// 180 s. Also their CSV form, for the shift report. No ImGui.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "anxin/core/metrics.hpp"
#include "replica.hpp"

namespace anxin::console {

inline constexpr double kTarget60sPct = 97.5;
inline constexpr double kTarget180sPct = 99.0;

// One row per incident, however many of its escalations stand (an incident waiting
// past 180 s has both `unacknowledged` and `unacknowledged_long`).
struct ActiveEscalation {
  IncidentId incident = 0;
  std::string elder;  // name, or "#id" when the card is unknown
  EscalationKind kind = EscalationKind::unacknowledged;  // the most serious standing
  std::vector<EscalationKind> kinds;                      // every one standing, most serious first
  Millis at_ms = 0;     // when the first of them was raised
  WorkerId worker = 0;  // for visitor_late
};
// How serious an escalation is for the list's order: 0 the most.
int escalation_rank(EscalationKind kind);

struct OperatorRow {
  std::string name;
  size_t acknowledged = 0, resolved = 0, open = 0;
};

struct DashboardFigures {
  Millis now_ms = 0;
  // the live queue
  size_t open = 0;            // every incident not yet resolved
  size_t unacknowledged = 0;
  IncidentId oldest_id = 0;   // the longest-waiting unacknowledged incident
  Millis oldest_wait_ms = 0;
  std::vector<ActiveEscalation> escalations;  // most serious first, then the longest standing
  // today, from the server
  bool have_metrics = false;
  size_t acknowledged = 0, within_60s = 0, within_180s = 0;
  std::array<IntervalStats, kIntervals> intervals{};
  std::array<size_t, 24> per_hour{};
  bool have_per_operator = false;  // else `operators` counts open incidents from the replica
  std::vector<OperatorRow> operators;

  // Percentages of acknowledged incidents; 100 when none were acknowledged yet.
  double pct_60s() const;
  double pct_180s() const;
};

DashboardFigures dashboard_figures(const Replica& replica, const std::optional<MetricsSummary>& metrics, Millis now);

// Long ("tidy") CSV: section,item,measure,value, one figure a row, UTF-8 with a
// BOM so spreadsheet programs show Chinese names.
std::string dashboard_csv(const DashboardFigures& figures);

}  // namespace anxin::console
