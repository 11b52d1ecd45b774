// The supervisor's dashboard: the live queue (depth, longest wait), today's
// acknowledgements against the TSA targets, the response intervals' p50/p90,
// incidents per hour, each operator's load, and the escalations not yet cleared.
// Today's figures come from the server's `metrics`, asked for every few seconds
// while this view is on screen. Everything here exports as CSV. A second tab
// (key 2; key 1 back) holds the visiting programme's figures (view_visits.cpp).
#include <algorithm>
#include <cstdio>

#include "dashboard.hpp"
#include "fonts.hpp"
#include "views.hpp"

namespace anxin::console {
namespace {

constexpr Millis kMetricsEveryMs = 5000;

void figure(const char* label, const char* value, ImVec4 color, const char* note = nullptr) {
  ImGui::TextColored(kMutedText, "%s", label);
  if (ImFont* big = figures_font()) ImGui::PushFont(big);
  ImGui::TextColored(color, "%s", value);
  if (figures_font()) ImGui::PopFont();
  if (note) ImGui::TextColored(kMutedText, "%s", note);
}

// A tile of the top row; `body` draws inside it.
template <class F>
void tile(const char* id, float width, F body) {
  ImGui::BeginChild(id, ImVec2(width, ImGui::GetFontSize() * 6.2f), true, ImGuiWindowFlags_NoScrollbar);
  body();
  ImGui::EndChild();
}

// A percentage against its target: a bar, with the target as a tick.
void target_bar(double pct, double target) {
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x, h = 6;
  // The interesting range is 90-100%: below 90 the bar is simply empty.
  auto x_of = [&](double v) { return p.x + w * static_cast<float>(std::clamp((v - 90.0) / 10.0, 0.0, 1.0)); };
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p, ImVec2(p.x + w, p.y + h), IM_COL32(60, 65, 75, 255), 3);
  dl->AddRectFilled(p, ImVec2(x_of(pct), p.y + h), ImGui::GetColorU32(pct >= target ? kGoodText : kBadText), 3);
  dl->AddLine(ImVec2(x_of(target), p.y - 3), ImVec2(x_of(target), p.y + h + 3), IM_COL32(230, 230, 230, 220), 2);
  ImGui::Dummy(ImVec2(w, h + 4));
}

void queue_tiles(const App& app, const DashboardFigures& f, float w) {
  char v[64], note[160];
  tile("depth", w, [&] {
    std::snprintf(v, sizeof v, "%zu", f.open);
    figure(app.tr(Msg::dash_queue_depth), v, ImGui::GetStyle().Colors[ImGuiCol_Text]);
  });
  ImGui::SameLine();
  tile("waiting", w, [&] {
    std::snprintf(v, sizeof v, "%zu", f.unacknowledged);
    figure(app.tr(Msg::dash_unacknowledged), v, f.unacknowledged ? kWarnText : kGoodText);
  });
  ImGui::SameLine();
  tile("oldest", w, [&] {
    const Incident* i = f.oldest_id ? app.replica().incident(f.oldest_id) : nullptr;
    const protocol::ElderCard* e = i ? app.replica().elder(i->elder) : nullptr;
    std::snprintf(v, sizeof v, "%s", f.oldest_id ? format_waiting(f.oldest_wait_ms).c_str() : "—");
    std::snprintf(note, sizeof note, "#%lld %s", static_cast<long long>(f.oldest_id), e ? e->name.c_str() : "");
    figure(app.tr(Msg::dash_oldest), v, f.oldest_wait_ms > 60'000 ? kBadText : ImGui::GetStyle().Colors[ImGuiCol_Text],
           f.oldest_id ? note : nullptr);
  });
}

void ack_tile(const App& app, const char* id, Msg label, size_t within, size_t of, double pct, double target,
              float w) {
  tile(id, w, [&] {
    char v[32], note[96], goal[48];
    // Nothing acknowledged yet today is no achievement: a dash, not 100%.
    if (of) std::snprintf(v, sizeof v, "%.1f%%", pct);
    else std::snprintf(v, sizeof v, "—");
    figure(app.tr(label), v, !of ? kMutedText : pct >= target ? kGoodText : kBadText);
    std::snprintf(goal, sizeof goal, app.tr(Msg::dash_target_fmt), target);
    std::snprintf(note, sizeof note, app.tr(Msg::dash_of_fmt), within, of);
    ImGui::TextColored(kMutedText, "%s  ·  %s", note, goal);
    if (of) target_bar(pct, target);
  });
}

void intervals(const App& app, const DashboardFigures& f) {
  heading(app.tr(Msg::dash_intervals));
  if (!ImGui::BeginTable("intervals", 4, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH)) return;
  ImGui::TableSetupColumn(app.tr(Msg::col_interval), ImGuiTableColumnFlags_WidthStretch, 1.6f);
  ImGui::TableSetupColumn(app.tr(Msg::col_count), ImGuiTableColumnFlags_WidthStretch, 0.5f);
  ImGui::TableSetupColumn(app.tr(Msg::col_p50), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableSetupColumn(app.tr(Msg::col_p90), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableHeadersRow();
  for (size_t k = 0; k < kIntervals; ++k) {
    const IntervalStats& s = f.intervals[k];
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(app.tr(static_cast<Interval>(k)));
    ImGui::TableNextColumn();
    ImGui::Text("%zu", s.count);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(s.count ? format_waiting(s.p50_ms).c_str() : "—");
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(s.count ? format_waiting(s.p90_ms).c_str() : "—");
  }
  ImGui::EndTable();
}

void per_hour(const App& app, const DashboardFigures& f) {
  heading(app.tr(Msg::dash_per_hour));
  const size_t peak = std::max<size_t>(1, *std::max_element(f.per_hour.begin(), f.per_hour.end()));
  const ImVec2 p = ImGui::GetCursorScreenPos();
  // The chart takes the rest of the column: a night's shape is worth the room.
  const float w = ImGui::GetContentRegionAvail().x;
  const float h = std::max(ImGui::GetFontSize() * 7, ImGui::GetContentRegionAvail().y - 8);
  const float label_h = ImGui::GetTextLineHeight();
  const float bar_w = w / 24;
  const std::tm tm = centre_time(f.now_ms);  // the server counts hours at the centre too
  ImDrawList* dl = ImGui::GetWindowDrawList();
  for (int k = 0; k < 24; ++k) {
    const float x = p.x + bar_w * static_cast<float>(k);
    const float bh = (h - label_h * 2) * static_cast<float>(f.per_hour[k]) / static_cast<float>(peak);
    const float base = p.y + h - label_h;
    const ImU32 c = k == tm.tm_hour ? ImGui::GetColorU32(kAccent) : IM_COL32(110, 125, 145, 255);
    if (f.per_hour[k]) dl->AddRectFilled(ImVec2(x + 2, base - bh), ImVec2(x + bar_w - 2, base), c, 2);
    dl->AddLine(ImVec2(x, base), ImVec2(x + bar_w, base), IM_COL32(70, 75, 85, 255));
    char n[24];
    if (f.per_hour[k]) {
      std::snprintf(n, sizeof n, "%zu", f.per_hour[k]);
      const float tw = ImGui::CalcTextSize(n).x;
      if (tw < bar_w) dl->AddText(ImVec2(x + (bar_w - tw) / 2, base - bh - label_h), IM_COL32(190, 195, 205, 255), n);
    }
    if (k % 3 == 0) {
      std::snprintf(n, sizeof n, "%02d", k);
      dl->AddText(ImVec2(x + 2, base + 1), ImGui::GetColorU32(kMutedText), n);
    }
  }
  ImGui::Dummy(ImVec2(w, h));
}

void operators(const App& app, const DashboardFigures& f) {
  heading(app.tr(Msg::dash_per_operator));
  if (!f.have_per_operator) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::dash_load_from_queue));
  if (f.operators.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::none));
    return;
  }
  if (!ImGui::BeginTable("operators", 4, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH)) return;
  ImGui::TableSetupColumn(app.tr(Msg::col_operator), ImGuiTableColumnFlags_WidthStretch, 1.2f);
  ImGui::TableSetupColumn(app.tr(Msg::col_acknowledged), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableSetupColumn(app.tr(Msg::col_resolved), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableSetupColumn(app.tr(Msg::col_open), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableHeadersRow();
  for (const OperatorRow& o : f.operators) {
    ImGui::PushID(o.name.c_str());
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(o.name.c_str());
    ImGui::TableNextColumn();
    if (f.have_per_operator) ImGui::Text("%zu", o.acknowledged);
    ImGui::TableNextColumn();
    if (f.have_per_operator) ImGui::Text("%zu", o.resolved);
    ImGui::TableNextColumn();
    ImGui::Text("%zu", o.open);
    ImGui::PopID();
  }
  ImGui::EndTable();
}

Commands escalations(const App& app, const DashboardFigures& f) {
  Commands out;
  heading(app.tr(Msg::dash_escalations));
  if (f.escalations.empty()) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::dash_no_escalations));
  if (f.escalations.empty()) return out;
  // One row per incident, the most serious first (dashboard.cpp), under column headers.
  const float list_h = ImGui::GetContentRegionAvail().y - ImGui::GetFrameHeightWithSpacing() * 2;
  const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingStretchProp;
  if (!ImGui::BeginTable("escalations", 4, flags, ImVec2(0, std::max(list_h, ImGui::GetFontSize() * 4)))) return out;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(app.tr(Msg::dash_col_escalation), ImGuiTableColumnFlags_WidthStretch, 1.6f);
  ImGui::TableSetupColumn(app.tr(Msg::dash_col_incident), ImGuiTableColumnFlags_WidthStretch, 0.6f);
  ImGui::TableSetupColumn(app.tr(Msg::col_elder), ImGuiTableColumnFlags_WidthStretch, 0.9f);
  ImGui::TableSetupColumn(app.tr(Msg::dash_col_since), ImGuiTableColumnFlags_WidthStretch, 0.6f);
  ImGui::TableHeadersRow();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(f.escalations.size()));
  while (clipper.Step())
    for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
      const ActiveEscalation& x = f.escalations[k];
      ImGui::PushID(k);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      std::string kinds;
      for (auto kind : x.kinds) kinds += (kinds.empty() ? "" : " · ") + std::string(app.tr(kind));
      if (ImGui::Selectable("##esc", app.selected() == x.incident, ImGuiSelectableFlags_SpanAllColumns)) {
        out.push(cmd::Select{x.incident});
        out.push(cmd::Show{View::incident});
      }
      ImGui::SameLine(0, 0);
      ImGui::TextColored(x.kind == EscalationKind::unacknowledged ? kWarnText : kBadText, "%s", kinds.c_str());
      ImGui::TableNextColumn();
      ImGui::Text("#%lld", static_cast<long long>(x.incident));
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(x.elder.c_str());
      ImGui::TableNextColumn();
      ImGui::TextColored(kMutedText, "%s", format_waiting(f.now_ms - x.at_ms).c_str());
      ImGui::PopID();
    }
  ImGui::EndTable();
  return out;
}

