// Field workers: duty, position, and the offers that send them to incidents.
// An offer waits offer_timeout_ms for an answer; a decline or a lapse moves it to
// the next candidate by itself (dispatch_timers.cpp handles the lapse).
#include <algorithm>
#include <utility>
#include <nlohmann/json.hpp>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/geo.hpp"
#include "dispatch_internal.hpp"

namespace anxin {

namespace {

// Medical alarms prefer a nurse or the family doctor; the rest take whoever is
// closest (issue 3: "medical alarms prefer nurse or doctor").
std::vector<WorkerRole> preferred_roles(AlertKind kind) {
  switch (kind) {
    case AlertKind::fall:
    case AlertKind::inactivity:
    case AlertKind::vital_abnormal:
      return {WorkerRole::nurse, WorkerRole::family_doctor};
    default:
      return {};
  }
}

std::string worker_subject_id(const Principal& who, WorkerId& id) {
  constexpr std::string_view prefix = "worker:";
  if (who.subject.rfind(prefix, 0) != 0) return "not a worker's token";
  try {
    id = std::stoll(who.subject.substr(prefix.size()));
  } catch (...) {
    return "malformed worker subject";
  }
  return "";
}

}  // namespace

void Dispatcher::index_worker(const Worker& w) {
  const bool connected = field_connected(w.id);
  if (w.status != WorkerStatus::available ||
      (!connected && config_.offer_unconnected == DispatchConfig::OfferUnconnected::never)) {
    index_.remove(w.id);
    return;
  }
  WorkerSpot spot;
  spot.id = w.id;
  spot.lat = w.lat;
  spot.lon = w.lon;
  spot.position_ms = w.received_mono;  // the query's now_ms is mono_ms() too
  spot.mode = w.mode;
  spot.role = w.role;
  spot.skills = skill_set(w.skills);
  spot.available = true;
  spot.connected = connected;
  index_.upsert(spot);
}

// Whose phone page is connected only the host knows (the gateway's field sessions).
// It ranks them: an unconnected worker is offered last, or never (offer_unconnected).
void Dispatcher::set_field_connected(WorkerId worker, bool connected) {
  if (connected == (field_connected_.count(worker) > 0)) return;
  if (connected) field_connected_.insert(worker);
  else field_connected_.erase(worker);
  auto w = workers_.find(worker);
  if (w != workers_.end()) index_worker(w->second);
}

bool Dispatcher::field_connected(WorkerId worker) const {
  return !config_.field_links_known || field_connected_.count(worker) > 0;
}

void Dispatcher::tell(WorkerId worker, FieldEvent event, const Assignment& a, const Incident& incident) {
  effects_.field.push_back({worker, event, a, incident});
  effects_.field.back().incident.timeline.clear();  // the task card needs the header only
}

void Dispatcher::set_status(Worker& w, WorkerStatus status, IncidentId incident) {
  if (w.status == WorkerStatus::off_duty && status != WorkerStatus::off_duty) w.duty_since_ms = clock_.now_ms();
  if (status == WorkerStatus::off_duty) w.duty_since_ms = 0;
  w.status = status;
  w.on_duty = status != WorkerStatus::off_duty;
  w.incident = incident;
  index_worker(w);
  save(w);
  emit_worker(w);
}

Result<Worker*> Dispatcher::worker_of(const Principal& who) {
  if (who.role != Role::field) return Error{ErrorCode::forbidden, "only field workers do this"};
  WorkerId id = 0;
  if (auto why = worker_subject_id(who, id); !why.empty()) return Error{ErrorCode::forbidden, why};
  auto it = workers_.find(id);
  if (it == workers_.end()) return Error{ErrorCode::unknown_worker, "no worker " + std::to_string(id)};
  return &it->second;
}

Result<Dispatcher::AssignmentRef> Dispatcher::own_assignment(const Principal& who, std::int64_t id) {
  auto w = worker_of(who);
  if (!w) return w.error();
  auto at = assignment_incident_.find(id);
  if (at == assignment_incident_.end())
    return Error{ErrorCode::unknown_assignment, "no live assignment " + std::to_string(id)};
  Incident& incident = open_.at(at->second);
  auto a = std::find_if(incident.assignments.begin(), incident.assignments.end(),
                        [&](const Assignment& x) { return x.id == id; });
  // Another worker's task is not this worker's business: answer as if it did not exist.
  if (a == incident.assignments.end() || a->worker != w.value()->id)
    return Error{ErrorCode::unknown_assignment, "no live assignment " + std::to_string(id)};
  return AssignmentRef{&incident, &*a, w.value()};
}

// --- duty and position ------------------------------------------------------------------

Result<WorkerId> Dispatcher::set_duty(const Principal& who, bool on_duty) {
  auto found = worker_of(who);
  if (!found) return found.error();
  Worker& w = *found.value();
  if (on_duty) {
    if (w.status == WorkerStatus::off_duty) set_status(w, WorkerStatus::available, 0);
  } else if (w.status != WorkerStatus::off_duty) {
    if (w.status != WorkerStatus::available && w.status != WorkerStatus::busy_visiting)
      return Error{ErrorCode::bad_state, "finish or decline incident " + std::to_string(w.incident) + " first"};
    set_status(w, WorkerStatus::off_duty, 0);
  }
  audit(who, on_duty ? "duty_on" : "duty_off", 0);
  return w.id;
}

Result<WorkerId> Dispatcher::update_position(const Principal& who, double lat, double lon, double accuracy_m,
                                             Millis at_ms, std::optional<TransportMode> mode) {
  auto found = worker_of(who);
  if (!found) return found.error();
  if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180))
    return Error{ErrorCode::bad_field, "lat must be -90..90 and lon -180..180"};
  if (!(accuracy_m >= 0)) return Error{ErrorCode::bad_field, "accuracy_m must be >= 0"};
  const Millis now = clock_.now_ms();
  if (at_ms <= 0 || at_ms > now + 5 * 60'000) return Error{ErrorCode::bad_field, "at_ms is not a plausible time"};
  Worker& w = *found.value();
  if (at_ms < w.position_ms) return w.id;  // an older fix arriving late changes nothing
  w.lat = lat;
  w.lon = lon;
  w.accuracy_m = accuracy_m;
  w.position_ms = at_ms;
  w.received_mono = clock_.mono_ms();
  if (mode) w.mode = *mode;
  // Positions are telemetry, not actions: not audited, and not written or sent one by
  // one. Candidates see the new position at once (the index); the row and the
  // consoles' worker_updated follow at the next tick, once however many came
  // (flush_positions). A crash loses at most that tick's positions; the phone sends
  // another within seconds.
  index_worker(w);
  positions_moved_.insert(w.id);
  return w.id;
}

