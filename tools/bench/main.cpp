#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "bench.hpp"

namespace {

void usage() {
  std::puts(
      "usage: anxin-bench latency [--rate N] [--seconds S] [--warmup S] [--consoles N] [--dir DIR]\n"
      "                           [--full-only]\n"
      "  alarm -> console delta latency over loopback with a real server and SQLite file\n"
      "       anxin-bench offer [--rate N] [--seconds S] [--workers N] [--dir DIR]\n"
      "  alarm -> offer delivered to the field worker's client\n"
      "       anxin-bench ring [--calls N] [--dir DIR]\n"
      "  INVITE at the seat -> the elder's card on a console, real SIP agents (needs tcpdump, root)\n"
      "       anxin-bench visits [--elders N] [--rounds N]\n"
      "  visit plans and the daily due-list for N elders (default 1000000), time and memory\n"
      "       anxin-bench heartbeats [--devices N] [--connections K] [--consoles N] [--seconds S]\n"
      "                              [--rate N] [--window N] [--alarm-every-ms N] [--write-every-s N] [--dir DIR]\n"
      "  N devices' heartbeats on K platform connections: none, paced, flat out; alarm -> console\n"
      "  latency, commits/s and server CPU in each\n"
      "       anxin-bench dc09 [--alarms N] [--devices N] [--connections K] [--dir DIR]\n"
      "  SIA DC-09 Contact ID frame -> ACK (after the commit) over loopback TCP\n"
      "       anxin-bench fanout|throughput|stall|wal|burst [--server PATH] [--sim PATH] [--redis PATH]\n"
      "                   [--no-redis] [--consoles N] [--rate N] [--seconds S] [--warmup S] [--devices K]\n"
      "                   [--window W] [--elders N] [--open N] [--dir DIR] [--keep] [--no-pin]\n"
      "                   [--alarms-to FILE] [--idle N] [--rounds N]\n"
      "  city scale (issue 15): a real anxin-server child on an anxin-sim district, and redis-server\n"
      "  (appendfsync always) by the same driver: fan-out latency, sustained throughput, a big\n"
      "  snapshot's stall, the WAL's size and a restart after it, a restart's escalation burst\n"
      "  (docs/benchmarks.md); fanout --alarms-to FILE appends each alarm's latencies to FILE\n"
      "  (stall: those of the second around the subscribe, and says when the subscribe was sent),\n"
      "  --idle N keeps N more connections open that say nothing after hello; fanout --rounds N\n"
      "  runs Anxin then Redis N times over and sums up the ratios of each round\n"
      "       anxin-bench startup [--elders N] [--devices N] [--runs N] [--settle-s S] [--server PATH]\n"
      "                           [--sim PATH] [--dir DIR] [--rows] [--kill] [--edit N]\n"
      "                           [--edit-running N]\n"
      "  a server's start -> serving and its memory (VmRSS, VmHWM) on a city of N elders (default\n"
      "  1000000) and N devices (default 4000000); the database is generated once into DIR; each\n"
      "  start reads the registry's image a clean stop left, or with --rows the rows; --kill ends\n"
      "  each run with SIGKILL, so the next start is one after a crash; --edit N changes N elders\n"
      "  and N devices before each run, as another program would; --edit-running N the same once\n"
      "  the server serves, then settles (give --settle-s time for the image to be written again)");
}

}  // namespace

