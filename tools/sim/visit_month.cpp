#include "visit_month.hpp"

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <queue>

#include "anxin/core/geo.hpp"
#include "district.hpp"

namespace anxin::sim {

namespace {

using json = nlohmann::json;
using visits::Day;
constexpr Millis kMinute = 60'000, kHour = 60 * kMinute;

class Month {
 public:
  Month(Store& store, ManualClock& clock, const MonthOptions& o, const visits::Policy& policy)
      : store_(store), clock_(clock), o_(o), rng_(o.seed ^ 0x7157ULL), d_(clock), service_(d_, clock, policy) {
    LiveState st = store.load();
    for (DeviceTable::Row r = 0; r < st.devices.size(); ++r)
      if (st.devices.at(r).kind == DeviceKind::water_meter)
        water_meters_.push_back({st.devices.at(r).elder, std::string(st.devices.serial(r))});
    std::sort(water_meters_.begin(), water_meters_.end());  // by elder, then id
    d_.restore(std::move(st));
    service_.load(store);
  }

  MonthResult run() {
    const auto first = visits::parse_day(o_.first_date);
    if (!first) throw std::invalid_argument("bad first date " + o_.first_date);
    for (Day day = *first; day < *first + o_.days; ++day) {
      const Millis midnight = visits::start_of(day);
      if (o_.campaign && day == *first + 9) at(midnight + 7 * kHour, [this, day] { start_campaign(day); });
      at(midnight + 8 * kHour + 30 * kMinute, [this, day] { phone_round(day); });
      at(midnight + 9 * kHour, [this, day] { field_round(day, false); });
      at(midnight + 16 * kHour + 30 * kMinute, [this, day] { field_round(day, true); });
      run_until(midnight + 24 * kHour - kMinute);
    }
    store_.drain();
    result_.end_ms = clock_.now_ms();
    return result_;
  }

 private:
  struct Event {
    Millis at;
    std::uint64_t order;
    std::function<void()> act;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const { return std::tie(a.at, a.order) > std::tie(b.at, b.order); }
  };

  void at(Millis when, std::function<void()> act) { queue_.push({when, order_++, std::move(act)}); }
  void run_until(Millis end) {
    while (!queue_.empty() && queue_.top().at <= end) {
      Event e = queue_.top();
      queue_.pop();
      if (e.at > clock_.now_ms()) clock_.set(e.at);
      e.act();
    }
    if (end > clock_.now_ms()) clock_.set(end);
  }

  // Sends one visits command as a client would, and writes what it changed.
  std::optional<json> send(const Principal& who, WorkerId worker, json frame) {
    const std::string type = frame["type"];
    auto r = service_.handle(who, worker, {type, frame.dump(), true});
    auto writes = service_.take_writes();
    if (!writes.empty()) store_.submit(std::move(writes));
    if (!r) {
      ++result_.refused;
      return std::nullopt;
    }
    return json::parse(r.value());
  }

  // --- the centre's phones ---------------------------------------------------------

  void phone_round(Day day) {
    auto list = send(kOperator, 0, {{"type", "phone_visits"}});
    if (!list) return;
    Millis t = clock_.now_ms();
    for (const auto& item : (*list)["visits"]) {
      if (item["state"] == "done") continue;
      const ElderId elder = item["elder_id"];
      t += 40'000;  // a call and its note take under a minute
      at(t, [this, elder, day] { call(elder, day); });
    }
  }

  void call(ElderId elder, Day day) {
    if (service_.book().reached_on(elder, day)) return;
    const bool answered = rng_.chance(o_.answer_p);
    ++result_.calls;
    auto r = send(kOperator, 0,
                  {{"type", "phone_visit_result"},
                   {"elder_id", elder},
                   {"outcome", answered ? "reached" : "no_answer"},
                   {"note", answered ? "老人身体平稳，已提醒注意保暖" : ""}});
    if (!r) return;
    if (answered) {
      ++result_.reached;
    } else if ((*r)["tries"].get<int>() < service_.book().policy().phone_tries) {
      at(clock_.now_ms() + 2 * kHour, [this, elder, day] { call(elder, day); });  // try again later
    }
  }

  // --- field workers -----------------------------------------------------------------

  void field_round(Day day, bool extras_only) {
    if (extras_only) close_hazards();
    for (const Worker* w : d_.workers()) {
      const Principal who{Role::field, "worker:" + std::to_string(w->id)};
      auto list = send(who, w->id, {{"type", "my_visits"}, {"lat", w->lat}, {"lon", w->lon}});
      if (!list) continue;
      Millis t = clock_.now_ms();
      for (const auto& item : (*list)["visits"]) {
        if (item["state"] == "done" || (extras_only && item["reason"] == "plan")) continue;
        if (!extras_only && !rng_.chance(o_.worker_p)) continue;  // not today
        t += static_cast<Millis>(item.value("distance_m", 500) / 4.0 * 1000) + 5 * kMinute;  // by e-bike
        const Millis stay = (rng_.chance(o_.short_p) ? rng_.uniform(2, 6) : rng_.uniform(15, 45)) * kMinute;
        const WorkerId worker = w->id;
        const json it = item;
        at(t, [this, worker, it, stay, day] { visit(worker, it, stay, day); });
        t += stay;
      }
    }
  }

