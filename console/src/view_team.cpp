// The Team view (F8, issue 14 item 5): who of the staff is signed in (the server's
// `presence`), what each holds (the incidents' acknowledged_by), every incident in
// someone's hands with a supervisor's Reassign (G) and Take over (I), the handover
// form (to a colleague signed in: notes and the incidents in my hands, all ticked at
// first), the handover I offered (Withdraw), and the last handovers with their notes.
// Keys: ↑ ↓ an incident, ← → a colleague, Enter opens the incident, N the notes.
// Over every view: the banner of a handover offered to me (F9 accepts, F10 declines),
// and the question asked before signing out with incidents in hand.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "views.hpp"

namespace anxin::console {
namespace {

const char* state_text(const App& app, const std::string& state) {
  if (state == "offered") return app.tr(Msg::ho_state_offered);
  if (state == "accepted") return app.tr(Msg::ho_state_accepted);
  if (state == "declined") return app.tr(Msg::ho_state_declined);
  if (state == "cancelled") return app.tr(Msg::ho_state_cancelled);
  if (state == "lapsed") return app.tr(Msg::ho_state_lapsed);
  return state.c_str();
}

std::string ids_text(const std::vector<IncidentId>& ids) {
  std::string out;
  for (IncidentId id : ids) out += (out.empty() ? "#" : " #") + std::to_string(id);
  return out;
}

// The colleagues a handover or a reassign may go to: signed in, not me.
std::vector<const protocol::StaffView*> colleagues(const App& app) {
  std::vector<const protocol::StaffView*> out;
  if (const auto& p = app.presence())
    for (const auto& s : p->staff)
      if (s.name != app.operator_name()) out.push_back(&s);
  return out;
}

// Every incident in someone's hands, by holder then id; rebuilt when the replica moves.
const std::vector<IncidentId>& held(const App& app, TeamUi& t) {
  if (t.held_version == app.replica().version()) return t.held;
  std::vector<std::pair<std::string, IncidentId>> rows;
  for (const auto& [id, i] : app.replica().incidents())
    if (i.state == IncidentState::acknowledged) rows.push_back({i.acknowledged_by, id});
  std::sort(rows.begin(), rows.end());
  t.held.clear();
  for (const auto& r : rows) t.held.push_back(r.second);
  t.held_version = app.replica().version();
  return t.held;
}

void staff_table(const App& app, const std::vector<IncidentId>& held_ids) {
  heading(app.tr(Msg::tm_staff));
  std::map<std::string, std::vector<IncidentId>> holds;
  for (IncidentId id : held_ids)
    if (const Incident* i = app.replica().incident(id)) holds[i->acknowledged_by].push_back(id);
  const auto& p = app.presence();
  if (!p) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::loading));
    return;
  }
  if (!ImGui::BeginTable("staff", 5, ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingStretchProp)) return;
  ImGui::TableSetupColumn(app.tr(Msg::col_name), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::tm_col_kind), ImGuiTableColumnFlags_WidthStretch, 0.9f);
  ImGui::TableSetupColumn(app.tr(Msg::tm_col_since), ImGuiTableColumnFlags_WidthStretch, 0.8f);
  ImGui::TableSetupColumn(app.tr(Msg::tm_col_seat), ImGuiTableColumnFlags_WidthStretch, 0.6f);
  ImGui::TableSetupColumn(app.tr(Msg::tm_col_holds), ImGuiTableColumnFlags_WidthStretch, 1.6f);
  ImGui::TableHeadersRow();
  auto row = [&](const std::string& name, const char* kind, ImVec4 kind_color, const std::string& since,
                 const std::string& seat) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    if (name == app.operator_name()) ImGui::TextColored(kAccent, "%s", name.c_str());
    else ImGui::TextUnformatted(name.c_str());
    ImGui::TableNextColumn();
    ImGui::TextColored(kind_color, "%s", kind);
    ImGui::TableNextColumn();
    ImGui::TextColored(kMutedText, "%s", since.c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(seat.empty() ? "—" : seat.c_str());
    ImGui::TableNextColumn();
    auto it = holds.find(name);
    const std::string text = it == holds.end() ? "—" : ids_text(it->second);
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(text.c_str());
    ImGui::PopTextWrapPos();
  };
  for (const auto& s : p->staff)
    row(s.name, app.tr(s.kind == "supervisor" ? Msg::supervisor_label : Msg::operator_label),
        ImGui::GetStyle().Colors[ImGuiCol_Text], format_hm(s.since_ms), s.seat);
  // Holders who are not signed in: a supervisor's to move.
  for (const auto& [name, ids] : holds) {
    const bool in = std::any_of(p->staff.begin(), p->staff.end(), [&](const auto& s) { return s.name == name; });
    if (!in) row(name, app.tr(Msg::tm_not_signed_in), kBadText, "", "");
  }
  ImGui::EndTable();
}

