#include "autotest.hpp"

#include <GLFW/glfw3.h>  // key codes, and the system GL header for glReadPixels
#include <imgui.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "autotest_history.hpp"
#include "autotest_team.hpp"
#include "autotest_record.hpp"

namespace anxin::console {
namespace {

using nlohmann::json;
constexpr int kSettleFrames = 4;  // a view switch or a delta needs a few frames to lay out

const std::map<std::string, View> kViewNames = {{"queue", View::queue},     {"incident", View::incident},
                                                {"map", View::map},         {"workers", View::workers},
                                                {"dashboard", View::dashboard}, {"visits", View::visits},
                                                {"history", View::history}, {"team", View::team}};

std::optional<int> key_code(const std::string& k) {
  static const std::map<std::string, int> named = {
      {"Enter", GLFW_KEY_ENTER}, {"Escape", GLFW_KEY_ESCAPE}, {"Up", GLFW_KEY_UP},     {"Down", GLFW_KEY_DOWN},
      {"F1", GLFW_KEY_F1},       {"F2", GLFW_KEY_F2},         {"F3", GLFW_KEY_F3},     {"F4", GLFW_KEY_F4},
      {"F5", GLFW_KEY_F5},       {"F6", GLFW_KEY_F6},         {"Tab", GLFW_KEY_TAB},
      // issue 14: every key the console uses, so a test can work by keys alone
      {"F7", GLFW_KEY_F7},       {"F8", GLFW_KEY_F8},         {"F9", GLFW_KEY_F9},     {"F10", GLFW_KEY_F10},     {"Left", GLFW_KEY_LEFT},
      {"Right", GLFW_KEY_RIGHT}, {"/", GLFW_KEY_SLASH},       {"-", GLFW_KEY_MINUS},   {"+", GLFW_KEY_KP_ADD},
      {"=", GLFW_KEY_EQUAL},     {"KeypadEnter", GLFW_KEY_KP_ENTER}, {"Backspace", GLFW_KEY_BACKSPACE},
      {"Space", GLFW_KEY_SPACE}, {"PageUp", GLFW_KEY_PAGE_UP}, {"PageDown", GLFW_KEY_PAGE_DOWN}};
  if (auto it = named.find(k); it != named.end()) return it->second;
  if (k.size() == 1 && ((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= '0' && k[0] <= '9'))) return k[0];  // GLFW = ASCII
  return std::nullopt;
}

json incident_json(const App& app, const Incident& i) {
  const Replica& r = app.replica();
  const protocol::ElderCard* e = r.elder(i.elder);
  json assignments = json::array(), calls = json::array(), escalations = json::array(), reasons = json::array();
  for (const auto& a : i.assignments)
    assignments.push_back({{"id", a.id}, {"worker_id", a.worker}, {"state", name_of(a.state)}});
  for (const auto& c : i.calls)
    calls.push_back({{"id", c.id}, {"kind", name_of(c.kind)}, {"state", name_of(c.state)}, {"name", c.name}});
  for (const auto& x : i.escalations)
    escalations.push_back({{"kind", name_of(x.kind)}, {"cleared", x.cleared}});
  for (const auto& x : i.rank_reasons) reasons.push_back({{"code", x.code}, {"points", x.points}});
  json phone = json::array();  // the line's calls on the timeline, as the console reads them
  for (const auto& t : i.timeline)
    if (t.kind == TimelineKind::phone)
      if (auto call = parse_phone_entry(t.text))
        phone.push_back({{"result", call->result}, {"talk_s", call->talk_s}, {"recording", call->recording},
                         {"text", describe(app.lang(), *call)}});
  return {{"id", i.id},
          {"elder_id", i.elder},
          {"elder_name", e ? e->name : ""},
          {"unknown_caller", e && e->unknown_caller},
          {"state", name_of(i.state)},
          {"lead_kind", name_of(i.lead_kind())},
          {"alert_count", i.alert_count()},
          {"score", queue_score(i, app.server_now_ms())},
          {"rank_base", i.rank_base},
          {"rank_reasons", reasons},
          {"acknowledged_by", i.acknowledged_by},
          {"callback", name_of(i.callback)},
          {"proposed_worker_id", i.proposed_worker},
          {"assignments", assignments},
          {"calls", calls},
          {"escalations", escalations},
          {"unseen_alert_ms", i.unseen_alert_ms},
          {"notes", std::count_if(i.timeline.begin(), i.timeline.end(),
                                  [](const TimelineEntry& t) { return t.kind == TimelineKind::note; })},
          {"timeline", i.timeline.size()},
          {"phone", phone}};
}

// The banner of alarms not attended to (app_attention.cpp), newest first.
json announcements_json(const App& app) {
  json list = json::array();
  for (const auto& a : app.announcements()) {
    const Incident* i = app.replica().incident(a.incident);
    const protocol::ElderCard* e = i ? app.replica().elder(i->elder) : nullptr;
    list.push_back({{"incident_id", a.incident}, {"realert", a.realert}, {"elder_name", e ? e->name : ""},
                    {"kind", i ? std::string(name_of(i->lead_kind())) : ""},
                    {"score", i ? queue_score(*i, app.server_now_ms()) : 0}});
  }
  return list;
}

json seat_json(const protocol::SeatView& s) {
  return {{"name", s.name}, {"up", s.up}, {"operator", s.operator_name}, {"state", s.state}};
}

// The line's picture (null: no line frame, so no SIP line) and the callers the
// console shows as waiting, with the elder each was matched to.
void line_json(const App& app, json& dump) {
  const auto& line = app.line();
  dump["seat"] = app.seat_name();
  dump["my_seat"] = app.my_seat() ? seat_json(*app.my_seat()) : json(nullptr);
  dump["line"] = nullptr;
  dump["ringing"] = json::array();
  if (!line) return;
  json seats = json::array(), calls = json::array();
  for (const auto& s : line->seats) seats.push_back(seat_json(s));
  for (const auto& c : line->calls)
    calls.push_back({{"id", c.id}, {"seat", c.seat}, {"direction", c.outgoing ? "out" : "in"}, {"number", c.number},
                     {"target", c.target}, {"state", c.state}, {"elder_id", c.elder}, {"incident_id", c.incident}});
  dump["line"] = {{"configured", line->configured}, {"seats", seats}, {"calls", calls}};
  for (const protocol::CallView* c : waiting_calls(*line)) {
    const protocol::ElderCard* e = app.replica().elder(c->elder);
    dump["ringing"].push_back({{"number", c->number}, {"seat", c->seat}, {"incident_id", c->incident},
                               {"elder_id", c->elder}, {"elder_name", e ? e->name : ""},
                               {"ringing_ms", app.server_now_ms() - c->since_ms}});
  }
}

// The visiting programme as the console holds it: the phone list, the last result,
// the dashboard's figures and the last export.
void visits_json(const App& app, json& dump) {
  dump["phone_visits"] = nullptr;
  if (const auto& l = app.phone_visits()) {
    json rows = json::array();
    int done = 0;
    for (const auto& v : l->visits) {
      rows.push_back({{"elder_id", v.elder}, {"name", v.name}, {"state", v.state}, {"reason", v.reason},
                      {"tries", v.tries}, {"mode", v.mode}});
      done += v.state == "done";
    }
    // fresh: no newer list is wanted or on its way (what a test waits for after a result)
    const Request* asked = app.last_request(0, Action::phone_visits);
    const bool fresh = !app.phone_visits_wanted() && !(asked && asked->status == Request::Status::sending);
    dump["phone_visits"] = {{"date", l->date}, {"visits", rows}, {"done", done}, {"fresh", fresh}};
  }
  dump["visit_row"] = app.ui().visit_row;
  dump["visit_recorded"] = nullptr;
  if (const auto& r = app.visit_recorded())
    dump["visit_recorded"] = {{"record_id", r->record}, {"elder_id", r->elder}, {"outcome", r->outcome},
                              {"tries", r->tries}, {"home_visit_due", r->home_visit_due}};
  if (const Request* r = app.last_request(0, Action::phone_visit_result))
    dump["visit_result_status"] = request_status(*r);
  else
    dump["visit_result_status"] = nullptr;
  auto report = [](const std::optional<VisitReport>& r) -> json {
    if (!r) return nullptr;
    return {{"from", r->from}, {"to", r->to}, {"elders", r->total.elders}, {"visited", r->total.visited},
            {"rate", r->total.rate}, {"completion", r->total.completion}, {"towns", r->towns.size()},
            {"overdue", r->overdue}, {"flagged", r->flagged}, {"open_hazards", r->open_hazards}};
  };
  dump["visit_report"] = {{"month", report(app.visit_report_month())}, {"week", report(app.visit_report_week())}};
  dump["campaigns"] = nullptr;
  if (const auto& c = app.campaigns()) {
    json list = json::array();
    for (const auto& x : c->campaigns)
      list.push_back({{"campaign_id", x.id}, {"name", x.name}, {"active", x.active}, {"chosen", x.chosen},
                      {"reached", x.reached}, {"tiers", x.tiers}, {"towns", x.towns}, {"living", x.living}});
    dump["campaigns"] = list;
  }
  dump["visits_section"] = app.ui().visits_section;
  dump["open_hazards"] = nullptr;
  if (const auto& m = app.visit_report_month()) {
    json hazards = json::array(), flagged = json::array();
    for (const auto& h : m->hazards)
      hazards.push_back({{"hazard_id", h.id}, {"elder_id", h.elder}, {"area", h.area}, {"text", h.text}});
    for (const auto& f : m->flagged_visits) flagged.push_back({{"visit_id", f.visit}, {"flags", f.flags}});
    dump["open_hazards"] = hazards;
    dump["flagged_visits"] = flagged;
  }
  dump["pairing"] = nullptr;
  if (const auto& p = app.pairing())
    dump["pairing"] = {{"unpaired", p->unpaired.size()}, {"overloaded", p->overloaded.size()},
                       {"max", p->max_elders_per_visitor}};
  for (auto [action, key] : {std::pair{Action::start_campaign, "start_campaign"}, {Action::end_campaign, "end_campaign"},
                             {Action::close_hazard, "close_hazard"}})
    dump[key] = request_json(app.last_request(0, action));
  if (const auto& c = app.campaign_changed()) dump["campaign_changed"] = {{"id", c->id}, {"name", c->name},
                                                                          {"chosen", c->chosen}, {"tiers", c->tiers}};
  dump["roster_import"] = nullptr;
  if (const auto& r = app.roster_import()) {
    static const char* const kImport[] = {"sending", "imported", "refused", "unreadable"};
    dump["roster_import"] = {{"status", kImport[static_cast<int>(r->status)]}, {"path", r->path},
                             {"added", r->result.added}, {"updated", r->result.updated}, {"error", r->error}};
  }
  dump["dashboard_tab"] = app.ui().dashboard_tab;
  dump["workers_row"] = app.ui().worker_row;
  dump["visits_export"] = nullptr;
  if (const auto& e = app.visits_export())
    dump["visits_export"] = {{"report", e->report}, {"format", e->format}, {"done", e->done}, {"ok", e->ok},
                             {"path", e->path}, {"rows", e->rows}, {"error", e->error}};
}

}  // namespace

const char* request_status(const Request& r) {
  static const char* const kStatus[] = {"sending", "ok", "refused", "no_reply", "not_sent"};
  return kStatus[static_cast<int>(r.status)];
}

json request_json(const Request* r) {
  if (!r) return nullptr;
  return {{"status", request_status(*r)}, {"error", r->error}};
}

json state_dump(const App& app) {
  const Replica& r = app.replica();
  json incidents = json::array();
  for (const Incident* i : r.queue(app.server_now_ms())) incidents.push_back(incident_json(app, *i));
  json workers = json::array();
  for (const auto& [id, w] : r.workers())
    workers.push_back({{"id", id}, {"name", w.name}, {"status", name_of(w.status)}, {"incident_id", w.incident}});
  json dump = {{"connection", name_of(app.link_state())},
               {"live", app.live()},
               {"seq", r.seq()},
               {"epoch", r.epoch()},
               {"operator", app.operator_name()},
               {"lang", app.lang() == Lang::zh ? "zh" : "en"},
               {"view", static_cast<int>(app.view())},
               {"incidents", incidents},
               {"workers", workers},
               {"selected", app.selected() ? json(*app.selected()) : json(nullptr)},
               {"selected_incident", nullptr},
               {"candidates", nullptr},
               {"elder_detail", nullptr},
               {"metrics", nullptr},
               {"found_elders", nullptr},
               {"link_caller", nullptr},
               {"flashing", app.flashing() ? json(*app.flashing()) : json(nullptr)},
               {"banner", announcements_json(app)},
               {"chimes", app.chimes()},
               {"typing", ImGui::GetCurrentContext() != nullptr && ImGui::GetIO().WantTextInput},
               {"signed_in", app.signed_in()},
               {"login_error", app.login_error() ? json(std::string(code_name(app.login_error()->code))) : json(nullptr)},
               {"map", {{"lat", app.ui().map.lat}, {"lon", app.ui().map.lon}, {"px_per_deg", app.ui().map.px_per_deg}}},
               {"pickers", {{"call", app.ui().call_picker_open}, {"result", app.ui().result_picker_open},
                            {"candidate", app.ui().candidate_picker_open}, {"row", app.ui().picker_row},
                            {"resolve", app.ui().resolve_open}, {"disposition", app.ui().disposition},
                            {"resolve_note", std::string(app.ui().resolve_note.data())}}},
               {"map_homes", app.district() ? json(app.district()->homes.size()) : json(nullptr)},
               {"storage_full", app.storage_full() ? json(app.storage_full()->since_ms) : json(nullptr)},
               {"acknowledged_by_me", app.acknowledged_by_me()}};
  if (const Incident* i = app.selected() ? r.incident(*app.selected()) : nullptr) {
    dump["selected_incident"] = incident_json(app, *i);
    if (const auto* c = app.candidates(i->id)) {
      json list = json::array();
      for (const auto& v : c->candidates) list.push_back({{"worker_id", v.candidate.id}, {"name", v.name}});
      dump["candidates"] = list;
    }
    if (const auto* found = app.found_elders(i->id)) {
      json list = json::array();
      for (const auto& e : found->elders) list.push_back({{"id", e.id}, {"name", e.name}});
      dump["found_elders"] = {{"incident_id", i->id}, {"elders", list}};
    }
    if (const Request* link = app.last_request(i->id, Action::link_caller)) dump["link_caller"] = request_json(link);
    if (const auto* d = app.elder_detail(i->elder))
      dump["elder_detail"] = {{"devices", d->devices.size()}, {"incidents", d->incidents.size()},
                              {"visits", d->visits.size()}};
  }
  if (const auto& m = app.metrics())
    dump["metrics"] = {{"acknowledged", m->summary.acknowledged},
                       {"acknowledged_within_60s", m->summary.acknowledged_within_60s}};
  line_json(app, dump);
  visits_json(app, dump);
  history_json(app, dump);  // autotest_history.cpp
  team_json(app, dump);     // autotest_team.cpp
  record_json(app, dump);   // autotest_record.cpp
  if (const auto& p = app.playback()) {
    static const char* const kStatus[] = {"fetching", "playing", "saved", "failed"};
    dump["playback"] = {{"name", p->name}, {"status", kStatus[static_cast<int>(p->status)]}, {"path", p->path}};
  } else {
    dump["playback"] = nullptr;
  }
  return dump;
}

Autotest::Autotest(AutotestOptions options) : options_(std::move(options)) {
  if (!options_.script.empty()) {
    enabled_ = load(options_.script);
    if (!enabled_) failed_ = enabled_ = true;  // report the unreadable script and exit 3
  } else if (options_.incidents >= 0) {
    // The walking skeleton's flags, as a script.
    steps_.push_back({"wait-sync", std::to_string(options_.incidents), 0});
    steps_.push_back({"select-top", "", 0});
    if (options_.acknowledge) {
      steps_.push_back({"acknowledge", "", 0});
      steps_.push_back({"wait-state", "/selected_incident/state == acknowledged", 0});
    }
    enabled_ = true;
  }
  deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
}

bool Autotest::load(const std::string& path) {
  std::ifstream f(path);
  if (!f) return fail("cannot read script " + path);
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    const auto space = line.find(' ', start);
    Step s{line.substr(start, space == std::string::npos ? std::string::npos : space - start), "", n};
    if (space != std::string::npos) s.arg = line.substr(line.find_first_not_of(' ', space));
    steps_.push_back(std::move(s));
  }
  return true;
}

