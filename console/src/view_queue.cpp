// The live incident queue: one row per open incident in Replica::queue() order,
// tinted by severity, dimmed once acknowledged, greyed while the data is stale.
// Click or Up/Down selects.
#include <algorithm>
#include <string>
#include <vector>

#include "views.hpp"

namespace anxin::console {
namespace {

// Up/Down move the selection along the queue. Returns the row to select, or -1.
int keyboard_move(const std::vector<const Incident*>& q, int current) {
  if (ImGui::GetIO().WantTextInput || q.empty()) return -1;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow)))
    return current < 0 ? 0 : std::min(current + 1, static_cast<int>(q.size()) - 1);
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow)))
    return current < 0 ? 0 : std::max(current - 1, 0);
  return -1;
}

// Scrolls the table just enough to show the last item (a keyboard-selected row)
// whole, below the frozen header row.
void scroll_into_view(float header_h) {
  const float top = ImGui::GetWindowPos().y + header_h;
  const float bottom = ImGui::GetWindowPos().y + ImGui::GetWindowHeight();
  const float y0 = ImGui::GetItemRectMin().y, y1 = ImGui::GetItemRectMax().y;
  if (y0 < top) ImGui::SetScrollY(ImGui::GetScrollY() - (top - y0));
  else if (y1 > bottom) ImGui::SetScrollY(ImGui::GetScrollY() + (y1 - bottom));
}

std::string alert_text(const App& app, const Incident& i) {
  std::string s = app.tr(i.lead_kind());
  if (int n = i.alert_count(); n > 1) s += " ×" + std::to_string(n);
  return s;
}

}  // namespace

Commands draw_queue(const App& app) {
  Commands out;
  const Replica& r = app.replica();
  const std::vector<const Incident*> q = r.queue();
  const bool stale = !app.live();

  int selected_row = -1;
  for (size_t k = 0; k < q.size(); ++k)
    if (app.selected() == q[k]->id) selected_row = static_cast<int>(k);
  const int keyed_row = keyboard_move(q, selected_row);
  if (keyed_row >= 0 && keyed_row != selected_row) {
    selected_row = keyed_row;
    out.select = q[keyed_row]->id;
  }

  ImGui::TextUnformatted(app.tr(Msg::queue_title));
  ImGui::SameLine();
  ImGui::TextColored(kMutedText, "(%zu)", q.size());
  if (q.empty()) {
    // Before the first snapshot nothing is known: say nothing rather than "none".
    ImGui::Spacing();
    if (app.replica().synced()) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::queue_empty));
    return out;
  }

  const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerH |
                                ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_PadOuterX;
  if (!ImGui::BeginTable("queue", 7, flags)) return out;
  const float chip_w = ImGui::CalcTextSize(app.tr(Severity::critical)).x + 20;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed, std::max(chip_w, 52.0f));
  ImGui::TableSetupColumn(app.tr(Msg::col_elder), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_tier), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_alert), ImGuiTableColumnFlags_WidthStretch, 1.6f);
  ImGui::TableSetupColumn(app.tr(Msg::col_town), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_state), ImGuiTableColumnFlags_WidthStretch, 0.9f);
  ImGui::TableSetupColumn(app.tr(Msg::col_waiting), ImGuiTableColumnFlags_WidthFixed,
                          ImGui::CalcTextSize("00:00:00").x + 8);
  ImGui::TableHeadersRow();

  const float header_h = ImGui::GetTextLineHeight() + ImGui::GetStyle().CellPadding.y * 2;
  const Millis now = app.server_now_ms();
  const float row_h = ImGui::GetTextLineHeight() + 10;
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(q.size()));  // measures the first row's height
  if (keyed_row >= 0) clipper.ForceDisplayRangeByIndices(keyed_row, keyed_row + 1);
  while (clipper.Step()) {
    for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
      const Incident& i = *q[k];
      const protocol::ElderCard* elder = r.elder(i.elder);
      const bool acknowledged = i.state != IncidentState::open;
      const ImVec4 sev = stale ? severity_color(Severity::low) : severity_color(i.severity());

      ImGui::PushID(static_cast<int>(i.id));
      ImGui::PushStyleVar(ImGuiStyleVar_Alpha, stale ? 0.5f : acknowledged ? 0.6f : 1.0f);
      ImGui::TableNextRow(ImGuiTableRowFlags_None, row_h);
      ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0,
                             ImGui::GetColorU32(ImVec4(sev.x, sev.y, sev.z, acknowledged ? 0.05f : 0.11f)));

      ImGui::TableNextColumn();
      const ImVec2 row_start = ImGui::GetCursorPos();
      const bool selected = k == selected_row;
      if (ImGui::Selectable("##row", selected, ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap,
                            ImVec2(0, row_h)))
        out.select = i.id;
      if (k == keyed_row) scroll_into_view(header_h);
      ImGui::SetCursorPos(ImVec2(row_start.x, row_start.y + 4));
      chip(app.tr(i.severity()), sev, std::max(chip_w, 52.0f) - 8);

      // Text sits on the row's centre line; the Selectable above fills the row.
      auto cell = [&](const std::string& text) {
        ImGui::TableNextColumn();
        ImGui::SetCursorPosY(ImGui::GetCursorPosY() + 5);
        ImGui::TextUnformatted(text.c_str());
      };
      cell(elder ? elder->name : "#" + std::to_string(i.elder));
      cell(elder ? app.tr(elder->tier) : "");
      cell(alert_text(app, i));
      cell(elder ? elder->town : "");
      cell(app.tr(i.state));
      cell(format_waiting(now - i.opened_ms));

      ImGui::PopStyleVar();
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
  return out;
}

}  // namespace anxin::console
