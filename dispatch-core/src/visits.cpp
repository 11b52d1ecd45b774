#include "anxin/core/visits.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <tuple>

#include "anxin/core/care_tier.hpp"
#include "anxin/core/geo.hpp"

namespace anxin::visits {

namespace {

constexpr Millis kDayMs = 86'400'000;
constexpr Millis kZoneMs = 8 * 3'600'000;  // China, UTC+8, no DST

bool is_field(VisitMode m) { return m == VisitMode::home || m == VisitMode::encounter; }

// Plan visits are spread over the period so a visitor's month is not all on its last
// day: the period is cut into `times` equal windows and each elder's visit falls on a
// day of its window picked by the elder's id, the same day every time it is asked.
Day slot_due(const Period& p, int slot, int times, ElderId elder) {
  const int len = p.days();
  const Day from = p.first + len * slot / times;
  const Day to = p.first + len * (slot + 1) / times;
  const auto spread = static_cast<std::uint64_t>(elder) * 2654435761ULL;
  return from + static_cast<Day>(spread % static_cast<std::uint64_t>(std::max(1, to - from)));
}

int slots_in(const Plan& plan, const Period& p) { return std::min(plan.frequency.times, p.days()); }

}  // namespace

// --- policy ------------------------------------------------------------------------

const TierRule& Policy::rule(CareTier tier) const {
  switch (tier) {
    case CareTier::key: return key;
    case CareTier::sub_key: return sub_key;
    case CareTier::general: return general;
  }
  return general;
}

namespace {

Plan plan_of(CareTier tier, bool visit_consent, const Policy& policy, const std::optional<PlanOverride>& own) {
  Plan plan;
  plan.tier = tier;
  if (own) {
    plan.frequency = own->frequency;
    plan.mode = own->mode;
    plan.own = true;
  } else {
    const TierRule& r = policy.rule(plan.tier);
    plan.frequency = r.frequency;
    plan.mode = r.mode;
  }
  // 000 二.(四)2: 入户探访要征得老年人或其赡养人同意.
  if (plan.mode == VisitMode::home && !visit_consent) {
    plan.mode = VisitMode::phone;
    plan.no_consent = true;
  }
  return plan;
}

}  // namespace

Plan plan_for(const Elder& elder, int age, const Policy& policy, const std::optional<PlanOverride>& own) {
  return plan_of(care_tier(elder, age), elder.visit_consent, policy, own);
}

bool Campaign::chooses(const Elder& e, CareTier tier) const { return chooses(e.town, e.living, tier); }

bool Campaign::chooses(std::string_view town, LivingSituation lives, CareTier tier) const {
  auto any = [](const auto& list, const auto& v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  return any(tiers, tier) && any(towns, town) && any(living, lives);
}

// --- days --------------------------------------------------------------------------

Day day_of(Millis at) {
  const Millis local = at + kZoneMs;
  return static_cast<Day>(local >= 0 ? local / kDayMs : (local - kDayMs + 1) / kDayMs);
}
Millis start_of(Day day) { return static_cast<Millis>(day) * kDayMs - kZoneMs; }

std::string date_of(Day day) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{day}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::optional<Day> parse_day(std::string_view s) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  const std::string text(s);
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{m}, day{d}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<Day>(sys_days{ymd}.time_since_epoch().count());
}

Period week_of(Day d) {
  const int since_monday = ((d + 3) % 7 + 7) % 7;  // 1970-01-01 was a Thursday
  return {d - since_monday, d - since_monday + 7};
}

Period month_of(Day d) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{d}}};
  const sys_days first{ymd.year() / ymd.month() / 1};
  const sys_days next{(ymd.year() / ymd.month() / 1) + months{1}};
  return {static_cast<Day>(first.time_since_epoch().count()), static_cast<Day>(next.time_since_epoch().count())};
}

Period period_of(Per per, Day d) { return per == Per::week ? week_of(d) : month_of(d); }

// --- names -------------------------------------------------------------------------

std::string_view name_of(Per p) { return p == Per::week ? "week" : "month"; }