bool Autotest::fail(const std::string& why) {
  const int line = step_ < steps_.size() ? steps_[step_].line : 0;
  error_ = (line ? "line " + std::to_string(line) + ": " : "") + why;
  std::fprintf(stderr, "anxin-console: autotest: FAILED %s\n", error_.c_str());
  failed_ = true;
  return false;
}

void Autotest::press_keys(ImGuiIO& io) {
  const int count = IM_ARRAYSIZE(io.KeysDown);
  for (int k : held_)
    if (k < count) io.KeysDown[k] = false;
  held_.clear();
  // Ctrl as the GLFW backend sets it, from the control keys held down.
  io.KeyCtrl = ctrl_ && !keys_.empty();
  io.KeysDown[GLFW_KEY_LEFT_CONTROL] = io.KeyCtrl;
  for (int k : keys_)
    if (k < count) io.KeysDown[k] = true, held_.push_back(k);
  keys_.clear();
  ctrl_ = false;
  if (!text_.empty()) io.AddInputCharactersUTF8(text_.c_str());
  text_.clear();
}

// A command on the selected incident; once sent, waits for the server's answer.
bool Autotest::command_step(const App& app, const Step& s, Commands& out) {
  if (waiting_) {
    const Request* r = app.last_request(target_, action_);
    if (!r || r->status == Request::Status::sending) return false;
    if (r->status != Request::Status::ok) return fail(s.op + " " + s.arg + ": " + (r->error.empty() ? "no reply" : r->error));
    return true;
  }
  if (!app.selected()) return fail(s.op + ": no incident selected");
  target_ = *app.selected();
  const Incident* i = app.replica().incident(target_);
  waiting_ = true;
  if (s.op == "acknowledge") {
    action_ = Action::acknowledge, out.push(cmd::Acknowledge{target_});
  } else if (s.op == "callback") {
    auto o = parse_enum<CallbackOutcome>(s.arg);
    if (!o) return fail("unknown call-back outcome " + s.arg);
    action_ = Action::callback, out.push(cmd::Callback{target_, *o});
  } else if (s.op == "dispatch-best" || s.op == "dispatch-two") {
    action_ = Action::dispatch, out.push(cmd::Dispatch{target_, std::nullopt, s.op == "dispatch-two" ? 2 : 1});
  } else if (s.op == "dispatch") {
    action_ = Action::dispatch, out.push(cmd::Dispatch{target_, std::stoll(s.arg), 1});
  } else if (s.op == "call") {
    auto k = parse_enum<CallKind>(s.arg);
    if (!k) return fail("unknown call kind " + s.arg);
    action_ = Action::call, out.push(cmd::Call{target_, *k});
  } else if (s.op == "call-result") {
    auto result = parse_enum<CallState>(s.arg);
    const CallTask* pending = nullptr;
    if (i)
      for (const auto& t : i->calls)
        if (t.open() && !pending) pending = &t;
    if (!result || !pending) return fail("call-result: no pending call, or unknown result " + s.arg);
    action_ = Action::call_result, out.push(cmd::CallResult{target_, pending->id, *result});
  } else if (s.op == "note") {
    action_ = Action::note, out.push(cmd::Note{target_, s.arg});
  } else if (s.op == "dial") {  // elder | doctor | worker ID
    const auto space = s.arg.find(' ');
    const std::string to = s.arg.substr(0, space);
    const WorkerId worker = space == std::string::npos ? 0 : std::stoll(s.arg.substr(space + 1));
    action_ = Action::dial, out.push(cmd::Dial{target_, to, worker});
  } else {  // resolve DISPOSITION [NOTE]
    const auto space = s.arg.find(' ');
    auto d = parse_enum<Disposition>(s.arg.substr(0, space));
    if (!d) return fail("unknown disposition " + s.arg);
    action_ = Action::resolve;
    out.push(cmd::Resolve{target_, *d, space == std::string::npos ? "" : s.arg.substr(space + 1)});
  }
  return false;
}

