// Device heartbeats at district scale (issue 13): a real server (in this process, on
// its own threads) over a real SQLite file with a district of N devices (100,000 by
// default), K vendor-platform connections sending every device's heartbeat, and
// consoles watching while one device after another raises an SOS every 100 ms.
// Three phases on the same server: no heartbeats, heartbeats at a set pace (the
// whole district once a minute by default), and heartbeats flat out (each
// connection keeps a window of them in flight). Per phase: heartbeats answered per
// second, commits per second, the server's CPU (its threads only) and the alarm ->
// console delta latency.
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "anxin/core/protocol.hpp"
#include "anxin/gateway/server.hpp"
#include "anxin/gateway/ws_client.hpp"
#include "bench.hpp"
#include "district.hpp"
#include "harness.hpp"

namespace anxin::bench {

namespace {

using json = nlohmann::json;
namespace proto = anxin::protocol;

pid_t this_thread_id() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// CPU seconds used so far by this process's threads, split into the ones listed
// (the benchmark's own) and all others (the server's).
struct CpuSplit {
  double server_s = 0, bench_s = 0;
};
CpuSplit cpu_split(const std::set<pid_t>& bench_threads) {
  CpuSplit out;
  static const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return out;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(f, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i)
      if (i == 14 || i == 15) ticks += std::strtod(field.c_str(), nullptr);  // utime, stime
    (bench_threads.count(static_cast<pid_t>(std::atoi(e->d_name))) ? out.bench_s : out.server_s) += ticks / tick;
  }
  closedir(dir);
  return out;
}

// A district of exactly `devices` devices, spread over `vendors` platforms hb0...,
// every battery full and every device seen just now.
sim::District make_district(int devices, int vendors, Millis now) {
  int elders = devices * 2 / 7 + 100;  // about 3.5 devices a home
  sim::District d;
  for (;;) {
    d = sim::generate_district({42, elders, 60, "2026-11-26"});
    if (static_cast<int>(d.devices.size()) >= devices) break;
    elders = elders * 6 / 5;
  }
  d.devices.resize(static_cast<size_t>(devices));
  for (size_t i = 0; i < d.devices.size(); ++i) {
    d.devices[i].vendor = "hb" + std::to_string(i % static_cast<size_t>(vendors));
    d.devices[i].battery_pct = 100;
    d.devices[i].last_seen_ms = now;
  }
  return d;
}

enum Mode : int { idle = 0, paced = 1, flat_out = 2 };

// One heartbeat platform connection: its devices' frames, built once.
struct Platform {
  size_t id = 0;
  std::vector<std::string> frames;
  std::atomic<std::uint64_t> cursor{0};
  std::atomic<int> in_flight{0};
};

struct PhaseResult {
  const char* name;
  double seconds = 0;
  std::uint64_t beats_ok = 0, beats_refused = 0, skipped = 0, commits = 0;
  CpuSplit cpu;
  std::vector<double> delta_ms;
};

}  // namespace