void Dispatcher::flush_positions() {
  for (WorkerId id : std::exchange(positions_moved_, {})) {
    auto it = workers_.find(id);
    if (it == workers_.end()) continue;
    save(it->second);
    emit_worker(it->second);
  }
}

// --- candidates and offers --------------------------------------------------------------

CandidateQuery Dispatcher::query_for(const Incident& incident, SkillSet required) const {
  CandidateQuery q;
  const Elder e = elders_.at(incident.elder);
  q.lat = e.lat;
  q.lon = e.lon;
  q.now_ms = clock_.mono_ms();  // positions age by when the server received them
  q.required = required;
  q.preferred_roles = preferred_roles(incident.lead_kind());
  q.paired = e.paired_worker;
  // Ask for more than we show: workers who already declined are filtered out after.
  size_t tried = 0;
  for (const auto& a : incident.assignments) tried += !a.active();
  q.limit = config_.candidate_limit + tried;
  return q;
}

Result<std::vector<Candidate>> Dispatcher::candidates(IncidentId id, SkillSet required) const {
  auto it = open_.find(id);
  if (it == open_.end()) return Error{ErrorCode::unknown_incident, "no open incident " + std::to_string(id)};
  const Incident& incident = it->second;
  if (elders_.unknown_caller(elders_.row(incident.elder)))  // no home to send anyone to
    return Error{ErrorCode::bad_state, "the caller is unknown: link the incident to an elder first"};
  std::vector<Candidate> all = index_.nearest(query_for(incident, required));
  std::vector<Candidate> out;
  for (const auto& c : all) {
    bool tried = std::any_of(incident.assignments.begin(), incident.assignments.end(),
                             [&](const Assignment& a) { return a.worker == c.id; });
    if (!tried && out.size() < config_.candidate_limit) out.push_back(c);
  }
  return out;
}

