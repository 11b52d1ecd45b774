// Presence and handover on the real console under Xvfb, against a real server (issue
// 14, items 4, 5 and 8): two consoles, one hands its incidents over and the other
// accepts with F9; a supervisor console takes one over and reassigns it, an operator's
// console is refused; the server's file is checked after each part. Then the views
// this work changed, in zh and en at 1440x900 and 1920x1080: the mine strip, the
// compact queue's filter line, the resolve picker's stand-downs, the dashboard's
// escalations, the Team view, the handover banner and the sign-out question.
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
using test::sql_text;
using test::ask;

namespace {

std::string holder(const std::string& db, long long id) {
  return sql_text(db, "SELECT acknowledged_by FROM incidents WHERE id=" + std::to_string(id));
}

long long raise_incident(test::Centre& c, const std::string& device) {
  auto d = c.client("device", "tok-acme");
  d->send(test::alarm_frame(device, 1, "sos"));
  json ack = test::next_json(*d);
  REQUIRE(ack["type"] == "ack");
  return ack["incident_id"];
}

// A third elder (王秀兰, with the SOS button D5), so three incidents can be open at once,
// and console tokens for the second operator and the supervisor.
void seed_team(const std::string& db) {
  Store store(db);
  Elder e;
  e.id = 3; e.name = "王秀兰"; e.sex = Sex::female; e.birth_date = "1940-11-20"; e.phone = "13800000003";
  e.id_number = "372922194011201111"; e.town = "曹城街道"; e.community = "西关社区";
  e.address = "曹城街道西关社区5号"; e.lat = 34.829; e.lon = 115.535;
  e.contacts = {{"王小军", "儿子", "13900000031"}};
  store.import_registry({e}, {{"D5", 3, DeviceKind::sos_button, "acme", 95, 0}}, {});
  store.put_token("tok-li", {Role::console, "operator:李强"});
  store.put_token("tok-zhang", {Role::console, "supervisor:张敏"});
}

}  // namespace

TEST_CASE("two consoles hand over and a supervisor console takes over and reassigns", "[console][handover]") {
  test::Centre centre;
  seed_team(centre.db());
  centre.restart();
  std::filesystem::create_directories(ANXIN_ARTIFACTS);
  const long long a = raise_incident(centre, "D1"), b = raise_incident(centre, "D3");
  const std::string A = std::to_string(a), B = std::to_string(b);
  test::TempDir wang_dir, li_dir, zhang_dir;

  // 王芳 holds both, is asked before signing out with them, and hands them over.
  std::ofstream(wang_dir.file("script.txt")) << R"(wait-sync 2
select )" << A << R"(
acknowledge
select )" << B << R"(
acknowledge
wait-state /mine == 2
view queue
frames 3
screenshot )" << artifact("team-giver-mine.png") << R"(
logout
wait-state /logout_ask == true
frames 2
screenshot )" << artifact("team-giver-logout-ask.png") << R"(
key Escape
wait-state /logout_ask == false
view team
wait-state /presence/staff == 2
handover 李强 早班交接：张桂英家需回访，李德明已联系家属
wait-state /my_handover/to == 李强
frames 3
screenshot )" << artifact("team-giver-waiting.png") << R"(
wait-state /mine == 0
wait-state /my_handover == null
dump )" << wang_dir.file("after.json") << R"(
logout
frames 3
)";
  // 李强 sees the banner, accepts with F9, and later is refused a reassign.
  std::ofstream(li_dir.file("script.txt")) << R"(wait-sync 2
