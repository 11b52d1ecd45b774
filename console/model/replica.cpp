#include "replica.hpp"

#include <algorithm>
#include <tuple>

namespace anxin::console {

Replica::Applied Replica::apply(const protocol::Snapshot& s) {
  incidents_.clear();
  elders_.clear();
  for (const auto& i : s.incidents) incidents_.emplace(i.id, i);
  for (const auto& e : s.elders) elders_.emplace(e.id, e);
  seq_ = s.seq;
  epoch_ = s.epoch;
  synced_ = true;
  return Applied::changed;
}

Replica::Applied Replica::apply(const protocol::DeltaMessage& d) {
  if (!synced_) return Applied::unchanged;
  if (d.seq <= seq_) return Applied::unchanged;  // already in the snapshot
  if (d.seq != seq_ + 1) {
    synced_ = false;
    return Applied::resync;
  }
  seq_ = d.seq;
  if (d.elder) elders_[d.elder->id] = *d.elder;
  if (d.kind == DeltaKind::incident_resolved) {
    incidents_.erase(d.incident.id);
    return Applied::changed;
  }
  auto [it, inserted] = incidents_.try_emplace(d.incident.id, d.incident);
  Incident& mine = it->second;
  if (!inserted) {
    auto timeline = std::move(mine.timeline);
    mine = d.incident;
    mine.timeline = std::move(timeline);
  }
  mine.timeline.insert(mine.timeline.end(), d.append.begin(), d.append.end());
  return Applied::changed;
}

const Incident* Replica::incident(IncidentId id) const {
  auto it = incidents_.find(id);
  return it == incidents_.end() ? nullptr : &it->second;
}

const protocol::ElderCard* Replica::elder(ElderId id) const {
  auto it = elders_.find(id);
  return it == elders_.end() ? nullptr : &it->second;
}

std::vector<const Incident*> Replica::queue() const {
  std::vector<const Incident*> q;
  q.reserve(incidents_.size());
  for (const auto& [id, i] : incidents_) q.push_back(&i);
  auto key = [](const Incident* i) {
    return std::tuple(i->state != IncidentState::open, static_cast<int>(i->severity()), i->opened_ms, i->id);
  };
  std::sort(q.begin(), q.end(), [&](auto a, auto b) { return key(a) < key(b); });
  return q;
}

}  // namespace anxin::console
