// Device supervision and alarm storms (issue 13, items 1 and 5): heartbeats kept in
// memory and written in batches, check-in deadlines judged on the monotonic clock,
// `offline` and `low_battery` raised by the server itself, and repeats of an open
// alert folded into it with a count. Part of the Dispatcher; docs/protocol.md
// ("heartbeat", "Boots and resends", "Alarm storms") says the same to clients.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "anxin/core/dispatcher.hpp"
#include "dispatch_internal.hpp"
#include "json_util.hpp"

namespace anxin {

namespace {
constexpr Millis kMinute = 60'000, kHour = 60 * kMinute;

// A device heard from, as the file keeps it: its battery, last contact and supervision.
void write_heard(const DeviceTable& devices, DeviceTable::Row r, WriteBatch& writes) {
  const DeviceTable::Fixed& d = devices.at(r);
  writes.push_back(TouchDevice{DeviceId(devices.serial(r)), d.battery_pct, d.last_seen_ms, d.supervised});
}
}

// The defaults, by what powers the device and how it reaches the centre; a district
// sets its own in the config file ("supervision", docs/configuration.md).
std::map<DeviceKind, CheckIn> SupervisionConfig::default_check_ins() {
  return {
      // The one-key caller is the elder's own way to call for help (000 一键呼叫):
      // mains-powered with a SIM, so it can afford an hourly check-in.
      {DeviceKind::sos_button, {kHour, 15 * kMinute}},
      // Battery NB-IoT smoke and leak sensors last years by reporting once a day.
      {DeviceKind::smoke, {24 * kHour, 2 * kHour}},
      {DeviceKind::water_leak, {24 * kHour, 2 * kHour}},
      {DeviceKind::water_meter, {24 * kHour, 2 * kHour}},
      // Mains-powered gas detectors, and the sensors whose silence is what the
      // inactivity and bed rules watch: an hour.
      {DeviceKind::gas, {kHour, 15 * kMinute}},
      {DeviceKind::infrared, {kHour, 15 * kMinute}},
      {DeviceKind::bed, {kHour, 15 * kMinute}},
      {DeviceKind::door, {4 * kHour, kHour}},
      // Worn or monitoring continuously, and reporting every few minutes anyway.
      {DeviceKind::vital_signs, {10 * kMinute, 5 * kMinute}},
      {DeviceKind::geofence, {15 * kMinute, 15 * kMinute}},
  };
}

Result<SupervisionConfig> parse_supervision(std::string_view text, SupervisionConfig c) {
  using namespace json_util;
  try {
    const json j = json::parse(text);
    if (!j.is_object()) fail(ErrorCode::bad_field, "must be an object");
    for (const auto& [key, v] : j.items()) {
      static const char* const kKeys[] = {"check_in_s", "grace_s", "battery_low_pct", "battery_rearm_pct",
                                          "write_every_s", "alarm_burst", "alarm_refill_s"};
      if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys))
        fail(ErrorCode::bad_field, "unknown key '" + key + "'");
    }
    // Per device kind, in whole seconds; 0 turns a kind's supervision off.
    for (auto [key, field] : {std::pair{"check_in_s", &CheckIn::every_ms}, std::pair{"grace_s", &CheckIn::grace_ms}}) {
      if (!has(j, key)) continue;
      if (!j[key].is_object()) fail(ErrorCode::bad_field, std::string("'") + key + "' must be an object of device kinds");
      for (const auto& [kind, v] : j[key].items()) {
        auto k = parse_enum<DeviceKind>(kind);
        if (!k) fail(ErrorCode::bad_field, std::string(key) + ": '" + kind + "' is no device kind");
        if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 7 * 86400)
          fail(ErrorCode::bad_field, std::string(key) + "." + kind + " must be whole seconds, 0..604800");
        c.check_in[*k].*field = v.get<std::int64_t>() * 1000;
      }
    }
    if (has(j, "battery_low_pct")) {
      const json& a = j["battery_low_pct"];
      if (!a.is_array() || a.size() > 5) fail(ErrorCode::bad_field, "'battery_low_pct' must be a list of at most 5");
      c.battery_low_pct.clear();
      for (const auto& v : a) {
        if (!v.is_number_integer() || v.get<int>() < 1 || v.get<int>() > 99)
          fail(ErrorCode::bad_field, "'battery_low_pct' holds percentages 1..99");
        c.battery_low_pct.push_back(v.get<int>());
      }
    }
    c.battery_rearm_pct = opt_int_in(j, "battery_rearm_pct", 1, 50, c.battery_rearm_pct);
    c.write_every_ms = opt_int_in<Millis>(j, "write_every_s", 1, 3600, c.write_every_ms / 1000) * 1000;
    c.alarm_burst = opt_int_in(j, "alarm_burst", 1, 10000, c.alarm_burst);
    c.alarm_refill_ms = opt_int_in<Millis>(j, "alarm_refill_s", 0, 3600, c.alarm_refill_ms / 1000) * 1000;
    return c;
  } catch (const Failure& f) {
    return f.error;
  } catch (const json::exception& e) {
    return Error{ErrorCode::bad_json, e.what()};
  }
}

