// The incident workspace: everything an operator needs to work one incident, top
// to bottom in the order they work it: who and what (header, escalations), how
// long (waiting, the 60 s and 180 s acknowledgement targets), why it ranks where
// it does, the actions (acknowledge, call back, dispatch, resolve, each with its
// key), responders and candidates, calls, a note; then the elder and the record.
// An unknown caller's incident has, in the elder's place, the panel that links it
// to the elder (view_link.cpp). `wide` lays it out in two columns (the Incident
// view), else one.
#include <algorithm>
#include <cstdio>
#include <string>

#include "alert_detail.hpp"
#include "views.hpp"

namespace anxin::console {
namespace {

constexpr Millis kAckTargetMs = 60'000, kAckLongMs = 180'000;

constexpr Disposition kDispositions[] = {
    Disposition::false_alarm,  Disposition::resolved_by_phone, Disposition::visitor_assisted,
    Disposition::ambulance_took, Disposition::fire_brigade,    Disposition::family_handled,
    Disposition::not_at_home,  Disposition::device_fault};
constexpr CallbackOutcome kOutcomes[] = {CallbackOutcome::fine, CallbackOutcome::needs_help, CallbackOutcome::no_answer};

const ImVec4 kAckColor{0.78f, 0.40f, 0.13f, 1.0f};
const ImVec4 kDispatchColor{0.20f, 0.45f, 0.72f, 1.0f};
const ImVec4 kResolveColor{0.25f, 0.52f, 0.38f, 1.0f};

bool request_in_flight(const App& app, IncidentId id, Action a) {
  const Request* r = app.last_request(id, a);
  return r && r->status == Request::Status::sending;
}

ImVec4 escalation_color(EscalationKind k) {
  return k == EscalationKind::unacknowledged ? ImVec4(0.85f, 0.55f, 0.20f, 1) : ImVec4(0.80f, 0.25f, 0.25f, 1);
}

// The latest alert that says more than its kind (a vital sign's reading, how long
// nobody moved), in words and units: "心率 132 次/分", "heart rate 132/min".
void readings(const App& app, const Incident& i) {
  for (auto t = i.timeline.rbegin(); t != i.timeline.rend(); ++t) {
    if (t->kind != TimelineKind::alert || t->alert_kind == AlertKind::phone_call) continue;
    const std::string words = describe_alert_detail(app.lang(), t->text);
    if (words.empty()) continue;
    ImGui::TextColored(kMutedText, "%s  %s  %s", app.tr(Msg::vt_readings), app.tr(t->alert_kind),
                       format_hms(t->at_ms).c_str());
    ImGui::SameLine(0, 10);
    ImGui::PushTextWrapPos(0);
    ImGui::TextColored(t->alert_kind == AlertKind::vital_abnormal ? kWarnText : ImGui::GetStyle().Colors[ImGuiCol_Text],
                       "%s", words.c_str());
    ImGui::PopTextWrapPos();
    return;
  }
}

void header(const App& app, const Incident& i, const protocol::ElderCard* e, int score) {
  char s[16];
  std::snprintf(s, sizeof s, "%d", score);
  chip(s, score_color(score), ImGui::CalcTextSize("000").x + 16);
  ImGui::SameLine(0, 10);
  if (e && e->unknown_caller) ImGui::Text("%s  %s", app.tr(Msg::call_unknown), e->phone.c_str());
  else ImGui::TextUnformatted(e ? e->name.c_str() : ("#" + std::to_string(i.elder)).c_str());
  ImGui::SameLine(0, 12);
  ImGui::TextUnformatted(app.tr(i.lead_kind()));
  if (int n = i.alert_count() + i.repeats; n > 1) {  // a storm's folded alarms count too
    ImGui::SameLine();
    ImGui::TextColored(kMutedText, "×%d", n);
  }
  if (e && !e->unknown_caller) {
    ImGui::SameLine(0, 12);
    chip(app.tr(e->tier), tier_color(e->tier));
  }
  for (const Escalation& x : i.escalations) {
    if (x.cleared) continue;
    ImGui::SameLine(0, 8);
    chip(app.tr(x.kind), escalation_color(x.kind));
  }
  ImGui::TextColored(kMutedText, "%s #%lld  ·  %s %s  ·  %s %s", app.tr(Msg::incident_label),
                     static_cast<long long>(i.id), app.tr(Msg::opened_at), format_date_hms(i.opened_ms).c_str(),
                     e ? e->town.c_str() : "", e ? e->community.c_str() : "");
  readings(app, i);
}

// Waiting time and the acknowledgement targets, as the operator must read them:
// a countdown while there is time, the overrun once there is not.
void timers(const App& app, const Incident& i, Millis now) {
  const Millis waited = now - i.opened_ms;
  auto threshold = [&](Millis ms) { return std::to_string(ms / 1000) + app.tr(Msg::seconds_unit); };
  char text[160];
  auto left = [&](Millis target) {
    std::snprintf(text, sizeof text, app.tr(Msg::sla_left_fmt), threshold(target).c_str(),
                  format_waiting(target - waited).c_str());
    ImGui::SameLine(0, 20);
    ImGui::TextColored(target - waited < 15'000 ? kWarnText : kGoodText, "%s", text);
  };
  auto over = [&](Millis target) {
    std::snprintf(text, sizeof text, app.tr(Msg::sla_over_fmt), threshold(target).c_str(),
                  format_waiting(waited - target).c_str());
    ImGui::SameLine(0, 20);
    ImGui::TextColored(kBadText, "%s", text);
  };
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::col_waiting));
  ImGui::SameLine();
  ImGui::TextUnformatted(format_waiting(waited).c_str());
  if (unacknowledged(i)) {
    if (waited < kAckTargetMs) {
      left(kAckTargetMs);
    } else if (waited < kAckLongMs) {
      over(kAckTargetMs);
      left(kAckLongMs);
    } else {
      over(kAckLongMs);
    }
    return;
  }
  const Millis took = i.acknowledged_ms - i.opened_ms;
  const bool met = took <= kAckTargetMs;
  std::snprintf(text, sizeof text, app.tr(met ? Msg::sla_met_fmt : Msg::sla_missed_fmt),
                threshold(kAckTargetMs).c_str(), format_waiting(took).c_str());
  ImGui::SameLine(0, 20);
  ImGui::TextColored(met ? kGoodText : kWarnText, "%s", text);
  ImGui::SameLine(0, 20);
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::acknowledged_by));
  ImGui::SameLine();
  ImGui::Text("%s  %s", i.acknowledged_by.c_str(), format_hms(i.acknowledged_ms).c_str());
}

