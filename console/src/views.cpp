// Frame layout, view switching, and the look the views share.
#include "views.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace anxin::console {
namespace {

constexpr int kF1 = 290;  // GLFW_KEY_F1; F1..F6 are consecutive

Msg view_label(View v) {
  switch (v) {
    case View::queue: return Msg::view_queue;
    case View::incident: return Msg::view_incident;
    case View::map: return Msg::view_map;
    case View::workers: return Msg::view_workers;
    case View::dashboard: return Msg::view_dashboard;
    case View::visits: return Msg::view_visits;
    case View::history: return Msg::view_history;
    case View::team: return Msg::view_team;
  }
  return Msg::view_queue;
}

// The view buttons, F1..F6, as a row of flat tabs.
Commands view_bar(const App& app) {
  Commands out;
  int n = 0;
  for (View v : kViews) {
    const bool current = app.view() == v;
    char label[96];
    std::snprintf(label, sizeof label, "%s  F%d###view%d", app.tr(view_label(v)), n + 1, n);
    ImGui::PushStyleColor(ImGuiCol_Button, current ? ImVec4(0.23f, 0.40f, 0.64f, 1.0f) : ImVec4(0, 0, 0, 0));
    ImGui::PushStyleColor(ImGuiCol_Text, current ? ImVec4(1, 1, 1, 1) : kMutedText);
    if (ImGui::Button(label)) out.push(cmd::Show{v});
    ImGui::PopStyleColor(2);
    ImGui::SameLine(0, 4);
    if (key_pressed(kF1 + n)) out.push(cmd::Show{v});
    ++n;
  }
  ImGui::NewLine();
  return out;
}

void split(const char* left_id, float left_w, const char* right_id, const std::function<void()>& left,
           const std::function<void()>& right) {
  ImGui::BeginChild(left_id, ImVec2(left_w, 0), true);
  left();
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild(right_id, ImVec2(0, 0), true);
  right();
  ImGui::EndChild();
}

}  // namespace

bool typing() { return ImGui::GetIO().WantTextInput; }
bool key_pressed(int key) { return !typing() && ImGui::IsKeyPressed(key, false); }

Commands draw_console(App& app) {
  UiState& ui = app.ui();
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  ImGui::Begin("##console", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoBringToFrontOnFocus);
  if (!app.signed_in()) {
    Commands c = draw_login(app, ui);
    ImGui::End();
    return c;
  }
  Commands c = draw_status(app, ui);
  c += draw_line(app);  // a caller waiting is shown over every view
  c += draw_attention(app, ui);  // new alarms and new critical alerts (view_attention.cpp)
  c += draw_handover_banner(app, ui);  // a handover offered to me: F9 accepts, F10 declines (view_team.cpp)
  c += view_bar(app);
  // Esc steps back from the workspace to the queue, unless it closes a picker.
  if (app.view() == View::incident && key_pressed(kKeyEscape) &&
      !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId))
    c.push(cmd::Show{View::queue});
  const float avail = ImGui::GetContentRegionAvail().x;
  switch (app.view()) {
    case View::queue:
      // The queue is what an operator watches; the workspace gets the rest.
      split("queue", avail * 0.56f, "incident", [&] { c += draw_queue(app, ui, false); },
            [&] { c += draw_incident(app, ui, false); });
      break;
    case View::incident:
      split("queue", avail * 0.24f, "incident", [&] { c += draw_queue(app, ui, true); },
            [&] { c += draw_incident(app, ui, true); });
      break;
    case View::map:
      split("map", avail * 0.64f, "incident", [&] { c += draw_map(app, ui); },
            [&] { c += draw_incident(app, ui, false); });
      break;
    case View::workers:
      ImGui::BeginChild("workers", ImVec2(0, 0), true);
      c += draw_workers(app, ui);
      ImGui::EndChild();
      break;
    case View::dashboard:
      ImGui::BeginChild("dashboard", ImVec2(0, 0), true);
      c += draw_dashboard(app, ui);
      ImGui::EndChild();
      break;
    case View::visits:
      ImGui::BeginChild("visits", ImVec2(0, 0), true);
      c += draw_visits(app, ui);
      ImGui::EndChild();
      break;
    case View::history:
      ImGui::BeginChild("history", ImVec2(0, 0), true);
      c += draw_history(app, ui);  // view_history.cpp
      ImGui::EndChild();
      break;
    case View::team:
      ImGui::BeginChild("team", ImVec2(0, 0), true);
      c += draw_team(app, ui);  // view_team.cpp
      ImGui::EndChild();
      break;
  }
  c += draw_manual_modal(app, ui);  // M: an incident opened by hand (view_manual.cpp)
  c += draw_logout_question(app, ui);  // signing out with incidents in hand (view_team.cpp)
  ImGui::End();
  return c;
}

