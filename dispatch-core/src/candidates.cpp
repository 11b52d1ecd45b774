// Candidate search: owns the worker grid; calls only geo.hpp and the standard library.
#include "anxin/core/candidates.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <utility>

#include "anxin/core/geo.hpp"

namespace anxin {

namespace {

constexpr double kRadPerDeg = std::numbers::pi / 180;

// Cell edges are computed as col * cell_deg while workers are placed by
// floor(lon / cell_deg); the two roundings can disagree by ~1e-9 m. Shrinking the
// stopping bound by a millimetre keeps it a true lower bound without changing answers.
constexpr double kBoundSlackM = 0.001;
// Workers are skipped on a lower bound only when it beats the k-th best by more than
// rounding could explain (~1e-15), so a skipped worker could never have tied.
constexpr double kFloorSlack = 1 - 1e-9;

constexpr std::array<std::pair<Skill, std::string_view>, 7> kSkillNames{{
    {Skill::first_aid, "first_aid"},
    {Skill::medical, "medical"},
    {Skill::nursing, "nursing"},
    {Skill::dementia_care, "dementia_care"},
    {Skill::fire_safety, "fire_safety"},
    {Skill::counselling, "counselling"},
    {Skill::repair, "repair"},
}};

bool eligible(const WorkerSpot& spot, const CandidateQuery& q) {
  return spot.available && (spot.skills & q.required) == q.required;
}

// The one place a candidate is scored. nearest() and brute_force() both call it, so
// they agree to the last bit and ties are broken the same way. `from` is the query
// point and `cos_lat` the worker's, both worked out once rather than per pair.
Candidate score(const WorkerSpot& spot, double cos_lat, const GeoPoint& from,
                const CandidateQuery& q, const TravelModel& model) {
  Candidate c;
  c.id = spot.id;
  c.distance_m = distance_m(from, GeoPoint{spot.lat, spot.lon, cos_lat});
  c.travel_s = c.distance_m * model.detour_factor / model.speed_mps(spot.mode);
  const Millis age_ms = q.now_ms - spot.position_ms;
  c.position_age_ms = std::max<Millis>(0, age_ms);
  c.stale = age_ms > model.stale_after_ms;
  if (c.stale) {
    const double late_min = static_cast<double>(age_ms - model.stale_after_ms) / 60'000;
    c.stale_penalty_s = std::min(model.max_stale_penalty_s, late_min * model.stale_penalty_s_per_min);
  }
  c.preferred_role = q.preferred_roles.empty() ||
                     std::find(q.preferred_roles.begin(), q.preferred_roles.end(), spot.role) !=
                         q.preferred_roles.end();
  if (!c.preferred_role) c.role_penalty_s = model.other_role_penalty_s;
  c.penalty_s = c.stale_penalty_s + c.role_penalty_s;
  c.connected = spot.connected;
  c.score_s = c.travel_s + c.penalty_s + (c.connected ? 0 : TravelModel::kUnconnectedRankS);
  c.paired = q.paired == spot.id;
  return c;
}

bool ranks_before(const Candidate& a, const Candidate& b) {
  return a.score_s < b.score_s || (a.score_s == b.score_s && a.id < b.id);
}

// Keeps `best` sorted and no longer than `limit` (which is at least 1).
void keep_if_better(std::vector<Candidate>& best, size_t limit, const Candidate& c) {
  if (best.size() == limit) {
    if (!ranks_before(c, best.back())) return;
    best.pop_back();
  }
  best.insert(std::upper_bound(best.begin(), best.end(), c, ranks_before), c);
}

// A lower bound on distance_m(a, b) without trigonometry, so the search can pass over
// most workers before the exact haversine. Both parts follow from the haversine
// formula: the distance is at least the meridian arc R |dlat|, and at least
// 2R sqrt(cos a cos b) sin(|dlon| / 2) >= R min(cos a, cos b) |dlon| (1 - dlon^2 / 24).
double distance_floor_m(const GeoPoint& a, const GeoPoint& b) {
  const double dlat_rad = std::abs(b.lat - a.lat) * kRadPerDeg;
  const double dlon_rad = std::abs(b.lon - a.lon) * kRadPerDeg;
  if (dlon_rad > std::numbers::pi) return dlat_rad * kEarthRadiusM;  // across the antimeridian
  const double across_rad =
      std::min(a.cos_lat, b.cos_lat) * dlon_rad * (1 - dlon_rad * dlon_rad / 24);
  return std::max(dlat_rad, across_rad) * kEarthRadiusM;
}

// A true lower bound on the great-circle distance from (lat, lon) to any point outside
// the box [south, north] x [west, east] around it. Such a point is either outside the
// latitude band, hence at least the meridian arc to the nearer parallel away, or inside
// the band and beyond a meridian edge. For the latter, haversine gives
// hav(d/R) >= cos(lat) cos(lat2) hav(dlon), and cos(lat2) is smallest at the band edge
// farthest from the equator, so using that edge can only underestimate. A point the
// other way round the globe is at least 180 - |lon| degrees of longitude away.
double distance_outside_box_m(double lat, double lon, double south, double north, double west,
                              double east) {
  const double along_m = std::min(lat - south, north - lat) * kRadPerDeg * kEarthRadiusM;
  const double dlon_rad = std::min({lon - west, east - lon, 180 - std::abs(lon)}) * kRadPerDeg;
  const double far_lat_rad = std::min(90.0, std::max(std::abs(south), std::abs(north))) * kRadPerDeg;
  const double t = std::sin(dlon_rad / 2);
  const double h = std::cos(lat * kRadPerDeg) * std::cos(far_lat_rad) * t * t;
  const double across_m = 2 * kEarthRadiusM * std::asin(std::sqrt(std::clamp(h, 0.0, 1.0)));
  return std::max(0.0, std::min(along_m, across_m) - kBoundSlackM);
}

}  // namespace

std::vector<CandidateReason> reasons_for(const Candidate& c) {
  std::vector<CandidateReason> out;
  // Unconnected ranks last whatever else holds; the paired visitor goes first when
  // within the margin of the best (nearest()).
  if (!c.connected) out.push_back({"not_connected"});
  if (c.paired) out.push_back({"paired_visitor"});
  if (c.role_penalty_s > 0) out.push_back({.code = "other_role", .penalty_s = c.role_penalty_s});
  else out.push_back({"preferred_role"});
  if (c.stale)
    out.push_back({.code = "stale_position", .penalty_s = c.stale_penalty_s,
                   .age_s = static_cast<double>(c.position_age_ms / 1000)});
  out.push_back({.code = "eta", .eta_s = c.travel_s, .distance_m = c.distance_m});
  return out;
}

std::string_view name_of(TransportMode mode) {
  switch (mode) {
    case TransportMode::walk: return "walk";
    case TransportMode::ebike: return "ebike";
    case TransportMode::car: return "car";
  }
  return "?";
}

std::optional<Skill> parse_skill(std::string_view name) {
  for (const auto& [skill, text] : kSkillNames)
    if (text == name) return skill;
  return std::nullopt;
}

std::string_view skill_name(Skill skill) {
  for (const auto& [s, text] : kSkillNames)
    if (s == skill) return text;
  return "?";
}

SkillSet skill_set(const std::vector<std::string>& names) {
  SkillSet set = 0;
  for (const auto& name : names)
    if (auto skill = parse_skill(name)) set |= static_cast<SkillSet>(*skill);
  return set;
}

double TravelModel::speed_mps(TransportMode mode) const {
  switch (mode) {
    case TransportMode::walk: return walk_mps;
    case TransportMode::ebike: return ebike_mps;
    case TransportMode::car: return car_mps;
  }
  return walk_mps;
}

// Cell columns and rows are packed into 32 bits each, which holds down to 1e-6 degrees.
WorkerIndex::WorkerIndex(TravelModel model, double cell_deg) : model_(model), cell_deg_(cell_deg) {
  if (!(cell_deg >= 1e-6 && cell_deg <= 90))
    throw std::invalid_argument("cell_deg must be in [1e-6, 90]");
}

std::int64_t WorkerIndex::cell_of(double deg) const {
  return static_cast<std::int64_t>(std::floor(deg / cell_deg_));
}

WorkerIndex::CellKey WorkerIndex::key_of(std::int64_t col, std::int64_t row) {
  return (CellKey{static_cast<std::uint32_t>(col)} << 32) | static_cast<std::uint32_t>(row);
}

WorkerIndex::CellKey WorkerIndex::key_of(const WorkerSpot& spot) const {
  return key_of(cell_of(spot.lon), cell_of(spot.lat));
}

void WorkerIndex::upsert(const WorkerSpot& spot) {
  // A NaN or wild position would land in no sensible cell and stretch the populated box.
  if (!(std::abs(spot.lat) <= 90 && std::abs(spot.lon) <= 180))
    throw std::invalid_argument("worker position out of range");
  const Resident resident{spot, geo_point(spot.lat, spot.lon).cos_lat};
  const CellKey key = key_of(spot);
  auto [where, inserted] = cell_of_worker_.try_emplace(spot.id, key);
  if (!inserted) {
    const CellKey old_key = std::exchange(where->second, key);
    auto& old_cell = cells_.at(old_key);
    auto it = std::find_if(old_cell.begin(), old_cell.end(),
                           [&](const Resident& r) { return r.spot.id == spot.id; });
    if (old_key == key) {
      *it = resident;
      return;
    }
    *it = old_cell.back();
    old_cell.pop_back();
    if (old_cell.empty()) cells_.erase(old_key);
  }
  cells_[key].push_back(resident);

  const std::int64_t col = cell_of(spot.lon), row = cell_of(spot.lat);
  if (min_col_ > max_col_) {
    min_col_ = max_col_ = col;
    min_row_ = max_row_ = row;
  } else {
    min_col_ = std::min(min_col_, col);
    max_col_ = std::max(max_col_, col);
    min_row_ = std::min(min_row_, row);
    max_row_ = std::max(max_row_, row);
  }
}

void WorkerIndex::remove(WorkerId id) {
  auto where = cell_of_worker_.find(id);
  if (where == cell_of_worker_.end()) return;
  auto& cell = cells_.at(where->second);
  std::erase_if(cell, [&](const Resident& r) { return r.spot.id == id; });
  if (cell.empty()) cells_.erase(where->second);
  cell_of_worker_.erase(where);
  if (cell_of_worker_.empty()) min_col_ = 0, max_col_ = -1, min_row_ = 0, max_row_ = -1;
}

const WorkerIndex::Resident* WorkerIndex::find_resident(WorkerId id) const {
  auto where = cell_of_worker_.find(id);
  if (where == cell_of_worker_.end()) return nullptr;
  for (const Resident& r : cells_.at(where->second))
    if (r.spot.id == id) return &r;
  return nullptr;
}

const WorkerSpot* WorkerIndex::find(WorkerId id) const {
  const Resident* r = find_resident(id);
  return r ? &r->spot : nullptr;
}

size_t WorkerIndex::size() const { return cell_of_worker_.size(); }

const TravelModel& WorkerIndex::model() const { return model_; }

std::vector<Candidate> WorkerIndex::nearest(const CandidateQuery& q) const {
  std::vector<Candidate> best;
  if (q.limit == 0 || cells_.empty() || !std::isfinite(q.lat) || !std::isfinite(q.lon)) return best;
  best.reserve(std::min(q.limit, size()));
  const GeoPoint from = geo_point(q.lat, q.lon);
  auto visit = [&](const std::vector<Resident>& cell) {
    for (const Resident& r : cell) {
      if (!eligible(r.spot, q)) continue;
      if (best.size() == q.limit) {
        const double floor_s = distance_floor_m(from, {r.spot.lat, r.spot.lon, r.cos_lat}) *
                               model_.detour_factor / model_.speed_mps(r.spot.mode);
        if (floor_s * kFloorSlack > best.back().score_s) continue;
      }
      keep_if_better(best, q.limit, score(r.spot, r.cos_lat, from, q, model_));
    }
  };
  // Rings can cover far more empty cells than there are occupied ones: one stray
  // worker at 0N 0E (a failed GPS fix) stretches the populated box across a hemisphere.
  // Past one look-up per occupied cell, reading every occupied cell is cheaper.
  size_t lookups = 0;
  auto visit_cell = [&](std::int64_t col, std::int64_t row) {
    ++lookups;
    auto cell = cells_.find(key_of(col, row));
    if (cell != cells_.end()) visit(cell->second);
  };

  // Penalties are never negative, so no worker beyond distance d can score below this.
  const double fastest_mps = std::max({model_.walk_mps, model_.ebike_mps, model_.car_mps});
  const double s_per_m = model_.detour_factor / fastest_mps;

  const std::int64_t col = cell_of(q.lon), row = cell_of(q.lat);
  // Rings that miss the populated box hold nobody: start at the first that reaches it
  // and stop at the first that covers it, so a far or sparse query still ends.
  const std::int64_t first_ring =
      std::max({std::int64_t{0}, min_col_ - col, col - max_col_, min_row_ - row, row - max_row_});
  const std::int64_t last_ring =
      std::max({col - min_col_, max_col_ - col, row - min_row_, max_row_ - row});

  for (std::int64_t r = first_ring; r <= last_ring; ++r) {
    // Ring r: the cells whose larger offset from (col, row) is exactly r, clipped to
    // the populated box.
    const std::int64_t west_col = std::max(col - r, min_col_), east_col = std::min(col + r, max_col_);
    for (std::int64_t y = std::max(row - r, min_row_); y <= std::min(row + r, max_row_); ++y) {
      if (y == row - r || y == row + r) {
        for (std::int64_t x = west_col; x <= east_col; ++x) visit_cell(x, y);
      } else {
        if (col - r >= min_col_ && col - r <= max_col_) visit_cell(col - r, y);
        if (col + r >= min_col_ && col + r <= max_col_) visit_cell(col + r, y);
      }
    }
    if (lookups > cells_.size()) {
      best.clear();
      for (const auto& [key, cell] : cells_) visit(cell);
      break;
    }
    if (best.size() < q.limit) continue;
    // Everyone not yet seen lies outside the square of rings 0..r.
    const double beyond_m = distance_outside_box_m(
        q.lat, q.lon, static_cast<double>(row - r) * cell_deg_,
        static_cast<double>(row + r + 1) * cell_deg_, static_cast<double>(col - r) * cell_deg_,
        static_cast<double>(col + r + 1) * cell_deg_);
    if (beyond_m * s_per_m > best.back().score_s) break;
  }

  // The paired visitor is looked up directly rather than searched for: if they are in
  // the top `limit` the search has found them, and if they are not but are within the
  // margin of the best they still go first.
  const Resident* paired = q.paired ? find_resident(*q.paired) : nullptr;
  if (paired && eligible(paired->spot, q) && !best.empty()) {
    const Candidate c = score(paired->spot, paired->cos_lat, from, q, model_);
    if (c.score_s <= best.front().score_s + model_.paired_margin_s) {
      std::erase_if(best, [&](const Candidate& b) { return b.id == c.id; });
      best.insert(best.begin(), c);
      if (best.size() > q.limit) best.pop_back();
    }
  }
  return best;
}

std::vector<Candidate> WorkerIndex::brute_force(const CandidateQuery& q) const {
  if (!std::isfinite(q.lat) || !std::isfinite(q.lon)) return {};
  const GeoPoint from = geo_point(q.lat, q.lon);
  std::vector<Candidate> all;
  for (const auto& [key, cell] : cells_)
    for (const Resident& r : cell)
      if (eligible(r.spot, q)) all.push_back(score(r.spot, r.cos_lat, from, q, model_));
  std::sort(all.begin(), all.end(), ranks_before);
  if (q.paired && !all.empty()) {
    auto paired = std::find_if(all.begin(), all.end(), [&](const Candidate& c) { return c.paired; });
    if (paired != all.end() && paired->score_s <= all.front().score_s + model_.paired_margin_s)
      std::rotate(all.begin(), paired, paired + 1);
  }
  if (all.size() > q.limit) all.resize(q.limit);
  return all;
}

}  // namespace anxin
