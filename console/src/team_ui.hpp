// What the screen remembers for presence, handover and the mine strip (issue 14):
// the Team view's choices, the handover form being filled in, the questions asked
// before a sign-out or a resolve that stands people down, and the mine strip's cache.
// No business state: the presence picture is the App's.
#pragma once

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin::console {

struct TeamUi {
  int colleague = 0;  // ← →: the colleague the handover and a reassign go to (index among those signed in)
  int row = 0;        // ↑ ↓: the row of the held incidents' table (the Team view)
  std::array<char, 2001> notes{};  // the handover's notes; the server takes at most 2000 bytes
  std::set<IncidentId> left_out;   // my incidents unticked in the handover form (all are ticked at first)
  bool focus_notes = false;        // N (in the Team view): the cursor into the notes
  bool logout_ask = false;         // sign out asked with incidents in hand: the question is open
  bool resolve_confirm = false;    // the resolve picker asked once: what will be stood down is shown
  // the mine strip's rows, for this replica version and second
  std::uint64_t mine_version = ~0ull;
  Millis mine_second = -1;
  std::vector<IncidentId> mine;
  // the Team view's table of every incident in someone's hands, by holder then id,
  // for this replica version
  std::uint64_t held_version = ~0ull;
  std::vector<IncidentId> held;
};

}  // namespace anxin::console
