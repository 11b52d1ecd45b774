// Top bar: connection dot and state, who is signed in (the name the server puts
// on every action), server clock, queue counts, my phone seat and its state (or
// that there is no line, so calls are dialled by hand), the language switch and
// sign out; below it, a banner whenever what is shown is not live, a red one while
// the server's disk is full, and one for every seat of the line that is down.
#include <string>

#include "views.hpp"

namespace anxin::console {
namespace {

const char* state_text(const App& app) {
  switch (app.link_state()) {
    case LinkState::connecting: return app.tr(Msg::conn_connecting);
    case LinkState::authenticating: return app.tr(Msg::conn_authenticating);
    case LinkState::synced: return app.tr(app.replica().synced() ? Msg::conn_synced : Msg::conn_resyncing);
    case LinkState::disconnected: return app.tr(Msg::conn_disconnected);
  }
  return "";
}

void dot(ImVec4 color) {
  // Centred on the text line, which sits FramePadding.y below the cursor in this
  // bar (AlignTextToFramePadding); a Dummy does not get that offset itself.
  const float h = ImGui::GetTextLineHeight();
  const float y = ImGui::GetStyle().FramePadding.y;
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImGui::GetWindowDrawList()->AddCircleFilled(ImVec2(p.x + h * 0.5f, p.y + y + h * 0.55f), h * 0.32f,
                                              ImGui::GetColorU32(color));
  ImGui::Dummy(ImVec2(h, h + 2 * y));
}

void divider() {
  ImGui::SameLine(0, 16);
  ImGui::TextColored(ImGui::GetStyle().Colors[ImGuiCol_Border], "|");
  ImGui::SameLine(0, 16);
}

void count(const char* label, int n, ImVec4 hot) {
  ImGui::TextColored(kMutedText, "%s", label);
  ImGui::SameLine();
  ImGui::TextColored(n > 0 ? hot : ImGui::GetStyle().Colors[ImGuiCol_Text], "%d", n);
}

// A full-width strip in `color` under the bar.
void strip(const char* id, ImVec4 color, const char* text, const std::string& detail = "") {
  ImGui::PushStyleColor(ImGuiCol_ChildBg, color);
  ImGui::BeginChild(id, ImVec2(0, ImGui::GetFrameHeight() + 4), false, ImGuiWindowFlags_NoScrollbar);
  ImGui::SetCursorPos(ImVec2(12, 2 + ImGui::GetStyle().FramePadding.y));
  ImGui::TextUnformatted(text);
  if (!detail.empty()) {
    ImGui::SameLine(0, 24);
    ImGui::TextColored(ImVec4(1, 1, 1, 0.7f), "%s", detail.c_str());
  }
  ImGui::EndChild();
  ImGui::PopStyleColor();
}

void banner(const App& app) {
  const bool link_down = app.link_state() != LinkState::synced;
  const bool first_connect =
      link_down && app.replica().incidents().empty() && app.link_state() != LinkState::disconnected;
  const ImVec4 color = app.link_state() == LinkState::disconnected ? ImVec4(0.55f, 0.16f, 0.15f, 1.0f)
                                                                   : ImVec4(0.50f, 0.36f, 0.10f, 1.0f);
  const char* text = !link_down       ? app.tr(Msg::banner_stale)
                     : first_connect ? app.tr(Msg::conn_connecting)
                                     : app.tr(Msg::banner_reconnecting);
  strip("banner", color, text, link_down ? link_error_text(app.lang(), app.link_error()) : "");
}

// Red, under the bar, while the server's disk is full: nothing the operator does
// can be saved, and the server refuses it, until space returns.
void storage_banner(const App& app) {
  const auto& full = app.storage_full();
  if (!full) return;
  char text[512];
  std::snprintf(text, sizeof text, app.tr(Msg::banner_storage_full_fmt), format_hms(full->since_ms).c_str());
  strip("storage_full", ImVec4(0.70f, 0.10f, 0.10f, 1.0f), text);
}

// My seat and what it is doing; or why calls must be dialled by hand.
void seat_status(const App& app) {
  if (!app.live()) return;  // the banner says why; the line's picture comes after the snapshot
  divider();
  const auto& line = app.line();
  if (!line || !line->configured) {
    ImGui::TextColored(kWarnText, "%s", app.tr(Msg::line_none));
    return;
  }
  if (app.seat_name().empty()) {
    ImGui::TextColored(kWarnText, "%s", app.tr(Msg::seat_none));
    return;
  }
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::seat_label));
  ImGui::SameLine();
  ImGui::TextUnformatted(app.seat_name().c_str());
  ImGui::SameLine();
  const protocol::SeatView* seat = app.my_seat();
  if (!seat || !seat->up) {
    ImGui::TextColored(kBadText, "%s", app.tr(Msg::seat_down));
  } else {
    const ImVec4 color = seat->state == "idle" ? kGoodText : seat->state == "ringing" ? kWarnText : kAccent;
    ImGui::TextColored(color, "%s", seat_state_text(app.lang(), seat->state));
  }
}

