// Domain model of a service centre: the elders it serves, the devices in their
// homes, the alerts those devices raise, the incidents operators work, and the
// field workers they send. Plain data plus the small rules that belong to it.
// Depends on nothing but the standard library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anxin {

using Millis = std::int64_t;  // milliseconds since the Unix epoch
using ElderId = std::int64_t;
using WorkerId = std::int64_t;
using AlertId = std::int64_t;
using IncidentId = std::int64_t;
using DeviceId = std::string;  // the device's serial, as printed on it

enum class Sex { male, female };

// 居住状况 (../shared/DOMAIN.md "Who is served").
enum class LivingSituation { alone, empty_nest, left_behind, elderly_only, with_family };

// 能力评估: 能力完好 / 轻度 / 中度 / 重度 / 完全失能. An elder may not be assessed yet.
enum class Ability { intact, mild, moderate, severe, complete };

// 低保 / 特困 / 低保边缘 (DOMAIN.md; 002).
enum class EconomicStatus { ordinary, subsistence, extreme_poverty, near_poverty };

// 重点 / 次重点 / 一般人群 (seeds/000_22e5d44906de9250.txt, 二.(一)).
enum class CareTier { key, sub_key, general };

struct EmergencyContact {
  std::string name;
  std::string relation;  // 儿子, 女儿, 侄子, 邻居, 村主任 ...
  std::string phone;
};

struct Elder {
  ElderId id = 0;
  std::string name;
  Sex sex = Sex::male;
  std::string birth_date;  // YYYY-MM-DD
  std::string phone;
  std::string id_number;  // 18-character national ID; never leaves the server unmasked
  std::string town;       // 镇 / 街道
  std::string community;  // 村 / 居
  std::string address;
  double lat = 0, lon = 0;
  LivingSituation living = LivingSituation::alone;
  std::optional<Ability> ability;  // empty: not assessed
  bool bedridden = false;          // only counts when not assessed (000)
  bool limited_mobility = false;   // only counts when not assessed (000)
  int disability_grade = 0;        // 0 = none, otherwise 1 (most severe) to 4
  bool dementia = false;           // 失智
  bool special_family = false;     // 计划生育特殊家庭
  EconomicStatus economic = EconomicStatus::ordinary;
  std::vector<EmergencyContact> contacts;  // in the order to call them
  std::string family_doctor;
  std::string family_doctor_phone;
  std::optional<WorkerId> paired_worker;  // 结对帮扶 (001)
  bool visit_consent = false;             // 入户探访要征得同意 (000)
  // A record the phone line made for a number it did not know, so the call could
  // open an incident; the operator links that incident to the real elder later.
  bool unknown_caller = false;
};

enum class DeviceKind : std::uint8_t {  // a byte: a city keeps millions (device_table.hpp)
  sos_button,   // 一键通
  smoke,
  gas,
  water_leak,
  infrared,     // motion / fall / long lying still
  door,
  bed,
  vital_signs,
  geofence,     // wearable, for elders who may wander
  water_meter,
};

enum class AlertKind {
  sos,
  smoke,
  gas,
  water_leak,
  fall,
  inactivity,      // long lying still
  door_open_long,
  bed_exit_long,   // off bed too long at night
  vital_abnormal,
  geofence_exit,
  no_water_use,    // no water for 24 h
  low_battery,
  offline,
  phone_call,      // a call to the centre's line from a known number (docs/telephony.md)
};

// 1 is the most urgent. Used until the ranking of issue 3 replaces it.
enum class Severity { critical = 1, high = 2, medium = 3, low = 4 };

struct Device {
  DeviceId id;
  ElderId elder = 0;
  DeviceKind kind = DeviceKind::sos_button;
  std::string vendor;  // the IoT platform that may report for it
  int battery_pct = 100;
  Millis last_seen_ms = 0;
  std::string sim;  // the SIM's number, for devices that call the centre (一键通); may be empty
  bool supervised = false;  // has sent a heartbeat: the server expects its check-ins (supervision.cpp)
};

struct Alert {
  AlertId id = 0;
  DeviceId device;
  ElderId elder = 0;
  AlertKind kind = AlertKind::sos;
  Millis device_time_ms = 0;
  Millis received_ms = 0;
  std::int64_t device_seq = 0;  // the device's own counter; makes retries idempotent
  IncidentId incident = 0;
  std::string detail;           // JSON object from the device, as received
  std::string device_boot;      // the device's boot or session, when it says
  int repeats = 0;              // later alarms of a storm folded into this one
};

enum class IncidentState { open, acknowledged, resolved };

