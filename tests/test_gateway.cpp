// The gateway over real WebSockets: a real libwebsockets client against the real
// server (in-process, on a free port) with a real SQLite file.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "anxin/core/protocol.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

TEST_CASE("an alarm is acked to its device and reaches every console as a delta", "[ws]") {
  test::Centre centre;
  auto console_a = centre.client("console", "tok-console");
  auto console_b = centre.client("console", "tok-console");
  for (auto* c : {console_a.get(), console_b.get()}) {
    c->send(R"({"type":"subscribe","req":"s1"})");
    json snap = test::next_json(*c);
    REQUIRE(snap["type"] == "snapshot");
    CHECK(snap["req"] == "s1");
    CHECK(snap["incidents"].empty());
  }
  auto device = centre.client("device", "tok-d1");
  device->send(test::alarm_frame("D1", 1, "sos", "a1"));
  json ack = test::next_json(*device);
  INFO(ack.dump());
  REQUIRE(ack["type"] == "ack");
  CHECK(ack["req"] == "a1");
  CHECK(ack["device"] == "D1");
  CHECK(ack["seq"] == 1);
  CHECK(ack["duplicate"] == false);
  const long long alert_id = ack["alert_id"];
  const long long incident_id = ack["incident_id"];
  CHECK(alert_id > 0);

  // Acked means committed: the row is in the file already.
  CHECK(test::count_rows(centre.db(), "alerts") == 1);

  std::uint64_t first_seq = 0;
  for (auto* c : {console_a.get(), console_b.get()}) {
    json d = test::next_of_type(*c, "delta");  // past the `presence` frames of the second sign-in
    INFO(d.dump());
    REQUIRE(d["type"] == "delta");
    CHECK(d["event"] == "incident_opened");
    CHECK(d["incident"]["id"] == incident_id);
    CHECK(d["incident"]["state"] == "open");
    REQUIRE(d["append"].size() == 1);
    CHECK(d["append"][0]["alert_id"] == alert_id);
    CHECK(d["append"][0]["alert_kind"] == "sos");
    CHECK(d["elder"]["name"] == "张桂英");
    CHECK(d["elder"]["tier"] == "key");  // 82 years old
    CHECK(d["elder"]["id_masked"] == "3729**********1234");
    CHECK(d.dump().find("372922194403021234") == std::string::npos);  // never the full ID
    first_seq = d["seq"];
  }

  // A console acknowledges; both consoles see it, in sequence.
  console_a->send(json{{"type", "ack_incident"}, {"incident_id", incident_id}, {"req", "k1"}}.dump());
  json d = test::next_json(*console_a);
  REQUIRE(d["type"] == "delta");
  CHECK(d["event"] == "incident_acknowledged");
  CHECK(d["seq"] == first_seq + 1);
  CHECK(d["incident"]["acknowledged_by"] == "王芳");
  json ok = test::next_json(*console_a);
  CHECK(ok["type"] == "ok");
  CHECK(ok["req"] == "k1");
  json d2 = test::next_json(*console_b);
  CHECK(d2["event"] == "incident_acknowledged");

  // A console that subscribes now gets it all in its snapshot.
  auto late = centre.client("console", "tok-console");
  late->send(R"({"type":"subscribe"})");
  json snap = test::next_json(*late);
  REQUIRE(snap["incidents"].size() == 1);
  CHECK(snap["seq"] == first_seq + 1);
  CHECK(snap["incidents"][0]["state"] == "acknowledged");
  CHECK(snap["incidents"][0]["timeline"].size() == 2);
  CHECK(snap["elders"][0]["name"] == "张桂英");
}