// Recomputed when the replica, the second or the server's figures change.
const DashboardFigures& figures(const App& app, UiState& ui) {
  const Millis now = app.server_now_ms();
  const Millis metrics_ms = app.metrics() ? app.metrics()->server_time_ms : 0;
  if (ui.figures_version != app.replica().version() || ui.figures_second != now / 1000 ||
      ui.figures_metrics_ms != metrics_ms) {
    std::optional<MetricsSummary> summary;
    if (app.metrics()) summary = app.metrics()->summary;
    ui.figures = dashboard_figures(app.replica(), summary, now);
    ui.figures_version = app.replica().version();
    ui.figures_second = now / 1000;
    ui.figures_metrics_ms = metrics_ms;
  }
  return ui.figures;
}

Commands draw_alarm_figures(const App& app, UiState& ui) {
  Commands out;
  const DashboardFigures& f = figures(app, ui);

  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float w = (ImGui::GetContentRegionAvail().x - 4 * gap) / 5;
  queue_tiles(app, f, w);
  ImGui::SameLine();
  ack_tile(app, "ack60", Msg::dash_ack_60, f.within_60s, f.acknowledged, f.pct_60s(), kTarget60sPct, w);
  ImGui::SameLine();
  ack_tile(app, "ack180", Msg::dash_ack_180, f.within_180s, f.acknowledged, f.pct_180s(), kTarget180sPct, w);
  if (!f.have_metrics) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::dash_waiting_metrics));

  const float left_w = ImGui::GetContentRegionAvail().x * 0.55f;
  ImGui::BeginChild("left", ImVec2(left_w, -ImGui::GetFrameHeightWithSpacing() - 4), false);
  intervals(app, f);
  per_hour(app, f);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("right", ImVec2(0, -ImGui::GetFrameHeightWithSpacing() - 4), false);
  operators(app, f);
  out += escalations(app, f);
  ImGui::EndChild();

  if (ImGui::Button(app.tr(Msg::dash_export))) out.push(cmd::ExportDashboard{});
  if (const auto& result = app.export_result()) {
    ImGui::SameLine();
    ImGui::TextColored(result->ok ? kGoodText : kBadText, "%s  %s",
                       app.tr(result->ok ? Msg::dash_exported : Msg::dash_export_failed), result->path.c_str());
  }
  if (app.metrics()) {
    char updated[64];
    std::snprintf(updated, sizeof updated, app.tr(Msg::dash_updated_fmt),
                  format_hms(app.metrics()->server_time_ms).c_str());
    const float tw = ImGui::CalcTextSize(updated).x;
    ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - tw);
    ImGui::TextColored(kMutedText, "%s", updated);
  }
  return out;
}

}  // namespace

Commands draw_dashboard(const App& app, UiState& ui) {
  Commands out;
  if (app.live() && !app.metrics_pending() && app.metrics_age_ms() >= kMetricsEveryMs) out.push(cmd::Metrics{});
  if (key_pressed('1')) ui.dashboard_tab_pick = 0;
  if (key_pressed('2')) ui.dashboard_tab_pick = 1;
  if (ImGui::BeginTabBar("dashboard_tabs")) {
    const Msg labels[] = {Msg::dash_tab_alarms, Msg::dash_tab_visits};
    for (int k = 0; k < 2; ++k) {
      char label[96];
      std::snprintf(label, sizeof label, "%s###tab%d", app.tr(labels[k]), k);
      if (ImGui::BeginTabItem(label, nullptr, ui.dashboard_tab_pick == k ? ImGuiTabItemFlags_SetSelected : 0)) {
        ui.dashboard_tab = k;
        out += k == 0 ? draw_alarm_figures(app, ui) : draw_visit_figures(app, ui);
        ImGui::EndTabItem();
      }
    }
    ui.dashboard_tab_pick = -1;
    ImGui::EndTabBar();
  }
  return out;
}

}  // namespace anxin::console
