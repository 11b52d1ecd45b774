// Attention (issue 14, item 2): a new critical alert that joins an incident already
// acknowledged must not go unnoticed by the operator who holds it. It flags the
// incident (Incident::unseen_alert_ms, in the header the consoles get), the holder
// marks it seen (ack_incident again: an `alert_seen` timeline entry), and a flag not
// seen within DispatchConfig::realert_escalation_ms raises the `alert_unseen`
// escalation from the tick, so it holds with every console closed.
//
// Durable through the timeline alone: the flag is rebuilt at restore from the
// incident's `alert` and `alert_seen` entries, and its timer counts from the alert's
// time, as the other timers in dispatch_timers.cpp count from their own stored times.
// Calls only Dispatcher helpers (note, save, audit, emit, escalate).
#include <nlohmann/json.hpp>

#include "anxin/core/dispatcher.hpp"
#include "dispatch_internal.hpp"

namespace anxin {

namespace {
// A person in danger now (domain.cpp severity_of). A call to the line is left out: it
// rings on every console with its own panel (docs/telephony.md).
bool calls_for_attention(AlertKind kind) {
  return severity_of(kind) == Severity::critical && kind != AlertKind::phone_call;
}
}  // namespace

void Dispatcher::flag_unseen_alert(Incident& incident, AlertKind kind) {
  if (incident.state != IncidentState::acknowledged || !calls_for_attention(kind)) return;
  if (incident.unseen_alert_ms) return;  // the timer runs from the first one not seen
  incident.unseen_alert_ms = clock_.now_ms();
  incident.unseen_alert_mono = clock_.mono_ms();
}

Result<IncidentId> Dispatcher::mark_alert_seen(const Principal& who, Incident& incident) {
  const size_t mark = incident.timeline.size();
  const Millis alert_ms = incident.unseen_alert_ms;
  incident.unseen_alert_ms = 0;
  incident.unseen_alert_mono = 0;
  note(incident, TimelineKind::alert_seen, display_name(who));
  clear_escalation(incident, EscalationKind::alert_unseen);
  save(incident);
  audit(who, "alert_seen", incident.id, nlohmann::json{{"alert_ms", alert_ms}}.dump());
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  return incident.id;
}

void Dispatcher::restore_unseen_alert(Incident& incident, Millis now) {
  if (incident.state != IncidentState::acknowledged) return;
  bool acknowledged = false;
  Millis unseen = 0;
  for (const auto& e : incident.timeline) {
    if (e.kind == TimelineKind::acknowledged) {
      acknowledged = true;
      unseen = 0;
    } else if (e.kind == TimelineKind::alert_seen) {
      unseen = 0;
    } else if (acknowledged && e.kind == TimelineKind::alert && calls_for_attention(e.alert_kind) && !unseen) {
      unseen = e.at_ms;
    }
  }
  incident.unseen_alert_ms = unseen;
  if (unseen) incident.unseen_alert_mono = clock_.mono_ms() - (now - std::min(unseen, now));
}

void Dispatcher::check_unseen_alert(Incident& incident, Millis mono) {
  if (!incident.unseen_alert_ms || incident.state != IncidentState::acknowledged) return;
  if (mono - incident.unseen_alert_mono >= config_.realert_escalation_ms)
    escalate(incident, EscalationKind::alert_unseen);  // once while not cleared
}

}  // namespace anxin
