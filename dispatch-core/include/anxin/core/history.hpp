// Resolved incidents read back from the file (issue 14, item 4): the history search
// and one incident's whole record. Runs on whatever thread calls it (the gateway's
// reader thread), through Store::read; the live state is never asked. Names come
// later, from memory, on the service thread.
#pragma once

#include <optional>
#include <vector>

#include "anxin/core/protocol.hpp"
#include "anxin/core/store.hpp"

namespace anxin::history {

// Resolved incidents matching `q`, newest resolution first, one page of them with
// the count of all. `elders`, when given, restricts them to those elders (the host
// finds them from q.elder_text); q.elder_text itself is not read here.
protocol::HistoryPage search(const Store& store, const protocol::HistoryQuery& q,
                             const std::vector<ElderId>* elders = nullptr);

// What the file holds of one incident beyond its live state: the closing record
// (resolved incidents), its alerts, and the responders' field reports.
struct RecordParts {
  std::optional<Incident> closing;  // the archived incident, whole
  std::vector<protocol::AlertView> alerts;
  std::vector<Visit> reports;       // oldest first
};
RecordParts read_record(const Store& store, IncidentId id);

}  // namespace anxin::history
