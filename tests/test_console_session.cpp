// The real console under Xvfb against a real server, driven by a script through
// its autotest mode: an operator signs in, works an incident from alarm to
// resolution by keys and buttons while a field worker (this test) accepts and
// arrives, looks at every view, exports the dashboard, and switches language.
// The test checks the console's replicated state at each stage (its state
// dumps), the server's own state, and that every screenshot is a real frame.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

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

// The console in a 1440x900 Xvfb screen, its settings in `config` (never the user's).

}  // namespace

TEST_CASE("an operator works an incident from alarm to resolution in every view", "[console]") {
  test::Centre centre;
  test::add_small_accounts(centre.db());  // wangfang / correct horse, operator 王芳
  centre.restart();
  test::TempDir dir;
  std::filesystem::create_directories(ANXIN_ARTIFACTS);
  const std::string csv = artifact("console-dashboard.csv");
  std::filesystem::remove(csv);

  // The nurse is next door to elder 1 with a fresh position, so she is the best candidate.
  auto nurse = centre.client("field", "tok-w1");
  nurse->send(json{{"type", "position"}, {"lat", 34.8311}, {"lon", 115.5411}, {"accuracy_m", 8},
                   {"at_ms", now_ms()}, {"req", "p1"}}
                  .dump());
  REQUIRE(test::next_of_type(*nurse, "ok")["req"] == "p1");
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D1", 1, "sos"));
  const long long incident = test::next_json(*device)["incident_id"];

  const std::string script = write_script(dir, R"(# signs in through the login screen's path
screenshot )" + artifact("console-login.png") + R"(
login wangfang correct horse
wait-sync 1
dump )" + dir.file("synced.json") + R"(
# the test raises a second, lesser alarm now: it arrives as a delta
wait-state /incidents >= 2
select-top
view queue
screenshot )" + artifact("console-queue.png") + R"(
key Enter
wait-state /view == 1
key A
wait-state /selected_incident/state == acknowledged
callback no_answer
wait-state /selected_incident/proposed_worker_id == 1
wait-state /selected_incident/calls >= 1
wait-state /elder_detail/devices == 2
wait-state /candidates >= 1
dump )" + dir.file("acknowledged.json") + R"(
key D
wait-state /selected_incident/assignments >= 1
call ambulance_120
call-result answered
note 邻居说老人在家，门锁着
# the nurse (this test) accepts and arrives
wait-state /selected_incident/assignments/0/state == on_scene
dump )" + dir.file("on_scene.json") + R"(
screenshot )" + artifact("console-incident.png") + R"(
view map
wait-state /map_homes == 2
screenshot )" + artifact("console-map.png") + R"(
view workers
screenshot )" + artifact("console-workers.png") + R"(
view dashboard
wait-state /metrics != null
screenshot )" + artifact("console-dashboard.png") + R"(
export )" + csv + R"(
view incident
key R
key 3
screenshot )" + artifact("console-resolve.png") + R"(
key Enter
# the nurse on scene is stood down by the resolve: the picker says so and asks again
wait-state /resolve_confirm == true
screenshot )" + artifact("console-resolve-confirm.png") + R"(
key Enter
# the workspace moves on to the next incident: the top of the queue (nothing else is mine)
wait-state /selected_incident/elder_name == 李德明
dump )" + dir.file("resolved.json") + R"(
# the test raises a smoke alarm at 张桂英's now: a new top-priority incident
wait-state /flashing != null
view queue
screenshot )" + artifact("console-flash.png") + R"(
lang en
view queue
select-top
screenshot )" + artifact("console-queue-en.png") + R"(
view incident
screenshot )" + artifact("console-incident-en.png") + R"(
key Escape
wait-state /view == 0
)");
  auto console = start_console(dir, {"--port", std::to_string(centre.port()), "--autotest-script", script,
                                     "--autotest-timeout-ms", "60000"});

  // Once the console holds the first incident, a second alarm opens another.
  if (!test::eventually([&] { return std::filesystem::exists(dir.file("synced.json")); }, std::chrono::seconds(30)))
    FAIL(test::read_file(dir.file("console.log")));
  device->send(test::alarm_frame("D4", 1, "inactivity"));
  REQUIRE(test::next_json(*device)["type"] == "ack");

  // The nurse is offered the incident, accepts it and arrives. If the console
  // gives up first, its log says why.
  json offer;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(40); offer.is_null();) {
    if (console->wait(std::chrono::milliseconds(0)) || std::chrono::steady_clock::now() > until)
      FAIL(test::read_file(dir.file("console.log")));
    if (auto frame = nurse->next(std::chrono::milliseconds(200)))
      if (json j = json::parse(*frame); j["type"] == "task") offer = j;
  }
  REQUIRE(offer["event"] == "offer");
  CHECK(offer["incident"]["id"] == incident);
  const long long assignment = offer["assignment"]["id"];
  nurse->send(json{{"type", "accept"}, {"assignment_id", assignment}, {"req", "f1"}}.dump());
  REQUIRE(test::next_of_type(*nurse, "ok")["req"] == "f1");
  nurse->send(json{{"type", "on_scene"}, {"assignment_id", assignment}, {"req", "f2"}}.dump());
  REQUIRE(test::next_of_type(*nurse, "ok")["req"] == "f2");

  // After the resolution, a smoke alarm opens a new incident above everything.
  if (!test::eventually([&] { return std::filesystem::exists(dir.file("resolved.json")); }, std::chrono::seconds(40)))
    FAIL(test::read_file(dir.file("console.log")));
  device->send(test::alarm_frame("D2", 1, "smoke"));
  REQUIRE(test::next_json(*device)["type"] == "ack");

  auto status = console->wait(std::chrono::seconds(90));
  INFO(test::read_file(dir.file("console.log")));
  REQUIRE(status == 0);

  // What the console saw at each stage.
  json synced = read_json(dir.file("synced.json"));
  CHECK(synced["operator"] == "王芳");
  CHECK(synced["live"] == true);
  CHECK(synced["incidents"].size() == 1);
  CHECK(synced["workers"].size() == 2);

  json acked = read_json(dir.file("acknowledged.json"));
  INFO(acked.dump(2));
  CHECK(acked["selected"] == incident);  // select-top chose 张桂英's SOS over the inactivity alarm
  CHECK(acked["incidents"][1]["id"] == incident);  // once acknowledged it drops below the waiting one
  json& mine = acked["selected_incident"];
  CHECK(mine["elder_name"] == "张桂英");
  CHECK(mine["acknowledged_by"] == "王芳");
  CHECK(mine["callback"] == "no_answer");
  CHECK(mine["score"].get<int>() >= 80 + 25 + 20 + 10 + 40);  // sos, key, alone, 80+, no answer
  CHECK(mine["calls"][0]["kind"] == "family");  // no answer starts the family cascade
  CHECK(acked["candidates"][0]["name"] == "赵敏");

  json scene = read_json(dir.file("on_scene.json"));
  json& s = scene["selected_incident"];
  CHECK(s["assignments"][0]["worker_id"] == 1);
  CHECK(s["assignments"][0]["state"] == "on_scene");
  CHECK(s["calls"].size() >= 2);  // the cascade's first call and the 120
  CHECK(s["timeline"].get<int>() >= 8);
  bool nurse_on_scene = false;
  for (const auto& w : scene["workers"]) nurse_on_scene |= w["id"] == 1 && w["status"] == "on_scene";
  CHECK(nurse_on_scene);

  json resolved = read_json(dir.file("resolved.json"));
  REQUIRE(resolved["incidents"].size() == 1);
  CHECK(resolved["incidents"][0]["elder_name"] == "李德明");

  // The server agrees: the first incident archived as the key presses chose; the
  // inactivity alarm and the new smoke alarm open.
  auto watcher = centre.client("console", "tok-console");
  watcher->send(R"({"type":"subscribe"})");
  json snap = test::next_of_type(*watcher, "snapshot");
  REQUIRE(snap["incidents"].size() == 2);
  for (const auto& i : snap["incidents"]) CHECK(i["id"] != incident);
  const std::string id = std::to_string(incident);
  CHECK(sql_text(centre.db(), "SELECT disposition FROM closing_records WHERE incident_id=" + id) == "visitor_assisted");
  CHECK(sql_text(centre.db(), "SELECT actor FROM audit WHERE action='resolve' AND incident_id=" + id) ==
        "operator:王芳");
  CHECK(sql_text(centre.db(), "SELECT COUNT(*) FROM incident_events WHERE incident_id=" + id + " AND kind='note'") ==
        "1");

  // The dashboard's CSV, and the settings the console remembered (never a password).
  const std::string table = test::read_file(csv);
  CHECK(table.find("section,item,measure,value") != std::string::npos);
  CHECK(table.find("acknowledgement,within_60s,pct,") != std::string::npos);
  CHECK(table.find("queue,open,count,") != std::string::npos);
  const std::string conf = test::read_file(dir.file("config/anxin/console.conf"));
  CHECK(conf.find("lang=en") != std::string::npos);
  CHECK(conf.find("username=wangfang") != std::string::npos);
  CHECK(conf.find("correct horse") == std::string::npos);

  for (const char* png : {"console-login.png", "console-queue.png", "console-incident.png", "console-map.png",
                          "console-workers.png", "console-dashboard.png", "console-resolve.png",
                          "console-resolve-confirm.png", "console-flash.png",
                          "console-queue-en.png", "console-incident-en.png"})
    test::check_screenshot(artifact(png));
}

