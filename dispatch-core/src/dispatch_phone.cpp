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

}  // namespace anxin
