// anxin-console: the operator's and supervisor's dispatch console. This file reads
// the command line, sets up GLFW, OpenGL and ImGui, and runs the frame loop; the
// state lives in App, the drawing in the view_*.cpp files, one frame in frame.cpp.
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
#include "bench.hpp"
#include "fonts.hpp"
#include "frame.hpp"
#include "views.hpp"

using namespace anxin::console;

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

void usage() {
  std::puts(
      "usage: anxin-console [--host H] [--port N] [--token T | --tokens FILE] [--lang zh|en] [--seat NAME]\n"
      "  Without a token the console opens its login screen (user name and password).\n"
      "  --host H        server address (default: the last one used, else 127.0.0.1)\n"
      "  --port N        server port (default: the last one used, else 7600)\n"
      "  --token T       sign in with a fixed operator token instead of a login\n"
      "  --tokens FILE   demo tokens file from anxin-sim generate; uses its first console\n"
      "  --lang zh|en    interface language (default: the last one chosen, else zh)\n"
      "  --mute          no sound for new top-priority incidents and ringing calls\n"
      "  --seat NAME     this desk's seat on the centre's phone line (remembered; --seat \"\" forgets it)\n"
      "  --export-dir D  where exported visit reports are saved (default: the current directory)\n"
      "  --window WxH    the window's size in pixels (default 1440x900), e.g. 1920x1080\n"
      "test mode (run under xvfb-run):\n"
      "  --autotest-script FILE   run the steps in FILE (see console/src/autotest.hpp)\n"
      "  --autotest-incidents N   once synced with N incidents, select the top one\n"
      "  --autotest-ack           then acknowledge it and wait for the delta\n"
      "  --autotest-timeout-ms N  give up with exit code 3 after N ms (default 20000)\n"
      "  --screenshot FILE.png    --dump-state FILE.json   written when done\n"
      "benchmark (not a test):\n"
      "  --bench-frames N         render N frames of each view over a synthetic centre of\n"
      "                           10,000 open incidents and 2,000 workers; print CPU ms per frame\n"
      "  --bench-view NAME        only that pass (queue, incident, map, workers, dashboard)");
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

struct Args {
  AppOptions app;
  AutotestOptions test;
  BenchOptions bench;
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<std::string> seat;
  int window_w = 1440, window_h = 900;
};

void parse_args(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--host") args.host = value();
    else if (a == "--port") args.port = to_int(a, value());
    else if (a == "--token") args.app.link.token = value();
    else if (a == "--seat") args.seat = value();
    else if (a == "--export-dir") args.app.export_dir = value();
    else if (a == "--window") {
      const std::string v = value();
      const auto x = v.find('x');
      if (x == std::string::npos) die("--window must be WxH, e.g. 1920x1080");
      args.window_w = to_int(a, v.substr(0, x)), args.window_h = to_int(a, v.substr(x + 1));
      if (args.window_w < 640 || args.window_h < 480 || args.window_w > 7680 || args.window_h > 4320)
        die("--window must be from 640x480 to 7680x4320");
    }
    else if (a == "--tokens") read_tokens_file(value(), args.app);
    else if (a == "--lang") {
      auto lang = parse_lang(value());
      if (!lang) die("--lang must be zh or en");
      args.app.lang = *lang;
    } else if (a == "--mute") args.app.mute = true;
    else if (a == "--autotest-script") args.test.script = value();
    else if (a == "--autotest-incidents") args.test.incidents = to_int(a, value());
    else if (a == "--autotest-ack") args.test.acknowledge = true;
    else if (a == "--autotest-timeout-ms") args.test.timeout_ms = to_int(a, value());
    else if (a == "--screenshot") args.test.screenshot = value();
    else if (a == "--dump-state") args.test.dump_state = value();
    else if (a == "--bench-frames") args.bench.frames = to_int(a, value());
    else if (a == "--bench-view") args.bench.only = value();
    else if (a == "-h" || a == "--help") { usage(); std::exit(0); }
    else die("unknown option " + a + " (see --help)");
  }
  if (args.test.acknowledge && args.test.incidents < 0) args.test.incidents = 1;
}

// ~/.config/anxin/console.ini keeps window and table layout between shifts.
std::string ini_path(const std::string& settings) {
  if (settings.empty()) return "";
  return (std::filesystem::path(settings).parent_path() / "console.ini").string();
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  parse_args(argc, argv, args);
  const bool testing = !args.test.script.empty() || args.test.incidents >= 0;
  const bool bench = args.bench.frames > 0;
  args.app.settings_path = settings_path();
  if (bench) args.app.offline = true, args.app.settings_path.clear();
  {
    // The last server and seat used, unless the command line names them.
    const Settings remembered = load_settings(args.app.settings_path);
    args.app.link.host = args.host.value_or(remembered.host);
    args.app.link.port = args.port.value_or(remembered.port);
    args.app.seat = args.seat.value_or(remembered.seat);
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  glfwSetErrorCallback([](int code, const char* text) { std::fprintf(stderr, "anxin-console: GLFW %d: %s\n", code, text); });
  if (!glfwInit()) {
    std::fprintf(stderr, "anxin-console: no display to open a window on (is DISPLAY set? headless: xvfb-run -a)\n");
    return 4;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  GLFWwindow* window = glfwCreateWindow(args.window_w, args.window_h, "安心 Anxin", nullptr, nullptr);
  if (!window) {
    std::fprintf(stderr, "anxin-console: cannot create an OpenGL 3.0 window\n");
    glfwTerminate();
    return 4;
  }
  glfwMakeContextCurrent(window);
  // The benchmark measures the console's work, not the wait for the display.
  glfwSwapInterval(bench ? 0 : 1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  // Tests and benchmarks must not depend on, or leave behind, a layout file.
  const std::string ini = testing || bench ? "" : ini_path(args.app.settings_path);
  ImGui::GetIO().IniFilename = ini.empty() ? nullptr : ini.c_str();
  apply_theme();
  load_fonts(18.0f);
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 130");

  int exit_code = 0;
  {
    // The network thread wakes the frame loop after each message it queues.
    App app(std::move(args.app), [] { glfwPostEmptyEvent(); });
    if (bench) {
      exit_code = run_bench(window, app, args.bench);
    } else {
      Autotest autotest(args.test);
      app.start();
      while (!glfwWindowShouldClose(window) && !g_stop) {
        // Idle costs nothing: sleep until input or a message, but at least twice a
        // second so waiting times and the clock tick; faster while something pulses.
        if (autotest.busy()) glfwPollEvents();
        else glfwWaitEventsTimeout(app.animating() ? 1.0 / 30 : 0.5);
        FrameResult frame = run_frame(window, app, autotest);
        if (frame.exit_code) {
          exit_code = *frame.exit_code;
          break;
        }
        glfwSwapBuffers(window);
        app.execute(frame.commands);
        // Show a command's effect now rather than at the next event.
        if (!frame.commands.empty()) glfwPostEmptyEvent();
      }
    }
  }  // App, and its network thread, end before GLFW does

  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}
