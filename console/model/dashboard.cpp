#include "dashboard.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace anxin::console {

double DashboardFigures::pct_60s() const {
  return acknowledged ? 100.0 * static_cast<double>(within_60s) / static_cast<double>(acknowledged) : 100.0;
}
double DashboardFigures::pct_180s() const {
  return acknowledged ? 100.0 * static_cast<double>(within_180s) / static_cast<double>(acknowledged) : 100.0;
}

int escalation_rank(EscalationKind kind) {
  switch (kind) {
    case EscalationKind::unacknowledged_long: return 0;  // nobody has answered for 3 minutes
    case EscalationKind::no_responder: return 1;
    case EscalationKind::alert_unseen: return 2;
    case EscalationKind::visitor_late: return 3;
    case EscalationKind::unacknowledged: return 4;
  }
  return 5;
}

DashboardFigures dashboard_figures(const Replica& r, const std::optional<MetricsSummary>& m, Millis now) {
  DashboardFigures f;
  f.now_ms = now;
  std::map<std::string, OperatorRow> holding;  // fallback load: who holds the open incidents
  for (const auto& [id, i] : r.incidents()) {
    ++f.open;
    const protocol::ElderCard* e = r.elder(i.elder);
    if (unacknowledged(i)) {
      ++f.unacknowledged;
      const Millis wait = now - i.opened_ms;
      if (!f.oldest_id || wait > f.oldest_wait_ms) f.oldest_id = id, f.oldest_wait_ms = wait;
    } else if (!i.acknowledged_by.empty()) {
      OperatorRow& row = holding[i.acknowledged_by];
      row.name = i.acknowledged_by;
      ++row.open;
    }
    ActiveEscalation row{id, e ? e->name : "#" + std::to_string(i.elder), EscalationKind::unacknowledged, {}, 0, 0};
    for (const Escalation& x : i.escalations) {
      if (x.cleared) continue;
      row.kinds.push_back(x.kind);
      if (!row.at_ms || x.at_ms < row.at_ms) row.at_ms = x.at_ms;
      if (x.worker) row.worker = x.worker;
    }
    if (row.kinds.empty()) continue;
    std::sort(row.kinds.begin(), row.kinds.end(),
              [](auto a, auto b) { return escalation_rank(a) < escalation_rank(b); });
    row.kinds.erase(std::unique(row.kinds.begin(), row.kinds.end()), row.kinds.end());
    row.kind = row.kinds.front();
    f.escalations.push_back(std::move(row));
  }
  std::sort(f.escalations.begin(), f.escalations.end(), [](const auto& a, const auto& b) {
    if (escalation_rank(a.kind) != escalation_rank(b.kind)) return escalation_rank(a.kind) < escalation_rank(b.kind);
    return a.at_ms != b.at_ms ? a.at_ms < b.at_ms : a.incident < b.incident;
  });

  if (m) {
    f.have_metrics = true;
    f.acknowledged = m->acknowledged;
    f.within_60s = m->acknowledged_within_60s;
    f.within_180s = m->acknowledged_within_180s;
    f.intervals = m->intervals;
    f.per_hour = m->opened_per_hour;
    f.have_per_operator = !m->operators.empty();
    for (const auto& [name, load] : m->operators) f.operators.push_back({name, load.acknowledged, load.resolved, load.open});
  }
  if (!f.have_per_operator)
    for (auto& [name, row] : holding) f.operators.push_back(row);
  return f;
}

namespace {

// RFC 4180 quoting: only when needed, doubling quotes.
std::string field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

class Csv {
 public:
  void row(const std::string& section, const std::string& item, const std::string& measure, const std::string& value) {
    out_ += field(section) + "," + field(item) + "," + field(measure) + "," + field(value) + "\n";
  }
  void row(const std::string& section, const std::string& item, const std::string& measure, long long value) {
    row(section, item, measure, std::to_string(value));
  }
  void pct(const std::string& section, const std::string& item, const std::string& measure, double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", value);
    row(section, item, measure, buf);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_ = "\xEF\xBB\xBF" "section,item,measure,value\n";
};

}  // namespace

std::string dashboard_csv(const DashboardFigures& f) {
  Csv c;
  auto n = [](size_t v) { return static_cast<long long>(v); };
  c.row("generated", "server_time_ms", "", f.now_ms);
  c.row("queue", "open", "count", n(f.open));
  c.row("queue", "unacknowledged", "count", n(f.unacknowledged));
  c.row("queue", "oldest_unacknowledged", "incident_id", f.oldest_id);
  c.row("queue", "oldest_unacknowledged", "waiting_s", f.oldest_wait_ms / 1000);
  if (f.have_metrics) {
    c.row("acknowledgement", "today", "acknowledged", n(f.acknowledged));
    c.row("acknowledgement", "within_60s", "count", n(f.within_60s));
    c.pct("acknowledgement", "within_60s", "pct", f.pct_60s());
    c.pct("acknowledgement", "within_60s", "target_pct", kTarget60sPct);
    c.row("acknowledgement", "within_180s", "count", n(f.within_180s));
    c.pct("acknowledgement", "within_180s", "pct", f.pct_180s());
    c.pct("acknowledgement", "within_180s", "target_pct", kTarget180sPct);
    for (size_t k = 0; k < kIntervals; ++k) {
      const std::string name(name_of(static_cast<Interval>(k)));
      c.row("interval", name, "count", n(f.intervals[k].count));
      c.row("interval", name, "p50_s", f.intervals[k].p50_ms / 1000);
      c.row("interval", name, "p90_s", f.intervals[k].p90_ms / 1000);
    }
    for (size_t h = 0; h < 24; ++h) {
      char hour[8];
      std::snprintf(hour, sizeof hour, "%02zu", h);
      c.row("per_hour", hour, "incidents", n(f.per_hour[h]));
    }
  }
  for (const auto& o : f.operators) {
    if (f.have_per_operator) {
      c.row("operator", o.name, "acknowledged", n(o.acknowledged));
      c.row("operator", o.name, "resolved", n(o.resolved));
    }
    c.row("operator", o.name, "open", n(o.open));
  }
  for (const auto& x : f.escalations) {
    std::string kinds;
    for (auto k : x.kinds) kinds += (kinds.empty() ? "" : "+") + std::string(name_of(k));
    c.row("escalation", "#" + std::to_string(x.incident) + " " + x.elder, kinds, x.at_ms);
  }
  return c.take();
}

}  // namespace anxin::console
