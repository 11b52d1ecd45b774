// Issue 14 on the real console under Xvfb, against a real server: an incident worked
// from alarm to resolution with key presses only (the autotest's `key` and `type`
// steps go through ImGui's own input, io.KeysDown and the typed characters; no mouse
// event and no command step), the server's state checked after every step; and a
// critical alert arriving in row 2 behind a backlog announcing itself (banner, chime),
// then a new critical alert on the acknowledged incident bringing it back in front.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "console_support.hpp"
#include "process.hpp"
#include "screenshot.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;
using test::artifact;
using test::start_console;
using test::write_script;
using test::read_json;
using test::sql_text;
using test::now_ms;

namespace {

// Waits for the console to write `file` (a dump at the end of a step); fails with its log.
json await_dump(const test::TempDir& dir, test::Process& console, const std::string& name) {
  const std::string path = dir.file(name);
  const bool there = test::eventually(
      [&] { return std::filesystem::exists(path) || console.wait(std::chrono::milliseconds(0)).has_value(); },
      std::chrono::seconds(40));
  if (!there || !std::filesystem::exists(path)) FAIL("no " << name << "\n" << test::read_file(dir.file("console.log")));
  return read_json(path);
}

// Lets the script go on past its `wait-file` step.
void go(const test::TempDir& dir, const std::string& name) { std::ofstream(dir.file(name)) << "go\n"; }

void report_position(gateway::SyncClient& worker, double lat, double lon, const std::string& req) {
  worker.send(json{{"type", "position"}, {"lat", lat}, {"lon", lon}, {"accuracy_m", 8}, {"at_ms", now_ms()},
                   {"req", req}}
                  .dump());
  REQUIRE(test::next_of_type(worker, "ok")["req"] == req);
}

}  // namespace

