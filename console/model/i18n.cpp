#include "i18n.hpp"

#include <array>
#include <utility>

namespace anxin::console {
namespace {

struct Text {
  const char* zh;
  const char* en;
};

const char* pick(Lang lang, Text t) { return lang == Lang::zh ? t.zh : t.en; }

// Rows in the order of Msg.
constexpr Text kMessages[] = {
    {"安心", "Anxin"},
    {"连接中", "Connecting"},
    {"认证中", "Authenticating"},
    {"已同步", "Synced"},
    {"已断开", "Disconnected"},
    {"重新同步中", "Resynchronising"},
    {"重新连接中 · 以下为断线前的数据", "Reconnecting · showing data from before the drop"},
    {"正在重新同步数据", "Resynchronising with the server"},
    {"值班员", "Operator"},
    {"服务器时间", "Server time"},
    {"待接警", "Open"},
    {"已接警", "Acknowledged"},
    {"English", "中文"},
    {"实时警情", "Live incidents"},
    {"暂无未处置警情", "No open incidents"},
    {"老人", "Elder"},
    {"人群", "Tier"},
    {"告警", "Alert"},
    {"镇街", "Town"},
    {"状态", "State"},
    {"等待", "Waiting"},
    {"请在左侧选择一条警情", "Select an incident on the left"},
    {"该警情已处置，不在队列中", "This incident is resolved and no longer in the queue"},
    {"警情", "Incident"},
    {"发生于", "Opened"},
    {"确认接警", "Acknowledge"},
    {"正在发送…", "Sending…"},
    {"已确认接警", "Acknowledged"},
    {"服务器拒绝", "Refused by server"},
    {"连接中断，未收到答复", "Connection lost before a reply"},
    {"未连接，无法发送", "Not connected; nothing was sent"},
    {"接警人", "Acknowledged by"},
    {"老人信息", "Elder"},
    {"性别", "Sex"},
    {"年龄", "Age"},
    {"岁", " years"},
    {"人群分类", "Care tier"},
    {"居住状况", "Living situation"},
    {"能力评估", "Ability"},
    {"未评估", "Not assessed"},
    {"残疾等级", "Disability grade"},
    {"", "Grade "},
    {"级", ""},
    {"无", "None"},
    {"失智", "Dementia"},
    {"计生特殊家庭", "Special family"},
    {"经济状况", "Economic status"},
    {"地址", "Address"},
    {"电话", "Phone"},
    {"身份证号", "ID number"},
    {"紧急联系人", "Emergency contacts"},
    {"姓名", "Name"},
    {"关系", "Relation"},
    {"家庭医生", "Family doctor"},
    {"结对帮扶", "Paired worker"},
    {"入户探访", "Home visits"},
    {"是", "Yes"},
    {"否", "No"},
    {"已同意", "Consent given"},
    {"未同意", "No consent"},
    {"告警时间线", "Timeline"},
    {"时间", "Time"},
    {"事件", "Event"},
    {"来源", "Actor"},
    {"详情", "Detail"},
};
static_assert(std::size(kMessages) == static_cast<size_t>(Msg::count_), "one row per Msg");

template <class E>
struct Names;  // for each enum: its values and their texts, in the same order

template <>
struct Names<AlertKind> {
  static constexpr std::array values{AlertKind::sos,        AlertKind::smoke,          AlertKind::gas,
                                     AlertKind::water_leak, AlertKind::fall,           AlertKind::inactivity,
                                     AlertKind::door_open_long, AlertKind::bed_exit_long, AlertKind::vital_abnormal,
                                     AlertKind::geofence_exit, AlertKind::no_water_use, AlertKind::low_battery,
                                     AlertKind::offline};
  static constexpr Text texts[] = {
      {"一键呼叫", "SOS call"},        {"烟雾报警", "Smoke"},
      {"燃气泄漏", "Gas leak"},        {"水浸报警", "Water leak"},
      {"跌倒", "Fall"},                {"长时间静止", "Lying still"},
      {"门长时间未关", "Door left open"}, {"夜间离床过久", "Off bed too long"},
      {"生命体征异常", "Vital signs abnormal"}, {"走失越界", "Left safe zone"},
      {"24小时未用水", "No water use 24 h"}, {"设备电量低", "Low battery"},
      {"设备离线", "Device offline"},
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
  static constexpr Text texts[] = {{"待接警", "Open"}, {"已接警", "Acknowledged"}, {"已处置", "Resolved"}};
};

template <>
struct Names<TimelineKind> {
  static constexpr std::array values{
      TimelineKind::alert,    TimelineKind::acknowledged, TimelineKind::resolved,  TimelineKind::note,
      TimelineKind::callback, TimelineKind::offered,      TimelineKind::accepted,  TimelineKind::declined,
      TimelineKind::expired,  TimelineKind::on_scene,     TimelineKind::completed, TimelineKind::cancelled,
      TimelineKind::call,     TimelineKind::notified,     TimelineKind::escalated};
  static constexpr Text texts[] = {
      {"告警", "Alert"},          {"接警", "Acknowledged"},   {"处置", "Resolved"},      {"备注", "Note"},
      {"回访", "Call-back"},      {"派单", "Offered"},        {"接单", "Accepted"},      {"拒单", "Declined"},
      {"派单超时", "Offer expired"}, {"到达现场", "On scene"},  {"服务完成", "Completed"}, {"已取消", "Cancelled"},
      {"电话任务", "Call task"},   {"已通知联系人", "Contacts notified"}, {"升级提醒", "Escalated"}};
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

}  // namespace

std::optional<Lang> parse_lang(std::string_view text) {
  if (text == "zh" || text == "zh-CN") return Lang::zh;
  if (text == "en") return Lang::en;
  return std::nullopt;
}

const char* tr(Lang lang, Msg m) { return pick(lang, kMessages[static_cast<size_t>(m)]); }
const char* tr(Lang lang, AlertKind v) { return lookup(lang, v); }
const char* tr(Lang lang, CareTier v) { return lookup(lang, v); }
const char* tr(Lang lang, LivingSituation v) { return lookup(lang, v); }
const char* tr(Lang lang, Ability v) { return lookup(lang, v); }
const char* tr(Lang lang, EconomicStatus v) { return lookup(lang, v); }
const char* tr(Lang lang, IncidentState v) { return lookup(lang, v); }
const char* tr(Lang lang, TimelineKind v) { return lookup(lang, v); }
const char* tr(Lang lang, Sex v) { return lookup(lang, v); }
const char* tr(Lang lang, Severity v) { return lookup(lang, v); }

void for_each_text(const std::function<void(const char*)>& each) {
  for (const Text& t : kMessages) each(t.zh), each(t.en);
  each_name<AlertKind>(each);
  each_name<CareTier>(each);
  each_name<LivingSituation>(each);
  each_name<Ability>(each);
  each_name<EconomicStatus>(each);
  each_name<IncidentState>(each);
  each_name<TimelineKind>(each);
  each_name<Sex>(each);
  each_name<Severity>(each);
}

}  // namespace anxin::console
