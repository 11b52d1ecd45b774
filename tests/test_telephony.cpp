// The centre's phone line end to end (issue 9): a real anxin-server with two operator
// seats (real baresip agents it drives), real consoles over WebSocket, and more real
// agents played by the test: the elder's phone that dials in and plays a tone, a 120
// desk that answers, a family member who never answers and one who does.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "anxin/core/protocol.hpp"
#include "sip_support.hpp"

using namespace anxin;
using test::json;
using Kind = SeatEvent::Kind;
using namespace std::chrono_literals;

namespace {

// Frames until one of `type` satisfies `ok`; fails the test after `timeout`.
json wait_for(gateway::SyncClient& c, const std::string& type, const std::function<bool(const json&)>& ok,
              std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    json j = test::next_json(c, std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::max(end - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration(1ms))));
    if (j["type"] == type && ok(j)) return j;
  }
  FAIL("no " << type << " frame as expected within " << timeout.count() << " ms");
  return {};
}

json seat_of(const json& line, const std::string& name) {
  for (const auto& s : line["seats"])
    if (s["name"] == name) return s;
  return {};
}

json call_at(const json& line, const std::string& seat) {
  for (const auto& c : line["calls"])
    if (c["seat"] == seat) return c;
  return {};
}

// The `phone` entry a delta appends, parsed, or null.
json phone_entry(const json& delta) {
  for (const auto& e : delta.value("append", json::array()))
    if (e["kind"] == "phone") return json::parse(e["text"].get<std::string>());
  return {};
}

// A test's own phone: a real agent with the account `user` (the number it calls from
// or answers as).
struct Phone {
  test::SeatEvents events;
  std::unique_ptr<Seat> seat;
  Phone(const test::TempDir& dir, const std::string& user, int base, int index, const std::string& audio = "") {
    SeatConfig c = test::seat_config(dir, user, base, index);
    c.audio_source = audio;
    c.record_dir.clear();
    seat = std::make_unique<Seat>(c, events.sink());
    REQUIRE(events.next(Kind::up, 15s));
  }
};

}  // namespace