void Dispatcher::offer(Incident& incident, Worker& w, const Candidate* estimate, bool by_operator,
                       const Principal& who) {
  const std::string actor = display_name(who);
  const Millis now = clock_.now_ms();
  Assignment a;
  a.id = ++last_assignment_;
  a.incident = incident.id;
  a.worker = w.id;
  a.state = AssignmentState::offered;
  a.chosen_by_operator = by_operator;
  const Elder e = elders_.at(incident.elder);
  if (estimate) {
    a.eta_s = estimate->travel_s;
    a.distance_m = estimate->distance_m;
  } else {
    a.distance_m = distance_m(w.lat, w.lon, e.lat, e.lon);
    a.eta_s = a.distance_m * config_.travel.detour_factor / config_.travel.speed_mps(w.mode);
  }
  a.offered_ms = now;
  a.expires_ms = now + config_.offer_timeout_ms;
  a.expires_mono = clock_.mono_ms() + config_.offer_timeout_ms;
  if (!incident.dispatched_ms) incident.dispatched_ms = now;
  incident.assignments.push_back(a);
  assignment_incident_[a.id] = incident.id;
  save(a);
  note(incident, TimelineKind::offered, actor, w.name);
  set_status(w, WorkerStatus::offered, incident.id);
  tell(w.id, FieldEvent::offer, a, incident);
  audit(who, "offer", incident.id,
        nlohmann::json{{"assignment_id", a.id}, {"worker_id", w.id}, {"eta_s", static_cast<long long>(a.eta_s)},
                       {"chosen_by_operator", by_operator}}
            .dump());
}

Result<IncidentId> Dispatcher::dispatch(const Principal& who, IncidentId id, std::optional<WorkerId> chosen,
                                        int responders) {
  if (who.role != Role::console) return Error{ErrorCode::forbidden, "only consoles dispatch"};
  if (responders < 1 || responders > 2) return Error{ErrorCode::bad_field, "responders must be 1 or 2"};
  auto found = open_incident(id);
  if (!found) return found.error();
  Incident& incident = *found.value();
  if (elders_.unknown_caller(elders_.row(incident.elder)))
    return Error{ErrorCode::bad_state, "the caller is unknown: link the incident to an elder first"};
  const std::string actor = display_name(who);

  std::vector<std::pair<Worker*, std::optional<Candidate>>> picks;
  const int active = detail::active_responders(incident);
  if (chosen) {
    // The operator's choice overrides the ranking, but not a worker's other duties.
    auto w = workers_.find(*chosen);
    if (w == workers_.end()) return Error{ErrorCode::unknown_worker, "no worker " + std::to_string(*chosen)};
    if (w->second.status != WorkerStatus::available && w->second.status != WorkerStatus::busy_visiting)
      return Error{ErrorCode::bad_state, w->second.name + " is " + std::string(name_of(w->second.status))};
    picks.push_back({&w->second, std::nullopt});
  } else {
    if (active >= responders)
      return Error{ErrorCode::bad_state, "incident " + std::to_string(id) + " already has its responders"};
    auto cands = candidates(id);
    if (!cands) return cands.error();
    for (const auto& c : cands.value()) {
      if (static_cast<int>(picks.size()) + active >= responders) break;
      picks.push_back({&workers_.at(c.id), c});
    }
    if (picks.empty()) return Error{ErrorCode::no_candidate, "no available worker can take incident " + std::to_string(id)};
  }

  const size_t mark = incident.timeline.size();
  // Dispatching is answering: an unacknowledged incident is acknowledged by it.
  if (incident.state == IncidentState::open) {
    incident.state = IncidentState::acknowledged;
    incident.acknowledged_ms = clock_.now_ms();
    incident.acknowledged_by = actor;
    note(incident, TimelineKind::acknowledged, actor);
    clear_escalation(incident, EscalationKind::unacknowledged);
    clear_escalation(incident, EscalationKind::unacknowledged_long);
  }
  incident.responders_wanted = std::max(responders, active + static_cast<int>(picks.size()));
  for (auto& [w, estimate] : picks) offer(incident, *w, estimate ? &*estimate : nullptr, chosen.has_value(), who);
  incident.proposed_worker = 0;
  save(incident);
  observe(incident);
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  return id;
}

