// Over every view (issue 14, item 2): the banner of alarms not yet attended to (App's
// announcements, app_attention.cpp): the newest named, with the elder, the kind, the
// score and the town, and how many more; J (or a click) opens it in the workspace.
// Also the keys that work from any view: / or Ctrl+F puts the cursor in the queue's
// search box (on the queue view).
#include <cstdio>

#include "views.hpp"

namespace anxin::console {

Commands draw_attention(const App& app, UiState& ui) {
  Commands out;
  if (!typing() && (ImGui::IsKeyPressed(kKeySlash, false) || (ImGui::GetIO().KeyCtrl && ImGui::IsKeyPressed('F', false)))) {
    ui.focus_search = true;
    if (app.view() != View::queue) out.push(cmd::Show{View::queue});
  }
  const auto& list = app.announcements();
  if (list.empty()) return out;
  const App::Announcement& a = list.front();
  const Incident* i = app.replica().incident(a.incident);
  if (!i) return out;
  const protocol::ElderCard* e = app.replica().elder(i->elder);
  const int score = queue_score(*i, app.server_now_ms());
  char score_text[32], more[48] = "";
  std::snprintf(score_text, sizeof score_text, app.tr(Msg::att_score_fmt), score);
  if (list.size() > 1) std::snprintf(more, sizeof more, app.tr(Msg::att_more_fmt), static_cast<int>(list.size() - 1));
  char text[512];
  std::snprintf(text, sizeof text, "%s  ·  %s  ·  %s  ·  %s  ·  %s    %s    %s###attention",
                app.tr(a.realert ? Msg::att_realert : Msg::att_new),
                e ? (e->unknown_caller ? e->phone.c_str() : e->name.c_str()) : "?", app.tr(i->lead_kind()),
                score_text, e ? e->town.c_str() : "", app.tr(Msg::att_jump), more);
  const ImVec4 c = a.realert ? ImVec4(0.80f, 0.25f, 0.25f, 1) : score_color(score);
  const float alpha = app.flashing() == a.incident ? 0.55f + 0.4f * app.flash_phase() : 0.85f;
  ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(c.x, c.y, c.z, alpha));
  ImGui::PushStyleColor(ImGuiCol_ButtonHovered, ImVec4(c.x, c.y, c.z, 1.0f));
  ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 1, 1, 1));
  ImGui::PushStyleVar(ImGuiStyleVar_ButtonTextAlign, ImVec2(0.0f, 0.5f));
  const bool clicked = ImGui::Button(text, ImVec2(-1, ImGui::GetFrameHeight() * 1.2f));
  ImGui::PopStyleVar();
  ImGui::PopStyleColor(3);
  if (clicked || (!typing() && !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId) && key_pressed('J'))) {
    out.push(cmd::Select{a.incident});
    out.push(cmd::Show{View::incident});
  }
  return out;
}

}  // namespace anxin::console