// Alarms that arrive together are committed as one batch at the end of the service
// loop's turn (64 at most), and a reply that needs no commit takes them along ahead of
// it: every answer comes back in the order its frame was sent, and each ack only once
// what it acknowledges is in the file.
TEST_CASE("pipelined alarms are answered in the order sent and each ack is durable", "[ws]") {
  test::Centre centre;
  auto platform = centre.client("device", "tok-acme");  // D1 and D3 are its SOS buttons
  const int alarms = 120;
  std::vector<std::string> reqs;
  for (int k = 0; k < alarms; ++k) {
    const std::string req = "a" + std::to_string(k);
    platform->send(test::alarm_frame(k % 2 ? "D3" : "D1", k / 2 + 1, "sos", req));
    reqs.push_back(req);
    if (k == 69) {
      platform->send(R"({"type":"ping","req":"p"})");
      reqs.push_back("p");
    }
  }
  int acked = 0;
  for (const std::string& req : reqs) {
    json reply = test::next_json(*platform);
    INFO(reply.dump());
    REQUIRE(reply["req"] == req);
    if (req == "p") {
      CHECK(reply["type"] == "pong");
    } else if (reply["type"] == "ack") {
      CHECK(reply["duplicate"] == false);
      ++acked;
    } else {
      CHECK(reply["code"] == "E_RATE_LIMITED");  // past a device's alarm burst
    }
  }
  // Each device's first alarm is an alert and the rest fold into it: every alarm
  // acknowledged is counted in the file.
  CHECK(acked >= 2 * 20);
  CHECK(std::stoll(test::sql_text(centre.db(), "SELECT SUM(repeats + 1) FROM alerts")) == acked);
}

TEST_CASE("a resent alarm is acked again with the same alert, stored once", "[ws]") {
  test::Centre centre;
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D3", 5, "sos"));
  json first = test::next_json(*device);
  device->send(test::alarm_frame("D3", 5, "sos"));
  json again = test::next_json(*device);
  REQUIRE(again["type"] == "ack");
  CHECK(again["duplicate"] == true);
  CHECK(again["alert_id"] == first["alert_id"]);
  CHECK(test::count_rows(centre.db(), "alerts") == 1);
}

TEST_CASE("an old resend the server no longer holds in memory is acked from the file", "[ws][reader]") {
  test::Centre centre;
  json first;
  {
    auto device = centre.client("device", "tok-acme");
    device->send(test::alarm_frame("D3", 5, "sos"));
    first = test::next_json(*device);
    device->send(test::alarm_frame("D3", 7, "sos"));
    REQUIRE(test::next_json(*device)["type"] == "ack");
  }
  centre.restart();  // the alarms kept in memory are gone; seq 5 is below the last (7)
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D3", 5, "sos", "old"));
  json again = test::next_json(*device);
  REQUIRE(again["type"] == "ack");
  CHECK(again["req"] == "old");
  CHECK(again["duplicate"] == true);
  CHECK(again["alert_id"] == first["alert_id"]);
  CHECK(again["incident_id"] == first["incident_id"]);
  // Below the last and never sent: a counter that restarted, so a new alarm (folded
  // into the open SOS of the same device, issue 13).
  device->send(test::alarm_frame("D3", 6, "sos", "never"));
  json taken = test::next_json(*device);
  CHECK(taken["type"] == "ack");
  CHECK(taken["req"] == "never");
  CHECK(taken["duplicate"] == false);
  // Seq 7 was folded into 5's alert; after the restart 6 starts an alert of its own.
  CHECK(test::count_rows(centre.db(), "alerts") == 2);
}

namespace {

struct BadInput {
  const char* what;
  const char* role;   // who says hello first; "" for nobody
  const char* token;
  std::string frame;
  const char* code;
};

}  // namespace

