// A restart gives the same figures (issue 11, item 6). A day and the evening before it
// are replayed under a manual clock into a real file; at moments all through them, and
// second by second around both midnights, a second dispatcher is restored from the
// file as a restarted server restores it, and its dashboard must equal the live one,
// figure by figure. Incidents straddle both midnights, some are resolved the day they
// open, some without being acknowledged, and one alarm comes at midnight exactly.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <queue>
#include <set>
#include <sstream>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/store.hpp"
#include "district.hpp"
#include "prng.hpp"
#include "support.hpp"

using namespace anxin;

namespace {

constexpr Millis kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute;
const std::string kDate = "2026-11-26";

// Every figure of the dashboard, one to a line, so that a difference names its field.
std::string figures(const MetricsSummary& m) {
  std::ostringstream out;
  for (size_t k = 0; k < kIntervals; ++k) {
    const IntervalStats& s = m.intervals[k];
    out << name_of(static_cast<Interval>(k)) << ": count " << s.count << ", p50 " << s.p50_ms << ", p90 "
        << s.p90_ms << '\n';
  }
  out << "acknowledged " << m.acknowledged << ", within 60 s " << m.acknowledged_within_60s << ", within 180 s "
      << m.acknowledged_within_180s << '\n';
  out << "per hour:";
  for (size_t n : m.opened_per_hour) out << ' ' << n;
  out << '\n';
  for (const auto& [name, load] : m.operators)
    out << "operator " << name << ": acknowledged " << load.acknowledged << ", resolved " << load.resolved
        << ", open " << load.open << '\n';
  return out.str();
}

class Evening {
 public:
  explicit Evening(const std::string& db)
      : district_(sim::generate_district({23, 300, 16, kDate})),
        store_(db, StoreOptions{false}),
        midnight_(sim::local_noon_ms(kDate) - 12 * kHour),
        clock_(midnight_ - 3 * kHour),
        live_(clock_),
        fleet_(district_, 23) {
    store_.import_registry(district_.elders, district_.devices, district_.workers);
    live_.restore(store_.load());
    store_.start();
  }
  // From 21:00 the evening before to the day's end, and on until all is closed.
  void run() {
    const Millis start = clock_.now_ms(), end = midnight_ + 24 * kHour;
    for (int k = 0; k < 150; ++k) schedule(start + static_cast<Millis>(rng_.below((end - start) / kSecond)) * kSecond,
                                           [this] { raise(); });
    for (Millis night : {midnight_, end}) {  // the last minutes before each midnight, and midnight itself
      for (int k = 0; k < 10; ++k)
        schedule(night - static_cast<Millis>(1 + rng_.below(240)) * kSecond, [this] { raise(); });
      schedule(night, [this] { raise(); });
    }
    for (Millis t = start; t <= end + 12 * kHour; t += kSecond) {
      clock_.set(t);
      const Millis from_midnight = std::min(std::abs(t - midnight_), std::abs(t - end));
      // Every second around midnight, also before anything happens in it: a reading
      // with no event or tick since the day turned.
      const bool each_second = from_midnight <= kMinute, each_action = from_midnight <= 30 * kMinute;
      if (each_second) compare();
      while (!queue_.empty() && queue_.top().at <= t) {
        Action act = queue_.top().act;
        queue_.pop();
        act();
        settle();
        if (each_action || ++actions_ % 4 == 0) compare();
      }
      live_.tick();
      settle();
      if (each_second || t % (10 * kMinute) == 0) compare();
      if (t == end - kSecond) last_of_day_ = live_.metrics();
      if (t > end && queue_.empty() && live_.open_count() == 0) break;
    }
  }

  // A restarted server: a fresh dispatcher from what is in the file, restored as
  // anxin-server restores one.
  void compare() {
    store_.drain();
    Dispatcher restarted(clock_);
    restarted.restore(store_.load(start_of_local_day(clock_.now_ms())));
    ++compared_;
    const std::string live = figures(live_.metrics()), again = figures(restarted.metrics());
    if (live == again) return;
    if (!differed_++) {
      first_difference_at_ = local_date(clock_.now_ms()) + " +" +
                             std::to_string((clock_.now_ms() - start_of_local_day(clock_.now_ms())) / kSecond) + " s";
      first_live_ = live;
      first_restarted_ = again;
    }
  }

  Store& store() { return store_; }
  Millis midnight() const { return midnight_; }
  size_t compared_ = 0, differed_ = 0;
  std::string first_difference_at_, first_live_, first_restarted_;
  MetricsSummary last_of_day_;

 private:
  using Action = std::function<void()>;
  struct Event {
    Millis at;
    std::uint64_t order;
    Action act;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const { return a.at != b.at ? a.at > b.at : a.order > b.order; }
  };

  void schedule(Millis at, Action act) { queue_.push({at, ++order_, std::move(act)}); }
  void later(Millis delay, Action act) { schedule(clock_.now_ms() + delay, std::move(act)); }
  Millis seconds(int lo, int hi) { return (lo + static_cast<Millis>(rng_.below(static_cast<std::uint64_t>(hi - lo + 1)))) * kSecond; }
  const Principal& op_for(IncidentId id) { return operators_[static_cast<size_t>(id) % operators_.size()]; }
  static Principal field(WorkerId w) { return {Role::field, "worker:" + std::to_string(w)}; }
  bool open(IncidentId id) const { return live_.incident(id) != nullptr; }

  void settle() {
    Effects fx = live_.take_effects();
    for (const auto& f : fx.field)
      if (f.event == FieldEvent::offer) answer_offer(f.worker, f.assignment.id, f.incident.id);
    if (!fx.writes.empty()) store_.submit(std::move(fx.writes));
  }

