#include "anxin/core/protocol.hpp"

#include <cstring>
#include <map>

#include "alarm_scan.hpp"
#include "anxin/core/care_tier.hpp"
#include "elder_record_json.hpp"
#include "incident_json.hpp"
#include "json_util.hpp"
#include "protocol_manual.hpp"
#include "staff_protocol.hpp"

namespace anxin::protocol {

using namespace json_util;
namespace ij = incident_json;

namespace {

json card_json(const ElderCard& c) {
  json contacts = json::array();
  for (const auto& k : c.contacts) contacts.push_back({{"name", k.name}, {"relation", k.relation}, {"phone", k.phone}});
  return {{"id", c.id},
          {"name", c.name},
          {"sex", name_of(c.sex)},
          {"age", c.age},
          {"tier", name_of(c.tier)},
          {"living", name_of(c.living)},
          {"ability", c.ability ? json(name_of(*c.ability)) : json(nullptr)},
          {"disability_grade", c.disability_grade},
          {"dementia", c.dementia},
          {"special_family", c.special_family},
          {"economic", name_of(c.economic)},
          {"town", c.town},
          {"community", c.community},
          {"address", c.address},
          {"lat", c.lat},
          {"lon", c.lon},
          {"phone", c.phone},
          {"id_masked", c.id_masked},
          {"contacts", contacts},
          {"family_doctor", c.family_doctor},
          {"family_doctor_phone", c.family_doctor_phone},
          {"paired_worker_id", c.paired_worker_id},
          {"paired_worker", c.paired_worker},
          {"visit_consent", c.visit_consent},
          {"unknown_caller", c.unknown_caller}};
}

ElderCard card_from(const json& j) {
  ElderCard c;
  c.id = need_int(j, "id");
  c.name = need_string(j, "name");
  c.sex = need_enum<Sex>(j, "sex");
  c.age = need_int_in(j, "age", 0, 150);
  c.tier = need_enum<CareTier>(j, "tier");
  c.living = need_enum<LivingSituation>(j, "living");
  if (has(j, "ability")) c.ability = need_enum<Ability>(j, "ability");
  c.disability_grade = need_int_in(j, "disability_grade", 0, 4);
  c.dementia = need_bool(j, "dementia");
  c.special_family = need_bool(j, "special_family");
  c.economic = need_enum<EconomicStatus>(j, "economic");
  c.town = need_string(j, "town");
  c.community = need_string(j, "community");
  c.address = need_string(j, "address");
  c.lat = need_number(j, "lat");
  c.lon = need_number(j, "lon");
  c.phone = need_string(j, "phone");
  c.id_masked = need_string(j, "id_masked");
  for (const auto& k : need_array(j, "contacts"))
    c.contacts.push_back({need_string(k, "name"), opt_string(k, "relation"), need_string(k, "phone")});
  c.family_doctor = opt_string(j, "family_doctor");
  c.family_doctor_phone = opt_string(j, "family_doctor_phone");
  c.paired_worker_id = opt_int(j, "paired_worker_id", 0);
  c.paired_worker = opt_string(j, "paired_worker");
  c.visit_consent = need_bool(j, "visit_consent");
  c.unknown_caller = opt_bool(j, "unknown_caller", false);
  return c;
}

// A candidate's reasons (candidates.hpp, reasons_for): each with only the numbers it has.
json reasons_json(const std::vector<CandidateReason>& reasons) {
  json out = json::array();
  for (const auto& r : reasons) {
    json x = {{"code", r.code}};
    if (r.penalty_s > 0) x["penalty_s"] = r.penalty_s;
    if (r.age_s > 0) x["age_s"] = r.age_s;
    if (r.code == "eta") x["eta_s"] = r.eta_s, x["distance_m"] = r.distance_m;
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<CandidateReason> reasons_from(const json& a) {
  std::vector<CandidateReason> out;
  for (const auto& x : a)
    out.push_back({need_string(x, "code"), opt_number(x, "penalty_s", 0), opt_number(x, "age_s", 0),
                   opt_number(x, "eta_s", 0), opt_number(x, "distance_m", 0)});
  return out;
}

json assignment_json(const Assignment& a) {
  json j = ij::assignment(a);
  j["incident_id"] = a.incident;
  return j;
}

json parse_object(std::string_view text) {
  if (text.size() > kMaxFrameBytes)
    fail(ErrorCode::too_large, "frame of " + std::to_string(text.size()) + " bytes is over the " +
                                   std::to_string(kMaxFrameBytes) + "-byte limit");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(ErrorCode::bad_json, "not valid JSON");
  if (!j.is_object()) fail(ErrorCode::bad_json, "a message must be a JSON object");
  return j;
}

std::string read_req(const json& j) {
  std::string req = opt_string(j, "req");
  if (req.size() > kMaxReqIdBytes) fail(ErrorCode::bad_field, "'req' is longer than 64 bytes");
  return req;
}

SkillSet read_skills(const json& j, const char* key) {
  SkillSet set = 0;
  if (!has(j, key)) return set;
  for (const auto& s : need_array(j, key)) {
    if (!s.is_string()) fail(ErrorCode::bad_field, std::string("'") + key + "' must hold skill names");
    auto skill = parse_skill(s.get<std::string>());
    if (!skill) fail(ErrorCode::bad_field, "no skill '" + s.get<std::string>() + "'");
    set |= static_cast<SkillSet>(*skill);
  }
  return set;
}

json skills_json(SkillSet set) {
  json a = json::array();
  for (std::uint32_t bit = 1; bit && bit <= set; bit <<= 1)
    if (set & bit) a.push_back(skill_name(static_cast<Skill>(bit)));
  return a;
}

}  // namespace

ElderCard make_card(const Elder& e, std::string_view today, const Worker* paired) {
  ElderCard c;
  c.id = e.id;
  c.name = e.name;
  c.sex = e.sex;
  c.age = std::max(0, age_on(e.birth_date, today));  // 0: not known
  c.tier = care_tier(e, c.age);
  c.living = e.living;
  c.ability = e.ability;
  c.disability_grade = e.disability_grade;
  c.dementia = e.dementia;
  c.special_family = e.special_family;
  c.economic = e.economic;
  c.town = e.town;
  c.community = e.community;
  c.address = e.address;
  c.lat = e.lat;
  c.lon = e.lon;
  c.phone = e.phone;
  c.id_masked = e.unknown_caller ? "" : mask_id_number(e.id_number);
  c.contacts = e.contacts;
  c.family_doctor = e.family_doctor;
  c.family_doctor_phone = e.family_doctor_phone;
  c.paired_worker_id = paired ? paired->id : 0;
  c.paired_worker = paired ? paired->name : "";
  c.visit_consent = e.visit_consent;
  c.unknown_caller = e.unknown_caller;
  return c;
}

DistrictMap make_map(const ElderTable& elders, std::string_view today) {
  DistrictMap map;
  // Running sums per town and community, in name order so the map is the same every time.
  struct Sum {
    double lat = 0, lon = 0;
    size_t n = 0;
  };
  std::map<std::string, std::pair<Sum, std::map<std::string, Sum>>> sums;
  elders.each([&](const Elder& e) {
    if (e.unknown_caller) return;  // no home to put on a map
    auto& [town, communities] = sums[e.town];
    for (Sum* s : {&town, &communities[e.community]}) {
      s->lat += e.lat;
      s->lon += e.lon;
      ++s->n;
    }
    map.homes.push_back({e.id, e.lat, e.lon, care_tier(e, age_on(e.birth_date, today))});
  });
  auto place = [](const std::string& name, const Sum& s) {
    return Place{name, s.lat / static_cast<double>(s.n), s.lon / static_cast<double>(s.n), s.n};
  };
  for (const auto& [name, sum] : sums) {
    MapTown t{place(name, sum.first), {}};
    for (const auto& [community, c] : sum.second) t.communities.push_back(place(community, c));
    map.towns.push_back(std::move(t));
  }
  return map;
}

// --- client messages ------------------------------------------------------------------

// A device's boot or session (docs/protocol.md, "Boots"): printable, at most 64 bytes.
const char* boot_fault(std::string_view boot) {
  if (boot.size() > 64) return "'boot' is at most 64 bytes";
  for (unsigned char c : boot)
    if (c < 0x21 || c > 0x7e) return "'boot' must be printable ASCII without spaces";
  return nullptr;
}

namespace {
std::string read_boot(const json& j) {
  std::string boot = opt_string(j, "boot");
  if (const char* fault = boot_fault(boot)) fail(ErrorCode::bad_field, fault);
  return boot;
}
}  // namespace

Result<ClientMessage> parse_client(std::string_view text, std::string* req_out) {
  if (auto alarm = scan_alarm(text)) return std::move(*alarm);
  return parse_client_tree(text, req_out);
}

Result<ClientMessage> parse_client_tree(std::string_view text, std::string* req_out) {
  ClientMessage m;
  try {
    json j = parse_object(text);
    m.req = read_req(j);
    const std::string type = need_string(j, "type");
    if (type == "hello") {
      if (has(j, "v") && need_int(j, "v") != kVersion)
        fail(ErrorCode::bad_field, "protocol version " + need(j, "v").dump() + " is not supported; use 1");
      auto role = parse_role(need_string(j, "role"));
      if (!role) fail(ErrorCode::bad_field, "'role' must be device, console or field");
      m.body = Hello{*role, need_string(j, "token")};
    } else if (type == "login") {
      auto role = parse_role(need_string(j, "role"));
      if (!role || *role == Role::device) fail(ErrorCode::bad_field, "'role' must be console or field");
      std::string user = need_string(j, "username"), password = need_string(j, "password");
      if (user.empty() || user.size() > 64) fail(ErrorCode::bad_field, "'username' must be 1..64 bytes");
      if (password.size() > 256) fail(ErrorCode::bad_field, "'password' is longer than 256 bytes");
      m.body = Login{*role, std::move(user), std::move(password)};
    } else if (type == "logout") {
      m.body = Logout{opt_bool(j, "force", false)};
    } else if (type == "elder") {
      m.body = ElderQuery{need_int(j, "elder_id"), opt_bool(j, "photo", false)};
    } else if (type == "update_elder_record") {
      m.body = UpdateElderRecord{need_int(j, "elder_id"), elder_record::patch_from(need(j, "record"))};
    } else if (type == "reveal_entry") {
      m.body = RevealEntry{need_int(j, "elder_id"), opt_int(j, "incident_id", 0)};
    } else if (type == "my_tasks") {
      m.body = MyTasks{};
    } else if (type == "map") {
      m.body = MapQuery{};
    } else if (type == "alarm") {
      AlarmIn a;
      a.device = need_string(j, "device");
      a.seq = need_int(j, "seq");
      a.kind = need_enum<AlertKind>(j, "kind");
      a.device_time_ms = need_int(j, "device_time_ms");
      if (has(j, "detail")) {
        if (!j["detail"].is_object()) fail(ErrorCode::bad_field, "'detail' must be an object");
        a.detail = j["detail"].dump();
      }
      if (has(j, "battery_pct")) a.battery_pct = need_int_in(j, "battery_pct", 0, 100);
      a.boot = read_boot(j);
      m.body = std::move(a);
    } else if (type == "heartbeat") {
      HeartbeatIn b;
      b.device = need_string(j, "device");
      b.boot = read_boot(j);
      if (has(j, "battery_pct")) b.battery_pct = need_int_in(j, "battery_pct", 0, 100);
      if (has(j, "signal_dbm")) b.signal_dbm = need_int_in(j, "signal_dbm", -150, 0);
      m.body = std::move(b);
    } else if (type == "subscribe") {
      m.body = Subscribe{};
    } else if (type == "ping") {
      m.body = Ping{};
    } else if (type == "ack_incident") {
      m.body = AckIncident{need_int(j, "incident_id")};
    } else if (type == "resolve_incident") {
      m.body = ResolveIncident{need_int(j, "incident_id"), need_enum<Disposition>(j, "disposition"),
                               opt_string(j, "note")};
    } else if (type == "note") {
      m.body = AddNote{need_int(j, "incident_id"), need_string(j, "text")};
    } else if (type == "candidates") {
      m.body = CandidatesQuery{need_int(j, "incident_id"), read_skills(j, "required_skills")};
    } else if (type == "dispatch") {
      Dispatch d;
      d.incident = need_int(j, "incident_id");
      if (has(j, "worker_id")) d.worker = need_int(j, "worker_id");
      d.responders = opt_int_in(j, "responders", 1, 2, 1);
      m.body = d;
    } else if (type == "callback") {
      m.body = Callback{need_int(j, "incident_id"), need_enum<CallbackOutcome>(j, "outcome")};
    } else if (type == "call") {
      m.body = PlaceCall{need_int(j, "incident_id"), need_enum<CallKind>(j, "kind"),
                         opt_int_in(j, "contact_index", 0, 99, 0)};
    } else if (type == "call_result") {
      m.body = CallResult{need_int(j, "task_id"), need_enum<CallState>(j, "result")};
    } else if (type == "metrics") {
      m.body = MetricsQuery{};
    } else if (type == "seat") {
      std::string seat = need_string(j, "seat");
      if (seat.empty() || seat.size() > 64) fail(ErrorCode::bad_field, "'seat' must be 1..64 bytes");
      m.body = ClaimSeat{std::move(seat)};
    } else if (type == "dial") {
      Dial d{need_int(j, "incident_id"), need_string(j, "to"), opt_int(j, "worker_id", 0)};
      if (d.to != "elder" && d.to != "doctor" && d.to != "worker")
        fail(ErrorCode::bad_field, "'to' must be elder, doctor or worker (120, 119 and the family: use call)");
      if (d.to == "worker" && d.worker <= 0) fail(ErrorCode::missing_field, "'worker_id' is required to call a worker");
      m.body = std::move(d);
    } else if (type == "answer") {
      m.body = Answer{};
    } else if (type == "hangup") {
      m.body = Hangup{};
    } else if (type == "recording") {
      std::string name = need_string(j, "name");
      // A name under the recordings directory: "<incident>/<file>.wav", nothing else.
      const bool plain = !name.empty() && name.size() <= 200 && name.find("..") == std::string::npos &&
                         name.front() != '/' && name.find('\\') == std::string::npos;
      if (!plain) fail(ErrorCode::bad_field, "'name' must be a recording's name as the timeline gives it");
      m.body = RecordingQuery{std::move(name)};
    } else if (type == "link_caller") {
      m.body = LinkCaller{need_int(j, "incident_id"), need_int(j, "elder_id")};
    } else if (type == "find_elders") {
      std::string q = need_string(j, "q");
      if (q.empty() || q.size() > 64) fail(ErrorCode::bad_field, "'q' must be 1..64 bytes");
      m.body = FindElders{std::move(q)};
    } else if (type == "duty") {
      m.body = Duty{need_bool(j, "on")};
    } else if (type == "position") {
      Position p;
      p.lat = need_number(j, "lat");
      p.lon = need_number(j, "lon");
      p.accuracy_m = opt_number(j, "accuracy_m", 0);
      p.at_ms = need_int(j, "at_ms");
      if (has(j, "mode")) p.mode = need_enum<TransportMode>(j, "mode");
      m.body = p;
    } else if (type == "accept") {
      m.body = Accept{need_int(j, "assignment_id")};
    } else if (type == "decline") {
      m.body = Decline{need_int(j, "assignment_id"), opt_string(j, "reason")};
    } else if (type == "on_scene") {
      m.body = OnScene{need_int(j, "assignment_id")};
    } else if (type == "complete") {
      Complete c{need_int(j, "assignment_id"), need_string(j, "outcome"), std::nullopt};
      if (has(j, "report")) {
        const json& r = need(j, "report");
        if (!r.is_object()) fail(ErrorCode::bad_field, "'report' must be an object");
        VisitReport report;
        if (has(r, "areas"))
          for (const auto& a : need_array(r, "areas")) {
            auto area = a.is_string() ? parse_enum<ServiceArea>(a.get<std::string>()) : std::nullopt;
            if (!area) fail(ErrorCode::bad_field, "unknown service area " + a.dump());
            report.areas.push_back(*area);
          }
        report.notes = opt_string(r, "notes");
        report.hazards = opt_string(r, "hazards");
        c.report = std::move(report);
      }
      m.body = std::move(c);
    } else if (auto manual_body = manual::parse_client(type, j)) {
      m.body = std::move(*manual_body);
    } else if (auto writes = visits_message(type)) {
      m.body = VisitsCommand{type, std::string(text), *writes};
    } else if (auto body = staff::parse_client(type, j)) {  // presence and handover
      m.body = std::move(*body);
    } else {
      fail(ErrorCode::unknown_type, "unknown message type '" + type + "'");
    }
    return m;
  } catch (const Failure& f) {
    if (req_out) *req_out = m.req;
    return f.error;
  }
}

std::string encode(const ClientMessage& m) {
  json j;
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, VisitsCommand>) {
          j = json::parse(b.frame);
          j.erase("req");
        } else if constexpr (detail::one_of<T, OpenIncident, HistoryQuery, IncidentRecordQuery, ReopenIncident>) {
          j = manual::encode(b);
        } else if constexpr (std::is_same_v<T, Hello>) {
          j = {{"type", "hello"}, {"v", kVersion}, {"role", name_of(b.role)}, {"token", b.token}};
        } else if constexpr (std::is_same_v<T, Login>) {
          j = {{"type", "login"}, {"role", name_of(b.role)}, {"username", b.username}, {"password", b.password}};
        } else if constexpr (std::is_same_v<T, Logout>) {
          j = {{"type", "logout"}};
          if (b.force) j["force"] = true;
        } else if constexpr (detail::one_of<T, HandoverOffer, HandoverAnswer, HandoverCancel, Reassign, TakeOver>) {
          j = staff::to_json(b);
        } else if constexpr (std::is_same_v<T, ElderQuery>) {
          j = {{"type", "elder"}, {"elder_id", b.elder}};
          if (b.photo) j["photo"] = true;
        } else if constexpr (std::is_same_v<T, UpdateElderRecord>) {
          j = {{"type", "update_elder_record"}, {"elder_id", b.elder}, {"record", elder_record::patch_json(b.patch)}};
        } else if constexpr (std::is_same_v<T, RevealEntry>) {
          j = {{"type", "reveal_entry"}, {"elder_id", b.elder}};
          if (b.incident) j["incident_id"] = b.incident;
        } else if constexpr (std::is_same_v<T, MyTasks>) {
          j = {{"type", "my_tasks"}};
        } else if constexpr (std::is_same_v<T, MapQuery>) {
          j = {{"type", "map"}};
        } else if constexpr (std::is_same_v<T, Subscribe>) {
          j = {{"type", "subscribe"}};
        } else if constexpr (std::is_same_v<T, Ping>) {
          j = {{"type", "ping"}};
        } else if constexpr (std::is_same_v<T, AlarmIn>) {
          j = {{"type", "alarm"}, {"device", b.device}, {"seq", b.seq}, {"kind", name_of(b.kind)},
               {"device_time_ms", b.device_time_ms}};
          json detail = json::parse(b.detail, nullptr, false);
          if (!detail.is_discarded()) j["detail"] = detail;
          if (b.battery_pct) j["battery_pct"] = *b.battery_pct;
          if (!b.boot.empty()) j["boot"] = b.boot;
        } else if constexpr (std::is_same_v<T, HeartbeatIn>) {
          j = {{"type", "heartbeat"}, {"device", b.device}};
          if (!b.boot.empty()) j["boot"] = b.boot;
          if (b.battery_pct) j["battery_pct"] = *b.battery_pct;
          if (b.signal_dbm) j["signal_dbm"] = *b.signal_dbm;
        } else if constexpr (std::is_same_v<T, AckIncident>) {
          j = {{"type", "ack_incident"}, {"incident_id", b.incident}};
        } else if constexpr (std::is_same_v<T, ResolveIncident>) {
          j = {{"type", "resolve_incident"}, {"incident_id", b.incident}, {"disposition", name_of(b.disposition)}};
          if (!b.note.empty()) j["note"] = b.note;
        } else if constexpr (std::is_same_v<T, AddNote>) {
          j = {{"type", "note"}, {"incident_id", b.incident}, {"text", b.text}};
        } else if constexpr (std::is_same_v<T, CandidatesQuery>) {
          j = {{"type", "candidates"}, {"incident_id", b.incident}};
          if (b.required) j["required_skills"] = skills_json(b.required);
        } else if constexpr (std::is_same_v<T, Dispatch>) {
          j = {{"type", "dispatch"}, {"incident_id", b.incident}, {"responders", b.responders}};
          if (b.worker) j["worker_id"] = *b.worker;
        } else if constexpr (std::is_same_v<T, Callback>) {
          j = {{"type", "callback"}, {"incident_id", b.incident}, {"outcome", name_of(b.outcome)}};
        } else if constexpr (std::is_same_v<T, PlaceCall>) {
          j = {{"type", "call"}, {"incident_id", b.incident}, {"kind", name_of(b.kind)}};
          if (b.kind == CallKind::family && b.contact_index) j["contact_index"] = b.contact_index;
        } else if constexpr (std::is_same_v<T, CallResult>) {
          j = {{"type", "call_result"}, {"task_id", b.task}, {"result", name_of(b.result)}};
        } else if constexpr (std::is_same_v<T, ClaimSeat>) {
          j = {{"type", "seat"}, {"seat", b.seat}};
        } else if constexpr (std::is_same_v<T, Dial>) {
          j = {{"type", "dial"}, {"incident_id", b.incident}, {"to", b.to}};
          if (b.worker) j["worker_id"] = b.worker;
        } else if constexpr (std::is_same_v<T, Answer>) {
          j = {{"type", "answer"}};
        } else if constexpr (std::is_same_v<T, Hangup>) {
          j = {{"type", "hangup"}};
        } else if constexpr (std::is_same_v<T, RecordingQuery>) {
          j = {{"type", "recording"}, {"name", b.name}};
        } else if constexpr (std::is_same_v<T, LinkCaller>) {
          j = {{"type", "link_caller"}, {"incident_id", b.incident}, {"elder_id", b.elder}};
        } else if constexpr (std::is_same_v<T, FindElders>) {
          j = {{"type", "find_elders"}, {"q", b.q}};
        } else if constexpr (std::is_same_v<T, MetricsQuery>) {
          j = {{"type", "metrics"}};
        } else if constexpr (std::is_same_v<T, Duty>) {
          j = {{"type", "duty"}, {"on", b.on}};
        } else if constexpr (std::is_same_v<T, Position>) {
          j = {{"type", "position"}, {"lat", b.lat}, {"lon", b.lon}, {"accuracy_m", b.accuracy_m}, {"at_ms", b.at_ms}};
          if (b.mode) j["mode"] = name_of(*b.mode);
        } else if constexpr (std::is_same_v<T, Accept>) {
          j = {{"type", "accept"}, {"assignment_id", b.assignment}};
        } else if constexpr (std::is_same_v<T, Decline>) {
          j = {{"type", "decline"}, {"assignment_id", b.assignment}, {"reason", b.reason}};
        } else if constexpr (std::is_same_v<T, OnScene>) {
          j = {{"type", "on_scene"}, {"assignment_id", b.assignment}};
        } else if constexpr (std::is_same_v<T, Complete>) {
          j = {{"type", "complete"}, {"assignment_id", b.assignment}, {"outcome", b.outcome}};
          if (b.report) {
            json areas = json::array();
            for (auto a : b.report->areas) areas.push_back(name_of(a));
            j["report"] = {{"areas", areas}, {"notes", b.report->notes}, {"hazards", b.report->hazards}};
          }
        }
      },
      m.body);
  if (!m.req.empty()) j["req"] = m.req;
  return j.dump();
}

