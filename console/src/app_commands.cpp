// App, the commands half: each Command becomes a protocol message (send), or,
// for the few local ones, a change of selection, view, language or a file.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iterator>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <type_traits>

#include "app.hpp"
#include "dashboard.hpp"
#include <nlohmann/json.hpp>

namespace anxin::console {
namespace proto = anxin::protocol;

namespace {
constexpr size_t kKeptRequests = 256;  // answers shown per incident; older ones are forgotten

Millis local_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
}  // namespace

// A visiting-programme message: its frame as JSON with "type" inside, as the server reads it.
std::string App::send_visits(Action action, const std::string& frame_json) {
  const auto frame = nlohmann::json::parse(frame_json);
  const std::string type = frame.at("type").get<std::string>();
  return send(action, 0, proto::VisitsCommand{type, frame_json, proto::visits_message(type).value_or(true)});
}

std::string App::send(Action action, IncidentId incident, proto::ClientBody body) {
  Request r;
  r.req = "c" + std::to_string(next_req_++);
  r.action = action;
  r.incident = incident;
  r.sent_ms = server_now_ms();
  if (!link_ || !link_->send({r.req, std::move(body)})) r.status = Request::Status::not_sent;
  last_req_[{incident, action}] = r.req;  // incident 0: the console's own (seat, answer, ...)
  // Background refreshes are not the operator's actions: they do not replace
  // the answer shown beside the buttons. Finding and linking an unknown caller's
  // elder show theirs in their own panel.
  const bool own_place = action == Action::candidates || action == Action::elder ||
                         action == Action::find_elders || action == Action::link_caller;
  if (incident && !own_place) latest_req_[incident] = r.req;
  request_order_.push_back(r.req);
  requests_[r.req] = std::move(r);
  while (request_order_.size() > kKeptRequests) {
    requests_.erase(request_order_.front());
    request_order_.pop_front();
  }
  return request_order_.back();
}

void App::execute(const Commands& commands) {
  for (const Command& command : commands.list) {
    std::visit(
        [&](const auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, cmd::Acknowledge>) {
            send(Action::acknowledge, c.incident, proto::AckIncident{c.incident});
          } else if constexpr (std::is_same_v<T, cmd::Callback>) {
            send(Action::callback, c.incident, proto::Callback{c.incident, c.outcome});
          } else if constexpr (std::is_same_v<T, cmd::Candidates>) {
            candidates_asked_ms_ = server_now_ms();
            candidates_version_ = replica_.incident_version(c.incident);
            send(Action::candidates, c.incident, proto::CandidatesQuery{c.incident, 0});
          } else if constexpr (std::is_same_v<T, cmd::Dispatch>) {
            send(Action::dispatch, c.incident, proto::Dispatch{c.incident, c.worker, c.responders});
          } else if constexpr (std::is_same_v<T, cmd::Call>) {
            send(Action::call, c.incident, proto::PlaceCall{c.incident, c.kind, c.contact});
          } else if constexpr (std::is_same_v<T, cmd::CallResult>) {
            send(Action::call_result, c.incident, proto::CallResult{c.task, c.result});
          } else if constexpr (std::is_same_v<T, cmd::Note>) {
            send(Action::note, c.incident, proto::AddNote{c.incident, c.text});
          } else if constexpr (std::is_same_v<T, cmd::Resolve>) {
            send(Action::resolve, c.incident, proto::ResolveIncident{c.incident, c.disposition, c.note});
          } else if constexpr (std::is_same_v<T, cmd::ElderDetail>) {
            send(Action::elder, 0, proto::ElderQuery{c.elder, true});
          } else if constexpr (std::is_same_v<T, cmd::Metrics>) {
            send(Action::metrics, 0, proto::MetricsQuery{});
          } else if constexpr (std::is_same_v<T, cmd::Answer>) {
            send(Action::answer, 0, proto::Answer{});
          } else if constexpr (std::is_same_v<T, cmd::Hangup>) {
            send(Action::hangup, 0, proto::Hangup{});
          } else if constexpr (std::is_same_v<T, cmd::Dial>) {
            send(Action::dial, c.incident, proto::Dial{c.incident, c.to, c.worker});
          } else if constexpr (std::is_same_v<T, cmd::FindElders>) {
            found_elders_.reset();
            found_for_ = c.incident;
            find_req_ = send(Action::find_elders, c.incident, proto::FindElders{c.q});
          } else if constexpr (std::is_same_v<T, cmd::LinkCaller>) {
            send(Action::link_caller, c.incident, proto::LinkCaller{c.incident, c.elder});
          } else if constexpr (std::is_same_v<T, cmd::PlayRecording>) {
            run(c);
          } else if constexpr (std::is_same_v<T, cmd::Login>) {
            run(c);
          } else if constexpr (std::is_same_v<T, cmd::Logout>) {
            // With incidents in my hands: ask first (view_team.cpp), unless told to go anyway.
            if (!c.force && link_ && !mine().empty()) {
              ui_.team.logout_ask = true;
              return;
            }
            if (link_) link_->send({"logout", proto::Logout{c.force}});
            disconnect();
            operator_name_.clear();
            user_kind_.clear();
            presence_.reset();
          } else if constexpr (std::is_same_v<T, cmd::Select>) {
            run(c);
          } else if constexpr (std::is_same_v<T, cmd::Show>) {
            if (view_ != c.view && (c.view == View::visits || c.view == View::dashboard)) ++visits_generation_;
            view_ = c.view;
          } else if constexpr (std::is_same_v<T, cmd::SetLanguage>) {
            lang_ = c.lang;
            remember_settings();
          } else if constexpr (std::is_same_v<T, cmd::ExportDashboard>) {
            run(c);
          } else if constexpr (std::is_same_v<T, cmd::PhoneVisits>) {
            phone_visits_gen_ = visits_generation_;
            phone_visits_asked_ms_ = local_now_ms();
            send_visits(Action::phone_visits, R"({"type":"phone_visits"})");
          } else if constexpr (std::is_same_v<T, cmd::PhoneVisitResult>) {
            nlohmann::json f = {{"type", "phone_visit_result"},
                                {"elder_id", c.elder},
                                {"outcome", c.reached ? "reached" : "no_answer"}};
            send_visits(Action::phone_visit_result, f.dump());
          } else if constexpr (std::is_same_v<T, cmd::VisitFigures>) {
            figures_gen_ = visits_generation_;
            figures_asked_ms_ = local_now_ms();
            send_visits(Action::visit_report, R"({"type":"visit_report","period":"month"})");
            send_visits(Action::visit_report, R"({"type":"visit_report","period":"week"})");
            send_visits(Action::campaigns, R"({"type":"campaigns"})");
            send_visits(Action::pairing, R"({"type":"pairing"})");
          } else if constexpr (std::is_same_v<T, cmd::ExportVisits>) {
            run(c);
          } else if constexpr (std::is_same_v<T, cmd::Pairing>) {
            send_visits(Action::pairing, R"({"type":"pairing"})");
          } else if constexpr (std::is_same_v<T, cmd::StartCampaign>) {
            campaign_changed_.reset();
            send_visits(Action::start_campaign, start_campaign_frame(c.form));
          } else if constexpr (std::is_same_v<T, cmd::EndCampaign>) {
            campaign_changed_.reset();
            send_visits(Action::end_campaign, nlohmann::json{{"type", "end_campaign"}, {"campaign_id", c.campaign}}.dump());
          } else if constexpr (std::is_same_v<T, cmd::CloseHazard>) {
            hazard_closed_.reset();
            send_visits(Action::close_hazard,
                        nlohmann::json{{"type", "close_hazard"}, {"hazard_id", c.hazard}, {"note", c.note}}.dump());
            if (ui_.closing_hazard == c.hazard) ui_.closing_hazard = 0, ui_.hazard_note.fill(0);
          } else if constexpr (std::is_same_v<T, cmd::ImportRoster>) {
            run(c);
          } else if constexpr (std::is_same_v<T, cmd::ShowVisitsSection>) {
            ui_.visits_section_pick = c.section;
          } else if constexpr (std::is_same_v<T, cmd::FillCampaignForm>) {
            fill_campaign_edit(ui_.campaign, c.form);
          } else if constexpr (std::is_same_v<T, cmd::SelectVisit>) {
            ui_.visit_row = c.elder;
            ui_.scroll_to_visit_row = true;
          } else if constexpr (std::is_same_v<T, cmd::OpenIncident> || std::is_same_v<T, cmd::History> ||
                               std::is_same_v<T, cmd::IncidentRecord> || std::is_same_v<T, cmd::Reopen>) {
            run_history(command);  // app_history.cpp
          } else if constexpr (std::is_same_v<T, cmd::Handover> || std::is_same_v<T, cmd::HandoverAnswer> ||
                               std::is_same_v<T, cmd::HandoverCancel> || std::is_same_v<T, cmd::Reassign> ||
                               std::is_same_v<T, cmd::TakeOver>) {
            run_team(command);  // app_team.cpp
          } else if constexpr (std::is_same_v<T, cmd::RevealEntry> || std::is_same_v<T, cmd::UpdateElderRecord>) {
            run_record(command);  // app_record.cpp
          }
        },
        command);
  }
}

