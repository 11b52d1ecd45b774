// The labels. Operators read these for twelve hours a night: short, plain words,
// the terms of the service centres' own documents (接警, 派单, 回访, 处置).
#include <array>

#include "i18n_table.hpp"

namespace anxin::console {
namespace {

struct Row {
  Msg key;
  Text text;
};

// Rows in the order of Msg.
constexpr Row kMessages[] = {
    {Msg::app_name, {"安心", "Anxin"}},
    // connection and status bar
    {Msg::conn_connecting, {"连接中", "Connecting"}},
    {Msg::conn_authenticating, {"登录中", "Signing in"}},
    {Msg::conn_synced, {"已同步", "Synced"}},
    {Msg::conn_disconnected, {"已断开", "Disconnected"}},
    {Msg::conn_resyncing, {"重新同步中", "Resynchronising"}},
    {Msg::banner_reconnecting, {"重新连接中 · 以下为断线前的数据", "Reconnecting · showing data from before the drop"}},
    {Msg::banner_stale, {"正在重新同步数据", "Resynchronising with the server"}},
    {Msg::operator_label, {"值班员", "Operator"}},
    {Msg::supervisor_label, {"值班长", "Supervisor"}},
    {Msg::server_time, {"服务器时间", "Server time"}},
    {Msg::count_open, {"待接警", "Waiting"}},
    {Msg::count_acknowledged, {"处置中", "In hand"}},
    {Msg::count_escalated, {"升级提醒", "Escalations"}},
    {Msg::other_language, {"English", "中文"}},
    {Msg::logout, {"退出登录", "Sign out"}},
    // views
    {Msg::view_queue, {"警情队列", "Queue"}},
    {Msg::view_incident, {"警情处置", "Incident"}},
    {Msg::view_map, {"地图", "Map"}},
    {Msg::view_workers, {"人员", "Workers"}},
    {Msg::view_dashboard, {"值班统计", "Dashboard"}},
    // queue
    {Msg::queue_title, {"实时警情", "Live incidents"}},
    {Msg::queue_empty, {"暂无未处置警情", "No open incidents"}},
    {Msg::queue_no_match, {"没有符合筛选条件的警情", "No incident matches the filters"}},
    {Msg::shown_of_fmt, {"显示 %zu / %zu", "%zu of %zu"}},
    {Msg::col_score, {"优先分", "Score"}},
    {Msg::col_elder, {"老人", "Elder"}},
    {Msg::col_tier, {"人群", "Tier"}},
    {Msg::col_alert, {"告警", "Alert"}},
    {Msg::col_town, {"镇街", "Town"}},
    {Msg::col_state, {"状态", "State"}},
    {Msg::col_waiting, {"等待", "Waiting"}},
    {Msg::col_sla, {"接警时限", "To 60 s"}},
    {Msg::filter_all_towns, {"全部镇街", "All towns"}},
    {Msg::filter_all_kinds, {"全部告警", "All alerts"}},
    {Msg::search_hint, {"搜索 姓名 / 地址 / 电话 / 设备", "Search name / address / phone / device"}},
    {Msg::clear_filters, {"清除", "Clear"}},
    {Msg::new_top_banner, {"新的最高优先级警情", "New top-priority incident"}},
    {Msg::keys_hint,
     {"↑↓ 选择   Enter 打开   Esc 返回   A 接警   D 派单   R 处置   C 回访   N 备注   F1–F5 切换",
      "↑↓ select   Enter open   Esc back   A acknowledge   D dispatch   R resolve   C call back   N note   F1–F5 views"}},
    // incident workspace
    {Msg::incident_none_selected, {"请在队列中选择一条警情", "Select an incident in the queue"}},
    {Msg::incident_gone, {"该警情已处置，不在队列中", "This incident is resolved and no longer in the queue"}},
    {Msg::incident_label, {"警情", "Incident"}},
    {Msg::opened_at, {"发生于", "Opened"}},
    {Msg::acknowledge, {"接警", "Acknowledge"}},
    {Msg::acknowledged_by, {"接警人", "Acknowledged by"}},
    {Msg::key_hint_fmt, {"%s  [%c]", "%s  [%c]"}},
    {Msg::sla_title, {"接警时限", "Acknowledge within"}},
    {Msg::sla_left_fmt, {"%s时限 剩 %s", "%s: %s left"}},
    {Msg::sla_over_fmt, {"已超%s %s", "%s exceeded by %s"}},
    {Msg::sla_met_fmt, {"%s内接警（用时 %s）", "Acknowledged within %s (%s)"}},
    {Msg::sla_missed_fmt, {"接警超过%s（用时 %s）", "Acknowledged after %s (%s)"}},
    {Msg::rank_title, {"优先级构成", "Priority"}},
    {Msg::rank_total, {"合计", "Total"}},
    {Msg::callback_title, {"回访老人", "Call back"}},
    {Msg::callback_none, {"尚未回访", "Not called back yet"}},
    {Msg::dispatch_title, {"可派人员", "Who can go"}},
    {Msg::dispatch_best, {"派最近人员", "Dispatch best"}},
    {Msg::dispatch_two, {"派两人", "Two responders"}},
    {Msg::dispatch_row, {"派单", "Dispatch"}},
    {Msg::refresh, {"刷新", "Refresh"}},
    {Msg::candidates_none, {"暂无可派人员", "Nobody available"}},
    {Msg::candidates_loading, {"正在查询…", "Asking…"}},
    {Msg::col_name, {"姓名", "Name"}},
    {Msg::col_role, {"身份", "Role"}},
    {Msg::col_mode, {"交通", "Transport"}},
    {Msg::col_distance, {"距离", "Distance"}},
    {Msg::col_eta, {"预计到达", "ETA"}},
    {Msg::col_flags, {"备注", "Notes"}},
    {Msg::paired, {"结对", "paired"}},
    {Msg::stale, {"位置过旧", "stale"}},
    {Msg::preferred_role, {"非首选", "not preferred"}},
    {Msg::proposed_fmt, {"建议派遣：%s", "Proposed: %s"}},
    {Msg::confirm_proposed, {"确认派遣", "Confirm"}},
    {Msg::responders_title, {"出警人员", "Responders"}},
    {Msg::responders_none, {"尚未派单", "Nobody sent yet"}},
    {Msg::offer_expires_fmt, {"%s 后超时", "lapses in %s"}},
    {Msg::responders_wanted_fmt, {"需要 %d 人", "%d wanted"}},
    {Msg::calls_title, {"电话任务", "Calls"}},
    {Msg::call_120, {"呼叫 120", "Call 120"}},
    {Msg::call_119, {"呼叫 119", "Call 119"}},
    {Msg::call_family, {"联系家属", "Call family"}},
    {Msg::call_contact, {"呼叫", "Call"}},
    {Msg::calls_none, {"暂无电话任务", "No calls"}},
    {Msg::col_contact, {"联系人", "Contact"}},
    {Msg::next_contact_fmt, {"%s 后转下一位", "next contact in %s"}},
    {Msg::note_title, {"备注", "Note"}},
    {Msg::note_hint, {"输入备注，回车保存", "Type a note, Enter saves"}},
    {Msg::add_note, {"添加", "Add"}},
    {Msg::resolve, {"处置结案", "Resolve"}},
    {Msg::resolve_title, {"处置结果", "How did it end?"}},
    {Msg::resolve_note_hint, {"结案说明（可选）", "Closing note (optional)"}},
    {Msg::confirm, {"确认结案", "Resolve"}},
    {Msg::cancel, {"取消", "Cancel"}},
    // a request's fate
    {Msg::req_sending, {"发送中…", "sending…"}},
    {Msg::req_ok, {"已完成", "done"}},
    {Msg::req_refused, {"被拒绝", "refused"}},
    {Msg::req_no_reply, {"连接中断，未收到答复", "connection lost before a reply"}},
    {Msg::req_not_sent, {"未连接，未发送", "not connected; not sent"}},
    {Msg::act_acknowledge, {"接警", "Acknowledge"}},
    {Msg::act_callback, {"回访", "Call-back"}},
    {Msg::act_dispatch, {"派单", "Dispatch"}},
    {Msg::act_call, {"电话任务", "Call"}},
    {Msg::act_call_result, {"通话结果", "Call result"}},
    {Msg::act_note, {"备注", "Note"}},
    {Msg::act_resolve, {"结案", "Resolve"}},
    // elder card
    {Msg::elder_card, {"老人信息", "Elder"}},
    {Msg::sex, {"性别", "Sex"}},
    {Msg::age, {"年龄", "Age"}},
    {Msg::years_old, {"岁", ""}},
    {Msg::tier, {"人群分类", "Care tier"}},
    {Msg::living, {"居住状况", "Living"}},
    {Msg::ability, {"能力评估", "Ability"}},
    {Msg::not_assessed, {"未评估", "Not assessed"}},
    {Msg::disability_grade, {"残疾等级", "Disability"}},
    {Msg::grade_fmt, {"%d级", "Grade %d"}},
    {Msg::none, {"无", "None"}},
    {Msg::dementia, {"失智", "Dementia"}},
    {Msg::special_family, {"计生特殊家庭", "Special family"}},
    {Msg::economic, {"经济状况", "Economic"}},
    {Msg::address, {"地址", "Address"}},
    {Msg::phone, {"电话", "Phone"}},
    {Msg::id_number, {"身份证号", "ID number"}},
    {Msg::contacts, {"紧急联系人", "Emergency contacts"}},
    {Msg::contact_name, {"姓名", "Name"}},
    {Msg::contact_relation, {"关系", "Relation"}},
    {Msg::family_doctor, {"家庭医生", "Family doctor"}},
    {Msg::paired_worker, {"结对帮扶", "Paired visitor"}},
    {Msg::visit_consent, {"入户探访", "Home visits"}},
    {Msg::yes, {"是", "Yes"}},
    {Msg::no, {"否", "No"}},
    {Msg::consent_given, {"已同意", "Consent given"}},
    {Msg::consent_missing, {"未同意", "No consent"}},
    {Msg::devices_title, {"设备", "Devices"}},
    {Msg::col_device, {"编号", "Serial"}},
    {Msg::col_kind, {"类型", "Kind"}},
    {Msg::col_battery, {"电量", "Battery"}},
    {Msg::col_last_seen, {"最近在线", "Last seen"}},
    {Msg::history_title, {"既往警情", "Past incidents"}},
    {Msg::visits_title, {"探访记录", "Visits"}},
    {Msg::history_unavailable, {"服务器暂不提供设备与历史记录", "The server does not offer devices and history yet"}},
    {Msg::loading, {"加载中…", "Loading…"}},
    {Msg::col_disposition, {"处置结果", "Outcome"}},
    {Msg::col_worker, {"人员", "Worker"}},
    {Msg::col_summary, {"情况", "Summary"}},
    {Msg::still_open, {"处置中", "open"}},
    // timeline
    {Msg::timeline, {"处置记录", "Timeline"}},
    {Msg::col_time, {"时间", "Time"}},
    {Msg::col_event, {"事件", "Event"}},
    {Msg::col_actor, {"来源", "By"}},
    {Msg::col_detail, {"详情", "Detail"}},
    // map
    {Msg::map_fit, {"全部显示", "Fit all"}},
    {Msg::map_hint, {"拖动平移 · 滚轮缩放 · 点击选择警情", "Drag to pan · wheel to zoom · click to select"}},
    {Msg::map_no_data, {"暂无位置数据", "No positions yet"}},
    {Msg::legend_homes, {"住户", "Homes"}},
    {Msg::legend_incidents, {"警情", "Incidents"}},
    {Msg::legend_workers, {"人员", "Workers"}},
    // workers
    {Msg::workers_title, {"服务人员", "Field workers"}},
    {Msg::col_status, {"状态", "Status"}},
    {Msg::col_position_age, {"位置更新", "Position"}},
    {Msg::col_task, {"当前任务", "Current task"}},
    {Msg::col_shift, {"上岗", "On duty since"}},
    {Msg::on_duty_only, {"只看在岗", "On duty only"}},
    {Msg::age_now, {"刚刚", "just now"}},
    {Msg::age_min_fmt, {"%d 分钟前", "%d min ago"}},
    {Msg::age_hour_fmt, {"%d 小时前", "%d h ago"}},
    {Msg::age_never, {"无位置", "no position"}},
    // dashboard
    {Msg::dash_queue_depth, {"队列中", "In queue"}},
    {Msg::dash_unacknowledged, {"待接警", "Waiting"}},
    {Msg::dash_oldest, {"最久等待", "Longest wait"}},
    {Msg::dash_ack_60, {"60 秒内接警", "Acknowledged within 60 s"}},
    {Msg::dash_ack_180, {"180 秒内接警", "Acknowledged within 180 s"}},
    {Msg::dash_target_fmt, {"目标 %.1f%%", "target %.1f%%"}},
    {Msg::dash_of_fmt, {"%zu / %zu 起", "%zu of %zu"}},
    {Msg::dash_intervals, {"响应时长（今日）", "Response intervals today"}},
    {Msg::col_interval, {"环节", "Interval"}},
    {Msg::col_count, {"次数", "Count"}},
    {Msg::col_p50, {"中位数", "p50"}},
    {Msg::col_p90, {"90分位", "p90"}},
    {Msg::dash_per_hour, {"每小时警情（今日）", "Incidents per hour today"}},
    {Msg::dash_per_operator, {"值班员工作量（今日）", "Operator load today"}},
    {Msg::col_operator, {"值班员", "Operator"}},
    {Msg::col_acknowledged, {"接警", "Acknowledged"}},
    {Msg::col_resolved, {"结案", "Resolved"}},
    {Msg::col_open, {"处置中", "Open"}},
    {Msg::dash_escalations, {"升级提醒", "Active escalations"}},
    {Msg::dash_export, {"导出 CSV", "Export CSV"}},
    {Msg::dash_exported, {"已导出", "Exported"}},
    {Msg::dash_export_failed, {"导出失败", "Export failed"}},
    {Msg::dash_waiting_metrics, {"正在获取今日统计…", "Fetching today's figures…"}},
    {Msg::dash_updated_fmt, {"%s 更新", "updated %s"}},
    {Msg::dash_load_from_queue, {"（按当前队列统计）", "(from the live queue)"}},
    {Msg::dash_no_escalations, {"无", "None"}},
    // login
    {Msg::login_title, {"安心 · 值班登录", "Anxin · Sign in"}},
    {Msg::login_username, {"用户名", "User name"}},
    {Msg::login_password, {"密码", "Password"}},
    {Msg::login_server, {"服务器", "Server"}},
    {Msg::login_language, {"语言", "Language"}},
    {Msg::login_submit, {"登录", "Sign in"}},
    {Msg::login_signing_in, {"正在登录…", "Signing in…"}},
    {Msg::login_failed, {"登录失败", "Sign-in failed"}},
    {Msg::seconds_unit, {"秒", " s"}},
    {Msg::device_never, {"从未上线", "never"}},
    {Msg::login_wrong, {"用户名或密码错误", "Wrong user name or password"}},
    {Msg::actor_system, {"系统", "system"}},
    {Msg::cascade_exhausted, {"联系人已全部拨打", "every contact tried"}},
    {Msg::notified_fmt, {"短信通知 %s 位联系人", "SMS to %s contacts"}},
};

constexpr bool rows_in_order() {
  for (size_t i = 0; i < std::size(kMessages); ++i)
    if (static_cast<size_t>(kMessages[i].key) != i) return false;
  return std::size(kMessages) == static_cast<size_t>(Msg::count_);
}
static_assert(rows_in_order(), "kMessages must hold one row per Msg, in the order of Msg");

}  // namespace

std::optional<Lang> parse_lang(std::string_view text) {
  if (text == "zh" || text == "zh-CN") return Lang::zh;
  if (text == "en") return Lang::en;
  return std::nullopt;
}

const char* lang_name(Lang lang) { return lang == Lang::zh ? "中文" : "English"; }

const char* tr(Lang lang, Msg m) { return pick(lang, kMessages[static_cast<size_t>(m)].text); }

void for_each_message(const std::function<void(const char*)>& each) {
  for (const Row& r : kMessages) each(r.text.zh), each(r.text.en);
}

}  // namespace anxin::console
