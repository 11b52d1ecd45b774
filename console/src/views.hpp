// The console's views, one file each (view_*.cpp), and what they share: colours
// and time formats. A view reads the App, draws with ImGui and returns the
// Commands its widgets produced; it changes nothing itself.
#pragma once

#include <imgui.h>

#include <string>

#include "app.hpp"

namespace anxin::console {

// The whole frame: status bar on top, queue on the left, incident on the right.
Commands draw_console(const App& app);

Commands draw_status(const App& app);    // view_status.cpp: top bar and connection banner
Commands draw_queue(const App& app);     // view_queue.cpp: the live incident queue
Commands draw_incident(const App& app);  // view_incident.cpp: the selected incident

// --- shared look ------------------------------------------------------------------

void apply_theme();
ImVec4 severity_color(Severity s);
ImVec4 state_color(LinkState s, bool replica_synced);
inline const ImVec4 kMutedText{0.60f, 0.63f, 0.68f, 1.0f};
inline const ImVec4 kGoodText{0.42f, 0.80f, 0.52f, 1.0f};
inline const ImVec4 kBadText{0.95f, 0.45f, 0.42f, 1.0f};
inline const ImVec4 kWarnText{0.95f, 0.75f, 0.35f, 1.0f};

// A rounded colour pill with a short label, e.g. the severity in the queue.
void chip(const char* label, ImVec4 color, float min_width = 0);

// Local wall-clock time of a server timestamp.
std::string format_hms(Millis ms);         // 14:03:22
std::string format_date_hms(Millis ms);    // 2024-05-01 14:03:22
std::string format_waiting(Millis span_ms);  // 03:12, or 1:03:12 past an hour

}  // namespace anxin::console
