// Manual incidents and history over the protocol (issue 14, items 3 and 4): an
// incident opened by hand reaches every console and the file and is worked like a
// device's; an unknown caller's is linked later; bad input changes nothing; resolved
// incidents are searched in the file by each filter, read back whole, and reopened
// within the configured window (not past it, nor over another open incident), which
// survives a restart. A real server (some under a manual clock), real WebSocket
// clients, and the SQLite file it writes.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <set>

#include "support.hpp"

using namespace anxin;
using json = nlohmann::json;

using test::sql_text;

namespace {

constexpr Millis kStart = 1795622400000LL + 10 * 3600 * 1000;  // 2026-11-26 10:00 Beijing
constexpr Millis kDay = 86'400'000;

long long sql_int(const std::string& db, const std::string& query) {
  const std::string t = sql_text(db, query);
  return t.empty() ? 0 : std::stoll(t);
}

// The small registry, plus a second operator's console token.
std::string seeded(test::TempDir& dir) {
  const std::string db = dir.file("centre.db");
  test::seed_small_registry(db);
  Store(db).put_token("tok-op2", {Role::console, "operator:李强"});
  return db;
}

int next_req = 0;
// Sends `frame` with a fresh req and returns the frame answering it (others skipped).
json ask(gateway::SyncClient& c, json frame) {
  const std::string r = "r" + std::to_string(++next_req);
  frame["req"] = r;
  c.send(frame.dump());
  for (;;) {
    json j = test::next_json(c);
    if (j.value("req", "") == r) return j;
  }
}

std::unique_ptr<gateway::SyncClient> console(test::Centre& centre, const std::string& token, json* snapshot = nullptr) {
  auto c = centre.client("console", token);
  c->send(R"({"type":"subscribe"})");
  json snap = test::next_of_type(*c, "snapshot");
  if (snapshot) *snapshot = snap;
  return c;
}

json next_delta(gateway::SyncClient& c, long long incident, const std::string& event) {
  for (;;) {
    json d = test::next_of_type(c, "delta");
    if (d.contains("incident") && d["incident"]["id"] == incident && d["event"] == event) return d;
  }
}

long long alarm(test::Centre& centre, const std::string& device, long long seq, const std::string& kind) {
  auto d = centre.client("device", "tok-acme");
  d->send(test::alarm_frame(device, seq, kind));
  json ack = test::next_of_type(*d, "ack");
  return ack["incident_id"];
}

json open_incident(gateway::SyncClient& c, json fields) {
  fields["type"] = "open_incident";
  return ask(c, std::move(fields));
}

}  // namespace

