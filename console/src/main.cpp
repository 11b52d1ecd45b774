// anxin-console: the operator's dispatch console. This file reads the command
// line, sets up GLFW, OpenGL and ImGui, and runs the frame loop; the state lives
// in App, the drawing in the view_*.cpp files.
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "app.hpp"
#include "autotest.hpp"
#include "fonts.hpp"
#include "views.hpp"

using namespace anxin::console;

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

void usage() {
  std::puts(
      "usage: anxin-console [--host H] [--port N] (--token T | --tokens FILE) [--lang zh|en]\n"
      "  --host H        server address (default 127.0.0.1)\n"
      "  --port N        server port (default 7600)\n"
      "  --token T       operator token\n"
      "  --tokens FILE   demo tokens file from anxin-sim generate; uses its first console\n"
      "  --lang zh|en    interface language (default zh)\n"
      "test mode (run under xvfb-run):\n"
      "  --autotest-incidents N   once synced with N incidents, select the top one\n"
      "  --autotest-ack           then acknowledge it and wait for the delta\n"
      "  --autotest-timeout-ms N  give up with exit code 3 after N ms (default 20000)\n"
      "  --screenshot FILE.png    --dump-state FILE.json   written when done");
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "anxin-console: %s\n", msg.c_str());
  std::exit(2);
}

int to_int(const std::string& flag, const std::string& text) {
  try {
    return std::stoi(text);
  } catch (...) {
    die(flag + " must be a number");
  }
}

// Demo credentials written by `anxin-sim generate`: the first console's token and name.
void read_tokens_file(const std::string& path, AppOptions& o) {
  std::ifstream f(path);
  if (!f) die("cannot read " + path);
  auto j = nlohmann::json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.contains("consoles") || !j["consoles"].is_array() || j["consoles"].empty())
    die(path + " has no consoles[]");
  const auto& c = j["consoles"][0];
  o.link.token = c.value("token", "");
  o.operator_name = c.value("operator", "");
}

void parse_args(int argc, char** argv, AppOptions& app, AutotestOptions& test) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--host") app.link.host = value();
    else if (a == "--port") app.link.port = to_int(a, value());
    else if (a == "--token") app.link.token = value();
    else if (a == "--tokens") read_tokens_file(value(), app);
    else if (a == "--lang") {
      auto lang = parse_lang(value());
      if (!lang) die("--lang must be zh or en");
      app.lang = *lang;
    } else if (a == "--autotest-incidents") test.incidents = to_int(a, value());
    else if (a == "--autotest-ack") test.acknowledge = true;
    else if (a == "--autotest-timeout-ms") test.timeout_ms = to_int(a, value());
    else if (a == "--screenshot") test.screenshot = value();
    else if (a == "--dump-state") test.dump_state = value();
    else if (a == "-h" || a == "--help") { usage(); std::exit(0); }
    else die("unknown option " + a + " (see --help)");
  }
  if (app.link.token.empty()) die("no token: pass --token T or --tokens FILE");
  if (test.acknowledge && test.incidents < 0) test.incidents = 1;
}

// ~/.config/anxin/console.ini keeps window and table layout between shifts.
std::string ini_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  if (!(xdg && *xdg) && !home) return "";
  std::filesystem::path dir = (xdg && *xdg) ? std::filesystem::path(xdg) : std::filesystem::path(home) / ".config";
  dir /= "anxin";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return ec ? "" : (dir / "console.ini").string();
}

}  // namespace

int main(int argc, char** argv) {
  AppOptions options;
  AutotestOptions test;
  parse_args(argc, argv, options, test);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  glfwSetErrorCallback([](int code, const char* text) { std::fprintf(stderr, "anxin-console: GLFW %d: %s\n", code, text); });
  if (!glfwInit()) {
    std::fprintf(stderr, "anxin-console: no display to open a window on (is DISPLAY set? headless: xvfb-run -a)\n");
    return 4;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  GLFWwindow* window = glfwCreateWindow(1440, 900, "安心 Anxin", nullptr, nullptr);
  if (!window) {
    std::fprintf(stderr, "anxin-console: cannot create an OpenGL 3.0 window\n");
    glfwTerminate();
    return 4;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  // Tests must not depend on, or leave behind, a layout file.
  const std::string ini = test.incidents >= 0 ? "" : ini_path();
  ImGui::GetIO().IniFilename = ini.empty() ? nullptr : ini.c_str();
  apply_theme();
  load_fonts(18.0f);
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 130");

  int exit_code = 0;
  {
    // The network thread wakes the frame loop after each message it queues.
    App app(std::move(options), [] { glfwPostEmptyEvent(); });
    Autotest autotest(test);
    app.start();
    while (!glfwWindowShouldClose(window) && !g_stop) {
      // Idle costs nothing: sleep until input or a message, but at least twice a
      // second so waiting times and the clock tick.
      if (autotest.busy()) glfwPollEvents();
      else glfwWaitEventsTimeout(0.5);
      app.pump();
      Commands commands = autotest.act(app);

      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      ImGui::NewFrame();
      commands += draw_console(app);
      ImGui::Render();
      int w = 0, h = 0;
      glfwGetFramebufferSize(window, &w, &h);
      glViewport(0, 0, w, h);
      const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
      glClearColor(bg.x, bg.y, bg.z, 1.0f);
      glClear(GL_COLOR_BUFFER_BIT);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      if (auto code = autotest.after_render(app, w, h)) {
        exit_code = *code;
        break;
      }
      glfwSwapBuffers(window);

      app.execute(commands);
      // Show a command's effect now rather than at the next event.
      if (!commands.empty()) glfwPostEmptyEvent();
    }
  }  // App, and its network thread, end before GLFW does

  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}