TEST_CASE("an incident worked from alarm to resolution by key presses alone", "[console]") {
  test::Centre centre;
  test::TempDir dir;
  std::filesystem::create_directories(ANXIN_ARTIFACTS);
  const std::string db = centre.db();

  // Both workers near elder 1 with fresh positions: two candidates, in the server's order.
  auto nurse = centre.client("field", "tok-w1");
  auto volunteer = centre.client("field", "tok-w2");
  report_position(*nurse, 34.8311, 115.5411, "p1");
  report_position(*volunteer, 34.8330, 115.5440, "p2");
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D1", 1, "sos"));
  const long long incident = test::next_json(*device)["incident_id"];
  const std::string id = std::to_string(incident);

  const std::string script = write_script(dir, R"(wait-sync 1
key Down
key Enter
wait-state /view == 1
key A
wait-state /selected_incident/state == acknowledged
dump )" + dir.file("s1.json") + R"(
wait-file )" + dir.file("go1") + R"(
key C
key 3
wait-state /selected_incident/callback == no_answer
wait-state /selected_incident/calls >= 1
dump )" + dir.file("s2.json") + R"(
wait-file )" + dir.file("go2") + R"(
key K
wait-state /pickers/call == true
screenshot )" + artifact("keys-call-picker.png") + R"(
key 1
wait-state /selected_incident/calls >= 2
dump )" + dir.file("s3.json") + R"(
wait-file )" + dir.file("go3") + R"(
key T
wait-state /pickers/result == true
key Down
wait-state /pickers/row == 1
screenshot )" + artifact("keys-result-picker.png") + R"(
key 1
wait-state /selected_incident/calls/1/state == answered
key T
wait-state /pickers/result == true
key 1
wait-state /selected_incident/calls/0/state == answered
wait-state /candidates >= 2
dump )" + dir.file("s4.json") + R"(
wait-file )" + dir.file("go4") + R"(
key S
wait-state /pickers/candidate == true
key 2
wait-state /pickers/row == 1
screenshot )" + artifact("keys-candidate-picker.png") + R"(
key Enter
wait-state /selected_incident/assignments >= 1
dump )" + dir.file("s5.json") + R"(
wait-file )" + dir.file("go5") + R"(
wait-state /selected_incident/assignments/0/state == on_scene
key N
type 邻居说老人在家，门锁着
key Enter
wait-state /selected_incident/notes == 1
dump )" + dir.file("s6.json") + R"(
wait-file )" + dir.file("go6") + R"(
key R
key 3
key Tab
type 护士到场，老人无大碍
wait-state /pickers/resolve_note == 护士到场，老人无大碍
screenshot )" + artifact("keys-resolve.png") + R"(
key Enter
# the nurse on scene is stood down by the resolve: the picker says so and asks again
wait-state /resolve_confirm == true
key Enter
wait-state /incidents == 0
dump )" + dir.file("s7.json") + R"(
)");
  auto console = start_console(dir, {"--port", std::to_string(centre.port()), "--token", "tok-console",
                                     "--autotest-script", script, "--autotest-timeout-ms", "90000"});

  // 1. A: acknowledged, by the console's operator.
  json s1 = await_dump(dir, *console, "s1.json");
  CHECK(s1["selected"] == incident);
  CHECK(sql_text(db, "SELECT state FROM incidents WHERE id=" + id) == "acknowledged");
  CHECK(sql_text(db, "SELECT acknowledged_by FROM incidents WHERE id=" + id) == "王芳");
  go(dir, "go1");

  // 2. C 3: the call back went unanswered, which starts the family cascade.
  await_dump(dir, *console, "s2.json");
  CHECK(sql_text(db, "SELECT callback FROM incidents WHERE id=" + id) == "no_answer");
  CHECK(sql_text(db, "SELECT state FROM call_tasks WHERE kind='family' AND incident_id=" + id) == "pending");
  go(dir, "go2");

  // 3. K 1: a 120 call task, still to be answered.
  await_dump(dir, *console, "s3.json");
  CHECK(sql_text(db, "SELECT state FROM call_tasks WHERE kind='ambulance_120' AND incident_id=" + id) == "pending");
  CHECK(sql_text(db, "SELECT phone FROM call_tasks WHERE kind='ambulance_120' AND incident_id=" + id) == "120");
  go(dir, "go3");

  // 4. T ↓ 1: the 120 answered; T 1: the family call answered. The server's candidates
  // now, in its order, are what the console's picker lists.
  json s4 = await_dump(dir, *console, "s4.json");
  CHECK(sql_text(db, "SELECT state FROM call_tasks WHERE kind='ambulance_120' AND incident_id=" + id) == "answered");
  CHECK(sql_text(db, "SELECT state FROM call_tasks WHERE kind='family' AND incident_id=" + id) == "answered");
  auto watcher = centre.client("console", "tok-console");
  watcher->send(json{{"type", "candidates"}, {"incident_id", incident}, {"req", "c1"}}.dump());
  json server_list = test::next_of_type(*watcher, "candidates")["candidates"];
  REQUIRE(server_list.size() >= 2);
  REQUIRE(s4["candidates"].size() >= 2);
  for (size_t k = 0; k < 2; ++k) CHECK(s4["candidates"][k]["worker_id"] == server_list[k]["worker_id"]);
  const long long second = s4["candidates"][1]["worker_id"];
  CHECK(second != s4["candidates"][0]["worker_id"].get<long long>());
  go(dir, "go4");

  // 5. S 2 Enter: the SECOND candidate is offered the incident.
  await_dump(dir, *console, "s5.json");
  CHECK(sql_text(db, "SELECT worker_id FROM assignments WHERE incident_id=" + id) == std::to_string(second));
  CHECK(sql_text(db, "SELECT COUNT(*) FROM assignments WHERE incident_id=" + id) == "1");
  // That worker accepts and arrives.
  auto& chosen = second == 1 ? *nurse : *volunteer;
  json offer;
  while (offer.is_null() || offer["event"] != "offer") offer = test::next_of_type(chosen, "task");
  const long long assignment = offer["assignment"]["id"];
  chosen.send(json{{"type", "accept"}, {"assignment_id", assignment}, {"req", "f1"}}.dump());
  REQUIRE(test::next_of_type(chosen, "ok")["req"] == "f1");
  chosen.send(json{{"type", "on_scene"}, {"assignment_id", assignment}, {"req", "f2"}}.dump());
  REQUIRE(test::next_of_type(chosen, "ok")["req"] == "f2");
  go(dir, "go5");

  // 6. N, typed, Enter: the note is on the incident's record.
  await_dump(dir, *console, "s6.json");
  CHECK(sql_text(db, "SELECT text FROM incident_events WHERE kind='note' AND incident_id=" + id) ==
        "邻居说老人在家，门锁着");
  go(dir, "go6");

  // 7. R 3 Tab, the closing note typed, Enter: resolved as "visitor assisted", with it.
  await_dump(dir, *console, "s7.json");
  auto status = console->wait(std::chrono::seconds(30));
  INFO(test::read_file(dir.file("console.log")));
  REQUIRE(status == 0);
  CHECK(sql_text(db, "SELECT state FROM incidents WHERE id=" + id) == "resolved");
  CHECK(sql_text(db, "SELECT disposition FROM closing_records WHERE incident_id=" + id) == "visitor_assisted");
  CHECK(sql_text(db, "SELECT record FROM closing_records WHERE incident_id=" + id).find("护士到场，老人无大碍") !=
        std::string::npos);
  for (const char* png : {"keys-call-picker.png", "keys-result-picker.png", "keys-candidate-picker.png",
                          "keys-resolve.png"})
    test::check_screenshot(artifact(png));
}

