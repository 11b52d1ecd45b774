// Dispatch you can trust (issue 14, item 7), over the protocol against a real server:
// the candidates reply is in the order "dispatch best" offers, each row says why it
// stands there, and a worker whose phone page is not connected is marked and offered
// last (offer_unconnected "last"), or not at all ("never").
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <thread>

#include "anxin/gateway/config_file.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

Millis now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

json answer(gateway::SyncClient& c, const json& frame) {
  const std::string req = frame.value("req", "q");
  json f = frame;
  f["req"] = req;
  c.send(f.dump());
  for (;;) {
    json j = test::next_json(c);
    if (j.value("req", "") == req) return j;
  }
}

json candidates(gateway::SyncClient& console, long long incident) {
  json c = answer(console, {{"type", "candidates"}, {"incident_id", incident}, {"req", "cands"}});
  REQUIRE(c["type"] == "candidates");
  return c;
}

std::vector<std::string> codes(const json& row) {
  std::vector<std::string> out;
  for (const auto& r : row["reasons"]) out.push_back(r["code"]);
  return out;
}

long long offered_worker(const std::string& db) {
  sqlite3* h = nullptr;
  sqlite3_stmt* s = nullptr;
  long long w = -1;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_prepare_v2(h, "SELECT worker_id FROM assignments ORDER BY id DESC LIMIT 1", -1, &s, nullptr) ==
          SQLITE_OK);
  if (sqlite3_step(s) == SQLITE_ROW) w = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(h);
  return w;
}

// Both workers with fresh positions: 1 (a nurse) next to elder 1, 2 a kilometre off.
void place(gateway::SyncClient& w1, gateway::SyncClient& w2) {
  const Millis t = now_ms();
  REQUIRE(answer(w1, {{"type", "position"}, {"lat", 34.8311}, {"lon", 115.5411}, {"accuracy_m", 8}, {"at_ms", t}})["type"] == "ok");
  REQUIRE(answer(w2, {{"type", "position"}, {"lat", 34.839}, {"lon", 115.549}, {"accuracy_m", 8}, {"at_ms", t}})["type"] == "ok");
}

long long raise_sos(test::Centre& centre) {
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D1", 1, "sos"));
  return test::next_of_type(*device, "ack")["incident_id"];
}

}  // namespace

TEST_CASE("the candidates come in the order dispatch best offers, each with its reasons", "[candidates]") {
  test::Centre centre;
  auto console = centre.client("console", "tok-console");
  auto w1 = centre.client("field", "tok-w1");
  auto w2 = centre.client("field", "tok-w2");
  place(*w1, *w2);
  const long long incident = raise_sos(centre);

  json c = candidates(*console, incident);
  REQUIRE(c["candidates"].size() == 2);
  const json& first = c["candidates"][0];
  CHECK(first["worker_id"] == 1);
  CHECK(first["connected"] == true);
  // Every row says why: the role, and last its ETA and distance.
  for (const auto& row : c["candidates"]) {
    INFO(row.dump());
    REQUIRE_FALSE(row["reasons"].empty());
    CHECK(row["reasons"].back()["code"] == "eta");
    CHECK(row["reasons"].back()["eta_s"] == row["eta_s"]);
    CHECK(row["reasons"].back()["distance_m"] == row["distance_m"]);
  }
  // Worker 1 is elder 1's paired visitor.
  CHECK(codes(first) == std::vector<std::string>{"paired_visitor", "preferred_role", "eta"});

  // Dispatch best offers row 0: the assignment in the file is theirs.
  REQUIRE(answer(*console, {{"type", "dispatch"}, {"incident_id", incident}})["type"] == "ok");
  CHECK(offered_worker(centre.db()) == first["worker_id"].get<long long>());
  CHECK(test::next_of_type(*w1, "task")["event"] == "offer");
}

