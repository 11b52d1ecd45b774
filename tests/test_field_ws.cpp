// Dispatch over the real WebSocket: field-worker clients receive offers, decline,
// accept, arrive and complete; notices reach a real local HTTP endpoint.
#include <catch2/catch.hpp>
#include <optional>
#include <set>

#include "http_sink.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

json send_ok(gateway::SyncClient& c, json message) {
  c.send(message.dump());
  json r = test::next_of_type(c, "ok");
  return r;
}

std::unique_ptr<gateway::SyncClient> subscribed_console(test::Centre& centre) {
  auto c = centre.client("console", "tok-console");
  c->send(R"({"type":"subscribe"})");
  REQUIRE(test::next_json(*c)["type"] == "snapshot");
  return c;
}

}  // namespace

TEST_CASE("a field worker declines, the next accepts, arrives and completes", "[ws][dispatch]") {
  test::Centre centre;
  auto console = subscribed_console(centre);
  auto w1 = centre.client("field", "tok-w1");
  auto w2 = centre.client("field", "tok-w2");

  // Each worker sees only themselves, and no incidents yet.
  w1->send(R"({"type":"subscribe"})");
  json mine = test::next_json(*w1);
  REQUIRE(mine["type"] == "snapshot");
  CHECK(mine["incidents"].empty());
  REQUIRE(mine["workers"].size() == 1);
  CHECK(mine["workers"][0]["id"] == 1);

  // Positions: worker 1 right next to elder 1, worker 2 a kilometre away.
  auto t = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  send_ok(*w1, {{"type", "position"}, {"lat", 34.8311}, {"lon", 115.5411}, {"accuracy_m", 8}, {"at_ms", t}});
  send_ok(*w2, {{"type", "position"}, {"lat", 34.839}, {"lon", 115.549}, {"accuracy_m", 15}, {"at_ms", t},
                {"mode", "car"}});
  json moved = test::next_of_type(*console, "delta");
  CHECK(moved["event"] == "worker_updated");

  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D1", 1, "sos"));
  const long long incident = test::next_json(*device)["incident_id"];

  // The console asks for candidates, then dispatches the best.
  console->send(json{{"type", "candidates"}, {"incident_id", incident}, {"req", "c1"}}.dump());
  json cands = test::next_of_type(*console, "candidates");
  REQUIRE(cands["candidates"].size() == 2);
  CHECK(cands["candidates"][0]["worker_id"] == 1);
  CHECK(cands["candidates"][0]["name"] == "赵敏");
  CHECK(cands["candidates"][0]["eta_s"].get<double>() > 0);
  send_ok(*console, {{"type", "dispatch"}, {"incident_id", incident}});

  json offer = test::next_of_type(*w1, "task");
  INFO(offer.dump());
  CHECK(offer["event"] == "offer");
  CHECK(offer["elder"]["name"] == "张桂英");
  CHECK(offer["elder"]["id_masked"] == "3729**********1234");
  const long long first = offer["assignment"]["id"];
  CHECK(offer["assignment"]["expires_ms"].get<long long>() > offer["assignment"]["offered_ms"].get<long long>());

  // Worker 2 cannot take worker 1's offer.
  w2->send(json{{"type", "accept"}, {"assignment_id", first}}.dump());
  CHECK(test::next_of_type(*w2, "error")["code"] == "E_UNKNOWN_ASSIGNMENT");

  send_ok(*w1, {{"type", "decline"}, {"assignment_id", first}, {"reason", "正在另一户探访"}});
  json second = test::next_of_type(*w2, "task");
  CHECK(second["event"] == "offer");
  const long long a2 = second["assignment"]["id"];
  send_ok(*w2, {{"type", "accept"}, {"assignment_id", a2}});
  send_ok(*w2, {{"type", "on_scene"}, {"assignment_id", a2}});
  send_ok(*w2, {{"type", "complete"}, {"assignment_id", a2}, {"outcome", "老人血压偏高，已联系家属"}});

  // The incident's timeline holds every step, in order.
  console->send(R"({"type":"subscribe"})");
  json snap = test::next_of_type(*console, "snapshot");
  REQUIRE(snap["incidents"].size() == 1);
  const json& inc = snap["incidents"][0];
  std::vector<std::string> steps;
  for (const auto& e : inc["timeline"]) steps.push_back(e["kind"]);
  CHECK(steps == std::vector<std::string>{"alert", "acknowledged", "offered", "declined", "offered", "accepted",
                                          "on_scene", "completed"});
  CHECK(inc["timeline"][3]["text"] == "正在另一户探访");
  REQUIRE(inc["assignments"].size() == 2);
  CHECK(inc["assignments"][0]["state"] == "declined");
  CHECK(inc["assignments"][1]["state"] == "completed");
  CHECK(test::count_rows(centre.db(), "assignments") == 2);
  for (const auto& w : snap["workers"]) CHECK(w["status"] == "available");
}