// --- server messages ------------------------------------------------------------------

namespace {

json metrics_json(const MetricsSummary& s) {
  json intervals = json::object();
  for (size_t k = 0; k < kIntervals; ++k) {
    const auto& x = s.intervals[k];
    intervals[std::string(name_of(static_cast<Interval>(k)))] = {
        {"count", x.count}, {"p50_ms", x.p50_ms}, {"p90_ms", x.p90_ms}};
  }
  json operators = json::array();
  for (const auto& [name, load] : s.operators)
    operators.push_back({{"operator", name}, {"acknowledged", load.acknowledged}, {"resolved", load.resolved},
                         {"open", load.open}});
  return {{"intervals", intervals},
          {"acknowledged", s.acknowledged},
          {"acknowledged_within_60s", s.acknowledged_within_60s},
          {"acknowledged_within_180s", s.acknowledged_within_180s},
          {"per_hour", s.opened_per_hour},
          {"per_operator", operators}};
}

MetricsSummary metrics_from(const json& j) {
  MetricsSummary s;
  const json& intervals = need(j, "intervals");
  for (size_t k = 0; k < kIntervals; ++k) {
    const json& x = need(intervals, std::string(name_of(static_cast<Interval>(k))).c_str());
    s.intervals[k] = {need_int_in<size_t>(x, "count", 0, kCountMax), need_int(x, "p50_ms"), need_int(x, "p90_ms")};
  }
  s.acknowledged = need_int_in<size_t>(j, "acknowledged", 0, kCountMax);
  s.acknowledged_within_60s = need_int_in<size_t>(j, "acknowledged_within_60s", 0, kCountMax);
  s.acknowledged_within_180s = need_int_in<size_t>(j, "acknowledged_within_180s", 0, kCountMax);
  if (has(j, "per_hour")) {
    const json& h = need_array(j, "per_hour");
    for (size_t k = 0; k < 24 && k < h.size(); ++k)
      s.opened_per_hour[k] = as_int_in<size_t>(h[k], "per_hour", 0, kCountMax);
  }
  if (has(j, "per_operator"))
    for (const auto& x : need_array(j, "per_operator"))
      s.operators[need_string(x, "operator")] = {need_int_in<size_t>(x, "acknowledged", 0, kCountMax),
                                                 need_int_in<size_t>(x, "resolved", 0, kCountMax),
                                                 need_int_in<size_t>(x, "open", 0, kCountMax)};
  return s;
}

json task_json(const Task& t) {
  json j = {{"type", "task"}, {"event", name_of(t.event)}, {"assignment", assignment_json(t.assignment)},
            {"incident", ij::header(t.incident)}};
  if (t.elder) j["elder"] = card_json(*t.elder);
  return j;
}

FieldEvent field_event_from(const std::string& event);

Task task_from(const json& j) {
  Task t;
  t.event = field_event_from(need_string(j, "event"));
  t.assignment = ij::assignment_from(need(j, "assignment"), need_int(need(j, "assignment"), "incident_id"));
  t.incident = ij::header_from(need(j, "incident"));
  if (has(j, "elder")) t.elder = card_from(j["elder"]);
  return t;
}

DeltaKind delta_kind_from(const std::string& event) {
  for (auto k : {DeltaKind::incident_opened, DeltaKind::alert_attached, DeltaKind::incident_acknowledged,
                 DeltaKind::incident_updated, DeltaKind::incident_resolved, DeltaKind::worker_updated})
    if (name_of(k) == event) return k;
  fail(ErrorCode::bad_field, "unknown event '" + event + "'");
}

FieldEvent field_event_from(const std::string& event) {
  for (auto k : {FieldEvent::offer, FieldEvent::offer_expired, FieldEvent::offer_withdrawn, FieldEvent::task_updated})
    if (name_of(k) == event) return k;
  fail(ErrorCode::bad_field, "unknown task event '" + event + "'");
}

}  // namespace

