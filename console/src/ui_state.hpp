// UiState: what the screen itself remembers from frame to frame and nothing else:
// text being typed, open pickers, filters, the map's camera, view caches. No
// business state lives here (that is the replica's); losing all of it loses no
// work. Views may change it directly, because it is theirs; anything that touches
// the server goes out as a Command.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <imgui.h>  // ImVec2

#include "anxin/core/domain.hpp"
#include "dashboard.hpp"
#include "history_ui.hpp"
#include "record_ui.hpp"
#include "map_places.hpp"
#include "queue_index.hpp"
#include "team_ui.hpp"
#include "visit_board.hpp"

namespace anxin::console {

struct MapCamera {
  bool fitted = false;       // fit to the known homes once, then the operator pans and zooms
  double lat = 0, lon = 0;   // the centre of the view
  double px_per_deg = 0;     // zoom
};

// A coarse occupancy grid over the map canvas: one marker per cell when
// thousands overlap. Reused every frame, so it allocates only when the canvas grows.
class ScreenCells {
 public:
  void reset(float x0, float y0, float w, float h, float cell) {
    x0_ = x0, y0_ = y0, cell_ = cell;
    cols_ = static_cast<int>(w / cell) + 1, rows_ = static_cast<int>(h / cell) + 1;
    taken_.assign(static_cast<size_t>(cols_) * static_cast<size_t>(rows_), 0);
  }
  // True the first time a point in this cell asks; points off the grid always pass.
  bool claim(float x, float y) {
    std::uint8_t* t = at(x, y);
    return !t || (*t ? false : (*t = 1));
  }
  bool taken(float x, float y) {
    const std::uint8_t* t = at(x, y);
    return t && *t;
  }

 private:
  std::uint8_t* at(float x, float y) {
    const int c = static_cast<int>((x - x0_) / cell_), r = static_cast<int>((y - y0_) / cell_);
    if (x < x0_ || y < y0_ || c >= cols_ || r >= rows_) return nullptr;
    return &taken_[static_cast<size_t>(r) * static_cast<size_t>(cols_) + static_cast<size_t>(c)];
  }

  float x0_ = 0, y0_ = 0, cell_ = 1;
  int cols_ = 0, rows_ = 0;
  std::vector<std::uint8_t> taken_;
};

struct UiState {
  // the queue
  QueueFilter filter;
  std::array<char, 96> search{};
  QueueIndex queue;  // cached rank order; see queue_index.hpp
  bool scroll_to_selected = false;

  // the incident workspace
  std::array<char, 512> note{};
  bool focus_note = false;
  bool resolve_open = false;    // the disposition picker
  int disposition = -1;         // index into the dispositions, -1: none chosen yet
  std::array<char, 256> resolve_note{};
  bool callback_open = false;   // the call-back outcome picker (key C)
  // an unknown caller's "link to elder" panel (key L)
  std::array<char, 65> link_search{};  // the server takes 1..64 bytes
  bool focus_link_search = false;
  int link_highlight = -1;  // the result ↑/↓ chose; -1: none, so Enter finds

  // the map
  MapCamera map;
  MapPlaces places;
  Millis places_built_ms = 0;
  ScreenCells map_cells, map_incident_cells;  // scratch, per frame
  std::vector<const QueueRow*> map_markers;  // scratch, per frame

  // the status bar's counts, for this replica version
  std::uint64_t counts_version = ~0ull;
  int count_open = 0, count_in_hand = 0, count_escalated = 0;

  // the dashboard's figures, for this replica version, second and metrics reply
  std::uint64_t figures_version = ~0ull;
  Millis figures_second = -1, figures_metrics_ms = -1;
  DashboardFigures figures;

  // the workers board
  bool workers_on_duty_only = true;
  int worker_row = 0;  // the row ↑ ↓ chose; B dials that worker, Enter opens their task
  std::uint64_t workers_version = ~0ull;  // the replica version the order below is for
  bool workers_sorted_on_duty_only = true;
  std::vector<const Worker*> workers_sorted;

  // the phone-visit list: the row R and N act on (set by cmd::SelectVisit)
  ElderId visit_row = 0;
  bool scroll_to_visit_row = false;

  // the dashboard's tabs: 0 alarms, 1 visits; a key's pick is applied on the next frame
  int dashboard_tab = 0;
  int dashboard_tab_pick = -1;