TEST_CASE("a manual incident reaches every console and the file and is acknowledged by its opener", "[manual]") {
  test::TempDir dir;
  test::Centre centre(false, {}, nullptr, seeded(dir));
  auto a = console(centre, "tok-console");
  auto b = console(centre, "tok-op2");

  json r = open_incident(*a, {{"elder_id", 2}, {"kind", "fall"}, {"source", "walk_in"}, {"text", "邻居说老人摔倒了"}});
  INFO(r.dump());
  REQUIRE(r["type"] == "manual_incident");
  CHECK(r["elder_id"] == 2);
  CHECK(r["joined"] == false);
  CHECK(r["acknowledged"] == true);
  const long long incident = r["incident_id"];

  // The other console: the new incident with the elder's card and the desk's alert,
  // then its acknowledgement by the opener.
  json opened = next_delta(*b, incident, "incident_opened");
  CHECK(opened["elder"]["name"] == "李德明");
  REQUIRE(opened["append"].size() == 1);
  CHECK(opened["append"][0]["kind"] == "alert");
  CHECK(opened["append"][0]["alert_kind"] == "fall");
  CHECK(opened["append"][0]["actor"] == "DESK-2");
  const json& detail = opened["append"][0]["detail"];  // the alert's detail, as an object
  CHECK(detail["source"] == "walk_in");
  CHECK(detail["operator"] == "王芳");
  CHECK(detail["text"] == "邻居说老人摔倒了");
  json acked = next_delta(*b, incident, "incident_acknowledged");
  CHECK(acked["incident"]["acknowledged_by"] == "王芳");

  // In the file: the desk's device, the alert, the incident in hand, the audit.
  const std::string& db = centre.db();
  CHECK(sql_text(db, "SELECT vendor FROM devices WHERE id='DESK-2'") == "desk");
  CHECK(sql_text(db, "SELECT kind FROM alerts WHERE device_id='DESK-2'") == "fall");
  CHECK(sql_text(db, "SELECT state FROM incidents WHERE id=" + std::to_string(incident)) == "acknowledged");
  CHECK(sql_int(db, "SELECT COUNT(*) FROM audit WHERE action='incident_opened_manually' AND incident_id=" +
                        std::to_string(incident)) == 1);

  // A second report about the same elder joins the open incident, which stays in 王芳's hands.
  json again = open_incident(*b, {{"elder_id", 2}, {"kind", "sos"}, {"source", "phone"}});
  CHECK(again["incident_id"] == incident);
  CHECK(again["joined"] == true);
  CHECK(again["acknowledged"] == false);
  json attached = next_delta(*a, incident, "alert_attached");
  CHECK(attached["incident"]["acknowledged_by"] == "王芳");
  CHECK(sql_int(db, "SELECT COUNT(*) FROM alerts WHERE incident_id=" + std::to_string(incident)) == 2);

  // Worked like any other: a note and the resolution.
  CHECK(ask(*a, {{"type", "note"}, {"incident_id", incident}, {"text", "已联系家属"}})["type"] == "ok");
  CHECK(ask(*a, {{"type", "resolve_incident"}, {"incident_id", incident}, {"disposition", "family_handled"}})["type"] ==
        "ok");
  CHECK(sql_text(db, "SELECT state FROM incidents WHERE id=" + std::to_string(incident)) == "resolved");

  // No token speaks for a desk device.
  auto dev = centre.client("device", "tok-acme");
  dev->send(test::alarm_frame("DESK-2", 1, "sos", "x"));
  json refused = test::next_json(*dev);
  CHECK(refused["code"] == "E_DEVICE_NOT_OWNED");
}

TEST_CASE("a manual incident for an unknown caller is linked to the elder later", "[manual]") {
  test::TempDir dir;
  test::Centre centre(false, {}, nullptr, seeded(dir));
  auto a = console(centre, "tok-console");
  auto b = console(centre, "tok-op2");  // watches the deltas (ask() skips a's)

  json r = open_incident(*a, {{"unknown", true}, {"caller_phone", "139 0000 0009"}, {"caller_name", "王先生"},
                              {"kind", "sos"}, {"source", "phone"}});
  INFO(r.dump());
  REQUIRE(r["type"] == "manual_incident");
  const long long incident = r["incident_id"], caller = r["elder_id"];
  CHECK(caller > 2);
  json opened = next_delta(*b, incident, "incident_opened");
  CHECK(opened["elder"]["unknown_caller"] == true);
  CHECK(opened["elder"]["name"] == "王先生");
  CHECK(sql_text(centre.db(), "SELECT phone FROM elders WHERE unknown_caller=1 AND id=" + std::to_string(caller)) ==
        "13900000009");

  // The same number again joins that caller's incident.
  json again = open_incident(*a, {{"unknown", true}, {"caller_phone", "13900000009"}, {"kind", "fall"}, {"source", "phone"}});
  CHECK(again["incident_id"] == incident);
  CHECK(again["joined"] == true);

  // Found (find_elders) and linked (link_caller) as the phone line's unknown callers are.
  json found = ask(*a, {{"type", "find_elders"}, {"q", "张桂英"}});
  REQUIRE(found["elders"].size() == 1);
  json linked = ask(*a, {{"type", "link_caller"}, {"incident_id", incident}, {"elder_id", found["elders"][0]["id"]}});
  CHECK(linked["type"] == "ok");
  json moved = next_delta(*b, incident, "incident_updated");
  CHECK(moved["elder"]["name"] == "张桂英");
  CHECK(sql_int(centre.db(), "SELECT elder_id FROM incidents WHERE id=" + std::to_string(incident)) == 1);

  // A number the centre knows files under its elder, though the operator said unknown.
  json known = open_incident(*a, {{"unknown", true}, {"caller_phone", "13800000002"}, {"kind", "sos"}, {"source", "other"}});
  CHECK(known["elder_id"] == 2);
}