std::string encode_ack(const Ack& a, const std::string& req);  // frame_text.cpp

std::string encode(const ServerMessage& m) {
  if (auto* a = std::get_if<Ack>(&m.body)) return encode_ack(*a, m.req);
  if (auto* d = std::get_if<DeltaMessage>(&m.body)) return encode_delta(*d, m.req);
  if (auto* s = std::get_if<Snapshot>(&m.body)) return encode_snapshot(*s, m.req);
  return encode_tree(m);
}

std::string encode_tree(const ServerMessage& m) {
  json j;
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, Welcome>) {
          j = {{"type", "welcome"}, {"v", kVersion}, {"role", name_of(b.role)}, {"subject", b.subject},
               {"server_time_ms", b.server_time_ms}, {"epoch", b.epoch}};
          if (!b.session.empty()) j["session"] = b.session;
          if (!b.user.kind.empty()) {
            j["user"] = {{"name", b.user.name}, {"kind", b.user.kind}};
            if (b.user.worker) j["user"]["worker_id"] = b.user.worker;
          }
        } else if constexpr (std::is_same_v<T, Ack>) {
          j = {{"type", "ack"}, {"device", b.device}, {"seq", b.seq}, {"alert_id", b.ack.alert},
               {"incident_id", b.ack.incident}, {"duplicate", b.ack.duplicate}};
          if (b.ack.folded) j["folded"] = true;
        } else if constexpr (std::is_same_v<T, Snapshot>) {
          json incidents = json::array();
          for (const auto& i : b.incidents) incidents.push_back(ij::full(i));
          json elders = json::array();
          for (const auto& c : b.elders) elders.push_back(card_json(c));
          json workers = json::array();
          for (const auto& w : b.workers) workers.push_back(ij::worker(w));
          j = {{"type", "snapshot"}, {"seq", b.seq}, {"epoch", b.epoch}, {"server_time_ms", b.server_time_ms},
               {"incidents", incidents}, {"elders", elders}, {"workers", workers}};
        } else if constexpr (std::is_same_v<T, DeltaMessage>) {
          j = {{"type", "delta"}, {"seq", b.seq}, {"event", name_of(b.kind)}};
          if (b.worker) {
            j["worker"] = ij::worker(*b.worker);
          } else {
            j["incident"] = ij::header(b.incident);
            j["append"] = ij::timeline(b.append);
          }
          if (b.elder) j["elder"] = card_json(*b.elder);
        } else if constexpr (std::is_same_v<T, Ok>) {
          j = {{"type", "ok"}, {"id", b.id}};
        } else if constexpr (std::is_same_v<T, ErrorReply>) {
          j = {{"type", "error"}, {"code", code_name(b.error.code)}, {"message", b.error.message}};
        } else if constexpr (std::is_same_v<T, Pong>) {
          j = {{"type", "pong"}, {"server_time_ms", b.server_time_ms}};
        } else if constexpr (std::is_same_v<T, CandidateList>) {
          json list = json::array();
          for (const auto& v : b.candidates) {
            const Candidate& c = v.candidate;
            list.push_back({{"worker_id", c.id}, {"name", v.name}, {"role", name_of(v.role)},
                            {"mode", name_of(v.mode)}, {"distance_m", c.distance_m}, {"eta_s", c.travel_s},
                            {"penalty_s", c.penalty_s}, {"score_s", c.score_s}, {"paired", c.paired},
                            {"preferred_role", c.preferred_role}, {"stale", c.stale},
                            {"connected", c.connected}, {"reasons", reasons_json(v.reasons)}});
          }
          j = {{"type", "candidates"}, {"incident_id", b.incident}, {"candidates", list}};
        } else if constexpr (std::is_same_v<T, Metrics>) {
          j = metrics_json(b.summary);
          j["type"] = "metrics";
          j["server_time_ms"] = b.server_time_ms;
        } else if constexpr (std::is_same_v<T, Task>) {
          j = task_json(b);
        } else if constexpr (std::is_same_v<T, TaskList>) {
          json tasks = json::array();
          for (const auto& t : b.tasks) tasks.push_back(task_json(t));
          j = {{"type", "my_tasks"}, {"tasks", tasks}};
        } else if constexpr (std::is_same_v<T, DistrictMap>) {
          auto place = [](const Place& p) {
            return json{{"name", p.name}, {"lat", p.lat}, {"lon", p.lon}, {"homes", p.homes}};
          };
          json towns = json::array();
          for (const auto& t : b.towns) {
            json x = place(t.town);
            x["communities"] = json::array();
            for (const auto& c : t.communities) x["communities"].push_back(place(c));
            towns.push_back(std::move(x));
          }
          json homes = json::array();
          for (const auto& h : b.homes)
            homes.push_back({{"elder_id", h.elder}, {"lat", h.lat}, {"lon", h.lon}, {"tier", name_of(h.tier)}});
          j = {{"type", "map"}, {"towns", towns}, {"homes", homes}};
        } else if constexpr (std::is_same_v<T, ElderDetail>) {
          json devices = json::array();
          for (const auto& d : b.devices)
            devices.push_back({{"id", d.id}, {"kind", name_of(d.kind)}, {"vendor", d.vendor},
                               {"battery_pct", d.battery_pct}, {"last_seen_ms", d.last_seen_ms}});
          json incidents = json::array();
          for (const auto& i : b.incidents)
            incidents.push_back({{"id", i.id}, {"opened_ms", i.opened_ms}, {"resolved_ms", i.resolved_ms},
                                 {"lead_kind", name_of(i.lead_kind)}, {"disposition", i.disposition}});
          json visits = json::array();
          for (const auto& v : b.visits) {
            json areas = json::array();
            for (auto a : v.visit.areas) areas.push_back(name_of(a));
            visits.push_back({{"at_ms", v.visit.at_ms}, {"mode", name_of(v.visit.mode)}, {"worker", v.worker},
                              {"worker_id", v.visit.worker}, {"areas", areas}, {"notes", v.visit.notes},
                              {"hazards", v.visit.hazards}, {"incident_id", v.visit.incident}});
          }
          j = {{"type", "elder"}, {"card", card_json(b.card)}, {"devices", devices}, {"incidents", incidents},
               {"visits", visits}};
          if (b.record) j["record"] = elder_record::record_json(*b.record);
        } else if constexpr (std::is_same_v<T, EntryCode>) {
          j = {{"type", "entry_code"}, {"elder_id", b.elder}, {"entry", b.entry}, {"code", b.code}};
        } else if constexpr (std::is_same_v<T, LineState>) {
          json seats = json::array(), calls = json::array();
          for (const auto& s : b.seats)
            seats.push_back({{"name", s.name}, {"up", s.up}, {"operator", s.operator_name}, {"state", s.state}});
          for (const auto& c : b.calls)
            calls.push_back({{"id", c.id}, {"seat", c.seat}, {"direction", c.outgoing ? "out" : "in"},
                             {"number", c.number}, {"target", c.target}, {"elder_id", c.elder},
                             {"incident_id", c.incident}, {"task_id", c.task}, {"state", c.state},
                             {"since_ms", c.since_ms}, {"answered_ms", c.answered_ms},
                             {"operator", c.operator_name}});
          j = {{"type", "line"}, {"configured", b.configured}, {"seats", seats}, {"calls", calls}};
        } else if constexpr (std::is_same_v<T, Recording>) {
          j = {{"type", "recording"}, {"name", b.name}, {"wav_base64", base64_encode(b.wav)}};
        } else if constexpr (std::is_same_v<T, ElderList>) {
          json cards = json::array();
          for (const auto& c : b.elders) cards.push_back(card_json(c));
          j = {{"type", "elders"}, {"elders", cards}};
        } else if constexpr (std::is_same_v<T, ServerStatus>) {
          j = {{"type", "server_status"}, {"storage", b.storage_full ? "full" : "ok"}, {"message", b.message},
               {"since_ms", b.since_ms}};
        } else if constexpr (std::is_same_v<T, VisitsReply>) {
          j = json::parse(b.json);
        } else if constexpr (detail::one_of<T, ManualIncident, HistoryPage>) {
          j = manual::encode(b);
        } else if constexpr (std::is_same_v<T, IncidentRecord>) {
          j = manual::encode(b);
          j["elder"] = card_json(b.elder);
        } else if constexpr (std::is_same_v<T, Presence>) {
          j = staff::to_json(b);
        }
      },
      m.body);
  if (!m.req.empty()) j["req"] = m.req;
  return j.dump();
}

