// App: the console's state on the UI thread. It owns the link to the server (once
// someone has signed in), the replica, the answers to this console's requests
// (candidates, elder details and searches, metrics, the visiting programme's
// lists and figures, each command's fate), the chime, the UI state, and this desk's seat on the phone line (claimed after each
// snapshot; the line's picture is the replica's). Views read it by const reference
// and hand back Commands; execute() is the only way anything changes, so a button,
// a key and the autotest take the same path.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chime.hpp"
#include "commands.hpp"
#include "i18n.hpp"
#include "line.hpp"
#include "net.hpp"
#include "replica.hpp"
#include "settings.hpp"
#include "ui_state.hpp"
#include "visit_board.hpp"

namespace anxin::console {

// What a request was for, so its answer can be shown where the operator acted.
enum class Action {
  acknowledge, callback, candidates, dispatch, call, call_result, note, resolve, elder, metrics, map,
  seat, dial, answer, hangup, recording,  // the phone line
  find_elders, link_caller,               // an unknown caller's incident
  phone_visits, phone_visit_result, visit_report, campaigns, export_report,  // the visiting programme
  pairing, start_campaign, end_campaign, close_hazard, import_roster,        // its supervisor's part
  open_incident, history, incident_record, reopen,                           // issue 14 (app_history.cpp)
  handover, handover_answer, handover_cancel, reassign, take_over,           // issue 14 (app_team.cpp)
  reveal_entry, update_record,                                               // the care record (app_record.cpp)
};

// One request this console sent, as far as it got.
struct Request {
  enum class Status { sending, ok, refused, no_reply, not_sent };
  std::string req;
  Action action = Action::acknowledge;
  IncidentId incident = 0;
  Status status = Status::sending;
  std::string error;  // "E_BAD_STATE: ..." when refused
  std::optional<ErrorCode> code;  // when refused
  Millis sent_ms = 0;
};

struct AppOptions {
  LinkOptions link;           // with a token: connect at once; without: the login screen
  std::string operator_name;  // from the tokens file; the server's welcome overrides it
  std::optional<Lang> lang;   // --lang; else the remembered one
  std::string settings_path;  // empty: remember nothing (tests, benchmarks)
  std::string seat;           // --seat, else the remembered one: the line's seat this desk claims
  bool offline = false;       // benchmark: no server; the replica is filled by load_offline()
  bool mute = false;
  std::string export_dir;     // --export-dir: where visit reports are saved; empty: the current directory
};

class App {
 public:
  App(AppOptions options, std::function<void()> wake);
  ~App();

  // Connects now if the options hold a token; otherwise the login screen waits.
  void start();
  // Applies everything the link received since the last frame, then does what is
  // due by the clock (candidate refreshes, reaping the chime).
  void pump();
  void execute(const Commands& commands);
  void load_offline(const protocol::Snapshot& snapshot);  // benchmark only

  UiState& ui() { return ui_; }
  const UiState& ui() const { return ui_; }
  const Replica& replica() const { return replica_; }

  // --- the connection and who is signed in
  // Past the login screen: welcomed once on this link (a reconnect stays signed
  // in), or connecting with a fixed token.
  bool signed_in() const {
    return options_.offline || (link_ && (welcomed_ || link_->options().username.empty()));
  }
  LinkState link_state() const;
  std::string link_error() const;
  // Connected and the replica follows the server: commands may be sent.
  bool live() const;
  const std::string& operator_name() const { return operator_name_; }
  const std::string& user_kind() const { return user_kind_; }  // "operator", "supervisor" or empty
  const std::optional<Error>& login_error() const { return login_error_; }
  bool login_pending() const { return link_ && !welcomed_ && !link_->options().username.empty(); }
  const Settings& settings() const { return settings_; }
  // The server given on the command line (or remembered): the login form's default.
  const LinkOptions& link_defaults() const { return options_.link; }

  // --- language and view
  Lang lang() const { return lang_; }
  const char* tr(Msg m) const { return console::tr(lang_, m); }
  template <class E>
  const char* tr(E value) const {
    return console::tr(lang_, value);
  }
  View view() const { return view_; }