// The supervisor's visits commands, as their buttons send them; each waits for the
// server's answer, and a refusal fails the test.
//   start-campaign NAME [reason=R] [tiers=a,b] [towns=a,b] [living=a,b] [first=D] [last=D] [hour=N]
//     fills the form (FillCampaignForm), then sends what the form holds, as its button does
//   end-campaign NAME        the End of the active campaign of that name
//   close-hazard ID|first NOTE
bool Autotest::visits_step(const App& app, const Step& s, Commands& out) {
  if (waiting_) {
    if (frames_ < 3) return false;
    const Request* r = app.last_request(0, action_);
    if (!r || r->status == Request::Status::sending) return false;
    if (r->status != Request::Status::ok) return fail(s.op + " " + s.arg + ": " + (r->error.empty() ? "no reply" : r->error));
    return true;
  }
  std::istringstream in(s.arg);
  std::string first;
  in >> first;
  if (s.op == "start-campaign") {
    if (frames_ == 1) {
      CampaignForm f;
      f.name = first;
      auto list = [](const std::string& v) {
        std::vector<std::string> out;
        std::istringstream parts(v);
        for (std::string x; std::getline(parts, x, ',');)
          if (!x.empty()) out.push_back(x);
        return out;
      };
      for (std::string kv; in >> kv;) {
        const auto eq = kv.find('=');
        const std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (k == "reason") f.reason = v;
        else if (k == "tiers") f.tiers = list(v);
        else if (k == "towns") f.towns = list(v);
        else if (k == "living") f.living = list(v);
        else if (k == "first") f.first_date = v;
        else if (k == "last") f.last_date = v;
        else if (k == "hour") f.reach_by_hour = std::stoi(v);
        else return fail("start-campaign: unknown field " + k);
      }
      out.push(cmd::FillCampaignForm{f});
      return false;
    }
    action_ = Action::start_campaign;
    out.push(cmd::StartCampaign{form_of(app.ui().campaign)});
  } else if (s.op == "end-campaign") {
    std::int64_t id = 0;
    if (const auto& list = app.campaigns())
      for (const auto& c : list->campaigns)
        if (c.active && c.name == first) id = c.id;
    if (!id) return fail("end-campaign: no active campaign " + first);
    action_ = Action::end_campaign;
    out.push(cmd::EndCampaign{id});
  } else {
    std::int64_t id = 0;
    if (first == "first") {
      if (const auto& m = app.visit_report_month(); m && !m->hazards.empty()) id = m->hazards.front().id;
    } else {
      id = std::stoll(first);
    }
    std::string note;
    std::getline(in >> std::ws, note);
    if (!id) return fail("close-hazard: no open hazard");
    action_ = Action::close_hazard;
    out.push(cmd::CloseHazard{id, note});
  }
  waiting_ = true;
  frames_ = 1;
  return false;
}