Commands held_table(const App& app, TeamUi& t, const std::vector<IncidentId>& ids, bool keyed) {
  Commands out;
  heading(app.tr(Msg::tm_held_title));
  if (ids.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::tm_none_held));
    return out;
  }
  t.row = std::clamp(t.row, 0, static_cast<int>(ids.size()) - 1);
  const float h = std::max(ImGui::GetFontSize() * 6, ImGui::GetContentRegionAvail().y - ImGui::GetFrameHeightWithSpacing() * 4);
  const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingStretchProp;
  if (!ImGui::BeginTable("held", 5, flags, ImVec2(0, h))) return out;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthStretch, 0.4f);
  ImGui::TableSetupColumn(app.tr(Msg::col_elder), ImGuiTableColumnFlags_WidthStretch, 0.9f);
  ImGui::TableSetupColumn(app.tr(Msg::col_alert), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::tm_col_holder), ImGuiTableColumnFlags_WidthStretch, 0.8f);
  ImGui::TableSetupColumn(app.tr(Msg::col_waiting), ImGuiTableColumnFlags_WidthStretch, 0.6f);
  ImGui::TableHeadersRow();
  const Millis now = app.server_now_ms();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(ids.size()));
  if (keyed) clipper.ForceDisplayRangeByIndices(t.row, t.row + 1);
  while (clipper.Step())
    for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
      const Incident* i = app.replica().incident(ids[k]);
      if (!i) continue;
      const protocol::ElderCard* e = app.replica().elder(i->elder);
      ImGui::PushID(k);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      char id[24];
      std::snprintf(id, sizeof id, "%lld", static_cast<long long>(i->id));
      if (ImGui::Selectable(id, k == t.row, ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowDoubleClick)) {
        t.row = k;
        if (ImGui::IsMouseDoubleClicked(0)) out.push(cmd::Select{i->id}), out.push(cmd::Show{View::incident});
      }
      if (keyed && k == t.row) scroll_row_into_view();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(e ? e->name.c_str() : "?");
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(app.tr(i->lead_kind()));
      ImGui::TableNextColumn();
      if (i->acknowledged_by == app.operator_name()) ImGui::TextColored(kAccent, "%s", i->acknowledged_by.c_str());
      else ImGui::TextUnformatted(i->acknowledged_by.c_str());
      ImGui::TableNextColumn();
      ImGui::TextColored(kMutedText, "%s", format_waiting(now - i->opened_ms).c_str());
      ImGui::PopID();
    }
  ImGui::EndTable();
  return out;
}