// The score's parts: "一键呼叫 +80  独居 +20 ... 等待 +4 = 139".
void rank_reasons(const App& app, const Incident& i, Millis now) {
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::rank_title));
  const int waiting = queue_score(i, now) - i.rank_base;
  auto part = [&](const std::string& text, int points) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%s +%d", text.c_str(), points);
    const float w = ImGui::CalcTextSize(buf).x + 14;
    ImGui::SameLine(0, 8);
    if (ImGui::GetContentRegionAvail().x < w) ImGui::NewLine();
    chip(buf, ImVec4(0.22f, 0.25f, 0.30f, 1.0f));
  };
  for (const RankReason& r : i.rank_reasons) part(rank_reason(app.lang(), r.code), r.points);
  if (waiting > 0) part(rank_reason(app.lang(), "waiting"), waiting);
  ImGui::SameLine(0, 10);
  ImGui::Text("= %d", queue_score(i, now));
}

Commands callback_buttons(const App& app, const Incident& i, bool keys) {
  Commands out;
  int n = 0;
  for (CallbackOutcome o : kOutcomes) {
    ++n;
    const bool current = i.callback == o;
    if (current) ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.23f, 0.40f, 0.64f, 1.0f));
    char label[96];
    std::snprintf(label, sizeof label, keys ? "%s  %d" : "%s", app.tr(o), n);
    if (ImGui::Button(label) || (keys && key_pressed('0' + n))) out.push(cmd::Callback{i.id, o});
    if (current) ImGui::PopStyleColor();
    ImGui::SameLine();
  }
  ImGui::NewLine();
  return out;
}