TEST_CASE("a worker whose phone page is not connected is marked and offered last", "[candidates]") {
  test::Centre centre;
  auto console = centre.client("console", "tok-console");
  auto w2 = centre.client("field", "tok-w2");
  {
    auto w1 = centre.client("field", "tok-w1");
    place(*w1, *w2);
  }  // worker 1's page closes: nearer, but no longer reachable on the phone page
  const long long incident = raise_sos(centre);

  // The server notices the close within a moment.
  json c;
  for (int k = 0; k < 50; ++k) {
    c = candidates(*console, incident);
    if (c["candidates"].size() == 2 && c["candidates"][0]["worker_id"] == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO(c.dump());
  REQUIRE(c["candidates"].size() == 2);
  CHECK(c["candidates"][0]["worker_id"] == 2);
  CHECK(c["candidates"][0]["connected"] == true);
  CHECK(c["candidates"][1]["worker_id"] == 1);
  CHECK(c["candidates"][1]["connected"] == false);
  CHECK(codes(c["candidates"][1]).front() == "not_connected");
  // SOS prefers no role: worker 2, a volunteer, is in a preferred role too.
  CHECK(codes(c["candidates"][0]) == std::vector<std::string>{"preferred_role", "eta"});

  REQUIRE(answer(*console, {{"type", "dispatch"}, {"incident_id", incident}})["type"] == "ok");
  CHECK(offered_worker(centre.db()) == 2);

  // Back on the page, worker 1 is first again for the next incident.
  auto again = centre.client("field", "tok-w1");
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D3", 1, "sos"));
  const long long second = test::next_of_type(*device, "ack")["incident_id"];
  json c2 = candidates(*console, second);
  REQUIRE_FALSE(c2["candidates"].empty());
  CHECK(c2["candidates"][0]["worker_id"] == 1);
  CHECK(c2["candidates"][0]["connected"] == true);
}

TEST_CASE("under offer_unconnected never an unconnected worker is no candidate", "[candidates]") {
  gateway::ServerOptions o;
  o.config.offer_unconnected = DispatchConfig::OfferUnconnected::never;
  test::Centre centre(true, o);
  auto console = centre.client("console", "tok-console");
  auto w2 = centre.client("field", "tok-w2");
  {
    auto w1 = centre.client("field", "tok-w1");
    place(*w1, *w2);
  }
  const long long incident = raise_sos(centre);
  json c;
  for (int k = 0; k < 50; ++k) {
    c = candidates(*console, incident);
    if (c["candidates"].size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO(c.dump());
  REQUIRE(c["candidates"].size() == 1);
  CHECK(c["candidates"][0]["worker_id"] == 2);
  REQUIRE(answer(*console, {{"type", "dispatch"}, {"incident_id", incident}})["type"] == "ok");
  CHECK(offered_worker(centre.db()) == 2);
  // The operator may still choose an unconnected worker by name.
  REQUIRE(answer(*console, {{"type", "dispatch"}, {"incident_id", incident}, {"worker_id", 1}})["type"] == "ok");
  CHECK(offered_worker(centre.db()) == 1);
}

TEST_CASE("offer_unconnected is read from the config file", "[candidates][config]") {
  auto never = gateway::apply_config(R"({"offer_unconnected": "never"})", {});
  REQUIRE(never.ok());
  CHECK(never.value().config.offer_unconnected == DispatchConfig::OfferUnconnected::never);
  CHECK(gateway::ServerOptions{}.config.offer_unconnected == DispatchConfig::OfferUnconnected::last);
  for (const char* bad : {R"({"offer_unconnected": "sometimes"})", R"({"offer_unconnected": 1})"}) {
    auto r = gateway::apply_config(bad, {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("offer_unconnected") != std::string::npos);
  }
  CHECK(json::parse(gateway::config_json(never.value()))["offer_unconnected"] == "never");
}

TEST_CASE("reasons say why a candidate stands where it does", "[candidates]") {
  Candidate c;
  c.paired = true;
  c.connected = false;
  c.preferred_role = false;
  c.role_penalty_s = 300;
  c.stale = true;
  c.stale_penalty_s = 150;
  c.position_age_ms = 15 * 60'000;
  c.travel_s = 200;
  c.distance_m = 1000;
  auto r = reasons_for(c);
  REQUIRE(r.size() == 5);
  CHECK(r[0].code == "not_connected");
  CHECK(r[1].code == "paired_visitor");
  CHECK(r[2].code == "other_role");
  CHECK(r[2].penalty_s == 300);
  CHECK(r[3].code == "stale_position");
  CHECK(r[3].age_s == 900);
  CHECK(r[3].penalty_s == 150);
  CHECK(r[4].code == "eta");
  CHECK(r[4].eta_s == 200);
}

TEST_CASE("an unconnected worker ranks after every connected one in the index", "[candidates]") {
  WorkerIndex index;
  WorkerSpot near{.id = 1, .lat = 34.83, .lon = 115.54, .position_ms = 0, .available = true, .connected = false};
  WorkerSpot far{.id = 2, .lat = 34.93, .lon = 115.64, .position_ms = 0, .available = true};
  index.upsert(near);
  index.upsert(far);
  CandidateQuery q{.lat = 34.83, .lon = 115.54, .now_ms = 0};
  auto got = index.nearest(q);
  REQUIRE(got.size() == 2);
  CHECK(got[0].id == 2);
  CHECK(got[1].id == 1);
  CHECK_FALSE(got[1].connected);
  CHECK(index.brute_force(q)[0].id == 2);
}
