// The visiting programme (docs/visits.md) on the console. The operator's phone-visit
// list (电话探访): today's phone and online visits, late first, with one-key outcomes
// (R reached, N no answer; the buttons on each row do the same) and the server's
// answer, e.g. that a third unanswered call made a visit at home due today. The
// supervisor's figures, a tab of the dashboard: the month's and week's visit rate
// and completion, per town, overdue and flagged visits, open hazards, campaigns'
// progress, and the rates exported as CSV or XLSX. The lists come from App, which
// asks again when the server says the programme changed.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "fonts.hpp"
#include "views.hpp"

namespace anxin::console {
namespace {

Msg state_label(const std::string& s) {
  if (s == "late") return Msg::vstate_late;
  if (s == "done") return Msg::vstate_done;
  if (s == "upcoming") return Msg::vstate_upcoming;
  if (s == "missed") return Msg::vstate_missed;
  return Msg::vstate_due;
}

ImVec4 state_colour(const std::string& s) {
  if (s == "late" || s == "missed") return kBadText;
  if (s == "done") return kGoodText;
  if (s == "due") return kWarnText;
  return kMutedText;
}

Msg reason_label(const std::string& r) {
  if (r == "phone_unreached") return Msg::vreason_phone_unreached;
  if (r == "campaign") return Msg::vreason_campaign;
  if (r == "campaign_unreached") return Msg::vreason_campaign_unreached;
  if (r == "device") return Msg::vreason_device;
  return Msg::vreason_plan;
}

// "1/week phone" in the operator's words: 每周 1 次 · 电话.
std::string plan_words(const App& app, const std::string& plan) {
  int times = 0;
  char per[16] = {0}, mode[16] = {0};
  if (std::sscanf(plan.c_str(), "%d/%15s %15s", &times, per, mode) != 3) return plan;
  const auto m = parse_enum<VisitMode>(mode);
  const bool week = std::string(per) == "week";
  char out[96];
  if (app.lang() == Lang::zh)
    std::snprintf(out, sizeof out, "%s %d 次 · %s", week ? "每周" : "每月", times, m ? app.tr(*m) : mode);
  else
    std::snprintf(out, sizeof out, "%d/%s · %s", times, week ? "week" : "month", m ? app.tr(*m) : mode);
  return out;
}

// What the server said about the last call recorded from this console.
void last_result(const App& app) {
  const Request* r = app.last_request(0, Action::phone_visit_result);
  if (!r) return;
  if (r->status != Request::Status::ok || !app.visit_recorded()) {
    request_status(app, r);
    return;
  }
  const VisitRecorded& v = *app.visit_recorded();
  char id[32], text[256];
  std::snprintf(id, sizeof id, "#%lld", static_cast<long long>(v.elder));
  const char* name = v.name.empty() ? id : v.name.c_str();
  if (v.outcome == "reached") {
    std::snprintf(text, sizeof text, app.tr(Msg::pv_reached_fmt), name);
    ImGui::TextColored(kGoodText, "%s", text);
  } else if (v.home_visit_due) {
    std::snprintf(text, sizeof text, app.tr(Msg::pv_home_due_fmt), name, v.tries);
    ImGui::TextColored(kBadText, "%s", text);
  } else {
    std::snprintf(text, sizeof text, app.tr(Msg::pv_no_answer_fmt), name, v.tries);
    ImGui::TextColored(kWarnText, "%s", text);
  }
}

// --- the supervisor's figures -------------------------------------------------------

void big_figure(const char* label, const char* value, ImVec4 colour, const char* note) {
  ImGui::TextColored(kMutedText, "%s", label);
  if (ImFont* big = figures_font()) ImGui::PushFont(big);
  ImGui::TextColored(colour, "%s", value);
  if (figures_font()) ImGui::PopFont();
  if (note) ImGui::TextColored(kMutedText, "%s", note);
}

ImVec4 pct_colour(double pct) { return pct >= 100.0 ? kGoodText : pct >= 80.0 ? kWarnText : kBadText; }

void rate_tiles(const App& app, const char* id, Msg period, const std::optional<VisitReport>& r, float w) {
  char label[96], value[32], note[96];
  ImGui::PushID(id);
  ImGui::BeginChild("rate", ImVec2(w, ImGui::GetFontSize() * 7.4f), true, ImGuiWindowFlags_NoScrollbar);
  std::snprintf(label, sizeof label, "%s%s", app.tr(period), app.tr(Msg::vr_visit_rate));
  if (r && r->total.elders) std::snprintf(value, sizeof value, "%.1f%%", r->total.rate);
  else std::snprintf(value, sizeof value, "—");
  std::snprintf(note, sizeof note, app.tr(Msg::vr_visited_fmt), r ? r->total.visited : 0, r ? r->total.elders : 0);
  big_figure(label, value, r && r->total.elders ? pct_colour(r->total.rate) : kMutedText, note);
  if (r) {
    char span[64];
    std::snprintf(span, sizeof span, app.tr(Msg::vr_period_fmt), r->from.c_str(), r->to.c_str());
    ImGui::TextColored(kMutedText, "%s", span);
  }
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("completion", ImVec2(w, ImGui::GetFontSize() * 7.4f), true, ImGuiWindowFlags_NoScrollbar);
  std::snprintf(label, sizeof label, "%s%s", app.tr(period), app.tr(Msg::vr_completion));
  if (r && r->total.planned) std::snprintf(value, sizeof value, "%.1f%%", r->total.completion);
  else std::snprintf(value, sizeof value, "—");
  std::snprintf(note, sizeof note, app.tr(Msg::vr_done_fmt), r ? r->total.done : 0, r ? r->total.planned : 0);
  big_figure(label, value, r && r->total.planned ? pct_colour(r->total.completion) : kMutedText, note);
  ImGui::EndChild();
  ImGui::PopID();
}

void count_tile(const App& app, const std::optional<VisitReport>& month, float w) {
  ImGui::BeginChild("counts", ImVec2(w, ImGui::GetFontSize() * 7.4f), true, ImGuiWindowFlags_NoScrollbar);
  const std::pair<Msg, size_t> counts[] = {{Msg::vr_overdue, month ? month->overdue : 0},
                                           {Msg::vr_flagged, month ? month->flagged : 0},
                                           {Msg::vr_hazards, month ? month->open_hazards : 0}};
  for (const auto& [label, n] : counts) {
    ImGui::TextColored(kMutedText, "%s", app.tr(label));
    ImGui::SameLine(w * 0.62f);
    ImGui::TextColored(!month ? kMutedText : n ? kBadText : kGoodText, "%zu", n);
  }
  ImGui::EndChild();
}

void percent_cell(double pct, bool known) {
  ImGui::TableNextColumn();
  if (known) ImGui::TextColored(pct_colour(pct), "%.1f%%", pct);
  else ImGui::TextColored(kMutedText, "—");
}

void town_table(const App& app, const std::optional<VisitReport>& month, const std::optional<VisitReport>& week) {
  heading(app.tr(Msg::vr_towns));
  if (!month) return;
  std::map<std::string, const VisitRate*> week_of;
  if (week)
    for (const VisitRate& r : week->towns) week_of[r.key] = &r;
  const ImGuiTableFlags flags =
      ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY;
  if (!ImGui::BeginTable("towns", 6, flags, ImVec2(0, std::max(ImGui::GetContentRegionAvail().y, 80.0f)))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(app.tr(Msg::col_town), ImGuiTableColumnFlags_WidthStretch, 1.4f);
  ImGui::TableSetupColumn(app.tr(Msg::col_elders), ImGuiTableColumnFlags_WidthStretch, 0.8f);
  ImGui::TableSetupColumn(app.tr(Msg::col_month_rate), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_month_completion), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_week_rate), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_week_completion), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableHeadersRow();
  ImGuiListClipper clipper;  // a county has a few dozen towns; a city's export may hold hundreds
  clipper.Begin(static_cast<int>(month->towns.size()));
  while (clipper.Step())
    for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
      const VisitRate& m = month->towns[k];
      const auto it = week_of.find(m.key);
      const VisitRate* w = it == week_of.end() ? nullptr : it->second;
      ImGui::PushID(k);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(m.key.c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%d", m.elders);
      percent_cell(m.rate, m.elders > 0);
      percent_cell(m.completion, m.planned > 0);
      percent_cell(w ? w->rate : 0, w && w->elders > 0);
      percent_cell(w ? w->completion : 0, w && w->planned > 0);
      ImGui::PopID();
    }
  ImGui::EndTable();
}

}  // namespace