  void visit(WorkerId worker, const json& item, Millis stay, Day day) {
    const Principal who{Role::field, "worker:" + std::to_string(worker)};
    const ElderId elder = item["elder_id"];
    if (service_.book().reached_on(elder, day)) return;
    const auto e = service_.book().has_elder(elder) ? d_.elder(elder) : std::nullopt;
    if (!e) return;
    // Now and then a visit is "filed" from elsewhere: 0.018° of latitude is some 2 km.
    const double lat = e->lat + (rng_.chance(o_.far_p) ? 0.018 : rng_.uniform(-30, 30) * 1e-5);
    const double lon = e->lon + rng_.uniform(-30, 30) * 1e-5;
    auto started = send(who, worker, {{"type", "start_visit"}, {"elder_id", elder}, {"lat", lat}, {"lon", lon},
                                      {"mode", item["mode"]}});
    if (!started) return;
    const std::int64_t id = (*started)["visit_id"];
    at(clock_.now_ms() + stay, [this, who, worker, id, e] {
      json finish = {{"type", "finish_visit"}, {"visit_id", id}, {"lat", e->lat}, {"lon", e->lon},
                     {"areas", {"health", "home_safety", "emotional"}}, {"notes", "精神状态良好，饮食正常"}};
      if (rng_.chance(o_.hazard_p))
        finish["hazards"] = {{{"area", "home_safety"}, {"text", "燃气软管老化，已提醒更换"}}};
      auto r = send(who, worker, finish);
      if (!r) return;
      ++result_.home_visits;
      if (!(*r)["flags"].empty()) ++result_.flagged;
      result_.hazards += (*r)["hazard_ids"].size();
    });
  }

  // Hazards are seen to in the days after they are found, most within the deadline.
  void close_hazards() {
    std::vector<std::pair<WorkerId, std::int64_t>> due;
    for (const visits::Hazard* h : service_.book().hazards(true))
      if (clock_.now_ms() - h->found_ms > 2 * 24 * kHour && rng_.chance(0.4)) due.emplace_back(h->owner, h->id);
    for (const auto& [owner, id] : due)
      send({Role::field, "worker:" + std::to_string(owner)}, owner,
           {{"type", "close_hazard"}, {"hazard_id", id}, {"note", "已协助更换，复查无隐患"}});
  }

  // --- the campaign ------------------------------------------------------------------

  void start_campaign(Day day) {
    auto r = send(kSupervisor, 0,
                  {{"type", "start_campaign"},
                   {"name", "寒潮蓝色预警关爱"},
                   {"reason", "weather"},
                   {"first_date", visits::date_of(day)},
                   {"last_date", visits::date_of(day + 2)},
                   {"reach_by_hour", 16},
                   {"tiers", {"key"}}});
    if (!r) return;
    result_.campaign = (*r)["campaign"]["campaign_id"];
    // A few homes' water meters report no use during the cold: a visit today.
    int raised = 0;
    for (const ElderId elder : water_meters_elders())
      if (raised < 3 && rng_.chance(0.2)) {
        ++raised;
        at(clock_.now_ms() + 3 * kHour, [this, elder] {
          service_.on_alert(elder, AlertKind::no_water_use);
          auto w = service_.take_writes();
          if (!w.empty()) store_.submit(std::move(w));
        });
      }
  }

  // The elders of the water meters the dispatcher has (a restore may leave one out).
  std::vector<ElderId> water_meters_elders() const {
    std::vector<ElderId> out;
    for (const auto& [elder, id] : water_meters_)
      if (auto of = d_.elder_of_device(id)) out.push_back(*of);
    return out;
  }
  std::vector<std::pair<ElderId, DeviceId>> water_meters_;  // read once, from the load

  const Principal kOperator{Role::console, "operator:王芳"};
  const Principal kSupervisor{Role::console, "supervisor:张敏"};
  Store& store_;
  ManualClock& clock_;
  MonthOptions o_;
  Rng rng_;
  Dispatcher d_;
  visits::Service service_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::uint64_t order_ = 0;
  MonthResult result_;
};

}  // namespace

MonthResult replay_month(Store& store, ManualClock& clock, const MonthOptions& options, const visits::Policy& policy) {
  return Month(store, clock, options, policy).run();
}

}  // namespace anxin::sim
