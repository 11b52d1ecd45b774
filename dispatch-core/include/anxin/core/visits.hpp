// The visiting programme (探访关爱): a plan per elder from the district's policy and the
// elder's care tier, the visits due each day, proof that a visit happened, hazards
// followed up, visit rates, and campaigns for bad weather and festivals.
// docs/visits.md is the reference; the rules come from seeds/000_22e5d44906de9250.txt
// (二.(一) tiers, 二.(三) eight service areas, 二.(四) frequency and modes) and
// seeds/001_e2612d0546f64960.txt (结对帮扶, twice a week, daily at festivals and in
// extreme weather).
//
// Nothing here is a nightly batch: whether a visit is due, late, done or missed is
// worked out from the plan, the visits made and the date whenever it is asked.
// Pure data and rules, no SQLite: visits_store.cpp keeps it on disk.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin::visits {

// --- policy and plans ----------------------------------------------------------

enum class Per { week, month };
std::string_view name_of(Per);

struct Frequency {
  int times = 1;  // visits per period, 1..31
  Per per = Per::month;
};

// What the policy asks for one care tier.
struct TierRule {
  Frequency frequency;
  VisitMode mode = VisitMode::phone;
};

// A district's visiting policy (docs/configuration.md "visits"). The defaults are the
// seeds' floor: everyone at least monthly (000 二.(四)1); the key group more often, here
// weekly and in person (000: 对失能等重点人群，要视情增加探访关爱频次); a district such as
// 001's sets twice a week for everyone.
struct Policy {
  TierRule key{{1, Per::week}, VisitMode::home};
  TierRule sub_key{{2, Per::month}, VisitMode::home};
  TierRule general{{1, Per::month}, VisitMode::phone};
  int phone_tries = 3;            // unanswered calls in a day before a visit at home is due that day
  double far_m = 500;             // a visit started farther than this from the home is flagged
  int min_minutes = 10;           // an in-home visit shorter than this is flagged
  int max_elders_per_visitor = 40;  // more than this and the visitor is shown as overloaded
  int hazard_days = 7;            // a hazard's follow-up is due this many days after it is found
  const TierRule& rule(CareTier tier) const;
};

// An elder's own plan, set by a supervisor (一人一方案, 001); overrides the policy.
struct PlanOverride {
  Frequency frequency;
  VisitMode mode = VisitMode::phone;
};

struct Plan {
  CareTier tier = CareTier::general;
  Frequency frequency;
  VisitMode mode = VisitMode::phone;
  bool own = false;       // from a PlanOverride
  bool no_consent = false;  // the rule asks for in-home visits, the elder has not agreed: by phone
};

// The plan for an elder of `age`: the override if any, else the policy's rule for the
// elder's tier. In-home visits need consent (000 二.(四)2: 入户探访要征得老年人或其赡养人同意);
// without it the plan visits by phone.
Plan plan_for(const Elder& elder, int age, const Policy& policy, const std::optional<PlanOverride>& own);

// --- days and periods ------------------------------------------------------------

using Day = std::int32_t;  // days since 1970-01-01 in the centre's time zone (UTC+8)
Day day_of(Millis at);
Millis start_of(Day day);
std::string date_of(Day day);                       // YYYY-MM-DD
std::optional<Day> parse_day(std::string_view date);  // YYYY-MM-DD

struct Period {
  Day first = 0, end = 0;  // [first, end)
  int days() const { return end - first; }
  bool holds(Day d) const { return d >= first && d < end; }
};
Period week_of(Day day);   // Monday to Sunday
Period month_of(Day day);  // the calendar month
Period period_of(Per per, Day day);

// --- visits ------------------------------------------------------------------------

enum class Outcome { started, done, no_answer, cancelled };
std::string_view name_of(Outcome);

// Why an item is on a worklist.
enum class Reason {
  plan,              // the plan's visit for this period
  phone_unreached,   // not reached by phone after the plan's tries today
  campaign,          // a campaign day: reach the elder today
  campaign_unreached,  // not reached by the campaign's hour
  device,            // a device reported no water use or long inactivity during a campaign
};
std::string_view name_of(Reason);

// Flags for the supervisor: visits done only on paper (001, 003 supervision).
enum Flag : unsigned { kFar = 1, kShort = 2 };
std::vector<std::string> flag_names(unsigned flags);
unsigned parse_flags(std::string_view names);  // as flag_names joined with commas

