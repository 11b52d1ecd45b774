// Presence and handover over the protocol (issue 14, item 5; docs/protocol.md,
// "Presence and handover"): a real server, real WebSocket consoles signed in as two
// operators and a supervisor, the file read back after each step.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <functional>

#include "anxin/core/handover_store.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

// One console: connected, signed in (a password login or a token), subscribed.
struct Desk {
  std::unique_ptr<gateway::SyncClient> c;
  int next = 0;

  // Sends `frame` with a req id and returns the answer to it (ok or error), skipping
  // the deltas and pictures in between.
  json ask(json frame) {
    const std::string req = "r" + std::to_string(++next);
    frame["req"] = req;
    c->send(frame.dump());
    for (;;) {
      json j = test::next_json(*c);
      if (j.value("req", "") == req) return j;
    }
  }
  // The next presence frame for which `ok` holds.
  json presence(const std::function<bool(const json&)>& ok) {
    for (;;) {
      json p = test::next_of_type(*c, "presence");
      if (ok(p)) return p;
    }
  }
  // The next incident delta of `id` for which `ok` holds.
  json delta(long long id, const std::function<bool(const json&)>& ok) {
    for (;;) {
      json d = test::next_of_type(*c, "delta");
      if (d.contains("incident") && d["incident"]["id"] == id && ok(d)) return d;
    }
  }
};

Desk subscribed(std::unique_ptr<gateway::SyncClient> c) {
  Desk d{std::move(c)};
  d.c->send(json{{"type", "subscribe"}}.dump());
  test::next_of_type(*d.c, "snapshot");
  return d;
}

Desk by_token(test::Centre& c, const std::string& token) { return subscribed(c.client("console", token)); }

Desk by_login(test::Centre& c, const std::string& user) {
  auto client = std::make_unique<gateway::SyncClient>(c.port());
  REQUIRE(client->wait_open());
  client->send(json{{"type", "login"}, {"role", "console"}, {"username", user}, {"password", "correct horse"}}.dump());
  json w = test::next_json(*client);
  INFO(w.dump());
  REQUIRE(w["type"] == "welcome");
  return subscribed(std::move(client));
}

// The small registry, the demo-like accounts (王芳 and 张敏, and a second operator 李强)
// and tokens for each, then the server started on it.
std::unique_ptr<test::Centre> centre() {
  auto c = std::make_unique<test::Centre>(true);
  test::add_small_accounts(c->db());
  {
    Store store(c->db());
    store.put_account({"liqiang", "", "operator", "李强", 0, false}, "correct horse");
    store.put_token("tok-li", {Role::console, "operator:李强"});
    store.put_token("tok-zhang", {Role::console, "supervisor:张敏"});
  }
  c->restart();
  return c;
}

long long raise_incident(test::Centre& c, const std::string& device, long long seq) {
  auto d = c.client("device", "tok-acme");
  d->send(test::alarm_frame(device, seq, "sos"));
  json ack = test::next_json(*d);
  INFO(ack.dump());
  REQUIRE(ack["type"] == "ack");
  return ack["incident_id"];
}

// One column of one row of the file, as text ("" when no row).
std::string cell(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_stmt* s = nullptr;
  std::string out;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(h);
  return out;
}

int audits(const std::string& db, const std::string& action) {
  int n = 0;
  for (const auto& e : Store(db).audit_log()) n += e.action == action;
  return n;
}

// The first handover in a presence frame ({} when none).
json first(const json& p) { return p["handovers"].empty() ? json::object() : p["handovers"][0]; }

bool has_staff(const json& p, const std::string& name) {
  for (const auto& s : p["staff"])
    if (s["name"] == name) return true;
  return false;
}

std::string holder(const std::string& db, long long incident) {
  return cell(db, "SELECT acknowledged_by FROM incidents WHERE id = " + std::to_string(incident));
}

}  // namespace

