// App, the receiving half: the link's messages into the replica and the answers
// to this console's requests; what views read. Commands are in app_commands.cpp.
#include "app.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <type_traits>

namespace anxin::console {
namespace proto = anxin::protocol;

namespace {

constexpr Millis kCandidatesRefreshMs = 10'000;    // workers move; re-ask while an incident is open on screen
constexpr Millis kCandidatesMinGapMs = 1'000;      // but not more than once a second on a busy incident
constexpr Millis kRingRepeatMs = 8'000;            // the chime again while a caller still waits
constexpr Millis kVisitsRefreshMs = 60'000;        // lists go late by the clock, with no visits_changed

Millis local_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The server names a console principal "operator:王芳"; people only need the name.
std::string after_colon(const std::string& subject) {
  auto colon = subject.find(':');
  return colon == std::string::npos ? subject : subject.substr(colon + 1);
}
std::string before_colon(const std::string& subject) {
  auto colon = subject.find(':');
  return colon == std::string::npos ? "" : subject.substr(0, colon);
}

}  // namespace

App::App(AppOptions options, std::function<void()> wake)
    : options_(std::move(options)),
      wake_(std::move(wake)),
      chime_(!options_.mute && !options_.offline),
      recordings_(!options_.offline) {
  if (!options_.settings_path.empty()) settings_ = load_settings(options_.settings_path);
  lang_ = options_.lang.value_or(settings_.lang);
  operator_name_ = options_.operator_name;
  // The seat belongs to the desk: a --seat is remembered for the next start.
  if (!options_.settings_path.empty() && options_.seat != settings_.seat) {
    settings_.seat = options_.seat;
    if (!save_settings(options_.settings_path, settings_))
      std::fprintf(stderr, "anxin-console: cannot write %s\n", options_.settings_path.c_str());
  }
}

App::~App() = default;

void App::start() {
  if (!options_.link.token.empty()) connect(options_.link);
}

void App::connect(LinkOptions link) {
  link_.reset();
  welcomed_ = false;
  login_error_.reset();
  link_ = std::make_unique<ConsoleLink>(std::move(link), wake_);
  link_->start();
}

void App::disconnect() {
  link_.reset();  // stops the network thread
  welcomed_ = false;
  seat_claimed_ = false;
  district_asked_ = false;  // the next sign-in may be to another centre
  replica_.lose_sync();
  for (auto& [req, r] : requests_)
    if (r.status == Request::Status::sending) r.status = Request::Status::no_reply;
}

LinkState App::link_state() const {
  if (options_.offline) return LinkState::synced;
  return link_ ? link_->state() : LinkState::disconnected;
}

std::string App::link_error() const { return link_ ? link_->last_error() : ""; }

bool App::live() const {
  if (options_.offline) return replica_.synced();
  return link_ && link_->state() == LinkState::synced && replica_.synced();
}

// --- receiving --------------------------------------------------------------------------

void App::pump() {
  if (link_) {
    for (auto& event : link_->take()) {
      if (const auto* m = std::get_if<proto::ServerMessage>(&event)) {
        on_message(*m);
        if (!link_) break;  // a refused login ended the link
      } else {
        // Keep showing what we had, marked stale; the next snapshot replaces it.
        replica_.lose_sync();
        seat_claimed_ = false;  // a new connection is a new session: claim again
        for (auto& [req, r] : requests_)
          if (r.status == Request::Status::sending) r.status = Request::Status::no_reply;
      }
    }
  }
  if (live()) refresh_selected(server_now_ms());
  prune_announcements();
  if (ringing() && local_now_ms() - ring_chimed_ms_ >= kRingRepeatMs) {
    chime_.play();
    ring_chimed_ms_ = local_now_ms();
  }
  chime_.reap();
  recordings_.reap();
  if (playback_ && playback_->status == Playback::Status::playing && !recordings_.playing()) playback_.reset();
}

void App::on_message(const proto::ServerMessage& m) {
  if (on_history_message(m)) return;  // app_history.cpp
  if (on_team_message(m)) return;     // app_team.cpp
  if (on_record_message(m)) return;   // app_record.cpp
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, proto::Welcome>) {
          welcomed_ = true;
          clock_offset_ms_ = b.server_time_ms - local_now_ms();
          operator_name_ = b.user.name.empty() ? after_colon(b.subject) : b.user.name;
          user_kind_ = b.user.kind.empty() ? before_colon(b.subject) : b.user.kind;
        } else if constexpr (std::is_same_v<T, proto::Snapshot>) {
          clock_offset_ms_ = b.server_time_ms - local_now_ms();
          replica_.apply(b);
          storage_full_.reset();  // a server_status follows while the disk is still full
          candidates_version_ = 0;  // ask again: the world may have moved while we were away
          ++visits_generation_;     // and the visit lists with it
          // The district's homes change with the registry, not the night: once.
          if (!district_asked_) {
            district_asked_ = true;
            send(Action::map, 0, proto::MapQuery{});
          }
          // The seat is claimed per session, so once on every connection.
          if (!options_.seat.empty() && !seat_claimed_) {
            seat_claimed_ = true;
            send(Action::seat, 0, proto::ClaimSeat{options_.seat});
          }
        } else if constexpr (std::is_same_v<T, proto::DeltaMessage>) {
          const Incident* before = replica_.incident(b.incident.id);
          const Millis unseen_before = before ? before->unseen_alert_ms : 0;
          const auto applied = replica_.apply(b);
          if (applied == Replica::Applied::resync) {
            std::fprintf(stderr, "anxin-console: delta %llu out of sequence after %llu; resubscribing\n",
                         static_cast<unsigned long long>(b.seq), static_cast<unsigned long long>(replica_.seq()));
            link_->subscribe();
          } else if (applied == Replica::Applied::changed) {
            attend_to(b, unseen_before);  // app_attention.cpp
          }
        } else if constexpr (std::is_same_v<T, proto::CandidateList>) {
          if (selected_ == b.incident) candidates_ = b;
          on_reply(m.req, std::nullopt);
        } else if constexpr (std::is_same_v<T, proto::ElderDetail>) {
          elder_details_[b.card.id] = b;
          replica_.remember(b.card);
          on_reply(m.req, std::nullopt);
        } else if constexpr (std::is_same_v<T, proto::DistrictMap>) {
          district_ = b;
          on_reply(m.req, std::nullopt);
        } else if constexpr (std::is_same_v<T, proto::Metrics>) {
          metrics_ = b;
          metrics_at_ms_ = local_now_ms();
          on_reply(m.req, std::nullopt);
        } else if constexpr (std::is_same_v<T, proto::ElderList>) {
          if (m.req == find_req_) found_elders_ = b;
          on_reply(m.req, std::nullopt);
        } else if constexpr (std::is_same_v<T, proto::ServerStatus>) {
          if (b.storage_full) storage_full_ = b;
          else storage_full_.reset();
        } else if constexpr (std::is_same_v<T, proto::LineState>) {
          on_line(b);
        } else if constexpr (std::is_same_v<T, proto::Recording>) {
          on_recording(b);
          on_reply(m.req, std::nullopt);
        } else if constexpr (std::is_same_v<T, proto::VisitsReply>) {
          on_visits(m.req, b);
        } else if constexpr (std::is_same_v<T, proto::Ok>) {
          on_reply(m.req, std::nullopt, b.id);
        } else if constexpr (std::is_same_v<T, proto::ErrorReply>) {
          // A refused login, or a session that expired: back to the login screen.
          // (A fixed --token keeps retrying, its error in the banner.)
          const bool login_mode = link_ && !link_->options().username.empty();
          if (login_mode && (m.req == kLoginReq ||
                             (m.req == kHelloReq && b.error.code == ErrorCode::auth_failed))) {
            login_error_ = b.error;
            disconnect();
            return;
          }
          on_reply(m.req, b.error);
        }
        // Ack (device side), Pong, Task and TaskList are not for consoles.
      },
      m.body);
}

