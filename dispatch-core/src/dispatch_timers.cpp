// Time passing: offers that lapse, family calls nobody answers, and the flags raised
// to supervisors. Called by the host every few hundred milliseconds (and by the
// replay after each step of its simulated clock). Incidents are visited in id
// order, so the same clock gives the same decisions.
#include <nlohmann/json.hpp>

#include "anxin/core/dispatcher.hpp"
#include "dispatch_internal.hpp"

namespace anxin {

void Dispatcher::escalate(Incident& incident, EscalationKind kind, WorkerId worker) {
  for (const auto& e : incident.escalations)
    if (e.kind == kind && e.worker == worker && !e.cleared) return;
  incident.escalations.push_back({kind, clock_.now_ms(), worker, false});
  note(incident, TimelineKind::escalated, "system", std::string(name_of(kind)));
  audit_system("escalate", incident.id, nlohmann::json{{"kind", name_of(kind)}, {"worker_id", worker}}.dump());
}

void Dispatcher::clear_escalation(Incident& incident, EscalationKind kind) {
  for (auto& e : incident.escalations)
    if (e.kind == kind) e.cleared = true;
}

void Dispatcher::tick() {
  const Millis now = clock_.now_ms();
  const Millis mono = clock_.mono_ms();  // what every timer below is judged by
  flush_positions();
  // The dashboard's figures are for today: a new day starts them afresh.
  roll_metrics_day();
  supervise();
  for (auto& [id, incident] : open_) {
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
      } else if (a.state == AssignmentState::accepted) {
        // Not on scene by the estimate plus a margin.
        const Millis due = a.accepted_mono + static_cast<Millis>(a.eta_s * 1000) + config_.late_margin_ms;
        if (mono >= due) escalate(incident, EscalationKind::visitor_late, a.worker);
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
}

}  // namespace anxin
