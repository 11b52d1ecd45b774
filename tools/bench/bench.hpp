// anxin-bench: benchmarks that need whole programs (servers, sockets, files).
// Micro-benchmarks of the core live beside it as Catch2 [.][bench] cases.
#pragma once

#include <string>

namespace anxin::bench {

struct LatencyOptions {
  double rate = 1000;      // alarms per second
  double seconds = 10;     // measured
  double warmup_s = 2;     // not measured
  int consoles = 10;
  std::string dir = "build/bench";  // on the disk being measured, not tmpfs
  bool compare_normal = true;       // also run synchronous=NORMAL, for the ratio
};

int run_latency(const LatencyOptions&);

struct OfferOptions {
  double rate = 20;     // alarms per second
  double seconds = 10;
  int workers = 200;    // all on duty
  std::string dir = "build/bench";
};

int run_offer(const OfferOptions&);

struct RingOptions {
  int calls = 60;    // each a different elder's one-key phone
  int warmup = 5;    // not measured
  std::string dir = "build/bench";
};

int run_ring(const RingOptions&);

struct VisitsOptions {
  int elders = 1'000'000;
  int rounds = 3;  // lists are timed this many times; the best is reported
};

int run_visits(const VisitsOptions&);

struct HeartbeatsOptions {
  int devices = 100'000;
  int connections = 8;       // vendor-platform connections sending heartbeats
  int consoles = 3;
  double seconds = 20;       // per phase
  double rate = 100'000.0 / 60;  // the paced phase: heartbeats/s (the district once a minute)
  int window = 256;          // heartbeats in flight per connection in the flat-out phase
  int alarm_every_ms = 100;  // an SOS from the next device, in every phase
  int write_every_s = 10;    // the devices seen go to the file this often (server default: 60)
  std::string dir = "build/bench";
};

int run_heartbeats(const HeartbeatsOptions&);

struct Dc09BenchOptions {
  int alarms = 5000;
  int devices = 300;      // SOS buttons, each its own DC-09 account
  int connections = 4;    // panels' TCP connections, each one alarm in flight
  std::string dir = "build/bench";
};

int run_dc09(const Dc09BenchOptions&);

// City scale (issue 15, city.cpp): a real anxin-server binary as a child process on a
// district made by an anxin-sim binary, and Debian's redis-server beside it, driven by
// the same one-thread driver (driver.hpp).
struct CityOptions {
  std::string mode;    // fanout, throughput, stall, wal, burst
  std::string server;  // default: this build's ws-gateway/anxin-server
  std::string sim;     // default: this build's tools/sim/anxin-sim
  std::string redis = "/usr/bin/redis-server";
  bool redis_peer = true;
  std::string dir = "build/bench";
  bool keep = false;   // keep the run directories (databases, server logs)
  std::string alarms_to;  // fanout: each alarm's latencies appended to this file
  int consoles = 10;
  // fanout: connections that only say hello (Anxin: as a vendor's platform) and then
  // wait, as a city's platforms, gateways and field pages do, from 127.0.0.2 on, 250
  // from each address (Anxin takes 256 from one); Redis gets as many, saying nothing.
  int idle = 0;
  double rate = 1000;  // paced alarms a second
  double seconds = 10;
  double warmup = 2;
  int devices = 8;     // platform connections
  int window = 64;     // alarms in flight per platform connection, when pipelining
  int elders = 0;      // 0: the mode's own (2,000 for fanout, 15,000 for the others)
  int open = 14000;    // incidents opened first (stall, burst)
  int rounds = 1;      // fanout: Anxin's run then Redis's, this many times over
  // With two CPUs or more, each server's event loop gets the first CPU to itself, its
  // other threads and this driver the rest (--no-pin: wherever the system puts them).
  bool pin = true;
  std::string loop_cpus, other_cpus;  // set by run_city when pinning
};

int run_city(const CityOptions&);

struct StartupOptions {
  long long elders = 1'000'000;
  long long devices = 4'000'000;
  int runs = 3;
  double settle_s = 3;    // after serving, how long to wait before reading memory again
  std::string server;     // anxin-server to start; default: the one built beside this bench
  std::string sim;        // anxin-sim that generates the database; default: likewise
  std::string dir = "build/bench";  // the database is made here once and reused
  bool rows = false;  // remove the registry's image before each run: every start reads the rows
  bool kill = false;  // stop each run with SIGKILL: the next start is one after a crash
  long long edit = 0;  // elders and devices changed before each run, as another program would
  long long edit_running = 0;  // the same once the server serves, before it settles
};

// Start -> serving (the port file written and a ping answered) of a server on a city's
// database, and its resident memory then and after settling (VmRSS, VmHWM).
int run_startup(const StartupOptions&);

}  // namespace anxin::bench