void App::on_reply(const std::string& req, const std::optional<Error>& error, std::int64_t id) {
  auto it = requests_.find(req);
  if (it == requests_.end()) return;
  Request& r = it->second;
  if (error) {
    r.status = Request::Status::refused;
    r.error = std::string(code_name(error->code)) + ": " + error->message;
    r.code = error->code;
    // A server without the `elder` message: show what the replica has, stop asking.
    if (r.action == Action::elder && (error->code == ErrorCode::unknown_type || error->code == ErrorCode::forbidden))
      elder_detail_supported_ = false;
    if (r.action == Action::recording && playback_) playback_->status = Playback::Status::failed;
    if (r.action == Action::export_report && visits_export_ && visits_export_->req == req) {
      visits_export_->done = true;
      visits_export_->error = r.error;
    }
    if (r.action == Action::import_roster && roster_import_ && roster_import_->req == req) {
      roster_import_->status = RosterImport::Status::refused;
      roster_import_->error = error->message;  // every bad line, one per line
    }
  } else {
    r.status = Request::Status::ok;
    on_history_reply(r, id);  // app_history.cpp
    on_team_reply(r, id);     // app_team.cpp
    on_record_reply(r, id);   // app_record.cpp
    // The caller's incident opens in the workspace as the operator picks up.
    if (r.action == Action::answer && id) {
      run(cmd::Select{id});
      view_ = View::incident;
    }
  }
}

