#include "console_support.hpp"

#include <chrono>
#include <fstream>

namespace anxin::test {

std::string artifact(const std::string& name) { return std::string(ANXIN_ARTIFACTS) + "/" + name; }

std::unique_ptr<Process> start_console(const TempDir& dir, const std::vector<std::string>& args,
                                       const std::string& screen) {
  std::vector<std::string> argv{"/usr/bin/env", "XDG_CONFIG_HOME=" + dir.file("config"), "/usr/bin/xvfb-run", "-a",
                                "-s", "-screen 0 " + screen + "x24", ANXIN_CONSOLE_BIN, "--mute", "--window", screen};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<Process>(argv, dir.file("console.log"));
}

std::string write_script(const TempDir& dir, const std::string& text) {
  const std::string path = dir.file("script.txt");
  std::ofstream(path) << text;
  return path;
}

json read_json(const std::string& path) { return json::parse(read_file(path)); }

long long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

json ask(gateway::SyncClient& c, json frame) {
  static int next_req = 0;
  const std::string r = "ask" + std::to_string(++next_req);
  frame["req"] = r;
  c.send(frame.dump());
  for (;;) {
    json j = next_json(c);
    if (j.value("req", "") == r) return j;
  }
}

}  // namespace anxin::test