TEST_CASE("a field token cannot read the registry or act as a console", "[ws][dispatch]") {
  test::Centre centre;
  auto w1 = centre.client("field", "tok-w1");
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D3", 1, "sos"));
  const long long incident = test::next_json(*device)["incident_id"];
  // Someone else's incident, not offered to worker 1: not in their snapshot.
  w1->send(R"({"type":"subscribe"})");
  json snap = test::next_json(*w1);
  CHECK(snap["incidents"].empty());
  CHECK(snap["elders"].empty());
  for (const char* frame : {R"({"type":"metrics"})", R"({"type":"candidates","incident_id":1})"}) {
    w1->send(frame);
    CHECK(test::next_json(*w1)["code"] == "E_FORBIDDEN");
  }
  w1->send(json{{"type", "ack_incident"}, {"incident_id", incident}}.dump());
  CHECK(test::next_json(*w1)["code"] == "E_FORBIDDEN");
  w1->send(json{{"type", "dispatch"}, {"incident_id", incident}}.dump());
  CHECK(test::next_json(*w1)["code"] == "E_FORBIDDEN");
}

TEST_CASE("notices reach the webhook as JSON", "[ws][notify]") {
  test::HttpSink sink;
  gateway::ServerOptions o;
  o.webhook_url = sink.url("/notify");
  test::Centre centre(true, o);
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D2", 1, "smoke"));
  REQUIRE(test::next_json(*device)["type"] == "ack");
  REQUIRE(sink.wait_for(2, std::chrono::seconds(10)));
  auto reqs = sink.requests();
  std::set<std::string> phones;
  for (const auto& r : reqs) {
    CHECK(r.method == "POST");
    CHECK(r.path == "/notify");
    json body = json::parse(r.body);
    CHECK(body["kind"] == "contact_sms");
    CHECK(body["elder_id"] == 1);
    CHECK(body["text"].get<std::string>().find("烟雾报警") != std::string::npos);
    phones.insert(body["to_phone"]);
  }
  CHECK(phones == std::set<std::string>{"13900000001", "13900000002"});

  // The operator calls 120: a call request goes out too.
  auto console = centre.client("console", "tok-console");
  console->send(json{{"type", "call"}, {"incident_id", 1}, {"kind", "ambulance_120"}}.dump());
  CHECK(test::next_json(*console)["type"] == "ok");
  REQUIRE(sink.wait_for(3, std::chrono::seconds(10)));
  CHECK(json::parse(sink.requests()[2].body)["kind"] == "ambulance_120");
}