bool Autotest::state_holds(const App& app, const std::string& condition, std::string& seen) const {
  std::istringstream in(condition);
  std::string pointer, op, value;
  in >> pointer >> op;
  std::getline(in >> std::ws, value);
  const json dump = state_dump(app);
  json actual;
  try {
    actual = dump.at(json::json_pointer(pointer));
  } catch (const std::exception&) {
    actual = nullptr;  // absent reads as null, so "== null" can wait for a thing to go
  }
  seen = actual.is_array() ? "array of " + std::to_string(actual.size()) : actual.dump();
  if (actual.is_array()) actual = actual.size();
  json expected = json::parse(value, nullptr, false);
  if (expected.is_discarded()) expected = value;  // a bare word is a string
  if (op == "==") return actual == expected;
  if (op == "!=") return actual != expected;
  if (!actual.is_number() || !expected.is_number()) return false;
  if (op == ">=") return actual.get<double>() >= expected.get<double>();
  if (op == "<=") return actual.get<double>() <= expected.get<double>();
  return false;
}

Commands Autotest::act(const App& app) {
  Commands out;
  if (!enabled_ || failed_ || step_ >= steps_.size()) return out;
  const Step& s = steps_[step_];
  ++frames_;
  bool done = false;
  if (s.op == "wait-sync") {
    const size_t n = s.arg.empty() ? 0 : std::stoul(s.arg);
    done = app.live() && app.replica().incidents().size() >= n;
  } else if (s.op == "select-top") {
    const auto q = app.replica().queue(app.server_now_ms());
    if (q.empty()) return fail("select-top: the queue is empty"), out;
    out.push(cmd::Select{q.front()->id});
    done = true;
  } else if (s.op == "select") {
    out.push(cmd::Select{std::stoll(s.arg)});
    done = true;
  } else if (s.op == "view") {
    auto it = kViewNames.find(s.arg);
    if (it == kViewNames.end()) return fail("unknown view " + s.arg), out;
    out.push(cmd::Show{it->second});
    done = true;
  } else if (s.op == "lang") {
    auto l = parse_lang(s.arg);
    if (!l) return fail("unknown language " + s.arg), out;
    out.push(cmd::SetLanguage{*l});
    done = true;
  } else if (s.op == "login") {
    // USER PASSWORD: what the login form's button sends, to the server it shows.
    const auto space = s.arg.find(' ');
    if (frames_ == 1)
      out.push(cmd::Login{app.link_defaults().host, app.link_defaults().port, s.arg.substr(0, space),
                          space == std::string::npos ? "" : s.arg.substr(space + 1)});
    if (const auto& e = app.login_error()) return fail("login refused: " + e->message), out;
    done = frames_ > 1 && app.signed_in();
  } else if (s.op == "key") {
    // "Ctrl+F": the key with Ctrl held down, as the keyboard sends it (io.KeyCtrl).
    const bool ctrl = s.arg.rfind("Ctrl+", 0) == 0;
    auto k = key_code(ctrl ? s.arg.substr(5) : s.arg);
    if (!k) return fail("unknown key " + s.arg), out;
    if (frames_ == 1) keys_.push_back(*k), ctrl_ = ctrl;
    done = frames_ >= 2;  // held for one frame, then released
  } else if (s.op == "type") {
    // Typed the frame after a field has focus (WantTextInput is the last frame's).
    if (waiting_) done = true;
    else if (ImGui::GetIO().WantTextInput) text_ = s.arg, waiting_ = true;
  } else if (s.op == "acknowledge" || s.op == "callback" || s.op == "dispatch-best" || s.op == "dispatch-two" ||
             s.op == "dispatch" || s.op == "call" || s.op == "call-result" || s.op == "note" || s.op == "resolve" ||
             s.op == "dial") {
    done = command_step(app, s, out);
  } else if (s.op == "select-visit") {
    // A row of the phone-visit list by elder id, as a click on it does.
    out.push(cmd::SelectVisit{std::stoll(s.arg)});
    done = true;
  } else if (s.op == "export-visits") {
    // REPORT FORMAT: what the visits tab's export buttons send; waits for the file.
    const auto space = s.arg.find(' ');
    const std::string report = s.arg.substr(0, space), format = space == std::string::npos ? "csv" : s.arg.substr(space + 1);
    if (frames_ == 1) out.push(cmd::ExportVisits{report, format});
    const auto& e = app.visits_export();
    if (frames_ > 1 && e && e->format == format && e->done)
      done = e->ok || fail("export-visits " + s.arg + ": " + e->error);
  } else if (s.op == "visits-section") {
    // The visits tab's part on screen, as a click on its tab does.
    static const std::map<std::string, int> sections = {{"overview", VisitsSection::overview},
                                                        {"campaign", VisitsSection::campaign},
                                                        {"hazards", VisitsSection::hazards},
                                                        {"pairing", VisitsSection::pairing},
                                                        {"roster", VisitsSection::roster}};
    auto it = sections.find(s.arg);
    if (it == sections.end()) return fail("unknown visits section " + s.arg), out;
    if (frames_ == 1) out.push(cmd::ShowVisitsSection{it->second});
    done = frames_ >= 2 && app.ui().visits_section == it->second;
  } else if (s.op == "start-campaign" || s.op == "end-campaign" || s.op == "close-hazard") {
    done = visits_step(app, s, out);
  } else if (history_op(s.op)) {
    done = history_step(app, s, out);  // autotest_history.cpp
  } else if (team_op(s.op)) {
    done = team_step(app, s, out);  // autotest_team.cpp
  } else if (record_op(s.op)) {
    done = record_step(app, s, out);  // autotest_record.cpp
  } else if (s.op == "import-roster") {
    // ENCODING PATH: the import row's button; waits for the answer, imported or refused
    // (a refusal is what some tests want: check it with wait-state /roster_import/status).
    const auto space = s.arg.find(' ');
    if (space == std::string::npos) return fail("import-roster ENCODING PATH"), out;
    if (frames_ == 1) out.push(cmd::ImportRoster{s.arg.substr(space + 1), s.arg.substr(0, space)});
    const auto& r = app.roster_import();
    done = frames_ > 1 && r && r->status != App::RosterImport::Status::sending;
  } else if (s.op == "play-recording") {
    // What ▶ on the selected incident's last recorded call does.
    if (frames_ == 1) {
      std::string name;
      if (const Incident* i = app.selected() ? app.replica().incident(*app.selected()) : nullptr)
        for (const auto& t : i->timeline)
          if (t.kind == TimelineKind::phone)
            if (auto call = parse_phone_entry(t.text); call && !call->recording.empty()) name = call->recording;
      if (name.empty()) return fail("play-recording: no recorded call on the selected incident"), out;
      out.push(cmd::PlayRecording{name});
    }
    const auto& p = app.playback();
    if (frames_ > 1 && p && p->status == App::Playback::Status::failed) return fail("play-recording: failed"), out;
    done = frames_ > 1 && (!p || p->status != App::Playback::Status::fetching);
  } else if (s.op == "wait-state") {
    std::string seen;
    done = state_holds(app, s.arg, seen);
    error_ = "waiting for " + s.arg + " (now " + seen + ")";
  } else if (s.op == "sleep") {
    if (frames_ == 1) sleep_until_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stoi(s.arg));
    done = std::chrono::steady_clock::now() >= sleep_until_;
  } else if (s.op == "wait-file") {
    // The test has done its part (checked the server, raised an alarm): go on.
    std::error_code ec;
    done = std::filesystem::exists(s.arg, ec);
    error_ = "waiting for the file " + s.arg;
  } else if (s.op == "frames") {
    done = frames_ >= std::stoi(s.arg);
  } else if (s.op == "dump") {
    done = write_dump(app, s.arg) || fail("cannot write " + s.arg);
  } else if (s.op == "export") {
    if (frames_ == 1) out.push(cmd::ExportDashboard{s.arg});
    const auto& r = app.export_result();
    done = r && r->path == s.arg && (r->ok || fail("cannot export to " + s.arg));
  } else if (s.op == "screenshot") {
    // taken in after_render
  } else {
    return fail("unknown step " + s.op), out;
  }
  if (done && !failed_) {
    std::fprintf(stderr, "anxin-console: autotest: %s %s\n", s.op.c_str(), s.arg.c_str());
    next();
  }
  return out;
}

