#include "anxin/core/ranking.hpp"

#include "anxin/core/care_tier.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>

namespace anxin {

int kind_points(AlertKind kind, bool dementia, const RankWeights& w) {
  switch (kind) {
    case AlertKind::smoke: return w.smoke;
    case AlertKind::gas: return w.gas;
    case AlertKind::sos: return w.sos;
    case AlertKind::fall: return w.fall;
    case AlertKind::inactivity: return w.inactivity;
    case AlertKind::vital_abnormal: return w.vital_abnormal;
    // 走失: a wandering elder with dementia is in danger; a geofence exit of
    // someone else is more often a walk.
    case AlertKind::geofence_exit: return dementia ? w.geofence_exit_dementia : w.geofence_exit;
    case AlertKind::bed_exit_long: return w.bed_exit_long;
    case AlertKind::no_water_use: return w.no_water_use;
    case AlertKind::water_leak: return w.water_leak;
    case AlertKind::door_open_long: return w.door_open_long;
    case AlertKind::offline: return w.offline;
    case AlertKind::phone_call: return w.phone_call;
    case AlertKind::low_battery: return w.low_battery;
  }
  return 0;
}

RankBase rank_base(const Incident& incident, const Elder& elder, int age, const RankWeights& w) {
  RankBase r;
  r.points = rank_base(incident, elder, age, w, r.reasons);
  return r;
}

int rank_base(const Incident& incident, const Elder& elder, int age, const RankWeights& w,
              std::vector<RankReason>& reasons) {
  int total = 0;
  std::size_t n = 0;  // reasons written: each over the last ranking's, in its string's room
  reasons.reserve(6);  // a kind, other kinds, tier, living, age, call-back: at most
  auto add = [&](int points, auto... code) {
    if (points == 0) return;
    total += points;
    if (n == reasons.size()) reasons.emplace_back();
    RankReason& r = reasons[n++];
    r.code.clear();
    (r.code.append(code), ...);
    r.points = points;
  };

  // The most urgent alert counts in full; other kinds add a bounded bonus, because
  // several different alarms at once (a fall and then no movement) confirm each other.
  static_assert(static_cast<unsigned>(AlertKind::phone_call) < 32, "a bit per kind");
  std::uint32_t kinds = 0;  // a bit per AlertKind seen
  int best = 0;
  AlertKind lead = AlertKind::low_battery;
  for (const auto& e : incident.timeline) {
    if (e.kind != TimelineKind::alert) continue;
    kinds |= 1u << static_cast<unsigned>(e.alert_kind);
    int p = kind_points(e.alert_kind, elder.dementia, w);
    if (p > best) best = p, lead = e.alert_kind;
  }
  const int distinct = std::popcount(kinds);
  if (distinct > 0) add(best, "kind:", name_of(lead));
  if (distinct > 1)
    add(std::min(w.max_extra_kinds, w.per_extra_kind * (distinct - 1)), "alerts:", std::to_string(distinct));

  // 000 二.(一): the key group comes first among the elders.
  switch (care_tier(elder, age)) {
    case CareTier::key: add(w.tier_key, "tier:key"); break;
    case CareTier::sub_key: add(w.tier_sub_key, "tier:sub_key"); break;
    case CareTier::general: break;
  }
  // Nobody at home to help: the centre is the only one who knows.
  switch (elder.living) {
    case LivingSituation::alone: add(w.living_alone, "living:alone"); break;
    case LivingSituation::elderly_only: add(w.elderly_only, "living:elderly_only"); break;
    case LivingSituation::empty_nest: add(w.empty_nest, "living:empty_nest"); break;
    case LivingSituation::left_behind: add(w.left_behind, "living:left_behind"); break;
    case LivingSituation::with_family: break;
  }
  // 004: the "old-old" (80+) are the most fragile.
  if (age >= 90) add(w.age_90, "age:90");
  else if (age >= 80) add(w.age_80, "age:80");

  if (incident.callback == CallbackOutcome::no_answer) add(w.callback_no_answer, "callback:no_answer");
  if (incident.callback == CallbackOutcome::needs_help) add(w.callback_needs_help, "callback:needs_help");
  reasons.resize(n);
  return total;
}

int waiting_points(const Incident& incident, Millis now, const RankWeights& w) {
  const Millis until = incident.acknowledged_ms ? incident.acknowledged_ms : now;
  const Millis waited = std::max<Millis>(0, until - incident.opened_ms);
  return static_cast<int>(waited * w.waiting_points_per_min / 60'000);
}

bool ranks_before(const Incident& a, const Incident& b, Millis now, const RankWeights& w) {
  const int sa = rank_score(a, now, w), sb = rank_score(b, now, w);
  if (sa != sb) return sa > sb;
  if (a.opened_ms != b.opened_ms) return a.opened_ms < b.opened_ms;
  return a.id < b.id;
}

}  // namespace anxin
