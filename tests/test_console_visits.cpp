// The phone-visit list (电话探访, docs/visits.md) in the real console under Xvfb against
// a real server: an operator records one elder reached and another three times not
// answering, by keys, as the autotest script drives it; the server stores the calls
// and the third unanswered call makes a visit at home due today for the elder's
// paired worker. The supervisor's visits tab shows the month's and week's rates and a
// campaign's progress, and exports the rates as CSV and XLSX into --export-dir.
// Screenshots go to the build's artifacts dir.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "anxin/core/protocol.hpp"
#include "console_support.hpp"
#include "process.hpp"
#include "screenshot.hpp"
#include "support.hpp"
#include "visit_board.hpp"

using namespace anxin;
using test::json;
using test::artifact;
using test::start_console;
using test::read_json;

namespace {

long long sql_count(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_stmt* s = nullptr;
  long long n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

Elder elder(ElderId id, const char* name, Sex sex, const char* born, const char* town, const char* community,
            double lat, double lon) {
  Elder e;
  e.id = id, e.name = name, e.sex = sex, e.birth_date = born;
  e.phone = "1380000100" + std::to_string(id);
  e.id_number = "37292219400101" + std::to_string(1000 + id);
  e.town = town, e.community = community;
  e.address = std::string(town) + community + std::to_string(id) + "号";
  e.lat = lat, e.lon = lon;
  e.living = LivingSituation::alone;
  e.paired_worker = 1;  // 赵敏 visits them all (结对帮扶)
  e.visit_consent = true;
  return e;
}

// Six elders of three towns, all paired to worker 1, each with a visit consent.
void seed_visit_district(const std::string& db) {
  Store store(db);
  std::vector<Elder> elders = {
      elder(1, "王秀英", Sex::female, "1941-05-12", "城关镇", "东街社区", 34.831, 115.541),
      elder(2, "陈国华", Sex::male, "1948-09-30", "城关镇", "西街社区", 34.833, 115.546),
      elder(3, "刘淑兰", Sex::female, "1952-02-17", "庄寨镇", "王庄村", 34.751, 115.401),
      elder(4, "张建军", Sex::male, "1955-11-08", "庄寨镇", "李庄村", 34.755, 115.409),
      elder(5, "周玉梅", Sex::female, "1946-07-21", "曹城街道", "东关社区", 34.836, 115.548),
      elder(6, "赵德厚", Sex::male, "1950-03-03", "曹城街道", "西关社区", 34.829, 115.552),
  };
  elders[0].ability = Ability::severe;  // the key group: first on the list
  store.import_registry(elders, {}, test::small_registry().workers);
  store.put_token("tok-console", {Role::console, "operator:王芳"});
  store.put_token("tok-supervisor", {Role::console, "supervisor:张敏"});
  store.put_token("tok-w1", {Role::field, "worker:1"});
}

}  // namespace

TEST_CASE("the console reads the visiting programme's replies once", "[console][visits]") {
  using namespace anxin::console;
  auto list = read_visits_reply(
      R"({"type":"visit_list","list":"phone","date":"2026-12-03","visits":[)"
      R"({"elder_id":12,"name":"王秀英","phone":"13800000012","tier":"key","plan":"1/week phone","mode":"phone",)"
      R"("state":"late","reason":"plan","tries":2},)"
      R"({"elder_id":12,"name":"王秀英","tier":"key","state":"due","reason":"campaign","campaign":"寒潮关爱"}]})");
  const auto* l = std::get_if<VisitList>(&list);
  REQUIRE(l);
  CHECK(l->list == "phone");
  REQUIRE(l->visits.size() == 2);
  CHECK(l->elders == 1);  // the plan's row and the campaign's are one elder
  CHECK(l->visits[0].tier == CareTier::key);
  CHECK(l->visits[0].tries == 2);
  CHECK(l->visits[1].campaign == "寒潮关爱");

  auto recorded = read_visits_reply(
      R"({"type":"visit_recorded","record_id":7,"elder_id":12,"outcome":"no_answer","tries":3,"home_visit_due":true})");
  REQUIRE(std::get_if<VisitRecorded>(&recorded));
  CHECK(std::get<VisitRecorded>(recorded).home_visit_due);

  auto file = read_visits_reply(json{{"type", "export"}, {"report", "rates"}, {"format", "csv"},
                                     {"name", "rates-2026-12-03.csv"}, {"rows", 2},
                                     {"content_base64", protocol::base64_encode("a,b\n")}}
                                    .dump());
  REQUIRE(std::get_if<ReportFile>(&file));
  CHECK(std::get<ReportFile>(file).content == "a,b\n");
  std::string error;
  CHECK(std::holds_alternative<std::monostate>(
      read_visits_reply(R"({"type":"export","content_base64":"not base64!"})", &error)));
  CHECK_FALSE(error.empty());
  CHECK(std::holds_alternative<VisitsChanged>(read_visits_reply(R"({"type":"visits_changed"})")));
  CHECK(std::holds_alternative<std::monostate>(read_visits_reply("[1,2]")));

  // A name from the server never leaves the export directory.
  CHECK(safe_file_name("../../etc/passwd") == "passwd");
  CHECK(safe_file_name("..") == "anxin-export");
  CHECK(safe_file_name("rates-2026-12-03.xlsx") == "rates-2026-12-03.xlsx");
}

TEST_CASE("an operator works the phone-visit list in the console", "[console][visits]") {
  test::TempDir dir;
  const std::string db = dir.file("visits.db");
  seed_visit_district(db);
  // A district that phones every elder every day: each has a plan visit on today's list
  // (late from earlier in the week, or due today on a Monday).
  gateway::ServerOptions options;
  const visits::TierRule daily_phone{{7, visits::Per::week}, VisitMode::phone};
  options.visits.key = options.visits.sub_key = options.visits.general = daily_phone;
  test::Centre centre(false, options, nullptr, db);
  std::filesystem::create_directories(ANXIN_ARTIFACTS);

  // A supervisor's cold-wave campaign for 城关镇: its elders are to be reached today too.
  auto supervisor = centre.client("console", "tok-supervisor");
  supervisor->send(json{{"type", "start_campaign"}, {"name", "寒潮关爱"}, {"reason", "weather"},
                        {"towns", {"城关镇"}}, {"reach_by_hour", 23}, {"req", "s1"}}
                       .dump());
  REQUIRE(test::next_of_type(*supervisor, "campaign")["req"] == "s1");

  const std::string exports = dir.file("exports");
  const std::string script = dir.file("script.txt");
  std::ofstream(script) << R"(wait-sync
view visits
wait-state /phone_visits/visits >= 6
wait-state /phone_visits/fresh == true
dump )" + dir.file("before.json") + R"(
# 王秀英 answers
select-visit 1
wait-state /visit_row == 1
key R
wait-state /visit_recorded/outcome == reached
# 刘淑兰 does not, three times
select-visit 3
wait-state /visit_row == 3
key N
wait-state /visit_recorded/tries == 1
key N
wait-state /visit_recorded/tries == 2
key N
wait-state /visit_recorded/home_visit_due == true
wait-state /phone_visits/fresh == true
wait-state /phone_visits/done >= 1
screenshot )" + artifact("console-visits.png") + R"(
dump )" + dir.file("after.json") + R"(
# the supervisor's figures
view dashboard
key 2
wait-state /dashboard_tab == 1
wait-state /visit_report/month != null
wait-state /visit_report/week != null
wait-state /campaigns >= 1
export-visits rates csv
export-visits rates xlsx
screenshot )" + artifact("console-visits-dashboard.png") + R"(
dump )" + dir.file("figures.json") + R"(
lang en
view visits
screenshot )" + artifact("console-visits-en.png") + R"(
)";
  auto console = start_console(dir, {"--port", std::to_string(centre.port()), "--token", "tok-console",
                                     "--export-dir", exports, "--autotest-script", script,
                                     "--autotest-timeout-ms", "60000"});
  auto status = console->wait(std::chrono::seconds(90));
  INFO(test::read_file(dir.file("console.log")));
  REQUIRE(status == 0);