enum class TimelineKind {
  alert, acknowledged, resolved, note,
  callback,        // the operator called the elder back; text is the outcome
  offered, accepted, declined, expired, on_scene, completed, cancelled,  // responders
  call,            // a call task was opened or changed; text says which and how
  notified,        // notices went to the emergency contacts
  escalated,       // an escalation was raised; text is its kind
  phone,           // a real call on the centre's SIP line ended; text is its JSON summary
  notice_failed,   // a notice (SMS, call request) could not be delivered; text is JSON
  alert_seen,      // the holder marked a critical alert that joined after acknowledgement seen
  handed_over,     // the incident's holder changed (handover, reassign, take_over); text is JSON
  reopened,        // a resolved incident was reopened (issue 14); text is the reason
  report,          // a responder's field report: JSON {worker_id, areas, notes, hazards}
};

// The operator's call back to the elder (issue 3, 6).
enum class CallbackOutcome { none, fine, needs_help, no_answer };

// How an incident ended (001: 事后做好处置情况记录归档).
enum class Disposition {
  false_alarm, resolved_by_phone, visitor_assisted, ambulance_took,
  fire_brigade, family_handled, not_at_home, device_fault,
};

struct TimelineEntry {
  Millis at_ms = 0;
  TimelineKind kind = TimelineKind::alert;
  std::string actor;              // operator or worker name, device id for alerts, "system"
  AlertId alert = 0;              // for kind == alert
  AlertKind alert_kind = AlertKind::sos;
  std::string text;               // alert detail JSON, note, outcome, disposition
};

// One responder sent to an incident: offered, then accepted (en route), on scene,
// completed; or declined, expired, cancelled.
enum class AssignmentState { offered, accepted, on_scene, completed, declined, expired, cancelled };

struct Assignment {
  std::int64_t id = 0;
  IncidentId incident = 0;
  WorkerId worker = 0;
  AssignmentState state = AssignmentState::offered;
  bool chosen_by_operator = false;
  double eta_s = 0;           // travel estimate when offered
  double distance_m = 0;
  Millis offered_ms = 0;
  Millis expires_ms = 0;      // the offer lapses then
  Millis accepted_ms = 0;
  Millis on_scene_ms = 0;
  Millis completed_ms = 0;
  std::string note;           // decline reason, or completion outcome
  // expires_ms and accepted_ms on Clock::mono_ms(), which the timers go by; in memory only.
  Millis expires_mono = 0, accepted_mono = 0;
  bool active() const {
    return state == AssignmentState::offered || state == AssignmentState::accepted ||
           state == AssignmentState::on_scene;
  }
};

// A call someone must make for the incident: 120, 119, or one step of the family cascade.
enum class CallKind { ambulance_120, fire_119, family };
enum class CallState { pending, answered, no_answer, failed, cancelled };

struct CallTask {
  std::int64_t id = 0;
  IncidentId incident = 0;
  CallKind kind = CallKind::family;
  int contact_index = -1;     // for family calls: which emergency contact
  std::string name, phone;
  CallState state = CallState::pending;
  Millis created_ms = 0;
  Millis due_ms = 0;          // family calls move on to the next contact then
  Millis closed_ms = 0;
  std::string actor;          // who recorded the result
  Millis due_mono = 0;        // due_ms on Clock::mono_ms(), which the timers go by; in memory only
  bool open() const { return state == CallState::pending; }
};

// Flags raised to supervisors (issue 3, 7).
enum class EscalationKind { unacknowledged, unacknowledged_long, visitor_late, no_responder,
                            alert_unseen };  // a critical alert its holder did not mark seen (attention.cpp)

struct Escalation {
  EscalationKind kind = EscalationKind::unacknowledged;
  Millis at_ms = 0;
  WorkerId worker = 0;        // for visitor_late
  bool cleared = false;       // the condition ended (acknowledged, arrived, responder found)
};

// Why an incident sits where it does in the queue: one line per input.
struct RankReason {
  std::string code;   // "kind:smoke", "tier:key", "living:alone", "age:90", "callback:no_answer",
                      // "alerts:3", "waiting"
  int points = 0;
};

// An incident but its timeline: what its row in the file and a delta carry. Copying
// one costs the same however many alerts the incident has gathered (issue 15).
struct IncidentHeader {
  IncidentId id = 0;
  ElderId elder = 0;
  IncidentState state = IncidentState::open;
  Millis opened_ms = 0;
  Millis acknowledged_ms = 0;
  std::string acknowledged_by;
  Millis resolved_ms = 0;
  std::string resolved_by;
  std::string disposition;
  CallbackOutcome callback = CallbackOutcome::none;
  Millis dispatched_ms = 0;   // first offer
  Millis accepted_ms = 0;     // first acceptance
  Millis on_scene_ms = 0;     // first responder on scene
  WorkerId proposed_worker = 0;  // best candidate, proposed for the operator to confirm
  int responders_wanted = 0;     // how many responders dispatch asked for
  int repeats = 0;               // alarms folded into the incident's alerts (an alarm storm)
  int rank_base = 0;          // the event-driven part of the priority; see ranking.hpp
  std::vector<RankReason> rank_reasons;
  std::vector<Assignment> assignments;
  std::vector<CallTask> calls;
  std::vector<Escalation> escalations;
  Millis opened_mono = 0;     // opened_ms on Clock::mono_ms(), which the timers go by; in memory only
  // A critical alert joined after acknowledgement and its holder has not marked it seen
  // (attention.cpp): when it came, 0 when none. Rebuilt from the timeline at restore.
  Millis unseen_alert_ms = 0;
  Millis unseen_alert_mono = 0;  // the same on Clock::mono_ms(); in memory only

