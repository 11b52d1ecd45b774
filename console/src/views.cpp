// Frame layout and the look the views share.
#include "views.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace anxin::console {

Commands draw_console(const App& app) {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  ImGui::Begin("##console", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoBringToFrontOnFocus);
  Commands c = draw_status(app);

  // The queue is what an operator watches; the incident pane gets the rest.
  const float queue_w = ImGui::GetContentRegionAvail().x * 0.55f;
  ImGui::BeginChild("queue", ImVec2(queue_w, 0), true);
  c += draw_queue(app);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("incident", ImVec2(0, 0), true);
  c += draw_incident(app);
  ImGui::EndChild();

  ImGui::End();
  return c;
}

void apply_theme() {
  ImGui::StyleColorsDark();
  ImGuiStyle& s = ImGui::GetStyle();
  s.WindowPadding = ImVec2(12, 10);
  s.FramePadding = ImVec2(10, 5);
  s.CellPadding = ImVec2(8, 5);
  s.ItemSpacing = ImVec2(10, 8);
  s.ChildRounding = 6;
  s.FrameRounding = 4;
  s.ScrollbarRounding = 4;
  s.WindowBorderSize = 0;
  s.ChildBorderSize = 1;

  // A calm slate palette: the only saturated colours on screen are severities.
  ImVec4* c = s.Colors;
  c[ImGuiCol_Text] = ImVec4(0.90f, 0.91f, 0.93f, 1.0f);
  c[ImGuiCol_TextDisabled] = ImVec4(0.50f, 0.53f, 0.57f, 1.0f);
  c[ImGuiCol_WindowBg] = ImVec4(0.105f, 0.115f, 0.13f, 1.0f);
  c[ImGuiCol_ChildBg] = ImVec4(0.125f, 0.135f, 0.155f, 1.0f);
  c[ImGuiCol_Border] = ImVec4(0.22f, 0.24f, 0.27f, 1.0f);
  c[ImGuiCol_TableHeaderBg] = ImVec4(0.17f, 0.18f, 0.21f, 1.0f);
  c[ImGuiCol_TableBorderLight] = ImVec4(0.20f, 0.22f, 0.25f, 1.0f);
  c[ImGuiCol_TableBorderStrong] = ImVec4(0.24f, 0.26f, 0.30f, 1.0f);
  // Selection must stand out from a mere hover: solid blue against a faint wash.
  c[ImGuiCol_Header] = ImVec4(0.23f, 0.40f, 0.64f, 1.0f);
  c[ImGuiCol_HeaderHovered] = ImVec4(0.45f, 0.55f, 0.70f, 0.18f);
  c[ImGuiCol_HeaderActive] = ImVec4(0.26f, 0.42f, 0.64f, 0.90f);
  c[ImGuiCol_Button] = ImVec4(0.22f, 0.25f, 0.30f, 1.0f);
  c[ImGuiCol_ButtonHovered] = ImVec4(0.28f, 0.32f, 0.38f, 1.0f);
  c[ImGuiCol_ButtonActive] = ImVec4(0.32f, 0.37f, 0.44f, 1.0f);
  c[ImGuiCol_Separator] = c[ImGuiCol_Border];
}

ImVec4 severity_color(Severity s) {
  switch (s) {
    case Severity::critical: return ImVec4(0.86f, 0.26f, 0.24f, 1.0f);
    case Severity::high: return ImVec4(0.93f, 0.53f, 0.17f, 1.0f);
    case Severity::medium: return ImVec4(0.88f, 0.76f, 0.22f, 1.0f);
    case Severity::low: return ImVec4(0.50f, 0.53f, 0.58f, 1.0f);
  }
  return ImVec4(1, 1, 1, 1);
}

ImVec4 state_color(LinkState s, bool replica_synced) {
  if (s == LinkState::synced) return replica_synced ? kGoodText : kWarnText;
  if (s == LinkState::disconnected) return kBadText;
  return kWarnText;
}

void chip(const char* label, ImVec4 color, float min_width) {
  const ImVec2 text = ImGui::CalcTextSize(label);
  const ImVec2 pad(8, 1);
  const ImVec2 size(std::max(text.x + 2 * pad.x, min_width), text.y + 2 * pad.y);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p, ImVec2(p.x + size.x, p.y + size.y), ImGui::GetColorU32(color), 4.0f);
  // Dark text on the light chips (medium, high), light text on the rest.
  const float luma = 0.3f * color.x + 0.59f * color.y + 0.11f * color.z;
  const ImU32 ink = luma > 0.55f ? IM_COL32(25, 25, 25, 255) : IM_COL32(250, 250, 250, 255);
  dl->AddText(ImVec2(p.x + (size.x - text.x) / 2, p.y + pad.y), ImGui::GetColorU32(ink), label);
  ImGui::Dummy(size);
}

namespace {
std::string format_local(Millis ms, const char* format) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}
}  // namespace

std::string format_hms(Millis ms) { return format_local(ms, "%H:%M:%S"); }
std::string format_date_hms(Millis ms) { return format_local(ms, "%Y-%m-%d %H:%M:%S"); }

std::string format_waiting(Millis span_ms) {
  // A clock a little ahead of the server's must not show negative waits.
  const long long s = span_ms > 0 ? span_ms / 1000 : 0;
  char buf[32];
  if (s < 3600)
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

}  // namespace anxin::console