TEST_CASE("bad manual incidents and history requests change nothing", "[manual]") {
  test::TempDir dir;
  test::Centre centre(false, {}, nullptr, seeded(dir));
  auto a = console(centre, "tok-console");
  const std::string& db = centre.db();
  auto counts = [&] {
    return std::vector<long long>{test::count_rows(db, "alerts"), test::count_rows(db, "incidents"),
                                  test::count_rows(db, "devices"), test::count_rows(db, "elders"),
                                  test::count_rows(db, "audit")};
  };
  const auto before = counts();
  const std::string long_text(2001, 'x');
  const std::vector<std::pair<json, std::string>> bad = {
      {{{"type", "open_incident"}, {"elder_id", 99}, {"kind", "sos"}, {"source", "phone"}}, "E_BAD_FIELD"},
      {{{"type", "open_incident"}, {"elder_id", 1}, {"kind", "offline"}, {"source", "phone"}}, "E_BAD_FIELD"},
      {{{"type", "open_incident"}, {"elder_id", 1}, {"kind", "phone_call"}, {"source", "phone"}}, "E_BAD_FIELD"},
      {{{"type", "open_incident"}, {"elder_id", 1}, {"kind", "meteor"}, {"source", "phone"}}, "E_BAD_FIELD"},
      {{{"type", "open_incident"}, {"elder_id", 1}, {"kind", "sos"}, {"source", "fax"}}, "E_BAD_FIELD"},
      {{{"type", "open_incident"}, {"kind", "sos"}, {"source", "phone"}}, "E_MISSING_FIELD"},
      {{{"type", "open_incident"}, {"elder_id", 1}, {"unknown", true}, {"kind", "sos"}, {"source", "phone"}},
       "E_BAD_FIELD"},
      {{{"type", "open_incident"}, {"unknown", true}, {"caller_phone", "abc"}, {"kind", "sos"}, {"source", "phone"}},
       "E_BAD_FIELD"},
      {{{"type", "open_incident"}, {"elder_id", 1}, {"kind", "sos"}, {"source", "phone"}, {"text", long_text}},
       "E_BAD_FIELD"},
      {{{"type", "history"}, {"from_ms", 2000}, {"to_ms", 1000}}, "E_BAD_FIELD"},
      {{{"type", "history"}, {"limit", 500}}, "E_BAD_FIELD"},
      {{{"type", "history"}, {"kind", "meteor"}}, "E_BAD_FIELD"},
      {{{"type", "reopen_incident"}, {"incident_id", 1}, {"reason", ""}}, "E_BAD_FIELD"},
      {{{"type", "reopen_incident"}, {"incident_id", 42}, {"reason", "again"}}, "E_UNKNOWN_INCIDENT"},
      {{{"type", "incident_record"}, {"incident_id", 42}}, "E_UNKNOWN_INCIDENT"},
  };
  for (const auto& [frame, code] : bad) {
    json r = ask(*a, frame);
    INFO(frame.dump() << " -> " << r.dump());
    CHECK(r["type"] == "error");
    CHECK(r["code"] == code);
  }
  // Devices and field workers may not.
  auto dev = centre.client("device", "tok-acme");
  CHECK(ask(*dev, {{"type", "open_incident"}, {"elder_id", 1}, {"kind", "sos"}, {"source", "phone"}})["code"] ==
        "E_FORBIDDEN");
  auto w1 = centre.client("field", "tok-w1");
  CHECK(ask(*w1, {{"type", "history"}})["code"] == "E_FORBIDDEN");
  CHECK(ask(*w1, {{"type", "reopen_incident"}, {"incident_id", 1}, {"reason", "x"}})["code"] == "E_FORBIDDEN");
  CHECK(counts() == before);
}

