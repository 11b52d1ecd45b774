// The live queue: every open incident in rank order (docs/ranking.md), with its
// score as a coloured chip, waiting time and the countdown to the 60 s
// acknowledgement target. Filters by town and alert kind, a search box, and the
// keyboard: Up/Down select, Enter opens the workspace. A new incident pulses in
// its row (and in the banner over every view, view_attention.cpp). `compact` is the narrow strip
// beside the wide workspace.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "views.hpp"

namespace anxin::console {
namespace {

constexpr Millis kAckTargetMs = 60'000;

constexpr AlertKind kKinds[] = {AlertKind::smoke,         AlertKind::gas,          AlertKind::sos,
                                AlertKind::fall,          AlertKind::inactivity,   AlertKind::vital_abnormal,
                                AlertKind::geofence_exit, AlertKind::bed_exit_long, AlertKind::no_water_use,
                                AlertKind::water_leak,    AlertKind::door_open_long, AlertKind::offline,
                                AlertKind::low_battery,   AlertKind::phone_call};

// Up/Down move the selection along the queue. Returns the row to select, or -1.
int keyboard_move(size_t rows, int current) {
  // A picker's own ↑ ↓ (view_keys.cpp) must not move the queue under it.
  if (rows == 0 || ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId)) return -1;
  const int last = static_cast<int>(rows) - 1;
  if (!typing() && ImGui::IsKeyPressed(kKeyDown)) return current < 0 ? 0 : std::min(current + 1, last);
  if (!typing() && ImGui::IsKeyPressed(kKeyUp)) return current < 0 ? 0 : std::max(current - 1, 0);
  return -1;
}

Commands filters(const App& app, UiState& ui, size_t shown, size_t total) {
  Commands out;
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted(app.tr(Msg::queue_title));
  ImGui::SameLine();
  if (ui.filter.active()) ImGui::TextColored(kWarnText, app.tr(Msg::shown_of_fmt), shown, total);
  else ImGui::TextColored(kMutedText, "(%zu)", total);

  const float w = ImGui::GetFontSize() * 7.5f;
  ImGui::SameLine(0, 16);
  ImGui::SetNextItemWidth(w);
  if (ImGui::BeginCombo("##town", ui.filter.town.empty() ? app.tr(Msg::filter_all_towns) : ui.filter.town.c_str())) {
    if (ImGui::Selectable(app.tr(Msg::filter_all_towns), ui.filter.town.empty())) ui.filter.town.clear();
    for (const std::string& town : ui.queue.towns(app.replica()))
      if (ImGui::Selectable(town.c_str(), ui.filter.town == town)) ui.filter.town = town;
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(w);
  if (ImGui::BeginCombo("##kind", ui.filter.kind ? app.tr(*ui.filter.kind) : app.tr(Msg::filter_all_kinds))) {
    if (ImGui::Selectable(app.tr(Msg::filter_all_kinds), !ui.filter.kind)) ui.filter.kind.reset();
    for (AlertKind k : kKinds)
      if (ImGui::Selectable(app.tr(k), ui.filter.kind == k)) ui.filter.kind = k;
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  const float clear_w = ui.filter.active() ? ImGui::CalcTextSize(app.tr(Msg::clear_filters)).x + 30 : 0;
  ImGui::SetNextItemWidth(std::max(120.0f, ImGui::GetContentRegionAvail().x - clear_w));
  if (ui.focus_search) {  // / or Ctrl+F (view_attention.cpp)
    ImGui::SetKeyboardFocusHere();
    ui.focus_search = false;
  }
  if (ImGui::InputTextWithHint("##search", app.tr(Msg::search_hint), ui.search.data(), ui.search.size()))
    ui.filter.search = ui.search.data();
  if (ui.filter.active()) {
    ImGui::SameLine();
    if (ImGui::Button(app.tr(Msg::clear_filters))) {
      ui.filter = {};
      ui.search.fill(0);
    }
  }
  return out;
}

// The compact queue beside the workspace keeps the wide queue's filter; it says so,
// and × clears it (issue 14, item 8).
Commands filter_strip(const App& app, UiState& ui) {
  if (!ui.filter.active()) return {};
  std::string what;
  auto add = [&](const std::string& part) { what += (what.empty() ? "" : " · ") + part; };
  if (!ui.filter.town.empty()) add(ui.filter.town);
  if (ui.filter.kind) add(app.tr(*ui.filter.kind));
  if (!ui.filter.search.empty()) add("\"" + ui.filter.search + "\"");
  char text[256];
  std::snprintf(text, sizeof text, app.tr(Msg::filter_on_fmt), what.c_str());
  ImGui::PushTextWrapPos(ImGui::GetContentRegionMax().x - ImGui::GetFontSize() * 2);
  ImGui::TextColored(kWarnText, "%s", text);
  ImGui::PopTextWrapPos();
  ImGui::SameLine();
  if (ImGui::SmallButton("×##clear_filter")) {
    ui.filter = {};
    ui.search.fill(0);
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", app.tr(Msg::clear_filters));
  return {};
}

void sla_cell(const Incident& i, Millis now) {
  char buf[32];
  if (!unacknowledged(i)) {
    format_waiting(buf, sizeof buf, i.acknowledged_ms - i.opened_ms);
    ImGui::TextColored(i.acknowledged_ms - i.opened_ms <= kAckTargetMs ? kGoodText : kWarnText, "%s", buf);
    return;
  }
  const Millis left = i.opened_ms + kAckTargetMs - now;
  if (left >= 0) {
    format_waiting(buf, sizeof buf, left);
    ImGui::TextColored(left < 15'000 ? kWarnText : ImGui::GetStyle().Colors[ImGuiCol_Text], "%s", buf);
  } else {
    buf[0] = '+';
    format_waiting(buf + 1, sizeof buf - 1, -left);
    ImGui::TextColored(kBadText, "%s", buf);
  }
}

}  // namespace

Commands draw_queue(const App& app, UiState& ui, bool compact) {
  Commands out;
  const Millis now = app.server_now_ms();
  const auto& rows = ui.queue.rows(app.replica(), ui.filter, now);
  const size_t total = app.replica().incidents().size();
  const bool stale = !app.live();

  int selected_row = -1;
  if (app.selected())
    for (size_t k = 0; k < rows.size(); ++k)
      if (rows[k].incident->id == *app.selected()) selected_row = static_cast<int>(k);
  int keyed_row = keyboard_move(rows.size(), selected_row);
  if (keyed_row >= 0 && keyed_row != selected_row) out.push(cmd::Select{rows[keyed_row].incident->id});
  if (keyed_row < 0 && ui.scroll_to_selected && selected_row >= 0) keyed_row = selected_row;
  ui.scroll_to_selected = false;
  if (key_pressed(kKeyEnter) && selected_row >= 0 && !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId))
    out.push(cmd::Show{View::incident});

  if (!compact) out += filters(app, ui, rows.size(), total);
  else {
    ImGui::TextUnformatted(app.tr(Msg::queue_title));
    ImGui::SameLine();
    ImGui::TextColored(kMutedText, "(%zu)", rows.size());
    out += filter_strip(app, ui);  // the queue's filter applies here too: said, with its ×
  }
  out += draw_mine(app, ui);  // my incidents, above the queue and never scrolled away (view_mine.cpp)
  if (rows.empty()) {
    // Before the first snapshot nothing is known: say nothing rather than "none".
    ImGui::Spacing();
    if (app.replica().synced())
      ImGui::TextColored(kMutedText, "%s", app.tr(total ? Msg::queue_no_match : Msg::queue_empty));
    return out;
  }

  const float hint_h = compact ? 0 : ImGui::GetTextLineHeightWithSpacing() + 4;
  const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerH |
                                ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_PadOuterX;
  const int columns = compact ? 3 : 8;
  if (ImGui::BeginTable("queue", columns, flags, ImVec2(0, -hint_h))) {
    const float chip_w = ImGui::CalcTextSize("000").x + 18;
    const float time_w = ImGui::CalcTextSize("+00:00:00").x + 6;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn(app.tr(Msg::col_score), ImGuiTableColumnFlags_WidthFixed,
                            std::max(chip_w, ImGui::CalcTextSize(app.tr(Msg::col_score)).x));
    ImGui::TableSetupColumn(app.tr(Msg::col_elder), ImGuiTableColumnFlags_WidthStretch, 1.0f);
    if (!compact) {
      ImGui::TableSetupColumn(app.tr(Msg::col_alert), ImGuiTableColumnFlags_WidthStretch, 1.5f);
      ImGui::TableSetupColumn(app.tr(Msg::col_tier), ImGuiTableColumnFlags_WidthStretch, 0.9f);
      ImGui::TableSetupColumn(app.tr(Msg::col_town), ImGuiTableColumnFlags_WidthStretch, 1.0f);
      ImGui::TableSetupColumn(app.tr(Msg::col_state), ImGuiTableColumnFlags_WidthStretch, 0.75f);
    }
    ImGui::TableSetupColumn(app.tr(Msg::col_waiting), ImGuiTableColumnFlags_WidthFixed, time_w);
    if (!compact)
      ImGui::TableSetupColumn(app.tr(Msg::col_sla), ImGuiTableColumnFlags_WidthFixed,
                              std::max(time_w, ImGui::CalcTextSize(app.tr(Msg::col_sla)).x));
    ImGui::TableHeadersRow();

    const auto flash = app.flashing();
    const float row_h = ImGui::GetTextLineHeight() + 8;
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(rows.size()));
    if (keyed_row >= 0) clipper.ForceDisplayRangeByIndices(keyed_row, keyed_row + 1);
    while (clipper.Step()) {
      for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
        const QueueRow& row = rows[k];
        const Incident& i = *row.incident;
        const bool acknowledged = !unacknowledged(i);
        const ImVec4 sev = stale ? score_color(0) : score_color(row.score);
        float tint = acknowledged ? 0.05f : 0.12f;
        if (flash == i.id) tint = 0.15f + 0.35f * app.flash_phase();

        ImGui::PushID(static_cast<int>(i.id));
        ImGui::PushStyleVar(ImGuiStyleVar_Alpha, stale ? 0.5f : acknowledged ? 0.62f : 1.0f);
        ImGui::TableNextRow(ImGuiTableRowFlags_None, row_h);
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, ImGui::GetColorU32(ImVec4(sev.x, sev.y, sev.z, tint)));

        ImGui::TableNextColumn();
        const ImVec2 start = ImGui::GetCursorPos();
        if (ImGui::Selectable("##row", k == selected_row,
                              ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap |
                                  ImGuiSelectableFlags_AllowDoubleClick,
                              ImVec2(0, row_h))) {
          out.push(cmd::Select{i.id});
          if (ImGui::IsMouseDoubleClicked(0)) out.push(cmd::Show{View::incident});
        }
        if (k == keyed_row) scroll_row_into_view();
        ImGui::SetCursorPos(ImVec2(start.x, start.y + 3));
        char score[16];
        std::snprintf(score, sizeof score, "%d", row.score);
        chip(score, sev, chip_w - 6);

        // Text sits on the row's centre line; the Selectable above fills the row.
        auto cell = [&](const char* text, ImVec4 color = ImVec4(0, 0, 0, 0)) {
          ImGui::TableNextColumn();
          ImGui::SetCursorPosY(ImGui::GetCursorPosY() + 4);
          if (color.w > 0) ImGui::TextColored(color, "%s", text);
          else ImGui::TextUnformatted(text);
        };
        char id_text[24];
        std::snprintf(id_text, sizeof id_text, "#%lld", static_cast<long long>(i.elder));
        cell(row.elder ? row.elder->name.c_str() : id_text);
        if (!compact) {
          const int n = i.alert_count() + i.repeats;  // with the alarms of a storm folded in
          char alert[96];
          if (n > 1) std::snprintf(alert, sizeof alert, "%s ×%d", app.tr(i.lead_kind()), n);
          else std::snprintf(alert, sizeof alert, "%s", app.tr(i.lead_kind()));
          cell(alert);
          cell(row.elder ? app.tr(row.elder->tier) : "", row.elder ? tier_color(row.elder->tier) : kMutedText);
          cell(row.elder ? row.elder->town.c_str() : "");
          cell(app.tr(i.state), acknowledged ? kMutedText : kWarnText);
        }
        char waited[24];
        format_waiting(waited, sizeof waited, now - i.opened_ms);
        cell(waited);
        if (!compact) {
          ImGui::TableNextColumn();
          ImGui::SetCursorPosY(ImGui::GetCursorPosY() + 4);
          sla_cell(i, now);
        }
        ImGui::PopStyleVar();
        ImGui::PopID();
      }
    }
    ImGui::EndTable();
  }
  if (!compact) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::keys_hint));
  return out;
}

}  // namespace anxin::console
