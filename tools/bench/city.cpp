// City-scale benchmarks (issue 15): a real anxin-server run as a child process on a
// database made by an `anxin-sim generate`, and Debian's redis-server (appendfsync
// always) driven by the same one-thread epoll driver (driver.hpp) with payloads of
// the same size, so each run carries its own peer. Modes:
//   fanout      paced alarms -> the delta at every console; Redis XADD + PUBLISH
//   throughput  pipelining platform connections flat out; Redis pipelined XADD + PUBLISH
//   stall       a console subscribing at thousands of open incidents, others' latency
//   wal         the WAL file's size after a burst, and after a quiet while; then a
//               restart after kill -9 and one after a clean stop
//   burst       a restart with thousands of incidents due to escalate
// Which server and generator are measured comes from --server and --sim, so one
// driver measures an older build ("before") and this one ("after").
#include <netinet/in.h>
#include <sched.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "driver.hpp"

namespace anxin::bench {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr long long kSeqBase = 1'000'000'000;  // above any seq in a generated history

// --- the district, read from the generated database ----------------------------

struct CityDevice {
  std::string id;
  std::string kind;  // the alarm kind this device raises
  int vendor = 0;    // index into City::vendors
};

struct City {
  fs::path db;  // the generated template
  std::vector<std::string> vendors, vendor_tokens;
  std::string console_token;
  std::vector<std::vector<CityDevice>> by_elder;  // each elder's devices
};

std::string alarm_kind_of(const std::string& device_kind) {
  static const std::map<std::string, std::string> m{
      {"sos_button", "sos"},      {"smoke", "smoke"},           {"gas", "gas"},
      {"water_leak", "water_leak"}, {"infrared", "fall"},       {"door", "door_open_long"},
      {"bed", "bed_exit_long"},   {"vital_signs", "vital_abnormal"}, {"geofence", "geofence_exit"},
      {"water_meter", "no_water_use"}};
  auto it = m.find(device_kind);
  return it == m.end() ? "low_battery" : it->second;
}

fs::path own_build_dir() {
  // This program is BUILD/tools/bench/anxin-bench.
  return fs::canonical("/proc/self/exe").parent_path().parent_path().parent_path();
}

void run_child_to_end(const std::vector<std::string>& argv, const fs::path& log) {
  Child c;
  c.start(argv, log.string());
  while (c.running()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

City prepare_city(const CityOptions& o, int elders) {
  const fs::path sim = fs::absolute(o.sim);
  if (!fs::exists(sim)) throw std::runtime_error(sim.string() + " does not exist (--sim)");
  // One generated district per generator and size, reused by later runs.
  const auto stamp = std::to_string(fs::last_write_time(sim).time_since_epoch().count());
  const auto key = std::to_string(std::hash<std::string>{}(sim.string() + "|" + stamp));
  const fs::path dir = fs::absolute(o.dir) / ("city-" + std::to_string(elders) + "-" + key.substr(0, 10));
  City c;
  c.db = dir / "city.db";
  const fs::path tokens = dir / "city.db.tokens.json";
  if (!fs::exists(dir / "done")) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::printf("generating a district of %d elders with %s ...\n", elders, sim.c_str());
    std::fflush(stdout);
    const std::int64_t t0 = mono_ns();
    run_child_to_end({sim.string(), "generate", "--db", c.db.string(), "--elders", std::to_string(elders)},
                     dir / "generate.log");
    if (!fs::exists(tokens)) throw std::runtime_error("anxin-sim generate failed: see " + (dir / "generate.log").string());
    std::ofstream(dir / "done") << sim.string() << "\n";
    std::printf("  generated in %.1f s\n", static_cast<double>(mono_ns() - t0) / 1e9);
  }
  const json t = json::parse(std::ifstream(tokens));
  for (const auto& [vendor, token] : t.at("vendors").items()) {
    c.vendors.push_back(vendor);
    c.vendor_tokens.push_back(token.get<std::string>());
  }
  c.console_token = t.at("consoles").at(0).at("token").get<std::string>();
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(c.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    throw std::runtime_error("cannot open " + c.db.string());
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT elder_id, id, kind, vendor FROM devices ORDER BY elder_id, id", -1, &st, nullptr);
  long long last_elder = -1;
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    const long long elder = sqlite3_column_int64(st, 0);
    if (elder != last_elder) c.by_elder.emplace_back();
    last_elder = elder;
    CityDevice d;
    d.id = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    d.kind = alarm_kind_of(reinterpret_cast<const char*>(sqlite3_column_text(st, 2)));
    const std::string vendor = reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    d.vendor = static_cast<int>(std::find(c.vendors.begin(), c.vendors.end(), vendor) - c.vendors.begin());
    if (d.vendor == static_cast<int>(c.vendors.size())) continue;  // no token for it
    c.by_elder.back().push_back(std::move(d));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (c.by_elder.empty() || c.vendors.empty()) throw std::runtime_error("no devices or vendor tokens in " + c.db.string());
  return c;
}

// Alarms in an order that spreads them over elders: each elder's first device, then
// each one's second ... over the first `elders` elders; then the same with
// low_battery; then again from the top (those fold into the alerts already open).
struct Planned {
  const CityDevice* device;
  const char* kind;
};

std::vector<Planned> plan_alarms(const City& c, size_t elders, size_t count, size_t skip = 0) {
  elders = std::min(elders, c.by_elder.size());
  std::vector<Planned> all;
  size_t max_devices = 0;
  for (size_t e = 0; e < elders; ++e) max_devices = std::max(max_devices, c.by_elder[e].size());
  for (int pass = 0; pass < 2; ++pass)
    for (size_t r = 0; r < max_devices; ++r)
      for (size_t e = 0; e < elders; ++e)
        if (r < c.by_elder[e].size()) {
          const CityDevice& d = c.by_elder[e][r];
          all.push_back({&d, pass == 0 ? d.kind.c_str() : "low_battery"});
        }
  std::vector<Planned> out;
  out.reserve(count);
  for (size_t i = 0; out.size() < count; ++i) out.push_back(all[(skip + i) % all.size()]);
  return out;
}

// --- measurements ----------------------------------------------------------------

struct Dist {
  size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

Dist dist(std::vector<double> v) {
  Dist d;
  d.n = v.size();
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  auto at = [&](double p) { return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))]; };
  d.p50 = at(0.5);
  d.p90 = at(0.9);
  d.p99 = at(0.99);
  d.max = v.back();
  return d;
}

// Frames are scanned, not parsed: the driver must stay cheap. Keys are found with
// memmem, not string_view::find, which looks for a key's first byte and compares from
// each: these keys begin with a quote, which JSON has every few bytes. In deltas of
// several hundred bytes that was half the driver's CPU (perf, docs/benchmarks.md,
// "The driver's own share"), taken from the CPU it shares with the server's writer.
size_t find_in(std::string_view m, std::string_view what, size_t from = 0) {
  if (from > m.size()) return std::string_view::npos;
  const void* at = memmem(m.data() + from, m.size() - from, what.data(), what.size());
  return at ? static_cast<size_t>(static_cast<const char*>(at) - m.data()) : std::string_view::npos;
}

std::string_view type_of(std::string_view m) {
  const auto at = find_in(m, "\"type\":\"");
  if (at == std::string_view::npos) return {};
  const auto end = m.find('"', at + 8);
  return m.substr(at + 8, end - at - 8);
}

long long number_after(std::string_view m, std::string_view key, size_t from = 0) {
  const auto at = find_in(m, key, from);
  if (at == std::string_view::npos) return -1;
  size_t i = at + key.size();
  while (i < m.size() && (m[i] == ' ' || m[i] == '"')) ++i;
  long long v = 0;
  bool any = false;
  for (; i < m.size() && m[i] >= '0' && m[i] <= '9'; ++i) {
    v = v * 10 + (m[i] - '0');
    any = true;
  }
  return any ? v : -1;
}

size_t count_of(std::string_view m, std::string_view what) {
  size_t n = 0;
  for (auto at = find_in(m, what); at != std::string_view::npos; at = find_in(m, what, at + what.size())) ++n;
  return n;
}

std::string fmt_mb(std::uintmax_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return b;
}

// What one run of one system measured.
struct Result {
  std::string system;
  size_t sent = 0, acked = 0, folded = 0, errors = 0, rate_limited = 0;
  size_t expected_deliveries = 0, deliveries = 0, gaps = 0, dropped = 0;
  Dist ack_ms, delta_ms;
  // Each alarm's delta at the console it reached first and at the one it reached last:
  // the time before the fan-out, and the fan-out's own width beside it.
  Dist first_ms, last_ms;
  double seconds = 0;      // from the first alarm to the last ack
  double server_cpu_s = 0, driver_cpu_s = 0;
  double alarms_per_s() const { return seconds > 0 ? static_cast<double>(acked) / seconds : 0; }
  double server_us_per_alarm() const { return acked ? server_cpu_s * 1e6 / static_cast<double>(acked) : 0; }
};

// --- where the threads run --------------------------------------------------------

// On this two-core machine the scheduler otherwise puts the driver, or the server's
// own writer, on the event loop's CPU, and every console waits for the loop to get
// it back. Each server's loop gets the first CPU; the rest take everything else,
// this driver included. Redis gets the same with server_cpulist and bio_cpulist.
void place_threads(CityOptions& o) {
  cpu_set_t all;
  CPU_ZERO(&all);
  if (sched_getaffinity(0, sizeof all, &all) != 0 || CPU_COUNT(&all) < 2) return;
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &all)) cpus.push_back(c);
  o.loop_cpus = std::to_string(cpus.front());
  for (size_t i = 1; i < cpus.size(); ++i) o.other_cpus += (i > 1 ? "," : "") + std::to_string(cpus[i]);
  Child::start_on(all);  // the children choose for themselves
  cpu_set_t driver;
  CPU_ZERO(&driver);
  CPU_SET(cpus.back(), &driver);
  if (sched_setaffinity(0, sizeof driver, &driver) != 0) throw std::runtime_error("cannot pin the driver");
}