TEST_CASE("presence lists the staff signed in and a handover accepted moves the holder", "[handover]") {
  auto c = centre();
  Desk wang = by_login(*c, "wangfang");
  Desk li = by_login(*c, "liqiang");
  Desk zhang = by_login(*c, "zhangmin");

  // Everyone signed in is in the picture, with their kind and since when.
  json p = zhang.presence([](const json& p) { return p["staff"].size() == 3; });
  INFO(p.dump());
  for (const auto& s : p["staff"]) {
    CHECK(s["since_ms"].get<long long>() > 0);
    CHECK(s["consoles"] == 1);
    CHECK(s["kind"] == (s["name"] == "张敏" ? "supervisor" : "operator"));
  }
  CHECK(has_staff(p, "王芳"));
  CHECK(has_staff(p, "李强"));

  const long long a = raise_incident(*c, "D1", 1), b = raise_incident(*c, "D3", 1);
  REQUIRE(wang.ask({{"type", "ack_incident"}, {"incident_id", a}})["type"] == "ok");
  REQUIRE(wang.ask({{"type", "ack_incident"}, {"incident_id", b}})["type"] == "ok");

  // Every incident in 王芳's hands, with notes, to 李强.
  json ok = wang.ask({{"type", "handover"}, {"to", "李强"}, {"notes", "张桂英家里烟雾报警已复位，需回访"}});
  INFO(ok.dump());
  REQUIRE(ok["type"] == "ok");
  const long long handover = ok["id"];
  json offered = li.presence([&](const json& p) { return first(p).value("id", 0LL) == handover; });
  CHECK(offered["handovers"][0]["state"] == "offered");
  CHECK(offered["handovers"][0]["from"] == "王芳");
  CHECK(offered["handovers"][0]["to"] == "李强");
  CHECK(offered["handovers"][0]["incidents"] == json::array({a, b}));
  CHECK(cell(c->db(), "SELECT state FROM handovers WHERE id = " + std::to_string(handover)) == "offered");
  CHECK(holder(c->db(), a) == "王芳");  // nothing moves before the answer

  REQUIRE(li.ask({{"type", "handover_answer"}, {"handover_id", handover}, {"accept", true}})["type"] == "ok");
  // Every console sees the new holder through the incident's delta, with the entry.
  for (long long id : {a, b}) {
    json d = zhang.delta(id, [](const json& d) { return d["incident"]["acknowledged_by"] == "李强"; });
    CHECK(d["event"] == "incident_updated");
    REQUIRE(d["append"].size() == 1);
    CHECK(d["append"][0]["kind"] == "handed_over");
    const json text = json::parse(d["append"][0]["text"].get<std::string>());
    CHECK(text["how"] == "handed_over");
    CHECK(text["from"] == "王芳");
    CHECK(text["to"] == "李强");
    CHECK(text["notes"] == "张桂英家里烟雾报警已复位，需回访");
    wang.delta(id, [](const json& d) { return d["incident"]["acknowledged_by"] == "李强"; });
  }
  json answered = wang.presence([&](const json& p) { return first(p).value("state", "") == "accepted"; });
  CHECK(answered["handovers"][0]["notes"] == "张桂英家里烟雾报警已复位，需回访");

  // In the file: the holder, the timeline, the handover with its notes, the audit.
  CHECK(holder(c->db(), a) == "李强");
  CHECK(holder(c->db(), b) == "李强");
  CHECK(cell(c->db(), "SELECT COUNT(*) FROM incident_events WHERE kind = 'handed_over'") == "2");
  CHECK(cell(c->db(), "SELECT state || '|' || notes FROM handovers WHERE id = " + std::to_string(handover)) ==
        "accepted|张桂英家里烟雾报警已复位，需回访");
  CHECK(audits(c->db(), "handover_offered") == 1);
  CHECK(audits(c->db(), "handed_over") == 2);
  CHECK(audits(c->db(), "handover_accepted") == 1);
  for (const auto& e : Store(c->db()).audit_log())
    if (e.action == "handed_over") CHECK(e.actor == "operator:李强");
}

