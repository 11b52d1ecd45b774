#include "anxin/core/metrics.hpp"

#include <algorithm>

#include "anxin/core/clock.hpp"

namespace anxin {

std::string_view name_of(Interval i) {
  switch (i) {
    case Interval::to_acknowledge: return "to_acknowledge";
    case Interval::to_dispatch: return "to_dispatch";
    case Interval::to_accept: return "to_accept";
    case Interval::to_arrive: return "to_arrive";
    case Interval::on_scene: return "on_scene";
  }
  return "?";
}

void ResponseMetrics::start_day(Millis at) {
  clear();
  day_start_ms_ = start_of_local_day(at);
  day_end_ms_ = start_of_local_day(day_start_ms_ + 36 * 3'600'000);  // the next midnight
}

void ResponseMetrics::observe(const Incident& i) {
  if (i.opened_ms < day_start_ms_ || i.opened_ms >= day_end_ms_) return;  // another day's
  auto [slot, first_time] = counted_.try_emplace(i.id, 0);
  std::uint8_t& done = slot->second;
  if (first_time) {
    constexpr Millis kHour = 3'600'000, kUtcPlus8 = 8 * kHour;  // China time, no DST
    ++opened_per_hour_[static_cast<size_t>(((i.opened_ms + kUtcPlus8) / kHour) % 24)];
  }
  auto take = [&](Interval which, Millis from, Millis to) {
    const auto bit = static_cast<std::uint8_t>(1u << static_cast<unsigned>(which));
    if (!from || !to || (done & bit)) return;
    done |= bit;
    samples_[static_cast<size_t>(which)].push_back(std::max<Millis>(0, to - from));
  };
  const bool had_ack = done & 1u;
  take(Interval::to_acknowledge, i.opened_ms, i.acknowledged_ms);
  if (!had_ack && i.acknowledged_ms) {
    const Millis waited = i.acknowledged_ms - i.opened_ms;
    within_60s_ += waited <= 60'000;
    within_180s_ += waited <= 180'000;
    ++operators_[i.acknowledged_by].acknowledged;
  }
  constexpr std::uint8_t kResolvedBit = 1u << kIntervals;
  if (i.resolved_ms && !(done & kResolvedBit)) {
    done |= kResolvedBit;
    if (!i.resolved_by.empty()) ++operators_[i.resolved_by].resolved;
  }
  take(Interval::to_dispatch, i.acknowledged_ms, i.dispatched_ms);
  take(Interval::to_accept, i.dispatched_ms, i.accepted_ms);
  take(Interval::to_arrive, i.accepted_ms, i.on_scene_ms);
  take(Interval::on_scene, i.on_scene_ms, i.resolved_ms);
}

MetricsSummary ResponseMetrics::summary() const {
  MetricsSummary s;
  for (size_t k = 0; k < kIntervals; ++k) {
    std::vector<Millis> v = samples_[k];
    s.intervals[k].count = v.size();
    if (v.empty()) continue;
    // Nearest-rank percentiles: the value below which p of the samples lie.
    auto at = [&](double p) {
      size_t rank = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);
      size_t idx = std::clamp<size_t>(rank, 1, v.size()) - 1;
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
      return v[idx];
    };
    s.intervals[k].p50_ms = at(0.5);
    s.intervals[k].p90_ms = at(0.9);
  }
  s.acknowledged = samples_[0].size();
  s.acknowledged_within_60s = within_60s_;
  s.acknowledged_within_180s = within_180s_;
  s.opened_per_hour = opened_per_hour_;
  s.operators = operators_;
  return s;
}

void ResponseMetrics::clear() {
  for (auto& v : samples_) v.clear();
  counted_.clear();
  within_60s_ = within_180s_ = 0;
  opened_per_hour_ = {};
  operators_.clear();
}

}  // namespace anxin