std::string_view name_of(Outcome o) {
  switch (o) {
    case Outcome::started: return "started";
    case Outcome::done: return "done";
    case Outcome::no_answer: return "no_answer";
    case Outcome::cancelled: return "cancelled";
  }
  return "done";
}
std::string_view name_of(Reason r) {
  switch (r) {
    case Reason::plan: return "plan";
    case Reason::phone_unreached: return "phone_unreached";
    case Reason::campaign: return "campaign";
    case Reason::campaign_unreached: return "campaign_unreached";
    case Reason::device: return "device";
  }
  return "plan";
}
std::string_view name_of(CampaignReason r) {
  switch (r) {
    case CampaignReason::weather: return "weather";
    case CampaignReason::festival: return "festival";
    case CampaignReason::public_health: return "public_health";
  }
  return "weather";
}
std::string_view name_of(State s) {
  switch (s) {
    case State::upcoming: return "upcoming";
    case State::due: return "due";
    case State::late: return "late";
    case State::done: return "done";
    case State::missed: return "missed";
  }
  return "due";
}
std::vector<std::string> flag_names(unsigned flags) {
  std::vector<std::string> out;
  if (flags & kFar) out.emplace_back("far_from_home");
  if (flags & kShort) out.emplace_back("too_short");
  return out;
}
unsigned parse_flags(std::string_view names) {
  return (names.find("far_from_home") != std::string_view::npos ? kFar : 0u) |
         (names.find("too_short") != std::string_view::npos ? kShort : 0u);
}

namespace {
template <class E> std::optional<E> by_name(std::string_view text, std::initializer_list<E> all) {
  for (E e : all)
    if (name_of(e) == text) return e;
  return std::nullopt;
}
}  // namespace

std::optional<Per> parse_per(std::string_view s) { return by_name(s, {Per::week, Per::month}); }
std::optional<Outcome> parse_outcome(std::string_view s) {
  return by_name(s, {Outcome::started, Outcome::done, Outcome::no_answer, Outcome::cancelled});
}
std::optional<Reason> parse_reason(std::string_view s) {
  return by_name(s, {Reason::plan, Reason::phone_unreached, Reason::campaign, Reason::campaign_unreached,
                     Reason::device});
}
std::optional<CampaignReason> parse_campaign_reason(std::string_view s) {
  return by_name(s, {CampaignReason::weather, CampaignReason::festival, CampaignReason::public_health});
}

// --- the book ------------------------------------------------------------------------

const Plan& Book::put_elder(const Elder& elder, Day today) {
  Entry& e = elders_[elder.id];
  if (e.elder.id == elder.id && e.elder.paired_worker != elder.paired_worker && e.elder.paired_worker)
    std::erase(by_visitor_[*e.elder.paired_worker], elder.id);
  if (elder.paired_worker && (e.elder.id != elder.id || e.elder.paired_worker != elder.paired_worker))
    by_visitor_[*elder.paired_worker].push_back(elder.id);
  auto place = std::make_pair(elder.town, elder.community);
  auto [at, added] = place_ids_.try_emplace(place, static_cast<std::uint32_t>(places_.size()));
  if (added) places_.push_back(std::move(place));
  e.elder = {elder.id, elder.paired_worker, elder.lat, elder.lon, at->second, elder.living, elder.visit_consent,
             elder.unknown_caller};
  e.plan = plan_for(elder, age_on(elder.birth_date, date_text(today)), policy_, e.own);
  return e.plan;
}

const std::string& Book::date_text(Day day) {
  if (day != dated_) date_ = date_of(day), dated_ = day;
  return date_;
}

void Book::set_override(ElderId elder, std::optional<PlanOverride> own, Day) {
  auto it = elders_.find(elder);
  if (it == elders_.end()) return;
  Entry& e = it->second;
  e.own = own;
  e.plan = plan_of(e.plan.tier, e.elder.visit_consent, policy_, own);  // the tier is the elder's, as put
}

const Plan* Book::plan(ElderId elder) const {
  auto it = elders_.find(elder);
  return it == elders_.end() ? nullptr : &it->second.plan;
}

void Book::put_record(const Record& r) {
  last_record_ = std::max(last_record_, r.id);
  const bool is_new = records_.find(r.id) == records_.end();
  records_[r.id] = r;
  if (!is_new) return;
  if (auto it = elders_.find(r.elder); it != elders_.end()) it->second.records.push_back(r.id);
}
void Book::put_hazard(const Hazard& h) {
  last_hazard_ = std::max(last_hazard_, h.id);
  hazards_[h.id] = h;
}
void Book::put_campaign(const Campaign& c) {
  last_campaign_ = std::max(last_campaign_, c.id);
  campaigns_[c.id] = c;
}

