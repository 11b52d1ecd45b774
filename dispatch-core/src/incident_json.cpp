#include "incident_json.hpp"

#include "json_util.hpp"

namespace anxin::incident_json {

using namespace json_util;

json entry(const TimelineEntry& e) {
  json j{{"at_ms", e.at_ms}, {"kind", name_of(e.kind)}, {"actor", e.actor}};
  if (e.kind == TimelineKind::alert) {
    j["alert_id"] = e.alert;
    j["alert_kind"] = name_of(e.alert_kind);
    // Device detail is stored as JSON text; send it as an object when it is one.
    json detail = json::parse(e.text, nullptr, false);
    j["detail"] = detail.is_discarded() ? json(e.text) : detail;
  } else if (!e.text.empty()) {
    j["text"] = e.text;
  }
  return j;
}

TimelineEntry entry_from(const json& j) {
  TimelineEntry e;
  e.at_ms = need_int(j, "at_ms");
  e.kind = need_enum<TimelineKind>(j, "kind");
  e.actor = need_string(j, "actor");
  if (e.kind == TimelineKind::alert) {
    e.alert = need_int(j, "alert_id");
    e.alert_kind = need_enum<AlertKind>(j, "alert_kind");
    e.text = has(j, "detail") ? need(j, "detail").dump() : "{}";
  } else {
    e.text = opt_string(j, "text");
  }
  return e;
}

json timeline(const std::vector<TimelineEntry>& entries) {
  json a = json::array();
  for (const auto& e : entries) a.push_back(entry(e));
  return a;
}

std::vector<TimelineEntry> timeline_from(const json& a) {
  std::vector<TimelineEntry> out;
  for (const auto& e : a) out.push_back(entry_from(e));
  return out;
}

json escalations(const std::vector<Escalation>& list) {
  json a = json::array();
  for (const auto& e : list) {
    json x{{"kind", name_of(e.kind)}, {"at_ms", e.at_ms}, {"cleared", e.cleared}};
    if (e.worker) x["worker_id"] = e.worker;
    a.push_back(std::move(x));
  }
  return a;
}

std::vector<Escalation> escalations_from(const json& a) {
  std::vector<Escalation> out;
  for (const auto& x : a)
    out.push_back({need_enum<EscalationKind>(x, "kind"), need_int(x, "at_ms"), opt_int(x, "worker_id", 0),
                   opt_bool(x, "cleared", false)});
  return out;
}

json assignment(const Assignment& a) {
  json j{{"id", a.id},
         {"worker_id", a.worker},
         {"state", name_of(a.state)},
         {"chosen_by_operator", a.chosen_by_operator},
         {"eta_s", a.eta_s},
         {"distance_m", a.distance_m},
         {"offered_ms", a.offered_ms},
         {"expires_ms", a.expires_ms}};
  if (a.accepted_ms) j["accepted_ms"] = a.accepted_ms;
  if (a.on_scene_ms) j["on_scene_ms"] = a.on_scene_ms;
  if (a.completed_ms) j["completed_ms"] = a.completed_ms;
  if (!a.note.empty()) j["note"] = a.note;
  return j;
}

Assignment assignment_from(const json& j, IncidentId incident) {
  Assignment a;
  a.id = need_int(j, "id");
  a.incident = incident;
  a.worker = need_int(j, "worker_id");
  a.state = need_enum<AssignmentState>(j, "state");
  a.chosen_by_operator = opt_bool(j, "chosen_by_operator", false);
  a.eta_s = opt_number(j, "eta_s", 0);
  a.distance_m = opt_number(j, "distance_m", 0);
  a.offered_ms = need_int(j, "offered_ms");
  a.expires_ms = opt_int(j, "expires_ms", 0);
  a.accepted_ms = opt_int(j, "accepted_ms", 0);
  a.on_scene_ms = opt_int(j, "on_scene_ms", 0);
  a.completed_ms = opt_int(j, "completed_ms", 0);
  a.note = opt_string(j, "note");
  return a;
}

namespace {

json call(const CallTask& c) {
  json j{{"id", c.id},       {"kind", name_of(c.kind)}, {"name", c.name},
         {"phone", c.phone}, {"state", name_of(c.state)}, {"created_ms", c.created_ms}};
  if (c.contact_index >= 0) j["contact_index"] = c.contact_index;
  if (c.due_ms) j["due_ms"] = c.due_ms;
  if (c.closed_ms) j["closed_ms"] = c.closed_ms;
  if (!c.actor.empty()) j["actor"] = c.actor;
  return j;
}

CallTask call_from(const json& j, IncidentId incident) {
  CallTask c;
  c.id = need_int(j, "id");
  c.incident = incident;
  c.kind = need_enum<CallKind>(j, "kind");
  c.contact_index = opt_int_in(j, "contact_index", -1, 99, -1);
  c.name = opt_string(j, "name");
  c.phone = opt_string(j, "phone");
  c.state = need_enum<CallState>(j, "state");
  c.created_ms = need_int(j, "created_ms");
  c.due_ms = opt_int(j, "due_ms", 0);
  c.closed_ms = opt_int(j, "closed_ms", 0);
  c.actor = opt_string(j, "actor");
  return c;
}

}  // namespace

json header(const Incident& i) {
  json j{{"id", i.id},
         {"elder_id", i.elder},
         {"state", name_of(i.state)},
         {"opened_ms", i.opened_ms},
         {"callback", name_of(i.callback)}};
  if (i.acknowledged_ms) {
    j["acknowledged_ms"] = i.acknowledged_ms;
    j["acknowledged_by"] = i.acknowledged_by;
  }
  if (i.dispatched_ms) j["dispatched_ms"] = i.dispatched_ms;
  if (i.accepted_ms) j["accepted_ms"] = i.accepted_ms;
  if (i.on_scene_ms) j["on_scene_ms"] = i.on_scene_ms;
  if (i.resolved_ms) {
    j["resolved_ms"] = i.resolved_ms;
    j["resolved_by"] = i.resolved_by;
    j["disposition"] = i.disposition;
  }
  if (i.proposed_worker) j["proposed_worker_id"] = i.proposed_worker;
  if (i.responders_wanted) j["responders_wanted"] = i.responders_wanted;
  if (i.repeats) j["repeats"] = i.repeats;
  if (i.unseen_alert_ms) j["unseen_alert_ms"] = i.unseen_alert_ms;  // attention.cpp
  json reasons = json::array();
  for (const auto& r : i.rank_reasons) reasons.push_back({{"code", r.code}, {"points", r.points}});
  j["rank"] = {{"base", i.rank_base}, {"reasons", reasons}};
  json assignments = json::array();
  for (const auto& a : i.assignments) assignments.push_back(assignment(a));
  j["assignments"] = assignments;
  json calls = json::array();
  for (const auto& c : i.calls) calls.push_back(call(c));
  j["calls"] = calls;
  j["escalations"] = escalations(i.escalations);
  return j;
}

Incident header_from(const json& j) {
  Incident i;
  i.id = need_int(j, "id");
  i.elder = need_int(j, "elder_id");
  i.state = need_enum<IncidentState>(j, "state");
  i.opened_ms = need_int(j, "opened_ms");
  i.callback = opt_enum(j, "callback", CallbackOutcome::none);
  i.acknowledged_ms = opt_int(j, "acknowledged_ms", 0);
  i.acknowledged_by = opt_string(j, "acknowledged_by");
  i.dispatched_ms = opt_int(j, "dispatched_ms", 0);
  i.accepted_ms = opt_int(j, "accepted_ms", 0);
  i.on_scene_ms = opt_int(j, "on_scene_ms", 0);
  i.resolved_ms = opt_int(j, "resolved_ms", 0);
  i.resolved_by = opt_string(j, "resolved_by");
  i.disposition = opt_string(j, "disposition");
  i.proposed_worker = opt_int(j, "proposed_worker_id", 0);
  i.responders_wanted = opt_int_in(j, "responders_wanted", 0, 2, 0);
  i.repeats = static_cast<int>(opt_int_in(j, "repeats", 0, 1'000'000'000, 0));
  i.unseen_alert_ms = opt_int(j, "unseen_alert_ms", 0);
  if (has(j, "rank")) {
    const json& r = j["rank"];
    i.rank_base = opt_int_in(r, "base", -100000, 100000, 0);
    if (has(r, "reasons"))
      for (const auto& x : need_array(r, "reasons"))
        i.rank_reasons.push_back({need_string(x, "code"), need_int_in(x, "points", -100000, 100000)});
  }
  if (has(j, "assignments"))
    for (const auto& x : need_array(j, "assignments")) i.assignments.push_back(assignment_from(x, i.id));
  if (has(j, "calls"))
    for (const auto& x : need_array(j, "calls")) i.calls.push_back(call_from(x, i.id));
  if (has(j, "escalations")) i.escalations = escalations_from(need_array(j, "escalations"));
  return i;
}

json full(const Incident& i) {
  json j = header(i);
  j["timeline"] = timeline(i.timeline);
  return j;
}

Incident full_from(const json& j) {
  Incident i = header_from(j);
  i.timeline = timeline_from(need_array(j, "timeline"));
  return i;
}

json worker(const Worker& w) {
  json skills = json::array();
  for (const auto& s : w.skills) skills.push_back(s);
  return {{"id", w.id},         {"name", w.name},         {"phone", w.phone},
          {"role", name_of(w.role)}, {"skills", skills},  {"town", w.town},
          {"status", name_of(w.status)}, {"mode", name_of(w.mode)}, {"lat", w.lat},
          {"lon", w.lon},       {"accuracy_m", w.accuracy_m}, {"position_ms", w.position_ms},
          {"incident_id", w.incident}, {"duty_since_ms", w.duty_since_ms}};
}

Worker worker_from(const json& j) {
  Worker w;
  w.id = need_int(j, "id");
  w.name = need_string(j, "name");
  w.phone = opt_string(j, "phone");
  w.role = need_enum<WorkerRole>(j, "role");
  if (has(j, "skills"))
    for (const auto& s : need_array(j, "skills"))
      if (s.is_string()) w.skills.push_back(s.get<std::string>());
  w.town = opt_string(j, "town");
  w.status = need_enum<WorkerStatus>(j, "status");
  w.on_duty = w.status != WorkerStatus::off_duty;
  w.mode = opt_enum(j, "mode", TransportMode::ebike);
  w.lat = need_number(j, "lat");
  w.lon = need_number(j, "lon");
  w.accuracy_m = opt_number(j, "accuracy_m", 0);
  w.position_ms = opt_int(j, "position_ms", 0);
  w.incident = opt_int(j, "incident_id", 0);
  w.duty_since_ms = opt_int(j, "duty_since_ms", 0);
  return w;
}

}  // namespace anxin::incident_json
