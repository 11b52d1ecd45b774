// Devices as they really connect (issue 13): the server's own supervision of
// heartbeats, boots that make a restarted counter new, and alarm storms folded into
// their incident. A real server under a manual clock, real WebSocket clients, and the
// SQLite file it writes.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <thread>

#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using json = nlohmann::json;

using test::sql_text;

namespace {

constexpr Millis kStart = 1795622400000LL + 10 * 3600 * 1000;  // 2026-11-26 10:00 Beijing

std::string heartbeat(const std::string& device, int battery, const std::string& req = "") {
  json j{{"type", "heartbeat"}, {"device", device}, {"boot", "b1"}, {"battery_pct", battery}, {"signal_dbm", -71}};
  if (!req.empty()) j["req"] = req;
  return j.dump();
}

std::string alarm(const std::string& device, long long seq, const std::string& kind, Millis at, const std::string& boot,
                  const std::string& req) {
  json j{{"type", "alarm"}, {"device", device}, {"seq", seq}, {"kind", kind}, {"device_time_ms", at}, {"req", req}};
  if (!boot.empty()) j["boot"] = boot;
  return j.dump();
}

// The next delta of `event`, skipping others.
json next_delta(gateway::SyncClient& c, const std::string& kind) {
  for (;;) {
    json d = test::next_of_type(c, "delta");
    if (d["event"] == kind) return d;
  }
}

std::unique_ptr<gateway::SyncClient> subscribed(test::Centre& centre) {
  auto console = centre.client("console", "tok-console");
  console->send(R"({"type":"subscribe"})");
  test::next_of_type(*console, "snapshot");
  return console;
}

gateway::ServerOptions short_check_ins() {
  gateway::ServerOptions o;
  o.tick_ms = 20;
  o.config.supervision.check_in[DeviceKind::sos_button] = {60'000, 30'000};
  o.config.supervision.write_every_ms = 1'000;
  return o;
}

}  // namespace

