#include "replica.hpp"

#include <algorithm>

#include "anxin/core/ranking.hpp"

namespace anxin::console {

bool unacknowledged(const Incident& i) { return i.state == IncidentState::open; }

int queue_score(const Incident& i, Millis now) { return rank_score(i, now); }

bool queue_before(const Incident& a, int sa, const Incident& b, int sb) {
  // Waiting for an operator: not acknowledged, or a new critical alert not yet seen
  // by the one who holds it (unseen_alert_ms, issue 14): those come first.
  const bool ua = unacknowledged(a) || a.unseen_alert_ms, ub = unacknowledged(b) || b.unseen_alert_ms;
  if (ua != ub) return ua;
  if (sa != sb) return sa > sb;
  if (a.opened_ms != b.opened_ms) return a.opened_ms < b.opened_ms;
  return a.id < b.id;
}

Replica::Applied Replica::apply(const protocol::Snapshot& s) {
  incidents_.clear();
  incident_versions_.clear();
  ++version_;
  for (const auto& i : s.incidents) {
    incidents_.emplace(i.id, i);
    incident_versions_[i.id] = version_;
  }
  for (const auto& e : s.elders) elders_[e.id] = e;
  workers_.clear();
  for (const auto& w : s.workers) workers_.emplace(w.id, w);
  seq_ = s.seq;
  epoch_ = s.epoch;
  synced_ = true;
  line_.reset();  // a fresh `line` frame follows the snapshot when the centre has a line
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
  ++version_;
  if (d.kind == DeltaKind::worker_updated) {
    if (d.worker) workers_[d.worker->id] = *d.worker;
    return Applied::changed;
  }
  if (d.elder) elders_[d.elder->id] = *d.elder;
  if (d.kind == DeltaKind::incident_resolved) {
    incidents_.erase(d.incident.id);
    incident_versions_.erase(d.incident.id);
    return Applied::changed;
  }
  auto [it, inserted] = incidents_.try_emplace(d.incident.id, d.incident);
  Incident& mine = it->second;
  if (!inserted) {
    // The header is whole in every delta; only the timeline grows by appending.
    auto timeline = std::move(mine.timeline);
    mine = d.incident;
    mine.timeline = std::move(timeline);
  }
  mine.timeline.insert(mine.timeline.end(), d.append.begin(), d.append.end());
  touch(d.incident.id);
  return Applied::changed;
}

void Replica::remember(const protocol::ElderCard& card) {
  elders_[card.id] = card;
  ++version_;
}

std::uint64_t Replica::incident_version(IncidentId id) const {
  auto it = incident_versions_.find(id);
  return it == incident_versions_.end() ? 0 : it->second;
}

const Incident* Replica::incident(IncidentId id) const {
  auto it = incidents_.find(id);
  return it == incidents_.end() ? nullptr : &it->second;
}

const protocol::ElderCard* Replica::elder(ElderId id) const {
  auto it = elders_.find(id);
  return it == elders_.end() ? nullptr : &it->second;
}

const Worker* Replica::worker(WorkerId id) const {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : &it->second;
}

std::vector<const Incident*> Replica::queue(Millis now) const {
  struct Keyed {
    int score;
    const Incident* incident;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(incidents_.size());
  // Scores once per incident, not once per comparison.
  for (const auto& [id, i] : incidents_) keyed.push_back({queue_score(i, now), &i});
  std::sort(keyed.begin(), keyed.end(),
            [](const Keyed& a, const Keyed& b) { return queue_before(*a.incident, a.score, *b.incident, b.score); });
  std::vector<const Incident*> q;
  q.reserve(keyed.size());
  for (const auto& k : keyed) q.push_back(k.incident);
  return q;
}

}  // namespace anxin::console
