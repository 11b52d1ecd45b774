#include "anxin/core/domain.hpp"

#include "anxin/core/notifier.hpp"  // its enums are named with the rest

#include <algorithm>
#include <array>
#include <charconv>

namespace anxin {

// Life and property first (000 二.(三)7 应急救援: 突发疾病、居家环境出现重大安全问题),
// then conditions that may hide a fall or a wandering elder, then the home, then the
// device itself.
Severity severity_of(AlertKind kind) {
  switch (kind) {
    case AlertKind::smoke:
    case AlertKind::gas:
    case AlertKind::sos:
    case AlertKind::fall:
    case AlertKind::phone_call:  // a person is on the line to the emergency centre
      return Severity::critical;
    case AlertKind::inactivity:
    case AlertKind::vital_abnormal:
    case AlertKind::geofence_exit:
      return Severity::high;
    case AlertKind::water_leak:
    case AlertKind::door_open_long:
    case AlertKind::bed_exit_long:
    case AlertKind::no_water_use:
      return Severity::medium;
    case AlertKind::low_battery:
    case AlertKind::offline:
      return Severity::low;
  }
  return Severity::low;
}

bool device_can_raise(DeviceKind device, AlertKind alert) {
  if (alert == AlertKind::low_battery || alert == AlertKind::offline) return true;
  switch (device) {
    case DeviceKind::sos_button: return alert == AlertKind::sos;
    case DeviceKind::smoke: return alert == AlertKind::smoke;
    case DeviceKind::gas: return alert == AlertKind::gas;
    case DeviceKind::water_leak: return alert == AlertKind::water_leak;
    case DeviceKind::infrared: return alert == AlertKind::fall || alert == AlertKind::inactivity;
    case DeviceKind::door: return alert == AlertKind::door_open_long;
    case DeviceKind::bed: return alert == AlertKind::bed_exit_long;
    case DeviceKind::vital_signs: return alert == AlertKind::vital_abnormal;
    case DeviceKind::geofence: return alert == AlertKind::geofence_exit || alert == AlertKind::sos;
    case DeviceKind::water_meter: return alert == AlertKind::no_water_use;
  }
  // phone_call comes only from the SIP line (Dispatcher::phone_in), never from a frame.
  return false;
}

AlertKind Incident::lead_kind() const {
  std::optional<AlertKind> lead;
  for (const auto& e : timeline) {
    if (e.kind != TimelineKind::alert) continue;
    if (!lead || severity_of(e.alert_kind) < severity_of(*lead)) lead = e.alert_kind;
  }
  return lead.value_or(AlertKind::sos);
}

Severity Incident::severity() const { return severity_of(lead_kind()); }

bool IncidentHeader::has_escalation(EscalationKind kind) const {
  return std::any_of(escalations.begin(), escalations.end(), [&](const auto& e) { return e.kind == kind; });
}

const Assignment* IncidentHeader::assignment(std::int64_t id) const {
  for (const auto& a : assignments)
    if (a.id == id) return &a;
  return nullptr;
}

int Incident::alert_count() const {
  return static_cast<int>(std::count_if(timeline.begin(), timeline.end(), [](const auto& e) {
    return e.kind == TimelineKind::alert;
  }));
}

namespace {

bool parse_date(std::string_view s, int& y, int& m, int& d) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  auto num = [&](size_t at, size_t len, int& out) {
    auto r = std::from_chars(s.data() + at, s.data() + at + len, out);
    return r.ec == std::errc() && r.ptr == s.data() + at + len;
  };
  return num(0, 4, y) && num(5, 2, m) && num(8, 2, d) && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

}  // namespace

int age_on(std::string_view birth_date, std::string_view today) {
  int by, bm, bd, ty, tm, td;
  if (!parse_date(birth_date, by, bm, bd) || !parse_date(today, ty, tm, td)) return -1;
  int age = ty - by;
  if (tm < bm || (tm == bm && td < bd)) --age;
  return age;
}

std::string mask_id_number(std::string_view id) {
  if (id.size() <= 8) return std::string(id.size(), '*');
  std::string out(id.substr(0, 4));
  out.append(id.size() - 8, '*');
  out.append(id.substr(id.size() - 4));
  return out;
}

// --- names -------------------------------------------------------------------

namespace {

template <class E> struct Names;
template <> struct Names<Sex> {
  static constexpr std::array v{"male", "female"};
};
template <> struct Names<LivingSituation> {
  static constexpr std::array v{"alone", "empty_nest", "left_behind", "elderly_only", "with_family"};
};
template <> struct Names<Ability> {
  static constexpr std::array v{"intact", "mild", "moderate", "severe", "complete"};
};
template <> struct Names<EconomicStatus> {
  static constexpr std::array v{"ordinary", "subsistence", "extreme_poverty", "near_poverty"};
};
template <> struct Names<CareTier> {
  static constexpr std::array v{"key", "sub_key", "general"};
};
template <> struct Names<DeviceKind> {
  static constexpr std::array v{"sos_button", "smoke", "gas", "water_leak", "infrared",
                                "door", "bed", "vital_signs", "geofence", "water_meter"};
};
template <> struct Names<AlertKind> {
  static constexpr std::array v{"sos", "smoke", "gas", "water_leak", "fall",
                                "inactivity", "door_open_long", "bed_exit_long",
                                "vital_abnormal", "geofence_exit", "no_water_use",
                                "low_battery", "offline", "phone_call"};
};
template <> struct Names<IncidentState> {
  static constexpr std::array v{"open", "acknowledged", "resolved"};
};
template <> struct Names<TimelineKind> {
  static constexpr std::array v{"alert", "acknowledged", "resolved", "note", "callback",
                                "offered", "accepted", "declined", "expired", "on_scene",
                                "completed", "cancelled", "call", "notified", "escalated", "phone",
                                "notice_failed", "alert_seen", "handed_over",
                                "reopened", "report"};
};
template <> struct Names<WorkerStatus> {
  static constexpr std::array v{"off_duty", "available", "offered", "en_route", "on_scene",
                                "busy_visiting"};
};
template <> struct Names<CallbackOutcome> {
  static constexpr std::array v{"none", "fine", "needs_help", "no_answer"};
};
template <> struct Names<Disposition> {
  static constexpr std::array v{"false_alarm", "resolved_by_phone", "visitor_assisted",
                                "ambulance_took", "fire_brigade", "family_handled",
                                "not_at_home", "device_fault"};
};
template <> struct Names<AssignmentState> {
  static constexpr std::array v{"offered", "accepted", "on_scene", "completed", "declined",
                                "expired", "cancelled"};
};
template <> struct Names<CallKind> {
  static constexpr std::array v{"ambulance_120", "fire_119", "family"};
};
template <> struct Names<CallState> {
  static constexpr std::array v{"pending", "answered", "no_answer", "failed", "cancelled"};
};
template <> struct Names<EscalationKind> {
  static constexpr std::array v{"unacknowledged", "unacknowledged_long", "visitor_late",
                                "no_responder", "alert_unseen"};
};
template <> struct Names<VisitMode> {
  static constexpr std::array v{"phone", "online", "encounter", "home"};
};
template <> struct Names<ServiceArea> {
  static constexpr std::array v{"health", "home_safety", "policy", "care_advice", "emotional",
                                "activities", "emergency", "green_channel"};
};
template <> struct Names<TransportMode> {
  static constexpr std::array v{"walk", "ebike", "car"};
};
template <> struct Names<WorkerRole> {
  static constexpr std::array v{"nurse", "family_doctor", "social_worker",
                                "volunteer", "property_staff", "grid_worker"};
};
template <> struct Names<NoticeKind> {
  static constexpr std::array v{"contact_sms", "family_call", "ambulance_120", "fire_119"};
};
template <> struct Names<NoticeState> {
  static constexpr std::array v{"pending", "delivered", "failed", "cancelled"};
};

template <class E> std::string_view lookup(E e) {
  auto i = static_cast<size_t>(e);
  return i < Names<E>::v.size() ? std::string_view(Names<E>::v[i]) : std::string_view("?");
}

}  // namespace

std::string_view name_of(Sex e) { return lookup(e); }
std::string_view name_of(LivingSituation e) { return lookup(e); }
std::string_view name_of(Ability e) { return lookup(e); }
std::string_view name_of(EconomicStatus e) { return lookup(e); }
std::string_view name_of(CareTier e) { return lookup(e); }
std::string_view name_of(DeviceKind e) { return lookup(e); }
std::string_view name_of(AlertKind e) { return lookup(e); }
std::string_view name_of(IncidentState e) { return lookup(e); }
std::string_view name_of(TimelineKind e) { return lookup(e); }
std::string_view name_of(WorkerRole e) { return lookup(e); }
std::string_view name_of(WorkerStatus e) { return lookup(e); }
std::string_view name_of(CallbackOutcome e) { return lookup(e); }
std::string_view name_of(Disposition e) { return lookup(e); }
std::string_view name_of(AssignmentState e) { return lookup(e); }
std::string_view name_of(CallKind e) { return lookup(e); }
std::string_view name_of(CallState e) { return lookup(e); }
std::string_view name_of(EscalationKind e) { return lookup(e); }
std::string_view name_of(VisitMode e) { return lookup(e); }
std::string_view name_of(ServiceArea e) { return lookup(e); }
std::string_view name_of(NoticeKind e) { return lookup(e); }
std::string_view name_of(NoticeState e) { return lookup(e); }

template <class E> std::optional<E> parse_enum(std::string_view text) {
  const auto& names = Names<E>::v;
  for (size_t i = 0; i < names.size(); ++i)
    if (text == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

template std::optional<Sex> parse_enum(std::string_view);
template std::optional<LivingSituation> parse_enum(std::string_view);
template std::optional<Ability> parse_enum(std::string_view);
template std::optional<EconomicStatus> parse_enum(std::string_view);
template std::optional<CareTier> parse_enum(std::string_view);
template std::optional<DeviceKind> parse_enum(std::string_view);
template std::optional<AlertKind> parse_enum(std::string_view);
template std::optional<IncidentState> parse_enum(std::string_view);
template std::optional<TimelineKind> parse_enum(std::string_view);
template std::optional<WorkerRole> parse_enum(std::string_view);
template std::optional<WorkerStatus> parse_enum(std::string_view);
template std::optional<CallbackOutcome> parse_enum(std::string_view);
template std::optional<Disposition> parse_enum(std::string_view);
template std::optional<AssignmentState> parse_enum(std::string_view);
template std::optional<CallKind> parse_enum(std::string_view);
template std::optional<CallState> parse_enum(std::string_view);
template std::optional<EscalationKind> parse_enum(std::string_view);
template std::optional<TransportMode> parse_enum(std::string_view);
template std::optional<VisitMode> parse_enum(std::string_view);
template std::optional<ServiceArea> parse_enum(std::string_view);
template std::optional<NoticeKind> parse_enum(std::string_view);
template std::optional<NoticeState> parse_enum(std::string_view);

}  // namespace anxin