Commands draw_visits(const App& app, UiState& ui) {
  Commands out;
  if (app.phone_visits_wanted()) out.push(cmd::PhoneVisits{});
  const auto& list = app.phone_visits();

  // Title, the keys, the last answer.
  char title[160];
  std::snprintf(title, sizeof title, app.tr(Msg::pv_title_fmt), list ? list->date.c_str() : "",
                list ? list->elders : size_t{0});
  ImGui::TextUnformatted(title);
  const char* keys = app.tr(Msg::pv_keys);
  ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - ImGui::CalcTextSize(keys).x);
  ImGui::TextColored(kMutedText, "%s", keys);
  last_result(app);
  ImGui::Separator();
  if (!list) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::pv_loading));
    return out;
  }
  const auto& rows = list->visits;
  if (rows.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::pv_empty));
    return out;
  }

  // The keys: Up/Down choose an elder, R and N record the call, unless a field has
  // focus. An elder may have two rows (the plan's and a campaign's): one call answers
  // both, so the keys step from elder to elder.
  int selected = -1;
  for (size_t k = 0; k < rows.size() && selected < 0; ++k)
    if (rows[k].elder == ui.visit_row) selected = static_cast<int>(k);
  int keyed = -1;
  const int n = static_cast<int>(rows.size());
  if (key_pressed(kKeyDown)) {
    keyed = selected < 0 ? 0 : selected;
    for (int k = std::max(selected, 0); k < n; ++k)
      if (rows[k].elder != ui.visit_row) {
        keyed = k;
        break;
      }
  }
  if (key_pressed(kKeyUp)) {
    keyed = selected < 0 ? 0 : selected;
    for (int k = selected - 1; k >= 0; --k)
      if (rows[k].elder != ui.visit_row) {
        keyed = k;
        while (keyed > 0 && rows[keyed - 1].elder == rows[k].elder) --keyed;
        break;
      }
  }
  if (keyed >= 0 && rows[keyed].elder != ui.visit_row) out.push(cmd::SelectVisit{rows[keyed].elder});
  if (keyed < 0 && ui.scroll_to_visit_row && selected >= 0) keyed = selected;
  ui.scroll_to_visit_row = false;
  const Request* pending = app.last_request(0, Action::phone_visit_result);
  const bool can = app.live() && !(pending && pending->status == Request::Status::sending);
  if (can && selected >= 0 && !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId)) {
    if (key_pressed('R')) out.push(cmd::PhoneVisitResult{rows[selected].elder, true});
    if (key_pressed('N')) out.push(cmd::PhoneVisitResult{rows[selected].elder, false});
  }

  const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerH |
                                ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_PadOuterX;
  if (!ImGui::BeginTable("phone_visits", 8, flags)) return out;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(app.tr(Msg::col_name), ImGuiTableColumnFlags_WidthStretch, 0.9f);
  ImGui::TableSetupColumn(app.tr(Msg::col_tier), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableSetupColumn(app.tr(Msg::phone), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_reason), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_state), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableSetupColumn(app.tr(Msg::col_tries), ImGuiTableColumnFlags_WidthStretch, 0.4f);
  ImGui::TableSetupColumn(app.tr(Msg::col_plan), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_actions), ImGuiTableColumnFlags_WidthStretch, 1.5f);
  ImGui::TableHeadersRow();

  const float row_h = ImGui::GetFrameHeight() + 6;
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(rows.size()));
  if (keyed >= 0) clipper.ForceDisplayRangeByIndices(keyed, keyed + 1);
  while (clipper.Step())
    for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
      const VisitItem& v = rows[k];
      const bool done = v.state == "done";
      const bool chosen = v.elder == ui.visit_row;
      ImGui::PushID(static_cast<int>(v.elder));
      ImGui::PushID((v.reason + v.campaign).c_str());
      ImGui::TableNextRow(ImGuiTableRowFlags_None, row_h);
      if (v.state == "late")
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, ImGui::GetColorU32(ImVec4(0.84f, 0.27f, 0.25f, 0.10f)));

      ImGui::TableNextColumn();
      const ImVec2 start = ImGui::GetCursorPos();
      if (ImGui::Selectable("##row", chosen,
                            ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap,
                            ImVec2(0, row_h)))
        out.push(cmd::SelectVisit{v.elder});
      if (k == keyed) scroll_row_into_view();
      const float text_dy = (row_h - ImGui::GetTextLineHeight()) / 2;
      ImGui::SetCursorPos(ImVec2(start.x, start.y + text_dy));
      ImGui::TextColored(done ? kMutedText : ImGui::GetStyle().Colors[ImGuiCol_Text], "%s", v.name.c_str());

      auto cell = [&](const char* text, ImVec4 colour = ImVec4(0, 0, 0, 0)) {
        ImGui::TableNextColumn();
        ImGui::SetCursorPosY(ImGui::GetCursorPosY() + text_dy);
        if (colour.w > 0) ImGui::TextColored(colour, "%s", text);
        else ImGui::TextUnformatted(text);
      };
      cell(v.tier ? app.tr(*v.tier) : "", v.tier ? tier_color(*v.tier) : kMutedText);
      cell(v.phone.c_str());
      std::string reason = app.tr(reason_label(v.reason));
      if (!v.campaign.empty()) reason += " · " + v.campaign;
      cell(reason.c_str(), v.reason == "plan" ? ImVec4(0, 0, 0, 0) : kAccent);
      cell(app.tr(state_label(v.state)), state_colour(v.state));
      char tries[16];
      std::snprintf(tries, sizeof tries, "%d", v.tries);
      cell(tries, v.tries ? kWarnText : kMutedText);
      cell(plan_words(app, v.plan).c_str(), kMutedText);

      ImGui::TableNextColumn();
      ImGui::SetCursorPosY(ImGui::GetCursorPosY() + 3);
      if (action_button(app.tr(Msg::pv_reached), k == selected ? 'R' : 0, can, ImVec4(0.20f, 0.50f, 0.32f, 1))) {
        out.push(cmd::SelectVisit{v.elder});
        out.push(cmd::PhoneVisitResult{v.elder, true});
      }
      ImGui::SameLine();
      if (action_button(app.tr(Msg::pv_no_answer), k == selected ? 'N' : 0, can)) {
        out.push(cmd::SelectVisit{v.elder});
        out.push(cmd::PhoneVisitResult{v.elder, false});
      }
      ImGui::PopID();
      ImGui::PopID();
    }
  ImGui::EndTable();
  return out;
}