std::int64_t Book::device_raise(ElderId elder, AlertKind kind, Millis at) {
  if (kind != AlertKind::no_water_use && kind != AlertKind::inactivity) return 0;
  auto it = elders_.find(elder);
  if (it == elders_.end()) return 0;
  const Day d = day_of(at);
  for (const auto& [id, c] : campaigns_)
    if (c.active_on(d) && c.chooses(town_of(it->second.elder), it->second.elder.living, it->second.plan.tier)) {
      raised_.emplace(std::make_pair(elder, d), id);
      return id;
    }
  return 0;
}

const Record* Book::record(std::int64_t id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}
const Record* Book::open_record(ElderId elder, WorkerId worker) const {
  auto it = elders_.find(elder);
  if (it == elders_.end()) return nullptr;
  for (auto id : it->second.records) {
    const Record& r = records_.at(id);
    if (r.outcome == Outcome::started && r.worker == worker) return &r;
  }
  return nullptr;
}

const Hazard* Book::hazard(std::int64_t id) const {
  auto it = hazards_.find(id);
  return it == hazards_.end() ? nullptr : &it->second;
}
const Campaign* Book::campaign(std::int64_t id) const {
  auto it = campaigns_.find(id);
  return it == campaigns_.end() ? nullptr : &it->second;
}
std::vector<const Campaign*> Book::campaigns() const {
  std::vector<const Campaign*> out;
  for (const auto& [id, c] : campaigns_) out.push_back(&c);
  return out;
}
std::vector<const Hazard*> Book::hazards(bool open_only) const {
  std::vector<const Hazard*> out;
  for (const auto& [id, h] : hazards_)
    if (!open_only || h.open()) out.push_back(&h);
  return out;
}

int Book::visits_done_in(const Entry& e, Period p, Millis before) const {
  int n = 0;
  for (auto id : e.records) {
    const Record& r = records_.at(id);
    if (r.outcome == Outcome::done && r.finished_ms < before && p.holds(day_of(r.finished_ms))) ++n;
  }
  return n;
}

bool Book::reached_on(ElderId elder, Day day) const {
  auto it = elders_.find(elder);
  if (it == elders_.end()) return false;
  for (auto id : it->second.records) {
    const Record& r = records_.at(id);
    if (r.outcome == Outcome::done && day_of(r.finished_ms) == day) return true;
  }
  return false;
}

int Book::unanswered_on(ElderId elder, Day day) const {
  auto it = elders_.find(elder);
  if (it == elders_.end()) return 0;
  int n = 0;
  for (auto id : it->second.records) {
    const Record& r = records_.at(id);
    if (r.outcome == Outcome::no_answer && day_of(r.finished_ms) == day) ++n;
  }
  return n;
}

// The plan's visit of the period holding `day`: the first not yet made, or the one
// made that day. Visits count toward the period's slots in the order made, so a visit
// made early fills the next slot.
void Book::add_plan_item(const Entry& e, Day day, std::vector<Item>& out) const {
  const Period p = period_of(e.plan.frequency.per, day);
  const int times = slots_in(e.plan, p);
  const int before_today = visits_done_in(e, p, start_of(day));
  const int by_tonight = visits_done_in(e, p, start_of(day + 1));
  Item item;
  item.elder = e.elder.id;
  item.mode = e.plan.mode;
  item.of = times;
  item.visitor = e.elder.paired_worker.value_or(0);
  item.tries = unanswered_on(e.elder.id, day);
  if (by_tonight > before_today) {
    item.slot = std::min(before_today, times - 1);
    item.due = slot_due(p, item.slot, times, e.elder.id);
    item.state = State::done;
  } else {
    if (before_today >= times) return;  // the period's visits are all made
    item.slot = before_today;
    item.due = slot_due(p, item.slot, times, e.elder.id);
    item.state = day < item.due ? State::upcoming : day == item.due ? State::due : State::late;
  }
  out.push_back(item);
}

