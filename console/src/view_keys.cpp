// Keyboard-only work on the incident (issue 14, item 1): what used to need the mouse
// has a key, and each picker opens beside the part of the workspace it belongs to,
// never at the pointer.
//   K  the call picker: 1 120, 2 119, 3… each emergency contact (the family cascade
//      from that contact), B the elder, W the responder on the way or on scene; each
//      row shows the number that will be called
//   T  the result of a call task still open: ↑ ↓ choose the task, 1 answered,
//      2 no answer, 3 failed
//   S  the candidate picker: the server's list in its own order, ↑ ↓ or a digit
//      choose, Enter dispatches that one
//   Y  confirm the server's proposed responder (the "confirm" button)
// The buttons drawn here carry the same keys, and their places are where the
// pickers open. Reads the App, returns Commands; sends nothing.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "views.hpp"

namespace anxin::console {
namespace {

constexpr CallState kResults[] = {CallState::answered, CallState::no_answer, CallState::failed};

bool pressed(int key) { return ImGui::IsKeyPressed(key, false); }
bool enter_pressed() { return pressed(kKeyEnter) || pressed(kKeyKeypadEnter); }

bool has_pending(const Incident& i, CallKind kind) {
  for (const CallTask& t : i.calls)
    if (t.kind == kind && t.open()) return true;
  return false;
}

// Opens a popup beside `anchor` (the top-left of the button that owns it), below it.
void place_beside(ImVec2 anchor) {
  ImGui::SetNextWindowPos(anchor, ImGuiCond_Always);
}

// ↑ ↓ move `row` within [0, n); digits 1..9 jump to a row. True when a digit chose.
bool move_row(int& row, int n) {
  if (n <= 0) return false;
  if (pressed(kKeyDown)) row = std::min(row + 1, n - 1);
  if (pressed(kKeyUp)) row = std::max(row - 1, 0);
  for (int k = 0; k < std::min(n, 9); ++k)
    if (pressed('1' + k)) {
      row = k;
      return true;
    }
  row = std::clamp(row, 0, n - 1);
  return false;
}

const Assignment* responder(const Incident& i) {
  for (const Assignment& a : i.assignments)
    if (a.state == AssignmentState::accepted || a.state == AssignmentState::on_scene) return &a;
  return nullptr;
}

// A row of a picker: its key, what, and the number, the chosen row highlighted.
bool picker_row(const char* key, const std::string& what, const std::string& number, bool enabled, bool current) {
  char label[256];
  std::snprintf(label, sizeof label, "%s   %s", key, what.c_str());
  ImGui::BeginDisabled(!enabled);
  const bool clicked = ImGui::Selectable(label, current, 0, ImVec2(ImGui::GetFontSize() * 16, 0));
  ImGui::SameLine(ImGui::GetFontSize() * 16.5f);
  ImGui::TextColored(enabled ? kWarnText : kMutedText, "%s", number.c_str());
  ImGui::EndDisabled();
  return clicked && enabled;
}

Commands call_picker(const App& app, UiState& ui, const Incident& i) {
  Commands out;
  if (ui.call_picker_open && !ImGui::IsPopupOpen("##call_picker")) ImGui::OpenPopup("##call_picker");
  place_beside(ui.calls_anchor);
  if (!ImGui::BeginPopup("##call_picker", ImGuiWindowFlags_AlwaysAutoResize)) {
    ui.call_picker_open = false;
    return out;
  }
  const bool live = app.live();
  ImGui::TextUnformatted(app.tr(Msg::kb_call_title));
  ImGui::SameLine();
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::kb_call_hint));
  ImGui::Separator();
  const bool can120 = live && !has_pending(i, CallKind::ambulance_120);
  const bool can119 = live && !has_pending(i, CallKind::fire_119);
  if (picker_row("1", app.tr(Msg::call_120), "120", can120, false) || (can120 && pressed('1')))
    out.push(cmd::Call{i.id, CallKind::ambulance_120});
  if (picker_row("2", app.tr(Msg::call_119), "119", can119, false) || (can119 && pressed('2')))
    out.push(cmd::Call{i.id, CallKind::fire_119});
  const protocol::ElderCard* e = app.replica().elder(i.elder);
  if (e) {
    const int n = static_cast<int>(std::min<size_t>(e->contacts.size(), 7));  // keys 3..9
    for (int k = 0; k < n; ++k) {
      const EmergencyContact& c = e->contacts[static_cast<size_t>(k)];
      char key[4];
      std::snprintf(key, sizeof key, "%d", k + 3);
      const std::string what = std::string(app.tr(CallKind::family)) + "  " + c.name + "  " + c.relation;
      ImGui::PushID(k);
      if (picker_row(key, what, c.phone.empty() ? app.tr(Msg::kb_no_phone) : c.phone, live, false) ||
          (live && pressed('3' + k)))
        out.push(cmd::Call{i.id, CallKind::family, k});
      ImGui::PopID();
    }
    // The elder, from my seat on the phone line (the same as key B).
    if (!e->unknown_caller &&
        (picker_row("B", app.tr(Msg::dial_elder), e->phone, app.can_dial(), false) || (app.can_dial() && pressed('B'))))
      out.push(cmd::Dial{i.id, "elder"});
  }
  if (const Assignment* a = responder(i)) {
    const Worker* w = app.replica().worker(a->worker);
    const std::string what = std::string(app.tr(Msg::kb_call_worker)) + "  " + (w ? w->name : "?");
    if (picker_row("W", what, w && !w->phone.empty() ? w->phone : app.tr(Msg::kb_no_phone), app.can_dial(), false) ||
        (app.can_dial() && pressed('W')))
      out.push(cmd::Dial{i.id, "worker", a->worker});
  } else {
    ImGui::TextColored(kMutedText, "W   %s", app.tr(Msg::kb_no_worker));
  }
  if (!app.can_dial()) {
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 24);
    ImGui::TextColored(kMutedText, "%s",
                       app.line() && app.line()->configured ? app.tr(Msg::seat_none) : app.tr(Msg::line_none));
    ImGui::PopTextWrapPos();
  }
  if (!out.empty() || pressed(kKeyEscape)) {
    ui.call_picker_open = false;
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
  return out;
}