std::vector<std::string> cpu_flags(const CityOptions& o) {
  if (o.loop_cpus.empty()) return {};
  return {"--service-cpus", o.loop_cpus, "--background-cpus", o.other_cpus};
}

std::vector<std::string> cpu_lists(const CityOptions& o) {
  if (o.loop_cpus.empty()) return {};
  return {"--server_cpulist", o.loop_cpus, "--bio_cpulist", o.other_cpus};
}

std::vector<std::string> joined(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// --- Anxin: the server as a child, device platforms and consoles -----------------

// The address the i-th idle connection comes from (CityOptions::idle).
std::uint32_t idle_from(int i) { return INADDR_LOOPBACK + 1 + static_cast<std::uint32_t>(i / 250); }

struct Console {
  size_t conn = 0;
  bool welcomed = false, snapshot = false, subscribe_when_welcomed = false;
  std::int64_t subscribe_ns = 0, snapshot_ns = 0;
  size_t snapshot_bytes = 0;
  long long last_seq = -1;
  size_t deltas = 0, gaps = 0, markers = 0, escalated = 0;
  std::vector<std::int64_t> arrival;  // per alarm, when its delta came (0: not yet)
};

class AnxinRig {
 public:
  AnxinRig(const CityOptions& o, const City& city, const std::string& label, const json& config)
      : o_(o), city_(city) {
    run_dir_ = fs::absolute(o.dir) / ("run-" + label);
    fs::remove_all(run_dir_);
    fs::create_directories(run_dir_);
    db_ = run_dir_ / "city.db";
    for (const char* suffix : {"", "-wal", "-shm"}) {
      const fs::path from = city.db.string() + suffix;
      if (fs::exists(from)) fs::copy_file(from, db_.string() + suffix);
    }
    std::ofstream(run_dir_ / "conf.json") << config.dump(2) << "\n";
  }
  ~AnxinRig() {
    server_.stop();
    if (!o_.keep) fs::remove_all(run_dir_);
  }

  const fs::path& db() const { return db_; }
  pid_t server_pid() const { return server_.pid(); }
  Driver& driver() { return d_; }

  void start_server() {
    const fs::path port_file = run_dir_ / "port";
    fs::remove(port_file);
    server_start_ns_ = mono_ns();
    server_.start(joined({fs::absolute(o_.server).string(), "--db", db_.string(), "--port", "0", "--port-file",
                          port_file.string(), "--field-port", "-1", "--interface", "127.0.0.1", "--config",
                          (run_dir_ / "conf.json").string()},
                         cpu_flags(o_)),
                  (run_dir_ / "server.log").string());
    const std::int64_t until = mono_ns() + 300'000'000'000LL;
    while (!fs::exists(port_file)) {
      if (!server_.running()) throw std::runtime_error("the server stopped: see " + (run_dir_ / "server.log").string());
      if (mono_ns() > until) throw std::runtime_error("the server did not start listening");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    serving_ns_ = mono_ns();
    std::ifstream(port_file) >> port_;
  }
  void stop_server() { server_.stop(); }
  void kill_server() { server_.kill_now(); }
  double start_to_serving_s() const { return static_cast<double>(serving_ns_ - server_start_ns_) / 1e9; }
  std::int64_t server_start_ns() const { return server_start_ns_; }

  // `per_vendor_min` platform connections at least per vendor, `count` in all.
  void connect_platforms(int count) {
    const int vendors = static_cast<int>(city_.vendors.size());
    count = std::max(count, vendors);
    conns_of_vendor_.assign(vendors, {});
    for (int i = 0; i < count; ++i) {
      const int v = i % vendors;
      Platform p;
      p.vendor = v;
      const size_t idx = platforms_.size();
      p.conn = d_.connect(
          Driver::Kind::ws, port_, [this, idx](std::string_view m) { on_platform(idx, m); },
          [this, idx, v] {
            d_.send_text(platforms_[idx].conn,
                         R"({"type":"hello","role":"device","token":")" + city_.vendor_tokens[v] + "\"}");
          });
      platforms_.push_back(p);
      conns_of_vendor_[v].push_back(idx);
    }
    if (!d_.run([&] { return welcomed_ == platforms_.size(); }, 30))
      throw std::runtime_error("the platforms were not welcomed");
  }

  // Consoles say hello; subscribe() asks for the snapshot.
  size_t add_console() {
    const size_t idx = consoles_.size();
    consoles_.emplace_back();
    consoles_[idx].conn = d_.connect(
        Driver::Kind::ws, port_, [this, idx](std::string_view m) { on_console(idx, m); },
        [this, idx] {
          d_.send_text(consoles_[idx].conn, R"({"type":"hello","role":"console","token":")" + city_.console_token + "\"}");
        });
    return idx;
  }
  void subscribe(size_t idx) {
    if (!consoles_[idx].welcomed) {
      consoles_[idx].subscribe_when_welcomed = true;
      return;
    }
    consoles_[idx].subscribe_ns = mono_ns();
    d_.send_text(consoles_[idx].conn, R"({"type":"subscribe","req":"s"})");
  }
  // Connections that say hello as a vendor's platform, then nothing (CityOptions::idle).
  void connect_idle(int n) {
    for (int i = 0; i < n; ++i) {
      const std::string hello =
          R"({"type":"hello","role":"device","token":")" + city_.vendor_tokens[i % city_.vendor_tokens.size()] + "\"}";
      auto conn = std::make_shared<size_t>();
      *conn = d_.connect(
          Driver::Kind::ws, port_,
          [this](std::string_view m) { idle_welcomed_ += type_of(m) == "welcome"; },
          [this, conn, hello] { d_.send_text(*conn, hello); }, idle_from(i));
    }
    if (!d_.run([&] { return idle_welcomed_ == static_cast<size_t>(n); }, 60))
      throw std::runtime_error("the idle connections were not welcomed");
  }
  void wait_welcomed(double timeout_s) {
    if (!d_.run([&] { return std::all_of(consoles_.begin(), consoles_.end(), [](auto& c) { return c.welcomed; }); }, timeout_s))
      throw std::runtime_error("the consoles were not welcomed");
  }
  bool wait_snapshots(double timeout_s) {
    return d_.run([&] {
      return std::all_of(consoles_.begin(), consoles_.end(),
                         [&](auto& c) { return c.snapshot || d_.is_closed(c.conn); });
    }, timeout_s);
  }
  // Every console welcomed, subscribed, and its snapshot in.
  void subscribe_all() {
    wait_welcomed(30);
    for (size_t i = 0; i < consoles_.size(); ++i) subscribe(i);
    if (!wait_snapshots(60)) throw std::runtime_error("the consoles got no snapshot");
  }
  std::vector<Console>& consoles() { return consoles_; }

  // The alarms to send, and whether consoles keep each delta's arrival time.
  void set_plan(std::vector<Planned> plan, bool arrivals) {
    plan_ = std::move(plan);
    sent_.assign(plan_.size(), 0);
    acked_.assign(plan_.size(), 0);
    folded_.assign(plan_.size(), 0);
    next_ = 0;
    for (auto& c : consoles_) c.arrival.assign(arrivals ? plan_.size() : 0, 0);
  }
  size_t sent() const { return next_; }
  size_t acked() const { return n_acked_; }
  const std::vector<std::int64_t>& sent_ns() const { return sent_; }
  const std::vector<std::int64_t>& acked_ns() const { return acked_; }
  size_t folded() const { return n_folded_; }
  const std::vector<std::uint8_t>& folded_flags() const { return folded_; }
  size_t errors() const { return n_errors_; }
  size_t rate_limited() const { return n_rate_limited_; }

  // Sends the next planned alarm on a connection of its vendor; false when none is left.
  bool send_next(int platform = -1) {
    if (next_ >= plan_.size()) return false;
    const size_t i = next_++;
    const Planned& a = plan_[i];
    size_t p;
    if (platform >= 0) {
      p = static_cast<size_t>(platform);
    } else {
      auto& list = conns_of_vendor_[a.device->vendor];
      p = list[rr_[a.device->vendor]++ % list.size()];
    }
    send_alarm(p, i);
    return true;
  }

  // Paced: `rate` alarms a second, evenly, until `count` are sent (or the plan ends).
  void pace(double rate, size_t count) {
    const size_t until = std::min(plan_.size(), next_ + count);
    d_.every(static_cast<std::int64_t>(1e9 / rate), [this, until](std::uint64_t expirations) {
      for (std::uint64_t k = 0; k < expirations && next_ < until; ++k) send_next();
    });
  }
  void stop_pacing() { d_.every(0, nullptr); }

  // Pipelined: every platform connection keeps `window` alarms of its own vendor in
  // flight, until `count` are sent.
  void pipeline(int window, size_t count) {
    window_ = window;
    pipeline_until_ = std::min(plan_.size(), next_ + count);
    vendor_cursor_.assign(city_.vendors.size(), next_);
    pipelined_ = true;
    for (size_t p = 0; p < platforms_.size(); ++p)
      while (platforms_[p].in_flight < window_ && send_vendor_next(p)) {
      }
    // Frames a platform's limit dropped unanswered are sent again after a second.
    d_.every(100'000'000, [this](std::uint64_t) { resend_stale(); });
  }
  void stop_pipeline() { pipelined_ = false; }  // (resends go on until stop_resending)
  void stop_resending() { d_.every(0, nullptr); }
  size_t pipeline_sent() const { return pipeline_sent_; }

  bool wait_acked(size_t count, double timeout_s) {
    return d_.run([&] { return n_acked_ >= count; }, timeout_s);
  }

 private:
  struct Platform {
    size_t conn = 0;
    int vendor = 0;
    int in_flight = 0;
    std::vector<size_t> flying;  // alarm indices in flight (pipelined)
  };

  void send_alarm(size_t p, size_t i) {
    const Planned& a = plan_[i];
    char frame[384];
    const int n = std::snprintf(frame, sizeof frame,
                                R"({"type":"alarm","req":"%zu","device":"%s","seq":%lld,"kind":"%s","device_time_ms":%lld,"detail":{"bseq":%zu}})",
                                i, a.device->id.c_str(), kSeqBase + static_cast<long long>(i), a.kind,
                                static_cast<long long>(device_time_ms_), i);
    if (!sent_[i]) sent_[i] = mono_ns();
    platform_of_.resize(plan_.size());
    platform_of_[i] = static_cast<std::uint32_t>(p);
    d_.send_text(platforms_[p].conn, std::string_view(frame, static_cast<size_t>(n)));
  }

  // Pipelined: the next alarm of this platform's vendor.
  bool send_vendor_next(size_t p) {
    const int v = platforms_[p].vendor;
    size_t& cur = vendor_cursor_[v];
    while (cur < pipeline_until_ && plan_[cur].device->vendor != v) ++cur;
    if (cur >= pipeline_until_) return false;
    const size_t i = cur++;
    next_ = std::max(next_, i + 1);
    ++pipeline_sent_;
    ++platforms_[p].in_flight;
    send_alarm(p, i);
    return true;
  }

  void resend_stale() {
    const std::int64_t now = mono_ns();
    for (size_t i : resend_) {
      if (acked_[i]) continue;
      send_alarm(platform_of_[i], i);
    }
    resend_.clear();
    // An alarm unanswered for 2 s was dropped by the frame limit without an answer.
    if (now - last_stale_scan_ < 1'000'000'000) return;
    last_stale_scan_ = now;
    for (size_t i = stale_from_; i < next_; ++i) {
      if (acked_[i]) {
        if (i == stale_from_) ++stale_from_;
        continue;
      }
      if (sent_[i] && now - sent_[i] > 2'000'000'000) {
        sent_[i] = now;  // (its latency then counts from the resend)
        send_alarm(platform_of_[i], i);
      }
    }
  }

  void on_platform(size_t idx, std::string_view m) {
    const auto type = type_of(m);
    if (type == "welcome") {
      ++welcomed_;
      return;
    }
    const long long req = number_after(m, "\"req\":");
    if (type == "ack") {
      if (req < 0 || static_cast<size_t>(req) >= plan_.size() || acked_[req]) return;
      acked_[req] = mono_ns();
      ++n_acked_;
      if (find_in(m, "\"folded\":true") != std::string_view::npos) {
        folded_[req] = 1;
        ++n_folded_;
      }
      if (pipelined_) {
        --platforms_[idx].in_flight;
        while (platforms_[idx].in_flight < window_ && send_vendor_next(idx)) {
        }
      }
    } else if (type == "error") {
      ++n_errors_;
      if (m.find("E_RATE_LIMITED") != std::string_view::npos) ++n_rate_limited_;
      if (req >= 0 && static_cast<size_t>(req) < plan_.size()) resend_.push_back(static_cast<size_t>(req));
      if (n_errors_ <= 3) std::fprintf(stderr, "anxin-bench: server error: %.*s\n", static_cast<int>(std::min<size_t>(m.size(), 300)), m.data());
    }
  }

  void on_console(size_t idx, std::string_view m) {
    Console& c = consoles_[idx];
    const std::int64_t now = mono_ns();
    const auto type = type_of(m);
    if (type == "delta") {
      const long long seq = number_after(m, "\"seq\":");
      if (c.last_seq >= 0 && seq != c.last_seq + 1) ++c.gaps;
      c.last_seq = seq;
      ++c.deltas;
      for (auto at = find_in(m, "\"bseq\":"); at != std::string_view::npos; at = find_in(m, "\"bseq\":", at + 7)) {
        const long long i = number_after(m, "\"bseq\":", at);
        ++c.markers;
        if (i >= 0 && static_cast<size_t>(i) < c.arrival.size() && !c.arrival[i]) c.arrival[i] = now;
      }
      if (count_escalations_) c.escalated += count_of(m, "\"kind\":\"escalated\"");
    } else if (type == "snapshot") {
      c.snapshot = true;
      c.snapshot_ns = now;
      c.snapshot_bytes = m.size();
      c.last_seq = number_after(m, "\"seq\":");
      if (count_escalations_) c.escalated += count_of(m, "\"kind\":\"escalated\"");
    } else if (type == "welcome") {
      c.welcomed = true;
      if (c.subscribe_when_welcomed) subscribe(idx);
    }
  }

 public:
  bool count_escalations_ = false;

 private:
  const CityOptions& o_;
  const City& city_;
  Driver d_;
  Child server_;
  fs::path run_dir_, db_;
  int port_ = 0;
  std::int64_t server_start_ns_ = 0, serving_ns_ = 0;
  std::vector<Platform> platforms_;
  std::vector<std::vector<size_t>> conns_of_vendor_;
  std::map<int, size_t> rr_;
  size_t welcomed_ = 0;
  size_t idle_welcomed_ = 0;
  std::vector<Console> consoles_;
  std::vector<Planned> plan_;
  std::vector<std::int64_t> sent_, acked_;
  std::vector<std::uint8_t> folded_;
  std::vector<std::uint32_t> platform_of_;
  std::vector<size_t> resend_;
  size_t next_ = 0, n_acked_ = 0, n_folded_ = 0, n_errors_ = 0, n_rate_limited_ = 0;
  bool pipelined_ = false;
  int window_ = 0;
  size_t pipeline_until_ = 0, pipeline_sent_ = 0, stale_from_ = 0;
  std::int64_t last_stale_scan_ = 0;
  std::vector<size_t> vendor_cursor_;
  // One device time for every alarm of a run, so that a resend is the same alarm.
  std::int64_t device_time_ms_ = wall_ms() - 1000;
};

