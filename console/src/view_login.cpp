// The login screen: user name, password, server and language, prefilled with what
// was used last (never the password). Enter signs in. A refused login comes back
// here with the server's reason.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "views.hpp"

namespace anxin::console {
namespace {

// "host:port", or just "host" for the default port.
bool parse_server(const char* text, std::string& host, int& port) {
  std::string s = text;
  port = 7600;
  const auto colon = s.rfind(':');
  if (colon != std::string::npos) {
    port = std::atoi(s.c_str() + colon + 1);
    s.resize(colon);
  }
  host = s;
  return !host.empty() && port > 0 && port < 65536;
}

void prefill(const App& app, UiState& ui) {
  if (ui.login_prefilled) return;
  ui.login_prefilled = true;
  const Settings& s = app.settings();
  std::snprintf(ui.username.data(), ui.username.size(), "%s", s.username.c_str());
  const LinkOptions& server = app.link_defaults();
  std::snprintf(ui.server.data(), ui.server.size(), "%s:%d", server.host.c_str(), server.port);
}

}  // namespace

Commands draw_login(const App& app, UiState& ui) {
  Commands out;
  prefill(app, ui);
  const float em = ImGui::GetFontSize();
  const ImVec2 size(em * 22, em * 15);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  ImGui::SetCursorPos(ImVec2((avail.x - size.x) / 2, (avail.y - size.y) / 2.4f));
  ImGui::BeginChild("login", size, true, ImGuiWindowFlags_NoScrollbar);
  ImGui::Spacing();
  ImGui::TextUnformatted(app.tr(Msg::login_title));
  ImGui::Separator();
  ImGui::Spacing();

  const float label_w = em * 5;
  auto label = [&](Msg m) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextColored(kMutedText, "%s", app.tr(m));
    ImGui::SameLine(label_w);
    ImGui::SetNextItemWidth(-1);
  };
  bool enter = false;
  label(Msg::login_username);
  if (ui.username[0] == 0 && ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
  enter |= ImGui::InputText("##user", ui.username.data(), ui.username.size(), ImGuiInputTextFlags_EnterReturnsTrue);
  label(Msg::login_password);
  // A refused login leaves the cursor in the password, so Enter tries again (issue 14).
  const bool refused = app.login_error().has_value() && !app.login_pending();
  if (refused && !ui.login_error_seen) ui.focus_password = true;
  ui.login_error_seen = refused;
  if ((ui.username[0] != 0 && ImGui::IsWindowAppearing()) || ui.focus_password) {
    ImGui::SetKeyboardFocusHere();
    ui.focus_password = false;
  }
  enter |= ImGui::InputText("##password", ui.password.data(), ui.password.size(),
                            ImGuiInputTextFlags_Password | ImGuiInputTextFlags_EnterReturnsTrue);
  label(Msg::login_server);
  enter |= ImGui::InputText("##server", ui.server.data(), ui.server.size(), ImGuiInputTextFlags_EnterReturnsTrue);
  label(Msg::login_language);
  if (ImGui::BeginCombo("##lang", lang_name(app.lang()))) {
    for (Lang l : {Lang::zh, Lang::en})
      if (ImGui::Selectable(lang_name(l), app.lang() == l)) out.push(cmd::SetLanguage{l});
    ImGui::EndCombo();
  }
  ImGui::Spacing();

  std::string host;
  int port = 0;
  const bool ready = ui.username[0] != 0 && ui.password[0] != 0 && parse_server(ui.server.data(), host, port);
  const bool pending = app.login_pending();
  ImGui::SetCursorPosX(label_w);
  if (action_button(app.tr(Msg::login_submit), 0, ready && !pending, kAccent, -1) ||
      (ready && !pending && enter)) {
    out.push(cmd::Login{host, port, ui.username.data(), ui.password.data()});
    ui.password.fill(0);  // held by the link for this login only
  }
  ImGui::Spacing();
  ImGui::PushTextWrapPos(0);
  if (pending) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::login_signing_in));
  if (pending && !app.link_error().empty())  // the server cannot be reached: say so, in words
    ImGui::TextColored(kWarnText, "%s", link_error_text(app.lang(), app.link_error()).c_str());
  else if (const auto& e = app.login_error())
    ImGui::TextColored(kBadText, "%s: %s", app.tr(Msg::login_failed), login_refusal(app.lang(), *e).c_str());
  ImGui::PopTextWrapPos();
  ImGui::EndChild();
  return out;
}

}  // namespace anxin::console
