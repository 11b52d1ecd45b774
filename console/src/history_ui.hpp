// What the screen remembers of the manual-incident form (view_manual.cpp) and the
// History view (view_history.cpp), issue 14: text being typed and choices made.
// Part of UiState; no business state.
#pragma once

#include <array>
#include <string>

#include "anxin/core/domain.hpp"

namespace anxin::console {

// The kinds an operator may give a report (the server refuses offline, low battery
// and phone_call: devices and the line raise those), in the order ← → go through them.
inline constexpr AlertKind kManualKinds[] = {
    AlertKind::sos,        AlertKind::fall,          AlertKind::vital_abnormal, AlertKind::smoke,
    AlertKind::gas,        AlertKind::water_leak,    AlertKind::inactivity,     AlertKind::geofence_exit,
    AlertKind::door_open_long, AlertKind::bed_exit_long, AlertKind::no_water_use};
inline constexpr const char* kManualSources[] = {"phone", "walk_in", "neighbour", "other"};

struct ManualForm {
  bool open = false;
  bool focus_search = false, focus_text = false;
  std::array<char, 65> search{};     // find_elders: 1..64 bytes
  int highlight = -1;                // the result ↑ ↓ chose
  ElderId elder = 0;                 // chosen (0: none)
  std::string elder_name;
  bool unknown = false;              // U: the caller is not known
  std::array<char, 33> caller_phone{};
  std::array<char, 65> caller_name{};
  int kind = 0;                      // into kManualKinds
  int source = 0;                    // into kManualSources
  std::array<char, 512> text{};      // what was reported
  std::string req;                   // the open_incident sent, while waiting
};

struct HistoryUi {
  std::array<char, 65> elder{};      // name, phone, address, ID's last digits; "#12": elder 12
  std::array<char, 11> from{}, to{}; // YYYY-MM-DD, centre time; empty: unbounded
  std::array<char, 65> resolved_by{};
  int kind = -1;                     // into kAllKinds; -1: any
  int disposition = -1;              // Disposition; -1: any
  int page = 0;
  int row = 0;                       // the result ↑ ↓ chose
  bool focus_elder = false;
  bool searched = false;             // the first search, on opening the view
  IncidentId record = 0;             // the record on screen (asked for)
  bool reopen_open = false;          // O: typing the reason
  bool reopen_confirm = false;       // the reason typed: Enter confirms
  bool focus_reason = false;
  std::array<char, 256> reason{};
  std::string date_error;            // a date that does not read
};

}  // namespace anxin::console
