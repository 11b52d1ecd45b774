// Who can reach an incident soonest. Field workers are kept in a uniform lat/lon
// grid; a query walks outward ring by ring and stops once no unvisited cell could
// hold a worker who beats the k-th best estimate found so far, so it touches only
// the neighbourhood of the incident. brute_force() answers the same question by
// scanning everyone, for tests and benchmarks.
//
// ETA = great-circle distance x detour factor / speed of the worker's transport
// mode. Penalties (seconds) are added for stale positions and for roles the alert
// does not prefer; the elder's paired visitor (001: 结对帮扶) goes first when within
// a margin of the best. All parameters are configurable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin {

// TransportMode and name_of(TransportMode) are declared in domain.hpp.

// Skills as bits, so filtering is one AND. Names on the wire and in the database are
// the lowercase strings of skill_name().
enum class Skill : std::uint32_t {
  first_aid = 1u << 0,
  medical = 1u << 1,
  nursing = 1u << 2,
  dementia_care = 1u << 3,
  fire_safety = 1u << 4,
  counselling = 1u << 5,
  repair = 1u << 6,
};
using SkillSet = std::uint32_t;
std::optional<Skill> parse_skill(std::string_view name);
std::string_view skill_name(Skill);
SkillSet skill_set(const std::vector<std::string>& names);  // unknown names are ignored

struct TravelModel {
  double detour_factor = 1.35;   // roads are longer than the great circle (county roads, villages)
  double walk_mps = 1.25;        // 4.5 km/h
  double ebike_mps = 4.2;        // 15 km/h, the e-bike is the county's workhorse
  double car_mps = 8.3;          // 30 km/h average through towns and villages
  Millis stale_after_ms = 10 * 60 * 1000;  // positions older than this are penalised
  double stale_penalty_s_per_min = 30;     // per minute beyond stale_after_ms
  double max_stale_penalty_s = 1800;
  double other_role_penalty_s = 300;       // for a role the alert does not prefer
  double paired_margin_s = 180;            // paired visitor first if within this of the best
  // A worker whose phone page is not connected (WorkerSpot::connected false) ranks
  // after every connected one: this is added to score_s only (not to penalty_s), and
  // is more seconds than any journey on Earth takes at walking pace.
  static constexpr double kUnconnectedRankS = 1e9;

  double speed_mps(TransportMode mode) const;
};

// What the index knows of one worker.
struct WorkerSpot {
  WorkerId id = 0;
  double lat = 0, lon = 0;
  Millis position_ms = 0;  // when the position came, on the clock of CandidateQuery::now_ms
  TransportMode mode = TransportMode::ebike;
  WorkerRole role = WorkerRole::volunteer;
  SkillSet skills = 0;
  bool available = false;  // only available workers are candidates
  bool connected = true;   // the worker's phone page is connected (false: ranked last)
};

struct CandidateQuery {
  double lat = 0, lon = 0;
  Millis now_ms = 0;  // the Dispatcher uses Clock::mono_ms() for both
  SkillSet required = 0;                       // a worker must have all of these
  std::vector<WorkerRole> preferred_roles;     // empty: every role is preferred
  std::optional<WorkerId> paired;              // the elder's paired visitor
  size_t limit = 5;
};

struct Candidate {
  WorkerId id = 0;
  double distance_m = 0;
  double travel_s = 0;   // distance x detour / speed
  double penalty_s = 0;  // stale position, other role
  double score_s = 0;    // travel_s + penalty_s (+ kUnconnectedRankS): what candidates are ranked by
  bool paired = false;
  bool preferred_role = true;
  bool stale = false;
  bool connected = true;       // WorkerSpot::connected
  double role_penalty_s = 0;   // the part of penalty_s for a role the alert does not prefer
  double stale_penalty_s = 0;  // the part of penalty_s for a stale position
  Millis position_age_ms = 0;  // how old the worker's position is
};

// Why a candidate stands where it does, most weighty first (docs/protocol.md,
// "candidates"): "not_connected", "paired_visitor", "other_role" (penalty_s),
// "preferred_role", "stale_position" (age_s, penalty_s), and always last "eta"
// (eta_s, distance_m).
struct CandidateReason {
  std::string code;
  double penalty_s = 0;
  double age_s = 0;
  double eta_s = 0;
  double distance_m = 0;
};
std::vector<CandidateReason> reasons_for(const Candidate& c);

class WorkerIndex {
 public:
  explicit WorkerIndex(TravelModel model = {}, double cell_deg = 0.01);

  void upsert(const WorkerSpot& spot);
  void remove(WorkerId id);
  const WorkerSpot* find(WorkerId id) const;  // valid until the next upsert or remove
  size_t size() const;
  const TravelModel& model() const;

  // The best `limit` candidates by score_s (ties: lower id first), with the paired
  // visitor moved to the front when their score is within paired_margin_s of the
  // best. Deterministic.
  std::vector<Candidate> nearest(const CandidateQuery& q) const;
  // The same answer by scanning every worker.
  std::vector<Candidate> brute_force(const CandidateQuery& q) const;

 private:
  using CellKey = std::uint64_t;  // column (lon) in the high 32 bits, row (lat) in the low
  // A worker as stored in their cell: the search reads cells front to back, so
  // everything it needs is here rather than behind another lookup.
  struct Resident {
    WorkerSpot spot;
    double cos_lat = 1;
  };

  std::int64_t cell_of(double deg) const;
  static CellKey key_of(std::int64_t col, std::int64_t row);
  CellKey key_of(const WorkerSpot& spot) const;
  const Resident* find_resident(WorkerId id) const;

  TravelModel model_;
  double cell_deg_;
  std::unordered_map<CellKey, std::vector<Resident>> cells_;
  std::unordered_map<WorkerId, CellKey> cell_of_worker_;
  // Cells that have held a worker since the index was last empty. Only grows (a
  // removal does not shrink it); a query stops widening once it covers this box.
  std::int64_t min_col_ = 0, max_col_ = -1, min_row_ = 0, max_row_ = -1;
};

}  // namespace anxin