// A supervisor's hands on the chosen row: Reassign to the chosen colleague (G), Take over (I).
Commands supervisor_actions(const App& app, TeamUi& t, IncidentId chosen,
                            const std::vector<const protocol::StaffView*>& others, bool keys) {
  Commands out;
  if (!app.is_supervisor()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::tm_supervisor_only));
    return out;
  }
  const protocol::StaffView* to = others.empty() ? nullptr : others[static_cast<size_t>(t.colleague)];
  char label[160];
  std::snprintf(label, sizeof label, "%s → %s", app.tr(Msg::tm_reassign), to ? to->name.c_str() : "—");
  if (action_button(label, 'G', app.live() && chosen && to) || (keys && chosen && to && key_pressed('G')))
    out.push(cmd::Reassign{chosen, to->name});
  ImGui::SameLine();
  if (action_button(app.tr(Msg::tm_take_over), 'I', app.live() && chosen) || (keys && chosen && key_pressed('I')))
    out.push(cmd::TakeOver{chosen});
  const Request* a = app.last_request(0, Action::reassign);
  const Request* b = app.last_request(0, Action::take_over);
  request_status(app, a && (!b || a->sent_ms >= b->sent_ms) ? a : b);
  return out;
}

Commands handover_form(const App& app, TeamUi& t, const std::vector<const protocol::StaffView*>& others, bool keys) {
  Commands out;
  heading(app.tr(Msg::ho_title));
  if (const protocol::HandoverView* h = app.handover_to_me()) {
    char text[192];
    std::snprintf(text, sizeof text, app.tr(Msg::ho_offer_fmt), h->from.c_str(), static_cast<int>(h->incidents.size()));
    ImGui::TextColored(kWarnText, "%s  %s", text, ids_text(h->incidents).c_str());
    if (!h->notes.empty()) ImGui::TextWrapped("%s%s", app.tr(Msg::tl_notes), h->notes.c_str());
  }
  if (const protocol::HandoverView* mine = app.my_handover()) {
    char text[192];
    std::snprintf(text, sizeof text, app.tr(Msg::ho_waiting_fmt), mine->to.c_str());
    ImGui::TextColored(kWarnText, "%s  %s", text, ids_text(mine->incidents).c_str());
    if (action_button(app.tr(Msg::ho_withdraw), 0, app.live())) out.push(cmd::HandoverCancel{mine->id});
    request_status(app, app.last_request(0, Action::handover_cancel));
    return out;
  }
  if (others.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::ho_no_colleague));
    return out;
  }
  // To: the colleague chosen with ← → (or here).
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted(app.tr(Msg::tm_to));
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
  if (ImGui::BeginCombo("##to", others[static_cast<size_t>(t.colleague)]->name.c_str())) {
    for (size_t k = 0; k < others.size(); ++k)
      if (ImGui::Selectable(others[k]->name.c_str(), static_cast<int>(k) == t.colleague)) t.colleague = static_cast<int>(k);
    ImGui::EndCombo();
  }
  // The incidents in my hands, each ticked unless left out.
  const auto mine = app.mine();
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::ho_incidents));
  if (mine.empty()) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::ho_nothing));
  std::vector<IncidentId> chosen;
  for (const Incident* i : mine) {
    const protocol::ElderCard* e = app.replica().elder(i->elder);
    char label[160];
    std::snprintf(label, sizeof label, "#%lld  %s · %s", static_cast<long long>(i->id), e ? e->name.c_str() : "?",
                  app.tr(i->lead_kind()));
    bool ticked = !t.left_out.count(i->id);
    ImGui::PushID(static_cast<int>(i->id));
    if (ImGui::Checkbox(label, &ticked)) {
      if (ticked) t.left_out.erase(i->id);
      else t.left_out.insert(i->id);
    }
    ImGui::PopID();
    if (ticked) chosen.push_back(i->id);
  }
  if (keys && key_pressed('N')) t.focus_notes = true;
  if (t.focus_notes) {
    ImGui::SetKeyboardFocusHere();
    t.focus_notes = false;
  }
  const bool enter = ImGui::InputTextMultiline(
      "##notes", t.notes.data(), t.notes.size(), ImVec2(-1, ImGui::GetTextLineHeight() * 4.5f),
      ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_CtrlEnterForNewLine);
  if (!t.notes[0] && !ImGui::IsItemActive()) {  // the hint, as InputTextMultiline has none
    const ImVec2 at = ImGui::GetItemRectMin();
    ImGui::GetWindowDrawList()->AddText(ImVec2(at.x + 8, at.y + 5), ImGui::GetColorU32(kMutedText),
                                        app.tr(Msg::ho_notes_hint));
  }
  // Something to hand over: an incident ticked, or notes; all left out sends none.
  // (With incidents in hand, at least one goes: the protocol's empty list means all.)
  const bool some = !chosen.empty() || (mine.empty() && t.notes[0]);
  if (action_button(app.tr(Msg::ho_send), 0, app.live() && some) || (enter && app.live() && some)) {
    // Every incident ticked: sent as "all", which the server reads as all in my hands.
    const bool all = chosen.size() == mine.size();
    out.push(cmd::Handover{others[static_cast<size_t>(t.colleague)]->name, t.notes.data(),
                           all ? std::vector<IncidentId>{} : chosen});
    t.notes.fill(0);
    t.left_out.clear();
  }
  request_status(app, app.last_request(0, Action::handover));
  return out;
}

