// Private helpers shared by the dispatcher's source files.
#pragma once

#include "anxin/core/dispatcher.hpp"

namespace anxin::detail {

// Automatic actions (timers, cascades) are taken by "system".
inline const Principal kSystem{Role::console, "system"};

// Every change to an incident ends with a delta carrying the timeline entries
// added since `mark`.
inline void append_since(Delta& d, const Incident& i, size_t mark) {
  d.append.assign(i.timeline.begin() + static_cast<std::ptrdiff_t>(mark), i.timeline.end());
}

inline int active_responders(const Incident& i) {
  int n = 0;
  for (const auto& a : i.assignments) n += a.active();
  return n;
}

}  // namespace anxin::detail
