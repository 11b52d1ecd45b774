// The console's views, one file each (view_*.cpp), and what they share: colours,
// time formats, small widgets. A view reads the App, may change its own UiState
// (text being typed, filters, the map camera), and returns the Commands its
// widgets and keys produced; it sends nothing and changes no business state.
#pragma once

#include <imgui.h>

#include <ctime>
#include <string>
#include <vector>

#include "app.hpp"

namespace anxin::console {

// The whole frame: status bar, view tabs, the view; or the login screen.
Commands draw_console(App& app);

Commands draw_status(const App& app, UiState& ui);       // view_status.cpp: top bar and banners
Commands draw_line(const App& app);                      // view_line.cpp: ringing calls, my seat's call
Commands draw_login(const App& app, UiState& ui);        // view_login.cpp
Commands draw_queue(const App& app, UiState& ui, bool compact);  // view_queue.cpp
Commands draw_incident(const App& app, UiState& ui, bool wide);  // view_incident.cpp: the workspace
Commands draw_map(const App& app, UiState& ui);          // view_map.cpp
Commands draw_workers(const App& app, UiState& ui);      // view_workers.cpp
Commands draw_dashboard(const App& app, UiState& ui);    // view_dashboard.cpp
Commands draw_visits(const App& app, UiState& ui);       // view_visits.cpp: the phone-visit list
Commands draw_visit_figures(const App& app, UiState& ui);  // view_visits.cpp: the dashboard's visits tab
// view_visit_tools.cpp: the visits tab's supervisor parts
Commands draw_campaign_list(const App& app, bool with_end);
Commands draw_campaign_form(const App& app, UiState& ui);
Commands draw_hazards(const App& app, UiState& ui, float height);
void draw_flagged(const App& app);
void draw_pairing(const App& app, size_t max_names);
Commands draw_visit_exports(const App& app);
Commands draw_roster_import(const App& app, UiState& ui);

// Parts of the incident workspace, each in its own file.
Commands draw_dispatch(const App& app, const Incident& i);                 // view_dispatch.cpp
Commands draw_calls(const App& app, const Incident& i);                    // view_calls.cpp
Commands draw_elder(const App& app, const Incident& i, const protocol::ElderCard& e);  // view_elder.cpp
Commands draw_timeline(const App& app, const Incident& i);                 // view_timeline.cpp
// view_record.cpp: the elder's care record (V reveals the entry code; W: a supervisor's edit form)
Commands draw_care_record(const App& app, UiState& ui, const Incident& i, const protocol::ElderCard& e);
// view_keys.cpp: the K (call), T (call result) and S (candidate) buttons and their pickers
Commands draw_key_actions(const App& app, UiState& ui, const Incident& i);
// view_attention.cpp, over every view: the banner of new alarms (J opens the newest),
// and the keys that work from anywhere (/ or Ctrl+F: the queue's search)
Commands draw_attention(const App& app, UiState& ui);
// view_link.cpp: an unknown caller's incident, its number and the panel that links it to an elder.
Commands draw_link_caller(const App& app, UiState& ui, const Incident& i, const protocol::ElderCard& caller);

// Manual incidents and history (issue 14): the form that opens one by hand, in the
// workspace's place while open (view_manual.cpp); the History view (view_history.cpp);
// the field reports on a workspace; manual alerts and field reports in words (a
// timeline's detail), nullopt for other entries.
Commands draw_manual_modal(const App& app, UiState& ui);  // M, and the form while open
Commands draw_history(const App& app, UiState& ui);
void draw_field_reports(const App& app, const Incident& i);
std::optional<std::string> describe_entry(const App& app, const TimelineEntry& t);
Msg manual_source_label(std::string_view source);  // "phone", "walk_in", "neighbour", "other"

// Presence, handover and the supervisor's hands (issue 14): the incidents in my hands
// above the queue (view_mine.cpp); the Team view (F8), the banner of a handover offered
// to me (F9 accepts, F10 declines) over every view, and the question before signing
// out with incidents in hand (view_team.cpp); what a resolve stands down, one line
// each (the resolve picker asks again when there is any); a handed_over entry in words.
Commands draw_mine(const App& app, UiState& ui);
Commands draw_team(const App& app, UiState& ui);
Commands draw_handover_banner(const App& app, UiState& ui);
Commands draw_logout_question(const App& app, UiState& ui);
std::vector<std::string> stand_downs(const App& app, const Incident& i);
std::string describe_handover(const App& app, const TimelineEntry& t);

// Keys act only when no text field has focus, so typing a note never dispatches.
bool key_pressed(int key);  // ImGui key index (GLFW key code; letters are 'A'..'Z')
// The GLFW key codes the views use beside the letters.
constexpr int kKeySlash = 47, kKeyEscape = 256, kKeyEnter = 257, kKeyTab = 258, kKeyRight = 262, kKeyLeft = 263,
              kKeyDown = 264, kKeyUp = 265, kKeyPageUp = 266, kKeyPageDown = 267, kKeyF8 = 297, kKeyF9 = 298,
              kKeyF10 = 299, kKeyKeypadEnter = 335;
bool typing();

// --- shared look ------------------------------------------------------------------

void apply_theme();
ImVec4 state_color(LinkState s, bool replica_synced);
// Priority colour by score: red from 100 (fire, gas, a fall or SOS with any
// aggravation), orange from 70, amber from 40, grey below.
ImVec4 score_color(int score);
ImVec4 tier_color(CareTier tier);
ImVec4 worker_color(WorkerStatus status);
inline const ImVec4 kMutedText{0.60f, 0.63f, 0.68f, 1.0f};
inline const ImVec4 kGoodText{0.42f, 0.80f, 0.52f, 1.0f};
inline const ImVec4 kBadText{0.95f, 0.45f, 0.42f, 1.0f};
inline const ImVec4 kWarnText{0.95f, 0.75f, 0.35f, 1.0f};
inline const ImVec4 kAccent{0.36f, 0.58f, 0.88f, 1.0f};

// A rounded colour pill with a short label, e.g. the score in the queue.
void chip(const char* label, ImVec4 color, float min_width = 0);
// A section heading: muted text over a thin rule.
void heading(const char* text);
// In a table with one frozen header row: scrolls just enough to show the last item
// (a keyboard-selected row) whole, below the header.
void scroll_row_into_view();
// A button in the call-to-action colour; `key` (0: none) is shown on it.
bool action_button(const char* label, char key, bool enabled, ImVec4 color = ImVec4(0, 0, 0, 0),
                   float width = 0);
// A muted line saying how the last request for this incident went.
void request_status(const App& app, const Request* r);

// Wall-clock time at the centre (UTC+8) of a server timestamp.
std::tm centre_time(Millis ms);
std::string format_hms(Millis ms);           // 14:03:22
std::string format_hm(Millis ms);            // 14:03
std::string format_date_hms(Millis ms);      // 2024-05-01 14:03:22
std::string format_date(Millis ms);          // 2024-05-01
std::string format_waiting(Millis span_ms);  // 03:12, or 1:03:12 past an hour
// The same into a caller's buffer, for rows drawn every frame.
void format_waiting(char* out, size_t size, Millis span_ms);
std::string format_age(const App& app, Millis since_ms, Millis now);  // "5 分钟前"
std::string format_distance(double metres);                           // 850 m, 2.4 km

}  // namespace anxin::console