  // the visits tab's parts (VisitsSection) and the supervisor's forms on them
  int visits_section = 0;
  int visits_section_pick = -1;
  struct CampaignEdit {
    std::array<char, 201> name{};  // the server takes 1..200 bytes
    int reason = 0;                // weather, festival, public_health
    std::array<char, 11> first_date{}, last_date{};  // YYYY-MM-DD; empty: today
    int reach_by_hour = 16;
    std::array<bool, 3> tiers{};   // key, sub_key, general
    std::vector<std::string> towns;  // ticked
    std::array<bool, 5> living{};  // alone, empty_nest, left_behind, elderly_only, with_family
  } campaign;
  std::int64_t closing_hazard = 0;  // the row whose note is being typed
  std::array<char, 1001> hazard_note{};  // 1..1000 bytes
  bool focus_hazard_note = false;
  std::array<char, 512> roster_path{};
  int roster_encoding = 0;  // 0 UTF-8, 1 GBK

  // keyboard-only work (view_keys.cpp, issue 14): the pickers keys open, and where
  // the thing each belongs to was drawn last frame, so the picker opens beside it
  bool call_picker_open = false;      // K: 120, 119, a contact, the responder
  bool result_picker_open = false;    // T: the result of a call task still open
  bool candidate_picker_open = false; // S: a candidate from the list, in its order
  int picker_row = 0;                 // the row ↑ ↓ chose in the open picker
  ImVec2 calls_anchor{}, dispatch_anchor{}, actions_anchor{};  // K, S and T's buttons: screen positions
  ImVec2 callback_anchor{}, resolve_anchor{};                 // C's and R's buttons
  bool focus_search = false;          // / or Ctrl+F: the queue's search box
  bool focus_resolve_note = false;    // Tab in the resolve picker: its closing note
  bool focus_password = false;        // a refused login: back into the password
  bool login_error_seen = false;

  // manual incidents (view_manual.cpp) and the History view (view_history.cpp), issue 14
  ManualForm manual;
  HistoryUi history;
  RecordUi record;  // the elder's care record and its edit form (view_record.cpp)

  // presence, handover, the mine strip (view_team.cpp, view_mine.cpp), issue 14
  TeamUi team;

  // the login form
  std::array<char, 64> username{};
  std::array<char, 128> password{};
  std::array<char, 128> server{};
  bool login_prefilled = false;
};

// The campaign form's edit buffers to and from plain values (visit_board.hpp).
inline constexpr const char* kCampaignReasons[] = {"weather", "festival", "public_health"};
inline constexpr const char* kFormTiers[] = {"key", "sub_key", "general"};
inline constexpr const char* kFormLiving[] = {"alone", "empty_nest", "left_behind", "elderly_only", "with_family"};

inline CampaignForm form_of(const UiState::CampaignEdit& e) {
  CampaignForm f;
  f.name = e.name.data();
  f.reason = kCampaignReasons[std::clamp(e.reason, 0, 2)];
  f.first_date = e.first_date.data(), f.last_date = e.last_date.data();
  f.reach_by_hour = e.reach_by_hour;
  for (size_t k = 0; k < e.tiers.size(); ++k)
    if (e.tiers[k]) f.tiers.push_back(kFormTiers[k]);
  f.towns = e.towns;
  for (size_t k = 0; k < e.living.size(); ++k)
    if (e.living[k]) f.living.push_back(kFormLiving[k]);
  return f;
}

inline void fill_campaign_edit(UiState::CampaignEdit& e, const CampaignForm& f) {
  auto copy = [](auto& buf, const std::string& s) {
    buf.fill(0);
    s.copy(buf.data(), buf.size() - 1);
  };
  copy(e.name, f.name);
  e.reason = 0;
  for (int k = 0; k < 3; ++k)
    if (f.reason == kCampaignReasons[k]) e.reason = k;
  copy(e.first_date, f.first_date);
  copy(e.last_date, f.last_date);
  e.reach_by_hour = f.reach_by_hour;
  auto has = [](const std::vector<std::string>& v, const char* x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  for (size_t k = 0; k < e.tiers.size(); ++k) e.tiers[k] = has(f.tiers, kFormTiers[k]);
  for (size_t k = 0; k < e.living.size(); ++k) e.living[k] = has(f.living, kFormLiving[k]);
  e.towns = f.towns;
}

}  // namespace anxin::console