void recent_handovers(const App& app) {
  heading(app.tr(Msg::ho_recent));
  const auto& p = app.presence();
  bool any = false;
  if (p)
    for (const auto& h : p->handovers) {
      if (h.state == "offered") continue;
      any = true;
      ImGui::PushID(static_cast<int>(h.id));
      ImGui::TextColored(kMutedText, "%s", format_hm(h.answered_ms ? h.answered_ms : h.offered_ms).c_str());
      ImGui::SameLine();
      ImGui::Text("%s → %s", h.from.c_str(), h.to.c_str());
      ImGui::SameLine();
      ImGui::TextColored(h.state == "accepted" ? kGoodText : kWarnText, "%s", state_text(app, h.state));
      if (!h.incidents.empty()) {
        ImGui::SameLine();
        ImGui::TextUnformatted(ids_text(h.incidents).c_str());
      }
      ImGui::PushTextWrapPos(0);
      if (!h.notes.empty()) ImGui::TextColored(kMutedText, "%s%s", app.tr(Msg::tl_notes), h.notes.c_str());
      if (!h.reason.empty()) ImGui::TextColored(kMutedText, "(%s)", h.reason.c_str());
      ImGui::PopTextWrapPos();
      ImGui::PopID();
    }
  if (!any) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::ho_none_recent));
}

}  // namespace

Commands draw_team(const App& app, UiState& ui) {
  Commands out;
  TeamUi& t = ui.team;
  const auto others = colleagues(app);
  t.colleague = others.empty() ? 0 : std::clamp(t.colleague, 0, static_cast<int>(others.size()) - 1);
  const auto& ids = held(app, t);
  const bool keys = !typing() && !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId);
  bool keyed = false;
  if (keys && !ids.empty()) {
    if (ImGui::IsKeyPressed(kKeyDown)) t.row = std::min(t.row + 1, static_cast<int>(ids.size()) - 1), keyed = true;
    if (ImGui::IsKeyPressed(kKeyUp)) t.row = std::max(t.row - 1, 0), keyed = true;
  }
  if (keys && !others.empty()) {
    const int n = static_cast<int>(others.size());
    if (ImGui::IsKeyPressed(kKeyRight)) t.colleague = (t.colleague + 1) % n;
    if (ImGui::IsKeyPressed(kKeyLeft)) t.colleague = (t.colleague + n - 1) % n;
  }
  const IncidentId chosen = ids.empty() ? 0 : ids[static_cast<size_t>(std::clamp(t.row, 0, static_cast<int>(ids.size()) - 1))];
  if (keys && chosen && key_pressed(kKeyEnter)) out.push(cmd::Select{chosen}), out.push(cmd::Show{View::incident});

  const float left_w = ImGui::GetContentRegionAvail().x * 0.55f;
  ImGui::BeginChild("team_left", ImVec2(left_w, 0), false);
  staff_table(app, ids);
  out += held_table(app, t, ids, keyed);
  out += supervisor_actions(app, t, chosen, others, keys);
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::tm_keys));
  if (app.is_supervisor()) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::tm_keys_supervisor));
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("team_right", ImVec2(0, 0), false);
  out += handover_form(app, t, others, keys);
  recent_handovers(app);
  ImGui::EndChild();
  return out;
}

