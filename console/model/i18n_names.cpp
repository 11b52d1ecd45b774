// Display names of the domain's enums and of the rank reasons, in both languages.
#include <array>
#include <string>

#include "i18n_table.hpp"

namespace anxin::console {
namespace {

template <class E>
struct Names;  // for each enum: its values and their texts, in the same order

template <>
struct Names<AlertKind> {
  static constexpr std::array values{AlertKind::sos,        AlertKind::smoke,          AlertKind::gas,
                                     AlertKind::water_leak, AlertKind::fall,           AlertKind::inactivity,
                                     AlertKind::door_open_long, AlertKind::bed_exit_long, AlertKind::vital_abnormal,
                                     AlertKind::geofence_exit, AlertKind::no_water_use, AlertKind::low_battery,
                                     AlertKind::offline,    AlertKind::phone_call};
  static constexpr Text texts[] = {
      {"一键呼叫", "SOS call"},        {"烟雾报警", "Smoke"},
      {"燃气泄漏", "Gas leak"},        {"水浸报警", "Water leak"},
      {"跌倒", "Fall"},                {"长时间静止", "Lying still"},
      {"门长时间未关", "Door left open"}, {"夜间离床过久", "Off bed too long"},
      {"生命体征异常", "Vital signs abnormal"}, {"走失越界", "Left safe zone"},
      {"24小时未用水", "No water use 24 h"}, {"设备电量低", "Low battery"},
      {"设备离线", "Device offline"},  {"电话呼入", "Phone call"},
  };
};

template <>
struct Names<CareTier> {
  static constexpr std::array values{CareTier::key, CareTier::sub_key, CareTier::general};
  static constexpr Text texts[] = {{"重点人群", "Key"}, {"次重点人群", "Sub-key"}, {"一般人群", "General"}};
};

template <>
struct Names<LivingSituation> {
  static constexpr std::array values{LivingSituation::alone, LivingSituation::empty_nest,
                                     LivingSituation::left_behind, LivingSituation::elderly_only,
                                     LivingSituation::with_family};
  static constexpr Text texts[] = {{"独居", "Lives alone"},       {"空巢", "Empty nest"},
                                   {"留守", "Left behind"},       {"纯老家庭", "Elderly-only household"},
                                   {"与家人同住", "With family"}};
};

// 000 二.(三): the eight service areas a visit covers and a hazard belongs to.
template <>
struct Names<ServiceArea> {
  static constexpr std::array values{ServiceArea::health, ServiceArea::home_safety, ServiceArea::policy, ServiceArea::care_advice, ServiceArea::emotional, ServiceArea::activities, ServiceArea::emergency, ServiceArea::green_channel};
  static constexpr Text texts[] = {{"健康管理", "Health"}, {"居家安全", "Home safety"}, {"政策链接", "Policy"}, {"养老顾问", "Care advice"}, {"精神慰藉", "Emotional support"}, {"社区活动", "Community activities"}, {"应急救援", "Emergency rescue"}, {"绿色通道", "Green channel"}};
};

template <>
struct Names<Ability> {
  static constexpr std::array values{Ability::intact, Ability::mild, Ability::moderate, Ability::severe,
                                     Ability::complete};
  static constexpr Text texts[] = {{"能力完好", "Intact"},
                                   {"轻度失能", "Mild loss"},
                                   {"中度失能", "Moderate loss"},
                                   {"重度失能", "Severe loss"},
                                   {"完全失能", "Complete loss"}};
};

template <>
struct Names<EconomicStatus> {
  static constexpr std::array values{EconomicStatus::ordinary, EconomicStatus::subsistence,
                                     EconomicStatus::extreme_poverty, EconomicStatus::near_poverty};
  static constexpr Text texts[] = {{"普通", "Ordinary"},
                                   {"低保", "Subsistence allowance"},
                                   {"特困", "Extreme poverty"},
                                   {"低保边缘", "Near poverty"}};
};

template <>
struct Names<IncidentState> {
  static constexpr std::array values{IncidentState::open, IncidentState::acknowledged, IncidentState::resolved};
  static constexpr Text texts[] = {{"待接警", "Waiting"}, {"处置中", "In hand"}, {"已结案", "Resolved"}};
};

template <>
struct Names<TimelineKind> {
  static constexpr std::array values{
      TimelineKind::alert,    TimelineKind::acknowledged, TimelineKind::resolved,  TimelineKind::note,
      TimelineKind::callback, TimelineKind::offered,      TimelineKind::accepted,  TimelineKind::declined,
      TimelineKind::expired,  TimelineKind::on_scene,     TimelineKind::completed, TimelineKind::cancelled,
      TimelineKind::call,     TimelineKind::notified,     TimelineKind::escalated, TimelineKind::phone,
      TimelineKind::notice_failed, TimelineKind::alert_seen, TimelineKind::reopened, TimelineKind::report,
      TimelineKind::handed_over};
  static constexpr Text texts[] = {
      {"告警", "Alert"},          {"接警", "Acknowledged"},   {"结案", "Resolved"},      {"备注", "Note"},
      {"回访", "Call-back"},      {"派单", "Offered"},        {"接单", "Accepted"},      {"拒单", "Declined"},
      {"派单超时", "Offer lapsed"}, {"到达现场", "On scene"},  {"服务完成", "Completed"}, {"已取消", "Cancelled"},
      {"电话任务", "Call"},        {"已通知联系人", "Contacts notified"}, {"升级提醒", "Escalated"},
      {"电话", "Phone"},          {"通知未送达", "Notice failed"},
      {"已查看新告警", "New alert seen"},
      {"重开", "Reopened"},           {"现场报告", "Field report"},
      {"交接", "Handed over"}};
};

template <>
struct Names<Sex> {
  static constexpr std::array values{Sex::male, Sex::female};
  static constexpr Text texts[] = {{"男", "Male"}, {"女", "Female"}};
};

template <>
struct Names<Severity> {
  static constexpr std::array values{Severity::critical, Severity::high, Severity::medium, Severity::low};
  static constexpr Text texts[] = {{"紧急", "Critical"}, {"高", "High"}, {"中", "Medium"}, {"低", "Low"}};
};

template <>
struct Names<WorkerStatus> {
  static constexpr std::array values{WorkerStatus::off_duty, WorkerStatus::available, WorkerStatus::offered,
                                     WorkerStatus::en_route, WorkerStatus::on_scene, WorkerStatus::busy_visiting};
  static constexpr Text texts[] = {{"下班", "Off duty"}, {"空闲", "Available"}, {"待应答", "Offered"},
                                   {"赶往中", "En route"}, {"在现场", "On scene"}, {"探访中", "Visiting"}};
};

template <>
struct Names<WorkerRole> {
  static constexpr std::array values{WorkerRole::nurse,     WorkerRole::family_doctor,  WorkerRole::social_worker,
                                     WorkerRole::volunteer, WorkerRole::property_staff, WorkerRole::grid_worker};
  static constexpr Text texts[] = {{"护士", "Nurse"},       {"家庭医生", "Family doctor"}, {"社工", "Social worker"},
                                   {"志愿者", "Volunteer"}, {"物业人员", "Property staff"}, {"网格员", "Grid worker"}};
};

template <>
struct Names<TransportMode> {
  static constexpr std::array values{TransportMode::walk, TransportMode::ebike, TransportMode::car};
  static constexpr Text texts[] = {{"步行", "Walk"}, {"电动车", "E-bike"}, {"汽车", "Car"}};
};

template <>
struct Names<AssignmentState> {
  static constexpr std::array values{AssignmentState::offered,   AssignmentState::accepted,
                                     AssignmentState::on_scene,  AssignmentState::completed,
                                     AssignmentState::declined,  AssignmentState::expired,
                                     AssignmentState::cancelled};
  static constexpr Text texts[] = {{"待应答", "Offered"},  {"赶往中", "En route"}, {"在现场", "On scene"},
                                   {"已完成", "Completed"}, {"已拒绝", "Declined"}, {"未应答", "Lapsed"},
                                   {"已撤回", "Stood down"}};
};

template <>
struct Names<CallKind> {
  static constexpr std::array values{CallKind::ambulance_120, CallKind::fire_119, CallKind::family};
  static constexpr Text texts[] = {{"急救 120", "Ambulance 120"}, {"火警 119", "Fire 119"}, {"家属", "Family"}};
};

template <>
struct Names<CallState> {
  static constexpr std::array values{CallState::pending, CallState::answered, CallState::no_answer,
                                     CallState::failed, CallState::cancelled};
  static constexpr Text texts[] = {{"待拨打", "To call"}, {"已接通", "Answered"}, {"无人接听", "No answer"},
                                   {"拨打失败", "Failed"}, {"已取消", "Cancelled"}};
};

template <>
struct Names<EscalationKind> {
  static constexpr std::array values{EscalationKind::unacknowledged, EscalationKind::unacknowledged_long,
                                     EscalationKind::visitor_late, EscalationKind::no_responder,
                                     EscalationKind::alert_unseen};
  static constexpr Text texts[] = {{"超 60 秒未接警", "Not acknowledged in 60 s"},
                                   {"超 180 秒未接警", "Not acknowledged in 180 s"},
                                   {"人员迟到", "Responder late"},
                                   {"无人应答派单", "No responder"},
                                   {"新告警超时未查看", "New alert not seen"}};
};

template <>
struct Names<Disposition> {
  static constexpr std::array values{Disposition::false_alarm,    Disposition::resolved_by_phone,
                                     Disposition::visitor_assisted, Disposition::ambulance_took,
                                     Disposition::fire_brigade,   Disposition::family_handled,
                                     Disposition::not_at_home,    Disposition::device_fault};
  static constexpr Text texts[] = {{"误报", "False alarm"},           {"电话处置", "Resolved by phone"},
                                   {"上门协助", "Visitor assisted"},   {"120 送医", "Taken by ambulance"},
                                   {"消防处置", "Fire brigade"},       {"家属处理", "Family handled it"},
                                   {"老人不在家", "Not at home"},      {"设备故障", "Device fault"}};
};

template <>
struct Names<CallbackOutcome> {
  static constexpr std::array values{CallbackOutcome::none, CallbackOutcome::fine, CallbackOutcome::needs_help,
                                     CallbackOutcome::no_answer};
  static constexpr Text texts[] = {
      {"未回访", "Not called"}, {"平安无事", "Fine"}, {"需要帮助", "Needs help"}, {"无人接听", "No answer"}};
};

template <>
struct Names<DeviceKind> {
  static constexpr std::array values{DeviceKind::sos_button, DeviceKind::smoke,       DeviceKind::gas,
                                     DeviceKind::water_leak, DeviceKind::infrared,    DeviceKind::door,
                                     DeviceKind::bed,        DeviceKind::vital_signs, DeviceKind::geofence,
                                     DeviceKind::water_meter};
  static constexpr Text texts[] = {{"一键通", "SOS button"},   {"烟感", "Smoke alarm"},    {"燃气报警", "Gas alarm"},
                                   {"水浸", "Water sensor"},   {"红外", "Motion sensor"},  {"门磁", "Door sensor"},
                                   {"床垫", "Bed sensor"},     {"体征监测", "Vital signs"}, {"定位手环", "Wearable"},
                                   {"智能水表", "Water meter"}};
};

template <>
struct Names<VisitMode> {
  static constexpr std::array values{VisitMode::phone, VisitMode::online, VisitMode::encounter, VisitMode::home};
  static constexpr Text texts[] = {
      {"电话探访", "Phone"}, {"线上探访", "Online"}, {"路遇探访", "Met on the way"}, {"入户探访", "Home visit"}};
};

template <>
struct Names<Interval> {
  static constexpr std::array values{Interval::to_acknowledge, Interval::to_dispatch, Interval::to_accept,
                                     Interval::to_arrive, Interval::on_scene};
  static constexpr Text texts[] = {{"告警→接警", "Alarm → acknowledged"},
                                   {"接警→派单", "Acknowledged → offered"},
                                   {"派单→接单", "Offered → accepted"},
                                   {"接单→到场", "Accepted → on scene"},
                                   {"到场→结案", "On scene → resolved"}};
};

template <class E>
const char* lookup(Lang lang, E value) {
  static_assert(Names<E>::values.size() == std::size(Names<E>::texts), "one text per value");
  for (size_t i = 0; i < Names<E>::values.size(); ++i)
    if (Names<E>::values[i] == value) return pick(lang, Names<E>::texts[i]);
  return "?";  // a value added to the domain but not here yet
}

template <class E>
void each_name(const std::function<void(const char*)>& each) {
  for (const Text& t : Names<E>::texts) each(t.zh), each(t.en);
}

template <class E>
std::optional<E> value_named(std::string_view name) {
  for (E v : Names<E>::values)
    if (name_of(v) == name) return v;
  return std::nullopt;
}

constexpr Text kReasonAge80{"80岁以上", "Aged 80+"};
constexpr Text kReasonAge90{"90岁以上", "Aged 90+"};
constexpr Text kReasonNoAnswer{"回访无人接听", "No answer on call-back"};
constexpr Text kReasonNeedsHelp{"回访求助", "Asked for help on call-back"};
constexpr Text kReasonWaiting{"等待", "Waiting"};
constexpr Text kReasonAlertsFmt{"%s种告警", "%s alert kinds"};

}  // namespace

const char* tr(Lang l, AlertKind v) { return lookup(l, v); }
const char* tr(Lang l, CareTier v) { return lookup(l, v); }
const char* tr(Lang l, LivingSituation v) { return lookup(l, v); }
const char* tr(Lang l, Ability v) { return lookup(l, v); }
const char* tr(Lang l, EconomicStatus v) { return lookup(l, v); }
const char* tr(Lang l, IncidentState v) { return lookup(l, v); }
const char* tr(Lang l, TimelineKind v) { return lookup(l, v); }
const char* tr(Lang l, Sex v) { return lookup(l, v); }
const char* tr(Lang l, Severity v) { return lookup(l, v); }
const char* tr(Lang l, WorkerStatus v) { return lookup(l, v); }
const char* tr(Lang l, WorkerRole v) { return lookup(l, v); }
const char* tr(Lang l, TransportMode v) { return lookup(l, v); }
const char* tr(Lang l, AssignmentState v) { return lookup(l, v); }
const char* tr(Lang l, CallKind v) { return lookup(l, v); }
const char* tr(Lang l, CallState v) { return lookup(l, v); }
const char* tr(Lang l, EscalationKind v) { return lookup(l, v); }
const char* tr(Lang l, Disposition v) { return lookup(l, v); }
const char* tr(Lang l, CallbackOutcome v) { return lookup(l, v); }
const char* tr(Lang l, DeviceKind v) { return lookup(l, v); }
const char* tr(Lang l, VisitMode v) { return lookup(l, v); }
const char* tr(Lang l, ServiceArea v) { return lookup(l, v); }
const char* tr(Lang l, Interval v) { return lookup(l, v); }

std::string rank_reason(Lang lang, std::string_view code) {
  const auto colon = code.find(':');
  const std::string_view head = code.substr(0, colon);
  const std::string_view tail = colon == std::string_view::npos ? "" : code.substr(colon + 1);
  if (head == "kind") {
    if (auto k = value_named<AlertKind>(tail)) return tr(lang, *k);
  } else if (head == "tier") {
    if (auto t = value_named<CareTier>(tail)) return tr(lang, *t);
  } else if (head == "living") {
    if (auto l = value_named<LivingSituation>(tail)) return tr(lang, *l);
  } else if (head == "age") {
    if (tail == "80") return pick(lang, kReasonAge80);
    if (tail == "90") return pick(lang, kReasonAge90);
  } else if (head == "callback") {
    if (tail == "no_answer") return pick(lang, kReasonNoAnswer);
    if (tail == "needs_help") return pick(lang, kReasonNeedsHelp);
  } else if (head == "waiting") {
    return pick(lang, kReasonWaiting);
  } else if (head == "alerts") {
    std::string s = pick(lang, kReasonAlertsFmt);
    s.replace(s.find("%s"), 2, tail);
    return s;
  }
  return std::string(code);
}

void for_each_text(const std::function<void(const char*)>& each) {
  for_each_message(each);
  each_name<AlertKind>(each);
  each_name<CareTier>(each);
  each_name<LivingSituation>(each);
  each_name<Ability>(each);
  each_name<EconomicStatus>(each);
  each_name<IncidentState>(each);
  each_name<TimelineKind>(each);
  each_name<Sex>(each);
  each_name<Severity>(each);
  each_name<WorkerStatus>(each);
  each_name<WorkerRole>(each);
  each_name<TransportMode>(each);
  each_name<AssignmentState>(each);
  each_name<CallKind>(each);
  each_name<CallState>(each);
  each_name<EscalationKind>(each);
  each_name<Disposition>(each);
  each_name<CallbackOutcome>(each);
  each_name<DeviceKind>(each);
  each_name<VisitMode>(each);
  each_name<ServiceArea>(each);
  each_name<Interval>(each);
  for (Text t : {kReasonAge80, kReasonAge90, kReasonNoAnswer, kReasonNeedsHelp, kReasonWaiting, kReasonAlertsFmt})
    each(t.zh), each(t.en);
}

}  // namespace anxin::console