  // What the console showed: every elder's plan visit, then the calls' effect.
  json before = read_json(dir.file("before.json"))["phone_visits"];
  INFO(before.dump(2));
  CHECK(before["visits"].size() >= 6);
  for (const auto& v : before["visits"]) {
    CHECK((v["state"] == "due" || v["state"] == "late"));
    CHECK(v["tries"] == 0);
  }
  json after = read_json(dir.file("after.json"));
  INFO(after.dump(2));
  CHECK(after["visit_recorded"]["elder_id"] == 3);
  CHECK(after["visit_recorded"]["tries"] == 3);
  bool first_done = false, third_tried = false, third_at_home = false;
  for (const auto& v : after["phone_visits"]["visits"]) {
    if (v["elder_id"] == 1) first_done = v["state"] == "done";
    if (v["elder_id"] == 3) third_tried |= v["tries"] == 3;
    third_at_home |= v["elder_id"] == 3 && v["reason"] == "phone_unreached";
  }
  CHECK(first_done);
  CHECK(third_tried);
  CHECK_FALSE(third_at_home);  // the visit at home is a field worker's, not on the phone list

  // The server stored the calls as the operator's...
  CHECK(sql_count(db, "SELECT COUNT(*) FROM visit_records WHERE elder_id=1 AND outcome='done' AND mode='phone'"
                      " AND actor='operator:王芳'") == 1);
  CHECK(sql_count(db, "SELECT COUNT(*) FROM visit_records WHERE elder_id=3 AND outcome='no_answer'"
                      " AND actor='operator:王芳'") == 3);
  CHECK(sql_count(db, "SELECT COUNT(*) FROM audit WHERE action='phone_visit'") == 4);
  // ...and 刘淑兰's paired worker now has a visit at home due today.
  auto worker = centre.client("field", "tok-w1");
  worker->send(R"({"type":"my_visits","req":"m1"})");
  json mine = test::next_of_type(*worker, "visit_list");
  INFO(mine.dump(2));
  bool home_due = false;
  for (const auto& v : mine["visits"])
    home_due |= v["elder_id"] == 3 && v["reason"] == "phone_unreached" && v["mode"] == "home" && v["state"] == "due";
  CHECK(home_due);
  // The centre's own list agrees with what the console showed.
  auto operator_ = centre.client("console", "tok-console");
  operator_->send(R"({"type":"phone_visits","req":"p1"})");
  json phone = test::next_of_type(*operator_, "visit_list");
  for (const auto& v : phone["visits"]) {
    if (v["elder_id"] == 1) CHECK(v["state"] == "done");
    if (v["elder_id"] == 3) CHECK(v["tries"] == 3);
  }

