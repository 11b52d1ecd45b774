#include "console_support.hpp"

#include <sqlite3.h>

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

std::string sql_text(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_stmt* s = nullptr;
  std::string out;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    if (const unsigned char* t = sqlite3_column_text(s, 0)) out = reinterpret_cast<const char*>(t);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

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
