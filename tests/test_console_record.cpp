// The elder's care record, vital signs in words and candidates with their reasons on
// the real console under Xvfb, against a real server (issue 14, items 6-8): the
// workspace of a vital-signs alarm shows the readings in words ("心率 132 次/分"),
// the care record with the code masked and the photo; V reveals the code (audited on
// the server's file as the supervisor's); W opens the supervisor's form, where keys
// alone change the conditions (audited old -> new); the candidate rows stand in the
// server's order with their reasons, the unconnected worker last; the workers board
// shows phones. Screenshots of each in zh and en at 1440x900 and 1920x1080.
#include <sqlite3.h>
#include <stb_image.h>
#include <stb_image_write.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "anxin/core/protocol.hpp"
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

long long count(const std::string& db, const std::string& where) { return test::count_rows(db, where); }

// A small portrait-like picture (a face-coloured disc on blue), as PNG bytes.
std::string portrait_png() {
  constexpr int n = 64;
  std::vector<unsigned char> px(n * n * 3);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      const int dx = x - n / 2, dy = y - n / 2 + 4;
      const bool face = dx * dx + dy * dy < 20 * 20;
      unsigned char* p = &px[(y * n + x) * 3];
      p[0] = face ? 232 : 70, p[1] = face ? 190 : 110, p[2] = face ? 160 : 170;
    }
  std::string out;
  stbi_write_png_to_func([](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size);
  }, &out, n, n, 3, px.data(), n * 3);
  return out;
}

}  // namespace

