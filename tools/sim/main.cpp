// anxin-sim: the demo district and its devices.
//   generate  builds the seeded district into a fresh database, with demo tokens
//   play      connects to a server as the vendors' IoT platforms (over WebSocket, or
//             with --via http its signed HTTP intake) and raises alarms
//             at a chosen rate, resending each until it is acknowledged, and sends
//             every device's heartbeats (heartbeats.hpp)
#include <curl/curl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "anxin/core/clock.hpp"
#include "anxin/core/dispatcher.hpp"
#include "anxin/core/protocol.hpp"
#include "anxin/core/store.hpp"
#include "anxin/core/visits_service.hpp"
#include "anxin/gateway/ws_client.hpp"
#include "crew.hpp"
#include "dc09_client.hpp"
#include "district.hpp"
#include "care_records.hpp"
#include "heartbeats.hpp"
#include "intake_client.hpp"
#include "phone.hpp"
#include "replay.hpp"
#include "visit_month.hpp"

using json = nlohmann::json;
using namespace anxin;
namespace proto = anxin::protocol;

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "anxin-sim: %s\n", msg.c_str());
  std::exit(2);
}

struct Args {
  std::map<std::string, std::string> values;
  std::string get(const std::string& k, const std::string& fallback = "") const {
    auto it = values.find(k);
    return it == values.end() ? fallback : it->second;
  }
  long long num(const std::string& k, long long fallback) const {
    auto it = values.find(k);
    if (it == values.end()) return fallback;
    try {
      return std::stoll(it->second);
    } catch (...) {
      die("--" + k + " must be a number");
    }
  }
  double real(const std::string& k, double fallback) const {
    auto it = values.find(k);
    if (it == values.end()) return fallback;
    try {
      size_t used = 0;
      const double v = std::stod(it->second, &used);
      if (used == it->second.size() && std::isfinite(v)) return v;
    } catch (...) {
    }
    die("--" + k + " must be a number");
  }
};

Args parse_args(int argc, char** argv, int from, const std::set<std::string>& known) {
  Args a;
  for (int i = from; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || !known.count(k.substr(2))) die("unknown option " + k);
    if (i + 1 >= argc) die(k + " needs a value");
    a.values[k.substr(2)] = argv[++i];
  }
  return a;
}

std::string random_token(const std::string& prefix) {
  unsigned char raw[18];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return prefix + hex;
}

std::string default_tokens_path(const std::string& db) { return db + ".tokens.json"; }

// --- generate ----------------------------------------------------------------------

// The past month (visits and alarms) is played for at most this many elders.
constexpr size_t kHistoryElders = 5'000;

