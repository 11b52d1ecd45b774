// The incidents in my hands (issue 14, item 4): a strip at the top of the queue, in
// both the queue view and the incident view's compact queue, above the queue's own
// scrolling table, so however long the waiting queue grows they stay in sight. Up to
// four rows show at once; more scroll inside the strip, those with a new critical
// alert not yet marked seen first. Also what a resolve stands
// down, for the resolve picker to say before it sends (the server cancels every
// active responder and every pending call task on resolve: Dispatcher::resolve),
// and a handed_over timeline entry in words.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "views.hpp"

namespace anxin::console {

Commands draw_mine(const App& app, UiState& ui) {
  Commands out;
  TeamUi& t = ui.team;
  const Millis now = app.server_now_ms();
  if (t.mine_version != app.replica().version() || t.mine_second != now / 1000) {
    t.mine.clear();
    for (const Incident* i : app.mine()) t.mine.push_back(i->id);
    // One with a new critical alert not yet marked seen goes back in front (item 2).
    std::stable_partition(t.mine.begin(), t.mine.end(), [&](IncidentId id) {
      const Incident* i = app.replica().incident(id);
      return i && i->unseen_alert_ms;
    });
    t.mine_version = app.replica().version();
    t.mine_second = now / 1000;
  }
  char title[96];
  std::snprintf(title, sizeof title, app.tr(Msg::mine_title_fmt), static_cast<int>(t.mine.size()));
  ImGui::TextColored(kAccent, "%s", title);
  if (t.mine.empty()) {
    ImGui::SameLine();
    ImGui::TextColored(kMutedText, "· %s", app.tr(Msg::mine_none));
    ImGui::Separator();
    return out;
  }
  const float row_h = ImGui::GetTextLineHeightWithSpacing();
  const float h = row_h * static_cast<float>(std::min<size_t>(t.mine.size(), 4)) + 6;
  ImGui::BeginChild("mine", ImVec2(0, h), false);
  for (IncidentId id : t.mine) {
    const Incident* i = app.replica().incident(id);
    if (!i) continue;
    const protocol::ElderCard* e = app.replica().elder(i->elder);
    char waited[24];
    format_waiting(waited, sizeof waited, now - i->opened_ms);
    char text[256];
    std::snprintf(text, sizeof text, "#%lld  %s · %s · %s", static_cast<long long>(id),
                  e ? e->name.c_str() : "?", app.tr(i->lead_kind()), waited);
    ImGui::PushID(static_cast<int>(id));
    if (ImGui::Selectable(text, app.selected() == id)) out.push(cmd::Select{id});
    if (i->unseen_alert_ms) {  // a new critical alert its holder has not marked seen
      ImGui::SameLine();
      ImGui::TextColored(kBadText, "● %s", app.tr(Msg::mine_new_alert));
    }
    ImGui::PopID();
  }
  ImGui::EndChild();
  ImGui::Separator();
  return out;
}

std::vector<std::string> stand_downs(const App& app, const Incident& i) {
  std::vector<std::string> out;
  char line[256];
  for (const Assignment& a : i.assignments) {
    if (!a.active()) continue;
    const Worker* w = app.replica().worker(a.worker);
    const std::string name = w ? w->name : "#" + std::to_string(a.worker);
    if (a.state == AssignmentState::offered)
      std::snprintf(line, sizeof line, app.tr(Msg::rc_withdraw_fmt), name.c_str());
    else
      std::snprintf(line, sizeof line, app.tr(Msg::rc_stand_down_fmt), name.c_str(), app.tr(a.state));
    out.push_back(line);
  }
  for (const CallTask& c : i.calls) {
    if (!c.open()) continue;
    std::string what = app.tr(c.kind);
    if (c.kind == CallKind::family && !c.name.empty()) what += " " + c.name;
    std::snprintf(line, sizeof line, app.tr(Msg::rc_call_fmt), what.c_str());
    out.push_back(line);
  }
  return out;
}

std::string describe_handover(const App& app, const TimelineEntry& t) {
  const auto j = nlohmann::json::parse(t.text, nullptr, false);
  if (!j.is_object()) return t.text;
  auto field = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
  const std::string how = field("how");
  const Msg fmt = how == "reassigned" ? Msg::tl_reassign_fmt
                  : how == "taken_over" ? Msg::tl_take_over_fmt
                                        : Msg::tl_handover_fmt;
  char text[256];
  std::snprintf(text, sizeof text, app.tr(fmt), field("from").c_str(), field("to").c_str());
  std::string out = text;
  if (const std::string notes = field("notes"); !notes.empty()) out += "  " + std::string(app.tr(Msg::tl_notes)) + notes;
  return out;
}

}  // namespace anxin::console
