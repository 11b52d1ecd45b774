// The parts of a console's snapshot kept as text between snapshots (issue 15, item
// 4): each open incident with its timeline, the card of each elder in them, each
// worker as consoles see them. A delta marks its incident or worker out of date; a
// timer re-encodes what changed in short slices (Server::Impl::on_refresh); a
// subscribe then takes the texts as they stand (shared, immutable) and only what
// changed since is encoded on the spot. The texts are never put together in one
// string: a SnapshotStream writes them out as the connection takes them, a fragment
// a turn (Server::Impl::write_out), so a snapshot of any size holds nobody up.
// Service thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/protocol.hpp"

namespace anxin::gateway {

class SnapshotTexts {
 public:
  using Text = std::shared_ptr<const std::string>;
  using CardOf = std::function<protocol::ElderCard(ElderId)>;
  using ForConsoles = std::function<Worker(const Worker&)>;

  SnapshotTexts(const Dispatcher& dispatcher, CardOf card_of, ForConsoles for_consoles)
      : dispatcher_(dispatcher), card_of_(std::move(card_of)), for_consoles_(std::move(for_consoles)) {}

  // What a delta changed: its incident, or its worker.
  void changed(const protocol::DeltaMessage& delta);
  // Every card again: the roster changed, or the day (ages) turned.
  void forget_cards();
  // Re-encodes what changed, for at most `budget`; everything when none is given.
  void refresh(std::chrono::microseconds budget = std::chrono::microseconds::max());
  // The parts of a console's snapshot as of now.
  protocol::SnapshotText take(std::uint64_t seq, const std::string& epoch, Millis now_ms);

 private:
  void check_day();           // a new day: every card again, ages count from today
  Text card(ElderId elder);   // as of the day check_day() last saw
  Text incident(const Incident& i);
  Text worker(const Worker& w);
  // The open incidents' texts by id, in one array, each with its elder's card: a take
  // walks it instead of the dispatcher's map and a lookup a text (14,000 incidents:
  // milliseconds of cache misses on the service thread). A text is null while out of
  // date. An elder has one open incident at most, so no card is there twice.
  struct Live {
    IncidentId id = 0;
    ElderId elder = 0;
    Text text, card;
  };
  std::vector<Live> live_;
  std::vector<Live>::iterator live_at(IncidentId id);  // its place, found or not
  void rebuild_live();

  const Dispatcher& dispatcher_;
  CardOf card_of_;
  ForConsoles for_consoles_;
  std::string today_;
  std::unordered_map<ElderId, Text> cards_;
  std::unordered_map<WorkerId, Text> workers_;
  std::unordered_set<IncidentId> stale_incidents_;
  std::unordered_set<WorkerId> stale_workers_;
};

// A snapshot written out from its parts as it goes: byte for byte the text of
// protocol::assemble_snapshot(parts, req), never held whole. Put together in one
// string first, on another thread, 15.7 MB (14,000 incidents) took 50 ms of a CPU
// that the writer needed, half of it page faults of the new string, and stalled
// the others' acks (docs/benchmarks.md, "Rounds, and the snapshot's stall").
class SnapshotStream {
 public:
  SnapshotStream(std::shared_ptr<const protocol::SnapshotText> parts, const std::string& req);
  size_t size() const { return size_; }
  size_t sent() const { return sent_; }
  size_t left() const { return size_ - sent_; }
  // Copies the next min(max, left()) bytes to `out`; returns how many.
  size_t read(char* out, size_t max);

 private:
  // The text is the fixed pieces 0..3 (the header up to the incidents' '[', the
  // joints between the lists, the end) with the lists 0..2 between them: part p
  // even is fixed piece p / 2, odd is list p / 2, whose items go with ',' between.
  std::string_view piece() const;
  void next();  // past the current piece
  const std::vector<std::shared_ptr<const std::string>>& list(int i) const;

  std::shared_ptr<const protocol::SnapshotText> parts_;
  std::string fixed_[4];
  int part_ = 0;
  size_t item_ = 0, offset_ = 0;
  bool comma_ = false;  // in a list: the ',' before item_ is next
  size_t size_ = 0, sent_ = 0;
};

}  // namespace anxin::gateway