TEST_CASE("the phone line: calls in and out, recorded, on the incident", "[sip][ws]") {
  if (!test::have_baresip()) {
    WARN("baresip is not installed (./run test installs baresip-core)");
    return;
  }
  test::TempDir dir;
  const int seats = test::free_port_block(), peers = test::free_port_block();
  REQUIRE(seats != peers);
  auto port = [](int base, int i) { return std::to_string(base + 10 * i); };
  const std::string tone = dir.file("tone.wav");  // what the elder "says": 1 kHz, then silence
  REQUIRE(std::system(("sox -n -r 8000 -c 1 -b 16 " + tone + " synth 3.5 sine 1000 pad 0 10").c_str()) == 0);

  json line_file = {
      {"seats",
       {{{"name", "seat1"}, {"sip_port", seats}, {"ctrl_port", seats + 5}, {"rtp_min", seats + 50}, {"rtp_max", seats + 59}},
        {{"name", "seat2"}, {"sip_port", seats + 10}, {"ctrl_port", seats + 15}, {"rtp_min", seats + 60},
         {"rtp_max", seats + 69}}}},
      {"dial",
       {{"default", "sip:{number}@127.0.0.1:" + port(peers, 1)},  // the family member who never answers
        {"120", "sip:120@127.0.0.1:" + port(peers, 2)},
        {"13900000002", "sip:13900000002@127.0.0.1:" + port(peers, 3)}}},
      {"ring_timeout_s", 3},
      {"workdir", dir.file("line")},
      {"recordings", dir.file("recordings")}};
  std::ofstream(dir.file("line.json")) << line_file.dump(2);
  gateway::ServerOptions options;
  options.line_file = dir.file("line.json");
  test::Centre centre(true, options);

  Phone elder(dir, "13800000001", peers, 0, tone);  // 张桂英's own phone
  Phone family1(dir, "13900000001", peers, 1);        // 王建国, who never answers
  Phone desk120(dir, "120", peers, 2);
  Phone family2(dir, "13900000002", peers, 3);        // 刘大妈, who does

  auto console = centre.client("console", "tok-console");
  console->send(R"({"type":"subscribe"})");
  REQUIRE(test::next_json(*console)["type"] == "snapshot");
  json line = wait_for(*console, "line", [](const json&) { return true; });
  CHECK(line["configured"] == true);
  console->send(R"({"type":"seat","seat":"seat1","req":"s"})");
  CHECK(test::next_of_type(*console, "ok")["req"] == "s");
  line = wait_for(*console, "line", [](const json& l) {
    return seat_of(l, "seat1")["up"] == true && seat_of(l, "seat2")["up"] == true &&
           seat_of(l, "seat1")["operator"] == "王芳";
  }, 20s);

  // 1. The elder's phone rings the centre: the card is on the console before anyone answers.
  elder.seat->dial("sip:seat1@127.0.0.1:" + port(seats, 0), "in1");
  json opened = wait_for(*console, "delta", [](const json& d) { return d["event"] == "incident_opened"; });
  CHECK(opened["append"][0]["alert_kind"] == "phone_call");
  CHECK(opened["append"][0]["detail"]["via"] == "elder_phone");
  CHECK(opened["elder"]["name"] == "张桂英");
  const long long incident = opened["incident"]["id"];
  line = wait_for(*console, "line", [](const json& l) { return call_at(l, "seat1")["state"] == "ringing"; });
  CHECK(call_at(line, "seat1")["elder_id"] == 1);
  CHECK(call_at(line, "seat1")["incident_id"] == incident);
  CHECK(call_at(line, "seat1")["direction"] == "in");

  // 2. One key answers; a few seconds of talk; hang up: the timeline has the call, its
  // duration and a recording of what the elder's phone played.
  console->send(R"({"type":"answer","req":"a"})");
  CHECK(test::next_of_type(*console, "ok")["id"] == incident);
  REQUIRE(elder.events.next(Kind::established, 5s));
  wait_for(*console, "delta", [](const json& d) { return d["event"] == "incident_acknowledged"; });
  std::this_thread::sleep_for(3s);
  console->send(R"({"type":"hangup"})");
  json ended = wait_for(*console, "delta", [](const json& d) { return !phone_entry(d).is_null(); });
  json call = phone_entry(ended);
  CHECK(call["direction"] == "in");
  CHECK(call["result"] == "answered");
  CHECK(call["talk_s"].get<int>() >= 2);
  CHECK(call["talk_s"].get<int>() <= 4);
  REQUIRE(call.contains("recording"));
  const std::string heard = dir.file("recordings") + "/" + call["recording"].get<std::string>();
  const std::string stat = test::run("sox " + heard + " -n stat 2>&1");
  const double length = test::sox_stat(stat, "Length \\(seconds\\)");
  CHECK(length > 2.0);
  CHECK(length < 4.5);
  CHECK(test::sox_stat(stat, "RMS     amplitude") > 0.05);
  CHECK(test::band_share(heard, 900, 1100) > 0.6);  // the elder's 1 kHz, not noise
  // Consoles may play it; the bytes come over the protocol.
  console->send(json{{"type", "recording"}, {"name", call["recording"]}, {"req", "r"}}.dump());
  json rec = test::next_of_type(*console, "recording");
  auto bytes = protocol::base64_decode(rec["wav_base64"].get<std::string>());
  REQUIRE(bytes);
  CHECK(bytes->size() == std::filesystem::file_size(heard));

  // 3. 120 rings and answers.
  console->send(json{{"type", "call"}, {"incident_id", incident}, {"kind", "ambulance_120"}}.dump());
  const long long task120 = test::next_of_type(*console, "ok")["id"];
  auto ring120 = desk120.events.next(Kind::incoming, 10s);
  REQUIRE(ring120);
  desk120.seat->accept();
  REQUIRE(desk120.events.next(Kind::established, 5s));
  std::this_thread::sleep_for(1500ms);
  desk120.seat->hangup();
  json after120 = wait_for(*console, "delta", [](const json& d) { return !phone_entry(d).is_null(); });
  CHECK(phone_entry(after120)["target"] == "ambulance_120");
  CHECK(phone_entry(after120)["result"] == "answered");
  CHECK(phone_entry(after120)["task_id"] == task120);
  for (const auto& t : after120["incident"]["calls"])
    if (t["id"] == task120) CHECK(t["state"] == "answered");

  // 4. The family cascade: the son never answers; after the ring timeout the line
  // hangs up, the task says no answer and the neighbour is dialled by itself.
  console->send(json{{"type", "call"}, {"incident_id", incident}, {"kind", "family"}}.dump());
  test::next_of_type(*console, "ok");
  REQUIRE(family1.events.next(Kind::incoming, 10s));
  json missed = wait_for(*console, "delta", [](const json& d) { return !phone_entry(d).is_null(); }, 15s);
  CHECK(phone_entry(missed)["result"] == "no_answer");
  CHECK(phone_entry(missed)["number"] == "13900000001");
  auto ring2 = family2.events.next(Kind::incoming, 10s);
  REQUIRE(ring2);
  family2.seat->accept();
  REQUIRE(family2.events.next(Kind::established, 5s));
  std::this_thread::sleep_for(1s);
  family2.seat->hangup();
  json reached = wait_for(*console, "delta", [](const json& d) { return !phone_entry(d).is_null(); });
  CHECK(phone_entry(reached)["number"] == "13900000002");
  CHECK(phone_entry(reached)["result"] == "answered");
  std::vector<std::string> family;
  for (const auto& t : reached["incident"]["calls"])
    if (t["kind"] == "family") family.push_back(t["state"]);
  CHECK(family == std::vector<std::string>{"no_answer", "answered"});

  // 5. A number nobody knows: an incident marked unknown caller, which the operator
  // links to the elder once the caller says who they are calling about.
  Phone stranger(dir, "13700000000", peers, 4);
  stranger.seat->dial("sip:seat1@127.0.0.1:" + port(seats, 0), "in3");
  json unknown = wait_for(*console, "delta", [](const json& d) { return d["event"] == "incident_opened"; });
  INFO(unknown.dump());
  CHECK(unknown["elder"]["unknown_caller"] == true);
  CHECK(unknown["elder"]["name"] == "未知来电");
  CHECK(unknown["elder"]["phone"] == "13700000000");
  const long long unknown_incident = unknown["incident"]["id"];
  console->send(R"({"type":"find_elders","q":"李德明","req":"f"})");
  json found = test::next_of_type(*console, "elders");
  REQUIRE(found["elders"].size() == 1);
  CHECK(found["elders"][0]["id"] == 2);
  console->send(json{{"type", "link_caller"}, {"incident_id", unknown_incident}, {"elder_id", 2}, {"req", "l"}}.dump());
  // The delta goes out with the reply, before it.
  json linked = wait_for(*console, "delta", [&](const json& d) { return d["incident"]["id"] == unknown_incident; });
  CHECK(test::next_of_type(*console, "ok")["id"] == unknown_incident);
  CHECK(linked["incident"]["elder_id"] == 2);
  CHECK(linked["elder"]["name"] == "李德明");
  stranger.seat->hangup();
  wait_for(*console, "line", [](const json& l) { return call_at(l, "seat1").is_null(); });

  // 6. Seat 1's agent dies: every console sees it down; the call goes to seat 2,
  // whose operator answers; seat 1 comes back by itself.
  auto console2 = centre.client("console", "tok-console");
  console2->send(R"({"type":"subscribe"})");
  REQUIRE(test::next_json(*console2)["type"] == "snapshot");
  console2->send(R"({"type":"seat","seat":"seat2"})");
  test::next_of_type(*console2, "ok");
  // "[s]" keeps the shell that runs pgrep, whose command line holds the pattern, from
  // matching it; after the pids wrap around, that shell can come first in the list.
  const std::string pids = test::run("pgrep -f '" + dir.file("line") + "/[s]eat1'");
  REQUIRE(!pids.empty());
  REQUIRE(std::system(("kill -9 " + pids.substr(0, pids.find('\n'))).c_str()) == 0);
  wait_for(*console, "line", [](const json& l) { return seat_of(l, "seat1")["up"] == false; });
  elder.seat->dial("sip:seat2@127.0.0.1:" + port(seats, 1), "in2");
  line = wait_for(*console2, "line", [](const json& l) { return call_at(l, "seat2")["state"] == "ringing"; });
  CHECK(call_at(line, "seat2")["elder_id"] == 1);
  console2->send(R"({"type":"answer"})");
  test::next_of_type(*console2, "ok");
  REQUIRE(elder.events.next(Kind::established, 5s));
  elder.seat->hangup();
  wait_for(*console, "line", [](const json& l) { return seat_of(l, "seat1")["up"] == true; }, 15s);
}