// The visiting programme's answers and notices (docs/visits.md).
void App::on_visits(const std::string& req, const proto::VisitsReply& reply) {
  std::string error;
  VisitsAnswer a = read_visits_reply(reply.json, &error);
  if (std::holds_alternative<VisitsChanged>(a)) {
    ++visits_generation_;  // the lists on screen are out of date: ask again
    return;
  }
  if (auto* l = std::get_if<VisitList>(&a)) {
    if (l->list == "phone") phone_visits_ = std::move(*l);
  } else if (auto* r = std::get_if<VisitRecorded>(&a)) {
    visit_recorded_ = *r;
    if (phone_visits_)
      for (const VisitItem& v : phone_visits_->visits)
        if (v.elder == r->elder) visit_recorded_->name = v.name;
    ++visits_generation_;  // the row's tries and state changed
  } else if (auto* rep = std::get_if<VisitReport>(&a)) {
    (rep->period == "week" ? report_week_ : report_month_) = std::move(*rep);
  } else if (auto* c = std::get_if<CampaignList>(&a)) {
    campaigns_ = std::move(*c);
  } else if (auto* f = std::get_if<ReportFile>(&a)) {
    save_export(req, *f);
  } else if (auto* p = std::get_if<Pairing>(&a)) {
    pairing_ = std::move(*p);
  } else if (auto* cc = std::get_if<CampaignChanged>(&a)) {
    campaign_changed_ = std::move(cc->campaign);
    ++visits_generation_;  // the campaigns' list and the phone list change with it
  } else if (auto* h = std::get_if<HazardClosed>(&a)) {
    hazard_closed_ = h->id;
    ++visits_generation_;
  } else if (auto* ri = std::get_if<RosterImported>(&a)) {
    if (roster_import_ && roster_import_->req == req) {
      roster_import_->status = RosterImport::Status::imported;
      roster_import_->result = std::move(*ri);
    }
    ++visits_generation_;  // new elders, new towns, new plans
  } else if (!error.empty()) {
    std::fprintf(stderr, "anxin-console: unreadable visits reply: %s\n", error.c_str());
  }
  on_reply(req, std::nullopt);
}

