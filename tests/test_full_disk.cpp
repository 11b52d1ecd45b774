// A full disk is an outage with a clear error, not a crash loop (issue 10, item 6):
// the store holds the commit that found no room and retries it, acknowledging
// nothing meanwhile; the server refuses new writes with E_STORAGE_FULL and tells
// the consoles; both go on by themselves once space returns, and a restart on a
// full disk comes up in that state. The disk is tests/full_disk.hpp's.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "anxin/core/protocol.hpp"
#include "anxin/core/store.hpp"
#include "full_disk.hpp"
#include "http_sink.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using namespace std::chrono_literals;
using test::json;

namespace {

AppendAudit entry(int k) { return AppendAudit{{1000 + k, "test", "note", 0, "{}"}}; }

// Reads frames until one of each type in `types` has come, in any order.
std::map<std::string, json> next_of_each(gateway::SyncClient& c, std::set<std::string> types) {
  std::map<std::string, json> got;
  while (got.size() < types.size()) {
    json j = test::next_json(c, 10s);
    if (types.count(j["type"])) got[j["type"]] = j;
  }
  return got;
}

}  // namespace

TEST_CASE("server_status round-trips through the codec, and commands are sorted by whether they write",
          "[protocol][full]") {
  namespace proto = protocol;
  for (bool full : {true, false}) {
    auto back = proto::parse_server(proto::encode({"", proto::ServerStatus{full, "why", full ? 1795727049000 : 0}}));
    REQUIRE(back);
    const auto* s = std::get_if<proto::ServerStatus>(&back->body);
    REQUIRE(s);
    CHECK(s->storage_full == full);
    CHECK(s->message == "why");
    CHECK(s->since_ms == (full ? 1795727049000 : 0));
  }
  CHECK_FALSE(proto::parse_server(R"({"type":"server_status","storage":"maybe"})"));
  CHECK(proto::changes_state(proto::ClientBody{AlarmIn{}}));
  CHECK(proto::changes_state(proto::ClientBody{proto::Login{}}));
  CHECK(proto::changes_state(proto::ClientBody{proto::Position{}}));
  CHECK_FALSE(proto::changes_state(proto::ClientBody{proto::Hello{}}));
  CHECK_FALSE(proto::changes_state(proto::ClientBody{proto::Subscribe{}}));
  CHECK_FALSE(proto::changes_state(proto::ClientBody{proto::Answer{}}));
}

TEST_CASE("a full disk holds the commit and its callbacks, and both go on when space returns", "[store][full]") {
  test::TempDir dir;
  test::FullDisk disk(dir.path().string());
  const auto db = dir.file("full.db");
  test::seed_small_registry(db);
  StoreOptions options;
  options.full_retry_ms = 50;
  Store store(db, options);
  store.start();
  std::mutex mu;
  std::vector<int> ran;
  auto done = [&](int k) {
    return [&, k] {
      std::lock_guard lock(mu);
      ran.push_back(k);
    };
  };
  auto ran_now = [&] {
    std::lock_guard lock(mu);
    return ran;
  };

  store.submit({entry(1)}, done(1));
  store.drain();
  CHECK_FALSE(store.full());

  disk.fill();
  for (int k = 2; k <= 4; ++k) store.submit({entry(k)}, done(k));
  store.submit({}, done(5));  // writes nothing, but comes after writes that are not durable
  REQUIRE(test::eventually([&] { return store.full(); }, 5s));
  REQUIRE(test::eventually([&] { return disk.refused() >= 3; }, 5s));  // tried again, and again
  CHECK(ran_now() == std::vector<int>{1});                              // nothing after the failure ran
  CHECK(test::count_rows(db, "audit") == 1);

  disk.free();
  REQUIRE(test::eventually([&] { return ran_now().size() == 5; }, 5s));
  CHECK(ran_now() == std::vector<int>{1, 2, 3, 4, 5});
  CHECK_FALSE(store.full());
  CHECK(test::count_rows(db, "audit") == 4);
}

TEST_CASE("stopping on a full disk drops the held commit unacknowledged, and a restart finds the file whole",
          "[store][full]") {
  test::TempDir dir;
  test::FullDisk disk(dir.path().string());
  const auto db = dir.file("full.db");
  test::seed_small_registry(db);
  bool ran = false;
  {
    StoreOptions options;
    options.full_retry_ms = 50;
    Store store(db, options);
    disk.fill();
    CHECK_THROWS_AS(store.put_token("tok-new", {Role::device, "device:D2"}), StorageFull);  // set-up writes say so too
    store.start();
    store.submit({entry(1)}, [&] { ran = true; });
    REQUIRE(test::eventually([&] { return store.full(); }, 5s));
    store.stop();  // returns: nothing waits for space that is not coming
  }
  CHECK_FALSE(ran);
  // Opened again on the still full disk: it reads, and holds what was committed.
  Store again(db);
  CHECK(again.load().elders.size() == 2);
  CHECK(again.audit_log().empty());
}