// The timers for the benchmarks: no escalation during a run (unless asked), and no
// per-device alarm limit in the way of a district-wide flow of alarms.
json bench_config(int ack_escalation_s = 3600) {
  return json{{"ack_escalation_s", ack_escalation_s},
              {"ack_escalation_long_s", 86400},
              {"supervision", {{"alarm_burst", 10000}}},
              // A vendor platform's 2,000 frames a second per connection would cap 8
              // connections near 16,000 alarms/s: the limit is not what is measured.
              {"frame_limits", {{"vendor", {{"per_s", 1000000}, {"at_once", 1000000}}}}}};
}

// --- Redis: the same driver, XADD to a stream and PUBLISH to a channel -------------

class RedisRig {
 public:
  RedisRig(const CityOptions& o, size_t payload_bytes) : o_(o), payload_bytes_(payload_bytes) {
    dir_ = fs::absolute(o.dir) / "run-redis";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    port_ = free_port();
    redis_.start(joined({o.redis, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir_.string(),
                         "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
                         "--protected-mode", "no", "--logfile", (dir_ / "redis.log").string()},
                        cpu_lists(o)),
                 (dir_ / "stdout.log").string());
    const std::int64_t until = mono_ns() + 20'000'000'000LL;
    for (;;) {
      try {
        bool pong = false;
        const size_t c = d_.connect(Driver::Kind::resp, port_, [&](std::string_view m) { pong = m.rfind("+PONG", 0) == 0; });
        d_.send_raw(c, "PING\r\n");
        d_.run([&] { return pong; }, 5);
        d_.close(c);
        if (pong) break;
      } catch (const std::exception&) {
      }
      if (!redis_.running()) throw std::runtime_error(o.redis + " did not start: see " + (dir_ / "redis.log").string());
      if (mono_ns() > until) throw std::runtime_error(o.redis + " did not answer");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~RedisRig() {
    redis_.stop();
    if (!o_.keep) fs::remove_all(dir_);
  }
  pid_t pid() const { return redis_.pid(); }
  Driver& driver() { return d_; }

  void add_subscribers(int n) {
    size_t confirmed = 0;
    for (int i = 0; i < n; ++i) {
      const size_t idx = subs_.size();
      subs_.emplace_back();
      subs_[idx].conn = d_.connect(Driver::Kind::resp, port_, [this, idx, &confirmed](std::string_view m) {
        if (find_in(m, "subscribe") != std::string_view::npos && find_in(m, "$7\r\nmessage") == std::string_view::npos) {
          ++confirmed;
          return;
        }
        Console& c = subs_[idx];
        ++c.deltas;
        const long long i = number_after(m, "\"bseq\":");
        ++c.markers;
        if (i >= 0 && static_cast<size_t>(i) < c.arrival.size() && !c.arrival[i]) c.arrival[i] = mono_ns();
      });
      d_.send_raw(subs_[idx].conn, "SUBSCRIBE anxin\r\n");
    }
    if (!d_.run([&] { return confirmed == static_cast<size_t>(n); }, 10)) throw std::runtime_error("redis subscribers");
  }
  void connect_idle(int n) {
    for (int i = 0; i < n; ++i) d_.connect(Driver::Kind::resp, port_, [](std::string_view) {}, {}, idle_from(i));
  }
  void add_producers(int n) {
    for (int i = 0; i < n; ++i) {
      const size_t idx = producers_.size();
      producers_.emplace_back();
      producers_[idx].conn = d_.connect(Driver::Kind::resp, port_, [this, idx](std::string_view m) { on_reply(idx, m); });
    }
  }
  std::vector<Console>& subscribers() { return subs_; }

  void set_count(size_t count, bool arrivals) {
    sent_.assign(count, 0);
    acked_.assign(count, 0);
    next_ = 0;
    for (auto& c : subs_) c.arrival.assign(arrivals ? count : 0, 0);
  }
  size_t sent() const { return next_; }
  size_t acked() const { return n_acked_; }
  const std::vector<std::int64_t>& sent_ns() const { return sent_; }
  const std::vector<std::int64_t>& acked_ns() const { return acked_; }

  void set_stop() { stopped_ = true; }
  bool send_next(size_t producer) {
    if (stopped_ || next_ >= sent_.size()) return false;
    const size_t i = next_++;
    // The payload: the same marker as an Anxin alarm's detail, padded to its size.
    std::string payload = "{\"bseq\":" + std::to_string(i) + "}";
    if (payload.size() < payload_bytes_) payload.append(payload_bytes_ - payload.size(), 'x');
    const std::string len = std::to_string(payload.size());
    std::string cmd;
    cmd.reserve(2 * payload.size() + 96);
    cmd += "*5\r\n$4\r\nXADD\r\n$5\r\nanxin\r\n$1\r\n*\r\n$1\r\np\r\n$" + len + "\r\n" + payload + "\r\n";
    cmd += "*3\r\n$7\r\nPUBLISH\r\n$5\r\nanxin\r\n$" + len + "\r\n" + payload + "\r\n";
    sent_[i] = mono_ns();
    producers_[producer].fifo.push_back(i);
    ++producers_[producer].in_flight;
    d_.send_raw(producers_[producer].conn, cmd);
    return true;
  }
  void pace(double rate, size_t count) {
    const size_t until = std::min(sent_.size(), next_ + count);
    d_.every(static_cast<std::int64_t>(1e9 / rate), [this, until](std::uint64_t expirations) {
      for (std::uint64_t k = 0; k < expirations && next_ < until; ++k) send_next(0);
    });
  }
  void stop_pacing() { d_.every(0, nullptr); }
  void pipeline(int window) {
    window_ = window;
    for (size_t p = 0; p < producers_.size(); ++p)
      while (producers_[p].in_flight < window_ && send_next(p)) {
      }
  }
  bool wait_acked(size_t count, double timeout_s) {
    return d_.run([&] { return n_acked_ >= count; }, timeout_s);
  }

 private:
  struct Producer {
    size_t conn = 0;
    int in_flight = 0;
    std::vector<size_t> fifo;  // alarms whose XADD reply has not come
    size_t head = 0;
    bool want_publish = false;  // the next reply is the PUBLISH's
  };
  void on_reply(size_t idx, std::string_view m) {
    Producer& p = producers_[idx];
    if (!p.want_publish) {  // the XADD's reply: the ack
      if (p.head < p.fifo.size()) {
        const size_t i = p.fifo[p.head++];
        acked_[i] = mono_ns();
        ++n_acked_;
        if (m[0] == '-') ++errors_;
      }
      p.want_publish = true;
      return;
    }
    p.want_publish = false;
    --p.in_flight;
    if (p.head == p.fifo.size()) {
      p.fifo.clear();
      p.head = 0;
    }
    if (window_ > 0)
      while (p.in_flight < window_ && send_next(idx)) {
      }
  }

  const CityOptions& o_;
  size_t payload_bytes_;
  fs::path dir_;
  int port_ = 0;
  Child redis_;
  Driver d_;
  std::vector<Console> subs_;
  std::vector<Producer> producers_;
  std::vector<std::int64_t> sent_, acked_;
  size_t next_ = 0, n_acked_ = 0, errors_ = 0;
  int window_ = 0;
  bool stopped_ = false;
};

// The size of an Anxin alarm frame, which the Redis payload matches.
size_t alarm_frame_bytes(const City& c) {
  const CityDevice& d = c.by_elder[0][0];
  char frame[384];
  return static_cast<size_t>(std::snprintf(frame, sizeof frame,
                                           R"({"type":"alarm","req":"%d","device":"%s","seq":%lld,"kind":"%s","device_time_ms":%lld,"detail":{"bseq":%d}})",
                                           12345, d.id.c_str(), kSeqBase + 12345, d.kind.c_str(),
                                           static_cast<long long>(wall_ms()), 12345));
}

// Latencies of the alarms sent in [from_ns, to_ns): ack, and delta at each console.
// With `alarms_to`, one line per alarm appended to that file: the system, when it was
// sent (CLOCK_MONOTONIC ns, as `perf record -k CLOCK_MONOTONIC` stamps events), its
// ack and its first and last console's delta in ms (-1: none came).
void collect(const std::vector<std::int64_t>& sent, const std::vector<std::int64_t>& acked,
             const std::vector<Console>& consoles, std::int64_t from_ns, std::int64_t to_ns, Result& r,
             const std::vector<std::uint8_t>* folded = nullptr, const std::string& alarms_to = {}) {
  std::vector<double> ack, delta, first, last;
  std::unique_ptr<FILE, int (*)(FILE*)> out(alarms_to.empty() ? nullptr : std::fopen(alarms_to.c_str(), "a"),
                                            &std::fclose);
  if (!alarms_to.empty() && !out) throw std::runtime_error("cannot write " + alarms_to);
  auto ms = [&](std::int64_t at, size_t i) { return at ? static_cast<double>(at - sent[i]) / 1e6 : -1.0; };
  for (size_t i = 0; i < sent.size(); ++i) {
    if (!sent[i] || sent[i] < from_ns || sent[i] >= to_ns) continue;
    if (acked[i]) ack.push_back(ms(acked[i], i));
    std::int64_t lo = 0, hi = 0;
    if (!folded || !(*folded)[i]) {
      for (const auto& c : consoles) {
        if (c.arrival.empty()) continue;
        ++r.expected_deliveries;
        if (!c.arrival[i]) continue;
        ++r.deliveries;
        delta.push_back(ms(c.arrival[i], i));
        lo = lo ? std::min(lo, c.arrival[i]) : c.arrival[i];
        hi = std::max(hi, c.arrival[i]);
      }
    }
    if (lo) first.push_back(ms(lo, i)), last.push_back(ms(hi, i));
    if (out)
      std::fprintf(out.get(), "%s %lld %.3f %.3f %.3f\n", r.system.c_str(), static_cast<long long>(sent[i]),
                   ms(acked[i], i), ms(lo, i), ms(hi, i));
  }
  r.ack_ms = dist(std::move(ack));
  r.delta_ms = dist(std::move(delta));
  r.first_ms = dist(std::move(first));
  r.last_ms = dist(std::move(last));
}

void print_latency_header() {
  std::printf("| system | consoles | alarms | acked | deliveries | ack p50 ms | ack p99 ms | delta p50 ms | delta p90 ms | delta p99 ms | delta max ms | server CPU µs/alarm | driver CPU (cores) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

void print_latency_row(const Result& r, int consoles) {
  std::printf("| %s | %d | %zu | %zu | %zu of %zu | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.0f | %.2f |\n",
              r.system.c_str(), consoles, r.sent, r.acked, r.deliveries, r.expected_deliveries, r.ack_ms.p50, r.ack_ms.p99,
              r.delta_ms.p50, r.delta_ms.p90, r.delta_ms.p99, r.delta_ms.max, r.server_us_per_alarm(),
              r.seconds > 0 ? r.driver_cpu_s / r.seconds : 0);
  std::fflush(stdout);
}

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

void print_context(const CityOptions& o, const char* what) {
  double load[3] = {0, 0, 0};
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = 0;
    std::fclose(f);
  }
  std::printf("anxin-bench %s: server %s, district by %s, redis %s; load average %.2f %.2f %.2f\n", what,
              o.server.c_str(), o.sim.c_str(), o.redis_peer ? o.redis.c_str() : "(not run)", load[0], load[1], load[2]);
  if (o.loop_cpus.empty())
    std::printf("CPUs: not pinned\n");
  else
    std::printf("CPUs: each server's event loop on %s, its other threads and this driver on %s\n",
                o.loop_cpus.c_str(), o.other_cpus.c_str());
  std::fflush(stdout);
}

// --- fanout -----------------------------------------------------------------------

// One system's paced run: Anxin on a fresh server and database, or Redis.
Result fanout_anxin(const CityOptions& o, const City& city, size_t total) {
  Result anxin;
  AnxinRig rig(o, city, "fanout", bench_config());
  rig.start_server();
  rig.connect_platforms(static_cast<int>(city.vendors.size()));
  rig.connect_idle(o.idle);
  for (int i = 0; i < o.consoles; ++i) rig.add_console();
  rig.subscribe_all();
  rig.set_plan(plan_alarms(city, city.by_elder.size(), total), true);
  const double cpu0 = process_cpu_s(rig.server_pid()), drv0 = thread_cpu_s();
  const std::int64_t t0 = mono_ns();
  rig.pace(o.rate, total);
  auto& cs = rig.consoles();
  auto all_in = [&] {
    if (rig.acked() < total) return false;
    for (const auto& c : cs)
      if (c.markers < total - rig.folded()) return false;
    return true;
  };
  rig.driver().run([&] { return rig.sent() >= total; }, o.warmup + o.seconds + 30);
  rig.stop_pacing();
  rig.driver().run(all_in, 30);
  const std::int64_t t1 = mono_ns();
  anxin.system = "Anxin";
  anxin.sent = rig.sent();
  anxin.acked = rig.acked();
  anxin.seconds = static_cast<double>(t1 - t0) / 1e9;
  anxin.server_cpu_s = process_cpu_s(rig.server_pid()) - cpu0;
  anxin.driver_cpu_s = thread_cpu_s() - drv0;
  collect(rig.sent_ns(), rig.acked_ns(), cs, t0 + static_cast<std::int64_t>(o.warmup * 1e9), t1, anxin,
          &rig.folded_flags(), o.alarms_to);
  anxin.folded = rig.folded();
  for (const auto& c : cs) anxin.gaps += c.gaps;
  return anxin;
}

Result fanout_redis(const CityOptions& o, const City& city, size_t total) {
  Result redis;
  RedisRig rig(o, alarm_frame_bytes(city));
  rig.connect_idle(o.idle);
  rig.add_subscribers(o.consoles);
  rig.add_producers(1);
  rig.set_count(total, true);
  const double cpu0 = process_cpu_s(rig.pid()), drv0 = thread_cpu_s();
  const std::int64_t t0 = mono_ns();
  rig.pace(o.rate, total);
  rig.driver().run([&] { return rig.sent() >= total; }, o.warmup + o.seconds + 30);
  rig.stop_pacing();
  auto& subs = rig.subscribers();
  rig.driver().run([&] {
    if (rig.acked() < total) return false;
    for (const auto& c : subs)
      if (c.markers < total) return false;
    return true;
  }, 30);
  const std::int64_t t1 = mono_ns();
  redis.system = "Redis";
  redis.sent = rig.sent();
  redis.acked = rig.acked();
  redis.seconds = static_cast<double>(t1 - t0) / 1e9;
  redis.server_cpu_s = process_cpu_s(rig.pid()) - cpu0;
  redis.driver_cpu_s = thread_cpu_s() - drv0;
  collect(rig.sent_ns(), rig.acked_ns(), subs, t0 + static_cast<std::int64_t>(o.warmup * 1e9), t1, redis, nullptr,
          o.alarms_to);
  return redis;
}

void print_fanout_round(const Result& anxin, const Result& redis, int consoles) {
  print_latency_header();
  print_latency_row(anxin, consoles);
  if (!redis.system.empty()) {
    print_latency_row(redis, consoles);
    std::printf("| Anxin / Redis | | | | | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | |\n",
                ratio(anxin.ack_ms.p50, redis.ack_ms.p50), ratio(anxin.ack_ms.p99, redis.ack_ms.p99),
                ratio(anxin.delta_ms.p50, redis.delta_ms.p50), ratio(anxin.delta_ms.p90, redis.delta_ms.p90),
                ratio(anxin.delta_ms.p99, redis.delta_ms.p99), ratio(anxin.delta_ms.max, redis.delta_ms.max),
                ratio(anxin.server_us_per_alarm(), redis.server_us_per_alarm()));
  }
  std::printf("(Anxin delta sequence gaps: %zu)\n", anxin.gaps);
  std::printf("Each alarm's delta at the console it reached first, and at the one it reached last:\n");
  std::printf("| system | first p50 ms | first p90 ms | first p99 ms | last p50 ms | last p90 ms | last p99 ms |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const Result* r : {&anxin, &redis})
    if (!r->system.empty())
      std::printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", r->system.c_str(), r->first_ms.p50,
                  r->first_ms.p90, r->first_ms.p99, r->last_ms.p50, r->last_ms.p90, r->last_ms.p99);
  std::fflush(stdout);
}

// The delta's p50 and p99 over all consoles, Anxin's over Redis's, round by round:
// on a machine whose host takes its CPUs away now and then, one pair of runs says
// little, so --rounds N alternates the two N times and sums them up here.
void print_fanout_rounds(const std::vector<std::pair<Result, Result>>& rounds) {
  std::vector<double> p50, p99;
  for (const auto& [anxin, redis] : rounds) {
    p50.push_back(ratio(anxin.delta_ms.p50, redis.delta_ms.p50));
    p99.push_back(ratio(anxin.delta_ms.p99, redis.delta_ms.p99));
  }
  auto line = [&](const char* what, std::vector<double> v) {
    const auto under = std::count_if(v.begin(), v.end(), [](double r) { return r <= 1; });
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    std::printf("| delta %s | %zu of %zu | %.2f | %.2f | %.2f |\n", what, static_cast<size_t>(under), n, median,
                v.front(), v.back());
  };
  std::printf("Over %zu rounds, Anxin's delta over Redis's in the same round:\n", rounds.size());
  std::printf("| ratio | rounds with Anxin no worse | median | least | most |\n|---|---|---|---|---|\n");
  line("p50", p50);
  line("p99", p99);
}

int run_fanout(const CityOptions& o) {
  print_context(o, "fanout");
  const City city = prepare_city(o, o.elders > 0 ? o.elders : 2000);
  const size_t total = static_cast<size_t>(o.rate * (o.warmup + o.seconds));
  std::printf("%.0f alarms/s paced for %.0f s (+%.0f s warm-up), %d consoles, %d idle connections, payload %zu bytes\n",
              o.rate, o.seconds, o.warmup, o.consoles, o.idle, alarm_frame_bytes(city));
  std::vector<std::pair<Result, Result>> rounds;
  bool whole = true;
  for (int round = 1; round <= o.rounds; ++round) {
    if (o.rounds > 1) std::printf("Round %d of %d:\n", round, o.rounds);
    const Result anxin = fanout_anxin(o, city, total);
    const Result redis = o.redis_peer ? fanout_redis(o, city, total) : Result{};
    print_fanout_round(anxin, redis, o.consoles);
    whole = whole && anxin.acked == anxin.sent && anxin.deliveries == anxin.expected_deliveries;
    rounds.emplace_back(anxin, redis);
  }
  if (o.rounds > 1 && o.redis_peer) print_fanout_rounds(rounds);
  return whole ? 0 : 1;
}

// --- throughput -------------------------------------------------------------------

int run_throughput(const CityOptions& o) {
  print_context(o, "throughput");
  const City city = prepare_city(o, o.elders > 0 ? o.elders : 15000);
  const size_t cap = static_cast<size_t>(o.seconds * 150'000);
  std::printf("%d pipelining connections, %d alarms in flight each, %d consoles reading, %.0f s, payload %zu bytes\n",
              o.devices, o.window, o.consoles, o.seconds, alarm_frame_bytes(city));
  std::printf("| system | alarms acked | alarms/s | new alerts | folded | deltas per console | lost | ack p50 ms | ack p99 ms | server CPU µs/alarm | server CPU (cores) | driver CPU (cores) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  Result anxin, redis;
  size_t anxin_deltas = 0;
  {
    AnxinRig rig(o, city, "throughput", bench_config());
    rig.start_server();
    rig.connect_platforms(o.devices);
    for (int i = 0; i < o.consoles; ++i) rig.add_console();
    rig.subscribe_all();
    rig.set_plan(plan_alarms(city, city.by_elder.size(), cap), false);
    const double cpu0 = process_cpu_s(rig.server_pid()), drv0 = thread_cpu_s();
    const std::int64_t t0 = mono_ns();
    rig.pipeline(o.window, cap);
    rig.driver().run([&] { return false; }, o.seconds);
    rig.stop_pipeline();
    const size_t sent = rig.pipeline_sent();
    rig.driver().run([&] { return rig.acked() >= rig.pipeline_sent(); }, 60);
    rig.stop_resending();
    const std::int64_t t_acked = mono_ns();
    // Then the deltas: every console has the last one (the markers of new alerts).
    size_t new_alerts = rig.acked() - rig.folded();
    rig.driver().run([&] {
      for (const auto& c : rig.consoles())
        if (c.markers < new_alerts) return false;
      return true;
    }, 30);
    rig.driver().run([] { return false; }, 0.5);  // the folded counts' next tick
    anxin.system = "Anxin";
    anxin.sent = sent;
    anxin.acked = rig.acked();
    anxin.folded = rig.folded();
    anxin.errors = rig.errors();
    anxin.rate_limited = rig.rate_limited();
    anxin.seconds = static_cast<double>(t_acked - t0) / 1e9;
    anxin.server_cpu_s = process_cpu_s(rig.server_pid()) - cpu0;
    anxin.driver_cpu_s = thread_cpu_s() - drv0;
    collect(rig.sent_ns(), rig.acked_ns(), {}, t0, t_acked + 1, anxin);
    size_t min_markers = SIZE_MAX;
    for (const auto& c : rig.consoles()) {
      anxin.gaps += c.gaps;
      min_markers = std::min(min_markers, c.markers);
      anxin_deltas = std::max(anxin_deltas, c.deltas);
      if (rig.driver().is_closed(c.conn)) ++anxin.dropped;
    }
    anxin.expected_deliveries = new_alerts;
    anxin.deliveries = min_markers == SIZE_MAX ? 0 : min_markers;
    std::printf("| Anxin | %zu | %.0f | %zu | %zu | %zu | %zu | %.3f | %.3f | %.0f | %.2f | %.2f |\n", anxin.acked,
                anxin.alarms_per_s(), new_alerts, anxin.folded, anxin_deltas,
                anxin.expected_deliveries > anxin.deliveries ? anxin.expected_deliveries - anxin.deliveries : 0,
                anxin.ack_ms.p50, anxin.ack_ms.p99, anxin.server_us_per_alarm(), anxin.server_cpu_s / anxin.seconds,
                anxin.driver_cpu_s / anxin.seconds);
    std::fflush(stdout);
  }
  if (o.redis_peer) {
    RedisRig rig(o, alarm_frame_bytes(city));
    rig.add_subscribers(o.consoles);
    rig.add_producers(o.devices);
    rig.set_count(static_cast<size_t>(o.seconds * 400'000), false);
    const double cpu0 = process_cpu_s(rig.pid()), drv0 = thread_cpu_s();
    const std::int64_t t0 = mono_ns();
    rig.pipeline(o.window);
    rig.driver().run([&] { return false; }, o.seconds);
    // Stop feeding, let what is in flight come back.
    const size_t sent = rig.sent();
    rig.set_stop();
    rig.driver().run([&] { return rig.acked() >= sent; }, 60);
    const std::int64_t t_acked = mono_ns();
    rig.driver().run([&] {
      for (const auto& c : rig.subscribers())
        if (c.markers < sent) return false;
      return true;
    }, 30);
    redis.system = "Redis";
    redis.sent = sent;
    redis.acked = rig.acked();
    redis.seconds = static_cast<double>(t_acked - t0) / 1e9;
    redis.server_cpu_s = process_cpu_s(rig.pid()) - cpu0;
    redis.driver_cpu_s = thread_cpu_s() - drv0;
    collect(rig.sent_ns(), rig.acked_ns(), {}, t0, t_acked + 1, redis);
    size_t min_markers = SIZE_MAX;
    for (const auto& c : rig.subscribers()) min_markers = std::min(min_markers, c.markers);
    std::printf("| Redis | %zu | %.0f | %zu | 0 | %zu | %zu | %.3f | %.3f | %.0f | %.2f | %.2f |\n", redis.acked,
                redis.alarms_per_s(), redis.acked, min_markers, redis.acked > min_markers ? redis.acked - min_markers : 0,
                redis.ack_ms.p50, redis.ack_ms.p99, redis.server_us_per_alarm(), redis.server_cpu_s / redis.seconds,
                redis.driver_cpu_s / redis.seconds);
    std::printf("| Anxin / Redis | | %.2f | | | | | %.2f | %.2f | %.2f | | |\n",
                ratio(anxin.alarms_per_s(), redis.alarms_per_s()), ratio(anxin.ack_ms.p50, redis.ack_ms.p50),
                ratio(anxin.ack_ms.p99, redis.ack_ms.p99), ratio(anxin.server_us_per_alarm(), redis.server_us_per_alarm()));
  }
  std::printf("(Anxin: %zu errors, %zu of them E_RATE_LIMITED (resent); delta sequence gaps %zu; consoles dropped %zu)\n",
              anxin.errors, anxin.rate_limited, anxin.gaps, anxin.dropped);
  return anxin.gaps == 0 && anxin.dropped == 0 ? 0 : 1;
}

// --- stall ------------------------------------------------------------------------

int run_stall(const CityOptions& o) {
  print_context(o, "stall");
  const City city = prepare_city(o, o.elders > 0 ? o.elders : 15000);
  const size_t open = std::min<size_t>(static_cast<size_t>(o.open), city.by_elder.size());
  AnxinRig rig(o, city, "stall", bench_config());
  rig.start_server();
  rig.connect_platforms(o.devices);
  for (int i = 0; i < o.consoles; ++i) rig.add_console();
  const size_t newcomer = rig.add_console();
  rig.wait_welcomed(30);
  // Open the incidents: one alarm from each of `open` elders, pipelined.
  const double before_s = 2, after_s = 4;
  const size_t flow = static_cast<size_t>(o.rate * (o.warmup + before_s + after_s) + 1);
  auto plan = plan_alarms(city, open, open + flow);
  rig.set_plan(plan, true);
  const std::int64_t o0 = mono_ns();
  rig.pipeline(o.window, open);
  if (!rig.wait_acked(open, 300)) throw std::runtime_error("the incidents did not open");
  rig.stop_pipeline();
  rig.stop_resending();
  std::printf("opened %zu incidents in %.1f s (%zu folded, %zu errors)\n", open,
              static_cast<double>(mono_ns() - o0) / 1e9, rig.folded(), rig.errors());
  for (int i = 0; i < o.consoles; ++i) rig.subscribe(static_cast<size_t>(i));
  const std::int64_t s0 = mono_ns();
  if (!rig.driver().run([&] {
        for (int i = 0; i < o.consoles; ++i)
          if (!rig.consoles()[i].snapshot) return false;
        return true;
      }, 300))
    throw std::runtime_error("the consoles got no snapshot");
  std::printf("%d consoles subscribed: snapshots of %s each, all in %.2f s\n", o.consoles,
              fmt_mb(rig.consoles()[0].snapshot_bytes).c_str(), static_cast<double>(mono_ns() - s0) / 1e9);
  // The flow, then a new console subscribes in the middle of it.
  const std::int64_t f0 = mono_ns();
  rig.pace(o.rate, flow);
  rig.driver().run([] { return false; }, o.warmup + before_s);
  const std::int64_t t_sub = mono_ns();
  rig.subscribe(newcomer);
  rig.driver().run([&] { return rig.sent() >= open + flow; }, after_s + 30);
  rig.stop_pacing();
  rig.driver().run([&] { return rig.acked() >= open + flow && rig.consoles()[newcomer].snapshot; }, 60);
  rig.driver().run([] { return false; }, 1);
  const Console& nc = rig.consoles()[newcomer];
  std::vector<Console> others(rig.consoles().begin(), rig.consoles().begin() + o.consoles);
  // --alarms-to: each alarm of the second around the subscribe, and when it was.
  auto window = [&](const char* label, std::int64_t from, std::int64_t to, const std::string& alarms_to = {}) {
    Result r;
    r.system = "Anxin";
    collect(rig.sent_ns(), rig.acked_ns(), others, from, to, r, nullptr, alarms_to);
    std::printf("| %s | %zu | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %zu of %zu |\n", label, r.ack_ms.n, r.ack_ms.p50,
                r.ack_ms.p99, r.ack_ms.max, r.delta_ms.p50, r.delta_ms.p99, r.delta_ms.max, r.deliveries,
                r.expected_deliveries);
  };
  std::printf("a console subscribes at %zu open incidents while %.0f alarms/s flow to %d others:\n", open, o.rate, o.consoles);
  std::printf("| alarms sent | n | ack p50 ms | ack p99 ms | ack max ms | delta p50 ms | delta p99 ms | delta max ms | deliveries |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  window("the second before (-1.5 s .. -0.5 s)", t_sub - 1'500'000'000, t_sub - 500'000'000);
  window("the second around the subscribe (-0.5 s .. +0.5 s)", t_sub - 500'000'000, t_sub + 500'000'000,
         o.alarms_to);
  window("the next second (+0.5 s .. +1.5 s)", t_sub + 500'000'000, t_sub + 1'500'000'000);
  window("the whole flow", f0, mono_ns());
  if (!o.alarms_to.empty())
    std::printf("the subscribe was sent at %lld ns (CLOCK_MONOTONIC, as in %s)\n", static_cast<long long>(t_sub),
                o.alarms_to.c_str());
  std::printf("the new console's snapshot: %s, arrived %.3f s after its subscribe\n", fmt_mb(nc.snapshot_bytes).c_str(),
              nc.snapshot ? static_cast<double>(nc.snapshot_ns - t_sub) / 1e9 : -1.0);
  size_t gaps = 0, dropped = 0;
  for (const auto& c : rig.consoles()) {
    gaps += c.gaps;
    if (rig.driver().is_closed(c.conn)) ++dropped;
  }
  std::printf("(delta sequence gaps %zu; consoles dropped %zu; errors %zu)\n", gaps, dropped, rig.errors());
  return dropped == 0 ? 0 : 1;
}

// --- wal --------------------------------------------------------------------------

int run_wal(const CityOptions& o) {
  print_context(o, "wal");
  const City city = prepare_city(o, o.elders > 0 ? o.elders : 15000);
  const size_t total = static_cast<size_t>(o.rate * o.seconds);
  AnxinRig rig(o, city, "wal", bench_config());
  rig.start_server();
  rig.connect_platforms(o.devices);
  for (int i = 0; i < o.consoles; ++i) rig.add_console();
  rig.subscribe_all();
  rig.set_plan(plan_alarms(city, city.by_elder.size(), total), false);
  auto size_of = [](const fs::path& p) { return fs::exists(p) ? fs::file_size(p) : std::uintmax_t{0}; };
  const fs::path db = rig.db(), wal = db.string() + "-wal";
  const auto db0 = size_of(db), wal0 = size_of(wal);
  const std::int64_t t0 = mono_ns();
  rig.pace(o.rate, total);
  rig.driver().run([&] { return rig.sent() >= total; }, o.seconds + 60);
  rig.stop_pacing();
  const bool all = rig.wait_acked(total, 60);
  const double took = static_cast<double>(mono_ns() - t0) / 1e9;
  const auto db1 = size_of(db), wal1 = size_of(wal);
  rig.driver().run([] { return false; }, 2);
  const auto db2 = size_of(db), wal2 = size_of(wal);
  std::printf("%.0f alarms/s for %.0f s over %d platform connections, %d consoles: %zu acked of %zu in %.1f s%s\n", o.rate,
              o.seconds, o.devices, o.consoles, rig.acked(), total, took, all ? "" : " (NOT ALL ACKED)");
  std::printf("| when | DB | DB-wal |\n|---|---|---|\n");
  std::printf("| before the burst | %s | %s |\n", fmt_mb(db0).c_str(), fmt_mb(wal0).c_str());
  std::printf("| after the burst (last ack) | %s | %s |\n", fmt_mb(db1).c_str(), fmt_mb(wal1).c_str());
  std::printf("| after 2 s quiet | %s | %s |\n", fmt_mb(db2).c_str(), fmt_mb(wal2).c_str());
  // A start reads at most the bounded WAL, however long the load ran: after a crash
  // SQLite rebuilds its index from the WAL; after a clean stop there is none to read.
  rig.kill_server();
  const auto wal3 = size_of(wal);
  rig.start_server();
  const double after_kill = rig.start_to_serving_s();
  rig.stop_server();
  const auto wal4 = size_of(wal);
  rig.start_server();
  const double after_stop = rig.start_to_serving_s();
  std::printf("| restart | DB-wal left | start -> serving s |\n|---|---|---|\n");
  std::printf("| after kill -9 | %s | %.2f |\n", fmt_mb(wal3).c_str(), after_kill);
  std::printf("| after a clean stop | %s | %.2f |\n", fmt_mb(wal4).c_str(), after_stop);
  return all ? 0 : 1;
}

// --- burst ------------------------------------------------------------------------

int run_burst(const CityOptions& o) {
  print_context(o, "burst");
  const City city = prepare_city(o, o.elders > 0 ? o.elders : 15000);
  const size_t open = std::min<size_t>(static_cast<size_t>(o.open), city.by_elder.size());
  const int escalate_s = 20;
  AnxinRig rig(o, city, "burst", bench_config(escalate_s));
  rig.start_server();
  rig.connect_platforms(o.devices);
  rig.set_plan(plan_alarms(city, open, open), false);
  const std::int64_t w0 = wall_ms();
  rig.pipeline(o.window, open);
  if (!rig.wait_acked(open, 300)) throw std::runtime_error("the incidents did not open");
  rig.stop_pipeline();
  rig.stop_resending();
  const std::int64_t w1 = wall_ms();
  std::printf("opened %zu incidents in %.1f s; stopping the server until they are all due to escalate (%d s)\n", open,
              static_cast<double>(w1 - w0) / 1e3, escalate_s);
  std::fflush(stdout);
  rig.stop_server();
  const std::int64_t due = w1 + escalate_s * 1000 + 1000;
  while (wall_ms() < due) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // A fresh driver for the restart: the consoles connect as soon as it listens.
  AnxinRig& r = rig;
  r.start_server();
  const double serving_s = r.start_to_serving_s();
  const size_t first = r.consoles().size();
  r.count_escalations_ = true;
  for (int i = 0; i < o.consoles; ++i) r.add_console();
  for (int i = 0; i < o.consoles; ++i) r.subscribe(first + static_cast<size_t>(i));
  auto& cs = r.consoles();
  const std::int64_t s0 = r.server_start_ns();
  std::vector<std::int64_t> done_ns(cs.size(), 0);
  r.driver().run([&] {
    bool all = true;
    for (size_t i = first; i < cs.size(); ++i) {
      if (!done_ns[i] && cs[i].escalated >= open) done_ns[i] = mono_ns();
      if (!done_ns[i] && !r.driver().is_closed(cs[i].conn)) all = false;
    }
    return all;
  }, 120);
  r.driver().run([] { return false; }, 2);  // any drop that comes late
  size_t dropped = 0, complete = 0;
  std::int64_t last = 0, last_snapshot = 0;
  for (size_t i = first; i < cs.size(); ++i) {
    if (r.driver().is_closed(cs[i].conn)) ++dropped;
    if (done_ns[i]) {
      ++complete;
      last = std::max(last, done_ns[i]);
    }
    last_snapshot = std::max(last_snapshot, cs[i].snapshot_ns);
  }
  std::printf("restart with %zu incidents due to escalate, %d consoles subscribing at once:\n", open, o.consoles);
  std::printf("| start -> serving s | consoles dropped | consoles with every escalation | start -> last snapshot s | start -> every escalation at every console s | snapshot |\n");
  std::printf("|---|---|---|---|---|---|\n");
  char every[32] = "never";
  if (complete == static_cast<size_t>(o.consoles))
    std::snprintf(every, sizeof every, "%.2f", static_cast<double>(last - s0) / 1e9);
  std::printf("| %.2f | %zu of %d | %zu | %.2f | %s | %s |\n", serving_s, dropped, o.consoles, complete,
              last_snapshot ? static_cast<double>(last_snapshot - s0) / 1e9 : -1.0, every,
              fmt_mb(cs[first].snapshot_bytes).c_str());
  return dropped == 0 ? 0 : 1;
}

}  // namespace

int run_city(const CityOptions& given) {
  CityOptions o = given;
  const fs::path build = own_build_dir();
  if (o.server.empty()) o.server = (build / "ws-gateway" / "anxin-server").string();
  if (o.sim.empty()) o.sim = (build / "tools" / "sim" / "anxin-sim").string();
  if (!fs::exists(o.server)) throw std::runtime_error(o.server + " does not exist (--server)");
  if (o.redis_peer && !fs::exists(o.redis))
    throw std::runtime_error(o.redis + " does not exist: install Debian's redis-server (./run bench does), or --no-redis");
  fs::create_directories(o.dir);
  if (o.pin) place_threads(o);
  if (o.mode == "fanout") return run_fanout(o);
  if (o.mode == "throughput") return run_throughput(o);
  if (o.mode == "stall") return run_stall(o);
  if (o.mode == "wal") return run_wal(o);
  if (o.mode == "burst") return run_burst(o);
  throw std::runtime_error("unknown mode " + o.mode);
}

}  // namespace anxin::bench
