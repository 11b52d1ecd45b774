// The queue as the operator sees it: the replica's open incidents in rank order,
// narrowed by town, alert kind and a search text (name, address, phone, device).
// Sorting 10,000 incidents every frame would eat the frame budget, so the result
// is cached and rebuilt only when the replica changes, the filter changes, or a
// second has passed (waiting points move once a second at most in practice: 4 per
// minute). No ImGui.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "replica.hpp"

namespace anxin::console {

struct QueueFilter {
  std::string town;                  // empty: every town
  std::optional<AlertKind> kind;     // the incident's lead kind; empty: every kind
  std::string search;                // empty: no search
  bool operator==(const QueueFilter&) const = default;
  bool active() const { return !town.empty() || kind || !search.empty(); }
};

struct QueueRow {
  const Incident* incident = nullptr;
  const protocol::ElderCard* elder = nullptr;  // null if the card is unknown
  int score = 0;
};

// True if `incident` (with its elder's card) matches the search text: a substring
// of the name, address, phone or a device serial; ASCII letters ignore case.
bool matches_search(const Incident& incident, const protocol::ElderCard* elder, const std::string& text);

class QueueIndex {
 public:
  // The filtered queue at `now`; pointers stay valid until the replica changes.
  const std::vector<QueueRow>& rows(const Replica& replica, const QueueFilter& filter, Millis now);
  // Every open incident, unfiltered, in rank order (the first is the top priority).
  const std::vector<QueueRow>& all(const Replica& replica, Millis now);
  // Towns of the elders in the queue, sorted: the town filter's choices.
  const std::vector<std::string>& towns(const Replica& replica);
  // Forces the next call to rebuild (e.g. a benchmark measuring the rebuild).
  void invalidate() { built_version_ = ~0ull; }

 private:
  void rebuild_all(const Replica& replica, Millis now);

  std::uint64_t built_version_ = ~0ull;
  Millis built_second_ = -1;
  std::vector<QueueRow> all_;
  std::uint64_t filtered_version_ = ~0ull;
  Millis filtered_second_ = -1;
  QueueFilter filtered_by_;
  std::vector<QueueRow> filtered_;
  std::uint64_t towns_version_ = ~0ull;
  std::vector<std::string> towns_;
};

}  // namespace anxin::console