void App::run(const cmd::Select& c) {
  if (selected_ == c.incident) return;
  selected_ = c.incident;
  candidates_.reset();
  candidates_version_ = 0;
  candidates_asked_ms_ = 0;
  ui_.resolve_open = false;
  ui_.team.resolve_confirm = false;
  ui_.callback_open = false;
  ui_.disposition = -1;
  ui_.scroll_to_selected = true;
  found_elders_.reset();
  ui_.link_search.fill(0);
  ui_.link_highlight = -1;
  if (live()) refresh_selected(server_now_ms());
}

void App::run(const cmd::Login& c) {
  settings_.host = c.host;
  settings_.port = c.port;
  settings_.username = c.username;
  remember_settings();
  LinkOptions link;
  link.host = c.host;
  link.port = c.port;
  link.username = c.username;
  link.password = c.password;
  connect(std::move(link));
}

void App::run(const cmd::ExportDashboard& c) {
  std::string path = c.path;
  if (path.empty()) {
    const char* home = std::getenv("HOME");
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);  // the supervisor's own clock names their files
    char name[64];
    std::strftime(name, sizeof name, "anxin-dashboard-%Y%m%d-%H%M.csv", &tm);
    path = std::string(home && *home ? home : ".") + "/" + name;
  }
  const Millis now = server_now_ms();
  std::optional<MetricsSummary> summary;
  if (metrics_) summary = metrics_->summary;
  std::ofstream f(path, std::ios::trunc);
  f << dashboard_csv(dashboard_figures(replica_, summary, now));
  f.close();
  export_result_ = ExportResult{static_cast<bool>(f), path};
  std::fprintf(stderr, "anxin-console: dashboard %s %s\n", f ? "exported to" : "could not be written to",
               path.c_str());
}

