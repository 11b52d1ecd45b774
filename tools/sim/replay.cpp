#include "replay.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <queue>
#include <set>
#include <stdexcept>

#include "anxin/core/dispatcher.hpp"

namespace anxin::sim {

namespace {

using Action = std::function<void()>;

struct Event {
  Millis at;
  std::uint64_t order;  // ties run in the order they were scheduled
  Action act;
};
struct Later {
  bool operator()(const Event& a, const Event& b) const { return a.at != b.at ? a.at > b.at : a.order > b.order; }
};

constexpr Millis kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute;

// Alarms by hour of day: quiet at night, busiest in the morning and evening, when
// elders get up, cook and wash (an assumption; the seeds give no rates).
constexpr int kHourWeights[24] = {2, 1, 1, 1, 2, 4, 7, 9, 9, 8, 7, 7, 8, 7, 6, 6, 7, 8, 9, 8, 6, 5, 4, 3};

// Alarms from `start` for `span` ms, on a store that holds the district's registry
// (and may hold more: the demo's month of visiting).
class Day {
 public:
  // The clock moves `step` at a time while anything is open (events run at the step
  // they fall in).
  Day(const ReplayOptions& o, Store& store, const District& district, Millis start, Millis span, Millis step)
      : o_(o),
        rng_(o.seed ^ 0x5eed5eedULL),
        store_(store),
        clock_(start),
        start_(start),
        span_(span),
        step_(step),
        d_(clock_),
        fleet_(district, o.seed, last_seqs(store.load())) {
    d_.restore(store_.load());
    store_.start();
  }

  ReplayResult run() {
    const Millis start = start_;
    schedule_alarms(start);
    const Millis hard_stop = start + span_ + 6 * kHour;  // time to close what the span opened
    for (Millis t = start; t <= hard_stop; t += step_) {
      // Nothing open and nothing due for a while: on to the next alarm.
      if (d_.open_count() == 0 && !queue_.empty() && queue_.top().at > t + step_) t = queue_.top().at;
      clock_.set(t);
      while (!queue_.empty() && queue_.top().at <= t) {
        Action act = queue_.top().act;
        queue_.pop();
        act();
        settle();
      }
      d_.tick();
      settle();
      if (t >= start + span_ && queue_.empty() && d_.open_count() == 0) break;
    }
    store_.stop();
    result_.audit = store_.audit_log();
    // The day's figures, as a dashboard reads them at the end of the day: every
    // incident opened that day, in its final state, read back from the file.
    // (The dispatcher's own figures start afresh at midnight.)
    ResponseMetrics day;
    day.start_day(start);
    for (const Incident& i : store_.load(start).incidents_since) day.observe(i);
    result_.metrics = day.summary();
    result_.refused = refused_;
    return std::move(result_);
  }

 private:
  int between(int lo, int hi) { return static_cast<int>(rng_.uniform(lo, hi)); }
  void schedule(Millis at, Action act) { queue_.push({at, ++order_, std::move(act)}); }
  void later(Millis delay, Action act) { schedule(clock_.now_ms() + delay, std::move(act)); }
  const Principal& op_for(IncidentId id) { return operators_[static_cast<size_t>(id) % operators_.size()]; }

  template <class T> bool ok(const Result<T>& r) {
    if (!r) ++refused_;
    return r.ok();
  }

  static std::map<DeviceId, std::int64_t> last_seqs(const LiveState& st) {
    std::map<DeviceId, std::int64_t> seqs;
    for (const auto& p : st.progress) seqs[p.device] = p.last_seq;
    return seqs;
  }

  // `alarms` a day over the span's days (from `start`, a local midnight), by the hour
  // weights; those past the span's end are dropped.
  void schedule_alarms(Millis start) {
    int total = 0;
    for (int w : kHourWeights) total += w;
    const int days = static_cast<int>((span_ + 24 * kHour - 1) / (24 * kHour));
    std::vector<Millis> times;
    for (int k = 0; k < o_.alarms * days; ++k) {
      int pick = between(0, total - 1), hour = 0;
      while (pick >= kHourWeights[hour]) pick -= kHourWeights[hour++];
      const Millis at = start + between(0, days - 1) * 24 * kHour + hour * kHour + between(0, 3599) * kSecond;
      if (at < start + span_) times.push_back(at);
    }
    std::sort(times.begin(), times.end());
    for (Millis at : times) schedule(at, [this] { raise(); });
  }