Commands actions(const App& app, UiState& ui, const Incident& i) {
  Commands out;
  const bool live = app.live();
  const bool popup = ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId);
  // A again marks a new critical alert on an acknowledged incident seen (issue 14).
  const bool can_ack =
      live && (unacknowledged(i) || i.unseen_alert_ms) && !request_in_flight(app, i.id, Action::acknowledge);
  const bool can_dispatch = live && !request_in_flight(app, i.id, Action::dispatch);
  const bool keys = !popup && !typing();

  if (action_button(app.tr(Msg::acknowledge), 'A', can_ack, kAckColor) || (keys && can_ack && key_pressed('A')))
    out.push(cmd::Acknowledge{i.id});
  ImGui::SameLine();
  if (action_button(app.tr(Msg::dispatch_best), 'D', can_dispatch, kDispatchColor) ||
      (keys && can_dispatch && key_pressed('D')))
    out.push(cmd::Dispatch{i.id, std::nullopt, 1});
  ImGui::SameLine();
  if (action_button(app.tr(Msg::dispatch_two), 0, can_dispatch)) out.push(cmd::Dispatch{i.id, std::nullopt, 2});
  ImGui::SameLine();
  if (action_button(app.tr(Msg::callback_title), 'C', live) || (keys && live && key_pressed('C')))
    ui.callback_open = true;
  ui.callback_anchor = ImVec2(ImGui::GetItemRectMin().x, ImGui::GetItemRectMax().y + 4);  // pickers open beside their button
  ImGui::SameLine();
  if (action_button(app.tr(Msg::resolve), 'R', live, kResolveColor) || (keys && live && key_pressed('R'))) {
    ui.resolve_open = true;
    ui.disposition = -1;
  }
  ui.resolve_anchor = ImVec2(ImGui::GetItemRectMin().x, ImGui::GetItemRectMax().y + 4);
  if (keys && key_pressed('N')) ui.focus_note = true;
  request_status(app, app.latest_request(i.id));

  // The call-back outcome, and what it led to.
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::callback_title));
  ImGui::SameLine();
  ImGui::TextUnformatted(i.callback == CallbackOutcome::none ? app.tr(Msg::callback_none) : app.tr(i.callback));
  if (i.proposed_worker) {
    const Worker* w = app.replica().worker(i.proposed_worker);
    char text[160];
    std::snprintf(text, sizeof text, app.tr(Msg::proposed_fmt), w ? w->name.c_str() : "?");
    ImGui::SameLine(0, 20);
    ImGui::TextColored(kWarnText, "%s", text);
    ImGui::SameLine();
    if (action_button(app.tr(Msg::confirm_proposed), 'Y', can_dispatch, kDispatchColor) ||
        (keys && can_dispatch && key_pressed('Y')))  // Y: yes, the server's proposal (issue 14)
      out.push(cmd::Dispatch{i.id, i.proposed_worker, 1});
  }
  return out;
}

Commands callback_popup(const App& app, UiState& ui, const Incident& i) {
  Commands out;
  if (ui.callback_open && !ImGui::IsPopupOpen("##callback")) ImGui::OpenPopup("##callback");
  ImGui::SetNextWindowPos(ui.callback_anchor);
  if (ImGui::BeginPopup("##callback")) {
    ImGui::TextUnformatted(app.tr(Msg::callback_title));
    ImGui::Separator();
    out += callback_buttons(app, i, true);
    if (!out.empty() || key_pressed(kKeyEscape)) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  } else {
    ui.callback_open = false;
  }
  if (!out.empty()) ui.callback_open = false;
  return out;
}

// The disposition picker: eight outcomes (keys 1-8), an optional closing note,
// Enter to resolve once one is chosen, Esc to step back.
Commands resolve_popup(const App& app, UiState& ui, const Incident& i) {
  Commands out;
  if (ui.resolve_open && !ImGui::IsPopupOpen("##resolve")) ImGui::OpenPopup("##resolve");
  ImGui::SetNextWindowSize(ImVec2(ImGui::GetFontSize() * 26, 0));
  // Beside its button, kept on screen.
  const ImVec2 screen = ImGui::GetMainViewport()->WorkSize;
  ImGui::SetNextWindowPos(ImVec2(std::min(ui.resolve_anchor.x, screen.x - ImGui::GetFontSize() * 27),
                                 std::min(ui.resolve_anchor.y, screen.y - ImGui::GetFontSize() * 16)));
  if (!ImGui::BeginPopupModal("##resolve", nullptr, ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_AlwaysAutoResize)) {
    ui.resolve_open = false;
    return out;
  }
  ImGui::TextUnformatted(app.tr(Msg::resolve_title));
  ImGui::Separator();
  const float w = (ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x) / 2;
  for (int k = 0; k < 8; ++k) {
    char label[96];
    std::snprintf(label, sizeof label, "%d  %s", k + 1, app.tr(kDispositions[k]));
    if (k % 2) ImGui::SameLine();
    if (ImGui::Selectable(label, ui.disposition == k, 0, ImVec2(w, 0)) || key_pressed('1' + k)) ui.disposition = k;
  }
  ImGui::Spacing();
  // Tab reaches the closing note (and ImGui's own Tab moves on from it).
  if (key_pressed(kKeyTab)) ui.focus_resolve_note = true;
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::kb_resolve_tab));
  if (ui.focus_resolve_note) {
    ImGui::SetKeyboardFocusHere();
    ui.focus_resolve_note = false;
  }
  ImGui::SetNextItemWidth(-1);
  ImGui::InputTextWithHint("##resolve_note", app.tr(Msg::resolve_note_hint), ui.resolve_note.data(),
                           ui.resolve_note.size());
  ImGui::Spacing();
  // What the server stands down on resolve (issue 14): said here, and confirmed twice.
  const auto down = stand_downs(app, i);  // view_mine.cpp
  if (!down.empty()) {
    ImGui::TextColored(kWarnText, "%s", app.tr(Msg::rc_title));
    ImGui::PushTextWrapPos(0);
    for (const auto& line : down) ImGui::TextColored(kWarnText, "· %s", line.c_str());
    if (ui.team.resolve_confirm) ImGui::TextColored(kBadText, "%s", app.tr(Msg::rc_again));
    ImGui::PopTextWrapPos();
    ImGui::Spacing();
  }
  const bool chosen = ui.disposition >= 0;
  const bool enter = ImGui::IsKeyPressed(kKeyEnter, false) || ImGui::IsKeyPressed(kKeyKeypadEnter, false);
  if (action_button(app.tr(Msg::confirm), 0, chosen && app.live(), kResolveColor) || (chosen && enter)) {
    if (!down.empty() && !ui.team.resolve_confirm) {
      ui.team.resolve_confirm = true;  // asked once; the next Enter or Confirm resolves
    } else {
      out.push(cmd::Resolve{i.id, kDispositions[ui.disposition], ui.resolve_note.data()});
      ui.resolve_note.fill(0);
      ui.resolve_open = false;
      ui.team.resolve_confirm = false;
      ImGui::CloseCurrentPopup();
    }
  }
  ImGui::SameLine();
  if (ImGui::Button(app.tr(Msg::cancel)) || ImGui::IsKeyPressed(kKeyEscape, false)) {
    ui.resolve_open = false;
    ui.team.resolve_confirm = false;
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
  return out;
}