// Seats that are down (a caller to them gets nowhere), and a refused claim of mine.
void line_warnings(const App& app) {
  const auto& line = app.line();
  if (!app.live() || !line || !line->configured) return;
  std::string down;
  for (const auto& s : line->seats)
    if (!s.up) down += (down.empty() ? "" : ", ") + s.name;
  const ImVec4 color{0.50f, 0.36f, 0.10f, 1.0f};
  char text[256];
  if (!down.empty()) {
    std::snprintf(text, sizeof text, app.tr(Msg::seats_down_fmt), down.c_str());
    strip("seats_down", color, text);
  }
  const Request* claim = app.last_request(0, Action::seat);
  if (claim && claim->status == Request::Status::refused) {
    std::snprintf(text, sizeof text, app.tr(Msg::seat_refused_fmt), app.seat_name().c_str(), claim->error.c_str());
    strip("seat_refused", color, text);
  }
}

// Counted once per replica change, not every frame.
void count_incidents(const Replica& r, UiState& ui) {
  if (ui.counts_version == r.version()) return;
  ui.count_open = ui.count_in_hand = ui.count_escalated = 0;
  for (const auto& [id, i] : r.incidents()) {
    (unacknowledged(i) ? ui.count_open : ui.count_in_hand)++;
    for (const Escalation& x : i.escalations)
      if (!x.cleared) {
        ++ui.count_escalated;
        break;
      }
  }
  ui.counts_version = r.version();
}

}  // namespace

Commands draw_status(const App& app, UiState& ui) {
  Commands out;
  const Replica& r = app.replica();
  count_incidents(r, ui);
  const int open = ui.count_open, in_hand = ui.count_in_hand, escalated = ui.count_escalated;

  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("安心 Anxin");
  ImGui::SameLine(0, 20);
  dot(state_color(app.link_state(), r.synced()));
  ImGui::SameLine(0, 4);
  ImGui::TextUnformatted(state_text(app));
  divider();
  ImGui::TextColored(kMutedText, "%s", app.tr(app.user_kind() == "supervisor" ? Msg::supervisor_label : Msg::operator_label));
  ImGui::SameLine();
  ImGui::TextUnformatted(app.operator_name().empty() ? "—" : app.operator_name().c_str());
  divider();
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::server_time));
  ImGui::SameLine();
  ImGui::TextUnformatted(format_date_hms(app.server_now_ms()).c_str());
  divider();
  count(app.tr(Msg::count_open), open, kWarnText);
  ImGui::SameLine(0, 16);
  count(app.tr(Msg::count_acknowledged), in_hand, ImGui::GetStyle().Colors[ImGuiCol_Text]);
  ImGui::SameLine(0, 16);
  count(app.tr(Msg::count_escalated), escalated, kBadText);
  seat_status(app);

  // The toggle names the language it switches to, so it reads in that language.
  const char* other = app.tr(Msg::other_language);
  const char* logout = app.tr(Msg::logout);
  const float pad = ImGui::GetStyle().FramePadding.x * 2;
  const float w = ImGui::CalcTextSize(other).x + pad + ImGui::CalcTextSize(logout).x + pad +
                  ImGui::GetStyle().ItemSpacing.x;
  ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - w);
  if (ImGui::Button(other)) out.push(cmd::SetLanguage{app.lang() == Lang::zh ? Lang::en : Lang::zh});
  ImGui::SameLine();
  if (ImGui::Button(logout)) out.push(cmd::Logout{});

  if (!app.live()) banner(app);
  storage_banner(app);
  line_warnings(app);
  return out;
}

}  // namespace anxin::console
