// Manual incidents and history on the real console under Xvfb, against a real
// server (issue 14, items 3 and 4), by key presses alone: M opens the form, the
// elder is found and chosen, the kind and source picked, the report typed, Enter
// opens the incident and the workspace shows it; F7 searches the history, Enter
// opens a record (with its field report), O reopens it with a reason after a
// confirming Enter. Checked on the server's file after each part, and screenshots
// of the form, the workspace, the history and the record in zh and en at 1440x900
// and 1920x1080.
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
using test::now_ms;
using test::ask;

namespace {

// A real frame of the screen's size: not blank (more than 20 colours).
}  // namespace

TEST_CASE("an incident opened by hand and the history searched and reopened by keys", "[console]") {
  test::Centre centre;
  test::add_small_accounts(centre.db());  // wangfang / correct horse, operator 王芳
  centre.restart();
  std::filesystem::create_directories(ANXIN_ARTIFACTS);
  const std::string& db = centre.db();
  auto watcher = centre.client("console", "tok-console");
  auto nurse = centre.client("field", "tok-w1");
  auto device = centre.client("device", "tok-acme");
  REQUIRE(ask(*nurse, {{"type", "position"}, {"lat", 34.8311}, {"lon", 115.5411}, {"accuracy_m", 8}, {"at_ms", now_ms()}})
              ["type"] == "ok");
  long long seq = 0;

  // 张桂英's SOS, worked and resolved with the nurse's field report: what the history finds.
  auto resolved_with_report = [&] {
    device->send(test::alarm_frame("D1", ++seq, "sos"));
    const long long id = test::next_of_type(*device, "ack")["incident_id"];
    REQUIRE(ask(*watcher, {{"type", "ack_incident"}, {"incident_id", id}})["type"] == "ok");
    REQUIRE(ask(*watcher, {{"type", "dispatch"}, {"incident_id", id}, {"worker_id", 1}})["type"] == "ok");
    const long long a = test::next_of_type(*nurse, "task")["assignment"]["id"];
    REQUIRE(ask(*nurse, {{"type", "accept"}, {"assignment_id", a}})["type"] == "ok");
    REQUIRE(ask(*nurse, {{"type", "on_scene"}, {"assignment_id", a}})["type"] == "ok");
    json report = {{"areas", {"health", "home_safety", "emotional"}}, {"notes", "老人血压偏高，已陪同服药"},
                   {"hazards", "卫生间无扶手"}};
    REQUIRE(ask(*nurse, {{"type", "complete"}, {"assignment_id", a}, {"outcome", "已处理"}, {"report", report}})["type"] ==
            "ok");
    REQUIRE(ask(*watcher, {{"type", "resolve_incident"}, {"incident_id", id}, {"disposition", "visitor_assisted"}})
                ["type"] == "ok");
    return id;
  };

  bool first = true;
  for (const std::string lang : {"zh", "en"})
    for (const std::string screen : {"1440x900", "1920x1080"}) {
      const std::string tag = lang + "-" + screen;
      INFO(tag);
      test::TempDir dir;
      const long long past = resolved_with_report();
      auto shot = [&](const std::string& name) { return artifact("manual-" + name + "-" + tag + ".png"); };
      std::ofstream(dir.file("script.txt")) << "frames 3\nlang " << lang << R"(
login wangfang correct horse
wait-sync 0
view queue
key M
wait-state /manual_form/open == true
type 李德明
key Enter
wait-state /manual_form/found == 1
key Down
key Enter
wait-state /manual_form/elder_id == 2
key Right
key 2
key T
type 邻居来报：老人在院子里摔倒，能说话
key Enter
frames 2
screenshot )" << shot("form") << R"(
dump )" << dir.file("form.json") << R"(
key Enter
wait-state /manual_opened/acknowledged == true
wait-state /view == 1
wait-state /selected_incident/elder_id == 2
wait-state /selected_incident/state == acknowledged
frames 3
screenshot )" << shot("opened") << R"(
dump )" << dir.file("opened.json") << R"(
key F7
wait-state /view == 6
wait-state /history/total >= 1
wait-state /history/fresh == true
frames 2
screenshot )" << shot("history") << R"(
key Enter
wait-state /record/id == )" << past << R"(
frames 3
screenshot )" << shot("record") << R"(
key O
wait-state /history_ui/reopen_open == true
type 家属来电：老人又头晕
key Enter
wait-state /history_ui/reopen_confirm == true
frames 2
screenshot )" << shot("reopen-confirm") << R"(
key Enter
wait-state /reopen/status == ok
wait-state /view == 1
wait-state /selected == )" << past << R"(
wait-state /selected_incident/state == acknowledged
frames 3
screenshot )" << shot("reopened") << R"(
dump )" << dir.file("reopened.json") << R"(
)";
      auto console = start_console(dir, {"--port", std::to_string(centre.port()), "--autotest-script",
                                         dir.file("script.txt"), "--autotest-timeout-ms", "60000"},
                                   screen);
      auto status = console->wait(std::chrono::seconds(90));
      INFO(test::read_file(dir.file("console.log")));
      REQUIRE(status == 0);

      json form = json::parse(test::read_file(dir.file("form.json")));
      CHECK(form["manual_form"]["kind"] == "fall");
      CHECK(form["manual_form"]["source"] == "walk_in");
      json opened = json::parse(test::read_file(dir.file("opened.json")));
      const long long manual = opened["manual_opened"]["incident_id"];
      CHECK(opened["selected"] == manual);
      CHECK(opened["selected_incident"]["lead_kind"] == "fall");
      CHECK(opened["selected_incident"]["acknowledged_by"] == "王芳");
      // The server's file: the desk's alert with what was typed, in 王芳's hands.
      const std::string m = std::to_string(manual);
      CHECK(sql_text(db, "SELECT device_id FROM alerts WHERE incident_id=" + m) == "DESK-2");
      json detail = json::parse(sql_text(db, "SELECT detail FROM alerts WHERE incident_id=" + m));
      CHECK(detail["source"] == "walk_in");
      CHECK(detail["text"] == "邻居来报：老人在院子里摔倒，能说话");
      CHECK(sql_text(db, "SELECT acknowledged_by FROM incidents WHERE id=" + m) == "王芳");
      CHECK(sql_text(db, "SELECT actor FROM audit WHERE action='incident_opened_manually' AND incident_id=" + m) ==
            "operator:王芳");
      // The reopened one: back in 王芳's hands with the typed reason.
      json reopened = json::parse(test::read_file(dir.file("reopened.json")));
      CHECK(reopened["record"] == nullptr);
      const std::string p = std::to_string(past);
      CHECK(sql_text(db, "SELECT state FROM incidents WHERE id=" + p) == "acknowledged");
      CHECK(sql_text(db, "SELECT text FROM incident_events WHERE kind='reopened' AND incident_id=" + p) ==
            "家属来电：老人又头晕");
      CHECK(sql_text(db, "SELECT actor FROM audit WHERE action='incident_reopened' AND incident_id=" + p) ==
            "operator:王芳");
      if (first) {
        CHECK(opened["history"] == nullptr);  // nothing asked for before F7
        first = false;
      }
      const int w = screen == "1440x900" ? 1440 : 1920, h = screen == "1440x900" ? 900 : 1080;
      for (const char* name : {"form", "opened", "history", "record", "reopen-confirm", "reopened"})
        test::check_screenshot(shot(name), w, h);

      // Both resolved, so the next run starts as this one did.
      for (long long id : {manual, past})
        REQUIRE(ask(*watcher, {{"type", "resolve_incident"}, {"incident_id", id}, {"disposition", "false_alarm"}})
                    ["type"] == "ok");
    }
}
