// A call rings the centre -> the elder's card on a subscribed console, with real SIP
// agents on loopback: a real server with one seat (its own baresip agent), a console
// over WebSocket, and a caller agent that dials the seat from a one-key phone's SIM
// number, once per call, a different elder each time (so each call opens an incident
// and its card). The clock starts when the INVITE reaches the seat's port, as tcpdump
// sees it on lo (-tt, microseconds), and stops when the console has the delta with
// the phone_call alert and the card, and then the line frame that shows it ringing.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "anxin/core/protocol.hpp"
#include "anxin/gateway/baresip.hpp"
#include "anxin/gateway/server.hpp"
#include "anxin/gateway/ws_client.hpp"
#include "bench.hpp"
#include "district.hpp"
#include "harness.hpp"

namespace anxin::bench {

namespace {

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The arrival time of every INVITE to `port` on lo, by Call-ID, from tcpdump.
class InviteTimes {
 public:
  explicit InviteTimes(int port) {
    const std::string cmd = "tcpdump -i lo -n -tt -l -A -s 0 udp dst port " + std::to_string(port) + " 2>/dev/null";
    pipe_ = popen(cmd.c_str(), "r");
    if (!pipe_) throw std::runtime_error("cannot start tcpdump");
    reader_ = std::thread([this] { read(); });
  }
  ~InviteTimes() {
    std::system("pkill -f 'tcpdump -i lo -n -tt -l -A -s 0 udp dst port' 2>/dev/null");
    reader_.join();
    pclose(pipe_);
  }
  std::optional<std::int64_t> at(const std::string& call_id, std::chrono::milliseconds wait) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return times_.count(call_id) > 0; });
    auto it = times_.find(call_id);
    if (it == times_.end()) return std::nullopt;
    return it->second;
  }

 private:
  void read() {
    char line[4096];
    std::int64_t ts = 0;
    bool invite = false;
    while (fgets(line, sizeof line, pipe_)) {
      std::string l(line);
      double t = 0;
      if (std::sscanf(line, "%lf IP ", &t) == 1 && l.find(" IP ") != std::string::npos) {
        ts = static_cast<std::int64_t>(t * 1e6);
        invite = false;
      }
      if (l.find("INVITE sip:") != std::string::npos) invite = true;
      if (auto at = l.find("Call-ID: "); invite && at != std::string::npos) {
        std::string id = l.substr(at + 9);
        while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
        std::lock_guard lock(mu_);
        times_.emplace(id, ts);  // the first INVITE of a call, not a retransmission
        cv_.notify_all();
        invite = false;
      }
    }
  }
  FILE* pipe_ = nullptr;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::int64_t> times_;
};

}  // namespace

int run_ring(const RingOptions& o) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::absolute(fs::path(o.dir) / "ring");
  fs::remove_all(dir);
  sim::District district = sim::generate_district({42, 2000, 60, "2026-11-26"});
  const std::string db = make_bench_db(dir, district);
  std::vector<std::string> sims;
  for (const auto& d : district.devices)
    if (!d.sim.empty()) sims.push_back(d.sim);

  const int seat_port = 25062;
  std::ofstream(dir / "line.json") << nlohmann::json{
      {"seats", {{{"name", "seat1"}, {"sip_port", seat_port}, {"ctrl_port", seat_port + 7}, {"rtp_min", 25100},
                  {"rtp_max", 25199}}}},
      {"dial", {{"default", "sip:{number}@127.0.0.1:25090"}}},
      {"workdir", (dir / "line").string()},
      {"recordings", (dir / "recordings").string()}}.dump();
  InviteTimes invites(seat_port);
  SystemClock clock;
  gateway::ServerOptions so;
  so.db_path = db;
  so.port = 0;
  so.interface = "127.0.0.1";
  so.field_port = -1;
  so.line_file = (dir / "line.json").string();
  QuietNotifier quiet;
  so.notifier = &quiet;
  gateway::Server server(so, clock);
  server.start();

  gateway::SyncClient console(server.port());
  if (!console.wait_open()) throw std::runtime_error("console cannot connect");
  console.send(protocol::encode({"", protocol::Hello{Role::console, "bench-console"}}));
  console.send(protocol::encode({"", protocol::Subscribe{}}));
  auto until = [&](const std::function<bool(const nlohmann::json&)>& ok, std::chrono::milliseconds limit) {
    const auto end = SteadyClock::now() + limit;
    while (SteadyClock::now() < end) {
      auto text = console.next(std::chrono::duration_cast<std::chrono::milliseconds>(end - SteadyClock::now()));
      if (!text) break;
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (ok(j)) return j;
    }
    return nlohmann::json();
  };
  if (until([](const nlohmann::json& j) { return j["type"] == "line" && j["seats"][0]["up"] == true; },
            std::chrono::seconds(15)).is_null())
    throw std::runtime_error("seat1 did not come up");

  std::vector<double> to_card_ms, to_line_ms;
  for (int n = 0; n < o.calls; ++n) {
    const std::string number = sims[static_cast<size_t>(n * 37) % sims.size()];
    std::mutex mu;
    std::condition_variable cv;
    bool up = false, closed = false;
    SeatConfig c;
    c.name = number;
    c.dir = (dir / "phone").string();
    c.sip_port = 25070;
    c.ctrl_port = 25078;
    c.rtp_min = 25200;
    c.rtp_max = 25219;
    Seat phone(c, [&](const SeatEvent& e) {
      std::lock_guard lock(mu);
      up |= e.kind == SeatEvent::Kind::up;
      closed |= e.kind == SeatEvent::Kind::closed;
      cv.notify_all();
    });
    {
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return up; })) throw std::runtime_error("caller not up");
    }
    phone.dial("sip:seat1@127.0.0.1:" + std::to_string(seat_port), "bench");
    std::string call_id;
    auto card = until(
        [&](const nlohmann::json& j) {
          if (j["type"] != "delta" || !j.contains("elder")) return false;
          for (const auto& e : j["append"])
            if (e["kind"] == "alert" && e["alert_kind"] == "phone_call") call_id = e["detail"]["call_id"];
          return !call_id.empty();
        },
        std::chrono::seconds(10));
    const std::int64_t card_us = wall_us();
    auto ringing = until([](const nlohmann::json& j) { return j["type"] == "line" && !j["calls"].empty(); },
                         std::chrono::seconds(5));
    const std::int64_t line_us = wall_us();
    auto invite = invites.at(call_id, std::chrono::seconds(2));
    if (card.is_null() || ringing.is_null() || !invite) throw std::runtime_error("call " + std::to_string(n) + " lost");
    if (n >= o.warmup) {
      to_card_ms.push_back(static_cast<double>(card_us - *invite) / 1000);
      to_line_ms.push_back(static_cast<double>(line_us - *invite) / 1000);
    }
    phone.hangup();
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return closed; });
  }
  server.stop();
  auto row = [](const char* what, const std::vector<double>& v) {
    std::printf("%-34s n=%zu  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", what, v.size(),
                percentile(v, 0.5), percentile(v, 0.9), percentile(v, 0.99),
                *std::max_element(v.begin(), v.end()));
  };
  row("INVITE at seat -> card on console", to_card_ms);
  row("INVITE at seat -> ringing on line", to_line_ms);
  return 0;
}

}  // namespace anxin::bench
