// Where the server's threads run (issue 15, item 2): --service-cpus gives the service
// thread CPUs of its own, --background-cpus takes the others elsewhere; a bad list is
// refused before anything is opened.
#include <sched.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "anxin/gateway/cpus.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;

namespace {

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

// Each thread of `pid` by name, with the CPUs it may run on as /proc writes them.
std::map<std::string, std::string> threads_cpus(pid_t pid) {
  std::map<std::string, std::string> cpus;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::string name = test::read_file((task.path() / "comm").string());
    if (!name.empty() && name.back() == '\n') name.pop_back();
    std::istringstream status(test::read_file((task.path() / "status").string()));
    for (std::string line; std::getline(status, line);)
      if (line.rfind("Cpus_allowed_list:", 0) == 0) cpus[name] = line.substr(line.find_first_not_of(" \t", 18));
  }
  return cpus;
}

}  // namespace

TEST_CASE("a CPU list is read as taskset -c writes it and a bad one is refused saying why", "[cpus]") {
  const std::vector<int> cpus = allowed_cpus();
  const int first = cpus.front(), last = cpus.back();
  const auto one = gateway::parse_cpu_list(std::to_string(first));
  CHECK(CPU_COUNT(&one.set) == 1);
  CHECK(CPU_ISSET(first, &one.set));
  const auto range = gateway::parse_cpu_list(std::to_string(first) + "-" + std::to_string(last));
  CHECK(CPU_COUNT(&range.set) == last - first + 1);
  const auto listed = gateway::parse_cpu_list(std::to_string(last) + "," + std::to_string(first));
  CHECK(CPU_ISSET(first, &listed.set));
  CHECK(CPU_ISSET(last, &listed.set));
  CHECK(CPU_COUNT(&listed.set) == (first == last ? 1 : 2));

  auto refused = [](const std::string& text) {
    try {
      gateway::parse_cpu_list(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused("") == "'': '' is not a CPU number (a list is like 0 or 2-3 or 0,2-3)");
  CHECK(refused("a") == "'a': 'a' is not a CPU number (a list is like 0 or 2-3 or 0,2-3)");
  CHECK(refused("0,") == "'0,': '' is not a CPU number (a list is like 0 or 2-3 or 0,2-3)");
  CHECK(refused("-1") == "'-1': '' is not a CPU number (a list is like 0 or 2-3 or 0,2-3)");
  CHECK(refused("0-1x") == "'0-1x': '1x' is not a CPU number (a list is like 0 or 2-3 or 0,2-3)");
  CHECK(refused("1-0") == "'1-0': 1-0 runs backwards");
  // Named with the CPUs that would do, as a list again (on this machine, one range).
  const bool one_range = last - first + 1 == static_cast<int>(cpus.size());
  const std::string may = last > first ? std::to_string(first) + "-" + std::to_string(last) : std::to_string(first);
  for (const std::string& cpu : {std::to_string(last + 1), std::string("99999")}) {
    const std::string says = refused(cpu), prefix = "'" + cpu + "': CPU " + cpu + " is not one this process may run on (";
    CHECK(says.rfind(prefix, 0) == 0);
    if (one_range) CHECK(says == prefix + may + ")");
  }
}

TEST_CASE("anxin-server runs its service thread and the others on the CPUs it is given", "[cpus]") {
  const std::vector<int> cpus = allowed_cpus();
  const std::string service = std::to_string(cpus.front()), others = std::to_string(cpus.back());
  test::TempDir dir;
  const std::string port_file = dir.file("port"), log = dir.file("server.log");
  test::Process server({ANXIN_SERVER_BIN, "--db", dir.file("centre.db"), "--port", "0", "--interface", "127.0.0.1",
                        "--field-port", "-1", "--port-file", port_file, "--service-cpus", service,
                        "--background-cpus", others},
                       log);
  INFO(test::read_file(log));
  REQUIRE(test::eventually([&] { return !test::read_file(port_file).empty(); }, std::chrono::seconds(10)));
  const auto threads = threads_cpus(server.pid());
  REQUIRE(threads.count("anxin-service"));
  CHECK(threads.at("anxin-service") == service);
  REQUIRE(threads.count("anxin-writer"));
  CHECK(threads.at("anxin-writer") == others);
  CHECK(threads.at("anxin-ckpt") == others);
  CHECK(threads.at("anxin-reader") == others);
  server.signal(SIGTERM);
  CHECK(server.wait(std::chrono::seconds(10)) == 0);
}

TEST_CASE("anxin-server refuses a bad CPU list with exit status 2 and opens nothing", "[cpus]") {
  test::TempDir dir;
  const std::string db = dir.file("centre.db");
  int n = 0;
  for (const auto& [flag, list, says] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"--service-cpus", "1-0", "anxin-server: --service-cpus: '1-0': 1-0 runs backwards"},
           {"--background-cpus", "99999", "anxin-server: --background-cpus: '99999': CPU 99999 is not one"},
           {"--service-cpus", "", "anxin-server: --service-cpus: '': '' is not a CPU number"}}) {
    INFO(flag << " " << list);
    const std::string log = dir.file("bad" + std::to_string(++n) + ".log");
    test::Process server({ANXIN_SERVER_BIN, "--db", db, "--port", "0", "--field-port", "-1", flag, list}, log);
    CHECK(server.wait(std::chrono::seconds(10)) == 2);
    INFO(test::read_file(log));
    CHECK(test::read_file(log).find(says) != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(db));
}