  bool is_open() const { return state != IncidentState::resolved; }
  bool has_escalation(EscalationKind kind) const;
  const Assignment* assignment(std::int64_t id) const;
};

struct Incident : IncidentHeader {
  std::vector<TimelineEntry> timeline;

  // The most urgent alert kind so far; the queue shows it.
  AlertKind lead_kind() const;
  Severity severity() const;
  int alert_count() const;
  // A copy without the timeline.
  Incident header() const {
    Incident h;
    static_cast<IncidentHeader&>(h) = *this;
    return h;
  }
};

enum class WorkerRole { nurse, family_doctor, social_worker, volunteer, property_staff, grid_worker };

// 电话 / 线上 / 路遇 / 入户探访 (000 二.(四)2).
enum class VisitMode { phone, online, encounter, home };

// The eight service areas a visit checks (000 二.(三)1-8; 002).
enum class ServiceArea {
  health, home_safety, policy, care_advice, emotional, activities, emergency, green_channel,
};

// A welfare visit, or the report of a responder sent to an incident.
struct Visit {
  std::int64_t id = 0;
  ElderId elder = 0;
  WorkerId worker = 0;
  Millis at_ms = 0;
  VisitMode mode = VisitMode::home;
  std::vector<ServiceArea> areas;
  std::string notes;
  std::string hazards;  // found in the home; must be followed up (000 二.(三)2)
  IncidentId incident = 0;  // when the visit answered an incident
};

enum class TransportMode { walk, ebike, car };

// off duty -> available -> offered -> en route -> on scene -> (completed) available;
// available <-> busy visiting (a welfare visit).
enum class WorkerStatus { off_duty, available, offered, en_route, on_scene, busy_visiting };

struct Worker {
  WorkerId id = 0;
  std::string name;
  std::string phone;
  WorkerRole role = WorkerRole::volunteer;
  std::vector<std::string> skills;
  std::string town;
  bool on_duty = false;       // kept in step with status != off_duty
  WorkerStatus status = WorkerStatus::off_duty;
  TransportMode mode = TransportMode::ebike;
  double lat = 0, lon = 0;
  double accuracy_m = 0;
  Millis position_ms = 0;     // the fix's time by the phone's own clock
  IncidentId incident = 0;    // the incident they are offered or working, 0 for none
  Millis duty_since_ms = 0;   // when this shift began; 0 when off duty
  // When the server received the position, on Clock::mono_ms(); in memory only. Staleness
  // is judged by it: a phone's clock may be hours off.
  Millis received_mono = 0;
};

// --- rules ------------------------------------------------------------------

Severity severity_of(AlertKind kind);
bool device_can_raise(DeviceKind device, AlertKind alert);

// Whole years at `today` (YYYY-MM-DD) for a birth date (YYYY-MM-DD); -1 if malformed.
int age_on(std::string_view birth_date, std::string_view today);

// Masks a national ID for display: 3729**********1234.
std::string mask_id_number(std::string_view id_number);

// --- names on the wire and in the database -----------------------------------
// Each enum has a stable lowercase name; parse_* returns nullopt for unknown text.

std::string_view name_of(Sex);
std::string_view name_of(LivingSituation);
std::string_view name_of(Ability);
std::string_view name_of(EconomicStatus);
std::string_view name_of(CareTier);
std::string_view name_of(DeviceKind);
std::string_view name_of(AlertKind);
std::string_view name_of(IncidentState);
std::string_view name_of(TimelineKind);
std::string_view name_of(WorkerRole);
std::string_view name_of(TransportMode);
std::string_view name_of(WorkerStatus);
std::string_view name_of(CallbackOutcome);
std::string_view name_of(Disposition);
std::string_view name_of(AssignmentState);
std::string_view name_of(CallKind);
std::string_view name_of(CallState);
std::string_view name_of(EscalationKind);
std::string_view name_of(VisitMode);
std::string_view name_of(ServiceArea);

template <class E> std::optional<E> parse_enum(std::string_view text);

}  // namespace anxin