void App::run(const cmd::ExportVisits& c) {
  nlohmann::json f = {{"type", "export_report"}, {"report", c.report}, {"format", c.format}, {"period", "month"}};
  VisitsExport e;
  e.report = c.report, e.format = c.format;
  e.req = send_visits(Action::export_report, f.dump());
  if (const Request* r = last_request(0, Action::export_report); r && r->status == Request::Status::not_sent)
    e.done = true, e.error = "not sent";
  visits_export_ = std::move(e);
}

// The file is read here, whole: the server takes it or refuses it whole.
void App::run(const cmd::ImportRoster& c) {
  ui_.roster_path.fill(0);  // the row shows what was imported (the autotest's too)
  c.path.copy(ui_.roster_path.data(), ui_.roster_path.size() - 1);
  ui_.roster_encoding = c.encoding == "gbk" ? 1 : 0;
  RosterImport r;
  r.path = c.path;
  std::ifstream in(c.path, std::ios::binary);
  std::string bytes;
  if (in) bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  r.bytes = bytes.size();
  if (c.path.empty() || !in || in.bad()) {
    r.status = RosterImport::Status::unreadable;
    r.error = c.path.empty() ? "no file named" : std::strerror(errno);
  } else if (bytes.size() > kMaxRosterFileBytes) {
    r.status = RosterImport::Status::unreadable;
    r.error = "too big";
  } else {
    r.req = send_visits(Action::import_roster, import_roster_frame(bytes, c.encoding));
    if (const Request* q = last_request(0, Action::import_roster); q && q->status == Request::Status::not_sent)
      r.status = RosterImport::Status::unreadable, r.error = "not sent";
  }
  roster_import_ = std::move(r);
}

void App::run(const cmd::PlayRecording& c) {
  recordings_.stop();  // a second press starts it again
  playback_ = Playback{c.name, Playback::Status::fetching, ""};
  send(Action::recording, 0, proto::RecordingQuery{c.name});
}

void App::remember_settings() {
  settings_.lang = lang_;
  if (!options_.settings_path.empty() && !save_settings(options_.settings_path, settings_))
    std::fprintf(stderr, "anxin-console: cannot write %s\n", options_.settings_path.c_str());
}

}  // namespace anxin::console