TEST_CASE("bad input gets a coded error and changes nothing", "[ws]") {
  const std::string huge = R"({"type":"alarm","device":"D1","seq":1,"kind":"sos","device_time_ms":1,"detail":{"pad":")" +
                           std::string(70 * 1024, 'x') + "\"}}";
  auto c = GENERATE_COPY(values<BadInput>({
      {"malformed JSON", "device", "tok-d1", "{\"type\": \"alarm\", ", "E_BAD_JSON"},
      {"not an object", "device", "tok-d1", "[1,2,3]", "E_BAD_JSON"},
      {"unknown type", "device", "tok-d1", R"({"type":"dance"})", "E_UNKNOWN_TYPE"},
      {"no type", "device", "tok-d1", R"({"device":"D1"})", "E_MISSING_FIELD"},
      {"missing seq", "device", "tok-d1", R"({"type":"alarm","device":"D1","kind":"sos","device_time_ms":1})",
       "E_MISSING_FIELD"},
      {"seq of the wrong type", "device", "tok-d1",
       R"({"type":"alarm","device":"D1","seq":"one","kind":"sos","device_time_ms":1})", "E_BAD_FIELD"},
      {"unknown alert kind", "device", "tok-d1",
       R"({"type":"alarm","device":"D1","seq":1,"kind":"earthquake","device_time_ms":1})", "E_BAD_FIELD"},
      {"oversized frame", "device", "tok-d1", huge, "E_TOO_LARGE"},
      {"alarm before hello", "", "", test::alarm_frame("D1", 1, "sos"), "E_NOT_AUTHENTICATED"},
      {"wrong token", "", "", R"({"type":"hello","v":1,"role":"device","token":"tok-nope"})", "E_AUTH_FAILED"},
      {"console token as a device", "", "",
       R"({"type":"hello","v":1,"role":"device","token":"tok-console"})", "E_AUTH_FAILED"},
      {"another device's alarm", "device", "tok-d1", test::alarm_frame("D3", 1, "sos"), "E_DEVICE_NOT_OWNED"},
      {"unknown device", "device", "tok-acme", test::alarm_frame("D999", 1, "sos"), "E_UNKNOWN_DEVICE"},
      {"a kind the device lacks", "device", "tok-acme", test::alarm_frame("D1", 1, "smoke"),
       "E_KIND_NOT_SUPPORTED"},
      {"a device subscribing", "device", "tok-acme", R"({"type":"subscribe"})", "E_FORBIDDEN"},
      {"a device acknowledging", "device", "tok-acme", R"({"type":"ack_incident","incident_id":1})", "E_FORBIDDEN"},
      {"acknowledging what does not exist", "console", "tok-console",
       R"({"type":"ack_incident","incident_id":42})", "E_UNKNOWN_INCIDENT"},
      {"a console raising an alarm", "console", "tok-console", test::alarm_frame("D1", 1, "sos"), "E_FORBIDDEN"},
      {"protocol version 2", "", "", R"({"type":"hello","v":2,"role":"device","token":"tok-d1"})", "E_BAD_FIELD"},
      // Numbers are range-checked at full width, never wrapped (issue 10, item 5).
      {"battery_pct past 32 bits", "device", "tok-d1",
       R"({"type":"alarm","device":"D1","seq":1,"kind":"sos","device_time_ms":1,"battery_pct":4294967346})",
       "E_BAD_FIELD"},
      {"seq past 64 bits signed", "device", "tok-d1",
       R"({"type":"alarm","device":"D1","seq":18446744073709551615,"kind":"sos","device_time_ms":1})",
       "E_BAD_FIELD"},
      {"responders past 32 bits", "console", "tok-console",
       R"({"type":"dispatch","incident_id":1,"responders":4294967297})", "E_BAD_FIELD"},
      {"contact_index past 32 bits", "console", "tok-console",
       R"({"type":"call","incident_id":1,"kind":"family","contact_index":4294967296})", "E_BAD_FIELD"},
      // The phone line (issue 9): refused without a line, never filed by a device.
      {"a seat without a line", "console", "tok-console", R"({"type":"seat","seat":"seat1"})", "E_NO_LINE"},
      {"dialling without a line", "console", "tok-console", R"({"type":"dial","incident_id":1,"to":"elder"})",
       "E_NO_LINE"},
      {"dialling nobody", "console", "tok-console", R"({"type":"dial","incident_id":1,"to":"mayor"})",
       "E_BAD_FIELD"},
      {"a recording outside the folder", "console", "tok-console", R"({"type":"recording","name":"../centre.db"})",
       "E_BAD_FIELD"},
      {"a device asking for a recording", "device", "tok-acme", R"({"type":"recording","name":"1/a.wav"})",
       "E_FORBIDDEN"},
      {"a device filing a phone call", "device", "tok-acme", test::alarm_frame("D1", 1, "phone_call"),
       "E_KIND_NOT_SUPPORTED"},
  }));
  INFO(c.what);
  test::Centre centre;
  auto count = [&] {
    return std::tuple(test::count_rows(centre.db(), "alerts"), test::count_rows(centre.db(), "incidents"),
                      test::count_rows(centre.db(), "incident_events"));
  };
  const auto before = count();

  std::unique_ptr<gateway::SyncClient> client;
  if (*c.role) {
    client = centre.client(c.role, c.token);
  } else {
    client = std::make_unique<gateway::SyncClient>(centre.port());
    REQUIRE(client->wait_open());
  }
  REQUIRE(client->send(c.frame));
  json reply = test::next_json(*client);
  INFO(reply.dump());
  CHECK(reply["type"] == "error");
  CHECK(reply["code"] == c.code);
  CHECK_FALSE(reply["message"].get<std::string>().empty());

  // Nothing changed, and the server still serves this client and others.
  CHECK(count() == before);
  client->send(R"({"type":"ping","req":"p"})");
  json pong = test::next_json(*client);
  CHECK(pong["type"] == "pong");
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D4", 1, "fall"));
  CHECK(test::next_json(*device)["type"] == "ack");
}