TEST_CASE("a critical alert behind a backlog raises the banner and the chime", "[console]") {
  // Elders 3 and 4 add a backlog of lesser alarms to the small registry.
  test::TempDir data;
  const std::string db = data.file("centre.db");
  {
    Store store(db);
    auto r = test::small_registry();
    Elder c = r.elders[1];
    c.id = 3, c.name = "王秀兰", c.phone = "13800000003", c.id_number = "372922195001011234";
    Elder d = r.elders[1];
    d.id = 4, d.name = "赵德福", d.phone = "13800000004", d.id_number = "372922195101011234";
    r.elders.push_back(c);
    r.elders.push_back(d);
    r.devices.push_back({"D5", 3, DeviceKind::water_leak, "acme", 90, 0});
    r.devices.push_back({"D6", 4, DeviceKind::door, "acme", 90, 0});
    store.import_registry(r.elders, r.devices, r.workers);
    store.put_token("tok-acme", {Role::device, "vendor:acme"});
    store.put_token("tok-console", {Role::console, "operator:王芳"});
  }
  test::Centre centre(false, {}, nullptr, db);
  test::TempDir dir;
  std::filesystem::create_directories(ANXIN_ARTIFACTS);
  auto device = centre.client("device", "tok-acme");
  long long seq = 0;
  auto alarm = [&](const std::string& dev, const std::string& kind) -> long long {
    device->send(test::alarm_frame(dev, ++seq, kind));
    json ack = test::next_of_type(*device, "ack");
    return ack["incident_id"];
  };
  const long long smoke = alarm("D2", "smoke");  // 张桂英: the top of the queue
  alarm("D5", "water_leak");
  alarm("D6", "door_open_long");

  const std::string script = write_script(dir, R"(wait-sync 3
dump )" + dir.file("b0.json") + R"(
wait-file )" + dir.file("go1") + R"(
wait-state /banner >= 1
dump )" + dir.file("b1.json") + R"(
screenshot )" + artifact("console-banner.png") + R"(
key J
wait-state /view == 1
wait-state /banner == 0
key A
wait-state /selected_incident/state == acknowledged
dump )" + dir.file("b2.json") + R"(
wait-file )" + dir.file("go2") + R"(
wait-state /banner >= 1
dump )" + dir.file("b3.json") + R"(
screenshot )" + artifact("console-realert.png") + R"(
key J
key A
wait-state /selected_incident/unseen_alert_ms == 0
dump )" + dir.file("b4.json") + R"(
)");
  auto console = start_console(dir, {"--port", std::to_string(centre.port()), "--token", "tok-console",
                                     "--autotest-script", script, "--autotest-timeout-ms", "60000"});
  json b0 = await_dump(dir, *console, "b0.json");
  CHECK(b0["banner"].empty());  // what was there before the console started is no news
  const int chimes = b0["chimes"];

  // A fall at 李德明's: a critical alarm that ranks second, behind the smoke.
  const long long fall = alarm("D4", "fall");
  go(dir, "go1");
  json b1 = await_dump(dir, *console, "b1.json");
  INFO(b1.dump(2));
  REQUIRE(b1["incidents"].size() == 4);
  CHECK(b1["incidents"][0]["id"] == smoke);
  CHECK(b1["incidents"][1]["id"] == fall);  // row 2: the old code stayed silent here
  REQUIRE(b1["banner"].size() == 1);
  CHECK(b1["banner"][0]["incident_id"] == fall);
  CHECK(b1["banner"][0]["kind"] == "fall");
  CHECK(b1["banner"][0]["elder_name"] == "李德明");
  CHECK(b1["banner"][0]["realert"] == false);
  CHECK(b1["chimes"].get<int>() == chimes + 1);
  CHECK(b1["flashing"] == fall);

  // J opened it, A acknowledged it; now an SOS from the same home joins it.
  json b2 = await_dump(dir, *console, "b2.json");
  CHECK(b2["selected"] == fall);
  REQUIRE(b2["incidents"].size() == 4);
  CHECK(b2["incidents"][3]["id"] == fall);  // acknowledged: below those still waiting
  CHECK(alarm("D3", "sos") == fall);
  go(dir, "go2");
  json b3 = await_dump(dir, *console, "b3.json");
  INFO(b3.dump(2));
  REQUIRE(b3["banner"].size() == 1);
  CHECK(b3["banner"][0]["incident_id"] == fall);
  CHECK(b3["banner"][0]["realert"] == true);
  CHECK(b3["chimes"].get<int>() == b1["chimes"].get<int>() + 1);
  // Back in front: ranked with those waiting for an operator, by its score, ahead of
  // the water leak and the open door.
  REQUIRE(b3["incidents"].size() == 4);
  const bool in_front = b3["incidents"][0]["id"] == fall || b3["incidents"][1]["id"] == fall;
  CHECK(in_front);
  for (const auto& i : b3["incidents"])
    if (i["id"] == fall) CHECK(i["unseen_alert_ms"].get<long long>() > 0);

  // J, A: seen, on the server's record.
  json b4 = await_dump(dir, *console, "b4.json");
  auto status = console->wait(std::chrono::seconds(30));
  INFO(test::read_file(dir.file("console.log")));
  REQUIRE(status == 0);
  CHECK(b4["banner"].empty());
  CHECK(sql_text(db, "SELECT actor FROM incident_events WHERE kind='alert_seen' AND incident_id=" +
                         std::to_string(fall)) == "王芳");
  for (const char* png : {"console-banner.png", "console-realert.png"}) test::check_screenshot(artifact(png));
}

