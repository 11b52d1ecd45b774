// The centre's phone line in the core (issue 9). The line itself (a baresip agent
// per operator seat, ws-gateway) hands over plain facts: a number is ringing, a call
// ended. Here a ringing number becomes a phone_call alert on its elder's incident,
// exactly as an alarm frame would, and an ended call becomes a timeline entry and the
// result of the call task it was placed for.
//
// The one-key phone (一键通) "calls the service centre" (003 附件4 清单2); the centre
// answers, contacts children and other emergency contacts on the elder's behalf and
// calls 120 when needed (003 附件4 清单2; 000 二.(三)7).
#include <nlohmann/json.hpp>

#include "anxin/core/dispatcher.hpp"
#include "dispatch_internal.hpp"

namespace anxin {

std::string normalise_number(std::string_view number) {
  std::string d;
  for (char c : number)
    if (c >= '0' && c <= '9') d.push_back(c);
  if (d.rfind("0086", 0) == 0) d.erase(0, 4);
  else if (d.size() == 13 && d.rfind("86", 0) == 0) d.erase(0, 2);  // +86 and an 11-digit mobile
  return d;
}

// A device's SIM first (the call is the device's own), then the elder's phone, then
// an emergency contact's phone (a daughter calling about her father). A number shared
// by several elders (a couple's landline) stays with the first one indexed.
void Dispatcher::index_numbers() {
  callers_.clear();
  auto put = [&](const std::string& number, CallerMatch m) {
    std::string key = normalise_number(number);
    if (!key.empty()) callers_.try_emplace(std::move(key), std::move(m));
  };
  std::map<ElderId, const Device*> sos;  // the device an elder's calls are filed under
  for (const auto& [id, d] : devices_) {
    if (!d.sim.empty()) put(d.sim, {d.elder, "device_sim", d.id, ""});
    const Device*& best = sos[d.elder];
    if (!best || (d.kind == DeviceKind::sos_button && best->kind != DeviceKind::sos_button) ||
        (d.kind == best->kind && d.id < best->id))
      best = &d;
  }
  for (const auto& [id, e] : elders_) {
    auto dev = sos.find(id);
    if (dev == sos.end()) continue;  // an alert needs a device to be filed under
    put(e.phone, {id, "elder_phone", dev->second->id, ""});
  }
  for (const auto& [id, e] : elders_) {
    auto dev = sos.find(id);
    if (dev == sos.end()) continue;
    for (const auto& c : e.contacts) put(c.phone, {id, "contact", dev->second->id, c.name});
  }
}

std::optional<CallerMatch> Dispatcher::match_caller(std::string_view number) const {
  auto it = callers_.find(normalise_number(number));
  if (it == callers_.end()) return std::nullopt;
  return it->second;
}

Result<AlarmAck> Dispatcher::phone_in(const Principal& who, const CallerMatch& caller, const std::string& number,
                                      const std::string& call_id) {
  auto dev = devices_.find(caller.device);
  if (dev == devices_.end()) return Error{ErrorCode::unknown_device, "no device " + caller.device};
  nlohmann::json detail{{"number", number}, {"via", caller.via}, {"call_id", call_id}};
  if (!caller.contact.empty()) detail["contact"] = caller.contact;
  // A phone alert has no device counter: its seq is minus its alert id, unique and
  // out of the way of the device's own positive sequence.
  return file_alert(who, dev->second, AlertKind::phone_call, -(last_alert_ + 1), clock_.now_ms(), detail.dump());
}

Result<AlarmAck> Dispatcher::phone_in_unknown(const Principal& who, const std::string& number,
                                              const std::string& call_id) {
  const std::string key = normalise_number(number);
  if (key.empty()) return Error{ErrorCode::bad_field, "the caller's number is hidden"};
  if (auto known = match_caller(key)) return phone_in(who, *known, number, call_id);
  Elder e;
  e.id = ++last_elder_;
  e.name = "未知来电";
  e.phone = key;
  e.id_number = "unknown-caller:" + key;  // unique, and never a real ID number
  e.living = LivingSituation::with_family;  // nothing known: no points for living alone
  e.unknown_caller = true;
  Device d;
  d.id = "LINE-" + key;
  d.elder = e.id;
  d.kind = DeviceKind::sos_button;
  d.vendor = "phone-line";
  d.sim = key;
  d.last_seen_ms = clock_.now_ms();
  effects_.writes.push_back(PutCaller{e, d});
  callers_[key] = {e.id, "unknown", d.id, ""};
  elders_.emplace(e.id, std::move(e));
  devices_.emplace(d.id, d);
  return phone_in(who, callers_[key], number, call_id);
}

Result<IncidentId> Dispatcher::link_caller(const Principal& who, IncidentId id, ElderId elder_id) {
  if (who.role != Role::console) return Error{ErrorCode::forbidden, "only consoles link callers"};
  auto found = open_incident(id);
  if (!found) return found.error();
  Incident& incident = *found.value();
  const Elder& caller = elders_.at(incident.elder);
  if (!caller.unknown_caller) return Error{ErrorCode::bad_state, "incident " + std::to_string(id) + " is not an unknown caller's"};
  auto target = elders_.find(elder_id);
  if (target == elders_.end() || target->second.unknown_caller)
    return Error{ErrorCode::bad_field, "no elder " + std::to_string(elder_id)};
  if (auto other = open_by_elder_.find(elder_id); other != open_by_elder_.end())
    return Error{ErrorCode::bad_state, target->second.name + " already has incident " + std::to_string(other->second) +
                                           " open: note the call there and resolve this one"};
  const size_t mark = incident.timeline.size();
  open_by_elder_.erase(incident.elder);
  open_by_elder_[elder_id] = id;
  incident.elder = elder_id;
  note(incident, TimelineKind::note, display_name(who), "来电号码 " + caller.phone + " 已关联到 " + target->second.name);
  rerank(incident);
  save(incident);
  audit(who, "link_caller", id, nlohmann::json{{"number", caller.phone}, {"elder_id", elder_id}}.dump());
  Delta& d = emit(DeltaKind::incident_updated, incident);
  d.with_card = true;
  detail::append_since(d, incident, mark);
  return id;
}

Result<IncidentId> Dispatcher::phone_log(const PhoneLog& log) {
  auto found = open_incident(log.incident);
  if (!found) return found.error();
  Incident& incident = *found.value();
  const size_t mark = incident.timeline.size();
  const std::string actor = log.operator_name.empty() ? "line" : log.operator_name;
  auto secs = [](Millis from, Millis to) { return from && to > from ? (to - from + 500) / 1000 : 0; };
  nlohmann::json summary{{"direction", log.outgoing ? "out" : "in"},
                         {"target", log.target},
                         {"seat", log.seat},
                         {"number", log.number},
                         {"result", log.result},
                         {"ring_s", secs(log.started_ms, log.answered_ms ? log.answered_ms : log.ended_ms)},
                         {"talk_s", secs(log.answered_ms, log.ended_ms)}};
  if (log.task) summary["task_id"] = log.task;
  if (!log.reason.empty()) summary["reason"] = log.reason;
  if (!log.recording.empty()) summary["recording"] = log.recording;
  if (!log.recording_sent.empty()) summary["recording_sent"] = log.recording_sent;
  note(incident, TimelineKind::phone, actor, summary.dump());

  const bool answered = log.result == "answered";
  if (log.task) {
    auto task = std::find_if(incident.calls.begin(), incident.calls.end(),
                             [&](const CallTask& c) { return c.id == log.task; });
    if (task != incident.calls.end() && task->open())
      settle_call(incident, *task, answered ? CallState::answered
                                   : log.result == "failed" ? CallState::failed
                                                            : CallState::no_answer,
                  actor);
  } else if (log.target == "elder" && !answered && incident.callback == CallbackOutcome::none) {
    apply_callback(incident, CallbackOutcome::no_answer, actor);
  }
  audit_system("phone_call", incident.id, summary.dump());
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  return incident.id;
}

std::vector<ElderId> Dispatcher::put_roster(std::vector<Elder> elders, std::vector<Device> devices) {
  std::vector<ElderId> ids;
  for (auto& e : elders) {
    if (e.id == 0) e.id = ++last_elder_;
    last_elder_ = std::max(last_elder_, e.id);
    ids.push_back(e.id);
    elders_[e.id] = std::move(e);
  }
  for (auto& d : devices) devices_[d.id] = std::move(d);
  index_numbers();  // a new phone or SIM now finds its elder when it calls
  return ids;
}

}  // namespace anxin