  // Takes what the dispatcher produced: writes to the file, offers to the workers.
  void settle() {
    Effects fx = d_.take_effects();
    result_.notices += fx.notices.size();
    for (const auto& f : fx.field)
      if (f.event == FieldEvent::offer) {
        ++result_.offers;
        answer_offer(f.worker, f.assignment.id, f.incident.id);
      }
    if (!fx.writes.empty()) store_.submit(std::move(fx.writes));
  }

  void raise() {
    const AlarmIn a = fleet_.next(clock_.now_ms());
    auto r = d_.raise_alarm({Role::device, "vendor:" + fleet_.vendor_of(a.device)}, a);
    if (!ok(r) || r->duplicate || handled_.count(r->incident)) return;
    handled_.insert(r->incident);
    ++result_.incidents_opened;
    ++result_.incidents_per_hour[static_cast<size_t>((clock_.now_ms() - day_start()) / kHour) % 24];
    // An operator picks it up within seconds; now and then it waits over a minute.
    const IncidentId id = r->incident;
    later(between(5, rng_.chance(0.05) ? 150 : 55) * kSecond, [this, id] { answer(id); });
  }

  Millis day_start() const { return start_; }

  void answer(IncidentId id) {
    const Incident* i = d_.incident(id);
    if (!i) return;
    if (i->state == IncidentState::open && !ok(d_.acknowledge(op_for(id), id))) return;
    const AlertKind kind = i->lead_kind();
    if (kind == AlertKind::low_battery || kind == AlertKind::offline) {
      later(between(30, 90) * kSecond, [this, id] { resolve(id, Disposition::device_fault); });
      return;
    }
    if (kind == AlertKind::smoke || kind == AlertKind::gas) {
      ok(d_.call_emergency(op_for(id), id, CallKind::fire_119));
      later(between(10, 30) * kSecond, [this, id] { dispatch(id, 0); });
    }
    later(between(15, 60) * kSecond, [this, id] { call_back(id); });
  }

  void call_back(IncidentId id) {
    const Incident* i = d_.incident(id);
    if (!i) return;
    const AlertKind kind = i->lead_kind();
    const double roll = rng_.unit();
    const CallbackOutcome outcome =
        roll < 0.55 ? CallbackOutcome::fine : roll < 0.8 ? CallbackOutcome::needs_help : CallbackOutcome::no_answer;
    if (!ok(d_.record_callback(op_for(id), id, outcome))) return;
    if (outcome == CallbackOutcome::fine && i->assignments.empty()) {
      const Disposition how = rng_.chance(0.4) ? Disposition::false_alarm : Disposition::resolved_by_phone;
      later(between(30, 120) * kSecond, [this, id, how] { resolve(id, how); });
      return;
    }
    if (outcome == CallbackOutcome::needs_help &&
        (kind == AlertKind::fall || kind == AlertKind::vital_abnormal) && rng_.chance(0.5)) {
      ok(d_.call_emergency(op_for(id), id, CallKind::ambulance_120));
      ambulance_.insert(id);
    }
    if (outcome == CallbackOutcome::no_answer)
      later(30 * kSecond, [this, id] { family_answers(id); });
    later(between(10, 30) * kSecond, [this, id] { dispatch(id, 0); });
  }

  void family_answers(IncidentId id) {
    const Incident* i = d_.incident(id);
    if (!i) return;
    for (const auto& c : i->calls)
      if (c.kind == CallKind::family && c.open() && rng_.chance(0.5)) {
        ok(d_.record_call(op_for(id), c.id, CallState::answered));
        return;
      }
  }

  void dispatch(IncidentId id, int attempt) {
    const Incident* i = d_.incident(id);
    if (!i || !i->assignments.empty()) return;
    auto r = d_.dispatch(op_for(id), id, std::nullopt);
    if (r) {
      later(15 * kMinute, [this, id] { give_up_if_nobody_came(id); });
      return;
    }
    if (r.error().code == ErrorCode::no_candidate && attempt < 5) {
      later(2 * kMinute, [this, id, attempt] { dispatch(id, attempt + 1); });
      return;
    }
    ++refused_;
    later(kMinute, [this, id] { resolve(id, Disposition::family_handled); });
  }

