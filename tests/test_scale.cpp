// City scale (issue 15), the parts a test can hold without timing anything: the WAL
// stays bounded under a sustained stream of commits, a 15,000-incident snapshot and
// a 10,000-escalation tick drop no console that reads.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "district.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using namespace std::chrono_literals;

namespace {

std::uintmax_t size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

}  // namespace

TEST_CASE("the WAL stays under twice its limit through a sustained stream of commits", "[scale][wal]") {
  test::TempDir dir;
  const auto db = dir.file("wal.db");
  StoreOptions o;
  o.wal_limit_bytes = 1 << 20;
  constexpr int kRows = 40000;
  std::atomic<int> durable{0};
  std::uintmax_t largest = 0;
  {
    Store store(db, o);
    store.start();
    // One row a batch, submitted without a pause: the writer commits back to back
    // for the whole burst, which is what kept the WAL growing before.
    const std::string detail = R"({"pad":")" + std::string(200, 'x') + R"("})";
    for (int i = 0; i < kRows; ++i) {
      store.submit({AppendAudit{{i, "bench", "alarm", 0, detail}}}, [&] { ++durable; });
      if (i % 500 == 0) largest = std::max(largest, size_or_zero(db + "-wal"));
    }
    store.drain();
    largest = std::max(largest, size_or_zero(db + "-wal"));
    CHECK(store.commits() > 20);  // a stream of commits, not one
  }
  CHECK(durable == kRows);
  CHECK(test::count_rows(db, "audit") == kRows);
  // About 10 MB went through the WAL.
  CHECK(largest <= 2 * static_cast<std::uintmax_t>(o.wal_limit_bytes));
  CHECK(size_or_zero(db + "-wal") <= 2 * static_cast<std::uintmax_t>(o.wal_limit_bytes));
}

namespace {

using json = nlohmann::json;

// A database holding a district of about `n` elders with one open incident each (an
// SOS from each elder's one-key button), and tokens "tok-console" and "tok-<vendor>".
// Returns the one-key buttons that raised them, by vendor, to raise more.
std::map<std::string, std::vector<DeviceId>> open_incidents(const std::string& db, const Clock& clock, int n,
                                                            size_t* opened) {
  const sim::District district = sim::generate_district({7, n, 20, "2026-11-26"});
  Store store(db, StoreOptions{false});
  store.import_registry(district.elders, district.devices, district.workers);
  std::set<std::string> vendors;
  for (const auto& d : district.devices) vendors.insert(d.vendor);
  for (const auto& v : vendors) store.put_token("tok-" + v, {Role::device, "vendor:" + v});
  store.put_token("tok-console", {Role::console, "operator:王芳"});
  Dispatcher d(clock);
  d.restore(store.load());
  store.start();
  std::set<ElderId> done;
  std::map<std::string, std::vector<DeviceId>> buttons;
  for (const auto& dev : district.devices) {
    if (dev.kind != DeviceKind::sos_button || !done.insert(dev.elder).second) continue;
    test::raise(d, {Role::device, "vendor:" + dev.vendor}, dev.id, 1, AlertKind::sos);
    store.submit(d.take_effects().writes);
    buttons[dev.vendor].push_back(dev.id);
  }
  store.drain();
  *opened = d.open_count();
  return buttons;
}

// Frames of a console, read as they come: the deltas' seqs must follow on without a gap.
struct Reader {
  std::unique_ptr<gateway::SyncClient> client;
  std::uint64_t seq = 0;    // the last one applied
  size_t deltas = 0, escalated = 0;
  bool gap = false;
  // Reads what has come within `wait`; false once nothing came.
  bool read(std::chrono::milliseconds wait) {
    auto text = client->next(wait);
    if (!text) return false;
    if (text->rfind(R"({"type":"delta")", 0) != 0) return true;  // presence, line, ...
    const json j = json::parse(*text);
    const auto s = j["seq"].get<std::uint64_t>();
    gap |= s != seq + 1;
    seq = s;
    ++deltas;
    if (j.contains("incident") && !j["incident"]["escalations"].empty()) ++escalated;
    return true;
  }
};

// The head of a snapshot: its seq and how many incidents it holds, without building a
// tree of megabytes for each console.
std::pair<std::uint64_t, size_t> snapshot_head(const std::string& text) {
  REQUIRE(text.rfind(R"({"type":"snapshot","seq":)", 0) == 0);
  const std::uint64_t seq = std::stoull(text.substr(std::strlen(R"({"type":"snapshot","seq":)")));
  size_t incidents = 0;
  for (size_t at = text.find(R"("elder_id":)"); at != std::string::npos; at = text.find(R"("elder_id":)", at + 1))
    ++incidents;
  return {seq, incidents};
}

Reader subscribed_console(test::Centre& centre, size_t expect_incidents) {
  Reader r{centre.client("console", "tok-console")};
  r.client->send(R"({"type":"subscribe","req":"s"})");
  for (;;) {
    auto text = r.client->next(std::chrono::seconds(30));
    REQUIRE(text);
    if (text->rfind(R"({"type":"snapshot")", 0) != 0) continue;
    auto [seq, incidents] = snapshot_head(*text);
    CHECK(incidents == expect_incidents);
    r.seq = seq;
    return r;
  }
}

}  // namespace

