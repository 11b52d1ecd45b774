// The outbox (issue 11, item 1): every SMS and call request is written in the
// transaction of the command that caused it, settled when the notifier reports on
// it, and sent again by the next start while it is pending.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <thread>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/store.hpp"
#include "http_sink.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

const Principal kVendor{Role::device, "vendor:acme"};
const Principal kOperator{Role::console, "operator:王芳"};

std::map<std::string, Store::OutboxRow> outbox_by_id(const Store& store) {
  std::map<std::string, Store::OutboxRow> out;
  for (auto& r : store.outbox()) out.emplace(r.notice.id, r);
  return out;
}

void commit(Dispatcher& d, Store& store) {
  store.submit(d.take_effects().writes);
  store.drain();
}

// A port that takes connections and never answers: a webhook that hangs.
class BlackHole {
 public:
  BlackHole() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 16);  // the kernel completes the handshakes; nobody ever reads
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~BlackHole() { close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string outbox_state(const std::string& db, const std::string& id) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  std::string state;
  if (sqlite3_prepare_v2(h, "SELECT state FROM outbox WHERE id=?", -1, &s, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) == SQLITE_ROW) state = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
  sqlite3_close(h);
  return state;
}

}  // namespace

TEST_CASE("a notice is in the outbox with its cause, and a start sends again what is pending", "[outbox]") {
  test::TempDir dir;
  const std::string db = dir.file("outbox.db");
  test::seed_small_registry(db);
  ManualClock clock(1'780'000'000'000);
  std::int64_t ambulance = 0, fire = 0;
  {
    Store store(db);
    store.start();
    Dispatcher d(clock);
    d.restore(store.load());
    AlarmIn a{"D1", 1, AlertKind::sos, clock.now_ms()};
    auto raised = d.raise_alarm(kVendor, a);
    REQUIRE(raised.ok());
    const IncidentId id = raised->incident;
    ambulance = d.call_emergency(kOperator, id, CallKind::ambulance_120).value();
    fire = d.call_emergency(kOperator, id, CallKind::fire_119).value();
    auto fx = d.take_effects();
    REQUIRE(fx.notices.size() == 2);
    CHECK(test::count_writes<PutNotice>(fx.writes) == 2);  // in the same batch as the call tasks that caused them
    store.submit(std::move(fx.writes));
    store.drain();
    // The operator reached 119 by hand before the request went out; then the process dies.
    REQUIRE(d.record_call(kOperator, fire, CallState::answered).ok());
    commit(d, store);
  }
  const std::string ambulance_id = "call-" + std::to_string(ambulance), fire_id = "call-" + std::to_string(fire);
  Store store(db);
  store.start();
  auto rows = outbox_by_id(store);
  REQUIRE(rows.size() == 2);
  CHECK(rows[ambulance_id].state == NoticeState::pending);
  CHECK(rows[ambulance_id].notice.kind == NoticeKind::ambulance_120);
  CHECK(rows[ambulance_id].notice.to_phone == "120");

  Dispatcher d(clock);
  d.restore(store.load());
  auto fx = d.take_effects();
  // The 120 request goes out again; the 119 one would send someone to call for nothing.
  REQUIRE(fx.notices.size() == 1);
  CHECK(fx.notices[0].id == ambulance_id);
  CHECK(fx.notices[0].text.find("张桂英") != std::string::npos);
  store.submit(std::move(fx.writes));
  store.drain();
  rows = outbox_by_id(store);
  CHECK(rows[fire_id].state == NoticeState::cancelled);
  CHECK(rows[fire_id].reason == "its call task was closed before it was sent");

  // It fails for good this time: settled failed, on the timeline, and not sent again.
  REQUIRE(d.notice_failed(fx.notices[0], "HTTP 503", 3));
  commit(d, store);
  rows = outbox_by_id(store);
  CHECK(rows[ambulance_id].state == NoticeState::failed);
  CHECK(rows[ambulance_id].attempts == 3);
  CHECK(rows[ambulance_id].reason == "HTTP 503");
  CHECK(store.load().outbox.empty());
}

TEST_CASE("a 120 request acknowledged just before kill -9 reaches the webhook after the restart", "[outbox]") {
  test::TempDir dir;
  const std::string db = dir.file("crash.db"), port_file = dir.file("port");
  test::seed_small_registry(db);
  auto start = [&](const std::string& webhook) {
    std::remove(port_file.c_str());
    auto p = std::make_unique<test::Process>(
        std::vector<std::string>{ANXIN_SERVER_BIN, "--db", db, "--port", "0", "--interface", "127.0.0.1",
                                 "--field-port", "-1", "--port-file", port_file, "--webhook", webhook},
        dir.file("server.log"));
    REQUIRE(test::eventually([&] { return !test::read_file(port_file).empty(); }, std::chrono::seconds(10)));
    return p;
  };
  auto hello = [&](const std::string& role, const std::string& token) {
    auto c = std::make_unique<gateway::SyncClient>(std::stoi(test::read_file(port_file)));
    REQUIRE(c->wait_open());
    c->send(json{{"type", "hello"}, {"role", role}, {"token", token}}.dump());
    REQUIRE(test::next_json(*c)["type"] == "welcome");
    return c;
  };

  BlackHole hanging;  // the first server's SMS gateway hangs: the request stays in flight
  auto server = start(hanging.url());
  INFO(test::read_file(dir.file("server.log")));
  auto device = hello("device", "tok-d1");
  device->send(test::alarm_frame("D1", 1, "sos", "a1"));
  const json ack = test::next_of_type(*device, "ack");
  const long long incident = ack["incident_id"];
  auto console = hello("console", "tok-console");
  console->send(json{{"type", "call"}, {"incident_id", incident}, {"kind", "ambulance_120"}, {"req", "e1"}}.dump());
  const json ok = test::next_of_type(*console, "ok");
  REQUIRE(ok["req"] == "e1");
  const std::string notice_id = "call-" + std::to_string(ok["id"].get<long long>());
  server->signal(SIGKILL);
  REQUIRE(server->wait(std::chrono::seconds(5)) == 128 + SIGKILL);
  device.reset();
  console.reset();

  test::HttpSink sink;
  server = start(sink.url());
  REQUIRE(sink.wait_for(1, std::chrono::seconds(10)));
  const auto request = sink.requests().at(0);
  INFO(request.body);
  CHECK(request.headers.at("x-anxin-notice-id") == notice_id);
  const json body = json::parse(request.body);
  CHECK(body["kind"] == "ambulance_120");
  CHECK(body["incident_id"] == incident);
  CHECK(body["to_phone"] == "120");
  CHECK(test::eventually([&] { return outbox_state(db, notice_id) == "delivered"; }, std::chrono::seconds(5)));
}

TEST_CASE("notices delivered since the last commit are marked delivered by a clean stop", "[outbox][notify]") {
  test::HttpSink sink;
  gateway::ServerOptions o;
  o.webhook_url = sink.url("/notify");
  o.tick_ms = 60'000;  // no tick while the test runs: nothing else commits the marks
  test::Centre centre(true, o);
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D2", 1, "smoke"));
  const json ack = test::next_of_type(*device, "ack");
  const std::string sms = "sms-" + std::to_string(ack["incident_id"].get<long long>()) + "-";
  REQUIRE(sink.wait_for(2, std::chrono::seconds(10)));  // the elder's two contacts
  // The notifier reports each answer as soon as it has read it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  device.reset();
  centre.server().stop();
  CHECK(outbox_state(centre.db(), sms + "0") == "delivered");
  CHECK(outbox_state(centre.db(), sms + "1") == "delivered");
}