// One visit made or attempted: a call by an operator, or a visit at home by a worker.
struct Record {
  std::int64_t id = 0;
  ElderId elder = 0;
  WorkerId worker = 0;       // 0 for an operator's call
  std::string actor;         // "operator:王芳", "worker:12"
  VisitMode mode = VisitMode::phone;
  Outcome outcome = Outcome::done;
  Reason reason = Reason::plan;
  std::int64_t campaign = 0;
  Millis started_ms = 0, finished_ms = 0;
  double start_lat = 0, start_lon = 0, finish_lat = 0, finish_lon = 0;
  double start_distance_m = 0;  // from the home when the visit started
  unsigned flags = 0;
  std::string note;
};

// A hazard found on a visit (the eight service areas, 000 二.(三)), to be followed up.
struct Hazard {
  std::int64_t id = 0;
  ElderId elder = 0;
  std::int64_t visit = 0;
  ServiceArea area = ServiceArea::home_safety;
  std::string text;
  WorkerId owner = 0;
  Millis found_ms = 0, due_ms = 0, closed_ms = 0;
  std::string closed_by, close_note;
  bool open() const { return closed_ms == 0; }
};

enum class CampaignReason { weather, festival, public_health };
std::string_view name_of(CampaignReason);

// 001: 在传统节日、恶劣天气等特殊时间节点…做到每日关爱. Every chosen elder is reached
// every day from `first` to `last`; one not reached by `reach_by_hour` is visited at home.
struct Campaign {
  std::int64_t id = 0;
  std::string name;
  CampaignReason reason = CampaignReason::weather;
  Day first = 0, last = 0;  // inclusive
  int reach_by_hour = 16;   // local time
  std::vector<CareTier> tiers;           // empty: all
  std::vector<std::string> towns;        // empty: all
  std::vector<LivingSituation> living;   // empty: all
  std::string started_by;
  Millis started_ms = 0, ended_ms = 0;   // ended early by a supervisor
  bool active_on(Day d) const { return ended_ms == 0 && d >= first && d <= last; }
  bool chooses(const Elder& elder, CareTier tier) const;
  bool chooses(std::string_view town, LivingSituation living, CareTier tier) const;
};

// What is due of an elder on a day.
enum class State { upcoming, due, late, done, missed };
std::string_view name_of(State);

// The names above read back; nullopt for a name that is none of them.
std::optional<Per> parse_per(std::string_view);
std::optional<Outcome> parse_outcome(std::string_view);
std::optional<Reason> parse_reason(std::string_view);
std::optional<CampaignReason> parse_campaign_reason(std::string_view);

struct Item {
  ElderId elder = 0;
  VisitMode mode = VisitMode::phone;
  State state = State::due;
  Reason reason = Reason::plan;
  Day due = 0;                 // the day it was due
  int slot = 0, of = 1;        // plan visits: the slot-th (0-based) of `of` in the period
  std::int64_t campaign = 0;
  int tries = 0;               // unanswered calls today
  WorkerId visitor = 0;        // who should go (home, encounter); 0: the centre's phones
  double distance_m = -1;      // from the worker, on a field list
};

// --- the book --------------------------------------------------------------------

struct RateRow {
  std::string key;           // town, community ("town/community") or visitor name
  int elders = 0;            // elders with a plan in the period
  int visited = 0;           // of them, visited at least once (the seeds' 探访率)
  int planned = 0;           // visits the plans asked for in the period
  int done = 0;              // visits made, at most `planned` per elder
  double rate() const { return elders ? 100.0 * visited / elders : 100.0; }
  double completion() const { return planned ? 100.0 * done / planned : 100.0; }
};

struct Report {
  Per per = Per::month;
  Period period;
  RateRow total;
  std::vector<RateRow> towns, communities, visitors;
  std::vector<Item> overdue;      // late or missed plan visits as of the report's day
  std::vector<Record> flagged;    // flagged visits in the period
  std::vector<Hazard> open_hazards;
};

// Live state of the programme, kept by the service thread. The host writes what
// changes (see visits_store.hpp) and feeds it the elders as they change.
class Book {
 public:
  explicit Book(Policy policy = {}) : policy_(policy) {}

  const Policy& policy() const { return policy_; }

  // The elder is new or changed: re-derives their plan. `today` judges age.
  // Returns the plan now in force.
  const Plan& put_elder(const Elder& elder, Day today);
  void set_override(ElderId elder, std::optional<PlanOverride> own, Day today);
  const Plan* plan(ElderId elder) const;
  bool has_elder(ElderId id) const { return elders_.count(id) != 0; }
  size_t elder_count() const { return elders_.size(); }
  void reserve(size_t elders) { elders_.reserve(elders); }  // a city's million, put at a start

