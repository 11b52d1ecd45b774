// Who is going and who could: the incident's responders (each offer with its
// state, ETA and the countdown before it lapses to the next candidate), then the
// server's candidate list, best first, each with a Dispatch button (the
// operator's override of the ranking).
#include <cstdio>

#include "views.hpp"

namespace anxin::console {
namespace {

ImVec4 assignment_color(AssignmentState s) {
  switch (s) {
    case AssignmentState::offered: return worker_color(WorkerStatus::offered);
    case AssignmentState::accepted: return worker_color(WorkerStatus::en_route);
    case AssignmentState::on_scene: return worker_color(WorkerStatus::on_scene);
    case AssignmentState::completed: return kGoodText;
    default: return kMutedText;
  }
}

void eta_text(char* out, size_t n, double seconds) {
  format_waiting(out, n, static_cast<Millis>(seconds * 1000));
}

void responders(const App& app, const Incident& i, Millis now) {
  char title[128];
  if (i.responders_wanted > 1) {
    char wanted[48];
    std::snprintf(wanted, sizeof wanted, app.tr(Msg::responders_wanted_fmt), i.responders_wanted);
    std::snprintf(title, sizeof title, "%s  ·  %s", app.tr(Msg::responders_title), wanted);
  } else {
    std::snprintf(title, sizeof title, "%s", app.tr(Msg::responders_title));
  }
  heading(title);
  if (i.assignments.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::responders_none));
    return;
  }
  if (!ImGui::BeginTable("responders", 5, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH)) return;
  ImGui::TableSetupColumn(app.tr(Msg::col_name), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_state), ImGuiTableColumnFlags_WidthStretch, 0.8f);
  ImGui::TableSetupColumn(app.tr(Msg::col_eta), ImGuiTableColumnFlags_WidthStretch, 0.6f);
  ImGui::TableSetupColumn(app.tr(Msg::col_distance), ImGuiTableColumnFlags_WidthStretch, 0.6f);
  ImGui::TableSetupColumn(app.tr(Msg::col_flags), ImGuiTableColumnFlags_WidthStretch, 1.4f);
  ImGui::TableHeadersRow();
  for (const Assignment& a : i.assignments) {
    const Worker* w = app.replica().worker(a.worker);
    ImGui::PushID(static_cast<int>(a.id));
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::PushStyleVar(ImGuiStyleVar_Alpha, a.active() ? 1.0f : 0.55f);
    if (w) ImGui::Text("%s  %s", w->name.c_str(), app.tr(w->role));
    else ImGui::Text("#%lld", static_cast<long long>(a.worker));
    ImGui::TableNextColumn();
    ImGui::TextColored(assignment_color(a.state), "%s", app.tr(a.state));
    ImGui::TableNextColumn();
    char eta[24];
    eta_text(eta, sizeof eta, a.eta_s);
    ImGui::TextUnformatted(eta);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(format_distance(a.distance_m).c_str());
    ImGui::TableNextColumn();
    if (a.state == AssignmentState::offered) {
      char left[64];
      std::snprintf(left, sizeof left, app.tr(Msg::offer_expires_fmt), format_waiting(a.expires_ms - now).c_str());
      ImGui::TextColored(a.expires_ms - now < 15'000 ? kWarnText : kMutedText, "%s", left);
    } else if (a.state == AssignmentState::accepted && a.accepted_ms) {
      ImGui::TextColored(kMutedText, "%s %s", app.tr(AssignmentState::accepted), format_hm(a.accepted_ms).c_str());
    } else if (a.state == AssignmentState::on_scene && a.on_scene_ms) {
      ImGui::TextColored(kMutedText, "%s %s", app.tr(AssignmentState::on_scene), format_hm(a.on_scene_ms).c_str());
    } else {
      ImGui::TextColored(kMutedText, "%s", a.note.c_str());
    }
    ImGui::PopStyleVar();
    ImGui::PopID();
  }
  ImGui::EndTable();
}

