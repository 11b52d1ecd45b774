// Commands: everything a view, a key or the autotest can ask for. A widget's
// `true` becomes one of these; App::execute() turns each into a protocol message
// (or, for the few local ones, a change of view or language). Views never send
// or mutate anything themselves, so a button, its key and a test script all take
// the same path.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "anxin/core/domain.hpp"
#include "anxin/core/protocol.hpp"
#include "i18n.hpp"
#include "visit_board.hpp"

namespace anxin::console {

enum class View { queue, incident, map, workers, dashboard, visits, history, team };
inline constexpr View kViews[] = {View::queue,   View::incident,  View::map,     View::workers,
                                  View::dashboard, View::visits, View::history, View::team};

// The dashboard's visits tab: its parts, one on screen at a time.
enum VisitsSection : int { overview, campaign, hazards, pairing, roster, kVisitsSections };

namespace cmd {
// to the server
struct Acknowledge { IncidentId incident = 0; };
struct Callback { IncidentId incident = 0; CallbackOutcome outcome = CallbackOutcome::fine; };
struct Candidates { IncidentId incident = 0; };
struct Dispatch {
  IncidentId incident = 0;
  std::optional<WorkerId> worker;  // empty: the best candidate(s)
  int responders = 1;
};
// For family calls, `contact` is where the cascade starts (a row on the card).
struct Call { IncidentId incident = 0; CallKind kind = CallKind::family; int contact = 0; };
struct CallResult { IncidentId incident = 0; std::int64_t task = 0; CallState result = CallState::answered; };
struct Note { IncidentId incident = 0; std::string text; };
struct Resolve { IncidentId incident = 0; Disposition disposition = Disposition::false_alarm; std::string note; };
struct ElderDetail { ElderId elder = 0; };
// the phone line, from my seat (docs/telephony.md)
struct Answer {};  // the call ringing at my seat; the answer opens its incident
struct Hangup {};  // my seat's call
// to: "elder", "doctor" or "worker" (then `worker`); 120, 119 and the family are Call.
struct Dial { IncidentId incident = 0; std::string to; WorkerId worker = 0; };
struct PlayRecording { std::string name; };  // fetched, written to a temp file, played
// an unknown caller's incident: find the elder it is about (name, phone, address or
// the ID number's last digits), then move the incident to them
struct FindElders { IncidentId incident = 0; std::string q; };
struct LinkCaller { IncidentId incident = 0; ElderId elder = 0; };
struct Metrics {};
// manual incidents and history (issue 14): open one by hand (the answer selects it),
// search resolved incidents, read one's whole record, reopen one with a reason
struct OpenIncident { ManualIncidentIn in; };
struct History { protocol::HistoryQuery query; };
struct IncidentRecord { IncidentId incident = 0; };
struct Reopen { IncidentId incident = 0; std::string reason; };
// the elder's care record (issue 14, item 6; app_record.cpp): reveal the entry code
// (audited; shown for 30 s), a supervisor's change (the answer reloads the record)
struct RevealEntry { ElderId elder = 0; IncidentId incident = 0; };
struct UpdateElderRecord {
  ElderId elder = 0;
  ElderRecordPatch patch;
  std::string photo_path;  // a picture file to send as the photo (read by App); empty: none
};
// the visiting programme (docs/visits.md)
struct PhoneVisits {};  // today's phone-visit list
struct PhoneVisitResult { ElderId elder = 0; bool reached = true; };  // one key: reached or no answer
struct VisitFigures {};  // the month's and week's visit_report, and the campaigns
// export_report for the month, saved in the export directory; report: rates, overdue, ...
struct ExportVisits { std::string report = "rates"; std::string format = "csv"; };
struct Pairing {};  // who has no visitor, who has too many elders (结对帮扶)
// supervisors only (the server refuses operators with E_FORBIDDEN)
struct StartCampaign { CampaignForm form; };
struct EndCampaign { std::int64_t campaign = 0; };
struct CloseHazard { std::int64_t hazard = 0; std::string note; };  // consoles may close any
// The console reads the file, base64-encodes it and sends import_roster; encoding utf-8 or gbk.
struct ImportRoster { std::string path; std::string encoding = "utf-8"; };
struct Login { std::string host; int port = 7600; std::string username, password; };
// With incidents in hand the console asks first (view_team.cpp); `force` signs out
// anyway, leaving them in my name (docs/protocol.md, "logout").
struct Logout { bool force = false; };
// presence and handover (issue 14, app_team.cpp): hand over to a colleague signed in
// (incidents empty: every one in my hands), answer or withdraw an offer; supervisors
// move an incident to someone signed in, or to themselves
struct Handover { std::string to; std::string notes; std::vector<IncidentId> incidents; };
struct HandoverAnswer { std::int64_t handover = 0; bool accept = false; };
struct HandoverCancel { std::int64_t handover = 0; };
struct Reassign { IncidentId incident = 0; std::string to; };
struct TakeOver { IncidentId incident = 0; };
// local
struct Select { IncidentId incident = 0; };
struct Show { View view = View::queue; };
struct SetLanguage { Lang lang = Lang::zh; };
struct SelectVisit { ElderId elder = 0; };  // a row of the phone-visit list, for the keys
// The visits tab's part on screen (VisitsSection), and the campaign form filled in
// (what typing into it does; the autotest fills it in one step).
struct ShowVisitsSection { int section = 0; };
struct FillCampaignForm { CampaignForm form; };
struct ExportDashboard { std::string path; };  // empty: ~/anxin-dashboard-YYYYMMDD-HHMM.csv
}  // namespace cmd

using Command = std::variant<cmd::Acknowledge, cmd::Callback, cmd::Candidates, cmd::Dispatch, cmd::Call,
                             cmd::CallResult, cmd::Note, cmd::Resolve, cmd::ElderDetail, cmd::Metrics, cmd::Answer,
                             cmd::Hangup, cmd::Dial, cmd::PlayRecording, cmd::FindElders, cmd::LinkCaller, cmd::Login,
                             cmd::Logout, cmd::Select, cmd::Show, cmd::SetLanguage, cmd::ExportDashboard,
                             cmd::PhoneVisits, cmd::PhoneVisitResult, cmd::VisitFigures, cmd::ExportVisits,
                             cmd::SelectVisit, cmd::Pairing, cmd::StartCampaign, cmd::EndCampaign,
                             cmd::CloseHazard, cmd::ImportRoster, cmd::ShowVisitsSection, cmd::FillCampaignForm,
                             cmd::OpenIncident, cmd::History, cmd::IncidentRecord, cmd::Reopen,
                             cmd::RevealEntry, cmd::UpdateElderRecord,
                             cmd::Handover, cmd::HandoverAnswer, cmd::HandoverCancel, cmd::Reassign, cmd::TakeOver>;

struct Commands {
  std::vector<Command> list;

  void push(Command c) { list.push_back(std::move(c)); }
  Commands& operator+=(Commands&& other) {
    for (auto& c : other.list) list.push_back(std::move(c));
    return *this;
  }
  bool empty() const { return list.empty(); }
};

}  // namespace anxin::console