Commands note_input(const App& app, UiState& ui, const Incident& i) {
  Commands out;
  heading(app.tr(Msg::note_title));
  if (ui.focus_note) {
    ImGui::SetKeyboardFocusHere();
    ui.focus_note = false;
  }
  const float button_w = ImGui::CalcTextSize(app.tr(Msg::add_note)).x + ImGui::GetStyle().FramePadding.x * 2;
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - button_w - ImGui::GetStyle().ItemSpacing.x);
  const bool enter = ImGui::InputTextWithHint("##note", app.tr(Msg::note_hint), ui.note.data(), ui.note.size(),
                                              ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  const bool has_text = ui.note[0] != 0;
  if ((action_button(app.tr(Msg::add_note), 0, has_text && app.live()) || (enter && has_text && app.live()))) {
    out.push(cmd::Note{i.id, ui.note.data()});
    ui.note.fill(0);
  }
  return out;
}

}  // namespace

Commands draw_incident(const App& app, UiState& ui, bool wide) {
  const std::optional<IncidentId> selected = app.selected();
  if (!selected) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::incident_none_selected));
    return {};
  }
  const Incident* i = app.replica().incident(*selected);
  if (!i) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::incident_gone));
    request_status(app, app.latest_request(*selected));
    return {};
  }
  const protocol::ElderCard* e = app.replica().elder(i->elder);
  const Millis now = app.server_now_ms();
  Commands out;
  header(app, *i, e, queue_score(*i, now));
  if (const auto& m = app.manual_opened(); m && m->incident == i->id && m->joined)
    ImGui::TextColored(kWarnText, "%s", app.tr(Msg::mi_joined));  // the report joined what was open
  timers(app, *i, now);
  rank_reasons(app, *i, now);
  ImGui::Spacing();
  out += actions(app, ui, *i);
  out += draw_key_actions(app, ui, *i);  // K, T, S (view_keys.cpp)
  out += callback_popup(app, ui, *i);
  out += resolve_popup(app, ui, *i);

  auto operations = [&] {
    out += draw_dispatch(app, *i);
    out += draw_calls(app, *i);
    draw_field_reports(app, *i);  // view_history.cpp
    out += note_input(app, ui, *i);
  };
  // An unknown caller's record says nothing about anyone: in its place, the panel
  // that finds the elder the call is about.
  const bool unknown = e && e->unknown_caller;
  auto elder = [&] {
    if (unknown) out += draw_link_caller(app, ui, *i, *e);
    else if (e) {
      out += draw_care_record(app, ui, *i, *e);  // what the operator needs on the call, first
      out += draw_elder(app, *i, *e);
    }
  };
  if (wide) {
    // Working on the left, with the record below what it records; who the
    // elder is on the right.
    const float left_w = ImGui::GetContentRegionAvail().x * 0.54f;
    ImGui::BeginChild("ops", ImVec2(left_w, 0), false);
    operations();
    out += draw_timeline(app, *i);
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("record", ImVec2(0, 0), false);
    elder();
    ImGui::EndChild();
  } else {
    ImGui::BeginChild("workspace", ImVec2(0, 0), false);
    if (unknown) elder();  // first: nothing else can be done well until it is linked
    operations();
    if (!unknown) elder();
    out += draw_timeline(app, *i);
    ImGui::EndChild();
  }
  return out;
}

}  // namespace anxin::console