TEST_CASE("a handover declined or refused changes nothing", "[handover]") {
  auto c = centre();
  Desk wang = by_token(*c, "tok-console");
  Desk li = by_token(*c, "tok-li");
  li.presence([](const json& p) { return has_staff(p, "王芳") && has_staff(p, "李强"); });
  const long long a = raise_incident(*c, "D1", 1), b = raise_incident(*c, "D3", 1);
  REQUIRE(wang.ask({{"type", "ack_incident"}, {"incident_id", a}})["type"] == "ok");
  REQUIRE(li.ask({{"type", "ack_incident"}, {"incident_id", b}})["type"] == "ok");
  const auto rows = test::count_rows(c->db(), "handovers");

  // Refusals, each with its code; none writes a row.
  auto code = [](const json& j) { return j["type"] == "error" ? j["code"].get<std::string>() : j.dump(); };
  CHECK(code(wang.ask({{"type", "handover"}, {"to", "张敏"}})) == "E_BAD_FIELD");   // not signed in
  CHECK(code(wang.ask({{"type", "handover"}, {"to", "王芳"}})) == "E_BAD_FIELD");   // oneself
  CHECK(code(wang.ask({{"type", "handover"}, {"to", "李强"}, {"incidents", json::array({b})}})) == "E_BAD_STATE");  // 李强's
  CHECK(code(wang.ask({{"type", "handover"}, {"to", "李强"}, {"incidents", json::array({999})}})) == "E_UNKNOWN_INCIDENT");
  CHECK(code(wang.ask({{"type", "handover"}, {"to", "李强"}, {"notes", std::string(2001, 'x')}})) == "E_BAD_FIELD");
  CHECK(code(li.ask({{"type", "handover_answer"}, {"handover_id", 77}, {"accept", true}})) == "E_BAD_STATE");
  CHECK(test::count_rows(c->db(), "handovers") == rows);

  // Offered, then declined: the incident stays where it was.
  json ok = wang.ask({{"type", "handover"}, {"to", "李强"}, {"incidents", json::array({a})}, {"notes", "夜班注意"}});
  REQUIRE(ok["type"] == "ok");
  const long long h = ok["id"];
  CHECK(code(wang.ask({{"type", "handover"}, {"to", "李强"}})) == "E_BAD_STATE");  // one at a time
  CHECK(code(wang.ask({{"type", "handover_answer"}, {"handover_id", h}, {"accept", true}})) == "E_FORBIDDEN");
  REQUIRE(li.ask({{"type", "handover_answer"}, {"handover_id", h}, {"accept", false}})["type"] == "ok");
  wang.presence([&](const json& p) { return first(p).value("state", "") == "declined"; });
  CHECK(holder(c->db(), a) == "王芳");
  CHECK(cell(c->db(), "SELECT state FROM handovers WHERE id = " + std::to_string(h)) == "declined");
  CHECK(audits(c->db(), "handed_over") == 0);
  CHECK(audits(c->db(), "handover_declined") == 1);

  // Offered, then the colleague signs out: it lapses, and says why.
  ok = wang.ask({{"type", "handover"}, {"to", "李强"}, {"notes", "交班"}});
  REQUIRE(ok["type"] == "ok");
  const long long h2 = ok["id"];
  li.c.reset();  // the connection closes
  json lapsed = wang.presence([&](const json& p) { return first(p).value("id", 0LL) == h2 && first(p)["state"] == "lapsed"; });
  CHECK(lapsed["handovers"][0]["reason"] == "李强 signed out");
  CHECK_FALSE(has_staff(lapsed, "李强"));
  CHECK(holder(c->db(), a) == "王芳");
  wang.ask({{"type", "ping"}});  // its row is written with the tick that told the consoles
  CHECK(cell(c->db(), "SELECT state FROM handovers WHERE id = " + std::to_string(h2)) == "lapsed");
}

TEST_CASE("a supervisor reassigns and takes over and an operator may not", "[handover]") {
  auto c = centre();
  Desk wang = by_token(*c, "tok-console");
  Desk li = by_token(*c, "tok-li");
  Desk zhang = by_token(*c, "tok-zhang");
  zhang.presence([](const json& p) { return p["staff"].size() == 3; });
  const long long a = raise_incident(*c, "D1", 1), b = raise_incident(*c, "D3", 1);
  REQUIRE(wang.ask({{"type", "ack_incident"}, {"incident_id", a}})["type"] == "ok");

  auto code = [](const json& j) { return j["type"] == "error" ? j["code"].get<std::string>() : j.dump(); };
  CHECK(code(li.ask({{"type", "reassign"}, {"incident_id", a}, {"to", "李强"}})) == "E_FORBIDDEN");
  CHECK(code(li.ask({{"type", "take_over"}, {"incident_id", a}})) == "E_FORBIDDEN");
  CHECK(code(zhang.ask({{"type", "reassign"}, {"incident_id", a}, {"to", "赵六"}})) == "E_BAD_FIELD");
  CHECK(code(zhang.ask({{"type", "reassign"}, {"incident_id", b}, {"to", "李强"}})) == "E_BAD_STATE");  // waiting
  CHECK(code(zhang.ask({{"type", "reassign"}, {"incident_id", a}, {"to", "王芳"}})) == "E_BAD_STATE");  // already
  CHECK(holder(c->db(), a) == "王芳");

  REQUIRE(zhang.ask({{"type", "reassign"}, {"incident_id", a}, {"to", "李强"}})["type"] == "ok");
  json d = wang.delta(a, [](const json& d) { return d["incident"]["acknowledged_by"] == "李强"; });
  CHECK(json::parse(d["append"][0]["text"].get<std::string>())["how"] == "reassigned");
  CHECK(d["append"][0]["actor"] == "张敏");
  CHECK(holder(c->db(), a) == "李强");
  CHECK(audits(c->db(), "reassigned") == 1);

  REQUIRE(zhang.ask({{"type", "take_over"}, {"incident_id", a}})["type"] == "ok");
  li.delta(a, [](const json& d) { return d["incident"]["acknowledged_by"] == "张敏"; });
  CHECK(holder(c->db(), a) == "张敏");
  CHECK(audits(c->db(), "taken_over") == 1);
  // A waiting incident taken over is simply acknowledged by the supervisor.
  REQUIRE(zhang.ask({{"type", "take_over"}, {"incident_id", b}})["type"] == "ok");
  CHECK(holder(c->db(), b) == "张敏");
  CHECK(cell(c->db(), "SELECT state FROM incidents WHERE id = " + std::to_string(b)) == "acknowledged");
}