Commands draw_handover_banner(const App& app, UiState&) {
  Commands out;
  const protocol::HandoverView* h = app.handover_to_me();
  if (!h) return out;
  const ImVec4 bg(0.30f, 0.24f, 0.08f, 1.0f);
  ImGui::PushStyleColor(ImGuiCol_ChildBg, bg);
  const float lines = h->notes.empty() ? 1.0f : 2.0f;
  ImGui::BeginChild("handover_banner", ImVec2(0, ImGui::GetFrameHeightWithSpacing() * lines + 14), true);
  char text[192];
  std::snprintf(text, sizeof text, app.tr(Msg::ho_offer_fmt), h->from.c_str(), static_cast<int>(h->incidents.size()));
  ImGui::AlignTextToFramePadding();
  ImGui::TextColored(kWarnText, "%s", text);
  ImGui::SameLine();
  ImGui::TextUnformatted(ids_text(h->incidents).c_str());
  ImGui::SameLine(0, 20);
  if (action_button(app.tr(Msg::ho_accept), 0, app.live(), kGoodText) || (app.live() && key_pressed(kKeyF9)))
    out.push(cmd::HandoverAnswer{h->id, true});
  ImGui::SameLine();
  if (action_button(app.tr(Msg::ho_decline), 0, app.live()) || (app.live() && key_pressed(kKeyF10)))
    out.push(cmd::HandoverAnswer{h->id, false});
  ImGui::SameLine();
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::ho_keys));
  if (!h->notes.empty()) {
    std::string notes = std::string(app.tr(Msg::tl_notes)) + h->notes;
    std::replace(notes.begin(), notes.end(), '\n', ' ');
    ImGui::TextUnformatted(notes.c_str());
  }
  ImGui::EndChild();
  ImGui::PopStyleColor();
  return out;
}

Commands draw_logout_question(const App& app, UiState& ui) {
  Commands out;
  TeamUi& t = ui.team;
  if (t.logout_ask && !ImGui::IsPopupOpen("##logout_ask")) ImGui::OpenPopup("##logout_ask");
  if (!ImGui::BeginPopupModal("##logout_ask", nullptr, ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_AlwaysAutoResize)) {
    t.logout_ask = false;
    return out;
  }
  std::vector<IncidentId> ids;
  for (const Incident* i : app.mine()) ids.push_back(i->id);
  ImGui::TextUnformatted(app.tr(Msg::logout));
  ImGui::Separator();
  char text[512];
  std::snprintf(text, sizeof text, app.tr(Msg::lo_holding_fmt), static_cast<int>(ids.size()), ids_text(ids).c_str());
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28);
  ImGui::TextColored(kWarnText, "%s", text);
  ImGui::PopTextWrapPos();
  ImGui::Spacing();
  auto close = [&] {
    t.logout_ask = false;
    ImGui::CloseCurrentPopup();
  };
  if (action_button(app.tr(Msg::lo_hand_over), 0, true, kAccent) || ImGui::IsKeyPressed(kKeyF8, false)) {
    out.push(cmd::Show{View::team});
    t.focus_notes = true;
    close();
  }
  ImGui::SameLine();
  if (ImGui::Button(app.tr(Msg::lo_anyway))) {
    out.push(cmd::Logout{true});
    close();
  }
  ImGui::SameLine();
  if (ImGui::Button(app.tr(Msg::cancel)) || ImGui::IsKeyPressed(kKeyEscape, false)) close();
  ImGui::EndPopup();
  return out;
}

}  // namespace anxin::console
