// The console's mirror of the server's live incidents: a snapshot, then deltas
// applied strictly in sequence. A gap in the sequence, or a new server epoch,
// means the mirror can no longer be trusted: apply() says so and the caller asks
// for a fresh snapshot. Owned by the UI thread; no ImGui, no sockets.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "anxin/core/protocol.hpp"

namespace anxin::console {

class Replica {
 public:
  enum class Applied {
    changed,     // the mirror moved on
    unchanged,   // not a state message, or a delta from before the snapshot
    resync,      // out of sequence: discard and subscribe again
  };

  Applied apply(const protocol::Snapshot& snapshot);
  Applied apply(const protocol::DeltaMessage& delta);

  // The connection is gone: keep showing what we have, marked stale, until the
  // next snapshot replaces it.
  void lose_sync() { synced_ = false; }

  bool synced() const { return synced_; }
  std::uint64_t seq() const { return seq_; }
  const std::string& epoch() const { return epoch_; }
  const std::map<IncidentId, Incident>& incidents() const { return incidents_; }
  const Incident* incident(IncidentId id) const;
  const protocol::ElderCard* elder(ElderId id) const;

  // Open incidents in queue order: unacknowledged before acknowledged, then by
  // severity (most urgent first), then oldest first, then by id.
  std::vector<const Incident*> queue() const;

 private:
  bool synced_ = false;
  std::uint64_t seq_ = 0;
  std::string epoch_;
  std::map<IncidentId, Incident> incidents_;
  std::map<ElderId, protocol::ElderCard> elders_;
};

}  // namespace anxin::console