void Book::add_extras(const Entry& e, Day day, Millis now, std::vector<Item>& out) const {
  const ElderId id = e.elder.id;
  const bool reached = reached_on(id, day);
  const WorkerId visitor = e.elder.paired_worker.value_or(0);
  // Without consent the visitor calls at the door rather than going in (000 二.(四)2).
  const VisitMode at_home = e.elder.visit_consent ? VisitMode::home : VisitMode::encounter;
  auto extra = [&](Reason reason, VisitMode mode, std::int64_t campaign) {
    Item item;
    item.elder = id;
    item.mode = mode;
    item.reason = reason;
    item.due = day;
    item.campaign = campaign;
    item.visitor = is_field(mode) ? visitor : 0;
    item.tries = unanswered_on(id, day);
    item.state = reached ? State::done : day < day_of(now) ? State::missed : State::due;
    out.push_back(item);
  };

  // 001: a phone visit that fails after the plan's tries becomes a visit at home today.
  if (!is_field(e.plan.mode) && unanswered_on(id, day) >= policy_.phone_tries)
    extra(Reason::phone_unreached, at_home, 0);

  for (const auto& [cid, c] : campaigns_) {
    if (!c.active_on(day) || !c.chooses(town_of(e.elder), e.elder.living, e.plan.tier)) continue;
    const bool past_hour = now >= start_of(day) + static_cast<Millis>(c.reach_by_hour) * 3'600'000;
    if (past_hour && !reached)
      extra(Reason::campaign_unreached, at_home, cid);
    else
      extra(Reason::campaign, VisitMode::phone, cid);
  }

  if (auto it = raised_.find({id, day}); it != raised_.end()) extra(Reason::device, at_home, it->second);
}

std::vector<Item> Book::items(ElderId elder, Day day, Millis now) const {
  std::vector<Item> out;
  auto it = elders_.find(elder);
  if (it == elders_.end()) return out;
  add_plan_item(it->second, day, out);
  add_extras(it->second, day, now, out);
  return out;
}

namespace {

bool on_a_list(const Item& i) { return i.state == State::due || i.state == State::late || i.state == State::done; }

// Late first, then today's, then done; within each, the key group first.
int list_rank(const Item& i) {
  return i.state == State::late ? 0 : i.state == State::due ? 1 : 2;
}

}  // namespace

std::vector<Item> Book::due_list(Day day, Millis now) const {
  std::vector<Item> out, scratch;
  for (const auto& [id, e] : elders_) {
    if (e.elder.unknown_caller) continue;  // a caller the line did not know: no plan to keep
    scratch.clear();
    add_plan_item(e, day, scratch);
    add_extras(e, day, now, scratch);
    for (const auto& i : scratch)
      if (on_a_list(i)) out.push_back(i);
  }
  return out;
}

std::vector<Item> Book::phone_list(Day day, Millis now) const {
  std::vector<Item> out = due_list(day, now);
  std::erase_if(out, [](const Item& i) { return is_field(i.mode); });
  auto key = [&](const Item& i) {
    return std::make_tuple(list_rank(i), static_cast<int>(elders_.at(i.elder).plan.tier), i.elder);
  };
  std::sort(out.begin(), out.end(), [&](const Item& a, const Item& b) { return key(a) < key(b); });
  return out;
}

std::vector<Item> Book::field_list(WorkerId worker, Day day, Millis now, double lat, double lon) const {
  std::vector<Item> todo, done;
  std::vector<Item> scratch;
  auto mine = by_visitor_.find(worker);
  for (ElderId id : mine == by_visitor_.end() ? std::vector<ElderId>{} : mine->second) {
    const Entry& e = elders_.at(id);
    scratch.clear();
    add_plan_item(e, day, scratch);
    add_extras(e, day, now, scratch);
    for (auto& i : scratch) {
      if (!is_field(i.mode) || !on_a_list(i)) continue;
      (i.state == State::done ? done : todo).push_back(i);
    }
  }
  // Nearest first, then the nearest to the last: a walking order good enough for a
  // visitor's dozen homes, and one a person can follow on a map.
  GeoPoint here = geo_point(lat, lon);
  std::vector<Item> out;
  while (!todo.empty()) {
    size_t best = 0;
    double best_m = -1;
    for (size_t k = 0; k < todo.size(); ++k) {
      const Home& el = elders_.at(todo[k].elder).elder;
      const double m = distance_m(here, geo_point(el.lat, el.lon));
      if (best_m < 0 || m < best_m || (m == best_m && todo[k].elder < todo[best].elder)) best = k, best_m = m;
    }
    todo[best].distance_m = best_m;
    const Home& el = elders_.at(todo[best].elder).elder;
    here = geo_point(el.lat, el.lon);
    out.push_back(todo[best]);
    todo.erase(todo.begin() + static_cast<std::ptrdiff_t>(best));
  }
  std::sort(done.begin(), done.end(), [](const Item& a, const Item& b) { return a.elder < b.elder; });
  out.insert(out.end(), done.begin(), done.end());
  return out;
}

