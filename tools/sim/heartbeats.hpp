// The district's devices checking in (docs/protocol.md, "heartbeat"): which device
// sends its heartbeat when, with what battery and signal, and which devices fall
// silent for a while. anxin-sim play sends what this plans; it may call only the
// district's Rng and the core's plain types.
//
// Every device beats once per interval, the district spread evenly over it in a
// seeded order: beat k of the run belongs to device order[k % n] and falls at
// k * interval / n seconds. Everything about a beat (battery, signal, whether a
// silence starts) is decided by the beat's number alone, so a seed gives the same
// heartbeats whatever the pace of the clock that asks for them.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "anxin/core/dispatcher.hpp"
#include "district.hpp"

namespace anxin::sim {

struct HeartbeatOptions {
  std::uint64_t seed = 42;
  double interval_s = 60;    // each device once per interval; > 0
  double silence_pct = 1;    // share of devices silent at any one time, on average; [0, 100)
  // A silence lasts this long (rounded up to whole intervals): long enough for the
  // server's default check-in plus grace to run out for the worn and monitoring
  // devices (15 and 30 min) and, in the longer silences, the hourly ones (75 min).
  double silence_min_s = 20 * 60;
  double silence_max_s = 90 * 60;
};

class HeartbeatPlan {
 public:
  // Batteries start from each device's `battery_pct`. Throws std::invalid_argument
  // for an interval <= 0, a share outside [0, 100) or a silence range that is empty
  // or not positive.
  HeartbeatPlan(const std::vector<Device>& devices, HeartbeatOptions options);

  // The heartbeats due from the last call up to `elapsed_s` after the start, in order.
  // Silent devices send none.
  std::vector<HeartbeatIn> due(double elapsed_s);

  // The device's current boot: a battery that ran down is replaced, and the device
  // starts again with a new boot. Empty for a device the plan does not know.
  const std::string& boot_of(const DeviceId& device) const;
  bool silent(const DeviceId& device) const;  // skipped its last beat, or will skip its next
  size_t silent_count() const { return silent_; }
  std::uint64_t beats() const { return next_beat_; }  // beat numbers handed out so far, sent or not

 private:
  struct State {
    DeviceId id;
    std::string boot;
    int battery_pct = 100;
    int base_signal_dbm = -80;
    std::uint64_t silent_until_round = 0;  // no beats in rounds before this one
    bool silent = false;
  };
  std::string new_boot(Rng& rng);

  HeartbeatOptions o_;
  std::vector<State> devices_;  // in beat order
  std::unordered_map<DeviceId, size_t> index_;
  std::int64_t silence_min_beats_ = 1, silence_max_beats_ = 1;
  double silence_start_p_ = 0;  // per beat, for a device that is not silent
  std::uint64_t next_beat_ = 0;
  size_t silent_ = 0;
};

}  // namespace anxin::sim
