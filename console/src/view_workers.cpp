// The workers board: every field worker with status, phone, how old their position
// is, what they are doing (click it, or Enter on the chosen row, to open the incident)
// and since when they have been on duty. Those working an incident come first, then the available, then
// visiting, then (if shown) off duty.
#include <algorithm>
#include <cstdio>

#include "views.hpp"

namespace anxin::console {
namespace {

int status_order(WorkerStatus s) {
  switch (s) {
    case WorkerStatus::on_scene: return 0;
    case WorkerStatus::en_route: return 1;
    case WorkerStatus::offered: return 2;
    case WorkerStatus::available: return 3;
    case WorkerStatus::busy_visiting: return 4;
    case WorkerStatus::off_duty: return 5;
  }
  return 6;
}

// Rebuilt only when a worker changed or the filter did, not every frame.
const std::vector<const Worker*>& sorted(const App& app, UiState& ui) {
  const Replica& r = app.replica();
  if (ui.workers_version == r.version() && ui.workers_sorted_on_duty_only == ui.workers_on_duty_only)
    return ui.workers_sorted;
  ui.workers_sorted.clear();
  for (const auto& [id, w] : r.workers())
    if (!ui.workers_on_duty_only || w.status != WorkerStatus::off_duty) ui.workers_sorted.push_back(&w);
  std::sort(ui.workers_sorted.begin(), ui.workers_sorted.end(), [](const Worker* a, const Worker* b) {
    const int sa = status_order(a->status), sb = status_order(b->status);
    return sa != sb ? sa < sb : a->id < b->id;
  });
  ui.workers_version = r.version();
  ui.workers_sorted_on_duty_only = ui.workers_on_duty_only;
  return ui.workers_sorted;
}

// A call to a worker is filed under the incident they are working, else the one
// open in the workspace (a call on the line always belongs to an incident); none: 0.
IncidentId call_incident(const App& app, const Worker& w) {
  const Replica& r = app.replica();
  const IncidentId incident = w.incident && r.incident(w.incident) ? w.incident : app.selected().value_or(0);
  return incident && r.incident(incident) ? incident : 0;
}

// The worker's number, and a button that dials it from my seat on the phone line (B
// on the chosen row does the same).
Commands phone(const App& app, const Worker& w) {
  Commands out;
  ImGui::TextUnformatted(w.phone.c_str());
  if (w.phone.empty() || !app.line() || !app.line()->configured) return out;
  const IncidentId incident = call_incident(app, w);
  ImGui::SameLine(0, 8);
  if (ImGui::SmallButton(app.tr(Msg::wk_call)) && app.can_dial() && incident)
    out.push(cmd::Dial{incident, "worker", w.id});
  if (!incident && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", app.tr(Msg::wk_no_incident));
  return out;
}

// ↑ ↓ choose a row, B dials its worker, Enter opens their task. True when the row moved.
bool row_keys(const App& app, UiState& ui, const std::vector<const Worker*>& workers, Commands& out) {
  const int n = static_cast<int>(workers.size());
  const int before = ui.worker_row;
  if (key_pressed(kKeyDown)) ++ui.worker_row;
  if (key_pressed(kKeyUp)) --ui.worker_row;
  ui.worker_row = std::clamp(ui.worker_row, 0, std::max(n - 1, 0));
  if (n == 0) return false;
  const Worker& w = *workers[static_cast<size_t>(ui.worker_row)];
  const IncidentId incident = call_incident(app, w);
  if (key_pressed('B') && !w.phone.empty() && app.can_dial() && incident) out.push(cmd::Dial{incident, "worker", w.id});
  if (key_pressed(kKeyEnter) && w.incident && app.replica().incident(w.incident)) {
    out.push(cmd::Select{w.incident});
    out.push(cmd::Show{View::incident});
  }
  return ui.worker_row != before;
}

void status_counts(const App& app) {
  int counts[6] = {};
  for (const auto& [id, w] : app.replica().workers()) counts[static_cast<int>(w.status)]++;
  for (WorkerStatus s : {WorkerStatus::available, WorkerStatus::offered, WorkerStatus::en_route,
                         WorkerStatus::on_scene, WorkerStatus::busy_visiting, WorkerStatus::off_duty}) {
    char text[64];
    std::snprintf(text, sizeof text, "%s %d", app.tr(s), counts[static_cast<int>(s)]);
    ImGui::SameLine(0, 8);
    chip(text, worker_color(s));
  }
}

}  // namespace

Commands draw_workers(const App& app, UiState& ui) {
  Commands out;
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted(app.tr(Msg::workers_title));
  status_counts(app);
  ImGui::SameLine(0, 24);
  ImGui::Checkbox(app.tr(Msg::on_duty_only), &ui.workers_on_duty_only);

  const auto& workers = sorted(app, ui);
  const bool moved = row_keys(app, ui, workers, out);
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::wk_keys_hint));
  const Replica& r = app.replica();
  const Millis now = app.server_now_ms();
  const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerH |
                                ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_PadOuterX;
  if (!ImGui::BeginTable("workers", 9, flags)) return out;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(app.tr(Msg::col_name), ImGuiTableColumnFlags_WidthStretch, 0.8f);
  ImGui::TableSetupColumn(app.tr(Msg::col_role), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableSetupColumn(app.tr(Msg::col_phone), ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::col_status), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableSetupColumn(app.tr(Msg::col_town), ImGuiTableColumnFlags_WidthStretch, 0.8f);
  ImGui::TableSetupColumn(app.tr(Msg::col_mode), ImGuiTableColumnFlags_WidthStretch, 0.5f);
  ImGui::TableSetupColumn(app.tr(Msg::col_position_age), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableSetupColumn(app.tr(Msg::col_task), ImGuiTableColumnFlags_WidthStretch, 1.6f);
  ImGui::TableSetupColumn(app.tr(Msg::col_shift), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableHeadersRow();

  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(workers.size()));
  if (moved) clipper.ForceDisplayRangeByIndices(ui.worker_row, ui.worker_row + 1);
  while (clipper.Step()) {
    for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
      const Worker& w = *workers[k];
      ImGui::PushID(static_cast<int>(w.id));
      ImGui::TableNextRow();
      if (k == ui.worker_row) {
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, ImGui::GetColorU32(ImGuiCol_Header));
        if (moved) ImGui::SetScrollHereY();
      }
      ImGui::PushStyleVar(ImGuiStyleVar_Alpha, w.status == WorkerStatus::off_duty ? 0.55f : 1.0f);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(w.name.c_str());
      ImGui::TableNextColumn();
      ImGui::TextColored(kMutedText, "%s", app.tr(w.role));
      ImGui::TableNextColumn();
      out += phone(app, w);
      ImGui::TableNextColumn();
      ImGui::TextColored(worker_color(w.status), "%s", app.tr(w.status));
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(w.town.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(app.tr(w.mode));
      ImGui::TableNextColumn();
      const bool old = w.position_ms && now - w.position_ms > 10 * 60'000;  // the candidate ranking's "stale"
      ImGui::TextColored(old ? kWarnText : ImGui::GetStyle().Colors[ImGuiCol_Text], "%s",
                         format_age(app, w.position_ms, now).c_str());
      ImGui::TableNextColumn();
      if (const Incident* i = w.incident ? r.incident(w.incident) : nullptr) {
        const protocol::ElderCard* e = r.elder(i->elder);
        char task[160];
        std::snprintf(task, sizeof task, "#%lld  %s  %s", static_cast<long long>(i->id), e ? e->name.c_str() : "",
                      app.tr(i->lead_kind()));
        if (ImGui::Selectable(task, app.selected() == i->id)) {
          out.push(cmd::Select{i->id});
          out.push(cmd::Show{View::incident});
        }
      }
      ImGui::TableNextColumn();
      if (w.status != WorkerStatus::off_duty && w.duty_since_ms) ImGui::TextUnformatted(format_hm(w.duty_since_ms).c_str());
      ImGui::PopStyleVar();
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
  return out;
}

}  // namespace anxin::console