  // The supervisor's tab: this month's and week's rates count 王秀英 as visited, the
  // campaign has her reached of its two, and both exports landed in --export-dir.
  json figures = read_json(dir.file("figures.json"));
  INFO(figures.dump(2));
  json& month = figures["visit_report"]["month"];
  CHECK(month["elders"] == 6);
  CHECK(month["visited"] == 1);
  CHECK(figures["visit_report"]["week"]["visited"] == 1);
  CHECK(month["towns"] == 3);
  REQUIRE(figures["campaigns"].size() == 1);
  CHECK(figures["campaigns"][0]["name"] == "寒潮关爱");
  CHECK(figures["campaigns"][0]["chosen"] == 2);
  CHECK(figures["campaigns"][0]["reached"] == 1);
  json& exported = figures["visits_export"];
  CHECK(exported["format"] == "xlsx");
  CHECK(exported["ok"] == true);
  const std::string xlsx = exported["path"];
  CHECK(xlsx.rfind(std::filesystem::absolute(exports).string(), 0) == 0);
  CHECK(test::read_file(xlsx).substr(0, 2) == "PK");  // a zip, as XLSX files are
  bool csv_found = false;
  for (const auto& f : std::filesystem::directory_iterator(exports))
    if (f.path().extension() == ".csv") {
      csv_found = true;
      const std::string table = test::read_file(f.path().string());
      CHECK(table.find("城关镇") != std::string::npos);
      CHECK(table.find("庄寨镇") != std::string::npos);
    }
  CHECK(csv_found);

