// Calls for help: the operator's call back to the elder, 120 and 119, the family
// cascade, the notices that go to every emergency contact at once, and what the
// operators are shown when a notice cannot be delivered.
//
// The centre "answers, guides, contacts children and other emergency contacts on the
// elder's behalf, and calls 120 when needed" (003 annex 4, list 2); "at once help call
// the emergency numbers ..., contact children, relatives or guardian" (000 二.(三)7).
#include <nlohmann/json.hpp>

#include "anxin/core/dispatcher.hpp"
#include "dispatch_internal.hpp"

namespace anxin {

namespace {

// What the SMS says the alarm was, in the words a family member understands.
const char* alarm_words(AlertKind kind) {
  switch (kind) {
    case AlertKind::smoke: return "烟雾报警";
    case AlertKind::gas: return "燃气泄漏报警";
    case AlertKind::water_leak: return "水浸报警";
    case AlertKind::fall: return "跌倒报警";
    case AlertKind::inactivity: return "长时间未活动报警";
    case AlertKind::vital_abnormal: return "生命体征异常报警";
    case AlertKind::geofence_exit: return "离开安全区域报警";
    case AlertKind::door_open_long: return "门长时间未关报警";
    case AlertKind::bed_exit_long: return "长时间离床报警";
    case AlertKind::no_water_use: return "长时间未用水报警";
    case AlertKind::sos: return "一键呼叫";
    case AlertKind::low_battery: return "设备电量低";
    case AlertKind::offline: return "设备离线";
    case AlertKind::phone_call: return "电话呼入";
  }
  return "报警";
}

}  // namespace

// 000 二.(四)3 and 001 二.(四)3: once monitoring finds something abnormal, warn in
// time and at the same time send a notice to the emergency contacts.
void Dispatcher::notify_contacts(Incident& incident, AlertKind kind) {
  const Elder e = elders_.at(incident.elder);
  if (e.contacts.empty()) return;
  const Millis now = clock_.now_ms();
  for (size_t index = 0; index < e.contacts.size(); ++index) {
    const EmergencyContact& c = e.contacts[index];
    Notice n;
    n.kind = NoticeKind::contact_sms;
    n.incident = incident.id;
    n.elder = e.id;
    n.to_name = c.name;
    n.to_phone = c.phone;
    n.text = "【安心】" + c.name + "您好：" + e.name + "家中" + alarm_words(kind) +
             "，服务中心正在处理，请尽快联系老人或回电服务中心。";
    n.at_ms = now;
    n.id = "sms-" + std::to_string(incident.id) + "-" + std::to_string(index);
    send_notice(std::move(n));
  }
  note(incident, TimelineKind::notified, "system", std::to_string(e.contacts.size()));
  audit_system("notify_contacts", incident.id, nlohmann::json{{"contacts", e.contacts.size()}}.dump());
}

void Dispatcher::call_contact(Incident& incident, int index, const std::string& actor) {
  const Elder e = elders_.at(incident.elder);
  const EmergencyContact& c = e.contacts.at(static_cast<size_t>(index));
  const Millis now = clock_.now_ms();
  CallTask t;
  t.id = ++last_call_;
  t.incident = incident.id;
  t.kind = CallKind::family;
  t.contact_index = index;
  t.name = c.name;
  t.phone = c.phone;
  t.created_ms = now;
  t.due_ms = now + config_.family_call_timeout_ms;
  t.due_mono = clock_.mono_ms() + config_.family_call_timeout_ms;
  incident.calls.push_back(t);
  call_incident_[t.id] = incident.id;
  save(t);
  note(incident, TimelineKind::call, actor, "family:" + c.name);
  send_notice({NoticeKind::family_call, t.id, incident.id, e.id, c.name, c.phone,
               "【安心】请致电" + c.name + "（" + c.relation + "），告知" + e.name + "家中报警。", now,
               "call-" + std::to_string(t.id)});
}

void Dispatcher::cancel_calls(Incident& incident, const std::string& actor) {
  for (auto& c : incident.calls) {
    if (!c.open()) continue;
    c.state = CallState::cancelled;
    c.closed_ms = clock_.now_ms();
    c.actor = actor;
    save(c);
  }
}

Result<IncidentId> Dispatcher::record_callback(const Principal& who, IncidentId id, CallbackOutcome outcome) {
  if (who.role != Role::console) return Error{ErrorCode::forbidden, "only consoles record call-backs"};
  if (outcome == CallbackOutcome::none) return Error{ErrorCode::bad_field, "outcome must be fine, needs_help or no_answer"};
  auto found = open_incident(id);
  if (!found) return found.error();
  Incident& incident = *found.value();
  const size_t mark = incident.timeline.size();
  apply_callback(incident, outcome, display_name(who));
  audit(who, "callback", id, nlohmann::json{{"outcome", name_of(outcome)}}.dump());
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  return id;
}

void Dispatcher::apply_callback(Incident& incident, CallbackOutcome outcome, const std::string& actor) {
  incident.callback = outcome;
  note(incident, TimelineKind::callback, actor, std::string(name_of(outcome)));
  if (outcome != CallbackOutcome::fine) {
    // Nobody answered, or the elder needs help: propose the best responder for the
    // operator to confirm; if nobody answered, start calling the family too.
    propose(incident);
    const bool cascade_running = std::any_of(incident.calls.begin(), incident.calls.end(), [](const CallTask& c) {
      return c.kind == CallKind::family && c.open();
    });
    if (outcome == CallbackOutcome::no_answer && !cascade_running && elders_.contacts(elders_.row(incident.elder)) > 0)
      call_contact(incident, 0, actor);
  }
  rerank(incident);
  save(incident);
}

Result<std::int64_t> Dispatcher::call_emergency(const Principal& who, IncidentId id, CallKind kind) {
  if (who.role != Role::console) return Error{ErrorCode::forbidden, "only consoles place calls"};
  if (kind == CallKind::family) return Error{ErrorCode::bad_field, "use the family cascade for family calls"};
  auto found = open_incident(id);
  if (!found) return found.error();
  Incident& incident = *found.value();
  const bool already = std::any_of(incident.calls.begin(), incident.calls.end(),
                                   [&](const CallTask& c) { return c.kind == kind && c.open(); });
  if (already) return Error{ErrorCode::bad_state, std::string(name_of(kind)) + " is already being called"};
  const Elder e = elders_.at(incident.elder);
  const Millis now = clock_.now_ms();
  const size_t mark = incident.timeline.size();
  const std::string actor = display_name(who);
  CallTask t;
  t.id = ++last_call_;
  t.incident = id;
  t.kind = kind;
  t.name = kind == CallKind::ambulance_120 ? "120急救中心" : "119消防";
  t.phone = kind == CallKind::ambulance_120 ? "120" : "119";
  t.created_ms = now;
  incident.calls.push_back(t);
  call_incident_[t.id] = id;
  save(t);
  note(incident, TimelineKind::call, actor, std::string(name_of(kind)));
  send_notice({kind == CallKind::ambulance_120 ? NoticeKind::ambulance_120 : NoticeKind::fire_119, t.id, id, e.id,
               t.name, t.phone,
               e.name + "，" + std::to_string(age_on(e.birth_date, today())) + "岁，地址：" + e.address + "，联系电话" +
                   e.phone,
               now, "call-" + std::to_string(t.id)});
  audit(who, "call", id, nlohmann::json{{"task_id", t.id}, {"kind", name_of(kind)}}.dump());
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  return t.id;
}

Result<std::int64_t> Dispatcher::start_family_cascade(const Principal& who, IncidentId id, int from) {
  if (who.role != Role::console) return Error{ErrorCode::forbidden, "only consoles place calls"};
  auto found = open_incident(id);
  if (!found) return found.error();
  Incident& incident = *found.value();
  const std::size_t contacts = elders_.contacts(elders_.row(incident.elder));
  if (contacts == 0) return Error{ErrorCode::bad_state, "the elder has no emergency contacts on record"};
  if (from < 0 || from >= static_cast<int>(contacts))
    return Error{ErrorCode::bad_field, "contact_index must be 0.." + std::to_string(contacts - 1)};
  const size_t mark = incident.timeline.size();
  const std::string actor = display_name(who);
  for (auto& c : incident.calls) {
    if (c.kind != CallKind::family || !c.open()) continue;
    if (c.contact_index == from) return Error{ErrorCode::bad_state, c.name + " is already being called"};
    c.state = CallState::cancelled;  // the operator chose someone else
    c.closed_ms = clock_.now_ms();
    c.actor = actor;
    save(c);
  }
  call_contact(incident, from, actor);
  audit(who, "family_cascade", id, nlohmann::json{{"from", from}}.dump());
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  return incident.calls.back().id;
}

Result<std::int64_t> Dispatcher::record_call(const Principal& who, std::int64_t task_id, CallState result) {
  if (who.role != Role::console) return Error{ErrorCode::forbidden, "only consoles record calls"};
  if (result == CallState::pending || result == CallState::cancelled)
    return Error{ErrorCode::bad_field, "result must be answered, no_answer or failed"};
  auto [found, task] = call_task(task_id);
  if (!task) return Error{ErrorCode::unknown_call, "no call task " + std::to_string(task_id)};
  Incident& incident = *found;
  if (!task->open()) return Error{ErrorCode::bad_state, "call task " + std::to_string(task_id) + " is closed"};
  const size_t mark = incident.timeline.size();
  settle_call(incident, *task, result, display_name(who));
  audit(who, "call_result", incident.id, nlohmann::json{{"task_id", task_id}, {"result", name_of(result)}}.dump());
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  return task_id;
}

bool Dispatcher::notice_failed(const Notice& n, const std::string& reason, int attempts) {
  // Service numbers are no one's private number; a contact's is masked as in the log.
  const bool service = n.kind == NoticeKind::ambulance_120 || n.kind == NoticeKind::fire_119;
  nlohmann::json entry{{"notice", name_of(n.kind)}, {"notice_id", n.id}, {"to_name", n.to_name},
                       {"to", service ? n.to_phone : masked_phone(n.to_phone)}, {"reason", reason},
                       {"attempts", attempts}};
  if (n.task_id) entry["task_id"] = n.task_id;
  audit_system("notice_failed", n.incident, entry.dump());
  effects_.writes.push_back(SettleNotice{n.id, NoticeState::failed, attempts, reason, clock_.now_ms()});
  auto found = open_incident(n.incident);
  if (!found) return false;
  Incident& incident = *found.value();
  const size_t mark = incident.timeline.size();
  note(incident, TimelineKind::notice_failed, "system", entry.dump());
  // Nobody was asked to place the call: the task has failed, and says so.
  auto task = std::find_if(incident.calls.begin(), incident.calls.end(),
                           [&](const CallTask& c) { return n.task_id && c.id == n.task_id; });
  if (task != incident.calls.end() && task->open())
    settle_call(incident, *task, CallState::failed, "system");
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  return true;
}

std::pair<Incident*, CallTask*> Dispatcher::call_task(std::int64_t id) {
  auto at = call_incident_.find(id);
  if (at == call_incident_.end()) return {nullptr, nullptr};
  Incident& incident = open_.at(at->second);
  auto task = std::find_if(incident.calls.begin(), incident.calls.end(), [&](const CallTask& c) { return c.id == id; });
  return {&incident, task == incident.calls.end() ? nullptr : &*task};
}

// Into the outbox in the same transaction as its cause, and out to the Notifier once
// that is durable: a crash in between leaves it pending, and the next start sends it.
void Dispatcher::send_notice(Notice n) {
  effects_.writes.push_back(PutNotice{n});
  effects_.notices.push_back(std::move(n));
}

// At start, what the outbox still holds: sent again (receivers drop duplicates by
// notice id), except a call request whose task is no longer waiting for it (the
// operator settled it, or the incident was resolved), which would send someone to
// call for nothing.
void Dispatcher::resume_notices(std::vector<Notice> pending) {
  for (auto& n : pending) {
    if (n.task_id) {
      const CallTask* task = call_task(n.task_id).second;
      if (!task || !task->open()) {
        effects_.writes.push_back(SettleNotice{n.id, NoticeState::cancelled, 0,
                                               "its call task was closed before it was sent", clock_.now_ms()});
        continue;
      }
    }
    effects_.notices.push_back(std::move(n));
  }
}

void Dispatcher::settle_call(Incident& incident, CallTask& task, CallState result, const std::string& actor) {
  task.state = result;
  task.closed_ms = clock_.now_ms();
  task.actor = actor;
  save(task);
  const CallKind kind = task.kind;
  const int next = task.contact_index + 1;  // `task` may move once another call is added
  note(incident, TimelineKind::call, actor, std::string(name_of(kind)) + ":" + std::string(name_of(result)));
  // The cascade moves on when a contact does not answer; an answer ends it.
  if (kind == CallKind::family && result != CallState::answered) {
    if (next < static_cast<int>(elders_.contacts(elders_.row(incident.elder))))
      call_contact(incident, next, actor);
    else
      note(incident, TimelineKind::call, actor, "family:exhausted");
  }
}

}  // namespace anxin
