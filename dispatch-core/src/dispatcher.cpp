// Alarms, incidents and their resolution, and the helpers every command uses to
// record its effects.
#include <algorithm>
#include <utility>
#include <nlohmann/json.hpp>

#include "anxin/core/dispatcher.hpp"
#include "dispatch_internal.hpp"
#include "json_text.hpp"

namespace anxin {

std::string_view name_of(DeltaKind k) {
  switch (k) {
    case DeltaKind::incident_opened: return "incident_opened";
    case DeltaKind::alert_attached: return "alert_attached";
    case DeltaKind::incident_acknowledged: return "incident_acknowledged";
    case DeltaKind::incident_updated: return "incident_updated";
    case DeltaKind::incident_resolved: return "incident_resolved";
    case DeltaKind::worker_updated: return "worker_updated";
  }
  return "?";
}

std::string_view name_of(FieldEvent e) {
  switch (e) {
    case FieldEvent::offer: return "offer";
    case FieldEvent::offer_expired: return "offer_expired";
    case FieldEvent::offer_withdrawn: return "offer_withdrawn";
    case FieldEvent::task_updated: return "task_updated";
  }
  return "?";
}

std::string display_name(const Principal& who) {
  auto colon = who.subject.find(':');
  return colon == std::string::npos ? who.subject : who.subject.substr(colon + 1);
}

bool is_automatic(AlertKind kind) {
  switch (kind) {
    case AlertKind::sos:          // a person pressed it, and is usually on the line
    case AlertKind::phone_call:   // a person is on the line
    case AlertKind::low_battery:  // the device, not the elder, needs attention
    case AlertKind::offline:
      return false;
    default:
      return true;
  }
}

Dispatcher::Dispatcher(const Clock& clock, DispatchConfig config)
    : clock_(clock), config_(std::move(config)), index_(config_.travel) {}

std::vector<std::string> Dispatcher::restore(LiveState st, bool index_callers) {
  std::vector<std::string> left_out;
  elders_.clear(); devices_.clear(); workers_.clear(); open_.clear(); open_by_elder_.clear();
  assignment_incident_.clear(); call_incident_.clear(); tokens_.clear(); alarmed_.clear();
  recent_.clear(); recent_next_ = 0; std::ranges::fill(recent_counts_, 0);
  metrics_.clear(); watch_.clear(); heard_.clear(); folded_.clear(); unwritten_.clear(); dirty_.clear();
  check_ins_ = {}; timers_ = {}; timer_due_.clear(); timed_.clear();
  index_ = WorkerIndex(config_.travel);
  last_elder_ = 0;
  // The timers' monotonic stamps are not stored: each is rebuilt from its wall time as
  // the clocks stand now. Only a wall clock stepped back while the server was down can
  // put a stamp of the past after now or a deadline beyond its whole timeout; capped
  // there, nothing freezes.
  const Millis now = clock_.now_ms(), mono = clock_.mono_ms();
  auto mono_of = [&](Millis wall, Millis latest) { return mono - (now - std::min(wall, latest)); };
  // A city's registry is millions of rows: the store read them into compact tables,
  // moved in whole.
  elders_ = std::move(st.elders);
  last_elder_ = elders_.max_id();
  // Rows no code of ours writes (a hand edit with foreign keys off, a half-restored
  // backup) are left out of the live state rather than stop every start (issue 11,
  // item 2); the host logs what was left out.
  devices_ = std::move(st.devices);
  bool orphans = false;
  std::optional<ElderId> known;  // the row before's: an elder's devices mostly lie together
  for (DeviceTable::Row r = 0; r < devices_.size(); ++r) {
    const ElderId elder = devices_.at(r).elder;
    if (elder == known) continue;
    if (elders_.contains(elder)) {
      known = elder;
      continue;
    }
    left_out.push_back("device " + std::string(devices_.serial(r)) + ": no elder " + std::to_string(elder));
    orphans = true;
  }
  if (orphans) devices_.retain([&](DeviceTable::Row r) { return elders_.contains(devices_.at(r).elder); });
  for (auto& w : st.workers) {
    w.received_mono = mono_of(w.position_ms, now);
    index_worker(w);
    workers_.emplace(w.id, std::move(w));
  }
  for (auto& i : st.open_incidents) {
    if (!elders_.contains(i.elder)) {
      left_out.push_back("open incident " + std::to_string(i.id) + ": no elder " + std::to_string(i.elder));
      continue;
    }
    std::erase_if(i.assignments, [&](const Assignment& a) {
      if (workers_.count(a.worker)) return false;
      left_out.push_back("assignment " + std::to_string(a.id) + " of incident " + std::to_string(i.id) +
                         ": no worker " + std::to_string(a.worker));
      return true;
    });
    i.opened_mono = mono_of(i.opened_ms, now);
    restore_unseen_alert(i, now);  // attention.cpp
    for (auto& a : i.assignments) {
      assignment_incident_[a.id] = i.id;
      a.expires_mono = mono_of(a.expires_ms, now + config_.offer_timeout_ms);
      a.accepted_mono = mono_of(a.accepted_ms, now);
    }
    for (auto& c : i.calls) {
      call_incident_[c.id] = i.id;
      c.due_mono = mono_of(c.due_ms, now + config_.family_call_timeout_ms);
    }
    rerank(i);
    Incident& placed = open_.emplace(i.id, std::move(i)).first->second;
    open_by_elder_[placed.elder] = &placed;
    timed_.push_back(&placed);  // its timers are queued at the first tick
  }
  metrics_.start_day(clock_.now_ms());
  for (const auto& i : st.incidents_since) metrics_.observe(i);  // those opened today count
  for (auto& t : st.tokens) tokens_.emplace(t.hash, std::move(t));
  for (auto& p : st.progress)
    if (const auto row = devices_.find(p.device); row != DeviceTable::none) alarmed_[row].last = std::move(p);
  last_alert_ = st.max_alert_id;
  last_incident_ = st.max_incident_id;
  last_assignment_ = st.max_assignment_id;
  last_call_ = st.max_call_id;
  if (index_callers) index_numbers();
  restore_supervision();
  effects_ = {};
  resume_notices(std::move(st.outbox));
  return left_out;
}

namespace {

// The row of the token with this hash, while it still admits anyone at `now`.
const TokenRow* live_token(const std::unordered_map<std::string, TokenRow>& tokens, const std::string& hash,
                           Millis now) {
  auto it = tokens.find(hash);
  if (it == tokens.end() || (it->second.expires_ms && now >= it->second.expires_ms)) return nullptr;
  return &it->second;
}

}  // namespace

std::optional<Principal> Dispatcher::authenticate(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  const TokenRow* row = live_token(tokens_, token_hash(token), clock_.now_ms());
  if (!row) return std::nullopt;
  return row->who;
}

bool Dispatcher::token_valid(const std::string& hash) const {
  return live_token(tokens_, hash, clock_.now_ms()) != nullptr;
}

std::string Dispatcher::open_session(const Principal& who, Millis ttl_ms) {
  std::string token = random_token("sess-");
  TokenRow row{token_hash(token), who, clock_.now_ms() + ttl_ms};
  effects_.writes.push_back(PutToken{row});
  tokens_[row.hash] = std::move(row);
  audit(who, "login", 0);
  return token;
}

void Dispatcher::close_session(const Principal& who, std::string_view token) {
  const std::string hash = token_hash(token);
  auto it = tokens_.find(hash);
  if (it == tokens_.end() || it->second.who.subject != who.subject || !it->second.expires_ms) return;
  tokens_.erase(it);
  effects_.writes.push_back(DeleteToken{hash});
  audit(who, "logout", 0);
}

std::vector<std::string> Dispatcher::apply_credential_change(const CredentialChange& change) {
  for (const auto& t : change.issued) tokens_[t.hash] = t;
  std::vector<std::string> voided = change.revoked;
  if (!change.subject.empty())
    for (const auto& [hash, t] : tokens_)
      if (t.who.subject == change.subject && (!change.sessions_only || t.expires_ms)) voided.push_back(hash);
  for (const auto& hash : voided)
    if (tokens_.erase(hash)) effects_.writes.push_back(DeleteToken{hash});
  return voided;
}

void Dispatcher::audit_login(std::string action, std::string_view username, std::string_view address,
                             Millis wait_ms) {
  // The name is whatever was typed: kept short, and only as a JSON string.
  nlohmann::json detail{{"username", username.substr(0, 64)}, {"address", address}};
  if (wait_ms) detail["wait_ms"] = wait_ms;
  audit({Role::console, "address:" + std::string(address)}, std::move(action), 0,
        detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

MetricsSummary Dispatcher::metrics() const {
  // Past midnight, before anything observed or ticked, yesterday's figures are not today's.
  const bool today = metrics_.day_start() == start_of_local_day(clock_.now_ms());
  MetricsSummary m = today ? metrics_.summary() : MetricsSummary{};
  for (const auto& [id, i] : open_)
    if (!i.acknowledged_by.empty()) ++m.operators[i.acknowledged_by].open;
  return m;
}

std::string Dispatcher::today() const {
  const Millis now = clock_.now_ms();
  if (const Millis day = start_of_local_day(now); today_.empty() || day != today_from_) {
    today_ = local_date(now);
    today_from_ = day;
  }
  return today_;
}

// Today's figures are over the incidents opened today (ResponseMetrics), live as after
// a restart. The day turns on the first event, reading or tick after midnight.
void Dispatcher::roll_metrics_day() {
  const Millis now = clock_.now_ms();
  if (metrics_.day_start() != start_of_local_day(now)) metrics_.start_day(now);
}

void Dispatcher::observe(const Incident& incident) {
  roll_metrics_day();
  metrics_.observe(incident);
}

// --- effects ------------------------------------------------------------------------

Delta& Dispatcher::emit(DeltaKind kind, const Incident& incident) {
  Delta& d = effects_.deltas.emplace_back();
  d.seq = ++seq_;
  d.kind = kind;
  d.incident = incident.header();
  timed_.push_back(&incident);  // it changed: its next timer may have too
  return d;
}

void Dispatcher::emit_worker(const Worker& w) {
  positions_moved_.erase(w.id);  // this delta carries the latest position
  Delta d;
  d.seq = ++seq_;
  d.kind = DeltaKind::worker_updated;
  d.worker = w;
  effects_.deltas.push_back(std::move(d));
}

void Dispatcher::audit(const Principal& who, std::string action, IncidentId incident, std::string detail) {
  effects_.writes.push_back(AppendAudit{{clock_.now_ms(), who.subject, std::move(action), incident, std::move(detail)}});
}

void Dispatcher::audit_system(std::string action, IncidentId incident, std::string detail) {
  audit(detail::kSystem, std::move(action), incident, std::move(detail));
}

void Dispatcher::save(const Incident& i) { effects_.writes.push_back(PutIncident{i.header()}); }
void Dispatcher::save(const Worker& w) { effects_.writes.push_back(PutWorker{w}); }
void Dispatcher::save(const Assignment& a) { effects_.writes.push_back(PutAssignment{a}); }
void Dispatcher::save(const CallTask& c) { effects_.writes.push_back(PutCallTask{c}); }

void Dispatcher::record(Incident& incident, TimelineEntry entry) {
  effects_.writes.push_back(AddTimeline{incident.id, entry});
  incident.timeline.push_back(std::move(entry));
}

void Dispatcher::note(Incident& incident, TimelineKind kind, std::string actor, std::string text) {
  TimelineEntry e;
  e.at_ms = clock_.now_ms();
  e.kind = kind;
  e.actor = std::move(actor);
  e.text = std::move(text);
  record(incident, std::move(e));
}

void Dispatcher::rerank(Incident& incident) {
  const ElderTable::Row row = elders_.find(incident.elder);
  if (row == ElderTable::none) return;
  elders_.read_for_ranking(row, rank_elder_);
  incident.rank_base =
      rank_base(incident, rank_elder_, age_on(rank_elder_.birth_date, today()), config_.weights, incident.rank_reasons);
}

// The host takes the effects of a turn's alarms at once, 64 at most (a new incident's
// row, the alert's, the audit's, and a delta, for each): room for as many writes as
// the last time, up to a bound, and for 64 deltas, rather than growths of vectors whose
// elements are over half a kilobyte each.
Effects Dispatcher::take_effects() {
  Effects taken = std::exchange(effects_, {});
  effects_.writes.reserve(std::clamp<std::size_t>(taken.writes.size(), 4, 256));
  effects_.deltas.reserve(64);
  return taken;
}

Result<Incident*> Dispatcher::open_incident(IncidentId id) {
  auto it = open_.find(id);
  if (it == open_.end()) return Error{ErrorCode::unknown_incident, "no open incident " + std::to_string(id)};
  return &it->second;
}

// --- alarms ---------------------------------------------------------------------------

Result<DeviceTable::Row> Dispatcher::device_of(const Principal& who, const DeviceId& id, const char* doing) {
  if (who.role != Role::device) return Error{ErrorCode::forbidden, std::string("only devices ") + doing};
  const DeviceTable::Row device = devices_.find(id);
  if (device == DeviceTable::none) return Error{ErrorCode::unknown_device, "no device " + id};
  const std::string& vendor = devices_.vendor(device);
  // The desk's pseudo-devices (dispatch_manual.cpp) are raised by consoles only.
  if (vendor == "desk") return Error{ErrorCode::device_not_owned, "no token speaks for " + id};
  // A token speaks for one device, or for every device of one vendor platform.
  auto speaks_as = [&](std::string_view prefix, std::string_view name) {
    return who.subject.size() == prefix.size() + name.size() && who.subject.starts_with(prefix) &&
           who.subject.ends_with(name);
  };
  if (!speaks_as("device:", id) && !speaks_as("vendor:", vendor))
    return Error{ErrorCode::device_not_owned, "this token does not speak for " + id};
  return device;
}

Result<AlarmAck> Dispatcher::raise_alarm(const Principal& who, const AlarmIn& in, bool known_new) {
  auto found = device_of(who, in.device, "raise alarms");
  if (!found) return found.error();
  const DeviceTable::Row row = found.value();
  DeviceTable::Fixed& device = devices_.at(row);
  const DeviceId& id = in.device;  // as found: the same serial
  if (!device_can_raise(device.kind, in.kind))
    return Error{ErrorCode::kind_not_supported,
                 std::string(name_of(device.kind)) + " cannot raise " + std::string(name_of(in.kind))};
  if (in.seq <= 0) return Error{ErrorCode::bad_field, "seq must be a positive integer"};
  if (in.battery_pct && (*in.battery_pct < 0 || *in.battery_pct > 100))
    return Error{ErrorCode::bad_field, "battery_pct must be 0..100"};

  // Retries: devices resend until acknowledged, the same alarm with the same seq. An
  // alarm is known by its boot, seq, kind and device time: a device that restarts its
  // counter (rebooted, with or without a new `boot`) sends a new alarm, never a resend.
  // The numbers first: the scan of recent_ below runs for every alarm whose device and
  // seq it may hold (recent_counts_), a resend or a reused seq.
  // Compares alarms of this device only: its record is found by its row, and recent_
  // is searched by row, so the serial need not be compared again.
  auto same = [&](const DeviceProgress& p) {
    return p.last_seq == in.seq && p.device_time_ms == in.device_time_ms && p.kind == in.kind && p.boot == in.boot;
  };
  Alarmed& alarmed = alarmed_[row];  // stays put: the map's nodes do
  const DeviceProgress& last = alarmed.last;
  const bool heard = last.last_seq != 0;
  if (!known_new) {
    if (heard && same(last)) return AlarmAck{last.last_alert, last.last_incident, true};
    if (recent_counts_[recent_slot(row, in.seq)] > 0) {
      auto it = std::ranges::find_if(recent_, [&](const Recent& r) { return r.row == row && same(r.alarm); });
      if (it != recent_.end()) return AlarmAck{it->alarm.last_alert, it->alarm.last_incident, true};
    }
    // The usual case, the next seq of the boot heard last, is new. Anything else may be
    // a resend older than the alarms in memory: the host looks in the file first.
    const bool next = !heard || (last.boot == in.boot && in.seq > last.last_seq);
    if (!next) return AlarmAck{0, 0, false, false, true};
  }
  if (!take_alarm_token(alarmed))
    return Error{ErrorCode::rate_limited, id + " sent more than " +
                                              std::to_string(config_.supervision.alarm_burst) +
                                              " alarms in a short time; this one was not taken: send it again later"};
  if (in.battery_pct) device.battery_pct = static_cast<std::int8_t>(*in.battery_pct);
  AlarmAck ack;
  if (auto folded = fold(row, alarmed, in)) {
    ack = *folded;
  } else {
    ack = file_alert(who, row, in.kind, in.seq, in.device_time_ms, in.detail, in.boot);
    hold_fold(alarmed, Fold{in.kind, ack.alert, ack.incident, device.elder});
  }
  alarmed.last = DeviceProgress{id, in.seq, ack.alert, ack.incident, in.boot, in.kind, in.device_time_ms};
  if (recent_.size() < kRecent) {
    recent_.push_back({alarmed.last, row});
  } else {
    Recent& oldest = recent_[recent_next_];
    --recent_counts_[recent_slot(oldest.row, oldest.alarm.last_seq)];
    oldest = {alarmed.last, row};
  }
  recent_next_ = (recent_next_ + 1) % kRecent;
  ++recent_counts_[recent_slot(row, in.seq)];
  if (!alarmed.watch) alarmed.watch = &watch_[row];
  Watch& w = *alarmed.watch;
  battery_seen(row, w);
  if (in.kind == AlertKind::offline) w.offline = true;  // said by its platform
  // Its last contact and battery are written as a heartbeat's are, with the ticks'
  // commits (supervise): the alarm itself is in its alert's row, and the
  // writer, the limit when every alarm is a new alert, is spared a row per alarm.
  if (!std::exchange(w.dirty, true)) dirty_.push_back(row);
  return ack;
}

// Files one alert of `device` on its elder's incident, opening one if none is open:
// the alarm frame's path, and the phone line's (dispatch_phone.cpp).
AlarmAck Dispatcher::file_alert(const Principal& who, DeviceTable::Row row, AlertKind kind_of_alert, std::int64_t seq,
                                Millis device_time_ms, const std::string& detail, const std::string& boot) {
  const Millis now = clock_.now_ms();
  DeviceTable::Fixed& device = devices_.at(row);
  const std::string id(devices_.serial(row));
  Alert alert;
  alert.id = ++last_alert_;
  alert.device = id;
  alert.elder = device.elder;
  alert.kind = kind_of_alert;
  alert.device_time_ms = device_time_ms;
  alert.received_ms = now;
  alert.device_seq = seq;
  alert.detail = detail;
  alert.device_boot = boot;

  // At most one open incident per elder: a later alert joins it.
  DeltaKind kind;
  Incident* incident;
  if (auto open = open_by_elder_.find(device.elder); open != open_by_elder_.end()) {
    incident = open->second;
    kind = DeltaKind::alert_attached;
  } else {
    Incident fresh;
    fresh.id = ++last_incident_;
    fresh.elder = device.elder;
    fresh.state = IncidentState::open;
    fresh.opened_ms = now;
    fresh.opened_mono = clock_.mono_ms();
    incident = &open_.emplace(fresh.id, std::move(fresh)).first->second;
    open_by_elder_[device.elder] = incident;
    kind = DeltaKind::incident_opened;
  }
  alert.incident = incident->id;
  const size_t mark = incident->timeline.size();
  // One pass over the timeline: whether the contacts were told already, and whether an
  // alert of this kind came before, and the last alert's day.
  bool notified = false, kind_seen = false;
  Millis last_alert_ms = 0;
  for (const auto& e : incident->timeline) {
    notified |= e.kind == TimelineKind::notified;
    if (e.kind != TimelineKind::alert) continue;
    kind_seen |= e.alert_kind == kind_of_alert;
    last_alert_ms = e.at_ms;
  }
  const bool first_automatic = is_automatic(kind_of_alert) && !notified;
  // A new incident's row first (the alert's refers to it), then the alert's, which is
  // also its timeline entry: the store places it after the entries written before it.
  if (kind == DeltaKind::incident_opened) save(*incident);
  const AlarmAck ack{alert.id, incident->id, false};
  effects_.writes.push_back(PutAlert{std::move(alert)});
  TimelineEntry entry;
  entry.at_ms = now;
  entry.kind = TimelineKind::alert;
  entry.actor = id;
  entry.alert = ack.alert;
  entry.alert_kind = kind_of_alert;
  entry.text = detail;
  incident->timeline.push_back(std::move(entry));
  if (kind == DeltaKind::alert_attached) flag_unseen_alert(*incident, kind_of_alert);  // attention.cpp
  if (first_automatic) notify_contacts(*incident, kind_of_alert);
  // A joining alert changes nothing the incident's row holds (its rank and the unseen
  // flag are kept in memory and rebuilt at a restart), so the row is not written again.
  // Nor does one of a kind the incident has had, on the day of its last alert, change
  // anything its rank counts (the kinds seen, the elder's age that day): the rank made
  // then, by that alert or a later change, stands. An edited elder's open incident is
  // ranked again when the roster changes (put_roster).
  if (kind == DeltaKind::incident_opened || !kind_seen || start_of_local_day(last_alert_ms) != start_of_local_day(now))
    rerank(*incident);

  device.last_seen_ms = now;
  if (kind == DeltaKind::incident_opened) observe(*incident);  // counts it in its hour
  // Written straight to text, in the key order a JSON tree would sort them into: a
  // tree for these four fields was 8 % of the network thread with only new alerts
  // (docs/benchmarks.md, "The alarm's own JSON").
  std::string audit_detail;
  json_text::Writer(audit_detail)
      .open()
      .field("alert_id", ack.alert)
      .field("device", id)
      .field("kind", name_of(kind_of_alert))
      .field("seq", seq)
      .close();
  audit(who, "alarm", incident->id, std::move(audit_detail));
  detail::append_since(emit(kind, *incident), *incident, mark);
  return ack;
}

// --- operators --------------------------------------------------------------------------

namespace {
std::optional<Error> require_console(const Principal& who, const char* what) {
  if (who.role == Role::console) return std::nullopt;
  return Error{ErrorCode::forbidden, std::string("only consoles ") + what};
}
}  // namespace

Result<IncidentId> Dispatcher::acknowledge(const Principal& who, IncidentId id) {
  if (auto e = require_console(who, "acknowledge incidents")) return *e;
  auto found = open_incident(id);
  if (!found) return found.error();
  Incident& incident = *found.value();
  // Acknowledged already, with a critical alert since: this marks it seen (attention.cpp).
  if (incident.state == IncidentState::acknowledged && incident.unseen_alert_ms)
    return mark_alert_seen(who, incident);
  if (incident.state != IncidentState::open)
    return Error{ErrorCode::bad_state,
                 "incident " + std::to_string(id) + " was acknowledged by " + incident.acknowledged_by};
  const size_t mark = incident.timeline.size();
  incident.state = IncidentState::acknowledged;
  incident.acknowledged_ms = clock_.now_ms();
  incident.acknowledged_by = display_name(who);
  note(incident, TimelineKind::acknowledged, incident.acknowledged_by);
  clear_escalation(incident, EscalationKind::unacknowledged);
  clear_escalation(incident, EscalationKind::unacknowledged_long);
  save(incident);
  observe(incident);
  audit(who, "acknowledge", id);
  detail::append_since(emit(DeltaKind::incident_acknowledged, incident), incident, mark);
  return id;
}

Result<IncidentId> Dispatcher::add_note(const Principal& who, IncidentId id, const std::string& text) {
  if (auto e = require_console(who, "add notes")) return *e;
  if (text.empty()) return Error{ErrorCode::missing_field, "a note needs text"};
  if (text.size() > 2000) return Error{ErrorCode::bad_field, "a note is at most 2000 bytes"};
  auto found = open_incident(id);
  if (!found) return found.error();
  Incident& incident = *found.value();
  const size_t mark = incident.timeline.size();
  note(incident, TimelineKind::note, display_name(who), text);
  audit(who, "note", id, nlohmann::json{{"text", text}}.dump());
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  return id;
}

Result<IncidentId> Dispatcher::resolve(const Principal& who, IncidentId id, Disposition disposition,
                                       const std::string& text) {
  if (auto e = require_console(who, "resolve incidents")) return *e;
  auto found = open_incident(id);
  if (!found) return found.error();
  Incident& incident = *found.value();
  const size_t mark = incident.timeline.size();
  const std::string actor = display_name(who);
  release_responders(incident, actor);
  cancel_calls(incident, actor);
  if (!text.empty()) note(incident, TimelineKind::note, actor, text);
  incident.state = IncidentState::resolved;
  incident.resolved_ms = clock_.now_ms();
  incident.resolved_by = actor;
  incident.disposition = std::string(name_of(disposition));
  for (auto& e : incident.escalations) e.cleared = true;
  note(incident, TimelineKind::resolved, actor, incident.disposition);
  save(incident);
  // 001: afterwards record how it was handled, and archive the record.
  effects_.writes.push_back(PutClosingRecord{incident});
  observe(incident);
  audit(who, "resolve", id, nlohmann::json{{"disposition", incident.disposition}}.dump());
  detail::append_since(emit(DeltaKind::incident_resolved, incident), incident, mark);
  for (const auto& a : incident.assignments) assignment_incident_.erase(a.id);
  for (const auto& c : incident.calls) call_incident_.erase(c.id);
  // Its alerts take no more repeats (a later alarm is a new alert). Left for fold() to
  // find on the device's next alarm, a copy of each stayed until then: one for every
  // device and kind that ever raised an alert, without bound in a city.
  for (const auto& e : incident.timeline) {
    if (e.kind != TimelineKind::alert) continue;
    const DeviceTable::Row row = devices_.find(e.actor);
    if (row == DeviceTable::none) continue;
    if (auto a = alarmed_.find(row); a != alarmed_.end())
      std::erase_if(a->second.folds, [&](const Fold& f) { return f.kind == e.alert_kind && f.incident == id; });
  }
  open_by_elder_.erase(incident.elder);
  std::erase(timed_, &incident);
  open_.erase(id);
  return id;
}

// --- views --------------------------------------------------------------------------

std::vector<const Incident*> Dispatcher::open_incidents() const {
  std::vector<const Incident*> out;
  out.reserve(open_.size());
  for (const auto& [id, i] : open_) out.push_back(&i);
  return out;
}

std::vector<const Incident*> Dispatcher::ranked_incidents() const {
  // Score each incident once, then sort the keys: the same order as ranks_before().
  struct Key {
    int score;
    Millis opened;
    IncidentId id;
    const Incident* incident;
  };
  const Millis now = clock_.now_ms();
  std::vector<Key> keys;
  keys.reserve(open_.size());
  for (const auto& [id, i] : open_) keys.push_back({rank_score(i, now, config_.weights), i.opened_ms, id, &i});
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.opened != b.opened) return a.opened < b.opened;
    return a.id < b.id;
  });
  std::vector<const Incident*> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(k.incident);
  return out;
}