  for (const char* png : {"console-visits.png", "console-visits-dashboard.png", "console-visits-en.png"})
    test::check_screenshot(artifact(png));
}

namespace {

// GB 11643 check digit, for ID numbers the roster import accepts.
std::string with_check(const std::string& first17) {
  static const int w[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (first17[static_cast<size_t>(i)] - '0') * w[i];
  return first17 + "10X98765432"[sum % 11];
}

const std::string kRosterHeader = "编号,老人姓名,性别,出生日期,身份证号,能力评估结果,乡镇,村（居）,家庭地址,纬度,经度,"
                                  "是否同意入户探访,结对帮扶人\n";
std::string roster_row(const std::string& name, const std::string& id_number) {
  return "," + name + ",女,," + id_number + ",轻度失能,城关镇,东街社区,东街1号,34.8,115.54,是,赵敏\n";
}

}  // namespace

// The supervisor's part of the visits tab, signed in with a password: a campaign for
// the key group started from the form, a hazard found on a home visit closed with a
// note, the hazards exported, and a roster file with a bad row refused whole (the
// server's every-line message shown) before a good one adds its elder.
TEST_CASE("a supervisor runs a campaign and closes a hazard in the console", "[console][visits]") {
  test::TempDir dir;
  const std::string db = dir.file("visits.db");
  seed_visit_district(db);
  test::add_small_accounts(db);  // zhangmin / correct horse: supervisor 张敏
  test::Centre centre(false, {}, nullptr, db);
  centre.restart();  // the accounts are read at start
  std::filesystem::create_directories(ANXIN_ARTIFACTS);

  // 赵敏 visits 王秀英 (elder 1) at her door, for a minute, and finds a worn gas hose:
  // an open hazard, and a visit flagged too short.
  auto worker = centre.client("field", "tok-w1");
  worker->send(json{{"type", "start_visit"}, {"elder_id", 1}, {"lat", 34.831}, {"lon", 115.541}, {"req", "v1"}}.dump());
  json started = test::next_of_type(*worker, "visit_started");
  worker->send(json{{"type", "finish_visit"}, {"visit_id", started["visit_id"]}, {"lat", 34.831}, {"lon", 115.541},
                    {"hazards", {{{"area", "home_safety"}, {"text", "燃气软管老化"}}}}, {"req", "v2"}}
                   .dump());
  json finished = test::next_of_type(*worker, "visit_finished");
  REQUIRE(finished["hazard_ids"].size() == 1);

  // A roster file whose second row has a wrong check digit, then a good one.
  std::string bad_id = with_check("37172119500101012");
  bad_id.back() = bad_id.back() == '1' ? '2' : '1';
  const std::string bad_file = dir.file("roster-bad.csv"), good_file = dir.file("roster-good.csv");
  std::ofstream(bad_file) << kRosterHeader + roster_row("孙好人", with_check("37172119500101002")) +
                                 roster_row("孙坏号", bad_id);
  std::ofstream(good_file) << kRosterHeader + roster_row("何新来", with_check("37172119500101024"));
  const long long elders_before = test::count_rows(db, "elders");

  const std::string exports = dir.file("exports");
  const std::string script = dir.file("script.txt");
  std::ofstream(script) << R"(login zhangmin correct horse
wait-sync
view dashboard
key 2
wait-state /dashboard_tab == 1
wait-state /visit_report/month != null
wait-state /open_hazards >= 1
wait-state /flagged_visits >= 1
wait-state /pairing != null
# a heat wave: the key group, reached by 20:00 every day
visits-section campaign
start-campaign 高温关爱 reason=weather tiers=key hour=20
wait-state /campaign_changed/name == 高温关爱
wait-state /campaigns/0/name == 高温关爱
screenshot )" + artifact("console-visits-campaign.png") + R"(
dump )" + dir.file("campaign.json") + R"(
visits-section hazards
export-visits hazards csv
dump )" + dir.file("exported.json") + R"(
screenshot )" + artifact("console-visits-hazards.png") + R"(
close-hazard first 已更换燃气软管
wait-state /open_hazards == 0
# the roster: a bad file is refused whole, with every bad line named
visits-section roster
import-roster utf-8 )" + bad_file + R"(
wait-state /roster_import/status == refused
screenshot )" + artifact("console-visits-roster-error.png") + R"(
dump )" + dir.file("roster-bad.json") + R"(
import-roster utf-8 )" + good_file + R"(
wait-state /roster_import/status == imported
dump )" + dir.file("roster-good.json") + R"(
)";
  auto console = start_console(dir, {"--port", std::to_string(centre.port()), "--export-dir", exports,
                                     "--autotest-script", script, "--autotest-timeout-ms", "60000"});
  auto status = console->wait(std::chrono::seconds(90));
  INFO(test::read_file(dir.file("console.log")));
  REQUIRE(status == 0);