  // Every offer lapsed or was declined: the family went round instead.
  void give_up_if_nobody_came(IncidentId id) {
    const Incident* i = d_.incident(id);
    if (!i) return;
    for (const auto& a : i->assignments)
      if (a.state != AssignmentState::declined && a.state != AssignmentState::expired) return;
    resolve(id, Disposition::family_handled);
  }

  void answer_offer(WorkerId worker, std::int64_t assignment, IncidentId id) {
    const Principal me{Role::field, "worker:" + std::to_string(worker)};
    const double roll = rng_.unit();
    if (roll < 0.8) {
      later(between(5, 40) * kSecond, [this, me, assignment, id] {
        if (!ok(d_.accept(me, assignment))) return;
        const Assignment* a = d_.incident(id) ? d_.incident(id)->assignment(assignment) : nullptr;
        const Millis travel = static_cast<Millis>((a ? a->eta_s : 600) * (0.8 + 0.6 * rng_.unit()) * 1000);
        later(travel, [this, me, assignment, id] { arrive(me, assignment, id); });
      });
    } else if (roll < 0.9) {
      later(between(5, 20) * kSecond, [this, me, assignment] { ok(d_.decline(me, assignment, "正在另一户探访")); });
    }  // else: no answer, and the offer lapses
  }

  void arrive(const Principal& me, std::int64_t assignment, IncidentId id) {
    if (!d_.incident(id) || !ok(d_.arrive(me, assignment))) return;
    const auto e = d_.elder(d_.incident(id)->elder);
    ok(d_.update_position(me, e->lat, e->lon, 10, clock_.now_ms(), std::nullopt));
    later(between(10, 30) * kMinute, [this, me, assignment, id] {
      if (!d_.incident(id) || !ok(d_.complete(me, assignment, "已上门查看，老人情况稳定"))) return;
      const Disposition how = ambulance_.count(id) ? Disposition::ambulance_took : Disposition::visitor_assisted;
      later(between(1, 3) * kMinute, [this, id, how] { resolve(id, how); });
    });
  }

  void resolve(IncidentId id, Disposition how) {
    const Incident* i = d_.incident(id);
    if (!i) return;
    // Wait for responders still on the way or on scene.
    for (const auto& a : i->assignments)
      if (a.state == AssignmentState::accepted || a.state == AssignmentState::on_scene) return;
    if (ok(d_.resolve(op_for(id), id, how))) {
      ++result_.incidents_resolved;
      ++result_.dispositions[std::string(name_of(how))];
    }
  }

  ReplayOptions o_;
  Rng rng_;
  Store& store_;
  ManualClock clock_;
  Millis start_, span_, step_;
  Dispatcher d_;
  DeviceFleet fleet_;
  std::vector<Principal> operators_{{Role::console, "operator:王芳"}, {Role::console, "operator:李强"}};
  std::set<IncidentId> handled_, ambulance_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::uint64_t order_ = 0;
  size_t refused_ = 0;
  ReplayResult result_;
};

}  // namespace

ReplayResult replay_day(const ReplayOptions& options) {
  if (options.db_path.empty()) throw std::invalid_argument("replay needs a database path");
  if (std::filesystem::exists(options.db_path)) throw std::invalid_argument(options.db_path + " exists");
  const District district = generate_district({options.seed, options.elders, options.workers, options.date});
  Store store(options.db_path);
  store.import_registry(district.elders, district.devices, district.workers);
  return Day(options, store, district, local_noon_ms(options.date) - 12 * kHour, 24 * kHour, kSecond).run();
}

ReplayResult replay_span(Store& store, const District& district, Millis start, Millis span, int alarms_a_day,
                         std::uint64_t seed) {
  ReplayOptions o;
  o.seed = seed;
  o.alarms = alarms_a_day;
  return Day(o, store, district, start, span, 5 * kSecond).run();
}

}  // namespace anxin::sim