std::optional<int> Autotest::after_render(const App& app, int w, int h) {
  if (!enabled_) return std::nullopt;
  auto finish = [&](int code) {
    if (!options_.screenshot.empty()) write_screenshot(options_.screenshot, w, h);
    if (!options_.dump_state.empty()) write_dump(app, options_.dump_state);
    return code;
  };
  if (!failed_ && step_ < steps_.size() && steps_[step_].op == "screenshot" && frames_ >= kSettleFrames) {
    if (!write_screenshot(steps_[step_].arg, w, h)) return finish(1);
    std::fprintf(stderr, "anxin-console: autotest: screenshot %s\n", steps_[step_].arg.c_str());
    next();
  }
  if (failed_) return finish(3);
  if (step_ >= steps_.size()) {
    // A few frames after the last step, so its effect is on the final screenshot.
    if (++frames_ < kSettleFrames) return std::nullopt;
    return finish(0);
  }
  if (std::chrono::steady_clock::now() > deadline_) {
    fail("timed out after " + std::to_string(options_.timeout_ms) + " ms at '" + steps_[step_].op + " " +
         steps_[step_].arg + "' (" + error_ + "; connection " + std::string(name_of(app.link_state())) + ")");
    return finish(3);
  }
  return std::nullopt;
}

bool Autotest::write_screenshot(const std::string& path, int w, int h) const {
  std::vector<unsigned char> pixels(static_cast<size_t>(w) * h * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
  // GL's first row is the bottom one; PNG's is the top.
  stbi_flip_vertically_on_write(1);
  if (!stbi_write_png(path.c_str(), w, h, 3, pixels.data(), w * 3)) {
    std::fprintf(stderr, "anxin-console: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

bool Autotest::write_dump(const App& app, const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << state_dump(app).dump(2) << "\n";
    if (!f) return false;
  }
  // Atomic, so a test polling for the file never reads half of it.
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace anxin::console