Commands result_picker(const App& app, UiState& ui, const Incident& i) {
  Commands out;
  if (ui.result_picker_open && !ImGui::IsPopupOpen("##result_picker")) ImGui::OpenPopup("##result_picker");
  place_beside(ui.actions_anchor);
  if (!ImGui::BeginPopup("##result_picker", ImGuiWindowFlags_AlwaysAutoResize)) {
    ui.result_picker_open = false;
    return out;
  }
  ImGui::TextUnformatted(app.tr(Msg::kb_result_title));
  ImGui::SameLine();
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::kb_result_hint));
  ImGui::Separator();
  std::vector<const CallTask*> open;
  for (const CallTask& t : i.calls)
    if (t.open()) open.push_back(&t);
  if (open.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::kb_result_none));
  } else {
    int& row = ui.picker_row;
    if (pressed(kKeyDown)) row = std::min(row + 1, static_cast<int>(open.size()) - 1);
    if (pressed(kKeyUp)) row = std::max(row - 1, 0);
    row = std::clamp(row, 0, static_cast<int>(open.size()) - 1);
    for (int k = 0; k < static_cast<int>(open.size()); ++k) {
      const CallTask& t = *open[static_cast<size_t>(k)];
      const std::string what = std::string(app.tr(t.kind)) + (t.name.empty() ? "" : "  " + t.name) + "  · " +
                               app.tr(t.state);
      ImGui::PushID(k);
      if (picker_row(k == row ? ">" : " ", what, t.phone, true, k == row)) row = k;
      ImGui::PopID();
    }
    ImGui::Spacing();
    const CallTask& chosen = *open[static_cast<size_t>(row)];
    int n = 0;
    for (CallState r : kResults) {
      ++n;
      char label[96];
      std::snprintf(label, sizeof label, "%s  %d", app.tr(r), n);
      if (n > 1) ImGui::SameLine();
      if (action_button(label, 0, app.live()) || (app.live() && pressed('0' + n)))
        out.push(cmd::CallResult{i.id, chosen.id, r});
    }
  }
  if (!out.empty() || pressed(kKeyEscape)) {
    ui.result_picker_open = false;
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
  return out;
}