  // --- the selected incident and what the server told us about it
  std::optional<IncidentId> selected() const { return selected_; }
  const protocol::CandidateList* candidates(IncidentId incident) const;
  bool candidates_pending(IncidentId incident) const;
  const protocol::ElderDetail* elder_detail(ElderId elder) const;
  bool elder_detail_supported() const { return elder_detail_supported_; }

  // --- requests
  const Request* last_request(IncidentId incident, Action action) const;
  const Request* latest_request(IncidentId incident) const;  // any action
  std::vector<IncidentId> acknowledged_by_me() const;

  // --- the district for the map (every home), once per sign-in; null until then
  const protocol::DistrictMap* district() const { return district_ ? &*district_ : nullptr; }

  // --- the supervisor's figures
  const std::optional<protocol::Metrics>& metrics() const { return metrics_; }
  Millis metrics_age_ms() const;  // large when never received
  bool metrics_pending() const;
  struct ExportResult {
    bool ok = false;
    std::string path;
  };
  const std::optional<ExportResult>& export_result() const { return export_result_; }

  // --- the visiting programme (docs/visits.md): the server's last answers. Lists and
  // figures are asked for again after a `visits_changed`, a result recorded here,
  // a reconnect, on opening their view, and once a minute (due turns late by the clock).
  const std::optional<VisitList>& phone_visits() const { return phone_visits_; }
  bool phone_visits_wanted() const;
  // The answer to the last phone_visit_result (the request's fate: last_request(0, ...)).
  const std::optional<VisitRecorded>& visit_recorded() const { return visit_recorded_; }
  const std::optional<VisitReport>& visit_report_month() const { return report_month_; }
  const std::optional<VisitReport>& visit_report_week() const { return report_week_; }
  const std::optional<CampaignList>& campaigns() const { return campaigns_; }
  bool visit_figures_wanted() const;
  struct VisitsExport {
    std::string req, report, format;
    bool done = false, ok = false;  // done: answered (or refused, or not sent)
    std::string path, error;
    int rows = 0;
  };
  const std::optional<VisitsExport>& visits_export() const { return visits_export_; }
  const std::optional<Pairing>& pairing() const { return pairing_; }
  // The answer to the last start_campaign or end_campaign (its fate: last_request(0, ...)).
  const std::optional<CampaignProgress>& campaign_changed() const { return campaign_changed_; }
  const std::optional<std::int64_t>& hazard_closed() const { return hazard_closed_; }
  // The last roster import, as far as it got: the file read here, then the server's
  // answer, or its refusal (every bad line, one per line of `error`).
  struct RosterImport {
    enum class Status { sending, imported, refused, unreadable };
    std::string req, path;
    Status status = Status::sending;
    size_t bytes = 0;
    RosterImported result;
    std::string error;  // refused: the server's message; unreadable: why
  };
  const std::optional<RosterImport>& roster_import() const { return roster_import_; }

  // --- the phone line (docs/telephony.md). No `line` frame: no SIP line, calls are
  // dialled by hand.
  const std::string& seat_name() const { return options_.seat; }  // empty: this desk has no seat
  const std::optional<protocol::LineState>& line() const { return replica_.line(); }
  const protocol::SeatView* my_seat() const;  // null: no line, no seat, or the line has no such seat
  const protocol::CallView* my_call() const;  // the call on my seat
  bool ringing() const;                       // a caller is waiting at any seat
  bool can_dial() const;                      // live, and my seat is up with no call on it
  // A recording asked for with PlayRecording, as far as it got; reset once played.
  struct Playback {
    enum class Status { fetching, playing, saved, failed };
    std::string name;
    Status status = Status::fetching;
    std::string path;  // the temp file, once written
  };
  const std::optional<Playback>& playback() const { return playback_; }
  // An unknown caller's incident: the answer to the last elder search made for it
  // (null: none yet, or the search was for another incident).
  const protocol::ElderList* found_elders(IncidentId incident) const {
    return found_elders_ && found_for_ == incident ? &*found_elders_ : nullptr;
  }