// An exported report, decoded, into the export directory under the server's name for it.
void App::save_export(const std::string& req, const ReportFile& file) {
  if (!visits_export_ || visits_export_->req != req) return;  // a late answer to an earlier press
  namespace fs = std::filesystem;
  const fs::path dir = options_.export_dir.empty() ? fs::path(".") : fs::path(options_.export_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path path = fs::absolute(dir / safe_file_name(file.name), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(file.content.data(), static_cast<std::streamsize>(file.content.size()));
  out.close();
  VisitsExport& e = *visits_export_;
  e.done = true;
  e.ok = static_cast<bool>(out);
  e.path = path.string();
  e.rows = file.rows;
  if (!e.ok) e.error = "cannot write " + e.path;
  std::fprintf(stderr, "anxin-console: %s %s %s\n", file.report.c_str(),
               e.ok ? "report saved to" : "report could not be written to", e.path.c_str());
}

bool App::phone_visits_wanted() const {
  if (!live()) return false;
  const Request* r = last_request(0, Action::phone_visits);
  if (r && r->status == Request::Status::sending) return false;
  return phone_visits_gen_ != visits_generation_ || local_now_ms() - phone_visits_asked_ms_ >= kVisitsRefreshMs;
}

bool App::visit_figures_wanted() const {
  if (!live()) return false;
  for (Action a : {Action::visit_report, Action::campaigns, Action::pairing})
    if (const Request* r = last_request(0, a); r && r->status == Request::Status::sending) return false;
  return figures_gen_ != visits_generation_ || local_now_ms() - figures_asked_ms_ >= kVisitsRefreshMs;
}

// A new caller chimes at once (and again every few seconds in pump() while waiting).
void App::on_line(const proto::LineState& line) {
  replica_.apply(line);
  std::vector<std::string> waiting;
  bool fresh = false;
  for (const proto::CallView* c : waiting_calls(line)) {
    waiting.push_back(c->id);
    fresh |= std::find(ringing_.begin(), ringing_.end(), c->id) == ringing_.end();
  }
  ringing_ = std::move(waiting);
  if (fresh) {
    chime_.play();
    ring_chimed_ms_ = local_now_ms();
  }
}

// The recording asked for last: into a private temp file, then to the speaker, or,
// with no sound device, left there for the operator to open.
void App::on_recording(const proto::Recording& recording) {
  if (!playback_ || playback_->name != recording.name) return;  // a late answer to an earlier press
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = fs::temp_directory_path(ec) / ("anxin-recordings-" + std::to_string(getuid()));
  fs::create_directories(dir, ec);
  fs::permissions(dir, fs::perms::owner_all, ec);  // the centre's calls, not the machine's
  std::string file = recording.name;
  std::replace(file.begin(), file.end(), '/', '-');
  const std::string path = (dir / file).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(recording.wav.data(), static_cast<std::streamsize>(recording.wav.size()));
  out.close();
  if (!out) {
    playback_->status = Playback::Status::failed;
    return;
  }
  playback_->path = path;
  recordings_.stop();
  playback_->status = recordings_.play(path) ? Playback::Status::playing : Playback::Status::saved;
}

// Keeps what the workspace shows of the selected incident fresh: the candidate
// list after the incident changed (an offer declined, a responder accepted) and
// every few seconds as workers move; the elder's detail once.
void App::refresh_selected(Millis now) {
  if (!selected_) return;
  const Incident* i = replica_.incident(*selected_);
  if (!i) return;
  const std::uint64_t v = replica_.incident_version(i->id);
  const bool changed = v != candidates_version_;
  const Millis since = now - candidates_asked_ms_;
  const Request* pending = last_request(i->id, Action::candidates);
  const bool in_flight = pending && pending->status == Request::Status::sending;
  if (!in_flight && ((changed && since >= kCandidatesMinGapMs) || since >= kCandidatesRefreshMs)) {
    candidates_version_ = v;
    candidates_asked_ms_ = now;
    send(Action::candidates, i->id, proto::CandidatesQuery{i->id, 0});
  }
  if (elder_detail_supported_ && !elder_details_.count(i->elder)) {
    const Request* asked = last_request(i->id, Action::elder);
    if (!asked || asked->status == Request::Status::no_reply || asked->status == Request::Status::not_sent)
      send(Action::elder, i->id, proto::ElderQuery{i->elder, true});  // with the record's photo
  }
}

void App::load_offline(const proto::Snapshot& snapshot) {
  clock_offset_ms_ = snapshot.server_time_ms - local_now_ms();
  replica_.apply(snapshot);
}

// --- what views read --------------------------------------------------------------------

const proto::CandidateList* App::candidates(IncidentId incident) const {
  return candidates_ && candidates_->incident == incident ? &*candidates_ : nullptr;
}

bool App::candidates_pending(IncidentId incident) const {
  const Request* r = last_request(incident, Action::candidates);
  return r && r->status == Request::Status::sending;
}

const proto::ElderDetail* App::elder_detail(ElderId elder) const {
  auto it = elder_details_.find(elder);
  return it == elder_details_.end() ? nullptr : &it->second;
}

const Request* App::last_request(IncidentId incident, Action action) const {
  auto it = last_req_.find({incident, action});
  if (it == last_req_.end()) return nullptr;
  auto r = requests_.find(it->second);
  return r == requests_.end() ? nullptr : &r->second;
}

const Request* App::latest_request(IncidentId incident) const {
  auto it = latest_req_.find(incident);
  if (it == latest_req_.end()) return nullptr;
  auto r = requests_.find(it->second);
  return r == requests_.end() ? nullptr : &r->second;
}

std::vector<IncidentId> App::acknowledged_by_me() const {
  std::vector<IncidentId> ids;
  for (const auto& [req, r] : requests_)
    if (r.action == Action::acknowledge && r.status == Request::Status::ok) ids.push_back(r.incident);
  return ids;
}

Millis App::metrics_age_ms() const { return metrics_ ? local_now_ms() - metrics_at_ms_ : 1'000'000'000; }

bool App::metrics_pending() const {
  for (auto it = request_order_.rbegin(); it != request_order_.rend(); ++it) {
    const Request& r = requests_.at(*it);
    if (r.action == Action::metrics) return r.status == Request::Status::sending;
  }
  return false;
}

const proto::SeatView* App::my_seat() const {
  return line() && !options_.seat.empty() ? seat_named(*line(), options_.seat) : nullptr;
}

const proto::CallView* App::my_call() const {
  return line() && !options_.seat.empty() ? call_at(*line(), options_.seat) : nullptr;
}

bool App::ringing() const { return line() && !waiting_calls(*line()).empty(); }

bool App::can_dial() const {
  const proto::SeatView* seat = my_seat();
  return live() && seat && seat->up && !my_call();
}

std::optional<IncidentId> App::flashing() const {
  if (!flash_incident_ || local_now_ms() >= flash_until_ms_) return std::nullopt;
  return flash_incident_;
}

float App::flash_phase() const {
  // Two gentle pulses a second: visible across the room, not strobing.
  const double t = static_cast<double>(local_now_ms() % 1000) / 1000.0;
  return static_cast<float>(0.5 + 0.5 * std::sin(t * 2 * M_PI * 2));
}

Millis App::server_now_ms() const { return local_now_ms() + clock_offset_ms_; }

}  // namespace anxin::console
