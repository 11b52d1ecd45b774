#include "support.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>

#include "district.hpp"

namespace anxin::test {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "anxin-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

SmallRegistry small_registry() {
  SmallRegistry r;
  Worker w;
  w.id = 1; w.name = "赵敏"; w.role = WorkerRole::nurse; w.skills = {"first_aid", "medical"};
  w.town = "曹城街道"; w.on_duty = true; w.lat = 34.83; w.lon = 115.54;
  r.workers.push_back(w);
  Worker v;
  v.id = 2; v.name = "钱进"; v.role = WorkerRole::volunteer; v.skills = {"first_aid"};
  v.town = "曹城街道"; v.on_duty = true; v.lat = 34.836; v.lon = 115.548; v.mode = TransportMode::ebike;
  r.workers.push_back(v);

  Elder a;
  a.id = 1; a.name = "张桂英"; a.sex = Sex::female; a.birth_date = "1944-03-02";
  a.phone = "13800000001"; a.id_number = "372922194403021234";
  a.town = "曹城街道"; a.community = "东关社区"; a.address = "曹城街道东关社区3号楼1单元201";
  a.lat = 34.831; a.lon = 115.541; a.living = LivingSituation::alone;
  a.ability = Ability::mild; a.economic = EconomicStatus::subsistence;
  a.contacts = {{"王建国", "儿子", "13900000001"}, {"刘大妈", "邻居", "13900000002"}};
  a.family_doctor = "孙医生"; a.family_doctor_phone = "0530-1234567";
  a.paired_worker = 1; a.visit_consent = true;
  r.elders.push_back(a);

  Elder b;
  b.id = 2; b.name = "李德明"; b.sex = Sex::male; b.birth_date = "1956-07-15";
  b.phone = "13800000002"; b.id_number = "37172119560715123X";
  b.town = "庄寨镇"; b.community = "王庄村"; b.address = "庄寨镇王庄村2组8号";
  b.lat = 34.75; b.lon = 115.40; b.living = LivingSituation::empty_nest;
  b.visit_consent = false;  // not assessed, no contacts: an incomplete record must still work
  r.elders.push_back(b);

  r.devices = {{"D1", 1, DeviceKind::sos_button, "acme", 90, 0, "1064000000001"},
               {"D2", 1, DeviceKind::smoke, "acme", 80, 0},
               {"D3", 2, DeviceKind::sos_button, "acme", 70, 0},
               {"D4", 2, DeviceKind::infrared, "acme", 60, 0}};
  return r;
}

void open_district(Dispatcher& d, ManualClock& clock, const sim::District& district, std::size_t open,
                   Millis step_ms) {
  d.restore(live_state(district));
  sim::DeviceFleet fleet(district, 7);
  for (int k = 0; d.open_count() < open && k < 400'000; ++k) {
    const AlarmIn a = fleet.next(clock.now_ms());
    d.raise_alarm({Role::device, "vendor:" + fleet.vendor_of(a.device)}, a);
    clock.advance(step_ms);
    if (k % 1000 == 0) d.take_effects();
  }
  d.take_effects();
}

void seed_small_registry(const std::string& db_path) {
  Store store(db_path);
  auto r = small_registry();
  store.import_registry(r.elders, r.devices, r.workers);
  store.put_token("tok-d1", {Role::device, "device:D1"});
  store.put_token("tok-acme", {Role::device, "vendor:acme"});
  store.put_token("tok-console", {Role::console, "operator:王芳"});
  store.put_token("tok-w1", {Role::field, "worker:1"});
  store.put_token("tok-w2", {Role::field, "worker:2"});
}

void add_small_accounts(const std::string& db_path) {
  Store store(db_path);
  store.put_account({"wangfang", "", "operator", "王芳", 0, false}, "correct horse");
  store.put_account({"zhangmin", "", "supervisor", "张敏", 0, false}, "correct horse");
  store.put_account({"w1", "", "worker", "赵敏", 1, false}, "correct horse");
  store.put_account({"w2", "", "worker", "钱进", 2, false}, "correct horse");
}

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

long long count_rows(const std::string& db_path, const std::string& table) {
  // No Catch assertions here: store callbacks call this from the writer thread.
  sqlite3* db = nullptr;
  sqlite3_stmt* s = nullptr;
  std::string sql = "SELECT COUNT(*) FROM " + table;
  long long n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    n = sqlite3_column_int64(s, 0);
  std::string err = db ? sqlite3_errmsg(db) : "cannot open";
  sqlite3_finalize(s);
  sqlite3_close(db);
  if (n < 0) throw std::runtime_error("count_rows(" + table + "): " + err);
  return n;
}

Centre::Centre(bool seed, gateway::ServerOptions options, const Clock* clock, std::string db_path)
    : db_(db_path.empty() ? dir_.file("centre.db") : std::move(db_path)),
      clock_(clock ? *clock : system_clock_),
      options_(std::move(options)) {
  if (seed) seed_small_registry(db_);
  restart();
}

Centre::~Centre() {
  if (server_) server_->stop();
}

void Centre::restart() {
  int port = 0;
  if (server_) {
    port = server_->port();
    server_->stop();
    server_.reset();
  }
  gateway::ServerOptions o = options_;
  o.db_path = db_;
  o.port = port;
  o.interface = "127.0.0.1";
  server_ = std::make_unique<gateway::Server>(o, clock_);
  server_->start();
}

std::unique_ptr<gateway::SyncClient> Centre::client(const std::string& role, const std::string& token) {
  auto c = std::make_unique<gateway::SyncClient>(port());
  REQUIRE(c->wait_open());
  c->send(json{{"type", "hello"}, {"v", 1}, {"role", role}, {"token", token}}.dump());
  json w = next_json(*c);
  INFO(w.dump());
  REQUIRE(w["type"] == "welcome");
  return c;
}

json next_json(gateway::SyncClient& c, std::chrono::milliseconds timeout) {
  auto f = c.next(timeout);
  REQUIRE(f.has_value());
  json j = json::parse(*f, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

json next_of_type(gateway::SyncClient& c, const std::string& type, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    REQUIRE(left.count() > 0);
    json j = next_json(c, left);
    if (j["type"] == type) return j;
  }
}

int rank_points(const Incident& i, const std::string& code) {
  for (const auto& r : i.rank_reasons)
    if (r.code == code) return r.points;
  return 0;
}

AlarmAck raise(Dispatcher& d, const Principal& who, const std::string& device, std::int64_t seq, AlertKind kind,
               std::string detail) {
  AlarmIn a;
  a.device = device;
  a.seq = seq;
  a.kind = kind;
  a.detail = std::move(detail);
  a.device_time_ms = d.clock().now_ms();
  auto r = d.raise_alarm(who, a);
  INFO((r ? "" : r.error().message));
  REQUIRE(r.ok());
  return r.value();
}

std::string alarm_frame(const std::string& device, long long seq, const std::string& kind, const std::string& req) {
  json j{{"type", "alarm"}, {"device", device}, {"seq", seq}, {"kind", kind},
         {"device_time_ms", 1764115200000LL}, {"detail", json::object()}};
  if (!req.empty()) j["req"] = req;
  return j.dump();
}

}  // namespace anxin::test