TEST_CASE("signing out with incidents in hand is refused unless forced", "[handover]") {
  auto c = centre();
  Desk wang = by_login(*c, "wangfang");
  Desk zhang = by_token(*c, "tok-zhang");
  zhang.presence([](const json& p) { return has_staff(p, "王芳"); });
  const long long a = raise_incident(*c, "D1", 1);
  REQUIRE(wang.ask({{"type", "ack_incident"}, {"incident_id", a}})["type"] == "ok");

  json refused = wang.ask({{"type", "logout"}});
  INFO(refused.dump());
  CHECK(refused["code"] == "E_BAD_STATE");
  CHECK(refused["message"].get<std::string>().find(std::to_string(a)) != std::string::npos);
  CHECK(wang.ask({{"type", "ping"}})["type"] == "pong");  // still signed in

  CHECK(wang.ask({{"type", "logout"}, {"force", true}})["type"] == "ok");
  json gone = zhang.presence([](const json& p) { return !has_staff(p, "王芳"); });
  CHECK(gone["staff"].size() == 1);
  CHECK(holder(c->db(), a) == "王芳");  // left in their name, for a supervisor to move
  CHECK(audits(c->db(), "signed_out_holding") == 1);

  // With nothing in hand a plain logout goes through.
  Desk li = by_login(*c, "liqiang");
  CHECK(li.ask({{"type", "logout"}})["type"] == "ok");
}

TEST_CASE("a handover and its notes survive a restart and one pending lapses", "[handover]") {
  auto c = centre();
  long long a = 0, done = 0, pending = 0;
  // The consoles stay connected through the restart: the offer still waits when the
  // server stops, and lapses as the new one starts.
  Desk wang = by_token(*c, "tok-console");
  Desk li = by_token(*c, "tok-li");
  {
    wang.presence([](const json& p) { return p["staff"].size() == 2; });
    a = raise_incident(*c, "D1", 1);
    REQUIRE(wang.ask({{"type", "ack_incident"}, {"incident_id", a}})["type"] == "ok");
    done = wang.ask({{"type", "handover"}, {"to", "李强"}, {"notes", "早班交接：等家属回电"}})["id"];
    REQUIRE(li.ask({{"type", "handover_answer"}, {"handover_id", done}, {"accept", true}})["type"] == "ok");
    pending = li.ask({{"type", "handover"}, {"to", "王芳"}, {"notes", "未答复"}})["id"];
    REQUIRE(pending > done);
    li.presence([&](const json& p) { return first(p).value("id", 0LL) == pending; });
  }
  c->restart();
  wang.c.reset();
  li.c.reset();

  Desk zhang = by_token(*c, "tok-zhang");
  json p = zhang.presence([](const json&) { return true; });
  INFO(p.dump());
  REQUIRE(p["handovers"].size() == 2);
  CHECK(p["handovers"][0]["id"] == pending);
  CHECK(p["handovers"][0]["state"] == "lapsed");
  CHECK(p["handovers"][0]["reason"] == "the server restarted");
  CHECK(p["handovers"][1]["notes"] == "早班交接：等家属回电");
  CHECK(p["handovers"][1]["state"] == "accepted");
  CHECK(holder(c->db(), a) == "李强");
  // The notes stay on the incident's timeline too, as every console reads it.
  zhang.c->send(json{{"type", "subscribe"}}.dump());
  json snap = test::next_of_type(*zhang.c, "snapshot");
  bool seen = false;
  for (const auto& i : snap["incidents"])
    if (i["id"] == a)
      for (const auto& t : i["timeline"])
        seen |= t["kind"] == "handed_over" && t["text"].get<std::string>().find("早班交接") != std::string::npos;
  CHECK(seen);
  const auto rows = handovers::all(Store(c->db()));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].notes == "早班交接：等家属回电");
  CHECK(rows[1].state == "lapsed");
}
