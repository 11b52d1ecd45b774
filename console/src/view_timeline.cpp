// The incident's record, oldest first: alerts, acknowledgement, call-back,
// offers and responders, calls, notes, escalations, calls on the phone line. Codes
// the server writes into an entry's text (a call-back outcome, a disposition, an
// escalation, a phone call's summary, a notice that could not be delivered) are
// shown in words, a call's recording with a play button; device detail JSON as
// sent, whole on hover.
#include <algorithm>
#include <cstdio>
#include <string>

#include "alert_detail.hpp"
#include "notices.hpp"
#include "views.hpp"

namespace anxin::console {
namespace {

std::string detail_text(const App& app, const TimelineEntry& t) {
  if (auto words = describe_entry(app, t)) return *words;  // manual alerts, field reports (view_history.cpp)
  switch (t.kind) {
    case TimelineKind::callback:
      if (auto o = parse_enum<CallbackOutcome>(t.text)) return app.tr(*o);
      break;
    case TimelineKind::resolved:
      if (auto d = parse_enum<Disposition>(t.text)) return app.tr(*d);
      break;
    case TimelineKind::escalated:
      if (auto k = parse_enum<EscalationKind>(t.text)) return app.tr(*k);
      break;
    case TimelineKind::alert:
      if (t.text == "{}") return "";
      if (t.alert_kind == AlertKind::phone_call)
        if (auto call = describe_phone_alert(app.lang(), t.text)) return *call;
      return describe_alert_detail(app.lang(), t.text);  // readings in words and units, never JSON
    case TimelineKind::call: {
      // "ambulance_120", "ambulance_120:answered", "family:王建国", "family:exhausted"
      const auto colon = t.text.find(':');
      auto kind = parse_enum<CallKind>(t.text.substr(0, colon));
      if (!kind) break;
      std::string out = app.tr(*kind);
      if (colon == std::string::npos) return out;
      const std::string rest = t.text.substr(colon + 1);
      if (auto state = parse_enum<CallState>(rest)) return out + " · " + app.tr(*state);
      if (rest == "exhausted") return out + " · " + app.tr(Msg::cascade_exhausted);
      return out + " · " + rest;  // the contact's name
    }
    case TimelineKind::phone:
      if (auto call = parse_phone_entry(t.text)) return describe(app.lang(), *call);
      break;
    case TimelineKind::notice_failed:
      if (auto notice = parse_failed_notice(t.text)) return describe(app.lang(), *notice);
      break;
    case TimelineKind::handed_over:
      return describe_handover(app, t);  // view_mine.cpp
    case TimelineKind::notified: {
      char text[96];
      std::snprintf(text, sizeof text, app.tr(Msg::notified_fmt), t.text.c_str());
      return text;
    }
    default: break;
  }
  return t.text;
}

// ▶ for a call's recording: fetched from the server, played here (or saved, with no
// sound device); how far the last press got beside it.
Commands recording_button(const App& app, const std::string& name) {
  Commands out;
  ImGui::SameLine(0, 10);
  if (ImGui::SmallButton(app.tr(Msg::recording_play))) out.push(cmd::PlayRecording{name});
  const auto& p = app.playback();
  if (!p || p->name != name) return out;
  ImGui::SameLine();
  using S = App::Playback::Status;
  char saved[512];
  switch (p->status) {
    case S::fetching: ImGui::TextColored(kMutedText, "%s", app.tr(Msg::recording_fetching)); break;
    case S::playing: ImGui::TextColored(kGoodText, "%s", app.tr(Msg::recording_playing)); break;
    case S::saved:
      std::snprintf(saved, sizeof saved, app.tr(Msg::recording_saved_fmt), p->path.c_str());
      ImGui::TextColored(kMutedText, "%s", saved);
      break;
    case S::failed: ImGui::TextColored(kBadText, "%s", app.tr(Msg::recording_failed)); break;
  }
  return out;
}

}  // namespace

Commands draw_timeline(const App& app, const Incident& i) {
  Commands out;
  heading(app.tr(Msg::timeline));
  const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerH |
                                ImGuiTableFlags_SizingStretchProp;
  // In a scrolling pane the table needs a height of its own: its rows, up to a
  // screenful, or the rest of the pane when that is larger.
  const float row_h = ImGui::GetTextLineHeightWithSpacing() + 2;
  const float wanted = row_h * static_cast<float>(std::min<size_t>(i.timeline.size(), 14) + 1) + 8;
  const float height = std::max(wanted, ImGui::GetContentRegionAvail().y);
  if (!ImGui::BeginTable("timeline", 4, flags, ImVec2(0, height))) return out;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(app.tr(Msg::col_time), ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::col_event), ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::col_actor), ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::col_detail), ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(i.timeline.size()));
  while (clipper.Step()) {
    for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
      const TimelineEntry& t = i.timeline[k];
      ImGui::PushID(k);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextColored(kMutedText, "%s", format_hms(t.at_ms).c_str());
      ImGui::TableNextColumn();
      if (t.kind == TimelineKind::notice_failed)  // someone was not told: the operator must act
        ImGui::TextColored(kBadText, "%s", app.tr(t.kind));
      else
        ImGui::TextUnformatted(t.kind == TimelineKind::alert ? app.tr(t.alert_kind) : app.tr(t.kind));
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(t.actor == "system" ? app.tr(Msg::actor_system) : t.actor.c_str());
      ImGui::TableNextColumn();
      const std::string detail = detail_text(app, t);
      ImGui::PushStyleColor(ImGuiCol_Text, kMutedText);
      ImGui::TextUnformatted(detail.c_str());  // not Text(): it truncates long strings
      ImGui::PopStyleColor();
      if (ImGui::IsItemHovered() && !detail.empty()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
        ImGui::TextUnformatted(detail.c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
      }
      if (t.kind == TimelineKind::phone)
        if (auto call = parse_phone_entry(t.text); call && !call->recording.empty())
          out += recording_button(app, call->recording);
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
  return out;
}

}  // namespace anxin::console
