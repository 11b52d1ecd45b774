// anxin-bench startup: how long a server takes from exec to serving on a city's
// database (N elders, M devices, made once by anxin-sim generate and kept in the bench
// directory), and how much memory it holds: the port file appears, a WebSocket ping
// gets its pong; then VmRSS and VmHWM from /proc/PID/status, at serving and after
// settling. The server is a separate program, as in production. Each run says whether
// the server read the elders and devices from the rows or from the image a clean stop
// (or anxin-sim generate) left beside the database (docs/architecture.md, "The
// registry's image"), and how long its stop took, which writes that image; --rows
// removes the image before each run, so that every start reads the rows; --kill stops
// each run with SIGKILL, so that the next start is one after a crash (the image, if
// there is one, with the devices' state from the rows); --edit N changes N elders and
// N devices before each run, as another program would, so that the start reads them
// from their rows over the image; --edit-running N once the server serves, before it
// settles, so that it writes the image again from the rows (image_keeper.hpp) if the
// settle is long enough, which the run's line says.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "anxin/gateway/ws_client.hpp"
#include "bench.hpp"

namespace anxin::bench {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// A program built beside this one: build/tools/bench/anxin-bench -> build/<dir>/<name>.
std::string sibling(const std::string& dir, const std::string& name) {
  return (fs::read_symlink("/proc/self/exe").parent_path().parent_path().parent_path() / dir / name).string();
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// kB of a line of /proc/PID/status ("VmRSS:", "VmHWM:").
long long status_kb(pid_t pid, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size()));
  return -1;
}

// N elders' phones and N devices' SIMs, spread over the tables, written again as they
// are: an update all the same to the triggers of the registry's image, whatever the
// server version (docs/architecture.md, "The registry's image").
void edit(const fs::path& db, long long n) {
  sqlite3* raw = nullptr;
  const std::string every = "(SELECT MAX(1, COUNT(*) / " + std::to_string(n) + ") FROM ";
  const std::string sql = "UPDATE elders SET phone = phone WHERE rowid IN (SELECT rowid FROM elders WHERE rowid % " +
                          every + "elders) = 0 LIMIT " + std::to_string(n) + ");" +
                          "UPDATE devices SET sim = sim WHERE rowid IN (SELECT rowid FROM devices WHERE rowid % " +
                          every + "devices) = 0 LIMIT " + std::to_string(n) + ");";
  char* error = nullptr;
  const bool ok = sqlite3_open(db.c_str(), &raw) == SQLITE_OK &&
                  sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK;
  const std::string why = error ? error : raw ? sqlite3_errmsg(raw) : "";
  sqlite3_free(error);
  sqlite3_close(raw);
  if (!ok) throw std::runtime_error("cannot edit " + db.string() + ": " + why);
}

struct Run {
  // Where the start read the elders and devices from: rows, image, image+rows (the
  // devices' state from the rows), either of the last two with +changed (the edits).
  std::string registry;
  double port_file_s = 0, serving_s = 0, stop_s = 0;
  std::string rewritten = "-";  // "N s" when the server wrote the image from the rows meanwhile, in N s
  long long rss_kb = 0, hwm_kb = 0, rss_settled_kb = 0, hwm_settled_kb = 0;
};

Run run_once(const std::string& server, const fs::path& db, const fs::path& dir, double settle_s, bool crash,
             long long edit_running) {
  const fs::path port_file = dir / "startup.port", log = dir / "startup-server.log";
  fs::remove(port_file);
  fs::remove(log);
  const auto t0 = Clock::now();
  const pid_t pid = spawn({server, "--db", db.string(), "--port", "0", "--field-port", "-1", "--port-file",
                           port_file.string()},
                          log.string());
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  Run r;
  int port = 0;
  while (port == 0) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) throw std::runtime_error("the server exited; see its log");
    if (seconds() > 600) throw std::runtime_error("no port file after 600 s");
    std::ifstream f(port_file);
    if (f >> port) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  r.port_file_s = seconds();
  std::mutex mu;
  std::condition_variable cv;
  bool pong = false;
  gateway::ClientOptions co;
  co.port = port;
  co.reconnect = false;
  gateway::WsClient* self = nullptr;
  gateway::WsClient client(co, {[&] { self->send(R"({"type":"ping","req":"p1"})"); },
                                [&](std::string text) {
                                  if (text.find("\"pong\"") == std::string::npos) return;
                                  std::lock_guard lock(mu);
                                  pong = true;
                                  cv.notify_all();
                                },
                                [](const std::string&) {}});
  self = &client;
  client.start();
  {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(60), [&] { return pong; }))
      throw std::runtime_error("no pong within 60 s");
  }
  r.serving_s = seconds();
  r.rss_kb = status_kb(pid, "VmRSS:");
  r.hwm_kb = status_kb(pid, "VmHWM:");
  client.stop();
  if (edit_running > 0) edit(db, edit_running);
  std::this_thread::sleep_for(std::chrono::duration<double>(settle_s));
  r.rss_settled_kb = status_kb(pid, "VmRSS:");
  r.hwm_settled_kb = status_kb(pid, "VmHWM:");
  const auto stopping = Clock::now();
  kill(pid, crash ? SIGKILL : SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  r.stop_s = std::chrono::duration<double>(Clock::now() - stopping).count();
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  const std::string image = "elders and devices read from " + db.string() + "-registry";
  const std::string said = text.str();
  r.registry = said.find(image) == std::string::npos ? "rows"
               : said.find(", the devices' battery") != std::string::npos ? "image+rows"
                                                                          : "image";
  if (r.registry != "rows" && said.find("changed since from their rows") != std::string::npos) r.registry += "+changed";
  const std::string written = "-registry written from the rows in ";
  if (const auto at = said.find(written); at != std::string::npos)
    r.rewritten = said.substr(at + written.size(), said.find(' ', at + written.size()) - at - written.size()) + " s";
  return r;
}

}  // namespace