// --- rates -------------------------------------------------------------------------

Report Book::report(Per per, Day day, Millis now,
                    const std::unordered_map<WorkerId, std::string>& visitor_names) const {
  Report rep;
  rep.per = per;
  rep.period = period_of(per, day);
  const Millis until = std::min(now, start_of(rep.period.end));
  const Day as_of = std::min(day_of(until), rep.period.end - 1);
  std::map<std::string, RateRow> towns, communities, visitors;

  for (const auto& [id, e] : elders_) {
    if (e.elder.unknown_caller) continue;
    // The plan's visits due in this report's period: for a weekly plan over a month,
    // its weeks' slots that fall in the month; for a monthly plan over a week, the
    // slots due that week.
    int due_so_far = 0, in_period = 0;
    for (Day w = rep.period.first; w < rep.period.end;) {
      const Period p = period_of(e.plan.frequency.per, w);
      const int times = slots_in(e.plan, p);
      for (int s = 0; s < times; ++s) {
        const Day due = slot_due(p, s, times, id);
        if (!rep.period.holds(due)) continue;
        ++in_period;
        if (due <= as_of) ++due_so_far;
      }
      w = p.end;
    }
    // Visits made count up to the plan's visits in the period; one made before its
    // day counts as planned too, so visiting early never lowers the completion.
    const int made = visits_done_in(e, rep.period, until);
    RateRow row;
    row.elders = 1;
    row.visited = made > 0 ? 1 : 0;
    row.done = std::min(made, in_period);
    row.planned = std::max(due_so_far, row.done);
    auto add = [&](RateRow& to, const std::string& key) {
      to.key = key;
      to.elders += row.elders, to.visited += row.visited, to.planned += row.planned, to.done += row.done;
    };
    add(rep.total, "");
    const auto& [town, community] = places_[e.elder.place];
    add(towns[town], town);
    add(communities[town + "/" + community], town + "/" + community);
    const WorkerId v = e.elder.paired_worker.value_or(0);
    const auto name = visitor_names.find(v);
    const std::string vkey = v == 0 ? "" : name != visitor_names.end() ? name->second : "#" + std::to_string(v);
    add(visitors[vkey], vkey);

    std::vector<Item> items;
    add_plan_item(e, as_of, items);
    for (const auto& i : items)
      if (i.state == State::late) rep.overdue.push_back(i);
  }
  for (auto& [k, r] : towns) rep.towns.push_back(r);
  for (auto& [k, r] : communities) rep.communities.push_back(r);
  for (auto& [k, r] : visitors) rep.visitors.push_back(r);
  std::sort(rep.overdue.begin(), rep.overdue.end(),
            [](const Item& a, const Item& b) { return std::tie(a.due, a.elder) < std::tie(b.due, b.elder); });

  for (const auto& [id, r] : records_)
    if (r.flags && r.outcome == Outcome::done && rep.period.holds(day_of(r.finished_ms))) rep.flagged.push_back(r);
  std::sort(rep.flagged.begin(), rep.flagged.end(), [](const Record& a, const Record& b) { return a.id < b.id; });
  for (const auto& [id, h] : hazards_)
    if (h.open()) rep.open_hazards.push_back(h);
  return rep;
}

// --- pairing -----------------------------------------------------------------------

std::vector<ElderId> Book::unpaired() const {
  std::vector<ElderId> out;
  for (const auto& [id, e] : elders_)
    if (!e.elder.paired_worker && !e.elder.unknown_caller) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

std::map<WorkerId, int> Book::overloaded() const {
  std::map<WorkerId, int> out;
  for (const auto& [w, elders] : by_visitor_)
    if (static_cast<int>(elders.size()) > policy_.max_elders_per_visitor) out[w] = static_cast<int>(elders.size());
  return out;
}

}  // namespace anxin::visits
