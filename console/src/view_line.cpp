// The phone line above every view (issue 9, docs/telephony.md). Each caller waiting,
// longest first, from the first ring: the number, how long it has rung (red past the
// 60 s answer target), who the line matched it to (the elder's card in brief) or an
// unknown caller, Answer (P) when it rings at my seat, and the incident. While my
// seat is on a call: the number, the time on it, and Hang up (H). The answer opens
// the caller's incident (App::on_reply). Keys act only when no text field has focus.
#include <cstdio>
#include <string>

#include "fonts.hpp"
#include "views.hpp"

namespace anxin::console {
namespace {

constexpr Millis kAnswerTargetMs = 60'000;  // the industry's mark: 97.5 % answered within 60 s
constexpr Millis kShowRefusalMs = 10'000;   // a refused answer or hang-up, shown this long
const ImVec4 kAnswerColor{0.18f, 0.55f, 0.30f, 1.0f};
const ImVec4 kHangupColor{0.62f, 0.22f, 0.22f, 1.0f};
const ImVec4 kLateColor{0.86f, 0.20f, 0.18f, 1.0f};

bool in_flight(const App& app, Action a) {
  const Request* r = app.last_request(0, a);
  return r && r->status == Request::Status::sending;
}

// Who is calling, before anyone picks up: the elder's card in brief.
void caller(const App& app, const protocol::CallView& c) {
  const protocol::ElderCard* e = c.elder ? app.replica().elder(c.elder) : nullptr;
  // No match, or the record the line made for a number it did not know.
  if (!e || e->unknown_caller) {
    ImGui::TextColored(kWarnText, "%s", app.tr(Msg::call_unknown));
    return;
  }
  ImGui::TextUnformatted(e->name.c_str());
  ImGui::SameLine(0, 12);
  ImGui::Text("%d%s  %s", e->age, app.tr(Msg::years_old), app.tr(e->sex));
  ImGui::SameLine(0, 12);
  chip(app.tr(e->tier), tier_color(e->tier));
  ImGui::SameLine(0, 12);
  ImGui::TextColored(e->living == LivingSituation::alone ? kWarnText : ImGui::GetStyle().Colors[ImGuiCol_Text], "%s",
                     app.tr(e->living));
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::address));
  ImGui::SameLine();
  ImGui::TextUnformatted(e->address.c_str());
  ImGui::SameLine(0, 20);
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::phone));
  ImGui::SameLine();
  ImGui::TextUnformatted(e->phone.c_str());
}

Commands ringing_card(const App& app, const protocol::CallView& c) {
  Commands out;
  const ImGuiStyle& style = ImGui::GetStyle();
  ImFont* big = figures_font();
  const float big_h = big ? big->FontSize : ImGui::GetFontSize();
  const float h =
      ImGui::GetTextLineHeight() + style.ItemSpacing.y + big_h + (style.WindowPadding.y + style.CellPadding.y) * 2 + 4;
  const Millis rang = app.server_now_ms() - c.since_ms;
  const bool mine = c.seat == app.seat_name();

  ImGui::PushID(c.id.c_str());
  ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0.22f, 0.12f, 0.11f, 1.0f));
  ImGui::PushStyleColor(ImGuiCol_Border, ImVec4(0.95f, 0.42f, 0.25f, 0.35f + 0.65f * app.flash_phase()));
  ImGui::PushStyleVar(ImGuiStyleVar_ChildBorderSize, 2.0f);
  ImGui::BeginChild("##ringing", ImVec2(0, h), true, ImGuiWindowFlags_NoScrollbar);
  if (ImGui::BeginTable("##call", 4, ImGuiTableFlags_SizingFixedFit)) {
    ImGui::TableSetupColumn("number", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("rang", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("caller", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("act", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableNextRow();

    ImGui::TableNextColumn();
    char to[96];
    std::snprintf(to, sizeof to, app.tr(Msg::call_to_seat_fmt), c.seat.c_str());
    ImGui::TextColored(kWarnText, "%s  ·  %s", app.tr(Msg::call_incoming), to);
    if (big) ImGui::PushFont(big);
    ImGui::TextUnformatted(c.number.empty() ? "?" : c.number.c_str());
    if (big) ImGui::PopFont();

    ImGui::TableNextColumn();
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::call_ringing_for));
    char waited[32];
    format_waiting(waited, sizeof waited, rang);
    if (big) ImGui::PushFont(big);
    if (rang >= kAnswerTargetMs) chip(waited, kLateColor);
    else ImGui::TextUnformatted(waited);
    if (big) ImGui::PopFont();

    ImGui::TableNextColumn();
    ImGui::Dummy(ImVec2(8, 0));
    ImGui::SameLine();
    ImGui::BeginGroup();
    caller(app, c);
    ImGui::EndGroup();

    ImGui::TableNextColumn();
    // Only my seat's caller can be answered from here; anyone may open the incident.
    if (mine) {
      ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(22, 12));
      if (action_button(app.tr(Msg::answer), 'P', app.live() && !in_flight(app, Action::answer), kAnswerColor))
        out.push(cmd::Answer{});
      ImGui::PopStyleVar();
      ImGui::SameLine();
    }
    if (action_button(app.tr(Msg::open_incident), 0, c.incident != 0)) {
      out.push(cmd::Select{c.incident});
      out.push(cmd::Show{View::incident});
    }
    ImGui::EndTable();
  }
  ImGui::EndChild();
  ImGui::PopStyleVar();
  ImGui::PopStyleColor(2);
  ImGui::PopID();
  return out;
}