void apply_theme() {
  ImGui::StyleColorsDark();
  ImGuiStyle& s = ImGui::GetStyle();
  s.WindowPadding = ImVec2(12, 10);
  s.FramePadding = ImVec2(10, 5);
  s.CellPadding = ImVec2(8, 4);
  s.ItemSpacing = ImVec2(10, 7);
  s.ChildRounding = 6;
  s.FrameRounding = 4;
  s.PopupRounding = 6;
  s.ScrollbarRounding = 4;
  s.GrabRounding = 4;
  s.WindowBorderSize = 0;
  s.ChildBorderSize = 1;
  s.PopupBorderSize = 1;

  // A calm slate palette: the only saturated colours on screen are priorities.
  ImVec4* c = s.Colors;
  c[ImGuiCol_Text] = ImVec4(0.90f, 0.91f, 0.93f, 1.0f);
  c[ImGuiCol_TextDisabled] = ImVec4(0.50f, 0.53f, 0.57f, 1.0f);
  c[ImGuiCol_WindowBg] = ImVec4(0.105f, 0.115f, 0.13f, 1.0f);
  c[ImGuiCol_ChildBg] = ImVec4(0.125f, 0.135f, 0.155f, 1.0f);
  c[ImGuiCol_PopupBg] = ImVec4(0.15f, 0.16f, 0.185f, 0.98f);
  c[ImGuiCol_Border] = ImVec4(0.22f, 0.24f, 0.27f, 1.0f);
  c[ImGuiCol_FrameBg] = ImVec4(0.17f, 0.185f, 0.21f, 1.0f);
  c[ImGuiCol_FrameBgHovered] = ImVec4(0.21f, 0.23f, 0.26f, 1.0f);
  c[ImGuiCol_FrameBgActive] = ImVec4(0.24f, 0.26f, 0.30f, 1.0f);
  c[ImGuiCol_TableHeaderBg] = ImVec4(0.17f, 0.18f, 0.21f, 1.0f);
  c[ImGuiCol_TableBorderLight] = ImVec4(0.20f, 0.22f, 0.25f, 1.0f);
  c[ImGuiCol_TableBorderStrong] = ImVec4(0.24f, 0.26f, 0.30f, 1.0f);
  c[ImGuiCol_TableRowBgAlt] = ImVec4(1, 1, 1, 0.02f);
  // Selection must stand out from a mere hover: solid blue against a faint wash.
  c[ImGuiCol_Header] = ImVec4(0.23f, 0.40f, 0.64f, 1.0f);
  c[ImGuiCol_HeaderHovered] = ImVec4(0.45f, 0.55f, 0.70f, 0.18f);
  c[ImGuiCol_HeaderActive] = ImVec4(0.26f, 0.42f, 0.64f, 0.90f);
  c[ImGuiCol_Button] = ImVec4(0.22f, 0.25f, 0.30f, 1.0f);
  c[ImGuiCol_ButtonHovered] = ImVec4(0.28f, 0.32f, 0.38f, 1.0f);
  c[ImGuiCol_ButtonActive] = ImVec4(0.32f, 0.37f, 0.44f, 1.0f);
  c[ImGuiCol_CheckMark] = kAccent;
  c[ImGuiCol_Separator] = c[ImGuiCol_Border];
  // Tabs: the chosen one in the selection blue, the others as quiet as a button.
  c[ImGuiCol_Tab] = ImVec4(0.17f, 0.185f, 0.21f, 1.0f);
  c[ImGuiCol_TabHovered] = ImVec4(0.28f, 0.32f, 0.38f, 1.0f);
  c[ImGuiCol_TabActive] = ImVec4(0.23f, 0.40f, 0.64f, 1.0f);
  c[ImGuiCol_TabUnfocused] = c[ImGuiCol_Tab];
  c[ImGuiCol_TabUnfocusedActive] = c[ImGuiCol_TabActive];
}

ImVec4 state_color(LinkState s, bool replica_synced) {
  if (s == LinkState::synced) return replica_synced ? kGoodText : kWarnText;
  if (s == LinkState::disconnected) return kBadText;
  return kWarnText;
}