TEST_CASE("a console that loses its server comes back with everything", "[console]") {
  test::Centre centre;
  test::TempDir dir;
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D1", 1, "sos"));
  REQUIRE(test::next_json(*device)["type"] == "ack");

  const std::string script = write_script(dir, "wait-sync 1\nselect-top\ndump " + dir.file("before.json") +
                                                   "\nwait-state /incidents >= 2\nwait-state /live == true\n"
                                                   "wait-state /selected_incident/elder_name == 张桂英\n");
  auto console = start_console(dir, {"--port", std::to_string(centre.port()), "--token", "tok-console",
                                     "--autotest-script", script, "--dump-state", dir.file("after.json")});
  if (!test::eventually([&] { return std::filesystem::exists(dir.file("before.json")); }, std::chrono::seconds(30)))
    FAIL(test::read_file(dir.file("console.log")));

  // The server restarts (a new epoch); meanwhile another alarm arrives.
  device.reset();
  centre.restart();
  device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D4", 1, "fall"));
  REQUIRE(test::next_json(*device)["type"] == "ack");

  auto status = console->wait(std::chrono::seconds(60));
  INFO(test::read_file(dir.file("console.log")));
  REQUIRE(status == 0);
  json before = read_json(dir.file("before.json")), after = read_json(dir.file("after.json"));
  CHECK(before["incidents"].size() == 1);
  CHECK(after["incidents"].size() == 2);
  CHECK(after["epoch"] != before["epoch"]);
  CHECK(after["selected"] == before["selected"]);  // the operator's place survives the drop
}