int run_heartbeats(const HeartbeatsOptions& o) {
  if (o.devices < 1 || o.connections < 1 || o.consoles < 1 || o.seconds <= 0 || o.window < 1 || o.alarm_every_ms < 1 ||
      o.write_every_s < 1)
    throw std::invalid_argument("devices, connections, consoles, seconds, window, alarm interval and write interval "
                                "must be positive");
  SystemClock clock;
  const auto setup_start = SteadyClock::now();
  sim::District district = make_district(o.devices, o.connections, clock.now_ms());
  const auto dir = std::filesystem::path(o.dir) / "heartbeats";
  const std::string db = make_bench_db(dir, district);
  const double setup_s = std::chrono::duration<double>(SteadyClock::now() - setup_start).count();

  gateway::ServerOptions so;
  so.db_path = db;
  so.port = 0;
  so.interface = "127.0.0.1";
  QuietNotifier quiet;
  so.notifier = &quiet;
  // The platforms send as fast as the server answers: no frame limit (by default a
  // vendor connection may send 2,000 frames a second).
  so.vendor_frame_limit = {};
  so.config.supervision.write_every_ms = static_cast<Millis>(o.write_every_s * 1000);
  gateway::Server server(so, clock);
  server.start();

  std::mutex threads_mu;
  std::set<pid_t> bench_threads{this_thread_id()};
  auto note_thread = [&] {
    std::lock_guard lock(threads_mu);
    bench_threads.insert(this_thread_id());
  };
  gateway::ClientOptions co;
  co.port = server.port();
  co.reconnect = false;

  // The heartbeat load on one client thread; the consoles and the alarm platform on
  // another, so the latency measured does not queue behind the load's replies.
  gateway::WsClientGroup load, watch;
  std::atomic<int> mode{idle}, welcomed{0}, subscribed{0};
  std::atomic<std::uint64_t> beats_ok{0}, beats_refused{0};
  std::vector<std::unique_ptr<Platform>> platforms;
  for (int k = 0; k < o.connections; ++k) platforms.push_back(std::make_unique<Platform>());
  for (size_t i = 0; i < district.devices.size(); ++i)
    platforms[i % platforms.size()]->frames.push_back(
        json{{"type", "heartbeat"}, {"device", district.devices[i].id}, {"boot", "b-bench"}, {"battery_pct", 87},
             {"signal_dbm", -71}, {"req", "h"}}
            .dump());
  auto send_beat = [&](Platform& p) {
    const std::uint64_t n = p.cursor.fetch_add(1);
    ++p.in_flight;
    load.send(p.id, p.frames[n % p.frames.size()]);
  };
  for (int k = 0; k < o.connections; ++k) {
    Platform& p = *platforms[static_cast<size_t>(k)];
    const std::string token = "bench-hb" + std::to_string(k);
    gateway::ClientHandlers h;
    h.on_open = [&, token] {
      note_thread();
      load.send(p.id, proto::encode({"", proto::Hello{Role::device, token}}));
    };
    h.on_message = [&](std::string text) {
      if (text.find("\"req\":\"h\"") == std::string::npos) {
        if (text.find("\"type\":\"welcome\"") != std::string::npos) ++welcomed;
        return;
      }
      --p.in_flight;
      if (text.find("\"type\":\"ok\"") != std::string::npos) {
        ++beats_ok;
      } else if (beats_refused++ == 0) {
        std::fprintf(stderr, "anxin-bench: a heartbeat was refused: %s\n", text.c_str());
      }
      if (mode == flat_out) send_beat(p);
    };
    p.id = load.add(co, std::move(h));
  }

  // Consoles: note when the delta carrying each alarm's send time arrives.
  std::mutex samples_mu;
  std::vector<std::pair<std::int64_t, double>> samples;  // (sent ns, latency ms)
  std::atomic<size_t> deltas{0};
  for (int i = 0; i < o.consoles; ++i) {
    const size_t id = watch.size();
    gateway::ClientHandlers h;
    h.on_open = [&, id] {
      note_thread();
      watch.send(id, proto::encode({"", proto::Hello{Role::console, "bench-console"}}));
      watch.send(id, proto::encode({"", proto::Subscribe{}}));
    };
    h.on_message = [&](std::string text) {
      const std::int64_t t = now_ns();
      if (text.find("\"type\":\"snapshot\"") != std::string::npos) ++subscribed;
      if (text.find("\"type\":\"delta\"") == std::string::npos) return;
      for (size_t at = text.find("\"t_ns\":"); at != std::string::npos; at = text.find("\"t_ns\":", at + 1)) {
        const std::int64_t sent = std::strtoll(text.c_str() + at + 7, nullptr, 10);
        ++deltas;
        std::lock_guard lock(samples_mu);
        samples.emplace_back(sent, static_cast<double>(t - sent) / 1e6);
      }
    };
    watch.add(co, std::move(h));
  }
  // The alarm platform speaks for hb0's devices, beside hb0's heartbeat connection.
  const size_t alarm_platform = watch.size();
  {
    gateway::ClientHandlers h;
    h.on_open = [&] { watch.send(alarm_platform, proto::encode({"", proto::Hello{Role::device, "bench-hb0"}})); };
    h.on_message = [&](std::string text) {
      if (text.find("\"type\":\"welcome\"") != std::string::npos) ++welcomed;
    };
    watch.add(co, std::move(h));
  }
  std::vector<DeviceId> sos_buttons;  // hb0's, each raises one alarm in turn
  for (size_t i = 0; i < district.devices.size(); i += platforms.size())
    if (district.devices[i].kind == DeviceKind::sos_button) sos_buttons.push_back(district.devices[i].id);
  if (sos_buttons.empty()) throw std::runtime_error("no SOS button on platform hb0");
  std::map<DeviceId, std::int64_t> seq;

  load.start();
  watch.start();
  for (int i = 0; i < 2000 && (welcomed < o.connections + 1 || subscribed < o.consoles); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (welcomed < o.connections + 1 || subscribed < o.consoles) throw std::runtime_error("clients did not connect");

  std::printf("heartbeats: %d devices of %zu elders on %d platform connections, %d consoles, an SOS every %d ms; "
              "%.0f s per phase (first second not measured); devices seen written every %d s; db in %s (set up in "
              "%.1f s)\n",
              o.devices, district.elders.size(), o.connections, o.consoles, o.alarm_every_ms, o.seconds,
              o.write_every_s, o.dir.c_str(), setup_s);
  std::fflush(stdout);

  size_t alarms = 0, next_button = 0;
  std::uint64_t paced_sent = 0, skipped = 0;
  auto run_phase = [&](const char* name, Mode m) {
    PhaseResult r;
    r.name = name;
    const auto start = SteadyClock::now();
    const auto measured_from = start + std::chrono::seconds(1);
    const auto end = start + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(o.seconds));
    mode = m;
    if (m == flat_out)
      for (auto& p : platforms)
        for (int i = 0; i < o.window; ++i) send_beat(*p);
    const std::uint64_t paced_base = paced_sent;
    auto next_alarm = start;
    bool measuring = false;
    std::uint64_t ok0 = 0, refused0 = 0, commits0 = 0, skipped0 = 0;
    CpuSplit cpu0;
    std::int64_t from_ns = 0;
    for (auto now = start; now < end; now = SteadyClock::now()) {
      if (!measuring && now >= measured_from) {
        measuring = true;
        ok0 = beats_ok;
        refused0 = beats_refused;
        commits0 = server.stats().commits;
        skipped0 = skipped;
        std::lock_guard lock(threads_mu);
        cpu0 = cpu_split(bench_threads);
        from_ns = now_ns();
      }
      if (m == paced) {
        // Round robin over the connections, up to where the pace says we should be.
        const auto due = paced_base + static_cast<std::uint64_t>(o.rate * std::chrono::duration<double>(now - start).count());
        for (; paced_sent < due; ++paced_sent) {
          Platform& p = *platforms[paced_sent % platforms.size()];
          if (p.in_flight < 4 * o.window) send_beat(p);
          else ++skipped;  // the server is behind: a real platform would not queue without end
        }
      }
      if (now >= next_alarm) {
        next_alarm += std::chrono::milliseconds(o.alarm_every_ms);
        AlarmIn a;
        a.device = sos_buttons[next_button++ % sos_buttons.size()];
        a.seq = ++seq[a.device];
        a.kind = AlertKind::sos;
        a.device_time_ms = clock.now_ms();
        a.boot = "b-bench";
        a.detail = json{{"t_ns", now_ns()}}.dump();
        watch.send(alarm_platform, proto::encode({"", a}));
        ++alarms;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    CpuSplit cpu1;
    {
      std::lock_guard lock(threads_mu);
      cpu1 = cpu_split(bench_threads);
    }
    r.seconds = static_cast<double>(now_ns() - from_ns) / 1e9;
    r.beats_ok = beats_ok - ok0;
    r.beats_refused = beats_refused - refused0;
    r.commits = server.stats().commits - commits0;
    r.skipped = skipped - skipped0;
    r.cpu = {cpu1.server_s - cpu0.server_s, cpu1.bench_s - cpu0.bench_s};
    mode = idle;
    // Let the heartbeats in flight drain before the next phase begins.
    for (int i = 0; i < 1000; ++i) {
      int in_flight = 0;
      for (auto& p : platforms) in_flight += p->in_flight;
      if (in_flight <= 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // The alarms of this phase: sent after its first second, before its end.
    const std::int64_t to_ns = from_ns + static_cast<std::int64_t>(r.seconds * 1e9);
    for (int i = 0; i < 2000 && deltas < alarms * static_cast<size_t>(o.consoles); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::lock_guard lock(samples_mu);
    for (const auto& [sent, ms] : samples)
      if (sent >= from_ns && sent < to_ns) r.delta_ms.push_back(ms);
    return r;
  };

  std::vector<PhaseResult> results;
  results.push_back(run_phase("no heartbeats", idle));
  results.push_back(run_phase("paced", paced));
  results.push_back(run_phase("flat out", flat_out));
  const size_t got = deltas;
  load.stop();
  watch.stop();
  server.stop();
  std::filesystem::remove_all(dir);

  std::printf("| phase | heartbeats/s answered | refused | commits/s | server CPU %% | bench CPU %% | alarms | delta p50 ms | "
              "delta p99 ms | delta max ms |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (auto& r : results) {
    std::sort(r.delta_ms.begin(), r.delta_ms.end());
    char pace[64] = "";
    if (std::string(r.name) == "paced") std::snprintf(pace, sizeof pace, " (%.0f/s asked)", o.rate);
    std::printf("| %s%s | %.0f | %llu | %.1f | %.0f | %.0f | %zu | %.3f | %.3f | %.3f |\n", r.name, pace,
                static_cast<double>(r.beats_ok) / r.seconds, static_cast<unsigned long long>(r.beats_refused),
                static_cast<double>(r.commits) / r.seconds, 100 * r.cpu.server_s / r.seconds,
                100 * r.cpu.bench_s / r.seconds, r.delta_ms.size() / static_cast<size_t>(o.consoles),
                percentile(r.delta_ms, 0.5), percentile(r.delta_ms, 0.99), r.delta_ms.empty() ? 0 : r.delta_ms.back());
    if (r.skipped) std::printf("  (%s: %llu heartbeats not sent: the server was behind)\n", r.name,
                               static_cast<unsigned long long>(r.skipped));
  }
  if (got != alarms * static_cast<size_t>(o.consoles)) {
    std::fprintf(stderr, "anxin-bench: lost deltas (%zu of %zu)\n", got, alarms * static_cast<size_t>(o.consoles));
    return 1;
  }
  return 0;
}

}  // namespace anxin::bench
