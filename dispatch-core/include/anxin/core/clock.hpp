// Time is an input: the core never reads the system clock itself, so timers and
// escalations can be tested, and a recorded day replayed, under a manual clock.
#pragma once

#include <atomic>
#include <chrono>

#include "anxin/core/domain.hpp"

namespace anxin {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

// Starts where it is told and moves only when advanced.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start) : now_(start) {}
  Millis now_ms() const override { return now_.load(); }
  void advance(Millis by) { now_ += by; }
  void set(Millis to) { now_ = to; }

 private:
  std::atomic<Millis> now_;
};

// YYYY-MM-DD of a time, in the service centre's time zone (China, UTC+8, no DST).
std::string local_date(Millis at);

}  // namespace anxin