TEST_CASE("a 15000-incident snapshot goes out while alarms flow and no reading console is dropped",
          "[scale][snapshot]") {
  test::TempDir dir;
  const auto db = dir.file("big.db");
  SystemClock clock;
  size_t open = 0;
  const auto buttons = open_incidents(db, clock, 15400, &open);
  REQUIRE(open >= 15000);
  const auto& [vendor, devices] = *buttons.begin();
  test::Centre centre(false, {}, nullptr, db);
  std::vector<Reader> consoles;
  for (int i = 0; i < 3; ++i) consoles.push_back(subscribed_console(centre, open));
  // A fourth subscribes while a device keeps raising alarms, each acked.
  auto dev = centre.client("device", "tok-" + vendor);
  constexpr int kAlarms = 200;  // one each from as many buttons: one device's own limit is lower
  REQUIRE(devices.size() >= kAlarms);
  for (int i = 0; i < kAlarms / 2; ++i) dev->send(test::alarm_frame(devices[i], 2, "sos"));
  consoles.push_back(Reader{centre.client("console", "tok-console")});
  consoles.back().client->send(R"({"type":"subscribe","req":"late"})");
  for (int i = kAlarms / 2; i < kAlarms; ++i) dev->send(test::alarm_frame(devices[i], 2, "sos"));
  int acks = 0;
  while (acks < kAlarms) {
    auto j = test::next_json(*dev, std::chrono::seconds(20));
    REQUIRE(j["type"] == "ack");
    ++acks;
  }
  // The late console: its snapshot, then deltas from its seq on.
  Reader& late = consoles.back();
  for (;;) {
    auto text = late.client->next(std::chrono::seconds(30));
    REQUIRE(text);
    if (text->rfind(R"({"type":"snapshot")", 0) != 0) continue;
    CHECK(text->find(R"("req":"late")") != std::string::npos);
    auto [seq, incidents] = snapshot_head(*text);
    CHECK(incidents == open);  // every alarm joined an open incident
    late.seq = seq;
    break;
  }
  // Every console reads on to the last alarm's delta, with no gap and no drop.
  const std::uint64_t last = consoles[0].seq + kAlarms;
  for (auto& c : consoles) {
    while (c.seq < last && c.read(std::chrono::seconds(10))) {}
    CHECK_FALSE(c.gap);
    CHECK(c.seq == last);
    CHECK_FALSE(c.client->closed());
  }
  CHECK(centre.server().stats().slow_clients_dropped == 0);
}

TEST_CASE("a tick that escalates 10000 incidents drops no console that reads", "[scale][escalation]") {
  test::TempDir dir;
  const auto db = dir.file("burst.db");
  ManualClock clock{sim::local_noon_ms("2026-11-26")};
  size_t open = 0;
  open_incidents(db, clock, 10300, &open);
  REQUIRE(open >= 10000);
  gateway::ServerOptions o;
  o.tick_ms = 50;
  o.max_unread_bytes_soft = 256 << 10;  // the burst is far over it, for every console
  o.slow_client_grace_s = 1;
  test::Centre centre(false, o, &clock, db);
  std::vector<Reader> consoles;
  for (int i = 0; i < 10; ++i) consoles.push_back(subscribed_console(centre, open));
  // Every incident is past the 60 s and 180 s thresholds at the next tick: one
  // incident_updated each. The grace passes many times over while they are read.
  clock.advance(4 * 60 * 1000);
  for (int round = 0; round < 200; ++round) {
    bool all = true;
    for (auto& c : consoles) {
      for (int k = 0; k < 500 && c.read(std::chrono::milliseconds(20)); ++k) {}
      all &= c.escalated >= open;
    }
    clock.advance(250);
    if (all) break;
  }
  for (auto& c : consoles) {
    CHECK(c.escalated == open);
    CHECK_FALSE(c.gap);
    CHECK_FALSE(c.client->closed());
  }
  CHECK(centre.server().stats().slow_clients_dropped == 0);
}

// The server's allocator is mimalloc (docs/architecture.md, "Memory"): asked to, it
// reports at exit the heap it served, which only a process whose malloc it is has.
TEST_CASE("anxin-server allocates through mimalloc", "[scale][memory]") {
  test::TempDir dir;
  const std::string db = dir.file("m.db"), log = dir.file("server.log"), port_file = dir.file("port");
  test::seed_small_registry(db);
  test::Process server({"/bin/sh", "-c", "MIMALLOC_SHOW_STATS=1 exec \"$0\" \"$@\"", ANXIN_SERVER_BIN, "--db", db,
                        "--port", "0", "--interface", "127.0.0.1", "--field-port", "-1", "--port-file", port_file},
                       log);
  REQUIRE(test::eventually([&] { return !test::read_file(port_file).empty(); }, 10s));
  server.signal(SIGTERM);
  REQUIRE(server.wait(10s) == 0);
  const std::string out = test::read_file(log);
  INFO(out);
  CHECK(out.find("heap stats:") != std::string::npos);
  CHECK(out.find("committed:") != std::string::npos);
}
