#include "anxin/core/dispatcher.hpp"

#include <algorithm>

namespace anxin {

std::string_view name_of(DeltaKind k) {
  switch (k) {
    case DeltaKind::incident_opened: return "incident_opened";
    case DeltaKind::alert_attached: return "alert_attached";
    case DeltaKind::incident_acknowledged: return "incident_acknowledged";
    case DeltaKind::incident_resolved: return "incident_resolved";
  }
  return "?";
}

std::string display_name(const Principal& who) {
  auto colon = who.subject.find(':');
  return colon == std::string::npos ? who.subject : who.subject.substr(colon + 1);
}

Dispatcher::Dispatcher(const Clock& clock) : clock_(clock) {}

void Dispatcher::restore(LiveState st) {
  elders_.clear(); devices_.clear(); workers_.clear(); open_.clear();
  open_by_elder_.clear(); tokens_.clear(); progress_.clear();
  for (auto& e : st.elders) elders_.emplace(e.id, std::move(e));
  for (auto& d : st.devices) devices_.emplace(d.id, std::move(d));
  for (auto& w : st.workers) workers_.emplace(w.id, std::move(w));
  for (auto& i : st.open_incidents) {
    open_by_elder_[i.elder] = i.id;
    open_.emplace(i.id, std::move(i));
  }
  for (auto& [hash, who] : st.tokens) tokens_.emplace(std::move(hash), std::move(who));
  for (auto& p : st.progress) progress_.emplace(p.device, std::move(p));
  last_alert_ = st.max_alert_id;
  last_incident_ = st.max_incident_id;
  effects_ = {};
}

std::optional<Principal> Dispatcher::authenticate(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  auto it = tokens_.find(token_hash(token));
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

Delta& Dispatcher::emit(DeltaKind kind, const Incident& incident) {
  Delta d;
  d.seq = ++seq_;
  d.kind = kind;
  d.incident = incident;
  d.incident.timeline.clear();
  effects_.deltas.push_back(std::move(d));
  return effects_.deltas.back();
}

Result<AlarmAck> Dispatcher::raise_alarm(const Principal& who, const AlarmIn& in) {
  if (who.role != Role::device)
    return Error{ErrorCode::forbidden, "only devices raise alarms"};
  auto dev = devices_.find(in.device);
  if (dev == devices_.end())
    return Error{ErrorCode::unknown_device, "no device " + in.device};
  Device& device = dev->second;
  // A token speaks for one device, or for every device of one vendor platform.
  if (who.subject != "device:" + device.id && who.subject != "vendor:" + device.vendor)
    return Error{ErrorCode::device_not_owned, "this token does not speak for " + device.id};
  if (!device_can_raise(device.kind, in.kind))
    return Error{ErrorCode::kind_not_supported,
                 std::string(name_of(device.kind)) + " cannot raise " + std::string(name_of(in.kind))};
  if (in.seq <= 0) return Error{ErrorCode::bad_field, "seq must be a positive integer"};
  if (in.battery_pct && (*in.battery_pct < 0 || *in.battery_pct > 100))
    return Error{ErrorCode::bad_field, "battery_pct must be 0..100"};

  // Retries: devices resend until acknowledged, with the same seq.
  auto& progress = progress_[device.id];
  progress.device = device.id;
  if (in.seq == progress.last_seq)
    return AlarmAck{progress.last_alert, progress.last_incident, true};
  if (in.seq < progress.last_seq) {
    auto it = std::find_if(recent_.begin(), recent_.end(), [&](const Recent& r) {
      return r.device == device.id && r.seq == in.seq;
    });
    if (it != recent_.end()) return AlarmAck{it->alert, it->incident, true};
    if (lookup_)
      if (auto old = lookup_(device.id, in.seq)) return AlarmAck{old->id, old->incident, true};
    return Error{ErrorCode::bad_field, "seq " + std::to_string(in.seq) +
                                           " is below the device's last (" +
                                           std::to_string(progress.last_seq) + ") and unknown"};
  }

  const Millis now = clock_.now_ms();
  Alert alert;
  alert.id = ++last_alert_;
  alert.device = device.id;
  alert.elder = device.elder;
  alert.kind = in.kind;
  alert.device_time_ms = in.device_time_ms;
  alert.received_ms = now;
  alert.device_seq = in.seq;
  alert.detail = in.detail;

  TimelineEntry entry;
  entry.at_ms = now;
  entry.kind = TimelineKind::alert;
  entry.actor = device.id;
  entry.alert = alert.id;
  entry.alert_kind = in.kind;
  entry.text = in.detail;

  // At most one open incident per elder: a later alert joins it.
  DeltaKind kind;
  Incident* incident;
  if (auto open = open_by_elder_.find(device.elder); open != open_by_elder_.end()) {
    incident = &open_.at(open->second);
    kind = DeltaKind::alert_attached;
  } else {
    Incident fresh;
    fresh.id = ++last_incident_;
    fresh.elder = device.elder;
    fresh.state = IncidentState::open;
    fresh.opened_ms = now;
    incident = &open_.emplace(fresh.id, std::move(fresh)).first->second;
    open_by_elder_[device.elder] = incident->id;
    kind = DeltaKind::incident_opened;
    effects_.writes.push_back(PutIncident{*incident});
  }
  alert.incident = incident->id;
  incident->timeline.push_back(entry);

  device.last_seen_ms = now;
  if (in.battery_pct) device.battery_pct = *in.battery_pct;
  progress.last_seq = in.seq;
  progress.last_alert = alert.id;
  progress.last_incident = incident->id;
  recent_.push_back({device.id, in.seq, alert.id, incident->id});
  if (recent_.size() > kRecent) recent_.pop_front();

  effects_.writes.push_back(PutAlert{alert});
  effects_.writes.push_back(AddTimeline{incident->id, entry});
  effects_.writes.push_back(TouchDevice{device.id, device.battery_pct, now});
  emit(kind, *incident).append.push_back(entry);
  return AlarmAck{alert.id, incident->id, false};
}

Result<IncidentId> Dispatcher::acknowledge(const Principal& who, IncidentId id) {
  if (who.role != Role::console)
    return Error{ErrorCode::forbidden, "only consoles acknowledge incidents"};
  auto it = open_.find(id);
  if (it == open_.end()) return Error{ErrorCode::unknown_incident, "no open incident " + std::to_string(id)};
  Incident& incident = it->second;
  if (incident.state != IncidentState::open)
    return Error{ErrorCode::bad_state, "incident " + std::to_string(id) + " was acknowledged by " +
                                           incident.acknowledged_by};
  const Millis now = clock_.now_ms();
  incident.state = IncidentState::acknowledged;
  incident.acknowledged_ms = now;
  incident.acknowledged_by = display_name(who);
  TimelineEntry entry{now, TimelineKind::acknowledged, incident.acknowledged_by, 0, AlertKind::sos, ""};
  incident.timeline.push_back(entry);
  effects_.writes.push_back(PutIncident{incident});
  effects_.writes.push_back(AddTimeline{id, entry});
  emit(DeltaKind::incident_acknowledged, incident).append.push_back(entry);
  return id;
}

Result<IncidentId> Dispatcher::resolve(const Principal& who, IncidentId id, std::string disposition) {
  if (who.role != Role::console)
    return Error{ErrorCode::forbidden, "only consoles resolve incidents"};
  auto it = open_.find(id);
  if (it == open_.end()) return Error{ErrorCode::unknown_incident, "no open incident " + std::to_string(id)};
  if (disposition.empty()) return Error{ErrorCode::missing_field, "a disposition is required"};
  Incident& incident = it->second;
  const Millis now = clock_.now_ms();
  incident.state = IncidentState::resolved;
  incident.resolved_ms = now;
  incident.disposition = disposition;
  TimelineEntry entry{now, TimelineKind::resolved, display_name(who), 0, AlertKind::sos, disposition};
  incident.timeline.push_back(entry);
  effects_.writes.push_back(PutIncident{incident});
  effects_.writes.push_back(AddTimeline{id, entry});
  emit(DeltaKind::incident_resolved, incident).append.push_back(entry);
  open_by_elder_.erase(incident.elder);
  open_.erase(it);
  return id;
}

Effects Dispatcher::take_effects() { return std::exchange(effects_, {}); }

std::vector<const Incident*> Dispatcher::open_incidents() const {
  std::vector<const Incident*> out;
  out.reserve(open_.size());
  for (const auto& [id, i] : open_) out.push_back(&i);
  std::sort(out.begin(), out.end(), [](auto a, auto b) { return a->id < b->id; });
  return out;
}

const Incident* Dispatcher::incident(IncidentId id) const {
  auto it = open_.find(id);
  return it == open_.end() ? nullptr : &it->second;
}
const Elder* Dispatcher::elder(ElderId id) const {
  auto it = elders_.find(id);
  return it == elders_.end() ? nullptr : &it->second;
}
const Device* Dispatcher::device(const DeviceId& id) const {
  auto it = devices_.find(id);
  return it == devices_.end() ? nullptr : &it->second;
}
const Worker* Dispatcher::worker(WorkerId id) const {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : &it->second;
}

}  // namespace anxin