// Why a candidate stands where it does, in words (the reply's `reasons`, most
// weighty first; ETA and distance have their own columns). Wrapped, never cut.
void reasons(const App& app, const protocol::CandidateView& v) {
  std::string text;
  ImVec4 color = kMutedText;
  auto add = [&](const std::string& words, ImVec4 c) {
    if (!text.empty()) text += " · ";
    else color = c;  // the first, weightiest reason sets the colour
    text += words;
  };
  char buf[96];
  for (const auto& r : v.reasons) {
    if (r.code == "paired_visitor") add(app.tr(Msg::cr_paired), kGoodText);
    else if (r.code == "not_connected") add(app.tr(Msg::cr_not_connected), kBadText);
    else if (r.code == "other_role") {
      std::snprintf(buf, sizeof buf, app.tr(Msg::cr_other_role_fmt), static_cast<int>(r.penalty_s));
      add(buf, kMutedText);
    } else if (r.code == "preferred_role") add(app.tr(Msg::cr_preferred), kMutedText);
    else if (r.code == "stale_position") {
      if (r.age_s > 86400)  // never sent, or long ago: minutes would be a meaningless number
        std::snprintf(buf, sizeof buf, app.tr(Msg::cr_stale_long_fmt), static_cast<int>(r.penalty_s));
      else
        std::snprintf(buf, sizeof buf, app.tr(Msg::cr_stale_fmt), static_cast<int>(r.age_s / 60),
                      static_cast<int>(r.penalty_s));
      add(buf, kWarnText);
    } else if (r.code != "eta") add(r.code, kMutedText);
  }
  ImGui::PushStyleColor(ImGuiCol_Text, color);
  ImGui::TextWrapped("%s", text.c_str());
  ImGui::PopStyleColor();
}

Commands candidates(const App& app, const Incident& i) {
  Commands out;
  heading(app.tr(Msg::dispatch_title));
  const protocol::CandidateList* list = app.candidates(i.id);
  const bool can_dispatch = app.live();
  if (!list) {
    ImGui::TextColored(kMutedText, "%s", app.tr(app.candidates_pending(i.id) ? Msg::candidates_loading : Msg::loading));
    return out;
  }
  if (list->candidates.empty()) {
    ImGui::TextColored(kWarnText, "%s", app.tr(Msg::candidates_none));
    return out;
  }
  // In the server's order, which is the order "dispatch best" (D) offers them in:
  // row 1 is who D sends. Each row says why it stands there.
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::cr_best_hint));
  // Narrow (the map's side panel): no transport column, and the reasons go under the
  // name, so they wrap at word width rather than a letter a line.
  const bool narrow = ImGui::GetContentRegionAvail().x < 36 * ImGui::GetFontSize();
  if (!ImGui::BeginTable("candidates", narrow ? 6 : 8, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_BordersInnerH))
    return out;
  // Fixed columns fit their content in either language; the reasons take the rest, wrapped.
  ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::col_name), narrow ? ImGuiTableColumnFlags_WidthStretch : ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::col_role), ImGuiTableColumnFlags_WidthFixed);
  if (!narrow) ImGui::TableSetupColumn(app.tr(Msg::col_mode), ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::col_distance), ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::col_eta), ImGuiTableColumnFlags_WidthFixed);
  if (!narrow) ImGui::TableSetupColumn(app.tr(Msg::col_reasons), ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableHeadersRow();
  int rank = 0;
  for (const auto& v : list->candidates) {
    const Candidate& c = v.candidate;
    ImGui::PushID(static_cast<int>(c.id));
    ImGui::TableNextRow();
    ImGui::PushStyleVar(ImGuiStyleVar_Alpha, c.connected ? 1.0f : 0.6f);
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    ImGui::TextColored(kMutedText, "%d", ++rank);
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(v.name.c_str());
    if (narrow) reasons(app, v);
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    ImGui::TextColored(c.preferred_role ? ImGui::GetStyle().Colors[ImGuiCol_Text] : kMutedText, "%s", app.tr(v.role));
    if (!narrow) {
      ImGui::TableNextColumn();
      ImGui::AlignTextToFramePadding();
      ImGui::TextUnformatted(app.tr(v.mode));
    }
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(format_distance(c.distance_m).c_str());
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    char eta[24];
    eta_text(eta, sizeof eta, c.travel_s);
    ImGui::TextUnformatted(eta);
    if (!narrow) {
      ImGui::TableNextColumn();
      ImGui::AlignTextToFramePadding();
      reasons(app, v);
    }
    ImGui::PopStyleVar();
    ImGui::TableNextColumn();
    if (action_button(app.tr(Msg::dispatch_row), 0, can_dispatch)) out.push(cmd::Dispatch{i.id, c.id, 1});
    ImGui::PopID();
  }
  ImGui::EndTable();
  return out;
}

}  // namespace

Commands draw_dispatch(const App& app, const Incident& i) {
  responders(app, i, app.server_now_ms());
  return candidates(app, i);
}

}  // namespace anxin::console
