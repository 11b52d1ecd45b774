// The elder's care record over the protocol (issue 14, item 6): a supervisor writes
// it (audited field by field, old -> new), every reader gets it with the entry code
// masked, a console reveals the code (audited before it goes out), operators may not
// write it, bad input changes nothing, and it survives a restart. A real server on a
// real file; rows read back from the file.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include "anxin/core/protocol.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

// A 1x1 PNG.
const char* kPngBase64 =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

// Rows of `sql` as text, from the file.
std::vector<std::vector<std::string>> rows(const std::string& db_path, const std::string& sql) {
  std::vector<std::vector<std::string>> out;
  sqlite3* db = nullptr;
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int k = 0; k < sqlite3_column_count(s); ++k) {
      auto t = sqlite3_column_text(s, k);
      row.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    out.push_back(std::move(row));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// A seeded file with a supervisor's token ("tok-sup", 张敏) besides the small registry's.
struct RecordCentre {
  test::TempDir dir;
  std::string db = dir.file("centre.db");
  std::unique_ptr<test::Centre> centre;
  RecordCentre() {
    test::seed_small_registry(db);
    {
      Store s(db);
      s.put_token("tok-sup", {Role::console, "supervisor:张敏"});
    }
    centre = std::make_unique<test::Centre>(false, gateway::ServerOptions{}, nullptr, db);
  }
};

json full_record() {
  return {{"conditions", {"高血压", "糖尿病"}},
          {"medications", {"二甲双胍 0.5g 每日两次", "硝苯地平缓释片"}},
          {"allergies", {"青霉素"}},
          {"hospital", "曹县人民医院"},
          {"entry", "钥匙盒在门左侧花盆下"},
          {"entry_code", "4821"},
          {"hearing", "左耳听力差，说话慢一点"},
          {"dialect", "只讲曹县话"},
          {"photo_base64", kPngBase64}};
}

json update(gateway::SyncClient& c, ElderId elder, const json& record, const std::string& req = "u1") {
  c.send(json{{"type", "update_elder_record"}, {"req", req}, {"elder_id", elder}, {"record", record}}.dump());
  for (;;) {
    json j = test::next_json(c);
    if (j.value("req", "") == req) return j;
  }
}

json elder(gateway::SyncClient& c, ElderId id, bool photo = false, std::string* raw = nullptr) {
  json q = {{"type", "elder"}, {"req", "e"}, {"elder_id", id}};
  if (photo) q["photo"] = true;
  c.send(q.dump());
  for (;;) {
    auto f = c.next(std::chrono::seconds(5));
    REQUIRE(f.has_value());
    json j = json::parse(*f);
    if (j.value("req", "") == "e") {
      if (raw) *raw = *f;
      return j;
    }
  }
}

long long audits(const std::string& db, const std::string& action) {
  return test::count_rows(db, "audit WHERE action = '" + action + "'");
}

}  // namespace

