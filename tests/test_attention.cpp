// No alarm missed (issue 14, item 2), on the server: a new critical alert that joins
// an incident already acknowledged flags it for its holder (the header's
// unseen_alert_ms), ack_incident again marks it seen, and a flag not seen within
// realert_escalate_s raises the alert_unseen escalation, with no console open. The
// flag and its timer survive a restart. A real server under a manual clock, real
// WebSocket clients, and the SQLite file it writes.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <deque>
#include <thread>

#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using json = nlohmann::json;

using test::sql_text;

namespace {

constexpr Millis kStart = 1795622400000LL + 10 * 3600 * 1000;  // 2026-11-26 10:00 Beijing

gateway::ServerOptions fast_ticks() {
  gateway::ServerOptions o;
  o.tick_ms = 20;
  return o;  // realert_escalate_s keeps its default, 60 s, on the manual clock
}

struct Desk {
  test::Centre& centre;
  ManualClock& clock;
  std::unique_ptr<gateway::SyncClient> console, device;
  long long seq = 0;
  int req = 0;

  Desk(test::Centre& c, ManualClock& k) : centre(c), clock(k) { connect(); }
  void connect() {
    console = centre.client("console", "tok-console");
    console->send(R"({"type":"subscribe"})");
    snapshot = test::next_of_type(*console, "snapshot");
    device = centre.client("device", "tok-acme");
  }
  json snapshot;

  long long alarm(const std::string& dev, const std::string& kind) {
    device->send(json{{"type", "alarm"}, {"device", dev}, {"seq", ++seq}, {"kind", kind},
                      {"device_time_ms", clock.now_ms()}, {"req", "a" + std::to_string(seq)}}
                     .dump());
    json ack = test::next_of_type(*device, "ack");
    return ack["incident_id"];
  }
  // ack_incident; the ok or the error frame.
  json acknowledge(long long incident) {
    const std::string r = "k" + std::to_string(++req);
    console->send(json{{"type", "ack_incident"}, {"incident_id", incident}, {"req", r}}.dump());
    for (;;) {
      json j = test::next_json(*console);
      if (j.value("req", "") == r) return j;
      held.push_back(std::move(j));  // deltas come before the ok: kept for next_header
    }
  }
  std::deque<json> held;
  // The next `event` delta about `incident` (earlier ones skipped): its header as the
  // consoles get it.
  json next_header(long long incident, const std::string& event) {
    for (;;) {
      json d;
      if (!held.empty()) d = std::move(held.front()), held.pop_front();
      else d = test::next_of_type(*console, "delta");
      if (d.value("type", "") == "delta" && d["incident"]["id"] == incident && d["event"] == event)
        return d["incident"];
    }
  }
  json from_snapshot(long long incident) const {
    for (const auto& i : snapshot["incidents"])
      if (i["id"] == incident) return i;
    return nullptr;
  }
};

bool has_open_escalation(const json& header, const std::string& kind) {
  for (const auto& e : header.value("escalations", json::array()))
    if (e["kind"] == kind && !e["cleared"].get<bool>()) return true;
  return false;
}

}  // namespace