TEST_CASE("history finds resolved incidents in the file by each filter", "[manual]") {
  test::TempDir dir;
  ManualClock clock(kStart);
  test::Centre centre(false, {}, &clock, seeded(dir));
  auto a = console(centre, "tok-console");
  auto b = console(centre, "tok-op2");
  auto resolve = [&](gateway::SyncClient& c, long long id, const std::string& disposition) {
    json r = ask(c, {{"type", "resolve_incident"}, {"incident_id", id}, {"disposition", disposition}});
    REQUIRE(r["type"] == "ok");
  };
  // Day 1: elder 1's SOS (a device), resolved by 王芳 as a false alarm; elder 2's fall
  // (a walk-in), resolved by 李强 (ambulance).
  const long long first = alarm(centre, "D1", 1, "sos");
  resolve(*a, first, "false_alarm");
  clock.advance(60'000);
  const long long second = open_incident(*b, {{"elder_id", 2}, {"kind", "fall"}, {"source", "walk_in"}})["incident_id"];
  resolve(*b, second, "ambulance_took");
  // Day 2: elder 1's smoke, resolved by 王芳 (fire brigade); and one still open.
  clock.advance(kDay);
  const long long third = alarm(centre, "D2", 1, "smoke");
  resolve(*a, third, "fire_brigade");
  clock.advance(60'000);
  alarm(centre, "D3", 1, "sos");  // elder 2, left open

  auto ids = [&](json filters) {
    filters["type"] = "history";
    json page = ask(*a, filters);
    INFO(filters.dump() << " -> " << page.dump());
    REQUIRE(page["type"] == "history");
    std::vector<long long> out;
    for (const auto& row : page["rows"]) out.push_back(row["id"]);
    return std::pair{out, page["total"].get<int>()};
  };
  using V = std::vector<long long>;
  CHECK(ids(json::object()).first == V{third, second, first});  // newest resolution first
  CHECK(ids({{"elder_id", 1}}).first == V{third, first});
  CHECK(ids({{"elder", "李德明"}}).first == V{second});
  CHECK(ids({{"elder", "1234"}}).first == V{third, first});  // elder 1's ID number ends so
  CHECK(ids({{"elder", "nobody"}}).first.empty());
  CHECK(ids({{"from_ms", kStart + kDay - 3600'000}}).first == V{third});
  CHECK(ids({{"to_ms", kStart + kDay - 3600'000}}).first == V{second, first});
  CHECK(ids({{"kind", "smoke"}}).first == V{third});
  CHECK(ids({{"kind", "fall"}}).first == V{second});
  CHECK(ids({{"resolved_by", "李强"}}).first == V{second});
  CHECK(ids({{"disposition", "false_alarm"}}).first == V{first});
  CHECK(ids({{"kind", "sos"}, {"resolved_by", "王芳"}}).first == V{first});
  auto paged = ids({{"limit", 1}, {"offset", 1}});
  CHECK(paged.first == V{second});
  CHECK(paged.second == 3);

  json page = ask(*a, {{"type", "history"}, {"elder_id", 2}});
  REQUIRE(page["rows"].size() == 1);
  const json& row = page["rows"][0];
  CHECK(row["elder_name"] == "李德明");
  CHECK(row["source"] == "walk_in");
  CHECK(row["lead_kind"] == "fall");
  CHECK(row["disposition"] == "ambulance_took");
  CHECK(row["resolved_by"] == "李强");
  CHECK(row["acknowledged_by"] == "李强");
}

TEST_CASE("an incident record holds its alerts responders calls and field report", "[manual]") {
  test::TempDir dir;
  test::Centre centre(false, {}, nullptr, seeded(dir));
  auto a = console(centre, "tok-console");
  auto w1 = centre.client("field", "tok-w1");
  const long long incident =
      open_incident(*a, {{"elder_id", 1}, {"kind", "fall"}, {"source", "neighbour"}})["incident_id"];
  REQUIRE(ask(*a, {{"type", "dispatch"}, {"incident_id", incident}, {"worker_id", 1}})["type"] == "ok");
  json offer = test::next_of_type(*w1, "task");
  const long long assignment = offer["assignment"]["id"];
  REQUIRE(ask(*w1, {{"type", "accept"}, {"assignment_id", assignment}})["type"] == "ok");
  REQUIRE(ask(*w1, {{"type", "on_scene"}, {"assignment_id", assignment}})["type"] == "ok");
  json report = {{"areas", {"health", "home_safety"}}, {"notes", "左膝擦伤，已包扎"}, {"hazards", "浴室地滑"}};
  REQUIRE(ask(*w1, {{"type", "complete"}, {"assignment_id", assignment}, {"outcome", "已处理"}, {"report", report}})["type"] ==
          "ok");
  // The live workspace sees the report on the timeline.
  json updated;
  for (;;) {
    updated = next_delta(*a, incident, "incident_updated");
    bool has_report = false;
    for (const auto& e : updated["append"]) has_report |= e["kind"] == "report";
    if (has_report) break;
  }
  REQUIRE(ask(*a, {{"type", "call"}, {"incident_id", incident}, {"kind", "ambulance_120"}})["type"] == "ok");
  const long long task = sql_int(centre.db(), "SELECT id FROM call_tasks WHERE incident_id=" + std::to_string(incident));
  REQUIRE(ask(*a, {{"type", "call_result"}, {"task_id", task}, {"result", "answered"}})["type"] == "ok");

  // While open: the record as it stands.
  json live = ask(*a, {{"type", "incident_record"}, {"incident_id", incident}});
  REQUIRE(live["type"] == "incident_record");
  CHECK(live["incident"]["state"] == "acknowledged");
  CHECK(live["reopen_until_ms"] == 0);

  REQUIRE(ask(*a, {{"type", "resolve_incident"}, {"incident_id", incident}, {"disposition", "visitor_assisted"},
                   {"note", "送医后回家"}})["type"] == "ok");
  json rec = ask(*a, {{"type", "incident_record"}, {"incident_id", incident}});
  INFO(rec.dump());
  REQUIRE(rec["type"] == "incident_record");
  CHECK(rec["elder"]["name"] == "张桂英");
  CHECK(rec["incident"]["state"] == "resolved");
  CHECK(rec["incident"]["disposition"] == "visitor_assisted");
  CHECK(rec["incident"]["resolved_by"] == "王芳");
  REQUIRE(rec["alerts"].size() == 1);
  CHECK(rec["alerts"][0]["device"] == "DESK-1");
  REQUIRE(rec["incident"]["assignments"].size() == 1);
  CHECK(rec["incident"]["assignments"][0]["state"] == "completed");
  REQUIRE(rec["incident"]["calls"].size() == 1);
  CHECK(rec["incident"]["calls"][0]["state"] == "answered");
  REQUIRE(rec["reports"].size() == 1);
  CHECK(rec["reports"][0]["notes"] == "左膝擦伤，已包扎");
  CHECK(rec["reports"][0]["hazards"] == "浴室地滑");
  CHECK(rec["reports"][0]["areas"] == json({"health", "home_safety"}));
  CHECK(rec["reports"][0]["worker"] == "赵敏");
  std::set<std::string> kinds;
  for (const auto& e : rec["incident"]["timeline"]) kinds.insert(e["kind"]);
  for (const char* k : {"alert", "acknowledged", "offered", "accepted", "on_scene", "completed", "report", "call", "note",
                        "resolved"})
    CHECK(kinds.count(k) == 1);
  CHECK(rec["reopen_until_ms"].get<long long>() == rec["incident"]["resolved_ms"].get<long long>() + kDay);
}

TEST_CASE("reopen within the window brings the incident back and survives a restart", "[manual]") {
  test::TempDir dir;
  ManualClock clock(kStart);
  gateway::ServerOptions options;
  options.config.reopen_within_ms = 3'600'000;  // reopen_within_s 3600
  test::Centre centre(false, options, &clock, seeded(dir));
  auto a = console(centre, "tok-console");
  auto b = console(centre, "tok-op2");
  const std::string& db = centre.db();
  const long long incident = alarm(centre, "D1", 1, "sos");
  REQUIRE(ask(*a, {{"type", "resolve_incident"}, {"incident_id", incident}, {"disposition", "false_alarm"}})["type"] ==
          "ok");
  // Its timeline in the file: its events, and its alerts, each also an entry.
  const std::string where = " WHERE incident_id=" + std::to_string(incident);
  const long long events = sql_int(db, "SELECT (SELECT COUNT(*) FROM incident_events" + where +
                                           ") + (SELECT COUNT(*) FROM alerts" + where + ")");
  clock.advance(30 * 60'000);

  json r = ask(*b, {{"type", "reopen_incident"}, {"incident_id", incident}, {"reason", "家属来电：老人又摔倒了"}});
  INFO(r.dump());
  REQUIRE(r["type"] == "ok");
  CHECK(r["id"] == incident);
  // Every console gets it back whole, in the reopener's hands.
  json back = next_delta(*a, incident, "incident_opened");
  CHECK(back["incident"]["state"] == "acknowledged");
  CHECK(back["incident"]["acknowledged_by"] == "李强");
  CHECK_FALSE(back["incident"].contains("resolved_ms"));  // its resolution undone
  CHECK_FALSE(back["incident"].contains("disposition"));
  CHECK(back["elder"]["name"] == "张桂英");
  CHECK(back["append"].size() == static_cast<size_t>(events + 1));
  CHECK(back["append"].back()["kind"] == "reopened");
  CHECK(back["append"].back()["text"] == "家属来电：老人又摔倒了");
  CHECK(sql_text(db, "SELECT state FROM incidents WHERE id=" + std::to_string(incident)) == "acknowledged");
  CHECK(sql_int(db, "SELECT COUNT(*) FROM incident_events WHERE kind='reopened' AND incident_id=" +
                        std::to_string(incident)) == 1);
  json audit = json::parse(sql_text(db, "SELECT detail FROM audit WHERE action='incident_reopened'"));
  CHECK(audit["reason"] == "家属来电：老人又摔倒了");
  CHECK(audit["disposition"] == "false_alarm");
  CHECK(sql_text(db, "SELECT actor FROM audit WHERE action='incident_reopened'") == "operator:李强");
  // Open now: not in the history, and not to be reopened twice.
  CHECK(ask(*a, {{"type", "history"}})["total"] == 0);
  CHECK(ask(*a, {{"type", "reopen_incident"}, {"incident_id", incident}, {"reason", "x"}})["code"] == "E_BAD_STATE");

  // After a restart it is still open, with its whole timeline.
  a.reset();
  b.reset();
  centre.restart();
  json snap;
  a = console(centre, "tok-console", &snap);
  REQUIRE(snap["incidents"].size() == 1);
  CHECK(snap["incidents"][0]["id"] == incident);
  CHECK(snap["incidents"][0]["state"] == "acknowledged");
  CHECK(snap["incidents"][0]["timeline"].back()["kind"] == "reopened");
  CHECK(snap["incidents"][0]["timeline"].size() == static_cast<size_t>(events + 1));

  // Resolved again: in the history again, with the new disposition.
  REQUIRE(ask(*a, {{"type", "resolve_incident"}, {"incident_id", incident}, {"disposition", "ambulance_took"}})["type"] ==
          "ok");
  json page = ask(*a, {{"type", "history"}});
  REQUIRE(page["rows"].size() == 1);
  CHECK(page["rows"][0]["disposition"] == "ambulance_took");

  // A new alarm opens another incident for the elder: the old one cannot come back over it.
  const long long other = alarm(centre, "D1", 2, "sos");
  REQUIRE(other != incident);
  json over = ask(*a, {{"type", "reopen_incident"}, {"incident_id", incident}, {"reason", "again"}});
  CHECK(over["code"] == "E_BAD_STATE");
  CHECK(over["message"].get<std::string>().find(std::to_string(other)) != std::string::npos);
  REQUIRE(ask(*a, {{"type", "resolve_incident"}, {"incident_id", other}, {"disposition", "false_alarm"}})["type"] == "ok");

  // Past the window: refused, and nothing changes.
  clock.advance(2 * 3'600'000);
  const long long audit_rows = test::count_rows(db, "audit");
  json late = ask(*a, {{"type", "reopen_incident"}, {"incident_id", incident}, {"reason", "too late"}});
  INFO(late.dump());
  CHECK(late["code"] == "E_BAD_STATE");
  CHECK(late["message"].get<std::string>().find("can no longer be reopened") != std::string::npos);
  CHECK(sql_text(db, "SELECT state FROM incidents WHERE id=" + std::to_string(incident)) == "resolved");
  CHECK(test::count_rows(db, "audit") == audit_rows);
}