  // --- attention (app_attention.cpp, issue 14): every new incident, and every new
  // critical alert that joins an acknowledged one (the server's unseen_alert_ms),
  // announces itself: an entry in the banner, the flash and the chime. An entry stays
  // until its incident is acknowledged (marked seen, for a new alert), opened in the
  // workspace, or gone.
  struct Announcement {
    IncidentId incident = 0;
    bool realert = false;  // a new critical alert on an acknowledged incident
    Millis at_ms = 0;      // this machine's clock
  };
  const std::vector<Announcement>& announcements() const { return announcements_; }  // newest first
  int chimes() const { return chime_.requested(); }

  // --- manual incidents and history (app_history.cpp, issue 14): the last answers.
  // The elders found for the manual-incident form are found_elders(0).
  const std::optional<ManualOpened>& manual_opened() const { return manual_opened_; }
  const std::optional<protocol::HistoryPage>& history() const { return history_; }
  const std::optional<protocol::HistoryQuery>& history_query() const { return history_query_; }
  const std::optional<protocol::IncidentRecord>& record() const { return record_; }

  // --- the elder's care record (app_record.cpp, issue 14): the entry code the server
  // last revealed to this console, shown until `until_ms` (server clock, 30 s), and
  // whether this console's user may edit the record (the server decides; this only
  // hides the form from operators).
  struct RevealedEntry {
    ElderId elder = 0;
    std::string entry, code;
    Millis until_ms = 0;
  };
  const std::optional<RevealedEntry>& revealed_entry() const { return revealed_; }
  bool supervisor() const { return user_kind_ == "supervisor"; }
  static constexpr Millis kRevealShownMs = 30'000;

  // --- presence and handover (app_team.cpp, issue 14): the server's last `presence`
  // (who is signed in, the handovers offered and lately answered); what each holds is
  // the incidents' acknowledged_by. mine(): the open incidents in my hands, in queue
  // order. After a resolve from this console the workspace moves to the next of mine,
  // else to the top of the queue.
  const std::optional<protocol::Presence>& presence() const { return presence_; }
  const protocol::HandoverView* handover_to_me() const;   // offered to me, waiting for my answer
  const protocol::HandoverView* my_handover() const;      // offered by me, waiting for an answer
  std::vector<const Incident*> mine() const;
  bool is_supervisor() const { return user_kind_ == "supervisor"; }

  // --- the incident flashing for a few seconds: the last one announced
  std::optional<IncidentId> flashing() const;
  float flash_phase() const;  // 0..1, pulsing while flashing or ringing
  bool animating() const { return flashing().has_value() || ringing(); }

  // The server's disk is full: it refuses every change until space returns
  // (server_status, docs/protocol.md). Set after a snapshot when so; a new snapshot
  // with nothing after it means all is well.
  const std::optional<protocol::ServerStatus>& storage_full() const { return storage_full_; }

  // The server's clock, estimated from this machine's clock and the offset
  // measured at welcome and snapshot; waiting times are computed from it.
  Millis server_now_ms() const;

 private:
  void connect(LinkOptions link);
  void disconnect();
  void on_message(const protocol::ServerMessage& m);
  void on_reply(const std::string& req, const std::optional<Error>& error, std::int64_t id = 0);
  void on_line(const protocol::LineState& line);
  void on_recording(const protocol::Recording& recording);
  void on_visits(const std::string& req, const protocol::VisitsReply& reply);
  std::string send_visits(Action action, const std::string& frame_json);
  void save_export(const std::string& req, const ReportFile& file);
  void announce(IncidentId incident, bool realert);        // app_attention.cpp
  void attend_to(const protocol::DeltaMessage& d, Millis unseen_before);
  void prune_announcements();
  void refresh_selected(Millis now);
  std::string send(Action action, IncidentId incident, protocol::ClientBody body);
  void remember_settings();
  void run(const cmd::Select& c);
  void run(const cmd::Login& c);
  void run(const cmd::ExportDashboard& c);
  void run(const cmd::PlayRecording& c);
  void run(const cmd::ExportVisits& c);
  void run(const cmd::ImportRoster& c);
  // app_history.cpp: the issue-14 commands, and their answers (true: handled)
  void run_history(const Command& c);
  bool on_history_message(const protocol::ServerMessage& m);
  void on_history_reply(const Request& r, std::int64_t id);
  // app_team.cpp: presence, handover and the supervisor's hands (true: handled)
  void run_team(const Command& c);
  bool on_team_message(const protocol::ServerMessage& m);
  void on_team_reply(const Request& r, std::int64_t id);
  std::optional<protocol::Presence> presence_;
  // app_record.cpp: the care record's commands and answers (true: handled)
  void run_record(const Command& c);
  bool on_record_message(const protocol::ServerMessage& m);
  void on_record_reply(const Request& r, std::int64_t id);