Result<ServerMessage> parse_server(std::string_view text) {
  try {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) fail(ErrorCode::bad_json, "not a JSON object");
    ServerMessage m;
    m.req = opt_string(j, "req");
    const std::string type = need_string(j, "type");
    if (type == "welcome") {
      auto role = parse_role(need_string(j, "role"));
      if (!role) fail(ErrorCode::bad_field, "bad role");
      Welcome w{*role, need_string(j, "subject"), need_int(j, "server_time_ms"), need_string(j, "epoch"),
                opt_string(j, "session"), {}};
      if (has(j, "user")) {
        const json& u = j["user"];
        w.user = {need_string(u, "name"), need_string(u, "kind"), opt_int(u, "worker_id", 0)};
      }
      m.body = std::move(w);
    } else if (type == "ack") {
      m.body = Ack{need_string(j, "device"), need_int(j, "seq"),
                   AlarmAck{need_int(j, "alert_id"), need_int(j, "incident_id"), need_bool(j, "duplicate"),
                            has(j, "folded") && need_bool(j, "folded")}};
    } else if (type == "snapshot") {
      Snapshot s;
      s.seq = static_cast<std::uint64_t>(need_int(j, "seq"));
      s.epoch = need_string(j, "epoch");
      s.server_time_ms = need_int(j, "server_time_ms");
      for (const auto& x : need_array(j, "incidents")) s.incidents.push_back(ij::full_from(x));
      for (const auto& x : need_array(j, "elders")) s.elders.push_back(card_from(x));
      if (has(j, "workers"))
        for (const auto& x : need_array(j, "workers")) s.workers.push_back(ij::worker_from(x));
      m.body = std::move(s);
    } else if (type == "delta") {
      DeltaMessage d;
      d.seq = static_cast<std::uint64_t>(need_int(j, "seq"));
      d.kind = delta_kind_from(need_string(j, "event"));
      if (d.kind == DeltaKind::worker_updated) {
        d.worker = ij::worker_from(need(j, "worker"));
      } else {
        d.incident = ij::header_from(need(j, "incident"));
        d.append = ij::timeline_from(need_array(j, "append"));
      }
      if (has(j, "elder")) d.elder = card_from(j["elder"]);
      m.body = std::move(d);
    } else if (type == "ok") {
      m.body = Ok{opt_int(j, "id", 0)};
    } else if (type == "error") {
      const std::string code = need_string(j, "code");
      ErrorCode c = ErrorCode::internal;
      for (int k = 0; k <= static_cast<int>(ErrorCode::internal); ++k)
        if (code_name(static_cast<ErrorCode>(k)) == code) c = static_cast<ErrorCode>(k);
      m.body = ErrorReply{{c, opt_string(j, "message")}};
    } else if (type == "pong") {
      m.body = Pong{need_int(j, "server_time_ms")};
    } else if (type == "candidates") {
      CandidateList list;
      list.incident = need_int(j, "incident_id");
      for (const auto& x : need_array(j, "candidates")) {
        CandidateView v;
        v.candidate.id = need_int(x, "worker_id");
        v.candidate.distance_m = need_number(x, "distance_m");
        v.candidate.travel_s = need_number(x, "eta_s");
        v.candidate.penalty_s = opt_number(x, "penalty_s", 0);
        v.candidate.score_s = opt_number(x, "score_s", v.candidate.travel_s);
        v.candidate.paired = opt_bool(x, "paired", false);
        v.candidate.preferred_role = opt_bool(x, "preferred_role", true);
        v.candidate.stale = opt_bool(x, "stale", false);
        v.candidate.connected = opt_bool(x, "connected", true);
        if (has(x, "reasons")) v.reasons = reasons_from(need_array(x, "reasons"));
        v.name = need_string(x, "name");
        v.role = need_enum<WorkerRole>(x, "role");
        v.mode = opt_enum(x, "mode", TransportMode::ebike);
        list.candidates.push_back(std::move(v));
      }
      m.body = std::move(list);
    } else if (type == "metrics") {
      m.body = Metrics{metrics_from(j), need_int(j, "server_time_ms")};
    } else if (type == "task") {
      m.body = task_from(j);
    } else if (type == "my_tasks") {
      TaskList list;
      for (const auto& x : need_array(j, "tasks")) list.tasks.push_back(task_from(x));
      m.body = std::move(list);
    } else if (type == "map") {
      DistrictMap map;
      auto place = [](const json& x) {
        return Place{need_string(x, "name"), need_number(x, "lat"), need_number(x, "lon"),
                     static_cast<size_t>(opt_int(x, "homes", 0))};
      };
      for (const auto& t : need_array(j, "towns")) {
        MapTown town{place(t), {}};
        for (const auto& c : need_array(t, "communities")) town.communities.push_back(place(c));
        map.towns.push_back(std::move(town));
      }
      for (const auto& h : need_array(j, "homes"))
        map.homes.push_back({need_int(h, "elder_id"), need_number(h, "lat"), need_number(h, "lon"),
                             need_enum<CareTier>(h, "tier")});
      m.body = std::move(map);
    } else if (type == "line") {
      LineState line;
      line.configured = need_bool(j, "configured");
      for (const auto& x : need_array(j, "seats"))
        line.seats.push_back({need_string(x, "name"), need_bool(x, "up"), opt_string(x, "operator"),
                              opt_string(x, "state")});
      for (const auto& x : need_array(j, "calls")) {
        CallView c;
        c.id = need_string(x, "id");
        c.seat = opt_string(x, "seat");
        c.outgoing = need_string(x, "direction") == "out";
        c.number = opt_string(x, "number");
        c.target = opt_string(x, "target");
        c.elder = opt_int(x, "elder_id", 0);
        c.incident = opt_int(x, "incident_id", 0);
        c.task = opt_int(x, "task_id", 0);
        c.state = need_string(x, "state");
        c.since_ms = opt_int(x, "since_ms", 0);
        c.answered_ms = opt_int(x, "answered_ms", 0);
        c.operator_name = opt_string(x, "operator");
        line.calls.push_back(std::move(c));
      }
      m.body = std::move(line);
    } else if (type == "elders") {
      ElderList list;
      for (const auto& x : need_array(j, "elders")) list.elders.push_back(card_from(x));
      m.body = std::move(list);
    } else if (type == "presence") {
      m.body = staff::presence_from(j);
    } else if (auto manual_body = manual::parse_server(type, j)) {
      if (auto* r = std::get_if<IncidentRecord>(&*manual_body)) r->elder = card_from(need(j, "elder"));
      m.body = std::move(*manual_body);
    } else if (visits_reply(type)) {
      json body = j;
      body.erase("req");
      m.body = VisitsReply{body.dump()};
    } else if (type == "server_status") {
      const std::string storage = need_string(j, "storage");
      if (storage != "full" && storage != "ok") fail(ErrorCode::bad_field, "'storage' must be \"full\" or \"ok\"");
      m.body = ServerStatus{storage == "full", opt_string(j, "message"), opt_int(j, "since_ms", 0)};
    } else if (type == "recording") {
      auto wav = base64_decode(need_string(j, "wav_base64"));
      if (!wav) fail(ErrorCode::bad_field, "'wav_base64' is not base64");
      m.body = Recording{need_string(j, "name"), std::move(*wav)};
    } else if (type == "elder") {
      ElderDetail d;
      d.card = card_from(need(j, "card"));
      for (const auto& x : need_array(j, "devices"))
        d.devices.push_back({need_string(x, "id"), need_enum<DeviceKind>(x, "kind"), opt_string(x, "vendor"),
                             need_int_in(x, "battery_pct", 0, 100), need_int(x, "last_seen_ms")});
      for (const auto& x : need_array(j, "incidents"))
        d.incidents.push_back({need_int(x, "id"), need_int(x, "opened_ms"), opt_int(x, "resolved_ms", 0),
                               need_enum<AlertKind>(x, "lead_kind"), opt_string(x, "disposition")});
      for (const auto& x : need_array(j, "visits")) {
        VisitView v;
        v.visit.elder = d.card.id;
        v.visit.at_ms = need_int(x, "at_ms");
        v.visit.mode = need_enum<VisitMode>(x, "mode");
        v.visit.worker = opt_int(x, "worker_id", 0);
        if (has(x, "areas"))
          for (const auto& a : need_array(x, "areas"))
            if (auto area = a.is_string() ? parse_enum<ServiceArea>(a.get<std::string>()) : std::nullopt)
              v.visit.areas.push_back(*area);
        v.visit.notes = opt_string(x, "notes");
        v.visit.hazards = opt_string(x, "hazards");
        v.visit.incident = opt_int(x, "incident_id", 0);
        v.worker = opt_string(x, "worker");
        d.visits.push_back(std::move(v));
      }
      if (has(j, "record")) d.record = elder_record::record_from(need(j, "record"), d.card.id);
      m.body = std::move(d);
    } else if (type == "entry_code") {
      m.body = EntryCode{need_int(j, "elder_id"), opt_string(j, "entry"), need_string(j, "code")};
    } else {
      fail(ErrorCode::unknown_type, "unknown message type '" + type + "'");
    }
    return m;
  } catch (const Failure& f) {
    return f.error;
  } catch (const json::exception& e) {
    return Error{ErrorCode::bad_json, e.what()};
  }
}