  void raise() {
    const AlarmIn a = fleet_.next(clock_.now_ms());
    auto r = live_.raise_alarm({Role::device, "vendor:" + fleet_.vendor_of(a.device)}, a);
    REQUIRE(r.ok());
    if (r->duplicate || !handled_.insert(r->incident).second) return;
    const IncidentId id = r->incident;
    const double roll = rng_.uniform(0, 1);
    if (roll < 0.05) {  // a false alarm, closed without acknowledging it
      later(seconds(20, 200), [this, id] { resolve(id, Disposition::false_alarm); });
    } else if (roll < 0.15) {  // dispatched straight away, which acknowledges it
      later(seconds(20, 90), [this, id] { dispatch(id, 0); });
    } else {
      later(rng_.chance(0.1) ? seconds(61, 240) : seconds(5, 55), [this, id] { acknowledge(id); });
    }
  }

  void acknowledge(IncidentId id) {
    if (!open(id)) return;
    REQUIRE(live_.acknowledge(op_for(id), id).ok());
    if (rng_.chance(0.45))
      later(seconds(30, 900), [this, id] { resolve(id, Disposition::resolved_by_phone); });
    else
      later(seconds(10, 60), [this, id] { dispatch(id, 0); });
  }

  void dispatch(IncidentId id, int attempt) {
    if (!open(id)) return;
    auto r = live_.dispatch(op_for(id), id, std::nullopt);
    if (r) {
      later(20 * kMinute, [this, id] { give_up_if_nobody_came(id); });
    } else if (attempt < 3) {
      later(2 * kMinute, [this, id, attempt] { dispatch(id, attempt + 1); });
    } else {
      later(kMinute, [this, id] { resolve(id, Disposition::family_handled); });
    }
  }

  // Nobody accepted: the family went round instead. Offers still out are looked at again.
  void give_up_if_nobody_came(IncidentId id) {
    const Incident* i = live_.incident(id);
    if (!i) return;
    for (const auto& a : i->assignments) {
      if (a.state == AssignmentState::accepted || a.state == AssignmentState::on_scene) return;
      if (a.state == AssignmentState::offered) {
        later(5 * kMinute, [this, id] { give_up_if_nobody_came(id); });
        return;
      }
    }
    resolve(id, Disposition::family_handled);
  }

  void answer_offer(WorkerId worker, std::int64_t assignment, IncidentId id) {
    const double roll = rng_.uniform(0, 1);
    if (roll < 0.7) {
      later(seconds(5, 40), [this, worker, assignment, id] {
        if (live_.accept(field(worker), assignment))
          later(seconds(120, 1500), [this, worker, assignment, id] { arrive(worker, assignment, id); });
      });
    } else if (roll < 0.85) {
      later(seconds(5, 20), [this, worker, assignment] { (void)live_.decline(field(worker), assignment, "正在另一户探访"); });
    }  // else the offer lapses, and the next tick offers it to someone else
  }

  void arrive(WorkerId worker, std::int64_t assignment, IncidentId id) {
    if (!live_.arrive(field(worker), assignment)) return;
    later(seconds(300, 1800), [this, worker, assignment, id] {
      if (!live_.complete(field(worker), assignment, "已上门查看，老人情况稳定")) return;
      later(seconds(60, 180), [this, id] { resolve(id, Disposition::visitor_assisted); });
    });
  }

  void resolve(IncidentId id, Disposition how) {
    const Incident* i = live_.incident(id);
    if (!i) return;
    for (const auto& a : i->assignments)
      if (a.state == AssignmentState::accepted || a.state == AssignmentState::on_scene) return;  // they close it
    REQUIRE(live_.resolve(op_for(id), id, how).ok());
  }

  sim::District district_;
  Store store_;
  Millis midnight_;  // the day's start
  ManualClock clock_;
  Dispatcher live_;
  sim::DeviceFleet fleet_;
  test::Prng rng_{0x11dab};
  std::vector<Principal> operators_{
      {Role::console, "operator:王芳"}, {Role::console, "operator:李强"}, {Role::console, "operator:赵丽"}};
  std::set<IncidentId> handled_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::uint64_t order_ = 0;
  size_t actions_ = 0;
};

}  // namespace

TEST_CASE("a restart at any moment of a replayed day leaves the dashboard unchanged", "[metrics_restart]") {
  test::TempDir dir;
  Evening evening(dir.file("day.db"));
  evening.run();
  INFO("first difference at " << evening.first_difference_at_ << "\nlive:\n"
                              << evening.first_live_ << "after a restart:\n"
                              << evening.first_restarted_);
  CHECK(evening.differed_ == 0);
  CHECK(evening.compared_ > 1000);

  // The day was a real one, and it had the edges in it.
  CHECK(evening.last_of_day_.acknowledged > 100);
  CHECK(evening.last_of_day_.intervals[static_cast<size_t>(Interval::on_scene)].count > 10);
  evening.store().drain();
  const Millis day = evening.midnight(), next = day + 24 * kHour;
  size_t straddled[2] = {0, 0}, unacknowledged = 0;
  for (const Incident& i : evening.store().load().incidents_since) {
    CHECK(i.state == IncidentState::resolved);
    for (int k = 0; k < 2; ++k) {
      const Millis night = k ? next : day;
      if (i.opened_ms < night && (i.acknowledged_ms >= night || i.resolved_ms >= night)) ++straddled[k];
    }
    unacknowledged += !i.acknowledged_ms;
  }
  CHECK(straddled[0] >= 3);
  CHECK(straddled[1] >= 3);
  CHECK(unacknowledged >= 3);
}