// After a decline or a lapse: offer to the next best, or say plainly that nobody is left.
void Dispatcher::offer_next(Incident& incident) {
  const int active = detail::active_responders(incident);
  if (active >= incident.responders_wanted) return;
  auto cands = candidates(incident.id);
  if (cands && !cands.value().empty()) {
    const Candidate c = cands.value().front();
    offer(incident, workers_.at(c.id), &c, false, detail::kSystem);
    clear_escalation(incident, EscalationKind::no_responder);
    return;
  }
  escalate(incident, EscalationKind::no_responder);
}

void Dispatcher::propose(Incident& incident) {
  auto cands = candidates(incident.id);
  incident.proposed_worker = cands && !cands.value().empty() ? cands.value().front().id : 0;
}

// The incident is closing: offers are withdrawn and responders stood down.
void Dispatcher::release_responders(Incident& incident, const std::string& actor) {
  for (auto& a : incident.assignments) {
    if (!a.active()) continue;
    const bool was_offer = a.state == AssignmentState::offered;
    a.state = AssignmentState::cancelled;
    a.completed_ms = clock_.now_ms();
    save(a);
    auto w = workers_.find(a.worker);
    if (w != workers_.end()) {
      set_status(w->second, WorkerStatus::available, 0);
      note(incident, TimelineKind::cancelled, actor, w->second.name);
    }
    tell(a.worker, was_offer ? FieldEvent::offer_withdrawn : FieldEvent::task_updated, a, incident);
  }
}

// --- the worker's answers -----------------------------------------------------------------


Result<std::int64_t> Dispatcher::accept(const Principal& who, std::int64_t id) {
  auto ref = own_assignment(who, id);
  if (!ref) return ref.error();
  auto [incident, a, w] = ref.value();
  const Millis now = clock_.now_ms();
  if (a->state != AssignmentState::offered)
    return Error{ErrorCode::bad_state, "assignment " + std::to_string(id) + " is " + std::string(name_of(a->state))};
  if (clock_.mono_ms() >= a->expires_mono) return Error{ErrorCode::bad_state, "the offer expired"};
  const size_t mark = incident->timeline.size();
  a->state = AssignmentState::accepted;
  a->accepted_ms = now;
  a->accepted_mono = clock_.mono_ms();
  if (!incident->accepted_ms) incident->accepted_ms = now;
  save(*a);
  note(*incident, TimelineKind::accepted, w->name);
  set_status(*w, WorkerStatus::en_route, incident->id);
  clear_escalation(*incident, EscalationKind::no_responder);
  save(*incident);
  observe(*incident);
  audit(who, "accept", incident->id, nlohmann::json{{"assignment_id", id}}.dump());
  tell(w->id, FieldEvent::task_updated, *a, *incident);
  detail::append_since(emit(DeltaKind::incident_updated, *incident), *incident, mark);
  return id;
}

Result<std::int64_t> Dispatcher::decline(const Principal& who, std::int64_t id, const std::string& reason) {
  auto ref = own_assignment(who, id);
  if (!ref) return ref.error();
  auto [incident, a, w] = ref.value();
  if (a->state != AssignmentState::offered)
    return Error{ErrorCode::bad_state, "assignment " + std::to_string(id) + " is " + std::string(name_of(a->state))};
  if (reason.size() > 500) return Error{ErrorCode::bad_field, "a reason is at most 500 bytes"};
  const size_t mark = incident->timeline.size();
  a->state = AssignmentState::declined;
  a->note = reason;
  save(*a);
  note(*incident, TimelineKind::declined, w->name, reason);
  set_status(*w, WorkerStatus::available, 0);
  audit(who, "decline", incident->id, nlohmann::json{{"assignment_id", id}, {"reason", reason}}.dump());
  tell(w->id, FieldEvent::task_updated, *a, *incident);
  offer_next(*incident);
  save(*incident);
  detail::append_since(emit(DeltaKind::incident_updated, *incident), *incident, mark);
  return id;
}

