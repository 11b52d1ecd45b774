// Autotest: drives the real console like an operator would, for tests under
// xvfb-run. A script (--autotest-script FILE, one step a line) selects, presses
// keys, issues commands (as Commands through App::execute, the path the widgets
// take), switches views, waits for the replicated state to reach a condition
// (checked against the same JSON the `dump` step writes), and saves screenshots,
// state dumps and the dashboard CSV. Steps:
//
//   login USER PASSWORD        sign in through the login screen's path
//   wait-sync [N]              live, with at least N incidents
//   select-top | select ID     the queue's first incident, or one by id
//   view queue|incident|map|workers|dashboard|visits      lang zh|en
//   key K                      press a key, through ImGui's real input (io.KeysDown): a
//                              letter A-Z, a digit 0-9, Enter KeypadEnter Escape Tab Space
//                              Backspace Up Down Left Right / - + = F1-F9, or Ctrl+K
//                              (e.g. Ctrl+F); /banner, /chimes, /pickers, /map,
//                              /typing (a text field has the keys) in the dump show what keys did
//   type TEXT                  type into the text field that has focus, once one has
//                              (after e.g. key N or key L); it replaces a selection
//   acknowledge | callback OUTCOME | dispatch-best | dispatch-two | dispatch WORKER
//   call KIND | call-result RESULT (the first pending call) | note TEXT
//   dial elder|doctor|worker ID (from my seat on the phone line)
//   play-recording             ▶ on the selected incident's last recorded call; waits
//                              until it plays or is saved (no sound device)
//   resolve DISPOSITION [NOTE]  (each command step waits for the server's answer;
//                               a refusal fails the test)
//   wait-state POINTER OP VALUE  e.g. /selected_incident/state == acknowledged;
//                               OP is == != >= <=; an array compares its size.
//                               The phone line: /my_seat/state, /ringing/0/elder_name,
//                               /line/calls, /selected_incident/phone; an unknown
//                               caller: /selected_incident/unknown_caller,
//                               /found_elders/elders/0/name, /link_caller/status;
//                               the server's disk full: /storage_full (since, or null)
//   select-visit ELDER         a row of the phone-visit list (then key R or key N)
//   export-visits REPORT FORMAT  e.g. rates xlsx: the visits tab's export; waits for the
//                               file (in --export-dir); the visits' state is under
//                               /phone_visits, /visit_recorded, /visit_report/month,
//                               /campaigns, /visits_export, /dashboard_tab; the workers board: /workers_row
//   visits-section overview|campaign|hazards|pairing|roster   the visits tab's part on screen
//   start-campaign NAME [reason=R] [tiers=a,b] [towns=a,b] [living=a,b] [first=D] [last=D] [hour=N]
//                               fills the campaign form and sends it, as its button does
//   end-campaign NAME | close-hazard ID|first NOTE   (each waits for the answer;
//                               a refusal fails the test)
//   import-roster utf-8|gbk PATH  the roster row: the file is read, sent, and the
//                               answer waited for, imported or refused: see
//                               /roster_import/status and /roster_import/error
//                               (also /open_hazards, /pairing, /start_campaign,
//                               /close_hazard, /campaign_changed, /visits_section)
//   wait-file PATH             waits until the file exists (the test writes it once it
//                              has checked the server, so a script can go step by step)
//   open-incident ELDER|unknown[:PHONE] KIND SOURCE [TEXT] | history-search [elder=T] [from=MS]
//                               [to=MS] [kind=K] [by=NAME] [disposition=D] | record ID | reopen ID REASON
//                               (autotest_history.cpp: manual incidents and history; state under
//                               /manual_opened, /open_incident, /manual_form, /history, /record, /reopen)
//   reveal-entry | update-record K=V ...  (autotest_record.cpp: the care record; state under
//                               /elder_detail/record, /revealed, /reveal_entry, /update_record,
//                               /readings, /candidates/N/reasons and connected, /workers/N/phone)
//   handover USER [NOTES] | accept-handover | decline-handover | cancel-handover |
//   reassign ID USER | take-over ID | logout [force]
//                               (autotest_team.cpp: presence and handover; state under
//                               /presence, /handover, /my_handover, /mine, /logout_ask,
//                               /resolve_confirm, /handover_request, /reassign, /take_over)
//   screenshot PATH | dump PATH | export PATH | sleep MS | frames N
//
// The old flags (--autotest-incidents N [--autotest-ack]) are a built-in script.
// Exit codes: 0 done, 3 a step failed or timed out (with a dump and screenshot
// of what it saw, when paths were given), 1 an artifact could not be written.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app.hpp"

struct ImGuiIO;

namespace anxin::console {

struct AutotestOptions {
  std::string script;      // path; empty: the built-in script, if incidents >= 0
  int incidents = -1;      // the old flags
  bool acknowledge = false;
  int timeout_ms = 20000;  // for the whole script
  std::string screenshot;  // written at the end (and on failure)
  std::string dump_state;
};

// The replicated state as JSON: what the tests check and wait-state reads.
nlohmann::json state_dump(const App& app);
// A request as the dump shows it: its status (sending, ok, refused, no_reply,
// not_sent) and error, or null when there is none.
const char* request_status(const Request& r);
nlohmann::json request_json(const Request* r);

class Autotest {
 public:
  explicit Autotest(AutotestOptions options);
  bool enabled() const { return enabled_; }
  const std::string& error() const { return error_; }

  // Before drawing: what the "operator" does this frame, then the keys to hold down
  // and the text to type (before ImGui::NewFrame).
  Commands act(const App& app);
  void press_keys(ImGuiIO& io);
  // After rendering, before the buffer swap: an exit code once finished.
  std::optional<int> after_render(const App& app, int framebuffer_w, int framebuffer_h);
  // True while it needs the next frame at once rather than on the next event.
  bool busy() const { return enabled_; }

 private:
  struct Step {
    std::string op, arg;
    int line = 0;
  };
  bool load(const std::string& path);
  void next() { ++step_, waiting_ = false, frames_ = 0; }
  bool fail(const std::string& why);
  bool command_step(const App& app, const Step& s, Commands& out);
  bool visits_step(const App& app, const Step& s, Commands& out);
  bool history_step(const App& app, const Step& s, Commands& out);  // autotest_history.cpp
  bool team_step(const App& app, const Step& s, Commands& out);     // autotest_team.cpp
  bool record_step(const App& app, const Step& s, Commands& out);   // autotest_record.cpp
  bool state_holds(const App& app, const std::string& condition, std::string& seen) const;
  bool write_screenshot(const std::string& path, int w, int h) const;
  bool write_dump(const App& app, const std::string& path) const;

  AutotestOptions options_;
  bool enabled_ = false;
  std::vector<Step> steps_;
  size_t step_ = 0;
  bool waiting_ = false;  // the current step has acted and waits for its outcome
  int frames_ = 0;        // frames spent on the current step
  IncidentId target_ = 0;
  Action action_ = Action::acknowledge;
  std::vector<int> keys_;  // to press on the next frame
  std::vector<int> held_;  // pressed last frame, to release
  bool ctrl_ = false;      // the key to press is a Ctrl+ combination
  std::string text_;       // to type on the next frame
  std::chrono::steady_clock::time_point deadline_, sleep_until_;
  std::string error_;
  bool failed_ = false;
};

}  // namespace anxin::console