// My seat's call once it is not a caller waiting: dialling out, or talking.
Commands my_call_bar(const App& app, const protocol::CallView& c) {
  Commands out;
  const bool talking = c.state == "talking";
  const Millis since = talking && c.answered_ms ? c.answered_ms : c.since_ms;
  ImGui::PushStyleColor(ImGuiCol_ChildBg, talking ? ImVec4(0.12f, 0.27f, 0.17f, 1.0f) : ImVec4(0.13f, 0.20f, 0.32f, 1.0f));
  ImGui::BeginChild("##my_call", ImVec2(0, ImGui::GetFrameHeight() + 8), false, ImGuiWindowFlags_NoScrollbar);
  ImGui::SetCursorPos(ImVec2(12, 4));
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted(app.tr(talking ? Msg::call_talking : Msg::call_dialling));
  ImGui::SameLine(0, 16);
  ImGui::TextUnformatted(c.number.c_str());
  if (const protocol::ElderCard* e = c.elder ? app.replica().elder(c.elder) : nullptr) {
    ImGui::SameLine(0, 12);
    ImGui::TextColored(kMutedText, "%s", e->name.c_str());
  }
  ImGui::SameLine(0, 16);
  ImGui::TextUnformatted(format_waiting(app.server_now_ms() - since).c_str());
  ImGui::SameLine(0, 24);
  if (action_button(app.tr(Msg::hangup), 'H', app.live() && !in_flight(app, Action::hangup), kHangupColor))
    out.push(cmd::Hangup{});
  ImGui::EndChild();
  ImGui::PopStyleColor();
  return out;
}

}  // namespace

Commands draw_line(const App& app) {
  Commands out;
  const auto& line = app.line();
  if (!line) return out;
  const protocol::CallView* mine = app.my_call();
  const bool my_caller_waiting = mine && !mine->outgoing && mine->state == "ringing";
  if (my_caller_waiting && app.live() && !in_flight(app, Action::answer) && key_pressed('P')) out.push(cmd::Answer{});
  // H never turns a waiting caller away: it ends a call in progress or one being dialled.
  if (mine && !my_caller_waiting && app.live() && !in_flight(app, Action::hangup) && key_pressed('H'))
    out.push(cmd::Hangup{});

  for (const protocol::CallView* c : waiting_calls(*line)) out += ringing_card(app, *c);
  if (mine && !my_caller_waiting) out += my_call_bar(app, *mine);
  for (Action a : {Action::answer, Action::hangup}) {
    const Request* r = app.last_request(0, a);
    if (r && r->status == Request::Status::refused && app.server_now_ms() - r->sent_ms < kShowRefusalMs)
      request_status(app, r);
  }
  return out;
}

}  // namespace anxin::console