TEST_CASE("an error echoes the request id when the frame had one", "[ws]") {
  test::Centre centre;
  auto device = centre.client("device", "tok-d1");
  device->send(R"({"type":"dance","req":"r9"})");
  json e = test::next_json(*device);
  CHECK(e["code"] == "E_UNKNOWN_TYPE");
  CHECK(e["req"] == "r9");
  device->send(R"({"type":"alarm","device":"D1","req":"r10"})");
  e = test::next_json(*device);
  CHECK(e["code"] == "E_MISSING_FIELD");
  CHECK(e["req"] == "r10");
}

TEST_CASE("three wrong tokens close the connection", "[ws]") {
  test::Centre centre;
  gateway::SyncClient c(centre.port());
  REQUIRE(c.wait_open());
  for (int i = 0; i < 3; ++i) {
    c.send(R"({"type":"hello","role":"console","token":"guess"})");
    CHECK(test::next_json(c)["code"] == "E_AUTH_FAILED");
  }
  for (int i = 0; i < 50 && !c.closed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(c.closed());
}

TEST_CASE("a restarted server gives consoles everything still open", "[ws][store]") {
  test::Centre centre;
  auto device = centre.client("device", "tok-acme");
  for (int i = 1; i <= 3; ++i) {
    device->send(test::alarm_frame(i == 3 ? "D4" : "D1", i, i == 3 ? "fall" : "sos"));
    REQUIRE(test::next_json(*device)["type"] == "ack");
  }
  device.reset();
  centre.restart();
  auto console = centre.client("console", "tok-console");
  console->send(R"({"type":"subscribe"})");
  json snap = test::next_json(*console);
  REQUIRE(snap["incidents"].size() == 2);
  CHECK(snap["incidents"][0]["timeline"].size() == 1);  // D1's second SOS is folded into its first
  CHECK(snap["incidents"][0]["repeats"] == 1);
  CHECK(snap["incidents"][1]["timeline"][0]["alert_kind"] == "fall");
}

TEST_CASE("the map gives consoles every home with its tier, and no names", "[ws]") {
  test::Centre centre;
  auto console = centre.client("console", "tok-console");
  console->send(R"({"type":"map","req":"m"})");
  json map = test::next_json(*console);
  INFO(map.dump());
  REQUIRE(map["type"] == "map");
  REQUIRE(map["towns"].size() == 2);
  CHECK(map["towns"][0]["name"] == "庄寨镇");  // in name order
  CHECK(map["towns"][0]["communities"][0]["name"] == "王庄村");
  CHECK(map["towns"][1]["homes"] == 1);
  REQUIRE(map["homes"].size() == 2);
  CHECK(map["homes"][0]["tier"] == "key");
  CHECK(map["homes"][0]["lat"] == Approx(34.831));
  CHECK(map.dump().find("张桂英") == std::string::npos);

  auto worker = centre.client("field", "tok-w1");
  worker->send(R"({"type":"map"})");
  CHECK(test::next_json(*worker)["code"] == "E_FORBIDDEN");
}

TEST_CASE("numbers from the wire are range-checked, not wrapped, on both ends", "[ws][protocol]") {
  // The console's decoder: a per-hour count of 1e30 or -1 is refused, not undefined.
  const std::string metrics =
      R"({"type":"metrics","server_time_ms":1,"acknowledged":0,"acknowledged_within_60s":0,)"
      R"("acknowledged_within_180s":0,"intervals":{},"per_hour":[PER]})";
  for (const char* bad : {"1e30", "-1", "18446744073709551615", "\"x\""}) {
    std::string text = metrics;
    text.replace(text.find("PER"), 3, bad);
    INFO(text);
    CHECK_FALSE(protocol::parse_server(text));
  }
  // The server's: the largest values that fit are still read as themselves.
  auto ok = protocol::parse_client(R"({"type":"alarm","device":"D1","seq":9223372036854775807,"kind":"sos",)"
                                   R"("device_time_ms":1,"battery_pct":100})");
  REQUIRE(ok);
  const auto& alarm = std::get<AlarmIn>(ok->body);
  CHECK(alarm.seq == INT64_MAX);
  CHECK(alarm.battery_pct == 100);
}

namespace {
// The local addresses (hex, as /proc/net shows them) listening on `port`.
std::vector<std::string> listeners(const char* table, int port) {
  std::vector<std::string> out;
  std::ifstream in(table);
  std::string line;
  char want[8];
  std::snprintf(want, sizeof want, ":%04X", port);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state;
    f >> slot >> local >> remote >> state;
    if (state == "0A" && local.size() > 5 && local.substr(local.size() - 5) == want)
      out.push_back(local.substr(0, local.size() - 5));
  }
  return out;
}
}  // namespace