// --- base64 (RFC 4648), for recordings ---------------------------------------------------

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t k = 0;
  for (; k + 2 < in.size(); k += 3) {
    const unsigned v = static_cast<unsigned char>(in[k]) << 16 | static_cast<unsigned char>(in[k + 1]) << 8 |
                       static_cast<unsigned char>(in[k + 2]);
    for (int s : {18, 12, 6, 0}) out.push_back(kB64[(v >> s) & 63]);
  }
  if (k < in.size()) {
    unsigned v = static_cast<unsigned char>(in[k]) << 16;
    if (k + 1 < in.size()) v |= static_cast<unsigned char>(in[k + 1]) << 8;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(k + 1 < in.size() ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t k = 0; k < in.size(); k += 4) {
    unsigned v = 0;
    int pad = 0;
    for (size_t i = 0; i < 4; ++i) {
      const char c = in[k + i];
      const char* at = c ? std::strchr(kB64, c) : nullptr;
      if (c == '=' && k + 4 == in.size() && i >= 2) {
        ++pad;
        v <<= 6;
        continue;
      }
      if (!at || pad) return std::nullopt;
      v = v << 6 | static_cast<unsigned>(at - kB64);
    }
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>(v >> 8 & 255));
    if (pad < 1) out.push_back(static_cast<char>(v & 255));
  }
  return out;
}

}  // namespace anxin::protocol