  // The campaign as the form sent it: the key group only, started by the supervisor.
  json campaign = read_json(dir.file("campaign.json"));
  INFO(campaign.dump(2));
  CHECK(campaign["operator"] == "张敏");
  CHECK(campaign["start_campaign"]["status"] == "ok");
  CHECK(campaign["campaign_changed"]["tiers"] == json::array({"key"}));
  CHECK(campaign["campaign_changed"]["chosen"] == 2);  // 王秀英 (severe loss of ability), 周玉梅 (80)
  CHECK(sql_count(db, "SELECT COUNT(*) FROM campaigns WHERE name='高温关爱' AND reason='weather' AND tiers='[\"key\"]'"
                      " AND towns='[]' AND living='[]' AND reach_by_hour=20 AND started_by='supervisor:张敏'") == 1);

  // The hazard, closed from the console with the note; the export written before it.
  CHECK(sql_count(db, "SELECT COUNT(*) FROM hazards WHERE elder_id=1 AND closed_ms>0 AND close_note='已更换燃气软管'"
                      " AND closed_by='supervisor:张敏'") == 1);
  CHECK(sql_count(db, "SELECT COUNT(*) FROM hazards WHERE closed_ms=0") == 0);
  json exported = read_json(dir.file("exported.json"))["visits_export"];
  INFO(exported.dump(2));
  CHECK(exported["report"] == "hazards");
  CHECK(exported["ok"] == true);
  const std::string hazards_csv = exported["path"];
  REQUIRE(std::filesystem::exists(hazards_csv));
  CHECK(test::read_file(hazards_csv).find("燃气软管老化") != std::string::npos);

  // The bad roster: refused with its line named, nothing of it taken (not even the
  // good row); the good one added its one elder.
  json bad = read_json(dir.file("roster-bad.json"))["roster_import"];
  INFO(bad.dump(2));
  CHECK(bad["status"] == "refused");
  const std::string why = bad["error"];
  CHECK(why.find("nothing was imported") != std::string::npos);
  CHECK(why.find("line 3 身份证号") != std::string::npos);
  CHECK(why.find("line 2") == std::string::npos);
  CHECK(sql_count(db, "SELECT COUNT(*) FROM elders WHERE name IN ('孙好人','孙坏号')") == 0);
  json good = read_json(dir.file("roster-good.json"))["roster_import"];
  CHECK(good["status"] == "imported");
  CHECK(good["added"] == 1);
  CHECK(test::count_rows(db, "elders") == elders_before + 1);
  CHECK(sql_count(db, "SELECT COUNT(*) FROM elders WHERE name='何新来' AND town='城关镇'") == 1);

  for (const char* png : {"console-visits-campaign.png", "console-visits-hazards.png", "console-visits-roster-error.png"})
    test::check_screenshot(artifact(png));
}
