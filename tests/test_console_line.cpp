// The console on the centre's phone line (issue 9). Headless: the replica keeps the
// line's last picture and forgets it on a resync; a call's timeline entry reads in
// words; the new alert kind has names. Then the real console under Xvfb at seat1 of
// a real server whose line drives a real baresip agent: the elder's phone (another
// agent, played by this test) rings the seat, the console shows the caller's card on
// the first ring, P answers (the phone hears the call established), H hangs up, and
// the console dials the elder back from the workspace. A number nobody knows: the
// workspace marks the unknown caller, L finds the elder, Enter links the incident
// (refused for an elder with an incident open, accepted for one without).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>


#include "i18n.hpp"
#include "line.hpp"
#include "process.hpp"
#include "replica.hpp"
#include "screenshot.hpp"
#include "settings.hpp"
#include "sip_support.hpp"

using namespace anxin;
using namespace anxin::console;
using test::json;
using Kind = SeatEvent::Kind;
using namespace std::chrono_literals;

namespace {

protocol::LineState a_line() {
  protocol::LineState line;
  line.configured = true;
  line.seats = {{"seat1", true, "王芳", "ringing"}, {"seat2", false, "", "idle"}, {"seat3", true, "李娜", "dialling"}};
  protocol::CallView in, out;
  in.id = "c1", in.seat = "seat1", in.number = "13800000001", in.target = "inbound", in.elder = 1, in.incident = 7;
  in.state = "ringing", in.since_ms = 1000;
  out.id = "c2", out.seat = "seat3", out.outgoing = true, out.number = "120", out.target = "ambulance_120";
  out.state = "ringing", out.since_ms = 500;
  line.calls = {in, out};
  return line;
}

}  // namespace

TEST_CASE("the replica keeps the line's last picture until a resync", "[console][replica]") {
  Replica r;
  protocol::Snapshot s;
  s.seq = 1, s.epoch = "e1";
  r.apply(s);
  CHECK_FALSE(r.line());  // no line frame: no SIP line
  r.apply(a_line());
  REQUIRE(r.line());
  const auto& line = *r.line();
  CHECK(seat_named(line, "seat2")->up == false);
  CHECK(seat_named(line, "seat9") == nullptr);
  CHECK(call_at(line, "seat3")->number == "120");
  // Only callers nobody has answered: not my outgoing call that rings at the far end.
  const auto waiting = waiting_calls(line);
  REQUIRE(waiting.size() == 1);
  CHECK(waiting[0]->id == "c1");

  protocol::LineState idle = a_line();
  idle.calls.clear();
  r.apply(idle);
  CHECK(waiting_calls(*r.line()).empty());

  r.lose_sync();  // the link dropped: nobody can answer from here
  CHECK_FALSE(r.line());
  r.apply(a_line());
  s.seq = 5;
  r.apply(s);  // a resync: the frame that follows the snapshot says what the line is now
  CHECK_FALSE(r.line());
}

TEST_CASE("a call on the line reads in words on the timeline", "[console]") {
  auto in = parse_phone_entry(
      R"({"direction":"in","target":"inbound","seat":"seat1","number":"13800000001","result":"answered","ring_s":4,)"
      R"("talk_s":3,"recording":"12/seat1-abc-heard.wav","recording_sent":"12/seat1-abc-sent.wav"})");
  REQUIRE(in);
  CHECK(describe(Lang::zh, *in) == "呼入 13800000001 已接通 通话 3 秒");
  CHECK(describe(Lang::en, *in) == "In 13800000001 answered, talk 3 s");
  CHECK(in->recording == "12/seat1-abc-heard.wav");

  auto ambulance = parse_phone_entry(
      R"({"direction":"out","target":"ambulance_120","seat":"seat1","number":"120","result":"answered","ring_s":5,"talk_s":42,"task_id":3})");
  REQUIRE(ambulance);
  CHECK(describe(Lang::en, *ambulance) == "Out 120 answered, talk 42 s");
  CHECK(ambulance->recording.empty());

  auto son = parse_phone_entry(
      R"({"direction":"out","target":"family","seat":"seat1","number":"13900000001","result":"no_answer","ring_s":30,"talk_s":0,"reason":"no answer"})");
  REQUIRE(son);
  CHECK(describe(Lang::zh, *son) == "呼出 家属 13900000001 无人接听 振铃 30 秒");

  CHECK_FALSE(parse_phone_entry("ambulance_120:answered"));  // not a line entry
  CHECK(describe_phone_alert(Lang::zh, R"({"number":"13800000001","via":"elder_phone","call_id":"x"})") ==
        "13800000001 · 老人本人电话");
  CHECK(describe_phone_alert(Lang::en, R"({"number":"13900000001","via":"contact","call_id":"x","contact":"王建国"})") ==
        "13900000001 · from contact 王建国");
  CHECK_FALSE(describe_phone_alert(Lang::zh, R"({"heart_rate":30})"));
  CHECK_FALSE(parse_phone_entry(R"({"talk_s":"long"})"));

  CHECK(std::string(tr(Lang::zh, AlertKind::phone_call)) == "电话呼入");
  CHECK(std::string(tr(Lang::en, AlertKind::phone_call)) == "Phone call");
  CHECK(std::string(tr(Lang::zh, TimelineKind::phone)) != "?");
  CHECK(std::string(seat_state_text(Lang::zh, "talking")) == "通话中");
}