wait-state /handover/from == 王芳
frames 3
screenshot )" << artifact("team-taker-banner.png") << R"(
dump )" << li_dir.file("offered.json") << R"(
key F9
wait-state /mine == 2
wait-state /handover == null
view team
frames 3
screenshot )" << artifact("team-taker-team.png") << R"(
dump )" << li_dir.file("accepted.json") << R"(
wait-file )" << li_dir.file("go") << R"(
reassign )" << B << R"( 张敏
wait-state /reassign/status == refused
dump )" << li_dir.file("refused.json") << R"(
)";
  auto wang = start_console(wang_dir, {"--port", std::to_string(centre.port()), "--token", "tok-console",
                                       "--autotest-script", wang_dir.file("script.txt"), "--autotest-timeout-ms",
                                       "90000"});
  // One Xvfb at a time comes up, so the two pick different displays.
  REQUIRE(test::eventually([&] { return holder(centre.db(), b) == "王芳"; }, std::chrono::seconds(40)));
  auto li = start_console(li_dir, {"--port", std::to_string(centre.port()), "--token", "tok-li", "--autotest-script",
                                   li_dir.file("script.txt"), "--autotest-timeout-ms", "90000"});

  auto wang_status = wang->wait(std::chrono::seconds(90));
  INFO(test::read_file(wang_dir.file("console.log")));
  INFO(test::read_file(li_dir.file("console.log")));
  REQUIRE(wang_status == 0);
  // The handover in the file: accepted, with its notes, both incidents in 李强's hands.
  CHECK(holder(centre.db(), a) == "李强");
  CHECK(holder(centre.db(), b) == "李强");
  CHECK(sql_text(centre.db(), "SELECT state || '|' || from_name || '|' || to_name || '|' || notes FROM handovers") ==
        "accepted|王芳|李强|早班交接：张桂英家需回访，李德明已联系家属");
  CHECK(sql_text(centre.db(), "SELECT COUNT(*) FROM audit WHERE action='handed_over' AND actor='operator:李强'") == "2");
  json after = json::parse(test::read_file(wang_dir.file("after.json")));
  CHECK(after["presence"]["handovers"][0]["state"] == "accepted");
  CHECK(after["mine"].empty());
  json offered = json::parse(test::read_file(li_dir.file("offered.json")));
  CHECK(offered["handover"]["notes"] == "早班交接：张桂英家需回访，李德明已联系家属");
  CHECK(offered["handover"]["incidents"] == json::array({a, b}));

  // The supervisor takes one over, then reassigns it back to 李强.
  std::ofstream(zhang_dir.file("script.txt")) << R"(wait-sync 2
view team
wait-state /presence/staff == 2
take-over )" << A << R"(
wait-state /take_over/status == ok
wait-state /mine == 1
frames 3
screenshot )" << artifact("team-supervisor-took.png") << R"(
dump )" << zhang_dir.file("took.json") << R"(
reassign )" << A << R"( 李强
wait-state /reassign/status == ok
wait-state /mine == 0
frames 3
screenshot )" << artifact("team-supervisor-reassigned.png") << R"(
)";
  auto zhang = start_console(zhang_dir, {"--port", std::to_string(centre.port()), "--token", "tok-zhang",
                                         "--autotest-script", zhang_dir.file("script.txt"), "--autotest-timeout-ms",
                                         "60000"});
  auto zhang_status = zhang->wait(std::chrono::seconds(70));
  INFO(test::read_file(zhang_dir.file("console.log")));
  REQUIRE(zhang_status == 0);
  CHECK(holder(centre.db(), a) == "李强");
  CHECK(sql_text(centre.db(), "SELECT actor FROM audit WHERE action='taken_over' AND incident_id=" + A) ==
        "supervisor:张敏");
  CHECK(sql_text(centre.db(), "SELECT actor FROM audit WHERE action='reassigned' AND incident_id=" + A) ==
        "supervisor:张敏");
  CHECK(sql_text(centre.db(), "SELECT COUNT(*) FROM incident_events WHERE kind='handed_over' AND incident_id=" + A) ==
        "3");
  json took = json::parse(test::read_file(zhang_dir.file("took.json")));
  CHECK(took["mine"] == json::array({a}));

  // An operator's console is refused, and nothing moves.
  std::ofstream(li_dir.file("go")) << "go";
  auto li_status = li->wait(std::chrono::seconds(60));
  REQUIRE(li_status == 0);
  json refused = json::parse(test::read_file(li_dir.file("refused.json")));
  CHECK(refused["reassign"]["error"].get<std::string>().rfind("E_FORBIDDEN", 0) == 0);
  CHECK(holder(centre.db(), b) == "李强");

  for (const char* png : {"team-giver-mine.png", "team-giver-logout-ask.png", "team-giver-waiting.png",
                          "team-taker-banner.png", "team-taker-team.png", "team-supervisor-took.png",
                          "team-supervisor-reassigned.png"})
    test::check_screenshot(artifact(png));
}

