// Shared test fixtures: temporary directories, a small registry, an in-process
// server on a free port, and helpers to read frames and count rows.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "anxin/core/clock.hpp"
#include "anxin/core/dispatcher.hpp"
#include "anxin/core/domain.hpp"
#include "anxin/core/store.hpp"
#include "anxin/gateway/server.hpp"
#include "anxin/gateway/ws_client.hpp"

namespace anxin::sim {
struct District;
}

namespace anxin::test {

using json = nlohmann::json;

// A fresh directory per test, so ctest -j cannot collide; removed afterwards.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Two elders and four devices:
//   elder 1 (张桂英, 82, alone): D1 sos_button, D2 smoke   — vendor "acme"
//   elder 2 (李德明, 70):        D3 sos_button, D4 infrared — vendor "acme"
// Workers: 1 赵敏 (nurse, at 34.83/115.54, e-bike), 2 钱进 (volunteer, ~1 km NE).
// Tokens: "tok-d1" speaks for device D1 only, "tok-acme" for the whole vendor,
// "tok-console" is operator 王芳, "tok-w1" and "tok-w2" are the two workers.
struct SmallRegistry {
  std::vector<Elder> elders;
  std::vector<Device> devices;
  std::vector<Worker> workers;
};
SmallRegistry small_registry();
// A dispatcher's state holding a registry's elders, devices and workers (a
// SmallRegistry or a generated sim::District).
template <class Registry>
LiveState live_state(const Registry& r) {
  LiveState st;
  st.elders = ElderTable(r.elders);
  st.devices = DeviceTable(r.devices);
  st.workers = r.workers;
  return st;
}
// `d` restored to a generated district's registry, then the district's mix of alarms
// raised `step_ms` apart until `open` incidents are open (one an elder at most).
void open_district(Dispatcher& d, ManualClock& clock, const sim::District& district, std::size_t open,
                   Millis step_ms);
void seed_small_registry(const std::string& db_path);
// Logins (password "correct horse" for all): wangfang (operator 王芳), zhangmin
// (supervisor 张敏), w1 and w2 (the two workers). Each costs an argon2 hash (~0.1 s),
// so only the tests that log in add them.
void add_small_accounts(const std::string& db_path);

long long count_rows(const std::string& db_path, const std::string& table);
// One value from the file while the server runs, as text ("" for none or NULL).
std::string sql_text(const std::string& db_path, const std::string& sql);

// An in-process anxin-server on a free port, over a seeded database in a fresh
// directory, or over `db_path` when given.
class Centre {
 public:
  // `clock`, when given, replaces the system clock (e.g. to look at a replayed day).
  explicit Centre(bool seed = true, gateway::ServerOptions options = {}, const Clock* clock = nullptr,
                  std::string db_path = "");
  ~Centre();
  int port() const { return server_->port(); }
  const std::string& db() const { return db_; }
  gateway::Server& server() { return *server_; }
  void restart();

  // A connected client that has said hello with `token` and got welcome.
  std::unique_ptr<gateway::SyncClient> client(const std::string& role, const std::string& token);

 private:
  TempDir dir_;
  std::string db_;
  SystemClock system_clock_;
  const Clock& clock_;
  std::unique_ptr<gateway::Server> server_;
  gateway::ServerOptions options_;
};

// The next frame, parsed; fails the test on timeout or bad JSON.
json next_json(gateway::SyncClient& c, std::chrono::milliseconds timeout = std::chrono::seconds(5));
// The next frame of `type`, skipping others (e.g. deltas while waiting for ok).
json next_of_type(gateway::SyncClient& c, const std::string& type,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The points of the rank reason `code` of `i`, or 0 when it has none.
int rank_points(const Incident& i, const std::string& code);

// How many of `writes` are `Op`s.
template <class Op>
size_t count_writes(const WriteBatch& writes) {
  size_t n = 0;
  for (const WriteOp& w : writes) n += std::holds_alternative<Op>(w);
  return n;
}

// Raises `kind` from `device` with counter `seq` and `detail`, stamped with the
// dispatcher's clock; fails the test if it is refused.
AlarmAck raise(Dispatcher& d, const Principal& who, const std::string& device, std::int64_t seq, AlertKind kind,
               std::string detail = "{}");

std::string alarm_frame(const std::string& device, long long seq, const std::string& kind,
                        const std::string& req = "");

}  // namespace anxin::test