TEST_CASE("a critical alert on an acknowledged incident is flagged until its holder marks it seen", "[attention]") {
  ManualClock clock{kStart};
  test::Centre centre(true, fast_ticks(), &clock);
  Desk desk(centre, clock);

  const long long id = desk.alarm("D1", "sos");
  REQUIRE(desk.acknowledge(id)["type"] == "ok");
  CHECK_FALSE(desk.next_header(id, "incident_acknowledged").contains("unseen_alert_ms"));

  // A second acknowledgement with nothing new is still refused, as before.
  json again = desk.acknowledge(id);
  REQUIRE(again["type"] == "error");
  CHECK(again.dump().find("E_BAD_STATE") != std::string::npos);

  // Smoke at the same home joins the incident: flagged, at the alert's time.
  clock.advance(5'000);
  REQUIRE(desk.alarm("D2", "smoke") == id);
  json flagged = desk.next_header(id, "alert_attached");
  REQUIRE(flagged.contains("unseen_alert_ms"));
  CHECK(flagged["unseen_alert_ms"] == clock.now_ms());
  CHECK(flagged["state"] == "acknowledged");


  // The holder presses A again: seen, on the timeline and in the audit.
  json seen = desk.acknowledge(id);
  REQUIRE(seen["type"] == "ok");
  CHECK_FALSE(desk.next_header(id, "incident_updated").contains("unseen_alert_ms"));
  const std::string sid = std::to_string(id);
  CHECK(sql_text(centre.db(), "SELECT actor FROM incident_events WHERE kind='alert_seen' AND incident_id=" + sid) ==
        "王芳");
  CHECK(sql_text(centre.db(), "SELECT COUNT(*) FROM audit WHERE action='alert_seen' AND incident_id=" + sid) == "1");

  // A lesser alert (inactivity, high but not critical) on an acknowledged incident is not flagged.
  const long long other = desk.alarm("D3", "sos");
  REQUIRE(desk.acknowledge(other)["type"] == "ok");
  desk.next_header(other, "incident_acknowledged");
  REQUIRE(desk.alarm("D4", "inactivity") == other);
  CHECK_FALSE(desk.next_header(other, "alert_attached").contains("unseen_alert_ms"));
}

TEST_CASE("an unseen critical alert escalates after realert_escalate_s and survives restarts", "[attention]") {
  ManualClock clock{kStart};
  test::Centre centre(true, fast_ticks(), &clock);
  auto desk = std::make_unique<Desk>(centre, clock);
  const std::string db = centre.db();

  const long long id = desk->alarm("D1", "sos");
  REQUIRE(desk->acknowledge(id)["type"] == "ok");
  clock.advance(10'000);
  REQUIRE(desk->alarm("D2", "smoke") == id);
  const Millis alert_ms = clock.now_ms();
  REQUIRE(desk->next_header(id, "alert_attached")["unseen_alert_ms"] == alert_ms);
  const std::string sid = std::to_string(id);

  // A restart before the timer is due: the flag comes back from the timeline, at the
  // alert's own time, and the timer keeps counting from it.
  desk.reset();
  centre.restart();
  desk = std::make_unique<Desk>(centre, clock);
  REQUIRE(desk->from_snapshot(id)["unseen_alert_ms"] == alert_ms);

  clock.advance(59'999);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // ten ticks: nothing is due yet
  CHECK(sql_text(db, "SELECT escalations FROM incidents WHERE id=" + sid).find("alert_unseen") == std::string::npos);
  clock.advance(1);
  json escalated = desk->next_header(id, "incident_updated");
  REQUIRE(has_open_escalation(escalated, "alert_unseen"));
  CHECK(test::eventually(
      [&] { return sql_text(db, "SELECT escalations FROM incidents WHERE id=" + sid).find("alert_unseen") !=
                   std::string::npos; },
      std::chrono::seconds(5)));
  CHECK(sql_text(db, "SELECT text FROM incident_events WHERE kind='escalated' AND incident_id=" + sid +
                         " ORDER BY id DESC LIMIT 1") == "alert_unseen");

  // Raised once, and still there after a restart, with the flag.
  clock.advance(60'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(sql_text(db, "SELECT COUNT(*) FROM incident_events WHERE kind='escalated' AND text='alert_unseen' AND "
                     "incident_id=" + sid) == "1");
  desk.reset();
  centre.restart();
  desk = std::make_unique<Desk>(centre, clock);
  json restored = desk->from_snapshot(id);
  CHECK(restored["unseen_alert_ms"] == alert_ms);
  CHECK(has_open_escalation(restored, "alert_unseen"));

  // Seen: the flag and the escalation clear, and stay cleared after a restart.
  REQUIRE(desk->acknowledge(id)["type"] == "ok");
  json cleared = desk->next_header(id, "incident_updated");
  CHECK_FALSE(cleared.contains("unseen_alert_ms"));
  CHECK_FALSE(has_open_escalation(cleared, "alert_unseen"));
  desk.reset();
  centre.restart();
  desk = std::make_unique<Desk>(centre, clock);
  CHECK_FALSE(desk->from_snapshot(id).contains("unseen_alert_ms"));
  clock.advance(120'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(sql_text(db, "SELECT COUNT(*) FROM incident_events WHERE kind='escalated' AND text='alert_unseen' AND "
                     "incident_id=" + sid) == "1");
}