std::string supervision_json(const SupervisionConfig& c) {
  nlohmann::ordered_json every = nlohmann::ordered_json::object(), grace = nlohmann::ordered_json::object();
  for (const auto& [kind, check] : c.check_in) {
    every[std::string(name_of(kind))] = check.every_ms / 1000;
    grace[std::string(name_of(kind))] = check.grace_ms / 1000;
  }
  return nlohmann::ordered_json{{"check_in_s", every},
                                {"grace_s", grace},
                                {"battery_low_pct", c.battery_low_pct},
                                {"battery_rearm_pct", c.battery_rearm_pct},
                                {"write_every_s", c.write_every_ms / 1000},
                                {"alarm_burst", c.alarm_burst},
                                {"alarm_refill_s", c.alarm_refill_ms / 1000}}
      .dump();
}

Result<DeviceId> Dispatcher::heartbeat(const Principal& who, const HeartbeatIn& beat) {
  auto found = device_of(who, beat.device, "send heartbeats");
  if (!found) return found.error();
  const DeviceTable::Row row = found.value();
  DeviceTable::Fixed& device = devices_.at(row);
  device.last_seen_ms = clock_.now_ms();
  device.supervised = true;  // from its first heartbeat on, its check-ins are expected
  if (beat.battery_pct) device.battery_pct = static_cast<std::int8_t>(*beat.battery_pct);
  Watch& w = watch_[row];
  w.beat_mono = clock_.mono_ms();
  if (!std::exchange(w.dirty, true)) dirty_.push_back(row);
  if (w.offline) heard_.push_back(row);
  expect_check_in(row, w);
  battery_seen(row, w);
  return beat.device;
}

// Queues the moment `device` is overdue, unless an earlier entry stands: that one,
// when it pops, finds the newer beat and queues again.
void Dispatcher::expect_check_in(DeviceTable::Row row, Watch& w) {
  const DeviceTable::Fixed& device = devices_.at(row);
  if (!device.supervised || w.queued_due) return;
  auto c = config_.supervision.check_in.find(device.kind);
  if (c == config_.supervision.check_in.end() || c->second.every_ms <= 0) return;
  w.queued_due = w.beat_mono + c->second.every_ms + c->second.grace_ms;
  check_ins_.push({w.queued_due, row});
}

namespace {
// The lowest threshold `pct` is at or under; 101 for none.
int threshold_of(int pct, const std::vector<int>& thresholds) {
  int lowest = 101;
  for (int t : thresholds)
    if (pct <= t) lowest = std::min(lowest, t);
  return lowest;
}
}  // namespace

void Dispatcher::battery_seen(DeviceTable::Row row, Watch& w) {
  const auto& s = config_.supervision;
  const DeviceTable::Fixed& device = devices_.at(row);
  if (w.battery_raised <= 100 && device.battery_pct >= w.battery_raised + s.battery_rearm_pct)
    w.battery_raised = 101;  // a new battery, or charged
  if (threshold_of(device.battery_pct, s.battery_low_pct) < w.battery_raised) heard_.push_back(row);
}

bool Dispatcher::take_alarm_token(Alarmed& alarmed) {
  const auto& s = config_.supervision;
  const Millis mono = clock_.mono_ms();
  if (alarmed.tokens < 0)
    alarmed.tokens = s.alarm_burst;
  else if (s.alarm_refill_ms > 0)
    alarmed.tokens = std::min<double>(
        s.alarm_burst, alarmed.tokens + static_cast<double>(mono - alarmed.tokens_mono) / s.alarm_refill_ms);
  alarmed.tokens_mono = mono;
  if (alarmed.tokens < 1) return false;
  alarmed.tokens -= 1;
  return true;
}