TEST_CASE("a supervisor writes the care record and every reader gets it with the code masked", "[elder]") {
  RecordCentre rc;
  auto sup = rc.centre->client("console", "tok-sup");
  json ok = update(*sup, 1, full_record());
  INFO(ok.dump());
  REQUIRE(ok["type"] == "ok");
  CHECK(ok["id"] == 1);

  auto op = rc.centre->client("console", "tok-console");
  std::string raw;
  json d = elder(*op, 1, false, &raw);
  REQUIRE(d["type"] == "elder");
  const json& r = d["record"];
  CHECK(r["conditions"] == json({"高血压", "糖尿病"}));
  CHECK(r["medications"].size() == 2);
  CHECK(r["allergies"] == json({"青霉素"}));
  CHECK(r["hospital"] == "曹县人民医院");
  CHECK(r["entry"] == "钥匙盒在门左侧花盆下");
  CHECK(r["has_entry_code"] == true);
  CHECK(r["hearing"] == "左耳听力差，说话慢一点");
  CHECK(r["dialect"] == "只讲曹县话");
  CHECK(r["has_photo"] == true);
  CHECK(r["updated_by"] == "张敏");
  CHECK_FALSE(r.contains("entry_code"));
  CHECK_FALSE(r.contains("photo_base64"));  // only when asked for
  CHECK(raw.find("4821") == std::string::npos);

  // The photo, asked for: the same bytes.
  json p = elder(*op, 1, true, &raw);
  REQUIRE(p["record"].contains("photo_base64"));
  CHECK(p["record"]["photo_base64"] == kPngBase64);
  CHECK(raw.find("4821") == std::string::npos);

  // An elder with no record has an empty one.
  json other = elder(*op, 2);
  CHECK(other["record"]["conditions"].empty());
  CHECK(other["record"]["has_entry_code"] == false);

  // In the file: the row, and one audit line with old -> new per field, never the code.
  auto row = rows(rc.db, "SELECT hospital, entry_code, length(photo) FROM elder_care WHERE elder_id = 1");
  REQUIRE(row.size() == 1);
  CHECK(row[0][0] == "曹县人民医院");
  CHECK(row[0][1] == "4821");
  CHECK(row[0][2] == "70");
  auto audit = rows(rc.db, "SELECT actor, detail FROM audit WHERE action = 'elder_record_updated'");
  REQUIRE(audit.size() == 1);
  CHECK(audit[0][0] == "supervisor:张敏");
  const json detail = json::parse(audit[0][1]);
  CHECK(detail["elder_id"] == 1);
  CHECK(detail["changes"]["conditions"]["old"] == json::array());
  CHECK(detail["changes"]["conditions"]["new"] == json({"高血压", "糖尿病"}));
  CHECK(detail["changes"]["entry_code"] == json({{"changed", true}, {"set", true}}));
  CHECK(detail["changes"]["photo"]["new_bytes"] == 70);
  CHECK(audit[0][1].find("4821") == std::string::npos);

  // A second change: only what changed, old -> new.
  REQUIRE(update(*sup, 1, {{"hospital", "菏泽市立医院"}, {"allergies", {"青霉素"}}}, "u2")["type"] == "ok");
  audit = rows(rc.db, "SELECT detail FROM audit WHERE action = 'elder_record_updated' ORDER BY id");
  REQUIRE(audit.size() == 2);
  const json second = json::parse(audit[1][0]);
  CHECK(second["changes"] == json({{"hospital", {{"old", "曹县人民医院"}, {"new", "菏泽市立医院"}}}}));
  // The same again changes nothing and writes no audit line.
  REQUIRE(update(*sup, 1, {{"hospital", "菏泽市立医院"}}, "u3")["type"] == "ok");
  CHECK(audits(rc.db, "elder_record_updated") == 2);
}

TEST_CASE("operators may not write the care record and bad input changes nothing", "[elder]") {
  RecordCentre rc;
  auto sup = rc.centre->client("console", "tok-sup");
  REQUIRE(update(*sup, 1, full_record())["type"] == "ok");
  const auto before = rows(rc.db, "SELECT * FROM elder_care");
  const long long audited = audits(rc.db, "elder_record_updated");

  auto op = rc.centre->client("console", "tok-console");
  json refused = update(*op, 1, {{"hospital", "别处"}});
  CHECK(refused["code"] == "E_FORBIDDEN");
  auto w = rc.centre->client("field", "tok-w1");
  CHECK(update(*w, 1, {{"hospital", "别处"}})["code"] == "E_FORBIDDEN");

  auto [record, code] = GENERATE(table<json, std::string>({
      {json{{"hospital", "别处"}, {"photo_base64", "aGVsbG8="}}, "E_BAD_FIELD"},  // not a picture
      {json{{"hospital", "别处"}, {"photo_base64", "***"}}, "E_BAD_FIELD"},       // not base64
      {json{{"hospital", "别处"}, {"shoe_size", 42}}, "E_BAD_FIELD"},              // no such field
      {json{{"conditions", "高血压"}}, "E_BAD_FIELD"},                             // not a list
      {json{{"conditions", {""}}}, "E_BAD_FIELD"},                                 // an empty item
      {json{{"entry_code", std::string(33, '1')}}, "E_BAD_FIELD"},                 // too long
      {json{{"hospital", std::string(201, 'x')}}, "E_BAD_FIELD"},
      {json{{"dialect", "a\nb"}}, "E_BAD_FIELD"},                                  // a control character
      {json{{"hospital", nullptr}}, "E_BAD_FIELD"},
      {json::object(), "E_MISSING_FIELD"},                                         // nothing to change
  }));
  INFO(record.dump());
  CHECK(update(*sup, 1, record, "bad")["code"] == code);
  CHECK(update(*sup, 99, {{"hospital", "别处"}}, "nobody")["code"] == "E_BAD_FIELD");
  CHECK(rows(rc.db, "SELECT * FROM elder_care") == before);
  CHECK(audits(rc.db, "elder_record_updated") == audited);
}

