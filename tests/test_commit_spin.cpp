// The wait for a commit (issue 15, item 2): while a commit it handed to the writer is
// on its way to the disk, the service thread polls its connections instead of
// sleeping, for at most --commit-spin-us after the hand-over; otherwise it sleeps.
// Watched by its CPU time while another program holds the write lock, so that the
// commit stays in flight for as long as the test likes.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>
#include <thread>

#include "served.hpp"

using namespace anxin;
using namespace std::chrono_literals;
using test::json;

namespace {

// The CPU time of `pid`'s service thread so far, in clock ticks (user + system).
long service_ticks(pid_t pid) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    if (test::read_file((task.path() / "comm").string()) != "anxin-service\n") continue;
    const std::string stat = test::read_file((task.path() / "stat").string());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string skip;
    long user = 0, system = 0;
    for (int i = 3; i < 14; ++i) fields >> skip;  // state (field 3) to cmajflt (13)
    fields >> user >> system;
    return user + system;
  }
  FAIL("no anxin-service thread in process " << pid);
  return 0;
}

struct Spun {
  long idle_before, held, idle_after;  // ticks: 1 s idle, the 3 s the lock is held, 1 s idle
  std::string log;
};

// A server with --commit-spin-us `spin_us`: an alarm acked, a second idle, then an
// alarm whose commit waits 3 s for another program's write lock, then a second idle.
Spun spin_with(const std::string& spin_us) {
  test::TempDir dir;
  const std::string db = dir.file("centre.db"), log = dir.file("server.log"), port_file = dir.file("port");
  test::seed_small_registry(db);
  test::Process server({ANXIN_SERVER_BIN, "--db", db, "--port", "0", "--interface", "127.0.0.1", "--field-port",
                        "-1", "--port-file", port_file, "--commit-spin-us", spin_us},
                       log);
  const auto owned = test::serving_device(port_file);
  gateway::SyncClient& device = *owned;

  Spun spun;
  long t = service_ticks(server.pid());
  std::this_thread::sleep_for(1s);
  spun.idle_before = service_ticks(server.pid()) - t;

  sqlite3* shell = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &shell) == SQLITE_OK);
  REQUIRE(sqlite3_exec(shell, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  t = service_ticks(server.pid());
  device.send(test::alarm_frame("D3", 1, "sos", "a2"));
  CHECK_FALSE(device.next(3000ms).has_value());  // held: no ack before the lock is free
  spun.held = service_ticks(server.pid()) - t;
  REQUIRE(sqlite3_exec(shell, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(shell);
  const json ack = test::next_json(device, 5s);
  CHECK(ack["type"] == "ack");
  CHECK(ack["req"] == "a2");

  t = service_ticks(server.pid());
  std::this_thread::sleep_for(1s);
  spun.idle_after = service_ticks(server.pid()) - t;
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
  spun.log = test::read_file(log);
  return spun;
}

}  // namespace

TEST_CASE("the service thread polls for a held commit only as long as --commit-spin-us says", "[spin][busy]") {
  // Seconds of CPU in the 3 s the commit is held: with 0.6 s of polling, at least
  // 0.2 s even on a machine shared with other tests, and not the 3 s of polling
  // throughout; with none, asleep.
  const auto [spin_us, least_s, most_s] =
      GENERATE(table<std::string, double, double>({{"600000", 0.2, 1.2}, {"0", 0.0, 0.1}}));
  const double hz = sysconf(_SC_CLK_TCK);
  const Spun spun = spin_with(spin_us);
  INFO("--commit-spin-us " << spin_us << "; server log:\n" << spun.log);
  INFO("ticks of " << hz << " a second: idle " << spun.idle_before << ", held " << spun.held << ", idle "
                   << spun.idle_after);
  CHECK(spun.idle_before <= hz / 20);  // asleep when nothing is in flight
  CHECK(spun.held >= least_s * hz);
  CHECK(spun.held <= most_s * hz);
  CHECK(spun.idle_after <= hz / 20);
}

TEST_CASE("anxin-server refuses a bad --commit-spin-us with exit status 2 and opens nothing", "[spin]") {
  test::TempDir dir;
  const std::string db = dir.file("centre.db");
  int n = 0;
  for (const std::string value : {"-1", "1000001", "1.5", "soon", ""}) {
    INFO("--commit-spin-us '" << value << "'");
    const std::string log = dir.file("bad" + std::to_string(++n) + ".log");
    test::Process server({ANXIN_SERVER_BIN, "--db", db, "--port", "0", "--field-port", "-1", "--commit-spin-us", value},
                         log);
    CHECK(server.wait(10s) == 2);
    CHECK(test::read_file(log).find("anxin-server: --commit-spin-us: must be a whole number of microseconds, 0 to "
                                    "1000000: " +
                                    value + "\n") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(db));
}