const Incident* Dispatcher::incident(IncidentId id) const {
  auto it = open_.find(id);
  return it == open_.end() ? nullptr : &it->second;
}
std::optional<Elder> Dispatcher::elder(ElderId id) const {
  const ElderTable::Row r = elders_.find(id);
  if (r == ElderTable::none) return std::nullopt;
  return elders_.elder(r);
}
std::optional<Device> Dispatcher::device(const DeviceId& id) const {
  const DeviceTable::Row r = devices_.find(id);
  if (r == DeviceTable::none) return std::nullopt;
  return devices_.device(r);
}
std::optional<ElderId> Dispatcher::elder_of_device(const DeviceId& id) const {
  const DeviceTable::Row r = devices_.find(id);
  if (r == DeviceTable::none) return std::nullopt;
  return devices_.at(r).elder;
}
std::vector<Device> Dispatcher::devices_of(ElderId elder) const {
  std::vector<Device> out;
  for (DeviceTable::Row r : devices_.of_elder(elder)) out.push_back(devices_.device(r));
  return out;
}

const Worker* Dispatcher::worker(WorkerId id) const {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : &it->second;
}
std::vector<const Worker*> Dispatcher::workers() const {
  std::vector<const Worker*> out;
  for (const auto& [id, w] : workers_) out.push_back(&w);
  return out;
}
std::vector<const Incident*> Dispatcher::tasks_of(WorkerId worker) const {
  std::vector<const Incident*> out;
  for (const auto& [id, i] : open_)
    if (std::any_of(i.assignments.begin(), i.assignments.end(), [&](const auto& a) { return a.worker == worker; }))
      out.push_back(&i);
  return out;
}

}  // namespace anxin
