// Time passing: offers that lapse, family calls nobody answers, and the flags raised
// to supervisors. Called by the host every few hundred milliseconds (and by the
// replay after each step of its simulated clock). The tick takes only the incidents
// whose next timer is due from a queue (Dispatcher::timers_), in id order, so the
// same clock gives the same decisions.
#include <algorithm>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "anxin/core/dispatcher.hpp"
#include "dispatch_internal.hpp"

namespace anxin {

namespace {
// An escalation of this kind (and visitor) stands: escalate() raises no second one.
bool standing(const Incident& incident, EscalationKind kind, WorkerId worker = 0) {
  return std::any_of(incident.escalations.begin(), incident.escalations.end(),
                     [&](const Escalation& e) { return e.kind == kind && e.worker == worker && !e.cleared; });
}

Millis late_after(const Assignment& a, const DispatchConfig& config) {  // not on scene by the estimate plus a margin
  return a.accepted_mono + static_cast<Millis>(a.eta_s * 1000) + config.late_margin_ms;
}
}  // namespace

void Dispatcher::escalate(Incident& incident, EscalationKind kind, WorkerId worker) {
  if (standing(incident, kind, worker)) return;
  incident.escalations.push_back({kind, clock_.now_ms(), worker, false});
  note(incident, TimelineKind::escalated, "system", std::string(name_of(kind)));
  audit_system("escalate", incident.id, nlohmann::json{{"kind", name_of(kind)}, {"worker_id", worker}}.dump());
}

void Dispatcher::clear_escalation(Incident& incident, EscalationKind kind) {
  for (auto& e : incident.escalations)
    if (e.kind == kind) e.cleared = true;
}

// The soonest of the conditions run_timers() acts on, each as it tests it.
std::optional<Millis> Dispatcher::next_timer(const Incident& incident) const {
  constexpr Millis never = std::numeric_limits<Millis>::max();
  Millis next = never;
  auto at = [&](Millis due) { next = std::min(next, due); };
  if (incident.state == IncidentState::open) {
    if (!incident.has_escalation(EscalationKind::unacknowledged)) at(incident.opened_mono + config_.ack_escalation_ms);
    if (!incident.has_escalation(EscalationKind::unacknowledged_long))
      at(incident.opened_mono + config_.ack_escalation_long_ms);
  }
  if (incident.unseen_alert_ms && incident.state == IncidentState::acknowledged &&
      !standing(incident, EscalationKind::alert_unseen))
    at(incident.unseen_alert_mono + config_.realert_escalation_ms);  // attention.cpp
  for (const Assignment& a : incident.assignments) {
    if (a.state == AssignmentState::offered) at(a.expires_mono);
    if (a.state == AssignmentState::accepted && !standing(incident, EscalationKind::visitor_late, a.worker))
      at(late_after(a, config_));
  }
  for (const CallTask& c : incident.calls)
    if (c.kind == CallKind::family && c.open()) at(c.due_mono);
  if (next == never) return std::nullopt;
  return next;
}

std::optional<Millis> Dispatcher::next_timer(IncidentId id) const {
  const auto it = open_.find(id);
  if (it == open_.end()) return std::nullopt;
  return next_timer(it->second);
}

void Dispatcher::queue_timer(const Incident& incident) {
  const auto next = next_timer(incident);
  if (!next) return;
  const auto [queued, fresh] = timer_due_.try_emplace(incident.id, *next);
  if (!fresh && queued->second <= *next) return;  // it pops no later, and looks again then
  queued->second = *next;
  timers_.push({*next, incident.id});
}

void Dispatcher::queue_timer(IncidentId id) {
  if (const auto it = open_.find(id); it != open_.end()) queue_timer(it->second);
}

void Dispatcher::tick() {
  const Millis now = clock_.now_ms();
  const Millis mono = clock_.mono_ms();  // what every timer below is judged by
  flush_positions();
  // The dashboard's figures are for today: a new day starts them afresh.
  roll_metrics_day();
  supervise();
  for (const Incident* incident : std::exchange(timed_, {})) queue_timer(*incident);
  std::vector<IncidentId> due;
  while (!timers_.empty() && timers_.top().first <= mono) {
    const auto [at, id] = timers_.top();
    timers_.pop();
    const auto queued = timer_due_.find(id);
    if (queued == timer_due_.end() || queued->second != at) continue;  // not its soonest
    timer_due_.erase(queued);
    due.push_back(id);
  }
  std::sort(due.begin(), due.end());
  for (IncidentId id : due) {
    if (const auto it = open_.find(id); it != open_.end()) run_timers(it->second, now, mono);
    queue_timer(id);
  }
}

void Dispatcher::run_timers(Incident& incident, Millis now, Millis mono) {
  const size_t mark = incident.timeline.size();
  const size_t escalations = incident.escalations.size();
  bool changed = false;

  // Not acknowledged within the TSA thresholds.
  if (incident.state == IncidentState::open) {
    const Millis waited = mono - incident.opened_mono;
    if (waited >= config_.ack_escalation_ms && !incident.has_escalation(EscalationKind::unacknowledged))
      escalate(incident, EscalationKind::unacknowledged);
    if (waited >= config_.ack_escalation_long_ms && !incident.has_escalation(EscalationKind::unacknowledged_long))
      escalate(incident, EscalationKind::unacknowledged_long);
  }

  check_unseen_alert(incident, mono);  // attention.cpp

  bool lapsed = false;
  for (size_t k = 0; k < incident.assignments.size(); ++k) {
    Assignment& a = incident.assignments[k];
    if (a.state == AssignmentState::offered && mono >= a.expires_mono) {
      a.state = AssignmentState::expired;
      save(a);
      Worker& w = workers_.at(a.worker);
      note(incident, TimelineKind::expired, "system", w.name);
      set_status(w, WorkerStatus::available, 0);
      tell(w.id, FieldEvent::offer_expired, a, incident);
      audit_system("offer_expired", incident.id, nlohmann::json{{"assignment_id", a.id}}.dump());
      lapsed = changed = true;
    } else if (a.state == AssignmentState::accepted && mono >= late_after(a, config_)) {
      escalate(incident, EscalationKind::visitor_late, a.worker);
    }
  }
  if (lapsed) offer_next(incident);

  for (size_t k = 0; k < incident.calls.size(); ++k) {
    CallTask& c = incident.calls[k];
    if (c.kind != CallKind::family || !c.open() || mono < c.due_mono) continue;
    c.state = CallState::no_answer;
    c.closed_ms = now;
    c.actor = "system";
    save(c);
    const int next = c.contact_index + 1;  // `c` may move once another call is added
    note(incident, TimelineKind::call, "system", "family:no_answer");
    if (next < static_cast<int>(elders_.contacts(elders_.row(incident.elder))))
      call_contact(incident, next, "system");
    else
      note(incident, TimelineKind::call, "system", "family:exhausted");
    changed = true;
  }

  if (changed || incident.escalations.size() != escalations || incident.timeline.size() != mark) {
    save(incident);
    detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  }
}

}  // namespace anxin