TEST_CASE("with the disk full, writes get E_STORAGE_FULL, consoles are told, and all resumes with space",
          "[ws][full]") {
  test::TempDir dir;
  test::FullDisk disk(dir.path().string());
  test::Centre centre(true, {}, nullptr, dir.file("centre.db"));
  auto console = centre.client("console", "tok-console");
  console->send(R"({"type":"subscribe"})");
  REQUIRE(test::next_json(*console)["type"] == "snapshot");
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D1", 1, "sos", "a1"));
  json ack1 = test::next_json(*device);
  REQUIRE(ack1["type"] == "ack");
  const long long first_incident = ack1["incident_id"];
  REQUIRE(test::next_of_type(*console, "delta")["event"] == "incident_opened");

  // The disk fills with an alarm on its way: applied, but its commit finds no room.
  disk.fill();
  device->send(test::alarm_frame("D3", 1, "sos", "a2"));
  json status = test::next_of_type(*console, "server_status");
  CHECK(status["storage"] == "full");
  CHECK(status["since_ms"] > 0);
  CHECK_FALSE(std::string(status["message"]).empty());
  CHECK(test::count_rows(centre.db(), "alerts") == 1);

  // New writes are refused before they change anything; the held alarm is not acked.
  device->send(test::alarm_frame("D4", 1, "fall", "a3"));
  json refused = test::next_json(*device);
  INFO(refused.dump());
  CHECK(refused["type"] == "error");
  CHECK(refused["code"] == "E_STORAGE_FULL");
  CHECK(refused["req"] == "a3");
  console->send(json{{"type", "ack_incident"}, {"incident_id", first_incident}, {"req", "k1"}}.dump());
  json refused_ack = test::next_json(*console);
  CHECK(refused_ack["code"] == "E_STORAGE_FULL");
  CHECK(refused_ack["req"] == "k1");

  // The server stays up: pings, reads and subscribing go on, and a console that
  // subscribes now is told right after its snapshot.
  device->send(R"({"type":"ping","req":"p"})");
  CHECK(test::next_json(*device)["type"] == "pong");
  auto late = centre.client("console", "tok-console");
  late->send(R"({"type":"subscribe"})");
  json snap = test::next_json(*late);
  REQUIRE(snap["type"] == "snapshot");
  for (const auto& i : snap["incidents"])
    if (i["id"] == first_incident) CHECK(i["state"] == "open");  // the refused acknowledgement changed nothing
  json late_status = test::next_json(*late);
  CHECK(late_status["type"] == "server_status");
  CHECK(late_status["storage"] == "full");

  // Space returns: the held alarm commits and only then is acked; consoles get its
  // delta and the all-clear. The refused alarm was never stored.
  disk.free();
  json ack2 = test::next_json(*device, 10s);
  INFO(ack2.dump());
  REQUIRE(ack2["type"] == "ack");
  CHECK(ack2["req"] == "a2");
  CHECK(test::count_rows(centre.db(), "alerts") == 2);
  auto after = next_of_each(*console, {"delta", "server_status"});
  CHECK(after["delta"]["incident"]["id"] == ack2["incident_id"]);
  CHECK(after["server_status"]["storage"] == "ok");
  CHECK(after["server_status"]["since_ms"] == 0);

  device->send(test::alarm_frame("D4", 2, "fall", "a4"));
  CHECK(test::next_json(*device)["type"] == "ack");
  CHECK(test::count_rows(centre.db(), "alerts") == 3);
  CHECK(Store(centre.db()).find_alerts("D4", "", 1).empty());
}

TEST_CASE("restarted on a full disk the server comes up, reports full, and resumes with space", "[ws][full]") {
  test::TempDir dir;
  test::FullDisk disk(dir.path().string());
  const auto db = dir.file("centre.db");
  test::Centre centre(true, {}, nullptr, db);
  auto console = centre.client("console", "tok-console");
  console->send(R"({"type":"subscribe"})");
  REQUIRE(test::next_json(*console)["type"] == "snapshot");
  {
    auto device = centre.client("device", "tok-acme");
    device->send(test::alarm_frame("D1", 1, "sos"));
    REQUIRE(test::next_json(*device)["type"] == "ack");
    // A login session that has since expired: the next start purges it, its first write.
    Store(db).put_token("sess-expired", {Role::console, "operator:王芳"}, 1);
    const long long tokens = test::count_rows(db, "tokens");

    // Full with an alarm held; then the server is stopped and started again.
    disk.fill();
    device->send(test::alarm_frame("D3", 1, "sos", "a2"));
    REQUIRE(test::next_of_type(*console, "server_status")["storage"] == "full");
    centre.restart();
    CHECK_FALSE(device->next(200ms).has_value());  // never acked, as never committed
    CHECK(test::count_rows(db, "tokens") == tokens);
  }

  // It is up, reports full from its first write, and refuses the resent alarm.
  auto again = centre.client("console", "tok-console");
  again->send(R"({"type":"subscribe"})");
  json snap = test::next_json(*again);
  REQUIRE(snap["type"] == "snapshot");
  CHECK(snap["incidents"].size() == 1);
  json status = test::next_json(*again);
  CHECK(status["type"] == "server_status");
  CHECK(status["storage"] == "full");
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D3", 1, "sos", "a2"));
  CHECK(test::next_json(*device)["code"] == "E_STORAGE_FULL");

  // Space returns: the purge goes through, consoles hear so, the alarm is taken.
  disk.free();
  CHECK(test::next_of_type(*again, "server_status", 10s)["storage"] == "ok");
  device->send(test::alarm_frame("D3", 1, "sos", "a2"));
  json ack = test::next_json(*device);
  CHECK(ack["type"] == "ack");
  CHECK(ack["req"] == "a2");
  CHECK(test::count_rows(db, "alerts") == 2);
}