// A storm: another alarm of the same kind from the same device while the alert it
// repeats is on an open incident. Counted on the alert and the incident, stored in the
// same commit, and told to consoles once a tick (supervise) rather than once an alarm.
std::optional<AlarmAck> Dispatcher::fold(DeviceTable::Row device, Alarmed& alarmed, const AlarmIn& in) {
  auto it = std::ranges::find(alarmed.folds, in.kind, &Fold::kind);
  if (it == alarmed.folds.end()) return std::nullopt;
  Fold& f = *it;
  // Its incident is its elder's open one, found by hash; the ordered map of all open
  // incidents is searched only for an incident moved to another elder (link_caller).
  Incident* open = nullptr;
  if (auto e = open_by_elder_.find(f.elder); e != open_by_elder_.end() && e->second->id == f.incident)
    open = e->second;
  else if (auto o = open_.find(f.incident); o != open_.end())
    open = &o->second;
  if (!open) {
    alarmed.folds.erase(it);
    return std::nullopt;
  }
  Incident& incident = *open;
  ++f.repeats;
  ++incident.repeats;
  effects_.writes.push_back(RepeatAlert{f.alert, f.repeats});
  save(incident);
  folded_.push_back(incident.id);
  devices_.at(device).last_seen_ms = clock_.now_ms();
  return AlarmAck{f.alert, incident.id, false, true};
}

void Dispatcher::hold_fold(Alarmed& alarmed, Fold fold) {
  if (auto it = std::ranges::find(alarmed.folds, fold.kind, &Fold::kind); it != alarmed.folds.end()) *it = fold;
  else alarmed.folds.push_back(fold);
}

size_t Dispatcher::folds_held() const {
  size_t n = 0;
  for (const auto& [row, alarmed] : alarmed_) n += alarmed.folds.size();
  return n;
}

AlarmAck Dispatcher::file_server_alert(DeviceTable::Row device, AlertKind kind, const std::string& detail) {
  const Millis seen = devices_.at(device).last_seen_ms;
  // Seq below zero: the server's own alerts never meet a device's counter.
  const AlarmAck ack = file_alert(detail::kSystem, device, kind, -(last_alert_ + 1), clock_.now_ms(), detail, "server");
  devices_.at(device).last_seen_ms = seen;  // filing marks a device seen; this one was not
  return ack;
}

void Dispatcher::raise_offline(DeviceTable::Row device, Watch& w) {
  const CheckIn c = config_.supervision.check_in.at(devices_.at(device).kind);
  const AlarmAck ack = file_server_alert(
      device, AlertKind::offline,
      nlohmann::json{{"raised_by", "server"}, {"last_seen_ms", devices_.at(device).last_seen_ms},
                     {"check_in_s", c.every_ms / 1000}, {"grace_s", c.grace_ms / 1000}}
          .dump());
  hold_fold(alarmed_[device], Fold{AlertKind::offline, ack.alert, ack.incident, devices_.at(device).elder});
  w.offline = true;
}

void Dispatcher::back_online(DeviceTable::Row row, Watch& w) {
  const DeviceId id(devices_.serial(row));
  w.offline = false;
  if (auto a = alarmed_.find(row); a != alarmed_.end())  // a later silence is a new alert
    std::erase_if(a->second.folds, [](const Fold& f) { return f.kind == AlertKind::offline; });
  auto open = open_by_elder_.find(devices_.at(row).elder);
  if (open == open_by_elder_.end()) return;  // resolved meanwhile: nothing to tell
  Incident& incident = *open->second;
  const size_t mark = incident.timeline.size();
  note(incident, TimelineKind::note, id, id + " back online");
  audit_system("device_back_online", incident.id, nlohmann::json{{"device", id}}.dump());
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
}

WriteBatch Dispatcher::take_devices_heard() {
  WriteBatch writes;
  for (auto* heard : {&unwritten_, &dirty_}) {
    for (const DeviceTable::Row row : std::exchange(*heard, {})) {
      write_heard(devices_, row, writes);
      if (auto w = watch_.find(row); w != watch_.end()) w->second.dirty = false;
    }
  }
  return writes;
}

