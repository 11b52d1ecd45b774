#include "heartbeats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace anxin::sim {

namespace {
// One percent of charge is gone every 60 beats on average: an hour at the default
// pace, slow enough to watch a battery run down over a demo day.
constexpr double kDrainPerBeat = 1.0 / 60;
// Below the server's last low-battery level (5 %) a technician swaps the battery
// and the device starts again with a new boot.
constexpr int kReplaceBelowPct = 5;
}  // namespace

HeartbeatPlan::HeartbeatPlan(const std::vector<Device>& devices, HeartbeatOptions o) : o_(o) {
  if (!(o.interval_s > 0)) throw std::invalid_argument("the heartbeat interval must be positive");
  if (!(o.silence_pct >= 0 && o.silence_pct < 100)) throw std::invalid_argument("the silent share must be in [0, 100)");
  if (!(o.silence_min_s > 0) || !(o.silence_max_s >= o.silence_min_s))
    throw std::invalid_argument("the silence range must be positive and not empty");
  silence_min_beats_ = static_cast<std::int64_t>(std::ceil(o.silence_min_s / o.interval_s));
  silence_max_beats_ = static_cast<std::int64_t>(std::ceil(o.silence_max_s / o.interval_s));
  Rng rng(o.seed ^ 0x6865617274626561ULL);  // "heartbea"
  devices_.reserve(devices.size());
  for (const auto& d : devices) {
    State s;
    s.id = d.id;
    s.boot = new_boot(rng);
    s.battery_pct = std::clamp(d.battery_pct, 0, 100);
    s.base_signal_dbm = static_cast<int>(rng.uniform(-105, -60));
    devices_.push_back(std::move(s));
  }
  // Fisher-Yates with the district's Rng: the order the devices beat in.
  for (size_t i = devices_.size(); i > 1; --i)
    std::swap(devices_[i - 1], devices_[static_cast<size_t>(rng.uniform(0, static_cast<std::int64_t>(i) - 1))]);
  for (size_t i = 0; i < devices_.size(); ++i) index_[devices_[i].id] = i;
  // A device that is not silent starts a silence of mean length L beats with
  // chance p per beat; on average it is silent L / (1/p + L) of the time.
  const double f = o.silence_pct / 100, mean = static_cast<double>(silence_min_beats_ + silence_max_beats_) / 2;
  silence_start_p_ = f / (mean * (1 - f));
}

std::string HeartbeatPlan::new_boot(Rng& rng) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "b-%08llx", static_cast<unsigned long long>(rng.next() & 0xffffffffULL));
  return buf;
}

std::vector<HeartbeatIn> HeartbeatPlan::due(double elapsed_s) {
  std::vector<HeartbeatIn> out;
  const std::uint64_t n = devices_.size();
  if (n == 0 || elapsed_s < 0) return out;
  const auto last = static_cast<std::uint64_t>(std::floor(elapsed_s / o_.interval_s * static_cast<double>(n)));
  for (; next_beat_ <= last; ++next_beat_) {
    const std::uint64_t k = next_beat_, round = k / n;
    State& s = devices_[k % n];
    Rng rng(o_.seed * 0x9e3779b97f4a7c15ULL + k);  // this beat's own draws
    const bool was_silent = s.silent;
    if (round < s.silent_until_round) {
      s.silent = true;
    } else if (!was_silent && silence_start_p_ > 0 && rng.chance(silence_start_p_)) {
      s.silent = true;
      s.silent_until_round = round + static_cast<std::uint64_t>(rng.uniform(silence_min_beats_, silence_max_beats_));
    } else {
      s.silent = false;
    }
    if (s.silent != was_silent) s.silent ? ++silent_ : --silent_;
    if (s.silent) continue;
    if (rng.chance(kDrainPerBeat)) --s.battery_pct;
    if (s.battery_pct < kReplaceBelowPct) {
      s.battery_pct = 100;
      s.boot = new_boot(rng);
    }
    HeartbeatIn b;
    b.device = s.id;
    b.boot = s.boot;
    b.battery_pct = s.battery_pct;
    b.signal_dbm = std::clamp(s.base_signal_dbm + static_cast<int>(rng.uniform(-4, 4)), -150, 0);
    out.push_back(std::move(b));
  }
  return out;
}

const std::string& HeartbeatPlan::boot_of(const DeviceId& device) const {
  static const std::string none;
  auto it = index_.find(device);
  return it == index_.end() ? none : devices_[it->second].boot;
}

bool HeartbeatPlan::silent(const DeviceId& device) const {
  auto it = index_.find(device);
  return it != index_.end() && devices_[it->second].silent;
}

}  // namespace anxin::sim