TEST_CASE("the desk's seat is remembered with the server", "[console]") {
  test::TempDir dir;
  const std::string path = dir.file("anxin/console.conf");
  CHECK(load_settings(path).seat.empty());
  Settings s;
  s.seat = "seat2";
  REQUIRE(save_settings(path, s));
  CHECK(load_settings(path).seat == "seat2");
}

namespace {

const std::string kArtifacts = ANXIN_ARTIFACTS;
std::string artifact(const std::string& name) { return kArtifacts + "/" + name; }

// A test's own phone: a real agent whose account is the number it calls from.
struct Phone {
  test::SeatEvents events;
  std::unique_ptr<Seat> seat;
  Phone(const test::TempDir& dir, const std::string& user, int base, int index) {
    SeatConfig c = test::seat_config(dir, user, base, index);
    c.record_dir.clear();
    seat = std::make_unique<Seat>(c, events.sink());
    REQUIRE(events.next(Kind::up, 15s));
  }
};

json read_json(const std::string& path) { return json::parse(test::read_file(path)); }

std::string port_of(int base, int i) { return std::to_string(base + 10 * i); }

// A line with seat1 (SIP on `seats`) whose every dialled number rings the test's
// phone agent 0 (on `peers`); the path of its file.
std::string write_line_file(const test::TempDir& dir, int seats, int peers) {
  json line_file = {
      {"seats",
       {{{"name", "seat1"}, {"sip_port", seats}, {"ctrl_port", seats + 5}, {"rtp_min", seats + 50},
         {"rtp_max", seats + 59}}}},
      {"dial", {{"default", "sip:{number}@127.0.0.1:" + port_of(peers, 0)}}},
      {"ring_timeout_s", 30},
      {"workdir", dir.file("line")},
      {"recordings", dir.file("recordings")}};
  std::ofstream(dir.file("line.json")) << line_file.dump(2);
  return dir.file("line.json");
}

// The real console under Xvfb, operator 王芳 at seat1, running `script`.
std::unique_ptr<test::Process> start_console(const test::TempDir& dir, int port, const std::string& script) {
  return std::make_unique<test::Process>(
      std::vector<std::string>{"/usr/bin/env", "XDG_CONFIG_HOME=" + dir.file("config"), "/usr/bin/xvfb-run", "-a", "-s",
                               "-screen 0 1440x900x24", ANXIN_CONSOLE_BIN, "--mute", "--port", std::to_string(port),
                               "--token", "tok-console", "--seat", "seat1", "--autotest-script", script,
                               "--autotest-timeout-ms", "90000"},
      dir.file("console.log"));
}

}  // namespace