Commands draw_visit_figures(const App& app, UiState& ui) {
  Commands out;
  if (app.visit_figures_wanted()) out.push(cmd::VisitFigures{});
  const auto& month = app.visit_report_month();
  const auto& week = app.visit_report_week();
  if (!month && !week) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::vr_waiting));

  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float w = (ImGui::GetContentRegionAvail().x - 4 * gap) / 5;
  rate_tiles(app, "month", Msg::vr_month, month, w);
  ImGui::SameLine();
  rate_tiles(app, "week", Msg::vr_week, week, w);
  ImGui::SameLine();
  count_tile(app, month, w);

  // The parts below the figures, one at a time; the month's exports under them all.
  const float bottom = ImGui::GetFrameHeightWithSpacing() * 2 + 4;
  if (ImGui::BeginTabBar("visits_sections")) {
    const Msg labels[] = {Msg::vs_overview, Msg::vs_campaign, Msg::vs_hazards, Msg::vs_pairing, Msg::vs_roster};
    for (int k = 0; k < kVisitsSections; ++k) {
      char label[128];
      if (k == VisitsSection::hazards && month && (month->open_hazards || month->flagged))
        std::snprintf(label, sizeof label, "%s (%zu)###vs%d", app.tr(labels[k]), month->open_hazards + month->flagged, k);
      else
        std::snprintf(label, sizeof label, "%s###vs%d", app.tr(labels[k]), k);
      const bool pick = ui.visits_section_pick == k;
      if (!ImGui::BeginTabItem(label, nullptr, pick ? ImGuiTabItemFlags_SetSelected : 0)) continue;
      ui.visits_section = k;
      ImGui::BeginChild("section", ImVec2(0, -bottom), false);
      switch (k) {
        case VisitsSection::overview:
          ImGui::BeginChild("towns_pane", ImVec2(ImGui::GetContentRegionAvail().x * 0.58f, 0), false);
          town_table(app, month, week);
          ImGui::EndChild();
          ImGui::SameLine();
          ImGui::BeginChild("campaigns_pane", ImVec2(0, 0), false);
          out += draw_campaign_list(app, true);
          ImGui::Spacing();
          draw_pairing(app, 3);
          ImGui::EndChild();
          break;
        case VisitsSection::campaign:
          ImGui::BeginChild("form_pane", ImVec2(ImGui::GetContentRegionAvail().x * 0.55f, 0), false);
          out += draw_campaign_form(app, ui);
          ImGui::EndChild();
          ImGui::SameLine();
          ImGui::BeginChild("campaigns_pane", ImVec2(0, 0), false);
          out += draw_campaign_list(app, true);
          ImGui::EndChild();
          break;
        case VisitsSection::hazards:
          out += draw_hazards(app, ui, ImGui::GetContentRegionAvail().y * 0.5f);
          ImGui::Spacing();
          draw_flagged(app);
          break;
        case VisitsSection::pairing:
          draw_pairing(app, 30);
          break;
        case VisitsSection::roster:
          out += draw_roster_import(app, ui);
          break;
      }
      ImGui::EndChild();
      ImGui::EndTabItem();
    }
    ui.visits_section_pick = -1;
    ImGui::EndTabBar();
  }
  out += draw_visit_exports(app);
  return out;
}

}  // namespace anxin::console