namespace {

// One run of the changed views for a language and a screen, on a fresh centre: the
// supervisor 张敏 holds 张桂英's SOS (its family call still to be answered), 李强 holds
// 李德明's and hands it to 张敏, who declines with F10; 王秀兰's waits and escalates.
void views_in(const std::string& lang, const std::string& screen) {
  const std::string tag = lang + "-" + screen;
  INFO(tag);
  gateway::ServerOptions o;
  o.config.ack_escalation_ms = 1000;
  o.config.ack_escalation_long_ms = 2000;
  test::Centre centre(true, o);
  seed_team(centre.db());
  centre.restart();
  std::filesystem::create_directories(ANXIN_ARTIFACTS);
  auto zhang = centre.client("console", "tok-zhang");
  auto li = centre.client("console", "tok-li");
  const long long mine = raise_incident(centre, "D1"), his = raise_incident(centre, "D3");
  raise_incident(centre, "D5");
  REQUIRE(ask(*zhang, {{"type", "ack_incident"}, {"incident_id", mine}})["type"] == "ok");
  REQUIRE(ask(*zhang, {{"type", "callback"}, {"incident_id", mine}, {"outcome", "no_answer"}})["type"] == "ok");
  REQUIRE(ask(*li, {{"type", "ack_incident"}, {"incident_id", his}})["type"] == "ok");
  zhang.reset();  // the console signs in with the same token

  test::TempDir dir;
  auto shot = [&](const std::string& name) { return artifact("team-" + name + "-" + tag + ".png"); };
  std::ofstream(dir.file("script.txt")) << "frames 3\nlang " << lang << R"(
wait-sync 3
wait-state /mine == 1
wait-state /presence/staff == 2
view queue
frames 3
screenshot )" << shot("queue-mine") << R"(
select )" << mine << R"(
key /
type 张
frames 2
view incident
frames 3
screenshot )" << shot("filter") << R"(
key R
key 1
key Enter
wait-state /resolve_confirm == true
frames 2
screenshot )" << shot("resolve-confirm") << R"(
key Escape
wait-state /resolve_confirm == false
view dashboard
frames 3
screenshot )" << shot("dashboard") << R"(
view team
frames 3
screenshot )" << shot("view") << R"(
dump )" << dir.file("ready.json") << R"(
wait-state /handover/from == 李强
frames 3
screenshot )" << shot("banner") << R"(
key F10
wait-state /handover == null
wait-state /presence/handovers/0/state == declined
logout
wait-state /logout_ask == true
frames 2
screenshot )" << shot("logout") << R"(
key Escape
wait-state /logout_ask == false
)";
  auto console = start_console(dir, {"--port", std::to_string(centre.port()), "--token", "tok-zhang",
                                     "--autotest-script", dir.file("script.txt"), "--autotest-timeout-ms", "60000"},
                               screen);
  if (!test::eventually([&] { return std::filesystem::exists(dir.file("ready.json")); }, std::chrono::seconds(60)))
    FAIL(test::read_file(dir.file("console.log")));
  json handed = ask(*li, {{"type", "handover"}, {"to", "张敏"}, {"notes", "李德明：家属半小时后到，请跟进"}});
  REQUIRE(handed["type"] == "ok");
  auto status = console->wait(std::chrono::seconds(60));
  INFO(test::read_file(dir.file("console.log")));
  REQUIRE(status == 0);

  json ready = json::parse(test::read_file(dir.file("ready.json")));
  CHECK(ready["mine"] == json::array({mine}));
  // Declined: 李德明's stays with 李强; resolving was only asked, never sent.
  CHECK(holder(centre.db(), his) == "李强");
  CHECK(sql_text(centre.db(), "SELECT state FROM handovers WHERE id=" + std::to_string(handed["id"].get<long long>())) ==
        "declined");
  CHECK(sql_text(centre.db(), "SELECT state FROM incidents WHERE id=" + std::to_string(mine)) == "acknowledged");
  const int w = screen == "1440x900" ? 1440 : 1920, h = screen == "1440x900" ? 900 : 1080;
  for (const char* name : {"queue-mine", "filter", "resolve-confirm", "dashboard", "view", "banner", "logout"})
    test::check_screenshot(shot(name), w, h);
}

}  // namespace

TEST_CASE("the views of presence and handover in Chinese at both sizes", "[console][handover]") {
  for (const std::string screen : {"1440x900", "1920x1080"}) views_in("zh", screen);
}

TEST_CASE("the views of presence and handover in English at both sizes", "[console][handover]") {
  for (const std::string screen : {"1440x900", "1920x1080"}) views_in("en", screen);
}