TEST_CASE("a server given an interface binds that address only", "[ws]") {
  test::Centre centre;  // its server is started with interface 127.0.0.1
  CHECK(listeners("/proc/net/tcp", centre.port()) == std::vector<std::string>{"0100007F"});
  CHECK(listeners("/proc/net/tcp6", centre.port()).empty());
}

TEST_CASE("a connection that never says hello is closed, and one address cannot hold every file", "[ws]") {
  gateway::ServerOptions o;
  o.hello_timeout_s = 1;
  o.max_connections_per_address = 4;
  test::Centre centre(true, o);
  gateway::SyncClient silent(centre.port());
  REQUIRE(silent.wait_open());
  auto device = centre.client("device", "tok-acme");  // says hello: stays
  // The silent one is closed after about a second; the device is not.
  CHECK(test::eventually([&] { return silent.closed(); }, std::chrono::seconds(4)));
  device->send(test::alarm_frame("D1", 1, "sos"));
  CHECK(test::next_json(*device)["type"] == "ack");

  // Four connections from 127.0.0.1 at most: the fifth is refused, the others serve.
  std::vector<std::unique_ptr<gateway::SyncClient>> more;
  for (int k = 0; k < 3; ++k) more.push_back(centre.client("console", "tok-console"));
  gateway::SyncClient fifth(centre.port());
  fifth.wait_open(std::chrono::seconds(2));
  CHECK(test::eventually([&] { return fifth.closed(); }, std::chrono::seconds(4)));
  more[0]->send(R"({"type":"ping","req":"p"})");
  CHECK(test::next_json(*more[0])["type"] == "pong");
}