  AppOptions options_;
  std::function<void()> wake_;
  std::unique_ptr<ConsoleLink> link_;
  bool welcomed_ = false;
  Replica replica_;
  UiState ui_;
  Settings settings_;
  Lang lang_ = Lang::zh;
  View view_ = View::queue;
  std::string operator_name_, user_kind_;
  std::optional<Error> login_error_;  // why the last login was refused
  std::optional<IncidentId> selected_;
  Millis clock_offset_ms_ = 0;
  int next_req_ = 1;

  std::map<std::string, Request> requests_;  // by req id
  std::deque<std::string> request_order_;    // oldest first, to bound the map
  std::map<std::pair<IncidentId, Action>, std::string> last_req_;
  std::map<IncidentId, std::string> latest_req_;

  std::optional<protocol::CandidateList> candidates_;  // for the selected incident
  std::uint64_t candidates_version_ = 0;               // the incident's version when asked
  Millis candidates_asked_ms_ = 0;
  std::map<ElderId, protocol::ElderDetail> elder_details_;
  bool elder_detail_supported_ = true;
  std::optional<protocol::DistrictMap> district_;
  bool district_asked_ = false;
  std::optional<protocol::Metrics> metrics_;
  Millis metrics_at_ms_ = 0;
  std::optional<ExportResult> export_result_;

  // the visiting programme; *_gen_ is visits_generation_ when last asked
  std::uint64_t visits_generation_ = 1;  // bumped by visits_changed, results, reconnects, opening a view
  std::optional<VisitList> phone_visits_;
  std::uint64_t phone_visits_gen_ = 0;
  Millis phone_visits_asked_ms_ = 0;  // this machine's clock
  std::optional<VisitRecorded> visit_recorded_;
  std::optional<VisitReport> report_month_, report_week_;
  std::optional<CampaignList> campaigns_;
  std::uint64_t figures_gen_ = 0;
  Millis figures_asked_ms_ = 0;
  std::optional<VisitsExport> visits_export_;
  std::optional<Pairing> pairing_;
  std::optional<CampaignProgress> campaign_changed_;
  std::optional<std::int64_t> hazard_closed_;
  std::optional<RosterImport> roster_import_;

  std::vector<Announcement> announcements_;
  IncidentId flash_incident_ = 0;
  Millis flash_until_ms_ = 0;  // this machine's clock
  Chime chime_;

  bool seat_claimed_ = false;         // on this connection
  std::vector<std::string> ringing_;  // the waiting calls' ids in the last `line` frame
  Millis ring_chimed_ms_ = 0;         // this machine's clock
  std::optional<Playback> playback_;
  SoundPlayer recordings_;
  std::optional<protocol::ServerStatus> storage_full_;
  std::optional<protocol::ElderList> found_elders_;  // the answer to find_req_
  IncidentId found_for_ = 0;
  std::string find_req_;  // the last search: an earlier one's late answer is dropped
  std::optional<ManualOpened> manual_opened_;
  std::optional<protocol::HistoryPage> history_;
  std::optional<protocol::HistoryQuery> history_query_;  // the last search sent
  std::string history_req_, record_req_;
  std::optional<protocol::IncidentRecord> record_;
  std::optional<RevealedEntry> revealed_;
  std::map<std::string, ElderId> record_reqs_;  // update_elder_record sent, by req: the elder to read again
};

}  // namespace anxin::console