TEST_CASE("a device that stops heartbeating goes offline and comes back", "[devices]") {
  ManualClock clock{kStart};
  test::Centre centre(true, short_check_ins(), &clock);
  auto console = subscribed(centre);
  auto device = centre.client("device", "tok-acme");
  device->send(heartbeat("D1", 80, "h1"));
  json ok = test::next_json(*device);
  CHECK(ok["type"] == "ok");
  CHECK(ok["req"] == "h1");

  clock.advance(89'000);  // within the minute and its grace
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(test::count_rows(centre.db(), "alerts") == 0);

  clock.advance(2'000);  // 91 s of silence
  json opened = next_delta(*console, "incident_opened");
  CHECK(opened["incident"]["elder_id"] == 1);
  CHECK(opened["append"][0]["alert_kind"] == "offline");
  CHECK(opened["append"][0]["actor"] == "D1");
  CHECK(sql_text(centre.db(), "SELECT kind FROM alerts WHERE device_id='D1'") == "offline");
  CHECK(json::parse(sql_text(centre.db(), "SELECT detail FROM alerts"))["raised_by"] == "server");

  clock.advance(60'000);  // still silent: raised once, not once a scan
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(test::count_rows(centre.db(), "alerts") == 1);

  device->send(heartbeat("D1", 80));
  json back;  // (the incident has meanwhile escalated, unacknowledged for a minute)
  do back = next_delta(*console, "incident_updated");
  while (back["append"].empty() || back["append"][0]["kind"] != "note");
  CHECK(back["append"][0]["text"] == "D1 back online");
  CHECK(back["append"][0]["actor"] == "D1");
  CHECK(sql_text(centre.db(), "SELECT count(*) FROM audit WHERE action='device_back_online'") == "1");

  // Silent again: a new offline alert, on the same open incident.
  clock.advance(91'000);
  json again = next_delta(*console, "alert_attached");
  CHECK(again["append"][0]["alert_kind"] == "offline");
  CHECK(test::count_rows(centre.db(), "alerts") == 2);
}

// Check-ins are expected from a device's first heartbeat on, and only then. An alarm
// once wrote any alarming device down as supervised, so after a restart a button that
// never sends heartbeats was declared offline a check-in later.
TEST_CASE("a device heard only by its alarms expects no check-ins after a restart", "[devices]") {
  ManualClock clock{kStart};
  test::Centre centre(true, short_check_ins(), &clock);
  auto device = centre.client("device", "tok-acme");
  device->send(alarm("D1", 1, "sos", kStart, "b1", "a1"));
  CHECK(test::next_of_type(*device, "ack")["duplicate"] == false);
  device->send(heartbeat("D3", 80, "h3"));  // D3 does beat: its check-ins are expected
  CHECK(test::next_json(*device)["type"] == "ok");
  clock.advance(2'000);  // past write_every_s: the beat is written
  CHECK(test::eventually([&] { return sql_text(centre.db(), "SELECT supervised FROM devices WHERE id='D3'") == "1"; },
                         std::chrono::seconds(2)));
  CHECK(sql_text(centre.db(), "SELECT supervised FROM devices WHERE id='D1'") == "0");

  device.reset();
  centre.restart();
  auto console = subscribed(centre);
  clock.advance(91'000);  // past a check-in and its grace for both
  json opened = next_delta(*console, "incident_opened");
  CHECK(opened["append"][0]["alert_kind"] == "offline");
  CHECK(opened["append"][0]["actor"] == "D3");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(sql_text(centre.db(), "SELECT count(*) FROM alerts WHERE device_id='D1' AND kind='offline'") == "0");
}

// The scan takes what is due (Dispatcher::check_ins_), one entry a device: a device
// heard from before its entry pops is queued again from its last beat, however many
// beats came in between.
TEST_CASE("a device that beats on time stays online while another goes silent", "[devices]") {
  ManualClock clock{kStart};
  test::Centre centre(true, short_check_ins(), &clock);
  auto console = subscribed(centre);
  auto device = centre.client("device", "tok-acme");
  for (const char* d : {"D1", "D3"}) {
    device->send(heartbeat(d, 80));
    REQUIRE(test::next_json(*device)["type"] == "ok");
  }
  // D1 beats every 50 s for almost six minutes, three times in a row at times; D3 is
  // silent. Its last beat comes while an entry queued before it stands.
  for (int k = 0; k < 7; ++k) {
    clock.advance(50'000);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // a few ticks of 20 ms
    for (int n = 0; n < (k % 2 ? 3 : 1); ++n) {
      device->send(heartbeat("D1", 80));
      REQUIRE(test::next_json(*device)["type"] == "ok");
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(sql_text(centre.db(), "SELECT group_concat(device_id) FROM alerts") == "D3");

  // Now D1 is silent too: raised once its minute and grace have passed.
  clock.advance(89'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(test::count_rows(centre.db(), "alerts") == 1);
  clock.advance(2'000);
  json d1;
  do d1 = test::next_of_type(*console, "delta");
  while (d1["append"].empty() || d1["append"][0]["actor"] != "D1");
  CHECK(d1["append"][0]["alert_kind"] == "offline");
  CHECK(test::count_rows(centre.db(), "alerts") == 2);
}

TEST_CASE("low battery is raised once per threshold and heartbeats cost no commit each", "[devices]") {
  ManualClock clock{kStart};
  test::Centre centre(true, short_check_ins(), &clock);
  auto console = subscribed(centre);
  auto device = centre.client("device", "tok-acme");
  const auto commits_before = centre.server().stats().commits;
  for (int k = 0; k < 300; ++k) device->send(heartbeat("D3", 60));
  for (int k = 0; k < 300; ++k) REQUIRE(test::next_json(*device)["type"] == "ok");
  CHECK(centre.server().stats().commits - commits_before <= 2);  // at most the tick's batch

  device->send(heartbeat("D3", 19));
  json low = next_delta(*console, "incident_opened");
  CHECK(low["append"][0]["alert_kind"] == "low_battery");
  for (int pct : {18, 17, 15, 12}) device->send(heartbeat("D3", pct));
  device->send(heartbeat("D3", 9));  // the next threshold
  json lower = next_delta(*console, "alert_attached");
  CHECK(lower["append"][0]["alert_kind"] == "low_battery");
  CHECK(sql_text(centre.db(), "SELECT count(*) FROM alerts WHERE kind='low_battery'") == "2");
  CHECK(json::parse(sql_text(centre.db(), "SELECT detail FROM alerts ORDER BY id DESC"))["threshold_pct"] == 10);

  // The batch reaches the file within write_every_ms, and the device stays supervised
  // across a restart: silent for its check-in after it, it goes offline.
  clock.advance(1'500);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(sql_text(centre.db(), "SELECT supervised || '/' || battery_pct FROM devices WHERE id='D3'") == "1/9");
  console.reset();
  device.reset();
  centre.restart();
  auto later = subscribed(centre);
  clock.advance(91'000);
  json offline = next_delta(*later, "alert_attached");
  CHECK(offline["append"][0]["alert_kind"] == "offline");
  CHECK(offline["append"][0]["actor"] == "D3");
  // Battery 9 was raised before the restart: not raised again.
  CHECK(sql_text(centre.db(), "SELECT count(*) FROM alerts WHERE kind='low_battery'") == "2");
}

TEST_CASE("a rebooted device's SOS reaches the consoles and a resend is still known", "[devices]") {
  test::Centre centre;
  auto console = subscribed(centre);
  auto device = centre.client("device", "tok-acme");
  device->send(alarm("D1", 5, "sos", kStart, "boot-1", "a5"));
  json first = test::next_of_type(*device, "ack");
  next_delta(*console, "incident_opened");
  console->send(json{{"type", "resolve_incident"}, {"incident_id", first["incident_id"]},
                     {"disposition", "false_alarm"}}.dump());
  next_delta(*console, "incident_resolved");

  // Rebooted: a new boot, and the counter from 1 again.
  device->send(alarm("D1", 1, "sos", kStart + 3'600'000, "boot-2", "b1"));
  json rebooted = test::next_of_type(*device, "ack");
  CHECK(rebooted["duplicate"] == false);
  CHECK(rebooted["alert_id"] != first["alert_id"]);
  json opened = next_delta(*console, "incident_opened");
  CHECK(opened["incident"]["id"] == rebooted["incident_id"]);

  // Its resend is still a resend; so is the old boot's, from the file after a restart.
  device->send(alarm("D1", 1, "sos", kStart + 3'600'000, "boot-2", "b1-again"));
  json resend = test::next_of_type(*device, "ack");
  CHECK(resend["duplicate"] == true);
  CHECK(resend["alert_id"] == rebooted["alert_id"]);
  console.reset();
  device.reset();
  centre.restart();
  device = centre.client("device", "tok-acme");
  device->send(alarm("D1", 5, "sos", kStart, "boot-1", "a5-again"));
  json old = test::next_of_type(*device, "ack");
  CHECK(old["duplicate"] == true);
  CHECK(old["alert_id"] == first["alert_id"]);

  // A device that says no boot: a lower seq with another time is a restarted counter.
  device->send(alarm("D3", 9, "sos", kStart, "", "d9"));
  json nine = test::next_of_type(*device, "ack");
  device->send(alarm("D3", 2, "sos", kStart + 60'000, "", "d2"));
  json two = test::next_of_type(*device, "ack");
  CHECK(two["duplicate"] == false);
  CHECK(two["incident_id"] == nine["incident_id"]);  // the same elder's open incident
  CHECK(test::count_rows(centre.db(), "alerts") == 3);
  CHECK(sql_text(centre.db(), "SELECT device_boot FROM alerts WHERE device_id='D1' ORDER BY id DESC") == "boot-2");
}

// An alarm's device (last contact, battery) goes to the file with the heartbeats'
// writes, within write_every_s: a folded alarm's too, which once wrote none.
TEST_CASE("an alarm's device reaches the file with the heartbeats' writes and a folded alarm's too", "[devices]") {
  ManualClock clock{kStart};
  test::Centre centre(true, short_check_ins(), &clock);
  auto device = centre.client("device", "tok-acme");
  auto written = [&](const std::string& want) {
    const char* sql = "SELECT last_seen_ms || '/' || battery_pct FROM devices WHERE id='D4'";
    const bool seen = test::eventually([&] { return sql_text(centre.db(), sql) == want; }, std::chrono::seconds(2));
    INFO(sql_text(centre.db(), sql));
    return seen;
  };
  json first = json::parse(alarm("D4", 1, "fall", kStart, "b", "1"));
  first["battery_pct"] = 42;
  device->send(first.dump());
  REQUIRE(test::next_of_type(*device, "ack").value("folded", false) == false);
  clock.advance(1'500);  // past write_every_s
  CHECK(written(std::to_string(kStart) + "/42"));

  clock.advance(10'000);
  device->send(alarm("D4", 2, "fall", kStart + 11'500, "b", "2"));
  REQUIRE(test::next_of_type(*device, "ack")["folded"] == true);
  clock.advance(1'500);
  CHECK(written(std::to_string(kStart + 11'500) + "/42"));
}

TEST_CASE("an alarm storm from one device folds into its incident with a count", "[devices]") {
  gateway::ServerOptions o;
  o.tick_ms = 20;
  o.config.supervision.alarm_burst = 30;
  o.config.supervision.alarm_refill_ms = 3'600'000;
  test::Centre centre(true, o);
  auto console = subscribed(centre);
  auto device = centre.client("device", "tok-acme");
  for (int seq = 1; seq <= 30; ++seq) device->send(alarm("D4", seq, "fall", kStart + seq * 1000, "b", std::to_string(seq)));
  json first = test::next_of_type(*device, "ack");
  for (int seq = 2; seq <= 30; ++seq) {
    json a = test::next_of_type(*device, "ack");
    CHECK(a["folded"] == true);
    CHECK(a["alert_id"] == first["alert_id"]);
  }
  CHECK(test::count_rows(centre.db(), "alerts") == 1);
  CHECK(sql_text(centre.db(), "SELECT repeats FROM alerts") == "29");
  CHECK(sql_text(centre.db(), "SELECT repeats FROM incidents") == "29");
  // Consoles see the count, in a few updates rather than 29.
  int updates = 0;
  for (;;) {
    json d = next_delta(*console, "incident_updated");
    ++updates;
    if (d["incident"].value("repeats", 0) == 29) break;
  }
  CHECK(updates < 29);

  // Past its burst the device is refused, and nothing changes; a resend is answered.
  device->send(alarm("D4", 31, "fall", kStart + 31'000, "b", "31"));
  json refused = test::next_json(*device);
  CHECK(refused["code"] == "E_RATE_LIMITED");
  device->send(alarm("D4", 30, "fall", kStart + 30'000, "b", "30-again"));
  CHECK(test::next_json(*device)["duplicate"] == true);
  CHECK(sql_text(centre.db(), "SELECT repeats FROM alerts") == "29");
}
