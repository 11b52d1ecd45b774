// An unknown caller's incident: the phone line opened it on a record made for a
// number nobody knew (docs/protocol.md, "The phone line"). In the elder card's place:
// the marker, the caller's number, and "link to elder": a search (name, phone,
// address or the ID number's last digits) and a Link button per result. The server
// answers a link with the elder's card in the delta, so the workspace shows the real
// elder from then on; a refusal (that elder already has an incident open) is shown
// here. Keys: L puts the cursor in the search field; there Enter finds, ↑/↓ choose a
// result and Enter links it.
#include <algorithm>
#include <cstdio>

#include "fonts.hpp"
#include "views.hpp"

namespace anxin::console {
namespace {

const ImVec4 kUnknownColor{0.86f, 0.45f, 0.16f, 1.0f};
const ImVec4 kLinkColor{0.16f, 0.50f, 0.44f, 1.0f};  // apart from the blue of a chosen row

bool in_flight(const App& app, IncidentId id, Action a) {
  const Request* r = app.last_request(id, a);
  return r && r->status == Request::Status::sending;
}

// One result, in two lines so it fits the workspace's narrow column: who and where,
// the phone and the masked ID number (enough to tell two of the same name apart), Link.
bool result_row(const App& app, const protocol::ElderCard& e, bool highlighted, bool can_link) {
  ImGui::PushID(static_cast<int>(e.id));
  ImGui::TableNextRow();
  if (highlighted) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, ImGui::GetColorU32(ImGuiCol_Header));
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(e.name.c_str());
  ImGui::SameLine(0, 12);
  ImGui::Text("%d%s  %s", e.age, app.tr(Msg::years_old), app.tr(e.sex));
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(kMutedText, "%s", e.address.c_str());
  ImGui::PopTextWrapPos();
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(e.phone.c_str());
  ImGui::TextColored(kMutedText, "%s", e.id_masked.c_str());  // masked by the server
  ImGui::TableNextColumn();
  const bool link = action_button(app.tr(Msg::link_button), 0, can_link, kLinkColor);
  ImGui::PopID();
  return link;
}

}  // namespace

Commands draw_link_caller(const App& app, UiState& ui, const Incident& i, const protocol::ElderCard& caller) {
  Commands out;
  chip(app.tr(Msg::call_unknown), kUnknownColor);
  ImGui::SameLine(0, 16);
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::caller_number));
  ImGui::SameLine();
  ImFont* big = figures_font();
  if (big) ImGui::PushFont(big);
  ImGui::TextUnformatted(caller.phone.empty() ? "?" : caller.phone.c_str());
  if (big) ImGui::PopFont();
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(kWarnText, "%s", app.tr(Msg::caller_explain));
  ImGui::PopTextWrapPos();

  heading(app.tr(Msg::link_title));
  const protocol::ElderList* found = app.found_elders(i.id);
  const int n = found ? static_cast<int>(found->elders.size()) : 0;
  const bool can_link = app.live() && !in_flight(app, i.id, Action::link_caller);
  if (key_pressed('L') && !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId)) ui.focus_link_search = true;
  if (ui.focus_link_search) {
    ImGui::SetKeyboardFocusHere();
    ui.focus_link_search = false;
  }
  const float find_w = ImGui::CalcTextSize(app.tr(Msg::link_find)).x + ImGui::GetStyle().FramePadding.x * 2;
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - find_w - ImGui::GetStyle().ItemSpacing.x);
  const bool enter = ImGui::InputTextWithHint("##link_search", app.tr(Msg::link_hint), ui.link_search.data(),
                                              ui.link_search.size(),
                                              ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_AutoSelectAll);
  if (ImGui::IsItemEdited()) ui.link_highlight = -1;  // a new query: Enter finds again
  // ↑/↓ choose while the cursor is in the field (without it they move the queue).
  if (ImGui::IsItemActive() && n > 0) {
    if (ImGui::IsKeyPressed(kKeyDown)) ui.link_highlight = std::min(ui.link_highlight + 1, n - 1);
    if (ImGui::IsKeyPressed(kKeyUp)) ui.link_highlight = std::max(ui.link_highlight - 1, 0);
  }
  if (ui.link_highlight >= n) ui.link_highlight = -1;
  ImGui::SameLine();
  const bool can_find = app.live() && ui.link_search[0] != 0;
  const bool find = action_button(app.tr(Msg::link_find), 0, can_find);
  if (enter && ui.link_highlight >= 0) {
    if (can_link) out.push(cmd::LinkCaller{i.id, found->elders[static_cast<size_t>(ui.link_highlight)].id});
  } else if ((enter || find) && can_find) {
    out.push(cmd::FindElders{i.id, ui.link_search.data()});
    ui.link_highlight = -1;
  }
  if (enter) ui.focus_link_search = true;  // Enter let go of the field: keep it for ↑/↓ and the next Enter
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::link_keys));

  const Request* search = app.last_request(i.id, Action::find_elders);
  if (search && search->status == Request::Status::sending) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::loading));
  } else if (found && n == 0) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::link_none));
  } else if (search && !found && search->status != Request::Status::ok) {
    request_status(app, search);
  }
  if (n > 0 && ImGui::BeginTable("found", 3, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH)) {
    ImGui::TableSetupColumn("elder", ImGuiTableColumnFlags_WidthStretch, 1.6f);
    ImGui::TableSetupColumn("phone", ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableSetupColumn("link", ImGuiTableColumnFlags_WidthFixed);
    for (int k = 0; k < n; ++k) {
      const protocol::ElderCard& e = found->elders[static_cast<size_t>(k)];
      if (result_row(app, e, k == ui.link_highlight, can_link)) out.push(cmd::LinkCaller{i.id, e.id});
    }
    ImGui::EndTable();
  }
  // How the last link went, until the next search: a refusal says why (that elder
  // already has an incident open).
  const Request* link = app.last_request(i.id, Action::link_caller);
  if (link && (!search || link->sent_ms >= search->sent_ms)) request_status(app, link);
  return out;
}

}  // namespace anxin::console
