// Alarm -> console delta latency on loopback: a real server (in this process, on
// its own threads) over a real SQLite file, one device platform raising alarms at
// a fixed rate, and N subscribed consoles. Each alarm carries its send time in its
// detail; each console notes when the delta carrying it arrives.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "anxin/core/notifier.hpp"
#include "anxin/core/protocol.hpp"
#include "anxin/core/store.hpp"
#include "anxin/gateway/server.hpp"
#include "anxin/gateway/ws_client.hpp"
#include "bench.hpp"
#include "district.hpp"
#include "harness.hpp"

namespace anxin::bench {

namespace {

using json = nlohmann::json;

struct Samples {
  std::mutex mu;
  std::vector<double> ms;
  void add(double v) {
    std::lock_guard lock(mu);
    ms.push_back(v);
  }
};

// Waits for `pred`, up to `seconds`.
template <class F> bool wait_for(F pred, int seconds) {
  auto deadline = SteadyClock::now() + std::chrono::seconds(seconds);
  while (!pred()) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

struct RunResult {
  size_t sent = 0, acked = 0, deltas = 0;
  double ack_p50, ack_p99, delta_p50, delta_p90, delta_p99, delta_max;
  std::uint64_t commits = 0;
};

RunResult run_once(const LatencyOptions& o, bool synchronous_full) {
  const auto dir = std::filesystem::path(o.dir) / (synchronous_full ? "latency-full" : "latency-normal");
  sim::District district = sim::generate_district({});
  const std::string db = make_bench_db(dir, district);
  SystemClock clock;
  gateway::ServerOptions so;
  so.db_path = db;
  so.port = 0;
  so.interface = "127.0.0.1";
  so.synchronous_full = synchronous_full;
  QuietNotifier quiet;
  so.notifier = &quiet;
  gateway::Server server(so, clock);
  server.start();

  const std::int64_t warm_until = now_ns() + static_cast<std::int64_t>(o.warmup_s * 1e9);
  Samples delta_ms, ack_ms;
  std::atomic<size_t> deltas{0}, acked{0};

  // All client connections share one thread: on a two-core machine the harness
  // must not crowd out the server it measures.
  gateway::WsClientGroup clients;
  gateway::ClientOptions co;
  co.port = server.port();
  co.reconnect = false;

  // Consoles only scan for the marker instead of parsing every delta, for the same reason.
  std::atomic<int> subscribed{0};
  std::vector<size_t> console_ids;
  for (int i = 0; i < o.consoles; ++i) {
    gateway::ClientHandlers h;
    const size_t id = clients.size();
    h.on_open = [&clients, id] {
      clients.send(id, protocol::encode({"", protocol::Hello{Role::console, "bench-console"}}));
      clients.send(id, protocol::encode({"", protocol::Subscribe{}}));
    };
    h.on_message = [&](std::string text) {
      const std::int64_t t = now_ns();
      if (text.find("\"type\":\"snapshot\"") != std::string::npos) ++subscribed;
      if (text.find("\"type\":\"delta\"") == std::string::npos) return;
      for (size_t at = text.find("\"t_ns\":"); at != std::string::npos; at = text.find("\"t_ns\":", at + 1)) {
        const std::int64_t sent = std::strtoll(text.c_str() + at + 7, nullptr, 10);
        ++deltas;
        if (sent >= warm_until) delta_ms.add(static_cast<double>(t - sent) / 1e6);
      }
    };
    console_ids.push_back(clients.add(co, std::move(h)));
  }

  // One platform connection per vendor, as anxin-sim does.
  std::map<std::string, size_t> platform_of;
  std::mutex pending_mu;
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> pending;  // (device, seq) -> sent ns
  std::atomic<int> welcomed{0};
  for (const auto& d : district.devices) {
    if (platform_of.count(d.vendor)) continue;
    gateway::ClientHandlers h;
    const size_t id = clients.size();
    std::string token = "bench-" + d.vendor;
    h.on_open = [&clients, id, token] { clients.send(id, protocol::encode({"", protocol::Hello{Role::device, token}})); };
    h.on_message = [&](std::string text) {
      const std::int64_t t = now_ns();
      auto m = protocol::parse_server(text);
      if (!m) return;
      if (std::holds_alternative<protocol::Welcome>(m->body)) ++welcomed;
      auto* ack = std::get_if<protocol::Ack>(&m->body);
      if (!ack) return;
      std::int64_t sent;
      {
        std::lock_guard lock(pending_mu);
        auto it = pending.find({ack->device, ack->seq});
        if (it == pending.end()) return;
        sent = it->second;
        pending.erase(it);
      }
      ++acked;
      if (sent >= warm_until) ack_ms.add(static_cast<double>(t - sent) / 1e6);
    };
    platform_of[d.vendor] = clients.add(co, std::move(h));
  }
  clients.start();
  if (!wait_for([&] { return subscribed == o.consoles; }, 10)) throw std::runtime_error("consoles did not subscribe");
  if (!wait_for([&] { return welcomed == static_cast<int>(platform_of.size()); }, 10))
    throw std::runtime_error("platforms were not welcomed");

  sim::DeviceFleet fleet(district, 1);
  const auto interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / o.rate));
  const size_t total = static_cast<size_t>(o.rate * (o.warmup_s + o.seconds));
  auto next = SteadyClock::now();
  for (size_t i = 0; i < total; ++i) {
    std::this_thread::sleep_until(next);
    next += interval;
    AlarmIn a = fleet.next(clock.now_ms());
    const std::int64_t t = now_ns();
    a.detail = json{{"t_ns", t}}.dump();
    {
      std::lock_guard lock(pending_mu);
      pending[{a.device, a.seq}] = t;
    }
    clients.send(platform_of.at(fleet.vendor_of(a.device)), protocol::encode({"", a}));
  }
  wait_for([&] { return acked == total && deltas == total * static_cast<size_t>(o.consoles); }, 30);

