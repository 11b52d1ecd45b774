#include "visits.hpp"

#include "anxin/core/care_tier.hpp"

namespace anxin::sim {

namespace {

constexpr Millis kDay = 86'400'000;

// 000 二.(四)1: at least once a month for everyone, more for the key group; the
// intervals for the key and sub-key groups are this demo's assumption.
int interval_days(CareTier tier) {
  switch (tier) {
    case CareTier::key: return 7;
    case CareTier::sub_key: return 14;
    case CareTier::general: return 30;
  }
  return 30;
}

const char* const kNotes[] = {
    "老人精神状态良好，饮食正常", "血压偏高，已提醒按时服药", "家中整洁，独自生活能自理",
    "反映腿脚不便，已转介助行服务", "情绪低落，陪聊半小时", "已宣传防范养老诈骗知识",
    "子女本周未联系，已电话提醒", "已协助申请居家适老化改造",
};
const char* const kHazards[] = {
    "燃气软管老化", "电线裸露", "卫生间地面湿滑无扶手", "取暖器靠近床铺", "烟雾报警器电量不足",
};

}  // namespace

std::vector<Visit> generate_visits(const District& d, const DistrictOptions& o) {
  Rng rng(o.seed ^ 0x715175ULL);
  const Millis today_noon = local_noon_ms(o.today);
  std::vector<Visit> out;
  for (const auto& e : d.elders) {
    const CareTier tier = care_tier(e, age_on(e.birth_date, o.today));
    const int every = interval_days(tier);
    // The first visit falls somewhere in the first interval, then one per interval.
    for (Millis at = today_noon - 30 * kDay + rng.uniform(0, every - 1) * kDay; at < today_noon;
         at += every * kDay) {
      Visit v;
      v.elder = e.id;
      const auto pick = rng.uniform(0, static_cast<std::int64_t>(d.workers.size()) - 1);
      v.worker = e.paired_worker.value_or(d.workers.empty() ? 0 : d.workers[static_cast<size_t>(pick)].id);
      v.at_ms = at + rng.uniform(-3 * 3600, 4 * 3600) * 1000;  // between 9:00 and 16:00
      // 000 二.(四)2: in-home visits for the frail, with consent; otherwise by phone,
      // online, or on meeting them out.
      if (e.visit_consent && tier != CareTier::general) {
        v.mode = VisitMode::home;
      } else {
        const auto roll = rng.uniform(0, 9);
        v.mode = roll < 6 ? VisitMode::phone : roll < 8 ? VisitMode::encounter : VisitMode::online;
      }
      v.areas = {ServiceArea::health, ServiceArea::emotional};
      if (v.mode == VisitMode::home) v.areas.push_back(ServiceArea::home_safety);
      if (rng.chance(0.3)) v.areas.push_back(ServiceArea::care_advice);
      if (rng.chance(0.15)) v.areas.push_back(ServiceArea::policy);
      v.notes = kNotes[rng.uniform(0, std::size(kNotes) - 1)];
      if (v.mode == VisitMode::home && rng.chance(0.06)) v.hazards = kHazards[rng.uniform(0, std::size(kHazards) - 1)];
      out.push_back(std::move(v));
    }
  }
  return out;
}

}  // namespace anxin::sim