#ifdef ANXIN_CONSOLE_BIN
#include <stb_image.h>

#include <filesystem>
#include <fstream>

#include "screenshot.hpp"

TEST_CASE("the console shows a red banner while the server's disk is full, and drops it after", "[console][full]") {
  test::TempDir dir;
  test::FullDisk disk(dir.path().string());
  test::Centre centre(true, {}, nullptr, dir.file("centre.db"));
  std::filesystem::create_directories(ANXIN_ARTIFACTS);
  const std::string png = std::string(ANXIN_ARTIFACTS) + "/console-storage-full.png";
  std::filesystem::remove(png);
  const std::string state = dir.file("state.json"), script = dir.file("script.txt");
  std::ofstream(script) << "wait-sync\n"
                           "wait-state /storage_full != null\n"
                           "frames 3\n"
                           "screenshot " << png << "\n"
                           "wait-state /storage_full == null\n"
                           "dump " << state << "\n";

  auto console_watch = centre.client("console", "tok-console");
  console_watch->send(R"({"type":"subscribe"})");
  REQUIRE(test::next_json(*console_watch)["type"] == "snapshot");
  disk.fill();
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D1", 1, "sos"));
  REQUIRE(test::next_of_type(*console_watch, "server_status")["storage"] == "full");

  test::Process console({"/usr/bin/xvfb-run", "-a", "-s", "-screen 0 1440x900x24", ANXIN_CONSOLE_BIN, "--port",
                         std::to_string(centre.port()), "--token", "tok-console", "--lang", "en",
                         "--autotest-script", script, "--autotest-timeout-ms", "40000"},
                        dir.file("console.log"));
  const bool shot = test::eventually([&] { return std::filesystem::exists(png); }, 40s);
  disk.free();
  auto status = console.wait(60s);
  INFO(test::read_file(dir.file("console.log")));
  REQUIRE(shot);
  REQUIRE(status == 0);
  CHECK(json::parse(test::read_file(state))["storage_full"].is_null());
  test::check_screenshot(png);

  // The banner: a full-width strip of its red near the top of the window.
  int w = 0, h = 0, n = 0;
  unsigned char* px = stbi_load(png.c_str(), &w, &h, &n, 3);
  REQUIRE(px);
  int red = 0;
  for (int i = 0; i < w * std::min(h, 150); ++i)
    red += px[3 * i] >= 170 && px[3 * i] <= 190 && px[3 * i + 1] <= 35 && px[3 * i + 2] <= 35;
  stbi_image_free(px);
  CHECK(red > w * 10);
}
#endif

TEST_CASE("a notice delivered while the disk is full holds no pong up", "[ws][full][notify]") {
  test::TempDir dir;
  test::FullDisk disk(dir.path().string());
  test::HttpSink hook;
  hook.hold(true);  // the SMS gateway answers only when told
  gateway::ServerOptions o;
  o.webhook_url = hook.url();
  o.webhook_timeout_ms = 30'000;
  o.tick_ms = 60'000;  // no tick while the test runs: only frames look at the disk and commit
  test::Centre centre(true, o, nullptr, dir.file("centre.db"));
  auto console = centre.client("console", "tok-console");
  console->send(R"({"type":"subscribe"})");
  REQUIRE(test::next_json(*console)["type"] == "snapshot");
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D2", 1, "smoke", "a1"));  // an automatic alarm: SMS to the contacts
  REQUIRE(test::next_json(*device)["type"] == "ack");
  REQUIRE(hook.wait_for(1, 10s));  // the first SMS is at the webhook, unanswered

  disk.fill();
  device->send(test::alarm_frame("D3", 1, "sos", "a2"));  // held: no room for its commit
  std::this_thread::sleep_for(500ms);  // the writer has met the full disk
  device->send(R"({"type":"ping","req":"p0"})");  // the frame after it finds the server full
  REQUIRE(test::next_json(*device)["type"] == "pong");
  REQUIRE(test::next_of_type(*console, "server_status")["storage"] == "full");
  hook.hold(false);  // now delivered, to be marked so in the file
  std::this_thread::sleep_for(300ms);  // the notifier reports each answer as soon as it has read it
  device->send(R"({"type":"ping","req":"p1"})");
  json pong = test::next_json(*device, 3s);
  CHECK(pong["type"] == "pong");

  disk.free();
  CHECK(test::next_json(*device, 10s)["req"] == "a2");
}