Commands candidate_picker(const App& app, UiState& ui, const Incident& i) {
  Commands out;
  if (ui.candidate_picker_open && !ImGui::IsPopupOpen("##candidate_picker")) ImGui::OpenPopup("##candidate_picker");
  place_beside(ui.dispatch_anchor);
  if (!ImGui::BeginPopup("##candidate_picker", ImGuiWindowFlags_AlwaysAutoResize)) {
    ui.candidate_picker_open = false;
    return out;
  }
  ImGui::TextUnformatted(app.tr(Msg::kb_pick_title));
  ImGui::SameLine();
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::kb_pick_hint));
  ImGui::Separator();
  const protocol::CandidateList* list = app.candidates(i.id);
  if (!list) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::candidates_loading));
  } else if (list->candidates.empty()) {
    ImGui::TextColored(kWarnText, "%s", app.tr(Msg::candidates_none));
  } else {
    int& row = ui.picker_row;
    const int n = static_cast<int>(list->candidates.size());
    move_row(row, n);
    for (int k = 0; k < n; ++k) {
      const protocol::CandidateView& v = list->candidates[static_cast<size_t>(k)];
      char key[8], eta[24];
      std::snprintf(key, sizeof key, k < 9 ? "%d" : " ", k + 1);
      format_waiting(eta, sizeof eta, static_cast<Millis>(v.candidate.travel_s * 1000));
      const std::string what = v.name + "  " + app.tr(v.role);
      ImGui::PushID(k);
      if (picker_row(key, what, format_distance(v.candidate.distance_m) + "  " + eta, true, k == row)) row = k;
      ImGui::PopID();
    }
    ImGui::Spacing();
    const protocol::CandidateView& chosen = list->candidates[static_cast<size_t>(row)];
    char label[160];
    std::snprintf(label, sizeof label, "%s: %s  Enter", app.tr(Msg::dispatch_row), chosen.name.c_str());
    if (action_button(label, 0, app.live(), ImVec4(0.20f, 0.45f, 0.72f, 1.0f)) || (app.live() && enter_pressed()))
      out.push(cmd::Dispatch{i.id, chosen.candidate.id, 1});
  }
  if (!out.empty() || pressed(kKeyEscape)) {
    ui.candidate_picker_open = false;
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
  return out;
}

}  // namespace

Commands draw_key_actions(const App& app, UiState& ui, const Incident& i) {
  Commands out;
  const bool keys = !typing() && !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId);
  const float gap = ImGui::GetStyle().ItemSpacing.y;
  auto below = [&] { return ImVec2(ImGui::GetItemRectMin().x, ImGui::GetItemRectMax().y + gap); };
  auto open = [&](bool& flag) {
    flag = true;
    ui.picker_row = 0;
  };
  if (i.unseen_alert_ms) {  // a new critical alert since it was acknowledged (attention.cpp)
    ImGui::TextColored(kBadText, "%s  %s", format_hms(i.unseen_alert_ms).c_str(), app.tr(Msg::att_unseen));
  }
  if (action_button(app.tr(Msg::kb_call_title), 'K', true) || (keys && key_pressed('K'))) open(ui.call_picker_open);
  ui.calls_anchor = below();
  ImGui::SameLine();
  if (action_button(app.tr(Msg::kb_result_title), 'T', true) || (keys && key_pressed('T')))
    open(ui.result_picker_open);
  ui.actions_anchor = below();
  ImGui::SameLine();
  if (action_button(app.tr(Msg::kb_pick_title), 'S', true) || (keys && key_pressed('S'))) open(ui.candidate_picker_open);
  ui.dispatch_anchor = below();
  out += call_picker(app, ui, i);
  out += result_picker(app, ui, i);
  out += candidate_picker(app, ui, i);
  return out;
}

}  // namespace anxin::console