TEST_CASE("the care record readings and candidates with reasons on the console by keys", "[console]") {
  test::TempDir home;
  const std::string db = home.file("centre.db");
  test::seed_small_registry(db);
  test::add_small_accounts(db);  // zhangmin / correct horse, supervisor 张敏
  {
    Store s(db);
    s.import_registry({}, {Device{"D5", 1, DeviceKind::vital_signs, "acme"}}, {});
    s.put_token("tok-sup", {Role::console, "supervisor:张敏"});
  }
  {  // the small registry's workers have no numbers: give them theirs
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    REQUIRE(sqlite3_exec(h, "UPDATE workers SET phone = '1350000000' || id", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(h);
  }
  test::Centre centre(false, {}, nullptr, db);
  std::filesystem::create_directories(ANXIN_ARTIFACTS);
  auto sup = centre.client("console", "tok-sup");
  json record = {{"conditions", {"高血压", "冠心病"}},
                 {"medications", {"氨氯地平 5mg 每日一次", "阿司匹林肠溶片 100mg 每日一次"}},
                 {"allergies", {"青霉素"}},
                 {"hospital", "曹县人民医院"},
                 {"entry", "钥匙盒在门左侧墙上"},
                 {"entry_code", "4821"},
                 {"hearing", "听力差，需大声慢说"},
                 {"dialect", "只讲曹县方言，语速慢"},
                 {"photo_base64", protocol::base64_encode(portrait_png())}};
  REQUIRE(ask(*sup, {{"type", "update_elder_record"}, {"elder_id", 1}, {"record", record}})["type"] == "ok");
  // Worker 2's phone page is connected, worker 1's (the nurse, nearer) is not.
  auto w2 = centre.client("field", "tok-w2");
  REQUIRE(ask(*w2, {{"type", "position"}, {"lat", 34.839}, {"lon", 115.549}, {"accuracy_m", 8}, {"at_ms", now_ms()}})
              ["type"] == "ok");
  auto device = centre.client("device", "tok-acme");
  long long seq = 0;

  for (const std::string lang : {"zh", "en"})
    for (const std::string screen : {"1440x900", "1920x1080"}) {
      const std::string tag = lang + "-" + screen;
      INFO(tag);
      test::TempDir dir;
      device->send(json{{"type", "alarm"}, {"device", "D5"}, {"seq", ++seq}, {"kind", "vital_abnormal"},
                        {"device_time_ms", now_ms()},
                        {"detail", {{"heart_rate", 132}, {"spo2", 91}, {"systolic", 165}, {"diastolic", 98}}}}
                       .dump());
      const long long incident = test::next_of_type(*device, "ack")["incident_id"];
      const long long revealed_before = count(db, "audit WHERE action = 'entry_revealed'");
      auto shot = [&](const std::string& name) { return artifact("record-" + name + "-" + tag + ".png"); };
      const std::string conditions = lang == "zh" ? "高血压、冠心病、糖尿病" : "高血压, 冠心病, 糖尿病";
      std::ofstream(dir.file("script.txt")) << "frames 3\nlang " << lang << R"(
login zhangmin correct horse
wait-sync 1
select )" << incident << R"(
view incident
wait-state /elder_detail/record/has_photo == true
wait-state /candidates >= 2
frames 4
screenshot )" << shot("workspace") << R"(
dump )" << dir.file("workspace.json") << R"(
key V
wait-state /revealed/shown == true
frames 2
screenshot )" << shot("revealed") << R"(
dump )" << dir.file("revealed.json") << R"(
key W
wait-state /record_form/open == true
type )" << conditions << R"(
frames 2
screenshot )" << shot("form") << R"(
key Ctrl+Enter
wait-state /update_record/status == ok
wait-state /record_form/open == false
wait-state /elder_detail/record/conditions == 3
frames 2
dump )" << dir.file("saved.json") << R"(
view workers
key Down
wait-state /workers_row == 1
frames 3
screenshot )" << shot("workers") << R"(
dump )" << dir.file("workers.json") << R"(
)";
      auto console = start_console(dir, {"--port", std::to_string(centre.port()), "--autotest-script",
                                         dir.file("script.txt"), "--autotest-timeout-ms", "60000"},
                                   screen);
      auto status = console->wait(std::chrono::seconds(90));
      INFO(test::read_file(dir.file("console.log")));
      REQUIRE(status == 0);

      json ws = json::parse(test::read_file(dir.file("workspace.json")));
      // The readings in words and units, never JSON.
      const std::string readings = ws["readings"];
      if (lang == "zh") {
        CHECK(readings.find("心率 132 次/分") != std::string::npos);
        CHECK(readings.find("血氧 91%") != std::string::npos);
        CHECK(readings.find("血压 165/98 mmHg") != std::string::npos);
      } else {
        CHECK(readings.find("heart rate 132/min") != std::string::npos);
        CHECK(readings.find("SpO2 91%") != std::string::npos);
        CHECK(readings.find("blood pressure 165/98 mmHg") != std::string::npos);
      }
      CHECK(readings.find('{') == std::string::npos);
      // The record, its code masked.
      CHECK(ws["elder_detail"]["record"]["hospital"] == "曹县人民医院");
      CHECK(ws["elder_detail"]["record"]["has_entry_code"] == true);
      CHECK(ws["elder_detail"]["record"]["entry_code"] == "");
      CHECK(ws["elder_detail"]["record"]["photo_bytes"].get<int>() > 0);
      CHECK(ws["revealed"] == nullptr);
      // Candidates in the server's order: the connected volunteer first, the nurse last.
      REQUIRE(ws["candidates"].size() == 2);
      CHECK(ws["candidates"][0]["worker_id"] == 2);
      CHECK(ws["candidates"][0]["connected"] == true);
      CHECK(ws["candidates"][0]["reasons"][0] == "other_role");
      CHECK(ws["candidates"][1]["worker_id"] == 1);
      CHECK(ws["candidates"][1]["connected"] == false);
      CHECK(ws["candidates"][1]["reasons"][0] == "not_connected");
      // V: the code, and on the server's file who asked, for which incident.
      json rv = json::parse(test::read_file(dir.file("revealed.json")));
      CHECK(rv["revealed"]["code"] == "4821");
      CHECK(count(db, "audit WHERE action = 'entry_revealed'") == revealed_before + 1);
      CHECK(sql_text(db, "SELECT actor FROM audit WHERE action = 'entry_revealed' ORDER BY id DESC LIMIT 1") ==
            "supervisor:张敏");
      CHECK(sql_text(db, "SELECT incident_id FROM audit WHERE action = 'entry_revealed' ORDER BY id DESC LIMIT 1") ==
            std::to_string(incident));
      // W, typed, Ctrl+Enter: the conditions changed on the file, audited old -> new.
      json saved = json::parse(test::read_file(dir.file("saved.json")));
      CHECK(saved["elder_detail"]["record"]["conditions"] == json({"高血压", "冠心病", "糖尿病"}));
      CHECK(sql_text(db, "SELECT conditions FROM elder_care WHERE elder_id = 1") == R"(["高血压","冠心病","糖尿病"])");
      const json change =
          json::parse(sql_text(db, "SELECT detail FROM audit WHERE action = 'elder_record_updated' ORDER BY id DESC LIMIT 1"));
      CHECK(change["changes"]["conditions"]["new"] == json({"高血压", "冠心病", "糖尿病"}));
      CHECK_FALSE(change["changes"].contains("entry_code"));  // untouched: the code stays
      CHECK(sql_text(db, "SELECT entry_code FROM elder_care WHERE elder_id = 1") == "4821");
      // The workers board: each worker's phone.
      json wk = json::parse(test::read_file(dir.file("workers.json")));
      for (const auto& w : wk["workers"]) CHECK_FALSE(w["phone"].get<std::string>().empty());
      CHECK(wk["workers_row"] == 1);  // ↓ chose the second row, for B and Enter
      const int w = screen == "1440x900" ? 1440 : 1920, h = screen == "1440x900" ? 900 : 1080;
      for (const char* name : {"workspace", "revealed", "form", "workers"}) test::check_screenshot(shot(name), w, h);

      // Back as it was for the next run.
      REQUIRE(ask(*sup, {{"type", "update_elder_record"}, {"elder_id", 1}, {"record", {{"conditions", {"高血压", "冠心病"}}}}})
                  ["type"] == "ok");
      REQUIRE(ask(*sup, {{"type", "resolve_incident"}, {"incident_id", incident}, {"disposition", "false_alarm"}})
                  ["type"] == "ok");
    }
}