  RunResult r;
  r.sent = total;
  r.acked = acked;
  r.deltas = deltas;
  r.commits = server.stats().commits;
  std::sort(delta_ms.ms.begin(), delta_ms.ms.end());
  r.ack_p50 = percentile(ack_ms.ms, 0.50);
  r.ack_p99 = percentile(ack_ms.ms, 0.99);
  r.delta_p50 = percentile(delta_ms.ms, 0.50);
  r.delta_p90 = percentile(delta_ms.ms, 0.90);
  r.delta_p99 = percentile(delta_ms.ms, 0.99);
  r.delta_max = delta_ms.ms.empty() ? 0 : delta_ms.ms.back();
  clients.stop();
  server.stop();
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace

int run_latency(const LatencyOptions& o) {
  std::printf("alarm -> console delta latency: %.0f alarms/s for %.0f s (+%.0f s warm-up), %d consoles, db in %s\n",
              o.rate, o.seconds, o.warmup_s, o.consoles, o.dir.c_str());
  std::printf("| synchronous | alarms | acked | deltas | commits | ack p50 ms | ack p99 ms | delta p50 ms | delta p90 ms | delta p99 ms | delta max ms |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (bool full : {true, false}) {
    if (!full && !o.compare_normal) continue;
    RunResult r = run_once(o, full);
    std::printf("| %s | %zu | %zu | %zu | %llu | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", full ? "FULL" : "NORMAL",
                r.sent, r.acked, r.deltas, static_cast<unsigned long long>(r.commits), r.ack_p50, r.ack_p99,
                r.delta_p50, r.delta_p90, r.delta_p99, r.delta_max);
    std::fflush(stdout);
    if (r.acked != r.sent || r.deltas != r.sent * static_cast<size_t>(o.consoles)) {
      std::fprintf(stderr, "anxin-bench: lost messages (acked %zu of %zu, deltas %zu)\n", r.acked, r.sent, r.deltas);
      return 1;
    }
  }
  return 0;
}

}  // namespace anxin::bench
