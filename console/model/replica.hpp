// The console's mirror of the server's live state: open incidents (with their
// responders, calls, escalations and timelines), the elder cards in them, and
// every field worker. A snapshot, then deltas applied strictly in sequence. A gap
// in the sequence means the mirror can no longer be trusted: apply() says so and
// the caller asks for a fresh snapshot. Also the phone line's last `line` frame,
// which is not numbered: it comes whole after the snapshot and on every change.
// Owned by the UI thread; no ImGui, no sockets.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "anxin/core/protocol.hpp"

namespace anxin::console {

class Replica {
 public:
  enum class Applied {
    changed,     // the mirror moved on
    unchanged,   // a delta from before the snapshot, or while waiting for one
    resync,      // out of sequence: discard and subscribe again
  };

  Applied apply(const protocol::Snapshot& snapshot);
  Applied apply(const protocol::DeltaMessage& delta);
  // An elder card learnt outside the live stream (an `elder` reply): the map and
  // the search know the elder from then on.
  void remember(const protocol::ElderCard& card);
  // The phone line's picture, replacing the last one.
  void apply(const protocol::LineState& line) { line_ = line; }

  // The connection is gone: keep showing what we have, marked stale, until the
  // next snapshot replaces it. The line's picture goes at once: a ringing call
  // nobody can answer from here must not look answerable.
  void lose_sync() {
    synced_ = false;
    line_.reset();
  }

  bool synced() const { return synced_; }
  std::uint64_t seq() const { return seq_; }
  const std::string& epoch() const { return epoch_; }
  // Rises on every change; views cache what they derive (the sorted queue, map
  // extents) and rebuild only when it moves.
  std::uint64_t version() const { return version_; }
  // The version at which one incident last changed (0: unknown incident).
  std::uint64_t incident_version(IncidentId id) const;

  const std::map<IncidentId, Incident>& incidents() const { return incidents_; }
  const std::unordered_map<ElderId, protocol::ElderCard>& elders() const { return elders_; }
  const std::map<WorkerId, Worker>& workers() const { return workers_; }
  const Incident* incident(IncidentId id) const;
  const protocol::ElderCard* elder(ElderId id) const;
  const Worker* worker(WorkerId id) const;
  // The last `line` frame since the snapshot; none: no SIP line (calls are dialled by hand).
  const std::optional<protocol::LineState>& line() const { return line_; }

  // Open incidents in queue order (docs/ranking.md): unacknowledged first, then
  // by score (rank.base + waiting points at `now`), older first, lower id first.
  std::vector<const Incident*> queue(Millis now) const;

 private:
  void touch(IncidentId id) { incident_versions_[id] = ++version_; }

  bool synced_ = false;
  std::uint64_t seq_ = 0;
  std::uint64_t version_ = 0;
  std::string epoch_;
  std::map<IncidentId, Incident> incidents_;
  std::unordered_map<IncidentId, std::uint64_t> incident_versions_;
  // Elder cards are registry data, not live state: a snapshot refreshes them but
  // does not forget elders whose incidents closed, so the map keeps their homes.
  // Hashed: the queue looks up every incident's elder when it re-sorts.
  std::unordered_map<ElderId, protocol::ElderCard> elders_;
  std::map<WorkerId, Worker> workers_;
  std::optional<protocol::LineState> line_;
};

// One incident's place in the queue.
bool unacknowledged(const Incident& i);
int queue_score(const Incident& i, Millis now);  // rank_score(), shared with the server
// Queue order given both scores at the same moment: unacknowledged first, then
// ranks_before() (higher score, older, lower id), without recomputing scores.
bool queue_before(const Incident& a, int score_a, const Incident& b, int score_b);

}  // namespace anxin::console
