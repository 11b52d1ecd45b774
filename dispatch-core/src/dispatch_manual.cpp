// Incidents opened and reopened by hand (issue 14, items 3 and 4).
//
// An operator on the phone with a caller, or facing a walk-in or a neighbour,
// opens an incident for an elder (or for an unknown caller). It is filed as an
// alert like any device's, so ranking, the queue, calls, dispatch, resolution,
// audit and replay treat it the same: the alert comes from the elder's desk
// pseudo-device, "DESK-<elder id>" (vendor "desk"), made on first use, as the
// phone line files an unknown number's calls under its own "LINE-" device. Its
// detail says who opened it, from what source, and what was reported. No token
// speaks for a desk device (device_of refuses vendor "desk"), so only consoles
// raise its alerts.
//
// A resolved incident may be reopened within reopen_within_ms of its resolution,
// from the closing record the host reads off the file, when its elder has no other
// incident open. It comes back acknowledged by the one who reopened it.
//
// Calls file_alert, acknowledge and the effects helpers of dispatcher.cpp.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "anxin/core/dispatcher.hpp"
#include "dispatch_internal.hpp"
#include "store_sql.hpp"

namespace anxin {

namespace {
constexpr const char* kDeskVendor = "desk";

bool manual_source(const std::string& s) { return s == "phone" || s == "walk_in" || s == "neighbour" || s == "other"; }

// Kinds only devices and the line raise: the server's supervision (offline, low
// battery) and the line's own calls.
bool raised_by_hand(AlertKind k) {
  return k != AlertKind::low_battery && k != AlertKind::offline && k != AlertKind::phone_call;
}
}  // namespace

DeviceTable::Row Dispatcher::desk_device(ElderId elder, const std::string& sim) {
  const DeviceId id = "DESK-" + std::to_string(elder);
  if (auto row = devices_.find(id); row != DeviceTable::none) return row;
  Device d;
  d.id = id;
  d.elder = elder;
  d.kind = DeviceKind::sos_button;  // raises whatever the operator chose; device_can_raise is not asked
  d.vendor = kDeskVendor;
  d.sim = sim;
  effects_.writes.push_back(SqlWrite{[d](sqlite3* db) {
    store_sql::Stmt s(db,
                      "INSERT OR IGNORE INTO devices(id, elder_id, kind, vendor, battery_pct, last_seen_ms, sim)"
                      " VALUES(?, ?, ?, ?, 100, 0, ?)");
    s.bind(1, d.id).bind(2, d.elder).bind(3, name_of(d.kind)).bind(4, d.vendor).bind(5, d.sim).run();
  }});
  return devices_.put(d);
}

Result<ManualOpened> Dispatcher::open_manual(const Principal& who, const ManualIncidentIn& in) {
  if (who.role != Role::console) return Error{ErrorCode::forbidden, "only consoles open incidents"};
  if (!manual_source(in.source))
    return Error{ErrorCode::bad_field, "'source' must be phone, walk_in, neighbour or other"};
  if (!raised_by_hand(in.kind))
    return Error{ErrorCode::bad_field, std::string(name_of(in.kind)) + " is raised by devices and the line, not by hand"};
  if (in.text.size() > 2000) return Error{ErrorCode::bad_field, "'text' is at most 2000 bytes"};
  if (in.caller_name.size() > 64) return Error{ErrorCode::bad_field, "'caller_name' is at most 64 bytes"};
  const std::string number = normalise_number(in.caller_phone);
  if (!in.caller_phone.empty() && number.empty())
    return Error{ErrorCode::bad_field, "'caller_phone' holds no digits"};

  ElderId elder = in.elder;
  DeviceTable::Row device = DeviceTable::none;
  if (!in.unknown) {
    const ElderTable::Row e = elders_.find(elder);
    if (e == ElderTable::none || elders_.unknown_caller(e))
      return Error{ErrorCode::bad_field, "no elder " + std::to_string(elder)};
  } else if (auto known = number.empty() ? std::nullopt : match_caller(number)) {
    elder = known->elder;  // a number the centre knows: its elder, as the phone line does
  } else {
    // A record for the caller, as the phone line makes one (dispatch_phone.cpp).
    Elder e;
    e.id = ++last_elder_;
    e.name = in.caller_name.empty() ? "未知来电" : in.caller_name;
    e.phone = number;
    e.id_number = "unknown-caller:" + (number.empty() ? "desk-" + std::to_string(e.id) : number);
    e.living = LivingSituation::with_family;  // nothing known: no points for living alone
    e.unknown_caller = true;
    Device d;
    d.id = "DESK-" + std::to_string(e.id);
    d.elder = e.id;
    d.kind = DeviceKind::sos_button;
    d.vendor = kDeskVendor;
    d.sim = number;
    effects_.writes.push_back(PutCaller{e, d});
    if (!number.empty()) other_callers_[number] = {e.id, "unknown", d.id, ""};
    elder = e.id;
    elders_.put(e);
    device = devices_.put(d);
  }
  if (device == DeviceTable::none) device = desk_device(elder);

  const bool joined = open_by_elder_.count(elder) > 0;
  nlohmann::json detail{{"manual", true}, {"source", in.source}, {"operator", display_name(who)}};
  if (!in.text.empty()) detail["text"] = in.text;
  if (in.unknown) {
    detail["unknown"] = true;
    if (!number.empty()) detail["caller_phone"] = number;
    if (!in.caller_name.empty()) detail["caller_name"] = in.caller_name;
  }
  // Like the line's, a desk alert has no device counter: its seq is minus its id.
  AlarmAck ack = file_alert(who, device, in.kind, -(last_alert_ + 1), clock_.now_ms(), detail.dump());
  audit(who, "incident_opened_manually", ack.incident,
        nlohmann::json{{"alert_id", ack.alert}, {"elder_id", elder}, {"kind", name_of(in.kind)},
                       {"source", in.source}, {"unknown", in.unknown}, {"joined", joined}}
            .dump());
  ManualOpened out{ack.alert, ack.incident, elder, joined, false};
  // The opener is on the phone with the caller, or facing them: the incident is in
  // their hands at once. One already acknowledged by someone else stays theirs.
  if (open_.at(ack.incident).state == IncidentState::open) out.acknowledged = acknowledge(who, ack.incident).ok();
  return out;
}

Result<IncidentId> Dispatcher::reopen(const Principal& who, Incident record, const std::string& reason) {
  if (who.role != Role::console) return Error{ErrorCode::forbidden, "only consoles reopen incidents"};
  if (reason.empty() || reason.size() > 2000) return Error{ErrorCode::bad_field, "'reason' must be 1..2000 bytes"};
  const std::string id = std::to_string(record.id);
  if (open_.count(record.id)) return Error{ErrorCode::bad_state, "incident " + id + " is open already"};
  if (record.state != IncidentState::resolved) return Error{ErrorCode::bad_state, "incident " + id + " is not resolved"};
  const Millis now = clock_.now_ms();
  if (now - record.resolved_ms > config_.reopen_within_ms)
    return Error{ErrorCode::bad_state, "incident " + id + " was resolved more than " +
                                           std::to_string(config_.reopen_within_ms / 3'600'000) +
                                           " h ago and can no longer be reopened; open a new incident"};
  const ElderTable::Row elder = elders_.find(record.elder);
  if (elder == ElderTable::none) return Error{ErrorCode::bad_state, "incident " + id + " has no elder"};
  if (auto other = open_by_elder_.find(record.elder); other != open_by_elder_.end())
    return Error{ErrorCode::bad_state, std::string(elders_.text(elder, ElderTable::name)) + " already has incident " +
                                           std::to_string(other->second->id) + " open: work the new report there"};
  nlohmann::json was{{"reason", reason},
                     {"resolved_ms", record.resolved_ms},
                     {"resolved_by", record.resolved_by},
                     {"disposition", record.disposition}};
  Incident& i = open_.emplace(record.id, std::move(record)).first->second;
  i.state = IncidentState::acknowledged;
  i.acknowledged_by = display_name(who);
  if (!i.acknowledged_ms) i.acknowledged_ms = now;
  i.resolved_ms = 0;
  i.resolved_by.clear();
  i.disposition.clear();
  i.proposed_worker = 0;
  i.opened_mono = clock_.mono_ms() - (now - std::min(i.opened_ms, now));
  open_by_elder_[i.elder] = &i;
  for (const auto& a : i.assignments) assignment_incident_[a.id] = i.id;
  for (const auto& c : i.calls) call_incident_[c.id] = i.id;
  note(i, TimelineKind::reopened, display_name(who), reason);
  rerank(i);
  save(i);
  audit(who, "incident_reopened", i.id, was.dump());
  // Consoles get it as they get a new incident, whole: the timeline so far comes with it.
  Delta& d = emit(DeltaKind::incident_opened, i);
  d.with_card = true;
  detail::append_since(d, i, 0);
  return i.id;
}

}  // namespace anxin
