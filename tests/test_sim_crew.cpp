// anxin-sim play --crew: the demo's field workers sign in on the real field port,
// go on duty, move, and take the offers an operator's dispatch sends them through
// to a filed report, as people with the field page would (docs/demo.md).
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <set>

#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

TEST_CASE("anxin-sim play --crew: field workers accept offers then arrive and file reports", "[sim]") {
  test::TempDir dir;
  const std::string db = dir.file("crew.db");
  {
    test::Process gen({ANXIN_SIM_BIN, "generate", "--db", db, "--elders", "60", "--workers", "8", "--seed", "13"},
                      dir.file("generate.log"));
    REQUIRE(gen.wait(std::chrono::seconds(60)) == 0);
  }
  json tokens;
  std::ifstream(db + ".tokens.json") >> tokens;
  const std::string console_token = tokens["consoles"][0]["token"];
  const long long on_duty = test::count_rows(db, "workers WHERE on_duty = 1");
  REQUIRE(on_duty > 0);

  gateway::ServerOptions o;
  o.field_port = 0;
  o.tick_ms = 50;
  test::Centre centre(false, o, nullptr, db);
  // Alarms twice a second; the crew's minutes pass 600 times faster.
  test::Process sim({ANXIN_SIM_BIN, "play", "--db", db, "--port", std::to_string(centre.port()), "--field-port",
                     std::to_string(centre.server().field_port()), "--rate", "2", "--seed", "3", "--heartbeat-s", "0",
                     "--speedup", "600", "--crew", "all"},
                    dir.file("sim.log"));

  // The operator: acknowledges and dispatches every new incident.
  auto console = centre.client("console", console_token);
  console->send(R"({"type":"subscribe","req":"s"})");
  std::set<long long> sent;
  int req = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  auto done = [&] {
    return test::count_rows(db, "assignments WHERE state = 'completed'") >= 3 &&
           test::count_rows(db, "visits WHERE incident_id > 0") >= 3;
  };
  while (std::chrono::steady_clock::now() < deadline && !done()) {
    auto text = console->next(std::chrono::milliseconds(200));
    if (!text) continue;
    const json j = json::parse(*text);
    if (j.value("type", "") != "delta" || j.value("event", "") != "incident_opened") continue;
    const long long id = j["incident"]["id"];
    if (!sent.insert(id).second) continue;
    console->send(json{{"type", "ack_incident"}, {"incident_id", id}, {"req", "a" + std::to_string(++req)}}.dump());
    console->send(json{{"type", "dispatch"}, {"incident_id", id}, {"req", "d" + std::to_string(++req)}}.dump());
  }
  sim.signal(SIGTERM);
  REQUIRE(sim.wait(std::chrono::seconds(10)) == 0);
  const std::string log = test::read_file(dir.file("sim.log"));
  INFO(log);
  REQUIRE(done());
  // Each report is a visit at home with its service areas, filed by the worker sent.
  CHECK(test::count_rows(db, "visits v JOIN assignments a ON a.incident_id = v.incident_id AND a.worker_id = "
                             "v.worker_id WHERE a.state = 'completed' AND v.areas LIKE '%emergency%'") >= 3);
  CHECK(test::count_rows(db, "incident_events WHERE kind = 'on_scene'") >= 3);
  // Every worker on duty signed in.
  CHECK(log.find("field workers: " + std::to_string(on_duty) + " sign-ins") != std::string::npos);
  CHECK(test::count_rows(db, "audit WHERE action = 'accept'") >= 3);
  CHECK(test::count_rows(db, "audit WHERE action = 'duty_on'") >= 1);
}