ImVec4 score_color(int score) {
  if (score >= 100) return ImVec4(0.84f, 0.27f, 0.25f, 1.0f);
  if (score >= 70) return ImVec4(0.91f, 0.53f, 0.20f, 1.0f);
  if (score >= 40) return ImVec4(0.85f, 0.74f, 0.26f, 1.0f);
  return ImVec4(0.48f, 0.52f, 0.57f, 1.0f);
}

ImVec4 tier_color(CareTier tier) {
  switch (tier) {
    case CareTier::key: return ImVec4(0.85f, 0.50f, 0.55f, 1.0f);
    case CareTier::sub_key: return ImVec4(0.80f, 0.70f, 0.45f, 1.0f);
    case CareTier::general: return ImVec4(0.50f, 0.62f, 0.72f, 1.0f);
  }
  return kMutedText;
}

ImVec4 worker_color(WorkerStatus s) {
  switch (s) {
    case WorkerStatus::available: return ImVec4(0.40f, 0.78f, 0.52f, 1.0f);
    case WorkerStatus::offered: return ImVec4(0.93f, 0.76f, 0.30f, 1.0f);
    case WorkerStatus::en_route: return ImVec4(0.40f, 0.64f, 0.95f, 1.0f);
    case WorkerStatus::on_scene: return ImVec4(0.70f, 0.52f, 0.92f, 1.0f);
    case WorkerStatus::busy_visiting: return ImVec4(0.45f, 0.72f, 0.75f, 1.0f);
    case WorkerStatus::off_duty: return ImVec4(0.42f, 0.44f, 0.48f, 1.0f);
  }
  return kMutedText;
}

void chip(const char* label, ImVec4 color, float min_width) {
  const ImVec2 text = ImGui::CalcTextSize(label);
  const ImVec2 pad(7, 1);
  const ImVec2 size(std::max(text.x + 2 * pad.x, min_width), text.y + 2 * pad.y);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p, ImVec2(p.x + size.x, p.y + size.y), ImGui::GetColorU32(color), 4.0f);
  // Dark text on the light chips (amber, orange), light text on the rest.
  const float luma = 0.3f * color.x + 0.59f * color.y + 0.11f * color.z;
  const ImU32 ink = luma > 0.55f ? IM_COL32(25, 25, 25, 255) : IM_COL32(250, 250, 250, 255);
  dl->AddText(ImVec2(p.x + (size.x - text.x) / 2, p.y + pad.y), ImGui::GetColorU32(ink), label);
  ImGui::Dummy(size);
}

void heading(const char* text) {
  ImGui::Spacing();
  ImGui::TextColored(kMutedText, "%s", text);
  ImGui::Separator();
}

void scroll_row_into_view() {
  const float header_h = ImGui::GetTextLineHeight() + ImGui::GetStyle().CellPadding.y * 2;
  const float top = ImGui::GetWindowPos().y + header_h;
  const float bottom = ImGui::GetWindowPos().y + ImGui::GetWindowHeight();
  const float y0 = ImGui::GetItemRectMin().y, y1 = ImGui::GetItemRectMax().y;
  if (y0 < top) ImGui::SetScrollY(ImGui::GetScrollY() - (top - y0));
  else if (y1 > bottom) ImGui::SetScrollY(ImGui::GetScrollY() + (y1 - bottom));
}

bool action_button(const char* label, char key, bool enabled, ImVec4 color, float width) {
  char text[160];
  if (key) std::snprintf(text, sizeof text, "%s  %c", label, key);
  else std::snprintf(text, sizeof text, "%s", label);
  const bool tinted = enabled && color.w > 0;
  ImGui::BeginDisabled(!enabled);
  if (tinted) {
    ImGui::PushStyleColor(ImGuiCol_Button, color);
    ImGui::PushStyleColor(ImGuiCol_ButtonHovered, ImVec4(color.x * 1.1f, color.y * 1.1f, color.z * 1.1f, 1));
    ImGui::PushStyleColor(ImGuiCol_ButtonActive, ImVec4(color.x * 0.9f, color.y * 0.9f, color.z * 0.9f, 1));
  }
  const bool pressed = ImGui::Button(text, ImVec2(width, 0));
  if (tinted) ImGui::PopStyleColor(3);
  ImGui::EndDisabled();
  return pressed && enabled;
}