void Dispatcher::supervise() {
  const Millis mono = clock_.mono_ms();
  const auto& s = config_.supervision;
  for (const DeviceTable::Row row : std::exchange(heard_, {})) {
    const DeviceTable::Fixed& device = devices_.at(row);
    Watch& w = watch_[row];
    if (w.offline && device.supervised && w.beat_mono > 0) back_online(row, w);
    const int t = threshold_of(device.battery_pct, s.battery_low_pct);
    if (t < w.battery_raised) {
      w.battery_raised = t;
      file_server_alert(
          row, AlertKind::low_battery,
          nlohmann::json{{"raised_by", "server"}, {"battery_pct", device.battery_pct}, {"threshold_pct", t}}.dump());
    }
  }
  if (mono >= next_scan_mono_) {  // once a second is soon enough for deadlines of minutes
    next_scan_mono_ = mono + 1000;
    while (!check_ins_.empty() && check_ins_.top().first < mono) {
      const DeviceTable::Row dev = check_ins_.top().second;
      check_ins_.pop();
      auto watch = watch_.find(dev);
      if (watch == watch_.end()) continue;
      Watch& w = watch->second;
      w.queued_due = 0;
      if (w.offline) continue;  // its next heartbeat queues it again
      auto c = s.check_in.find(devices_.at(dev).kind);
      if (c == s.check_in.end() || c->second.every_ms <= 0) continue;
      if (mono - w.beat_mono > c->second.every_ms + c->second.grace_ms)
        raise_offline(dev, w);
      else
        expect_check_in(dev, w);  // heard from since it was queued
    }
  }
  // The devices heard from, written with the tick's commit: a slice a tick, since every
  // reply waits for the commits queued before it, and 100,000 rows at once held
  // alarms' acks up for half a second (docs/benchmarks.md, "Heartbeats").
  if (mono >= next_write_mono_ && unwritten_.empty()) {
    next_write_mono_ = mono + s.write_every_ms;
    unwritten_ = std::exchange(dirty_, {});
    for (const DeviceTable::Row row : unwritten_)
      if (auto w = watch_.find(row); w != watch_.end()) w->second.dirty = false;
  }
  for (size_t n = 0; n < kDevicesWrittenPerTick && !unwritten_.empty(); ++n) {
    write_heard(devices_, unwritten_.back(), effects_.writes);
    unwritten_.pop_back();
  }
  std::sort(folded_.begin(), folded_.end());
  folded_.erase(std::unique(folded_.begin(), folded_.end()), folded_.end());
  for (IncidentId id : std::exchange(folded_, {}))
    if (auto open = open_.find(id); open != open_.end()) emit(DeltaKind::incident_updated, open->second);
}

// After a restart every supervised device has a full check-in from now: the server
// heard nothing while it was down, which is no fault of the device's. An offline
// alert still open and not followed by the device's last contact stands.
// Only the devices with something to watch get a Watch here: supervised ones, those
// low on battery, those offline. Any other's would be the one watch_[row] makes when
// it is first heard from (nothing raised, no check-ins due), and a city has millions
// of them: a Watch each cost hundreds of megabytes and a scan of them all every second.
void Dispatcher::restore_supervision() {
  const Millis mono = clock_.mono_ms();
  for (DeviceTable::Row row = 0; row < devices_.size(); ++row) {
    const DeviceTable::Fixed& device = devices_.at(row);
    const std::string_view id = devices_.serial(row);
    const int raised = threshold_of(device.battery_pct, config_.supervision.battery_low_pct);
    bool offline = false;
    if (auto open = open_by_elder_.find(device.elder); open != open_by_elder_.end())
      for (const auto& e : open->second->timeline)
        if (e.kind == TimelineKind::alert && e.alert_kind == AlertKind::offline && e.actor == id &&
            e.at_ms >= device.last_seen_ms)
          offline = true;
    if (!device.supervised && raised > 100 && !offline) continue;
    Watch& w = watch_[row];
    w.beat_mono = mono;
    w.battery_raised = raised;
    w.offline = offline;
    expect_check_in(row, w);
  }
}

}  // namespace anxin
