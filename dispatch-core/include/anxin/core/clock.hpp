// Time is an input: the core never reads the system clock itself, so timers and
// escalations can be tested, and a recorded day replayed, under a manual clock.
#pragma once

#include <atomic>
#include <chrono>

#include "anxin/core/domain.hpp"

namespace anxin {

// Two readings. now_ms() is wall time, ms since the Unix epoch: what records keep and
// people read, and it steps when NTP corrects it. mono_ms() never steps: ms from an
// arbitrary origin, so only differences of two readings mean anything. Timers judge
// elapsed time by it, so a step of the wall clock neither fires nor freezes them.
// Fields named *_mono hold mono_ms() readings; they live in memory only.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now_ms() const = 0;
  virtual Millis mono_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  Millis mono_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
};

// Starts where it is told and moves only when moved. advance() and set() are time
// passing: both readings move by the same amount (set() forward only, as the replay
// uses it). step_wall() steps the wall clock alone, as NTP does, with no time passing.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start) : wall_(start) {}
  Millis now_ms() const override { return wall_.load(); }
  Millis mono_ms() const override { return mono_.load(); }
  void advance(Millis by) {
    wall_ += by;
    mono_ += by;
  }
  void set(Millis to) { advance(to - wall_.load()); }
  void step_wall(Millis by) { wall_ += by; }

 private:
  std::atomic<Millis> wall_;
  std::atomic<Millis> mono_{0};
};

// YYYY-MM-DD of a time, in the service centre's time zone (China, UTC+8, no DST).
std::string local_date(Millis at);
// The local midnight that begins the centre's day holding `at` (the same day as
// local_date(at)): "today" for the dashboard's figures, live and after a restart.
Millis start_of_local_day(Millis at);

}  // namespace anxin