Result<std::int64_t> Dispatcher::arrive(const Principal& who, std::int64_t id) {
  auto ref = own_assignment(who, id);
  if (!ref) return ref.error();
  auto [incident, a, w] = ref.value();
  if (a->state != AssignmentState::accepted)
    return Error{ErrorCode::bad_state, "assignment " + std::to_string(id) + " is " + std::string(name_of(a->state))};
  const Millis now = clock_.now_ms();
  const size_t mark = incident->timeline.size();
  a->state = AssignmentState::on_scene;
  a->on_scene_ms = now;
  if (!incident->on_scene_ms) incident->on_scene_ms = now;
  save(*a);
  note(*incident, TimelineKind::on_scene, w->name);
  set_status(*w, WorkerStatus::on_scene, incident->id);
  for (auto& e : incident->escalations)
    if (e.kind == EscalationKind::visitor_late && e.worker == w->id) e.cleared = true;
  save(*incident);
  observe(*incident);
  audit(who, "on_scene", incident->id, nlohmann::json{{"assignment_id", id}}.dump());
  tell(w->id, FieldEvent::task_updated, *a, *incident);
  detail::append_since(emit(DeltaKind::incident_updated, *incident), *incident, mark);
  return id;
}

Result<std::int64_t> Dispatcher::complete(const Principal& who, std::int64_t id, const std::string& outcome,
                                          const VisitReport* report) {
  auto ref = own_assignment(who, id);
  if (!ref) return ref.error();
  auto [incident, a, w] = ref.value();
  if (a->state != AssignmentState::on_scene)
    return Error{ErrorCode::bad_state, "assignment " + std::to_string(id) + " is " + std::string(name_of(a->state)) +
                                           "; report on scene first"};
  if (outcome.empty()) return Error{ErrorCode::missing_field, "an outcome is required"};
  if (outcome.size() > 2000) return Error{ErrorCode::bad_field, "the outcome is at most 2000 bytes"};
  if (report && report->notes.size() + report->hazards.size() > 8000)
    return Error{ErrorCode::bad_field, "the report is at most 8000 bytes"};
  const size_t mark = incident->timeline.size();
  a->state = AssignmentState::completed;
  a->completed_ms = clock_.now_ms();
  a->note = outcome;
  save(*a);
  note(*incident, TimelineKind::completed, w->name, outcome);
  if (report) {
    // The responder's report is a home visit on the elder's record.
    Visit v;
    v.elder = incident->elder;
    v.worker = w->id;
    v.at_ms = a->completed_ms;
    v.mode = VisitMode::home;
    v.areas = report->areas;
    v.notes = report->notes;
    v.hazards = report->hazards;
    v.incident = incident->id;
    effects_.writes.push_back(PutVisit{std::move(v)});
    // And on the incident's timeline, so its workspace and record show it (issue 14).
    nlohmann::json areas = nlohmann::json::array();
    for (auto area : report->areas) areas.push_back(name_of(area));
    note(*incident, TimelineKind::report, w->name,
         nlohmann::json{{"worker_id", w->id}, {"areas", areas}, {"notes", report->notes}, {"hazards", report->hazards}}
             .dump());
    // Hazards found must be followed up (000 二.(三)2): they go on the incident for the operator.
    if (!report->hazards.empty()) note(*incident, TimelineKind::note, w->name, "隐患: " + report->hazards);
  }
  set_status(*w, WorkerStatus::available, 0);
  audit(who, "complete", incident->id,
        nlohmann::json{{"assignment_id", id}, {"hazards", report ? report->hazards : ""}}.dump());
  tell(w->id, FieldEvent::task_updated, *a, *incident);
  detail::append_since(emit(DeltaKind::incident_updated, *incident), *incident, mark);
  return id;
}

}  // namespace anxin
