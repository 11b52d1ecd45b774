// What the screen remembers of the elder's care record (view_record.cpp, issue 14):
// the supervisor's edit form as typed. Part of UiState; no business state.
#pragma once

#include <array>

#include "anxin/core/domain.hpp"

namespace anxin::console {

struct RecordUi {
  bool edit_open = false;
  bool focus_first = false;   // the form just opened: the cursor into its first field
  ElderId elder = 0;          // whose record the form holds
  ElderId saved_elder = 0;    // the last record saved from this console
  std::array<char, 512> conditions{}, medications{}, allergies{};  // items separated by , or 、
  std::array<char, 201> hospital{}, entry{}, hearing{}, dialect{};
  std::array<char, 33> new_code{};
  bool clear_code = false;
  std::array<char, 256> photo_path{};
  bool photo_unreadable = false;
};

}  // namespace anxin::console
