// The console's words in Simplified Chinese and English: every label the views
// draw and a display name for every domain enum. Pure data, no ImGui, so the
// table can be checked headless and scanned for the glyphs the font must hold.
// Labels are in i18n.cpp, domain names and rank reasons in i18n_names.cpp.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "anxin/core/domain.hpp"
#include "anxin/core/errors.hpp"
#include "anxin/core/metrics.hpp"

namespace anxin::console {

enum class Lang { zh, en };

std::optional<Lang> parse_lang(std::string_view text);  // "zh" / "zh-CN" / "en"
const char* lang_name(Lang);                            // "中文" / "English", each in its own language

// Labels. Add a key here and a row in i18n.cpp; a static_assert checks every row
// sits at its key's position. Keys ending in _fmt are printf formats.
enum class Msg {
  app_name,
  // connection and status bar
  conn_connecting, conn_authenticating, conn_synced, conn_disconnected, conn_resyncing,
  banner_reconnecting, banner_stale, banner_storage_full_fmt,
  operator_label, supervisor_label, server_time, count_open, count_acknowledged, count_escalated,
  other_language, logout,
  // views
  view_queue, view_incident, view_map, view_workers, view_dashboard,
  // queue
  queue_title, queue_empty, queue_no_match, shown_of_fmt,
  col_score, col_elder, col_tier, col_alert, col_town, col_state, col_waiting, col_sla,
  filter_all_towns, filter_all_kinds, search_hint, clear_filters,
  new_top_banner, keys_hint,
  // incident workspace
  incident_none_selected, incident_gone, incident_label, opened_at,
  acknowledge, acknowledged_by, key_hint_fmt,
  sla_title, sla_left_fmt, sla_over_fmt, sla_met_fmt, sla_missed_fmt,
  rank_title, rank_total,
  callback_title, callback_none,
  dispatch_title, dispatch_best, dispatch_two, dispatch_row, refresh, candidates_none, candidates_loading,
  col_name, col_role, col_mode, col_distance, col_eta, col_flags, paired, stale, preferred_role,
  proposed_fmt, confirm_proposed,
  responders_title, responders_none, offer_expires_fmt, responders_wanted_fmt,
  calls_title, call_120, call_119, call_family, call_contact, calls_none, col_contact, next_contact_fmt,
  note_title, note_hint, add_note,
  resolve, resolve_title, resolve_note_hint, confirm, cancel,
  // a request's fate
  req_sending, req_ok, req_refused, req_no_reply, req_not_sent,
  act_acknowledge, act_callback, act_dispatch, act_call, act_call_result, act_note, act_resolve,
  // elder card
  elder_card, sex, age, years_old, tier, living, ability, not_assessed, disability_grade, grade_fmt, none,
  dementia, special_family, economic, address, phone, id_number, contacts, contact_name, contact_relation,
  family_doctor, paired_worker, visit_consent, yes, no, consent_given, consent_missing,
  devices_title, col_device, col_kind, col_battery, col_last_seen,
  history_title, visits_title, history_unavailable, loading, col_disposition, col_worker, col_summary, still_open,
  // timeline
  timeline, col_time, col_event, col_actor, col_detail,
  // map
  map_fit, map_hint, map_no_data, legend_homes, legend_incidents, legend_workers,
  // workers
  workers_title, col_status, col_position_age, col_task, col_shift, on_duty_only,
  age_now, age_min_fmt, age_hour_fmt, age_never,
  // dashboard
  dash_queue_depth, dash_unacknowledged, dash_oldest, dash_ack_60, dash_ack_180, dash_target_fmt,
  dash_of_fmt, dash_intervals, col_interval, col_count, col_p50, col_p90, dash_per_hour,
  dash_per_operator, col_operator, col_acknowledged, col_resolved, col_open, dash_escalations,
  dash_export, dash_exported, dash_export_failed, dash_waiting_metrics, dash_updated_fmt,
  dash_load_from_queue, dash_no_escalations,
  // login
  login_title, login_username, login_password, login_server, login_language, login_submit,
  login_signing_in, login_failed,
  seconds_unit,
  device_never,
  login_wrong,
  login_throttled,
  actor_system,
  cascade_exhausted,
  notified_fmt,
  notice_sms, notice_queue_full, notice_tries_fmt,
  // the phone line (docs/telephony.md)
  line_none, seat_label, seat_none, seat_up, seat_down, seat_idle, seat_dialling, seat_ringing, seat_talking,
  seats_down_fmt, seat_refused_fmt,
  call_incoming, call_unknown, call_ringing_for, call_to_seat_fmt, call_talking, call_dialling,
  answer, hangup, open_incident, line_ready_fmt, line_seat_busy,
  dial_elder, dial_doctor, dial_worker_fmt,
  phone_in, phone_out, target_elder, target_doctor, target_worker, target_family,
  result_answered, result_no_answer, result_busy, result_failed, result_missed, phone_talk_fmt, phone_ring_fmt,
  recording_play, recording_fetching, recording_playing, recording_saved_fmt, recording_failed,
  act_dial, act_answer, act_hangup, act_seat,
  via_device_sim, via_elder_phone, via_contact_fmt,
  // an unknown caller's incident, linked to the elder it is about
  caller_number, caller_explain, link_title, link_hint, link_find, link_button, link_none, link_keys,
  act_find_elders, act_link_caller,
  // the visiting programme (docs/visits.md): the phone-visit list and the dashboard's figures
  view_visits, pv_title_fmt, pv_empty, pv_loading, col_plan, col_tries, col_reason, col_actions,
  pv_reached, pv_no_answer, pv_keys, pv_reached_fmt, pv_no_answer_fmt, pv_home_due_fmt, act_phone_visit,
  vstate_due, vstate_late, vstate_done, vstate_upcoming, vstate_missed,
  vreason_plan, vreason_phone_unreached, vreason_campaign, vreason_campaign_unreached, vreason_device,
  dash_tab_alarms, dash_tab_visits, vr_month, vr_week, vr_visit_rate, vr_completion, vr_visited_fmt, vr_done_fmt,
  vr_overdue, vr_flagged, vr_hazards, vr_towns, col_elders, col_month_rate, col_month_completion, col_week_rate,
  col_week_completion, vr_campaigns, vr_no_campaigns, vr_reached_fmt, vr_export_rates, vr_export_csv,
  vr_export_xlsx, vr_waiting, vr_period_fmt, creason_weather, creason_festival, creason_public_health,
  // the supervisor's visits tab: campaigns, pairing, hazards, flagged visits, exports, roster import
  vs_overview, vs_campaign, vs_hazards, vs_pairing, vs_roster, cf_name, cf_name_hint, cf_reason, cf_first,
  cf_last, cf_today_hint, cf_reach_by, cf_tiers, cf_towns, cf_living, cf_all_hint, cf_no_towns, cf_need_name,
  cf_started_fmt, campaign_end, campaign_ended_fmt, campaign_scope, all_elders, req_forbidden, act_start_campaign,
  act_end_campaign, act_close_hazard, col_area, col_hazard, col_due, col_close_note, hz_close, hz_note_hint,
  hz_none, hz_closed_fmt, col_visitor, col_minutes, col_from_home, col_visit_flags, flag_far, flag_short, fl_none,
  pr_unpaired_fmt, pr_overloaded_fmt, pr_all_paired, pr_none_overloaded, pr_more_fmt, pr_elders_fmt, exp_title,
  report_rates, report_roster, ri_path, ri_path_hint, ri_encoding, ri_import, ri_done_fmt, ri_refused,
  ri_read_failed_fmt, ri_too_big_fmt, ri_sending, ri_explain,
  // keyboard-only work and attention (view_keys.cpp, view_attention.cpp; issue 14)
  kb_call_title, kb_call_hint, kb_call_worker, kb_no_phone, kb_no_worker, kb_result_title, kb_result_none, kb_result_hint, kb_pick_title, kb_pick_hint, kb_resolve_tab, att_new, att_realert, att_jump, att_more_fmt, att_unseen, att_score_fmt, req_call_opened, conn_unreachable, conn_closed_text, map_keys, legend_unacked, legend_acked,
  // manual incidents and history (view_manual.cpp, view_history.cpp; issue 14)
  view_history, act_open_incident, act_reopen, mi_title, mi_keys, mi_who, mi_unknown, mi_caller_phone, mi_caller_name, mi_chosen, mi_what, mi_kind, mi_source, mi_text_hint, mi_open, mi_cancel, mi_need_elder, mi_joined, mi_manual, mi_source_phone, mi_source_walk_in, mi_source_neighbour, mi_source_other, hi_source_device, hi_source_line, hi_bad_elder_id, hi_bad_date, hi_elder, hi_from, hi_to, hi_resolved_by, hi_kind, hi_any, hi_disposition, hi_search, hi_keys, hi_none, hi_rows_fmt, hi_col_opened, hi_col_elder, hi_col_kind, hi_col_source, hi_col_disposition, hi_col_by, hi_pick, hi_acknowledged, hi_resolved, hi_reopen_until_fmt, hi_reopen_closed_fmt, hi_reopen, hi_reason_hint, hi_reopen_confirm_fmt, hi_alerts, hi_responders, hi_calls, fr_title, fr_areas, fr_notes, fr_hazards,
  // the elder's care record, vital signs in words, candidates' reasons, workers' phones (issue 14, items 6-7)
  vt_heart_rate, vt_respiration, vt_spo2, vt_blood_pressure, vt_temperature, vt_glucose, vt_minutes_fmt, vt_hours_fmt, vt_distance_fmt, vt_battery_fmt, vt_threshold_fmt, vt_last_heard, vt_never, vt_raised_by_server, vt_zone, vt_readings, er_title, er_conditions, er_medications, er_allergies, er_hospital, er_entry, er_code_masked, er_code_none, er_code_shown_fmt, er_reveal, er_hearing, er_dialect, er_photo, er_updated_fmt, er_none, er_edit, er_edit_title, er_edit_hint, er_save, er_new_code, er_clear_code, er_photo_path, er_photo_unreadable, er_saved, er_supervisors_only, er_loading, cr_paired, cr_not_connected, cr_other_role_fmt, cr_preferred, cr_stale_fmt, cr_stale_long_fmt, col_reasons, cr_best_hint, col_phone, wk_call, wk_no_incident, wk_keys_hint,
  // presence, handover, the mine strip, the supervisor's hands (view_team.cpp, view_mine.cpp; issue 14)
  view_team, mine_title_fmt, mine_none, mine_new_alert, filter_on_fmt, tm_staff, tm_col_kind, tm_col_since, tm_col_seat, tm_col_holds, tm_not_signed_in, tm_held_title, tm_col_holder, tm_none_held, tm_to, tm_reassign, tm_take_over, tm_supervisor_only, tm_keys, tm_keys_supervisor, ho_title, ho_no_colleague, ho_incidents, ho_notes_hint, ho_send, ho_waiting_fmt, ho_withdraw, ho_offer_fmt, ho_accept, ho_decline, ho_keys, ho_recent, ho_none_recent, ho_state_offered, ho_state_accepted, ho_state_declined, ho_state_cancelled, ho_state_lapsed, ho_nothing, act_handover, act_handover_answer, act_handover_cancel, act_reassign, act_take_over, lo_holding_fmt, lo_hand_over, lo_anyway, rc_title, rc_withdraw_fmt, rc_stand_down_fmt, rc_call_fmt, rc_again, tl_handover_fmt, tl_reassign_fmt, tl_take_over_fmt, tl_notes, dash_col_escalation, dash_col_since, dash_col_incident,
  count_  // not a label
};

const char* tr(Lang, Msg);
const char* tr(Lang, AlertKind);
const char* tr(Lang, CareTier);
const char* tr(Lang, LivingSituation);
const char* tr(Lang, Ability);
const char* tr(Lang, EconomicStatus);
const char* tr(Lang, IncidentState);
const char* tr(Lang, TimelineKind);
const char* tr(Lang, Sex);
const char* tr(Lang, Severity);
const char* tr(Lang, WorkerStatus);
const char* tr(Lang, WorkerRole);
const char* tr(Lang, TransportMode);
const char* tr(Lang, AssignmentState);
const char* tr(Lang, CallKind);
const char* tr(Lang, CallState);
const char* tr(Lang, EscalationKind);
const char* tr(Lang, Disposition);
const char* tr(Lang, CallbackOutcome);
const char* tr(Lang, DeviceKind);
const char* tr(Lang, VisitMode);
const char* tr(Lang, ServiceArea);
const char* tr(Lang, Interval);

// A rank reason code ("living:alone", "kind:sos", "alerts:3", "age:80") as words:
// "独居", "一键呼叫", "3种告警", "80岁以上". Unknown codes come back as they are.
std::string rank_reason(Lang, std::string_view code);

// Why a login was refused, as the login screen says it: a wrong password and a
// throttled login in words (the latter with the server's "try again in N s"),
// anything else by its code and message.
std::string login_refusal(Lang, const Error& e);
// Why the link is down, in the console's language (issue 14): the network library's
// own words ("Unable to connect", "closed") become ours; a server's refusal
// ("E_…: …") is kept as the server said it.
std::string link_error_text(Lang lang, const std::string& raw);

// Calls `each` with every string above, in both languages: the font loader
// builds its glyph set from them when it cannot afford the full CJK block.
void for_each_text(const std::function<void(const char*)>& each);

}  // namespace anxin::console