TEST_CASE("a caller rings the console's seat: the card on the first ring, P answers, H hangs up", "[console][sip]") {
  if (!test::have_baresip()) {
    WARN("baresip is not installed (./run test installs baresip-core)");
    return;
  }
  test::TempDir dir;
  std::filesystem::create_directories(kArtifacts);
  const int seats = test::free_port_block(), peers = test::free_port_block();
  REQUIRE(seats != peers);
  gateway::ServerOptions options;
  options.line_file = write_line_file(dir, seats, peers);  // every number is the elder's phone
  test::Centre centre(true, options);
  Phone elder(dir, "13800000001", peers, 0);  // 张桂英's own phone

  const std::string script = dir.file("script.txt");
  std::ofstream(script) << "wait-sync\n"
                           "wait-state /my_seat/up == true\n"
                           "wait-state /my_seat/operator == 王芳\n"
                           "dump " + dir.file("ready.json") + "\n"
                           "# the elder's phone dials seat1 now\n"
                           "wait-state /ringing/0/elder_name == 张桂英\n"
                           "dump " + dir.file("ringing.json") + "\n"
                           "screenshot " + artifact("console-line-ringing.png") + "\n"
                           "key P\n"
                           "wait-state /my_seat/state == talking\n"
                           "wait-state /view == 1\n"
                           "wait-state /selected_incident/state == acknowledged\n"
                           "dump " + dir.file("talking.json") + "\n"
                           "screenshot " + artifact("console-line-talking.png") + "\n"
                           "sleep 1500\n"
                           "key H\n"
                           "wait-state /selected_incident/phone >= 1\n"
                           "wait-state /my_seat/state == idle\n"
                           "dump " + dir.file("ended.json") + "\n"
                           "play-recording\n"
                           "dump " + dir.file("played.json") + "\n"
                           "# the operator calls the elder back from the workspace, then gives up\n"
                           "key B\n"
                           "wait-state /line/calls >= 1\n"
                           "dump " + dir.file("dialling.json") + "\n"
                           "wait-state /line/calls/0/state == ringing\n"
                           "key H\n"
                           "wait-state /selected_incident/phone >= 2\n"
                           "screenshot " + artifact("console-line-ended.png") + "\n";
  auto console = start_console(dir, centre.port(), script);
  auto console_log = [&] { return test::read_file(dir.file("console.log")); };

  // Once the console sits at seat1, the elder's phone rings it.
  if (!test::eventually([&] { return std::filesystem::exists(dir.file("ready.json")); }, 40s)) FAIL(console_log());
  elder.seat->dial("sip:seat1@127.0.0.1:" + port_of(seats, 0), "in1");
  // P on the console picks up: the phone hears the call established; H ends it.
  if (!elder.events.next(Kind::established, 40s)) FAIL(console_log());
  if (!elder.events.next(Kind::closed, 40s)) FAIL(console_log());
  // B dials the elder back: the phone rings; H on the console gives up.
  if (!elder.events.next(Kind::incoming, 40s)) FAIL(console_log());
  if (!elder.events.next(Kind::closed, 40s)) FAIL(console_log());

  auto status = console->wait(60s);
  INFO(console_log());
  REQUIRE(status == 0);

  json ready = read_json(dir.file("ready.json"));
  CHECK(ready["seat"] == "seat1");
  CHECK(ready["line"]["configured"] == true);
  CHECK(ready["ringing"].empty());

  // The first ring: the caller's number and card, before anyone answered.
  json ringing = read_json(dir.file("ringing.json"));
  INFO(ringing.dump(2));
  REQUIRE(ringing["ringing"].size() == 1);
  const json& caller = ringing["ringing"][0];
  CHECK(caller["number"] == "13800000001");
  CHECK(caller["seat"] == "seat1");
  CHECK(caller["elder_id"] == 1);
  CHECK(caller["ringing_ms"].get<long long>() < 60'000);
  CHECK(ringing["my_seat"]["state"] == "ringing");
  const long long incident = caller["incident_id"];
  CHECK(incident > 0);
  bool phone_alert = false;
  for (const auto& i : ringing["incidents"]) phone_alert |= i["id"] == incident && i["lead_kind"] == "phone_call";
  CHECK(phone_alert);

  // The answer opened the caller's incident, acknowledged by the operator who picked up.
  json talking = read_json(dir.file("talking.json"));
  CHECK(talking["selected"] == incident);
  CHECK(talking["selected_incident"]["acknowledged_by"] == "王芳");
  CHECK(talking["ringing"].empty());

  json ended = read_json(dir.file("ended.json"));
  const json& call = ended["selected_incident"]["phone"][0];
  CHECK(call["result"] == "answered");
  CHECK(call["talk_s"].get<int>() >= 1);
  CHECK(call["text"].get<std::string>().rfind("呼入 13800000001 已接通 通话", 0) == 0);
  CHECK_FALSE(call["recording"].get<std::string>().empty());

  // ▶ fetched the recording over the protocol; with no sound device it is saved whole.
  json played = read_json(dir.file("played.json"));
  INFO(played["playback"].dump());
  CHECK(played["playback"]["name"] == call["recording"]);
  const std::string copy = played["playback"]["path"];
  REQUIRE(std::filesystem::exists(copy));
  CHECK(std::filesystem::file_size(copy) ==
        std::filesystem::file_size(dir.file("recordings") + "/" + call["recording"].get<std::string>()));
  std::filesystem::remove(copy);

  json dialling = read_json(dir.file("dialling.json"));
  CHECK(dialling["line"]["calls"][0]["direction"] == "out");
  CHECK(dialling["line"]["calls"][0]["target"] == "elder");

  CHECK(test::read_file(dir.file("config/anxin/console.conf")).find("seat=seat1") != std::string::npos);
  test::check_screenshot(artifact("console-line-ringing.png"));
  test::check_screenshot(artifact("console-line-talking.png"));
}

TEST_CASE("an unknown caller's incident is linked to the elder from the workspace", "[console][sip]") {
  if (!test::have_baresip()) {
    WARN("baresip is not installed (./run test installs baresip-core)");
    return;
  }
  test::TempDir dir;
  std::filesystem::create_directories(kArtifacts);
  const int seats = test::free_port_block(), peers = test::free_port_block();
  REQUIRE(seats != peers);
  gateway::ServerOptions options;
  options.line_file = write_line_file(dir, seats, peers);
  test::Centre centre(true, options);
  Phone stranger(dir, "13700000000", peers, 0);  // a number nobody has on record
  // 张桂英 has an incident open already: linking the call to her is refused.
  auto device = centre.client("device", "tok-d1");
  device->send(test::alarm_frame("D1", 1, "sos"));
  const long long sos = test::next_json(*device)["incident_id"];

  const std::string script = dir.file("script.txt");
  std::ofstream(script) << "wait-sync 1\n"
                           "wait-state /my_seat/up == true\n"
                           "dump " + dir.file("ready.json") + "\n"
                           "# the stranger dials seat1 now\n"
                           "wait-state /ringing/0/elder_name == 未知来电\n"
                           "key P\n"
                           "wait-state /view == 1\n"
                           "wait-state /selected_incident/unknown_caller == true\n"
                           "key L\n"
                           "type 张桂英\n"
                           "key Enter\n"
                           "wait-state /found_elders/elders/0/name == 张桂英\n"
                           "key Down\n"
                           "key Enter\n"
                           "wait-state /link_caller/status == refused\n"
                           "dump " + dir.file("refused.json") + "\n"
                           "screenshot " + artifact("console-line-link-refused.png") + "\n"
                           "# the field keeps the cursor with its text selected: the next name replaces it\n"
                           "type 李德明\n"
                           "key Enter\n"
                           "wait-state /found_elders/elders/0/name == 李德明\n"
                           "dump " + dir.file("found.json") + "\n"
                           "screenshot " + artifact("console-line-link.png") + "\n"
                           "key Down\n"
                           "key Enter\n"
                           "wait-state /selected_incident/elder_name == 李德明\n"
                           "dump " + dir.file("linked.json") + "\n"
                           "screenshot " + artifact("console-line-linked.png") + "\n"
                           "key H\n"
                           "wait-state /my_seat/state == idle\n";
  auto console = start_console(dir, centre.port(), script);
  auto console_log = [&] { return test::read_file(dir.file("console.log")); };

  if (!test::eventually([&] { return std::filesystem::exists(dir.file("ready.json")); }, 40s)) FAIL(console_log());
  stranger.seat->dial("sip:seat1@127.0.0.1:" + port_of(seats, 0), "in1");
  if (!stranger.events.next(Kind::established, 40s)) FAIL(console_log());
  if (!stranger.events.next(Kind::closed, 60s)) FAIL(console_log());
  auto status = console->wait(60s);
  INFO(console_log());
  REQUIRE(status == 0);

  json refused = read_json(dir.file("refused.json"));
  INFO(refused.dump(2));
  const long long incident = refused["selected"];
  CHECK(incident != sos);
  CHECK(refused["selected_incident"]["elder_name"] == "未知来电");
  CHECK(refused["link_caller"]["error"].get<std::string>().rfind("E_BAD_STATE: 张桂英 already has incident", 0) == 0);

  json found = read_json(dir.file("found.json"));
  REQUIRE(found["found_elders"]["elders"].size() == 1);
  CHECK(found["found_elders"]["elders"][0]["id"] == 2);

  // The delta brought 李德明's card; the server has the incident on elder 2.
  json linked = read_json(dir.file("linked.json"));
  CHECK(linked["selected"] == incident);
  CHECK(linked["selected_incident"]["elder_id"] == 2);
  CHECK(linked["selected_incident"]["unknown_caller"] == false);
  CHECK(linked["link_caller"]["status"] == "ok");
  auto client = centre.client("console", "tok-console");
  client->send(R"({"type":"subscribe"})");
  json snapshot = test::next_of_type(*client, "snapshot");
  bool on_elder_2 = false;
  for (const auto& i : snapshot["incidents"]) on_elder_2 |= i["id"] == incident && i["elder_id"] == 2;
  CHECK(on_elder_2);

  test::check_screenshot(artifact("console-line-link-refused.png"));
  test::check_screenshot(artifact("console-line-link.png"));
  test::check_screenshot(artifact("console-line-linked.png"));
}