  // Records, hazards and campaigns, as made or as loaded.
  void put_record(const Record& record);
  void put_hazard(const Hazard& hazard);
  void put_campaign(const Campaign& campaign);
  // A device reported no water use or long inactivity: if a campaign is on, the
  // elder's visit at home moves to today. Returns the campaign, or 0.
  std::int64_t device_raise(ElderId elder, AlertKind kind, Millis at);
  void put_raise(ElderId elder, Day day, std::int64_t campaign) { raised_[{elder, day}] = campaign; }

  const Record* record(std::int64_t id) const;
  // A visit the worker started at the elder's and has not finished, if any.
  const Record* open_record(ElderId elder, WorkerId worker) const;
  const Hazard* hazard(std::int64_t id) const;
  const Campaign* campaign(std::int64_t id) const;
  std::vector<const Campaign*> campaigns() const;
  std::vector<const Hazard*> hazards(bool open_only) const;
  std::int64_t next_record_id() { return ++last_record_; }
  std::int64_t next_hazard_id() { return ++last_hazard_; }
  std::int64_t next_campaign_id() { return ++last_campaign_; }

  // What is due of one elder on `day` at `now` (now's hour matters for campaigns):
  // the plan's visit of the period, and today's extras. Done items stay in the list
  // for the day they were done.
  std::vector<Item> items(ElderId elder, Day day, Millis now) const;
  // Every elder's items on a worklist that day (due, late, or done that day).
  std::vector<Item> due_list(Day day, Millis now) const;
  // The centre's phone list: phone and online items of the day, every elder.
  std::vector<Item> phone_list(Day day, Millis now) const;
  // A field worker's list: home and encounter items of their elders, due or late
  // (and done today), in a walking order from (lat, lon): nearest first, then
  // nearest to the last.
  std::vector<Item> field_list(WorkerId worker, Day day, Millis now, double lat, double lon) const;
  // Whether the elder was reached (a done visit of any mode) on `day`.
  bool reached_on(ElderId elder, Day day) const;
  int unanswered_on(ElderId elder, Day day) const;

  // Rates over the week or month holding `day`, as of `now`.
  Report report(Per per, Day day, Millis now,
                const std::unordered_map<WorkerId, std::string>& visitor_names) const;

  // Pairing (结对帮扶, 001): elders with no visitor, and visitors with more elders
  // than the policy's max (worker -> count).
  std::vector<ElderId> unpaired() const;
  std::map<WorkerId, int> overloaded() const;

 private:
  // What the book keeps of an elder: the home and who visits it, not the card's
  // strings (a city has a million elders; the dispatcher holds their records).
  struct Home {
    ElderId id = 0;
    std::optional<WorkerId> paired_worker;
    double lat = 0, lon = 0;
    std::uint32_t place = 0;  // places_: town and community
    LivingSituation living = LivingSituation::alone;
    bool visit_consent = false;
    bool unknown_caller = false;
  };
  struct Entry {
    Home elder;
    Plan plan;
    std::optional<PlanOverride> own;
    std::vector<std::int64_t> records;  // ids, in order made
  };
  int visits_done_in(const Entry& e, Period p, Millis before) const;
  void add_plan_item(const Entry& e, Day day, std::vector<Item>& out) const;
  void add_extras(const Entry& e, Day day, Millis now, std::vector<Item>& out) const;

  const std::string& town_of(const Home& h) const { return places_[h.place].first; }
  const std::string& date_text(Day day);  // date_of(day), made once for a whole load


  Policy policy_;
  std::unordered_map<ElderId, Entry> elders_;
  std::vector<std::pair<std::string, std::string>> places_;  // (town, community), each once
  std::map<std::pair<std::string, std::string>, std::uint32_t> place_ids_;
  std::unordered_map<WorkerId, std::vector<ElderId>> by_visitor_;  // paired elders, for field lists
  std::unordered_map<std::int64_t, Record> records_;
  Day dated_ = std::numeric_limits<Day>::min();
  std::string date_;  // of dated_
  std::map<std::int64_t, Hazard> hazards_;
  std::map<std::int64_t, Campaign> campaigns_;
  // elder -> day -> campaign raised by a device
  std::map<std::pair<ElderId, Day>, std::int64_t> raised_;
  std::int64_t last_record_ = 0, last_hazard_ = 0, last_campaign_ = 0;
};

}  // namespace anxin::visits