int run_startup(const StartupOptions& o) {
  const std::string server = o.server.empty() ? sibling("ws-gateway", "anxin-server") : o.server;
  const std::string sim = o.sim.empty() ? sibling("tools/sim", "anxin-sim") : o.sim;
  const fs::path dir = fs::absolute(o.dir);
  fs::create_directories(dir);
  const fs::path db = dir / ("city-" + std::to_string(o.elders) + "-" + std::to_string(o.devices) + ".db");
  if (!fs::exists(db)) {
    std::fprintf(stderr, "anxin-bench: generating %s (once; later runs reuse it)\n", db.c_str());
    const auto t0 = Clock::now();
    const fs::path partial = dir / "city-partial.db";
    for (const char* tail : {"", "-wal", "-shm", "-registry", ".tokens.json", ".conf.json"})
      fs::remove(partial.string() + tail);
    const pid_t pid = spawn({sim, "generate", "--db", partial.string(), "--elders", std::to_string(o.elders),
                             "--devices", std::to_string(o.devices), "--today", "2026-11-26"},
                            (dir / "startup-generate.log").string());
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("anxin-sim generate failed; see " + (dir / "startup-generate.log").string());
    for (const char* tail : {"-registry", ".tokens.json", ".conf.json"})  // the image generate left, its stamp in the file
      fs::rename(partial.string() + tail, db.string() + tail);
    fs::rename(partial, db);
    std::fprintf(stderr, "anxin-bench: generated in %.0f s\n",
                 std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::printf("startup: %lld elders, %lld devices, %s (%.0f MB)\nserver: %s\n", o.elders, o.devices, db.c_str(),
              static_cast<double>(fs::file_size(db)) / 1e6, server.c_str());
  std::printf("%-4s %-10s %12s %12s %12s %12s %14s %14s %8s %14s\n", "run", "registry", "port file s", "serving s",
              "VmRSS MB", "VmHWM MB", "settled RSS", "settled HWM", "stop s", "image written");
  std::vector<Run> runs;
  auto mb = [](long long kb) { return static_cast<double>(kb) / 1024; };
  for (int k = 0; k < o.runs; ++k) {
    if (o.rows) fs::remove(db.string() + "-registry");
    if (o.edit > 0) edit(db, o.edit);
    const Run r = run_once(server, db, dir, o.settle_s, o.kill, o.edit_running);
    std::printf("%-4d %-10s %12.2f %12.2f %12.0f %12.0f %14.0f %14.0f %8.2f %14s\n", k + 1, r.registry.c_str(),
                r.port_file_s, r.serving_s, mb(r.rss_kb), mb(r.hwm_kb), mb(r.rss_settled_kb), mb(r.hwm_settled_kb),
                r.stop_s, r.rewritten.c_str());
    std::fflush(stdout);
    runs.push_back(r);
  }
  if (runs.empty()) return 1;
  for (const char* registry : {"rows", "image", "image+rows", "image+changed", "image+rows+changed"}) {
    std::vector<Run> of;
    std::copy_if(runs.begin(), runs.end(), std::back_inserter(of),
                 [&](const Run& r) { return r.registry == registry; });
    if (of.empty()) continue;
    std::sort(of.begin(), of.end(), [](const Run& a, const Run& b) { return a.serving_s < b.serving_s; });
    const Run& m = of[of.size() / 2];
    std::printf("median from the %s: serving after %.2f s, VmRSS %.0f MB (settled %.0f MB), VmHWM %.0f MB (settled "
                "%.0f MB), stop %.2f s\n",
                registry, m.serving_s, mb(m.rss_kb), mb(m.rss_settled_kb), mb(m.hwm_kb),
                mb(m.hwm_settled_kb), m.stop_s);
  }
  return 0;
}

}  // namespace anxin::bench
