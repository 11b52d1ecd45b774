#include "phone.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <algorithm>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "anxin/gateway/baresip.hpp"

namespace anxin::sim {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> sim_numbers(const std::string& db) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    throw std::runtime_error("cannot open " + db);
  }
  std::vector<std::string> out;
  // A district made before devices had SIM numbers: the elders' own mobiles call instead.
  for (const char* sql : {"SELECT sim FROM devices WHERE sim <> '' ORDER BY id",
                          "SELECT phone FROM elders WHERE phone LIKE '1%' AND unknown_caller = 0 ORDER BY id"}) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(h, sql, -1, &s, nullptr) == SQLITE_OK)
      while (sqlite3_step(s) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    if (!out.empty()) break;
  }
  sqlite3_close(h);
  if (out.empty()) throw std::runtime_error(db + " has no device SIM or elder's mobile to call from");
  return out;
}

// One call: an agent with the SIM's number as its user dials the seat, talks for a
// while if answered, and hangs up.
void call_once(const PhoneOptions& o, const std::string& number, const volatile int& stop) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<SeatEvent> events;
  SeatConfig c;
  c.name = number;
  c.dir = o.dir + "/" + number;
  c.sip_port = o.sip_port;
  c.ctrl_port = o.ctrl_port;
  c.rtp_min = o.rtp_min;
  c.rtp_max = o.rtp_max;
  c.ring_timeout_ms = o.ring_s * 1000;
  Seat phone(c, [&](const SeatEvent& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
    cv.notify_all();
  });
  auto wait = [&](SeatEvent::Kind kind, std::chrono::seconds limit) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] {
      if (stop) return true;
      for (const auto& e : events)
        if (e.kind == kind || e.kind == SeatEvent::Kind::closed) return true;
      return false;
    }) && !stop && std::any_of(events.begin(), events.end(), [&](const SeatEvent& e) { return e.kind == kind; });
  };
  if (!wait(SeatEvent::Kind::up, std::chrono::seconds(10))) return;
  std::fprintf(stderr, "anxin-sim phone: %s calls %s\n", number.c_str(), o.seat_uri.c_str());
  phone.dial(o.seat_uri, "demo");
  if (wait(SeatEvent::Kind::established, std::chrono::seconds(o.ring_s + 5))) {
    wait(SeatEvent::Kind::closed, std::chrono::seconds(o.talk_s));
    phone.hangup();
  }
  wait(SeatEvent::Kind::closed, std::chrono::seconds(5));
}

}  // namespace

int run_phone(const PhoneOptions& o, const volatile int& stop) {
  const std::vector<std::string> numbers = sim_numbers(o.db);
  std::mt19937_64 rng(o.seed);
  std::exponential_distribution<double> gap(1.0 / o.every_s);
  for (long long n = 0; (o.count < 0 || n < o.count) && !stop; ++n) {
    const auto until = Clock::now() + std::chrono::milliseconds(static_cast<long long>(1000 * gap(rng)));
    while (Clock::now() < until && !stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (stop) break;
    call_once(o, numbers[rng() % numbers.size()], stop);
  }
  return 0;
}

}  // namespace anxin::sim