TEST_CASE("revealing the entry code is audited and only consoles may", "[elder]") {
  RecordCentre rc;
  auto sup = rc.centre->client("console", "tok-sup");
  REQUIRE(update(*sup, 1, full_record())["type"] == "ok");
  auto device = rc.centre->client("device", "tok-d1");
  device->send(test::alarm_frame("D1", 1, "sos", "a1"));
  const json ack = test::next_of_type(*device, "ack");
  const long long incident = ack["incident_id"];

  auto op = rc.centre->client("console", "tok-console");
  op->send(json{{"type", "reveal_entry"}, {"req", "r1"}, {"elder_id", 1}, {"incident_id", incident}}.dump());
  json code = test::next_of_type(*op, "entry_code");
  CHECK(code["req"] == "r1");
  CHECK(code["elder_id"] == 1);
  CHECK(code["code"] == "4821");
  CHECK(code["entry"] == "钥匙盒在门左侧花盆下");
  // On record before it went out: who, which elder, which incident; not the code.
  auto audit = rows(rc.db, "SELECT actor, incident_id, detail FROM audit WHERE action = 'entry_revealed'");
  REQUIRE(audit.size() == 1);
  CHECK(audit[0][0] == "operator:王芳");
  CHECK(audit[0][1] == std::to_string(incident));
  CHECK(json::parse(audit[0][2]) == json({{"elder_id", 1}, {"had_code", true}}));

  // Refused, and not audited: a field worker, an incident of another elder, no such elder.
  auto w = rc.centre->client("field", "tok-w1");
  w->send(json{{"type", "reveal_entry"}, {"req", "r2"}, {"elder_id", 1}}.dump());
  CHECK(test::next_of_type(*w, "error")["code"] == "E_FORBIDDEN");
  op->send(json{{"type", "reveal_entry"}, {"req", "r3"}, {"elder_id", 2}, {"incident_id", incident}}.dump());
  CHECK(test::next_of_type(*op, "error")["code"] == "E_BAD_FIELD");
  op->send(json{{"type", "reveal_entry"}, {"req", "r4"}, {"elder_id", 99}}.dump());
  CHECK(test::next_of_type(*op, "error")["code"] == "E_BAD_FIELD");
  CHECK(audits(rc.db, "entry_revealed") == 1);

  // An elder with no code: the answer says so (empty), and the asking is on record too.
  op->send(json{{"type", "reveal_entry"}, {"req", "r5"}, {"elder_id", 2}}.dump());
  json none = test::next_of_type(*op, "entry_code");
  CHECK(none["code"] == "");
  CHECK(audits(rc.db, "entry_revealed") == 2);
}

TEST_CASE("the care record survives a restart", "[elder]") {
  RecordCentre rc;
  {
    auto sup = rc.centre->client("console", "tok-sup");
    REQUIRE(update(*sup, 1, full_record())["type"] == "ok");
  }
  rc.centre->restart();
  auto op = rc.centre->client("console", "tok-console");
  json d = elder(*op, 1, true);
  CHECK(d["record"]["conditions"] == json({"高血压", "糖尿病"}));
  CHECK(d["record"]["hospital"] == "曹县人民医院");
  CHECK(d["record"]["has_entry_code"] == true);
  CHECK(d["record"]["photo_base64"] == kPngBase64);
  op->send(json{{"type", "reveal_entry"}, {"req", "r"}, {"elder_id", 1}}.dump());
  CHECK(test::next_of_type(*op, "entry_code")["code"] == "4821");
}

TEST_CASE("the care record's wire form never carries the entry code", "[elder]") {
  ElderRecord r;
  r.elder = 7;
  r.entry_code = "9999";
  r.entry = "门口";
  protocol::ElderDetail d;
  d.card.id = 7;
  d.record = r;
  const std::string text = protocol::encode({"", d});
  CHECK(text.find("9999") == std::string::npos);
  auto back = protocol::parse_server(text);
  REQUIRE(back.ok());
  const auto& got = std::get<protocol::ElderDetail>(back.value().body);
  REQUIRE(got.record);
  CHECK(got.record->has_entry_code);
  CHECK(got.record->entry_code.empty());
  CHECK(got.record->entry == "门口");
}