TEST_CASE("the views issue 14 changed, by keys, in both languages at both sizes", "[console]") {
  test::Centre centre;
  test::add_small_accounts(centre.db());  // wangfang / correct horse
  centre.restart();
  std::filesystem::create_directories(ANXIN_ARTIFACTS);
  auto nurse = centre.client("field", "tok-w1");
  auto volunteer = centre.client("field", "tok-w2");
  report_position(*nurse, 34.8311, 115.5411, "p1");
  report_position(*volunteer, 34.8330, 115.5440, "p2");
  auto device = centre.client("device", "tok-acme");
  long long seq = 0;
  device->send(test::alarm_frame("D2", ++seq, "smoke"));
  REQUIRE(test::next_json(*device)["type"] == "ack");
  auto watcher = centre.client("console", "tok-console");

  for (const std::string lang : {"zh", "en"})
    for (const std::string screen : {"1440x900", "1920x1080"}) {
      const std::string tag = lang + "-" + screen;
      INFO(tag);
      test::TempDir dir;
      auto shot = [&](const std::string& name) { return artifact("issue14-" + name + "-" + tag + ".png"); };
      // Signs in by keys: a wrong password first, then the right one from where the cursor stays.
      const std::string script = write_script(dir, "frames 3\nlang " + lang + R"(
type wangfang
key Tab
type wrong
key Enter
wait-state /login_error == E_AUTH_FAILED
frames 3
screenshot )" + shot("login-refused") + R"(
type correct horse
key Enter
wait-sync 1
key Down
key Enter
wait-state /view == 1
wait-state /candidates >= 2
key K
wait-state /pickers/call == true
screenshot )" + shot("call-picker") + R"(
key Escape
wait-state /pickers/call == false
key S
wait-state /pickers/candidate == true
screenshot )" + shot("candidate-picker") + R"(
key Escape
wait-state /pickers/candidate == false
key R
key 2
key Tab
type 电话确认平安
screenshot )" + shot("resolve") + R"(
key Escape
wait-state /pickers/resolve == false
key F3
key +
key Left
frames 3
screenshot )" + shot("map") + R"(
key F1
dump )" + dir.file("ready.json") + R"(
wait-file )" + dir.file("go") + R"(
wait-state /banner >= 1
frames 3
screenshot )" + shot("banner") + R"(
)");
      auto console = start_console(dir, {"--port", std::to_string(centre.port()), "--autotest-script", script,
                                         "--autotest-timeout-ms", "60000"},
                                   screen);
      json ready = await_dump(dir, *console, "ready.json");
      CHECK(ready["map"]["px_per_deg"].get<double>() > 0);
      // A new SOS at 李德明's, behind the smoke: the banner names it.
      device->send(test::alarm_frame("D3", ++seq, "sos"));
      const long long sos = test::next_of_type(*device, "ack")["incident_id"];
      go(dir, "go");
      auto status = console->wait(std::chrono::seconds(60));
      INFO(test::read_file(dir.file("console.log")));
      REQUIRE(status == 0);
      const bool wide = screen == "1920x1080";
      for (const char* name : {"login-refused", "call-picker", "candidate-picker", "resolve", "map", "banner"})
        test::check_screenshot(shot(name), wide ? 1920 : 1440, wide ? 1080 : 900);
      // Resolved again, so the next run's SOS is new.
      watcher->send(json{{"type", "resolve_incident"}, {"incident_id", sos}, {"disposition", "false_alarm"},
                         {"req", "r" + std::to_string(seq)}}
                        .dump());
      json ok = test::next_of_type(*watcher, "ok");
      REQUIRE(ok["req"] == "r" + std::to_string(seq));
    }
}