void request_status(const App& app, const Request* r) {
  if (!r) return;
  Msg action = Msg::act_acknowledge;
  switch (r->action) {
    case Action::acknowledge: action = Msg::act_acknowledge; break;
    case Action::callback: action = Msg::act_callback; break;
    case Action::dispatch: action = Msg::act_dispatch; break;
    case Action::call: action = Msg::act_call; break;
    case Action::call_result: action = Msg::act_call_result; break;
    case Action::note: action = Msg::act_note; break;
    case Action::resolve: action = Msg::act_resolve; break;
    case Action::seat: action = Msg::act_seat; break;
    case Action::dial: action = Msg::act_dial; break;
    case Action::answer: action = Msg::act_answer; break;
    case Action::hangup: action = Msg::act_hangup; break;
    case Action::find_elders: action = Msg::act_find_elders; break;
    case Action::link_caller: action = Msg::act_link_caller; break;
    case Action::phone_visit_result: action = Msg::act_phone_visit; break;
    case Action::start_campaign: action = Msg::act_start_campaign; break;
    case Action::end_campaign: action = Msg::act_end_campaign; break;
    case Action::close_hazard: action = Msg::act_close_hazard; break;
    case Action::open_incident: action = Msg::act_open_incident; break;
    case Action::reopen: action = Msg::act_reopen; break;
    default: return;  // background refreshes are not shown
  }
  ImGui::PushTextWrapPos(0.0f);
  switch (r->status) {
    case Request::Status::sending:
      ImGui::TextColored(kMutedText, "%s · %s", app.tr(action), app.tr(Msg::req_sending));
      break;
    case Request::Status::ok:
      // A call task is open once the server has it, not done: it is yet to be answered.
      ImGui::TextColored(kGoodText, "%s · %s", app.tr(action),
                         app.tr(r->action == Action::call ? Msg::req_call_opened : Msg::req_ok));
      break;
    case Request::Status::refused:
      ImGui::PushStyleColor(ImGuiCol_Text, kBadText);
      // A supervisor's message from an operator's console: said in words, not as a code.
      if (r->code == ErrorCode::forbidden) ImGui::TextWrapped("%s · %s", app.tr(action), app.tr(Msg::req_forbidden));
      else ImGui::TextWrapped("%s · %s  %s", app.tr(action), app.tr(Msg::req_refused), r->error.c_str());
      ImGui::PopStyleColor();
      break;
    case Request::Status::no_reply:
      ImGui::TextColored(kWarnText, "%s · %s", app.tr(action), app.tr(Msg::req_no_reply));
      break;
    case Request::Status::not_sent:
      ImGui::TextColored(kBadText, "%s · %s", app.tr(action), app.tr(Msg::req_not_sent));
      break;
  }
  ImGui::PopTextWrapPos();
}

std::tm centre_time(Millis ms) {
  // China Standard Time has no daylight saving: a fixed offset, as the server's
  // local_date() counts days, whatever time zone this machine is set to.
  constexpr Millis kUtcPlus8 = 8LL * 3600 * 1000;
  const std::time_t t = static_cast<std::time_t>((ms + kUtcPlus8) / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

namespace {
std::string format_local(Millis ms, const char* format) {
  const std::tm tm = centre_time(ms);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}
}  // namespace

std::string format_hms(Millis ms) { return format_local(ms, "%H:%M:%S"); }
std::string format_hm(Millis ms) { return format_local(ms, "%H:%M"); }
std::string format_date_hms(Millis ms) { return format_local(ms, "%Y-%m-%d %H:%M:%S"); }
std::string format_date(Millis ms) { return format_local(ms, "%Y-%m-%d"); }

void format_waiting(char* out, size_t size, Millis span_ms) {
  // A clock a little ahead of the server's must not show negative waits.
  const long long s = span_ms > 0 ? span_ms / 1000 : 0;
  if (s < 3600) std::snprintf(out, size, "%02lld:%02lld", s / 60, s % 60);
  else std::snprintf(out, size, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

std::string format_waiting(Millis span_ms) {
  char buf[32];
  format_waiting(buf, sizeof buf, span_ms);
  return buf;
}

std::string format_age(const App& app, Millis since_ms, Millis now) {
  if (since_ms <= 0) return app.tr(Msg::age_never);
  const long long min = (now - since_ms) / 60'000;
  char buf[64];
  if (min < 1) return app.tr(Msg::age_now);
  if (min < 120) std::snprintf(buf, sizeof buf, app.tr(Msg::age_min_fmt), static_cast<int>(min));
  else std::snprintf(buf, sizeof buf, app.tr(Msg::age_hour_fmt), static_cast<int>(min / 60));
  return buf;
}

std::string format_distance(double m) {
  char buf[32];
  if (m < 1000) std::snprintf(buf, sizeof buf, "%.0f m", m);
  else std::snprintf(buf, sizeof buf, "%.1f km", m / 1000);
  return buf;
}

}  // namespace anxin::console