TEST_CASE("a notice that finally fails reaches the incident's consoles and survives a restart", "[ws][notify]") {
  test::HttpSink sink(500);  // a gateway that always fails
  gateway::ServerOptions o;
  o.webhook_url = sink.url("/notify");
  o.webhook_secret = "gateway-test-secret";
  o.webhook_attempts = 2;  // fast: two tries 10 ms apart
  o.webhook_backoff_ms = 10;
  o.webhook_timeout_ms = 2000;
  test::Centre centre(true, o);
  auto console = subscribed_console(centre);
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D2", 1, "smoke"));
  const long long incident = test::next_json(*device)["incident_id"];

  // Both contacts' SMS fail twice each; each failure is a delta on the incident.
  auto failed_entry = [&](const json& delta) -> std::optional<json> {
    for (const auto& e : delta["append"])
      if (e["kind"] == "notice_failed") return e;
    return std::nullopt;
  };
  std::set<std::string> masked;
  while (masked.size() < 2) {
    json d = test::next_of_type(*console, "delta", std::chrono::seconds(15));
    auto e = failed_entry(d);
    if (!e) continue;
    INFO(d.dump());
    CHECK(d["event"] == "incident_updated");
    CHECK(d["incident"]["id"] == incident);
    CHECK((*e)["actor"] == "system");
    json text = json::parse((*e)["text"].get<std::string>());
    CHECK(text["notice"] == "contact_sms");
    CHECK(text["reason"] == "HTTP 500");
    CHECK(text["attempts"] == 2);
    masked.insert(text["to"].get<std::string>());
  }
  CHECK(masked == std::set<std::string>{"139****0001", "139****0002"});
  CHECK(sink.requests().size() == 4);
  for (const auto& r : sink.requests()) CHECK(r.headers.count("x-anxin-signature") == 1);

  // A 120 request that fails: the call task says so, and 120 can be asked again.
  console->send(json{{"type", "call"}, {"incident_id", incident}, {"kind", "ambulance_120"}}.dump());
  const long long task = test::next_of_type(*console, "ok")["id"];
  for (;;) {
    json d = test::next_of_type(*console, "delta", std::chrono::seconds(15));
    auto e = failed_entry(d);
    if (!e) continue;
    CHECK(json::parse((*e)["text"].get<std::string>())["task_id"] == task);
    REQUIRE(d["incident"]["calls"].size() == 1);
    CHECK(d["incident"]["calls"][0]["state"] == "failed");
    CHECK(d["append"].back()["text"] == "ambulance_120:failed");
    break;
  }

  // Committed like any change: there after a restart.
  centre.restart();
  auto later = centre.client("console", "tok-console");
  later->send(R"({"type":"subscribe"})");
  json snap = test::next_of_type(*later, "snapshot");
  REQUIRE(snap["incidents"].size() == 1);
  int failures = 0;
  for (const auto& e : snap["incidents"][0]["timeline"]) failures += e["kind"] == "notice_failed";
  CHECK(failures == 3);
  CHECK(snap["incidents"][0]["calls"][0]["state"] == "failed");
}

TEST_CASE("consoles never see where an off-duty worker is", "[ws][dispatch]") {
  test::Centre centre;
  auto console = subscribed_console(centre);
  auto w1 = centre.client("field", "tok-w1");
  send_ok(*w1, {{"type", "duty"}, {"on", false}});
  json off = test::next_of_type(*console, "delta");
  REQUIRE(off["worker"]["status"] == "off_duty");
  CHECK(off["worker"]["lat"] == 0);
  auto t = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  send_ok(*w1, {{"type", "position"}, {"lat", 34.8311}, {"lon", 115.5411}, {"accuracy_m", 8}, {"at_ms", t}});
  json moved = test::next_of_type(*console, "delta");
  CHECK(moved["worker"]["lat"] == 0);
  CHECK(moved["worker"]["lon"] == 0);
  CHECK(moved["worker"]["position_ms"] == 0);
  auto late = subscribed_console(centre);  // a snapshot hides it too
  late->send(R"({"type":"subscribe"})");
  json snap = test::next_of_type(*late, "snapshot");
  for (const auto& w : snap["workers"])
    if (w["id"] == 1) CHECK(w["lat"] == 0);
  // On duty again, the position is the responder's, for dispatch.
  send_ok(*w1, {{"type", "duty"}, {"on", true}});
  json on = test::next_of_type(*console, "delta");
  CHECK(on["worker"]["status"] == "available");
  CHECK(on["worker"]["lat"] == Approx(34.8311));
}