int generate(const Args& a) {
  const std::string db = a.get("db", "anxin.db");
  sim::DistrictOptions o;
  o.seed = static_cast<std::uint64_t>(a.num("seed", 42));
  o.elders = static_cast<int>(a.num("elders", 2000));
  o.workers = static_cast<int>(a.num("workers", 60));
  o.devices = a.num("devices", -1);
  o.today = a.get("today", local_date(SystemClock().now_ms()));
  if (o.elders < 0 || o.workers < 0) die("--elders and --workers must be 0 or more");
  if (a.values.count("devices") && (o.devices < 0 || o.devices > 400'000'000))
    die("--devices must be 0 or more (at most 400000000)");
  if (o.devices > 0 && o.elders == 0) die("--devices needs elders to belong to");
  if (std::filesystem::exists(db)) die(db + " exists; generate only fills a new database");
  if (sodium_init() < 0) die("libsodium failed to initialise");

  sim::District d = sim::generate_district(o);
  if (a.get("today").empty()) {
    // The district's "now" is noon of its day; a live demo's is now. Move every
    // timestamp so devices were seen, and workers placed, just before now: a
    // position stamped in the future would make the server ignore real ones.
    const Millis shift = SystemClock().now_ms() - sim::local_noon_ms(o.today);
    for (auto& dev : d.devices) dev.last_seen_ms += shift;
    for (auto& w : d.workers) w.position_ms += shift;
  }
  // Shifts began between two and seven hours before the last position report.
  for (auto& w : d.workers)
    if (w.on_duty) w.duty_since_ms = w.position_ms - (2 + w.id % 6) * 3'600'000LL;
  // The month of history below is played for the first kHistoryElders elders only, so
  // a city of a million is generated in minutes: those elders and their devices go in
  // first, the rest after the history, with none of their own.
  const size_t played = std::min(d.elders.size(), kHistoryElders);
  sim::District head;
  head.county = d.county;
  head.towns = d.towns;
  head.workers = d.workers;
  head.elders.assign(d.elders.begin(), d.elders.begin() + static_cast<std::ptrdiff_t>(played));
  const auto first_tail_device =
      std::find_if(d.devices.begin(), d.devices.end(), [&](const Device& x) { return x.elder > static_cast<ElderId>(played); });
  head.devices.assign(d.devices.begin(), first_tail_device);
  Store store(db);
  store.import_registry(head.elders, head.devices, d.workers);
  // The elders' care records (conditions, medicines, how to get in: care_records.hpp).
  std::vector<ElderRecord> records = sim::care_records(d, o.seed, o.today);
  std::vector<ElderRecord> tail_records(records.begin() + static_cast<std::ptrdiff_t>(played), records.end());
  records.resize(played);
  sim::write_care_records(db, records);

  // Demo credentials: one token per vendor platform, and operator tokens. Random, so
  // two demo databases never share them; only their hashes go into the database.
  json tokens{{"vendors", json::object()}, {"consoles", json::array()}};
  std::set<std::string> vendors;
  for (const auto& dev : d.devices) vendors.insert(dev.vendor);
  for (const auto& v : vendors) {
    std::string t = random_token("vendor-" + v + "-");
    store.put_token(t, {Role::device, "vendor:" + v});
    tokens["vendors"][v] = t;
  }
  // And a secret per vendor for the signed HTTP intake (play --via http), which the
  // server reads from DB.conf.json (anxin-server --config; docs/configuration.md).
  json intake_vendors = json::object();
  for (const auto& v : vendors) {
    tokens["intake"][v] = random_token("");
    intake_vendors[v] = {{"secret", tokens["intake"][v]}};
  }
  for (const char* op : {"王芳", "李强", "张敏"}) {
    std::string t = random_token("op-");
    store.put_token(t, {Role::console, std::string("operator:") + op});
    tokens["consoles"].push_back({{"operator", op}, {"token", t}});
  }
  // Demo logins, all with one password: operators, a shift supervisor, and every
  // field worker as w<id>. Made up per database unless given, so no two demo
  // centres share it and none is published (issue 10, item 4).
  const std::string password = a.get("password", random_token("").substr(0, 12));
  tokens["password"] = password;
  tokens["accounts"] = json::array();
  auto account = [&](Account acc) {
    store.put_account(acc, password);
    tokens["accounts"].push_back({{"username", acc.username}, {"kind", acc.kind}, {"name", acc.display_name}});
  };
  account({"wangfang", "", "operator", "王芳", 0, false});
  account({"liqiang", "", "operator", "李强", 0, false});
  account({"zhangmin", "", "supervisor", "张敏", 0, false});
  for (const auto& w : d.workers) account({"w" + std::to_string(w.id), "", "worker", w.name, w.id, false});
  const std::string path = a.get("tokens", default_tokens_path(db));
  {
    std::ofstream f(path);
    f << tokens.dump(2) << "\n";
    if (!f) die("cannot write " + path);
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string conf = db + ".conf.json";
  {
    std::ofstream f(conf);
    f << json{{"intake", {{"vendors", intake_vendors}}}}.dump(2) << "\n";
    if (!f) die("cannot write " + conf);
  }
  std::filesystem::permissions(conf, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // The thirty days before today, played through the visiting programme, so the
  // elders' cards and the dashboard's visit rates start from a month's work.
  const visits::Day today = *visits::parse_day(o.today);
  ManualClock clock(visits::start_of(today - 30) - 3'600'000);
  sim::MonthOptions m;
  m.seed = o.seed;
  m.first_date = visits::date_of(today - 30);
  store.start();
  const sim::MonthResult month = sim::replay_month(store, clock, m);
  store.stop();
  // The same thirty days and today until three hours ago at the centre's real pace (3
  // alarms per elder a year, docs/demo.md), answered by simulated staff and workers: the
  // history holds a month of incidents and today's figures open on a working shift.
  const Millis now = a.get("today").empty() ? SystemClock().now_ms() : sim::local_noon_ms(o.today);
  const Millis from = visits::start_of(today - 30);
  const int per_day = std::max(1, static_cast<int>(std::lround(static_cast<double>(head.elders.size()) * 3 / 365)));
  const sim::ReplayResult past = sim::replay_span(store, head, from, now - 3 * 3'600'000 - from, per_day, o.seed);
  if (played < d.elders.size()) {
    store.import_registry({d.elders.begin() + static_cast<std::ptrdiff_t>(played), d.elders.end()},
                          {first_tail_device, d.devices.end()}, {});
    sim::write_care_records(db, tail_records);
  }
  // The registry's image, as a server's clean stop leaves it (docs/architecture.md,
  // "The registry's image"), so that the first start reads a city's elders and devices
  // from it instead of decoding their millions of rows.
  try {
    const SystemClock wall;
    Dispatcher registry(wall);
    registry.restore(store.load(start_of_local_day(wall.now_ms())), false);
    store.save_image(registry.elder_table(), registry.device_table());
  } catch (const std::exception& e) {  // the database is whole: its first start reads the rows
    std::fprintf(stderr, "anxin-sim: no image of the registry was left: %s\n", e.what());
  }
  std::printf("anxin-sim: %s: %zu elders in %zu towns, %zu devices, %zu workers (seed %llu);\n"
              "           a month of visiting: %zu calls (%zu reached), %zu visits at home, %zu flagged;\n"
              "           and of alarms: %zu incidents, %zu resolved;\n"
              "           logins and tokens in %s\n",
              db.c_str(), d.elders.size(), d.towns.size(), d.devices.size(), d.workers.size(),
              static_cast<unsigned long long>(o.seed), month.calls, month.reached, month.home_visits,
              month.flagged, past.incidents_opened, past.incidents_resolved, path.c_str());
  return 0;
}

// --- play --------------------------------------------------------------------------

// One vendor platform's connection. Alarms stay pending until acknowledged and are
// resent after a reconnect or when an ack is overdue.
class Platform {
 public:
  // With an intake `secret` (--via http) the platform posts to the signed HTTP intake
  // instead of holding a WebSocket; the answers are the same frames.
  Platform(std::string vendor, std::string token, int port, std::string host, FILE* ack_log,
           std::mutex* log_mu, const std::string& secret = "")
      : vendor_(std::move(vendor)), token_(std::move(token)), ack_log_(ack_log), log_mu_(log_mu) {
    if (!secret.empty()) {
      ready_ = true;
      http_ = std::make_unique<sim::IntakeClient>(host, port, vendor_, secret,
                                                  [this](const std::string& text) { on_message(text); });
      return;
    }
    gateway::ClientOptions o;
    o.host = std::move(host);
    o.port = port;
    gateway::ClientHandlers h;
    h.on_open = [this] { client_->send(proto::encode({"", proto::Hello{Role::device, token_}})); };
    h.on_message = [this](std::string text) { on_message(text); };
    h.on_close = [this](const std::string&) {
      std::lock_guard lock(mu_);
      ready_ = false;
    };
    client_ = std::make_unique<gateway::WsClient>(o, std::move(h));
    client_->start();
  }

  void raise(AlarmIn alarm) {
    std::string frame = proto::encode({"", alarm});
    std::lock_guard lock(mu_);
    auto& p = pending_[{alarm.device, alarm.seq}];
    p.frame = frame;
    p.sent = std::chrono::steady_clock::now();
    ++sent_;
    if (!ready_) return;
    // The device's older alarms still waiting for an ack (refused while the server's
    // disk was full, say) go again first: a seq below one already stored is refused.
    for (auto it = pending_.lower_bound({alarm.device, 0}); it != pending_.end() && it->first.first == alarm.device;
         ++it)
      send(it->second.frame);
  }

  // Heartbeats are not resent: the next one is due soon anyway. Sent only while
  // welcomed; the reply is an `ok` for req "h".
  void heartbeat(const HeartbeatIn& beat) {
    std::string frame = proto::encode({"h", beat});
    std::lock_guard lock(mu_);
    if (!ready_) return;
    if (send(std::move(frame))) ++beats_sent_;
  }

  // Resends what has waited too long for its ack.
  void resend_overdue(std::chrono::milliseconds after) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (!ready_) return;
    for (auto& [key, p] : pending_)
      if (now - p.sent > after) {
        p.sent = now;
        send(p.frame);
      }
  }

  struct Counts {
    std::uint64_t sent, acked;
    size_t pending;
    bool ready;
    std::uint64_t beats_sent, beats_ok;
  };
  Counts counts() {
    std::lock_guard lock(mu_);
    return {sent_, acked_, pending_.size(), ready_, beats_sent_, beats_ok_};
  }
  void stop() {
    if (http_) http_->stop();
    else client_->stop();
  }

 private:
  void on_message(const std::string& text) {
    auto m = proto::parse_server(text);
    if (!m) return;
    std::lock_guard lock(mu_);
    if (std::holds_alternative<proto::Welcome>(m->body)) {
      ready_ = true;
      for (auto& [key, p] : pending_) {
        p.sent = std::chrono::steady_clock::now();
        send(p.frame);
      }
    } else if (auto* ack = std::get_if<proto::Ack>(&m->body)) {
      if (pending_.erase({ack->device, ack->seq}) == 0) return;  // an ack of a resend
      ++acked_;
      if (ack_log_) {
        std::lock_guard log_lock(*log_mu_);
        std::fprintf(ack_log_, "%s %lld %lld %lld\n", ack->device.c_str(), static_cast<long long>(ack->seq),
                     static_cast<long long>(ack->ack.alert), static_cast<long long>(ack->ack.incident));
        std::fflush(ack_log_);
      }
    } else if (m->req == "h" && std::holds_alternative<proto::Ok>(m->body)) {
      ++beats_ok_;
    } else if (auto* err = std::get_if<proto::ErrorReply>(&m->body)) {
      // One refused heartbeat says it all: a server without them refuses each.
      if (m->req == "h" && beats_refused_++ > 0) return;
      std::fprintf(stderr, "anxin-sim: %s refused: %s %s\n", vendor_.c_str(),
                   std::string(code_name(err->error.code)).c_str(), err->error.message.c_str());
    }
  }

  struct Pending {
    std::string frame;
    std::chrono::steady_clock::time_point sent;
  };
  std::string vendor_, token_;
  FILE* ack_log_;
  std::mutex* log_mu_;
  std::mutex mu_;
  bool ready_ = false;
  std::map<std::pair<DeviceId, std::int64_t>, Pending> pending_;
  std::uint64_t sent_ = 0, acked_ = 0, beats_sent_ = 0, beats_ok_ = 0, beats_refused_ = 0;
  std::unique_ptr<gateway::WsClient> client_;
  std::unique_ptr<sim::IntakeClient> http_;  // --via http
  bool send(std::string frame) { return http_ ? http_->post(std::move(frame)) : client_->send(std::move(frame)); }
};

int play(const Args& a) {
  const std::string db = a.get("db", "anxin.db");
  const int port = static_cast<int>(a.num("port", 7600));
  const std::string host = a.get("host", "127.0.0.1");
  // --per-elder-year: the alarm rate real centres see per elder (docs/demo.md, "How
  // busy"), times --speedup, for the district in the database; --rate: alarms per second.
  const double speedup = a.real("speedup", 1);
  const double per_elder_year = a.real("per-elder-year", 0);
  if (!(speedup > 0)) die("--speedup must be positive");
  if (per_elder_year < 0) die("--per-elder-year must be positive");
  if (per_elder_year > 0 && !a.get("rate").empty()) die("give --rate or --per-elder-year, not both");
  const long long count = a.num("count", -1);
  const std::uint64_t seed = static_cast<std::uint64_t>(a.num("seed", static_cast<long long>(time(nullptr))));
  const double heartbeat_s = a.real("heartbeat-s", 60);
  const double silence_pct = a.real("silence", 1);
  sim::HeartbeatOptions ho;
  ho.silence_min_s = a.real("silence-min-s", ho.silence_min_s);
  ho.silence_max_s = a.real("silence-max-s", ho.silence_max_s);
  const std::string crew_arg = a.get("crew", "0");
  if (heartbeat_s < 0) die("--heartbeat-s must be 0 (off) or positive");
  if (silence_pct < 0 || silence_pct >= 100) die("--silence must be a percentage in [0, 100)");
  if (!(ho.silence_min_s > 0) || ho.silence_max_s < ho.silence_min_s)
    die("--silence-min-s must be positive and not above --silence-max-s");
  if (!std::filesystem::exists(db)) die(db + " does not exist; run anxin-sim generate first");

  json tokens;
  {
    std::ifstream f(a.get("tokens", default_tokens_path(db)));
    if (!f) die("cannot read the tokens file");
    tokens = json::parse(f, nullptr, false);
    if (tokens.is_discarded() || !tokens.contains("vendors")) die("the tokens file is not valid");
  }

  // The registry, and where each device's counter stands, come from the database.
  LiveState st = Store(db).load();
  sim::District district;
  district.elders.reserve(st.elders.size());
  st.elders.each([&](const Elder& e) { district.elders.push_back(e); });
  district.devices.reserve(st.devices.size());
  for (DeviceTable::Row r = 0; r < st.devices.size(); ++r) district.devices.push_back(st.devices.device(r));
  district.workers = std::move(st.workers);
  const double rate =
      per_elder_year > 0 ? static_cast<double>(district.elders.size()) * per_elder_year / (365.0 * 86400) * speedup
                         : std::stod(a.get("rate", "0.5"));
  if (!(rate > 0)) die("--rate must be positive");
  std::map<DeviceId, std::int64_t> last_seq;
  for (const auto& p : st.progress) last_seq[p.device] = p.last_seq;
  sim::DeviceFleet fleet(district, seed, std::move(last_seq));
  // Boots and silences come from the plan even with heartbeats off, so alarms carry
  // the same boot either way.
  ho.seed = seed;
  ho.interval_s = heartbeat_s > 0 ? heartbeat_s : 60;
  ho.silence_pct = heartbeat_s > 0 ? silence_pct : 0;
  sim::HeartbeatPlan beats(district.devices, ho);

  FILE* ack_log = nullptr;
  std::mutex log_mu;
  if (auto path = a.get("ack-log"); !path.empty()) {
    ack_log = std::fopen(path.c_str(), "a");
    if (!ack_log) die("cannot open " + path);
  }
  // --via http: each platform posts to the signed HTTP intake (docs/protocol.md, "HTTP
  // intake") with the secret `generate` made for its vendor, which the server takes from
  // DB.conf.json.
  const std::string via = a.get("via", "ws");
  if (via != "ws" && via != "http" && via != "dc09") die("--via must be ws, http or dc09");
  const bool via_http = via == "http";
  // --via dc09: every device an alarm panel on one TCP connection to the server's SIA
  // DC-09 receiver (docs/dc09.md), its serial the account (dc09_client.hpp).
  std::unique_ptr<sim::Dc09Client> dc09;
  if (via != "dc09" && !a.get("dc09-port").empty()) die("--dc09-port goes with --via dc09");
  if (via == "dc09") {
    sim::Dc09Options o;
    o.host = host;
    o.port = static_cast<int>(a.num("dc09-port", 7603));
    if (o.port <= 0 || o.port > 65535) die("--dc09-port must be 1 to 65535");
    dc09 = std::make_unique<sim::Dc09Client>(o, ack_log, &log_mu);
  }
  auto secret_of = [&](const std::string& vendor) {
    if (!tokens.contains("intake") || !tokens["intake"].contains(vendor) || !tokens["intake"][vendor].is_string())
      die("the tokens file has no intake secret for " + vendor + " (anxin-sim generate makes them)");
    return tokens["intake"][vendor].get<std::string>();
  };
  if (via_http) curl_global_init(CURL_GLOBAL_DEFAULT);
  std::map<std::string, std::unique_ptr<Platform>> platforms;
  for (auto& [vendor, token] : tokens["vendors"].items())
    if (!dc09) platforms[vendor] = std::make_unique<Platform>(vendor, token.get<std::string>(), port, host, ack_log, &log_mu,
                                                   via_http ? secret_of(vendor) : "");

  // --crew N|all: that many of the workers on duty in the database (all: every one)
  // sign in on the field port and answer their offers (crew.hpp).
  std::unique_ptr<sim::Crew> crew;
  if (crew_arg != "0") {
    long long wanted = -1;
    if (crew_arg != "all") {
      try {
        wanted = std::stoll(crew_arg);
      } catch (const std::exception&) {
        die("--crew must be a number or all");
      }
      if (wanted < 0) die("--crew must be a number or all");
    }
    std::vector<Worker> on_duty;
    for (const auto& w : district.workers)
      if (w.on_duty && (wanted < 0 || static_cast<long long>(on_duty.size()) < wanted)) on_duty.push_back(w);
    if (!tokens.contains("password") || !tokens["password"].is_string())
      die("the tokens file has no password for the field logins (anxin-sim generate makes it)");
    sim::CrewOptions co;
    co.host = host;
    co.port = static_cast<int>(a.num("field-port", 7601));
    co.password = tokens["password"].get<std::string>();
    co.speedup = speedup;
    co.seed = seed;
    crew = std::make_unique<sim::Crew>(co, on_duty);
    crew->start();
    std::fprintf(stderr, "anxin-sim: %zu field workers sign in on port %d and answer their offers\n", on_duty.size(),
                 co.port);
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  if (dc09)
    std::fprintf(stderr, "anxin-sim: playing %.2f alarms/s as alarm panels on one connection to the SIA DC-09 "
                 "receiver at %s:%d\n", rate, host.c_str(), static_cast<int>(a.num("dc09-port", 7603)));
  else
    std::fprintf(stderr, "anxin-sim: playing %.2f alarms/s to %s:%d as %zu platforms%s\n", rate, host.c_str(), port,
                 platforms.size(), via_http ? " over the signed HTTP intake" : "");
  if (heartbeat_s > 0)
    std::fprintf(stderr,
                 "anxin-sim: %zu devices send a heartbeat every %g s; about %g %% are silent at a time, "
                 "each silence %g to %g s\n",
                 district.devices.size(), heartbeat_s, silence_pct, ho.silence_min_s, ho.silence_max_s);

  SystemClock clock;
  using namespace std::chrono;
  const auto interval = duration_cast<steady_clock::duration>(duration<double>(1.0 / rate));
  const auto beat_step = milliseconds(100);  // heartbeats due are sent in batches this often
  const auto start = steady_clock::now();
  auto next = start, next_beats = start, next_crew = start;
  auto last_status = steady_clock::now();
  long long raised = 0;
  while (!g_stop && (count < 0 || raised < count)) {
    std::this_thread::sleep_until(std::min({next, heartbeat_s > 0 ? next_beats : next, crew ? next_crew : next}));
    if (crew && steady_clock::now() >= next_crew) {
      next_crew = steady_clock::now() + milliseconds(100);
      crew->step();
    }
    if (heartbeat_s > 0 && steady_clock::now() >= next_beats) {
      next_beats += beat_step;
      for (const auto& beat : beats.due(duration<double>(steady_clock::now() - start).count()))
        if (dc09) dc09->heartbeat(beat);
        else platforms.at(fleet.vendor_of(beat.device))->heartbeat(beat);
    }
    if (steady_clock::now() < next) continue;
    next += interval;
    // A silent device raises nothing either: it is out of power or of reach. The
    // counter of an alarm passed over is simply skipped, as after a lost frame.
    AlarmIn alarm = fleet.next(clock.now_ms());
    for (int tries = 0; tries < 10 && beats.silent(alarm.device); ++tries) alarm = fleet.next(clock.now_ms());
    alarm.boot = beats.boot_of(alarm.device);
    const std::string& vendor = fleet.vendor_of(alarm.device);
    if (dc09) {
      if (!dc09->raise(alarm)) continue;  // a kind Contact ID cannot say: counted, not raised
    } else {
      platforms.at(vendor)->raise(std::move(alarm));
    }
    ++raised;
    if (steady_clock::now() - last_status > seconds(5)) {
      last_status = steady_clock::now();
      for (auto& [v, p] : platforms) p->resend_overdue(seconds(3));
    }
  }
  // With --count, wait (bounded) for the last acks before leaving.
  for (int i = 0; i < 100 && !g_stop; ++i) {
    size_t pending = 0;
    for (auto& [v, p] : platforms) pending += p->counts().pending;
    if (dc09) pending += dc09->counts().pending;  // it resends by itself
    if (pending == 0) break;
    std::this_thread::sleep_for(milliseconds(100));
    if (i % 30 == 29)
      for (auto& [v, p] : platforms) p->resend_overdue(seconds(2));
  }
  std::uint64_t sent = 0, acked = 0, beats_sent = 0, beats_ok = 0;
  for (auto& [v, p] : platforms) {
    auto c = p->counts();
    sent += c.sent;
    acked += c.acked;
    beats_sent += c.beats_sent;
    beats_ok += c.beats_ok;
    p->stop();
  }
  if (dc09) {
    dc09->stop();
    const auto c = dc09->counts();
    sent += c.sent;
    acked += c.acked;
    beats_sent += c.beats_sent;
    beats_ok += c.beats_acked;
    std::fprintf(stderr,
                 "anxin-sim: DC-09: %llu alarms of kinds Contact ID cannot express skipped; %llu DUH, %llu NAK, "
                 "%llu unanswered; %llu link tests, %llu acked\n",
                 static_cast<unsigned long long>(c.skipped), static_cast<unsigned long long>(c.duh),
                 static_cast<unsigned long long>(c.nak), static_cast<unsigned long long>(c.pending),
                 static_cast<unsigned long long>(c.link_tests), static_cast<unsigned long long>(c.link_acked));
  }
  if (crew) {
    crew->stop();
    const auto c = crew->counts();
    std::fprintf(stderr,
                 "anxin-sim: field workers: %llu sign-ins, %llu offers, %llu accepted, %llu declined, %llu arrived, "
                 "%llu reports\n",
                 static_cast<unsigned long long>(c.signed_in), static_cast<unsigned long long>(c.offers),
                 static_cast<unsigned long long>(c.accepted), static_cast<unsigned long long>(c.declined),
                 static_cast<unsigned long long>(c.arrived), static_cast<unsigned long long>(c.completed));
  }
  if (ack_log) std::fclose(ack_log);
  std::fprintf(stderr, "anxin-sim: raised %llu alarms, %llu acknowledged; sent %llu heartbeats, %llu answered ok\n",
               static_cast<unsigned long long>(sent), static_cast<unsigned long long>(acked),
               static_cast<unsigned long long>(beats_sent), static_cast<unsigned long long>(beats_ok));
  return 0;
}

// --- replay ------------------------------------------------------------------------

// A month of the visiting programme (docs/visits.md) on a fresh district: the visit
// rates it ends with, as the supervisor's dashboard and the monthly report show them.
int replay_month(const Args& a) {
  const std::string db = a.get("db", "replay.db");
  if (std::filesystem::exists(db)) die(db + " exists; replay writes a new database");
  const auto first = visits::parse_day(a.get("month") + "-01");
  if (!first) die("--month must be YYYY-MM");
  sim::DistrictOptions o;
  o.seed = static_cast<std::uint64_t>(a.num("seed", 42));
  o.elders = static_cast<int>(a.num("elders", 2000));
  o.workers = static_cast<int>(a.num("workers", 60));
  o.today = visits::date_of(*first);
  const sim::District d = sim::generate_district(o);
  Store store(db);
  store.import_registry(d.elders, d.devices, d.workers);
  ManualClock clock(visits::start_of(*first) - 3'600'000);
  sim::MonthOptions m;
  m.seed = o.seed;
  m.first_date = o.today;
  m.days = visits::month_of(*first).days();
  store.start();
  const sim::MonthResult r = sim::replay_month(store, clock, m);
  store.stop();

  Dispatcher dispatcher(clock);
  dispatcher.restore(store.load());
  visits::Service service(dispatcher, clock, {});
  service.load(store);
  std::unordered_map<WorkerId, std::string> names;
  for (const auto& w : d.workers) names[w.id] = w.name;
  const visits::Report rep = service.book().report(visits::Per::month, *first, r.end_ms, names);
  std::printf("visiting in %s (seed %llu, %s): %zu calls (%zu reached), %zu visits at home (%zu flagged), "
              "%zu hazards, %zu refused commands\n",
              a.get("month").c_str(), static_cast<unsigned long long>(o.seed), db.c_str(), r.calls, r.reached,
              r.home_visits, r.flagged, r.hazards, r.refused);
  auto row = [](const visits::RateRow& x) {
    std::printf("  %-14s elders %5d  visited %5d  rate %5.1f %%  plan %5d/%-5d  completion %5.1f %%\n",
                x.key.empty() ? "(all)" : x.key.c_str(), x.elders, x.visited, x.rate(), x.done, x.planned,
                x.completion());
  };
  row(rep.total);
  for (const auto& t : rep.towns) row(t);
  std::printf("  overdue at month end: %zu; open hazards: %zu\n", rep.overdue.size(), rep.open_hazards.size());
  return r.refused == 0 ? 0 : 1;
}

int replay(const Args& a) {
  if (!a.get("month").empty()) return replay_month(a);
  sim::ReplayOptions o;
  o.seed = static_cast<std::uint64_t>(a.num("seed", 42));
  o.date = a.get("date", o.date);
  o.alarms = static_cast<int>(a.num("alarms", o.alarms));
  o.elders = static_cast<int>(a.num("elders", o.elders));
  o.workers = static_cast<int>(a.num("workers", o.workers));
  o.db_path = a.get("db", "replay.db");
  sim::ReplayResult r = sim::replay_day(o);
  if (auto path = a.get("audit"); !path.empty()) {
    std::ofstream f(path);
    for (const auto& e : r.audit)
      f << e.at_ms << '\t' << e.actor << '\t' << e.action << '\t' << e.incident << '\t' << e.detail << '\n';
    if (!f) die("cannot write " + path);
  }
  std::printf("replay of %s (seed %llu): %zu incidents opened, %zu resolved, %zu offers, %zu notices, "
              "%zu audit entries, %zu refused commands\n",
              o.date.c_str(), static_cast<unsigned long long>(o.seed), r.incidents_opened, r.incidents_resolved,
              r.offers, r.notices, r.audit.size(), r.refused);
  for (size_t k = 0; k < kIntervals; ++k) {
    const auto& s = r.metrics.intervals[k];
    std::printf("  %-15s n=%-4zu p50 %6.1f s  p90 %6.1f s\n", std::string(name_of(static_cast<Interval>(k))).c_str(),
                s.count, static_cast<double>(s.p50_ms) / 1000, static_cast<double>(s.p90_ms) / 1000);
  }
  std::printf("  acknowledged within 60 s: %zu of %zu; within 180 s: %zu\n", r.metrics.acknowledged_within_60s,
              r.metrics.acknowledged, r.metrics.acknowledged_within_180s);
  for (const auto& [how, n] : r.dispositions) std::printf("  %-18s %zu\n", how.c_str(), n);
  return 0;
}

// --- phone --------------------------------------------------------------------------

volatile int g_phone_stop = 0;

int phone(const Args& a) {
  sim::PhoneOptions o;
  o.db = a.get("db", "anxin.db");
  o.seat_uri = a.get("seat-uri");
  if (o.seat_uri.empty()) die("phone needs --seat-uri, e.g. sip:seat1@127.0.0.1:5062");
  o.dir = a.get("dir", o.db + ".phone");
  o.every_s = static_cast<double>(a.num("every", 90));
  o.ring_s = static_cast<int>(a.num("ring", 45));
  o.talk_s = static_cast<int>(a.num("talk", 20));
  o.count = a.num("count", -1);
  o.sip_port = static_cast<int>(a.num("sip-port", o.sip_port));
  o.ctrl_port = static_cast<int>(a.num("ctrl-port", o.ctrl_port));
  o.seed = static_cast<std::uint64_t>(a.num("seed", 7));
  if (o.every_s <= 0) die("--every must be positive");
  std::signal(SIGINT, [](int) { g_phone_stop = 1; });
  std::signal(SIGTERM, [](int) { g_phone_stop = 1; });
  return sim::run_phone(o, g_phone_stop);
}

void usage() {
  std::puts(
      "usage:\n"
      "  anxin-sim generate [--db FILE] [--seed N] [--elders N] [--devices N] [--workers N]\n"
      "      [--today YYYY-MM-DD]\n"
      "                     [--tokens FILE] [--password P]\n"
      "  anxin-sim play [--db FILE] [--port N] [--host H] [--rate ALARMS_PER_S] [--count N]\n"
      "                 [--seed N] [--tokens FILE] [--ack-log FILE] [--heartbeat-s S] [--silence PCT]\n"
      "                 [--via ws|http|dc09] [--dc09-port N]\n"
      "                 [--silence-min-s S] [--silence-max-s S]\n"
      "                 [--per-elder-year R] [--speedup K] [--crew N|all] [--field-port N]\n"
      "      alarms at a rate, and every device's heartbeat once per S seconds (default 60, 0: none);\n"
      "      about PCT % of devices (default 1) silent at a time, each silence 1200 to 5400 s by default;\n"
      "      --via http posts them to the server's signed HTTP intake instead of a WebSocket;\n"
      "      --via dc09 sends them as alarm panels, ADM-CID frames on one TCP connection to the server's\n"
      "      SIA DC-09 receiver on port N (default 7603), each device's serial its account;\n"
      "      --per-elder-year R: instead of --rate, R alarms per elder a year (docs/demo.md), K times\n"
      "      faster with --speedup K; --crew: N (or all) of the workers on duty sign in on the field\n"
      "      port (default 7601), move, accept offers, arrive and report, their times divided by K\n"
      "  anxin-sim replay [--db FILE] [--seed N] [--date YYYY-MM-DD] [--alarms N] [--elders N]\n"
      "                   [--workers N] [--audit FILE]\n"
      "  anxin-sim replay --month YYYY-MM [--db FILE] [--seed N] [--elders N] [--workers N]\n"
      "      a month of the visiting programme: phone rounds, visits with proof, a campaign; its rates\n"
      "  anxin-sim phone --seat-uri SIP_URI [--db FILE] [--dir DIR] [--every S] [--ring S] [--talk S]\n"
      "                  [--count N] [--sip-port N] [--ctrl-port N] [--seed N]\n"
      "      a one-key phone that calls the centre's seat now and then from a device's SIM number\n"
      "The tokens file defaults to DB.tokens.json. replay writes a new database (default replay.db).");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    usage();
    return argc < 2 ? 2 : 0;
  }
  std::signal(SIGPIPE, SIG_IGN);
  const std::string cmd = argv[1];
  try {
    if (cmd == "generate")
      return generate(parse_args(argc, argv, 2, {"db", "seed", "elders", "devices", "workers", "today", "tokens", "password"}));
    if (cmd == "play")
      return play(parse_args(argc, argv, 2, {"db", "port", "host", "rate", "count", "seed", "tokens", "ack-log",
                                             "heartbeat-s", "silence", "silence-min-s", "silence-max-s", "via",
                                             "dc09-port", "speedup", "per-elder-year", "crew", "field-port"}));
    if (cmd == "replay")
      return replay(parse_args(argc, argv, 2, {"db", "seed", "date", "alarms", "elders", "workers", "audit", "month"}));
    if (cmd == "phone")
      return phone(parse_args(argc, argv, 2,
                              {"db", "seat-uri", "dir", "every", "ring", "talk", "count", "sip-port", "ctrl-port", "seed"}));
  } catch (const std::exception& e) {
    die(e.what());
  }
  usage();
  return 2;
}
