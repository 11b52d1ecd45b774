// Crash: kill -9 the real server while the simulator raises alarms, restart it, and
// check that every alarm that was acknowledged is in the file and in a new snapshot.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

struct Acked {
  std::string device;
  long long seq, alert, incident;
};

std::vector<Acked> read_acks(const std::string& path) {
  std::vector<Acked> out;
  std::istringstream in(test::read_file(path));
  Acked a;
  while (in >> a.device >> a.seq >> a.alert >> a.incident) out.push_back(a);
  return out;
}

}  // namespace

TEST_CASE("kill -9 under load loses no acknowledged alarm", "[crash]") {
  test::TempDir dir;
  const std::string db = dir.file("crash.db"), acks = dir.file("acks.txt");
  {
    test::Process gen({ANXIN_SIM_BIN, "generate", "--db", db, "--elders", "300", "--workers", "10", "--seed", "7"},
                      dir.file("generate.log"));
    REQUIRE(gen.wait(std::chrono::seconds(30)) == 0);
  }
  const int port = free_port();
  const std::string port_s = std::to_string(port);
  auto start_server = [&] {
    return std::make_unique<test::Process>(
        std::vector<std::string>{ANXIN_SERVER_BIN, "--db", db, "--port", port_s, "--interface", "127.0.0.1"},
        dir.file("server.log"));
  };
  auto server = start_server();
  test::Process sim({ANXIN_SIM_BIN, "play", "--db", db, "--port", port_s, "--rate", "400", "--seed", "3",
                     "--ack-log", acks},
                    dir.file("sim.log"));

  auto acked_count = [&] { return read_acks(acks).size(); };
  REQUIRE(test::eventually([&] { return acked_count() >= 300; }, std::chrono::seconds(30)));
  server->signal(SIGKILL);
  REQUIRE(server->wait(std::chrono::seconds(5)) == 128 + SIGKILL);
  const size_t at_kill = acked_count();

  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the simulator keeps raising meanwhile
  server = start_server();
  INFO(test::read_file(dir.file("server.log")) << test::read_file(dir.file("sim.log")));
  REQUIRE(test::eventually([&] { return acked_count() >= at_kill + 300; }, std::chrono::seconds(30)));
  sim.signal(SIGTERM);
  REQUIRE(sim.wait(std::chrono::seconds(10)).has_value());

  const auto acked = read_acks(acks);
  // Every acked alarm is in the file, under the id it was acked with (a repeat folded
  // into an open alert is acked with that alert's id: issue 13).
  std::map<long long, std::pair<std::string, long long>> stored;
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(raw, "SELECT id, device_id, incident_id FROM alerts", -1, &s, nullptr) == SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW)
      stored[sqlite3_column_int64(s, 0)] = {reinterpret_cast<const char*>(sqlite3_column_text(s, 1)),
                                            sqlite3_column_int64(s, 2)};
    sqlite3_finalize(s);
    sqlite3_close(raw);
  }
  size_t missing = 0;
  for (const auto& a : acked) {
    auto it = stored.find(a.alert);
    if (it == stored.end() || it->second != std::pair(a.device, a.incident)) ++missing;
  }
  CHECK(acked.size() >= at_kill + 300);
  CHECK(missing == 0);

  // And a console connecting to the restarted server sees each of them.
  json tokens = json::parse(test::read_file(db + ".tokens.json"));
  auto console = std::make_unique<gateway::SyncClient>(port);
  REQUIRE(console->wait_open());
  console->send(json{{"type", "hello"}, {"role", "console"}, {"token", tokens["consoles"][0]["token"]}}.dump());
  REQUIRE(test::next_json(*console)["type"] == "welcome");
  console->send(R"({"type":"subscribe"})");
  json snap = test::next_of_type(*console, "snapshot", std::chrono::seconds(20));
  std::set<long long> alerts_in_snapshot;
  for (const auto& i : snap["incidents"])
    for (const auto& e : i["timeline"])
      if (e["kind"] == "alert") alerts_in_snapshot.insert(e["alert_id"].get<long long>());
  size_t absent = 0;
  for (const auto& a : acked) absent += alerts_in_snapshot.count(a.alert) ? 0 : 1;
  CHECK(absent == 0);
  server->signal(SIGTERM);
  CHECK(server->wait(std::chrono::seconds(10)) == 0);
}