int city(int argc, char** argv) {
  anxin::bench::CityOptions o;
  o.mode = argv[1];
  if (o.mode == "stall") o.devices = 8, o.rate = 1000;
  if (o.mode == "wal") o.rate = 8000, o.seconds = 12;
  if (o.mode == "burst") o.open = 9400;
  try {
    for (int i = 2; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      if (a == "--server") o.server = value();
      else if (a == "--sim") o.sim = value();
      else if (a == "--redis") o.redis = value();
      else if (a == "--no-redis") o.redis_peer = false;
      else if (a == "--dir") o.dir = value();
      else if (a == "--keep") o.keep = true;
      else if (a == "--alarms-to") o.alarms_to = value();
      else if (a == "--idle") o.idle = std::stoi(value());
      else if (a == "--no-pin") o.pin = false;
      else if (a == "--consoles") o.consoles = std::stoi(value());
      else if (a == "--rate") o.rate = std::stod(value());
      else if (a == "--seconds") o.seconds = std::stod(value());
      else if (a == "--warmup") o.warmup = std::stod(value());
      else if (a == "--devices") o.devices = std::stoi(value());
      else if (a == "--window") o.window = std::stoi(value());
      else if (a == "--elders") o.elders = std::stoi(value());
      else if (a == "--open") o.open = std::stoi(value());
      else if (a == "--rounds" && o.mode == "fanout") o.rounds = std::stoi(value());
      else {
        usage();
        return 2;
      }
    }
    if (o.consoles < 1 || o.rate <= 0 || o.seconds <= 0 || o.warmup < 0 || o.devices < 1 || o.window < 1 ||
        o.elders < 0 || o.open < 1 || o.rounds < 1)
      throw std::invalid_argument("counts, rates and times must be positive");
    if (!o.alarms_to.empty()) {  // said now, not after the run
      FILE* f = std::fopen(o.alarms_to.c_str(), "a");
      if (!f) throw std::invalid_argument("cannot write " + o.alarms_to + ": " + std::strerror(errno));
      std::fclose(f);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anxin-bench: %s\n", e.what());
    usage();
    return 2;
  }
  try {
    return anxin::bench::run_city(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anxin-bench: %s\n", e.what());
    return 1;
  }
}

int main(int argc, char** argv) {
  for (const char* mode : {"fanout", "throughput", "stall", "wal", "burst"})
    if (argc >= 2 && std::strcmp(argv[1], mode) == 0) return city(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "offer") == 0) {
    anxin::bench::OfferOptions o;
    for (int i = 2; i + 1 < argc; i += 2) {
      std::string a = argv[i];
      if (a == "--rate") o.rate = std::stod(argv[i + 1]);
      else if (a == "--seconds") o.seconds = std::stod(argv[i + 1]);
      else if (a == "--workers") o.workers = std::stoi(argv[i + 1]);
      else if (a == "--dir") o.dir = argv[i + 1];
      else {
        usage();
        return 2;
      }
    }
    try {
      return anxin::bench::run_offer(o);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "anxin-bench: %s\n", e.what());
      return 1;
    }
  }
  if (argc >= 2 && std::strcmp(argv[1], "dc09") == 0) {
    anxin::bench::Dc09BenchOptions o;
    try {
      for (int i = 2; i < argc; i += 2) {
        std::string a = argv[i];
        if (i + 1 >= argc) a.clear();
        if (a == "--alarms") o.alarms = std::stoi(argv[i + 1]);
        else if (a == "--devices") o.devices = std::stoi(argv[i + 1]);
        else if (a == "--connections") o.connections = std::stoi(argv[i + 1]);
        else if (a == "--dir") o.dir = argv[i + 1];
        else {
          usage();
          return 2;
        }
      }
      return anxin::bench::run_dc09(o);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "anxin-bench: %s\n", e.what());
      return 1;
    }
  }
  if (argc >= 2 && std::strcmp(argv[1], "heartbeats") == 0) {
    anxin::bench::HeartbeatsOptions o;
    try {
      for (int i = 2; i < argc; i += 2) {
        std::string a = argv[i];
        if (i + 1 >= argc) a.clear();
        if (a == "--devices") o.devices = std::stoi(argv[i + 1]);
        else if (a == "--connections") o.connections = std::stoi(argv[i + 1]);
        else if (a == "--consoles") o.consoles = std::stoi(argv[i + 1]);
        else if (a == "--seconds") o.seconds = std::stod(argv[i + 1]);
        else if (a == "--rate") o.rate = std::stod(argv[i + 1]);
        else if (a == "--window") o.window = std::stoi(argv[i + 1]);
        else if (a == "--alarm-every-ms") o.alarm_every_ms = std::stoi(argv[i + 1]);
        else if (a == "--write-every-s") o.write_every_s = std::stoi(argv[i + 1]);
        else if (a == "--dir") o.dir = argv[i + 1];
        else {
          usage();
          return 2;
        }
      }
      return anxin::bench::run_heartbeats(o);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "anxin-bench: %s\n", e.what());
      return 1;
    }
  }
  if (argc >= 2 && std::strcmp(argv[1], "startup") == 0) {
    anxin::bench::StartupOptions o;
    try {
      for (int i = 2; i < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--rows" || a == "--kill") {
          (a == "--rows" ? o.rows : o.kill) = true;
          --i;  // no value
          continue;
        }
        if (i + 1 >= argc) a.clear();
        if (a == "--elders") o.elders = std::stoll(argv[i + 1]);
        else if (a == "--devices") o.devices = std::stoll(argv[i + 1]);
        else if (a == "--runs") o.runs = std::stoi(argv[i + 1]);
        else if (a == "--settle-s") o.settle_s = std::stod(argv[i + 1]);
        else if (a == "--server") o.server = argv[i + 1];
        else if (a == "--sim") o.sim = argv[i + 1];
        else if (a == "--dir") o.dir = argv[i + 1];
        else if (a == "--edit") o.edit = std::stoll(argv[i + 1]);
        else if (a == "--edit-running") o.edit_running = std::stoll(argv[i + 1]);
        else {
          usage();
          return 2;
        }
      }
      return anxin::bench::run_startup(o);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "anxin-bench: %s\n", e.what());
      return 1;
    }
  }
  if (argc >= 2 && std::strcmp(argv[1], "visits") == 0) {
    anxin::bench::VisitsOptions o;
    for (int i = 2; i + 1 < argc; i += 2) {
      std::string a = argv[i];
      if (a == "--elders") o.elders = std::stoi(argv[i + 1]);
      else if (a == "--rounds") o.rounds = std::stoi(argv[i + 1]);
      else {
        usage();
        return 2;
      }
    }
    return anxin::bench::run_visits(o);
  }
  if (argc >= 2 && std::strcmp(argv[1], "ring") == 0) {
    anxin::bench::RingOptions o;
    for (int i = 2; i + 1 < argc; i += 2) {
      std::string a = argv[i];
      if (a == "--calls") o.calls = std::stoi(argv[i + 1]);
      else if (a == "--dir") o.dir = argv[i + 1];
      else {
        usage();
        return 2;
      }
    }
    try {
      return anxin::bench::run_ring(o);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "anxin-bench: %s\n", e.what());
      return 1;
    }
  }
  if (argc < 2 || std::strcmp(argv[1], "latency") != 0) {
    usage();
    return 2;
  }
  anxin::bench::LatencyOptions o;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--rate") o.rate = std::stod(value());
    else if (a == "--seconds") o.seconds = std::stod(value());
    else if (a == "--warmup") o.warmup_s = std::stod(value());
    else if (a == "--consoles") o.consoles = std::stoi(value());
    else if (a == "--dir") o.dir = value();
    else if (a == "--full-only") o.compare_normal = false;
    else {
      usage();
      return 2;
    }
  }
  try {
    return anxin::bench::run_latency(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anxin-bench: %s\n", e.what());
    return 1;
  }
}
