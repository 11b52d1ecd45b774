// Deltas and snapshots written straight to text (json_text.hpp): the frames every
// console gets for every change. They parse to exactly what encode_tree makes of
// the same message (tests/test_frame_text.cpp holds them to it); docs/protocol.md
// describes both.
#include <nlohmann/json.hpp>

#include "alarm_scan.hpp"
#include "anxin/core/care_tier.hpp"
#include "anxin/core/protocol.hpp"
#include "json_text.hpp"

namespace anxin::protocol {

namespace {

using json_text::Writer;

void entry(Writer& w, const TimelineEntry& e) {
  w.open().field("at_ms", e.at_ms).field("kind", name_of(e.kind)).field("actor", e.actor);
  if (e.kind == TimelineKind::alert) {
    w.field("alert_id", e.alert).field("alert_kind", name_of(e.alert_kind));
    // A device's detail is kept as JSON text: sent as it is when it parses, as a
    // string when it does not. Nearly every one is a plain object, known to parse
    // without the parser (a tenth of a delta's encoding, issue 15).
    w.key("detail");
    if (plain_object(e.text) || nlohmann::json::accept(e.text)) w.raw(e.text);
    else w.value(e.text);
  } else if (!e.text.empty()) {
    w.field("text", e.text);
  }
  w.close();
}

void entries(Writer& w, std::string_view key, const std::vector<TimelineEntry>& list) {
  w.key(key).open_array();
  for (const auto& e : list) entry(w, e);
  w.close_array();
}

void assignment(Writer& w, const Assignment& a) {
  w.open().field("id", a.id).field("worker_id", a.worker).field("state", name_of(a.state))
      .field("chosen_by_operator", a.chosen_by_operator).field("eta_s", a.eta_s).field("distance_m", a.distance_m)
      .field("offered_ms", a.offered_ms).field("expires_ms", a.expires_ms);
  if (a.accepted_ms) w.field("accepted_ms", a.accepted_ms);
  if (a.on_scene_ms) w.field("on_scene_ms", a.on_scene_ms);
  if (a.completed_ms) w.field("completed_ms", a.completed_ms);
  if (!a.note.empty()) w.field("note", a.note);
  w.close();
}

void call(Writer& w, const CallTask& c) {
  w.open().field("id", c.id).field("kind", name_of(c.kind)).field("name", c.name).field("phone", c.phone)
      .field("state", name_of(c.state)).field("created_ms", c.created_ms);
  if (c.contact_index >= 0) w.field("contact_index", c.contact_index);
  if (c.due_ms) w.field("due_ms", c.due_ms);
  if (c.closed_ms) w.field("closed_ms", c.closed_ms);
  if (!c.actor.empty()) w.field("actor", c.actor);
  w.close();
}

// The incident header (docs/protocol.md, "The incident header"), left open for a timeline.
void header_fields(Writer& w, const IncidentHeader& i) {
  w.open().field("id", i.id).field("elder_id", i.elder).field("state", name_of(i.state))
      .field("opened_ms", i.opened_ms).field("callback", name_of(i.callback));
  if (i.acknowledged_ms) w.field("acknowledged_ms", i.acknowledged_ms).field("acknowledged_by", i.acknowledged_by);
  if (i.dispatched_ms) w.field("dispatched_ms", i.dispatched_ms);
  if (i.accepted_ms) w.field("accepted_ms", i.accepted_ms);
  if (i.on_scene_ms) w.field("on_scene_ms", i.on_scene_ms);
  if (i.resolved_ms)
    w.field("resolved_ms", i.resolved_ms).field("resolved_by", i.resolved_by).field("disposition", i.disposition);
  if (i.proposed_worker) w.field("proposed_worker_id", i.proposed_worker);
  if (i.responders_wanted) w.field("responders_wanted", i.responders_wanted);
  if (i.repeats) w.field("repeats", i.repeats);
  if (i.unseen_alert_ms) w.field("unseen_alert_ms", i.unseen_alert_ms);
  w.key("rank").open().field("base", i.rank_base).key("reasons").open_array();
  for (const auto& r : i.rank_reasons) w.open().field("code", r.code).field("points", r.points).close();
  w.close_array().close();
  w.key("assignments").open_array();
  for (const auto& a : i.assignments) assignment(w, a);
  w.close_array().key("calls").open_array();
  for (const auto& c : i.calls) call(w, c);
  w.close_array().key("escalations").open_array();
  for (const auto& e : i.escalations) {
    w.open().field("kind", name_of(e.kind)).field("at_ms", e.at_ms).field("cleared", e.cleared);
    if (e.worker) w.field("worker_id", e.worker);
    w.close();
  }
  w.close_array();
}

void worker(Writer& w, const Worker& x) {
  w.open().field("id", x.id).field("name", x.name).field("phone", x.phone).field("role", name_of(x.role));
  w.key("skills").open_array();
  for (const auto& s : x.skills) w.value(s);
  w.close_array().field("town", x.town).field("status", name_of(x.status)).field("mode", name_of(x.mode))
      .field("lat", x.lat).field("lon", x.lon).field("accuracy_m", x.accuracy_m).field("position_ms", x.position_ms)
      .field("incident_id", x.incident).field("duty_since_ms", x.duty_since_ms).close();
}

void card(Writer& w, const ElderCard& c) {
  w.open().field("id", c.id).field("name", c.name).field("sex", name_of(c.sex)).field("age", c.age)
      .field("tier", name_of(c.tier)).field("living", name_of(c.living)).key("ability");
  if (c.ability) w.value(name_of(*c.ability));
  else w.value(nullptr);
  w.field("disability_grade", c.disability_grade).field("dementia", c.dementia)
      .field("special_family", c.special_family).field("economic", name_of(c.economic)).field("town", c.town)
      .field("community", c.community).field("address", c.address).field("lat", c.lat).field("lon", c.lon)
      .field("phone", c.phone).field("id_masked", c.id_masked).key("contacts").open_array();
  for (const auto& k : c.contacts) w.open().field("name", k.name).field("relation", k.relation).field("phone", k.phone).close();
  w.close_array().field("family_doctor", c.family_doctor).field("family_doctor_phone", c.family_doctor_phone)
      .field("paired_worker_id", c.paired_worker_id).field("paired_worker", c.paired_worker)
      .field("visit_consent", c.visit_consent).field("unknown_caller", c.unknown_caller).close();
}

}  // namespace

// The device's ack, one per alarm: written straight too.
std::string encode_ack(const Ack& a, const std::string& req) {
  std::string out;
  out.reserve(128 + a.device.size() + req.size());
  Writer w(out);
  w.open().field("type", "ack").field("device", a.device).field("seq", a.seq).field("alert_id", a.ack.alert)
      .field("incident_id", a.ack.incident).field("duplicate", a.ack.duplicate);
  if (a.ack.folded) w.field("folded", true);
  if (!req.empty()) w.field("req", req);
  w.close();
  return out;
}

std::string encode_delta(const DeltaMessage& d, const std::string& req) {
  std::string out;
  out.reserve(d.elder ? 1536 : 640);
  Writer w(out);
  w.open().field("type", "delta").field("seq", d.seq).field("event", name_of(d.kind));
  if (d.worker) {
    worker(w.key("worker"), *d.worker);
  } else {
    header_fields(w.key("incident"), d.incident);
    w.close();
    entries(w, "append", d.append);
  }
  if (d.elder) card(w.key("elder"), *d.elder);
  if (!req.empty()) w.field("req", req);
  w.close();
  return out;
}

std::string encode_incident(const Incident& i) {
  std::string out;
  out.reserve(512 + i.timeline.size() * 160);
  Writer w(out);
  header_fields(w, i);
  entries(w, "timeline", i.timeline);
  w.close();
  return out;
}

std::string encode_card(const ElderCard& c) {
  std::string out;
  out.reserve(768);
  Writer w(out);
  card(w, c);
  return out;
}

std::string encode_worker(const Worker& x) {
  std::string out;
  out.reserve(320);
  Writer w(out);
  worker(w, x);
  return out;
}

std::string assemble_snapshot(const SnapshotText& s, const std::string& req) {
  size_t size = 256 + s.epoch.size() + req.size();
  for (const auto* list : {&s.incidents, &s.elders, &s.workers})
    for (const auto& t : *list) size += t->size() + 1;
  std::string out;
  out.reserve(size);
  Writer w(out);
  w.open().field("type", "snapshot").field("seq", s.seq).field("epoch", s.epoch)
      .field("server_time_ms", s.server_time_ms);
  for (const auto& [key, list] : {std::pair{"incidents", &s.incidents}, {"elders", &s.elders}, {"workers", &s.workers}}) {
    w.key(key).open_array();
    for (const auto& t : *list) w.raw(*t);
    w.close_array();
  }
  if (!req.empty()) w.field("req", req);
  w.close();
  return out;
}

std::string encode_snapshot(const Snapshot& s, const std::string& req) {
  SnapshotText parts{s.seq, s.epoch, s.server_time_ms, {}, {}, {}};
  for (const auto& i : s.incidents) parts.incidents.push_back(std::make_shared<const std::string>(encode_incident(i)));
  for (const auto& c : s.elders) parts.elders.push_back(std::make_shared<const std::string>(encode_card(c)));
  for (const auto& x : s.workers) parts.workers.push_back(std::make_shared<const std::string>(encode_worker(x)));
  return assemble_snapshot(parts, req);
}

}  // namespace anxin::protocol
