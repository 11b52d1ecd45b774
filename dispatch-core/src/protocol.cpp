#include "anxin/core/protocol.hpp"

#include <nlohmann/json.hpp>

#include "anxin/core/care_tier.hpp"

namespace anxin::protocol {

using json = nlohmann::json;

namespace {

// Parsing stops at the first problem; the message names the field.
struct Failure {
  Error error;
};
[[noreturn]] void fail(ErrorCode code, std::string message) { throw Failure{{code, std::move(message)}}; }

const json& need(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) fail(ErrorCode::missing_field, std::string("missing field '") + key + "'");
  return *it;
}
bool has(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && !it->is_null();
}
std::string need_string(const json& o, const char* key) {
  const json& v = need(o, key);
  if (!v.is_string()) fail(ErrorCode::bad_field, std::string("'") + key + "' must be a string");
  return v.get<std::string>();
}
std::int64_t need_int(const json& o, const char* key) {
  const json& v = need(o, key);
  if (!v.is_number_integer()) fail(ErrorCode::bad_field, std::string("'") + key + "' must be an integer");
  return v.get<std::int64_t>();
}
double need_number(const json& o, const char* key) {
  const json& v = need(o, key);
  if (!v.is_number()) fail(ErrorCode::bad_field, std::string("'") + key + "' must be a number");
  return v.get<double>();
}
bool need_bool(const json& o, const char* key) {
  const json& v = need(o, key);
  if (!v.is_boolean()) fail(ErrorCode::bad_field, std::string("'") + key + "' must be true or false");
  return v.get<bool>();
}
std::string opt_string(const json& o, const char* key) { return has(o, key) ? need_string(o, key) : ""; }
std::int64_t opt_int(const json& o, const char* key, std::int64_t fallback) {
  return has(o, key) ? need_int(o, key) : fallback;
}
template <class E> E need_enum(const json& o, const char* key) {
  std::string text = need_string(o, key);
  auto e = parse_enum<E>(text);
  if (!e) fail(ErrorCode::bad_field, std::string("'") + key + "' has no value '" + text + "'");
  return *e;
}
const json& need_array(const json& o, const char* key) {
  const json& v = need(o, key);
  if (!v.is_array()) fail(ErrorCode::bad_field, std::string("'") + key + "' must be an array");
  return v;
}

// --- shared pieces ----------------------------------------------------------------

json to_json(const TimelineEntry& e) {
  json j{{"at_ms", e.at_ms}, {"kind", name_of(e.kind)}, {"actor", e.actor}};
  if (e.kind == TimelineKind::alert) {
    j["alert_id"] = e.alert;
    j["alert_kind"] = name_of(e.alert_kind);
    // Device detail is stored as JSON text; send it as an object when it is one.
    json detail = json::parse(e.text, nullptr, false);
    j["detail"] = detail.is_discarded() ? json(e.text) : detail;
  } else if (!e.text.empty()) {
    j["text"] = e.text;
  }
  return j;
}

TimelineEntry entry_from(const json& j) {
  TimelineEntry e;
  e.at_ms = need_int(j, "at_ms");
  e.kind = need_enum<TimelineKind>(j, "kind");
  e.actor = need_string(j, "actor");
  if (e.kind == TimelineKind::alert) {
    e.alert = need_int(j, "alert_id");
    e.alert_kind = need_enum<AlertKind>(j, "alert_kind");
    e.text = has(j, "detail") ? need(j, "detail").dump() : "{}";
  } else {
    e.text = opt_string(j, "text");
  }
  return e;
}

json header_json(const Incident& i) {
  json j{{"id", i.id},
         {"elder_id", i.elder},
         {"state", name_of(i.state)},
         {"opened_ms", i.opened_ms}};
  if (i.acknowledged_ms) {
    j["acknowledged_ms"] = i.acknowledged_ms;
    j["acknowledged_by"] = i.acknowledged_by;
  }
  if (i.resolved_ms) {
    j["resolved_ms"] = i.resolved_ms;
    j["disposition"] = i.disposition;
  }
  return j;
}

Incident header_from(const json& j) {
  Incident i;
  i.id = need_int(j, "id");
  i.elder = need_int(j, "elder_id");
  i.state = need_enum<IncidentState>(j, "state");
  i.opened_ms = need_int(j, "opened_ms");
  i.acknowledged_ms = opt_int(j, "acknowledged_ms", 0);
  i.acknowledged_by = opt_string(j, "acknowledged_by");
  i.resolved_ms = opt_int(j, "resolved_ms", 0);
  i.disposition = opt_string(j, "disposition");
  return i;
}

json timeline_json(const std::vector<TimelineEntry>& entries) {
  json a = json::array();
  for (const auto& e : entries) a.push_back(to_json(e));
  return a;
}

std::vector<TimelineEntry> timeline_from(const json& a) {
  std::vector<TimelineEntry> out;
  for (const auto& e : a) out.push_back(entry_from(e));
  return out;
}

json to_json(const ElderCard& c) {
  json contacts = json::array();
  for (const auto& k : c.contacts)
    contacts.push_back({{"name", k.name}, {"relation", k.relation}, {"phone", k.phone}});
  json j{{"id", c.id},
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
         {"paired_worker", c.paired_worker},
         {"visit_consent", c.visit_consent}};
  return j;
}

ElderCard card_from(const json& j) {
  ElderCard c;
  c.id = need_int(j, "id");
  c.name = need_string(j, "name");
  c.sex = need_enum<Sex>(j, "sex");
  c.age = static_cast<int>(need_int(j, "age"));
  c.tier = need_enum<CareTier>(j, "tier");
  c.living = need_enum<LivingSituation>(j, "living");
  if (has(j, "ability")) c.ability = need_enum<Ability>(j, "ability");
  c.disability_grade = static_cast<int>(need_int(j, "disability_grade"));
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
  c.paired_worker = opt_string(j, "paired_worker");
  c.visit_consent = need_bool(j, "visit_consent");
  return c;
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

}  // namespace

ElderCard make_card(const Elder& e, std::string_view today, const Worker* paired) {
  ElderCard c;
  c.id = e.id;
  c.name = e.name;
  c.sex = e.sex;
  c.age = age_on(e.birth_date, today);
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
  c.id_masked = mask_id_number(e.id_number);
  c.contacts = e.contacts;
  c.family_doctor = e.family_doctor;
  c.family_doctor_phone = e.family_doctor_phone;
  c.paired_worker = paired ? paired->name : "";
  c.visit_consent = e.visit_consent;
  return c;
}

// --- client messages ------------------------------------------------------------------

Result<ClientMessage> parse_client(std::string_view text) {
  try {
    json j = parse_object(text);
    ClientMessage m;
    m.req = read_req(j);
    std::string type = need_string(j, "type");
    if (type == "hello") {
      if (has(j, "v") && need_int(j, "v") != kVersion)
        fail(ErrorCode::bad_field, "protocol version " + need(j, "v").dump() + " is not supported; use 1");
      auto role = parse_role(need_string(j, "role"));
      if (!role) fail(ErrorCode::bad_field, "'role' must be device, console or field");
      m.body = Hello{*role, need_string(j, "token")};
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
      if (has(j, "battery_pct")) a.battery_pct = static_cast<int>(need_int(j, "battery_pct"));
      m.body = std::move(a);
    } else if (type == "subscribe") {
      m.body = Subscribe{};
    } else if (type == "ack_incident") {
      m.body = AckIncident{need_int(j, "incident_id")};
    } else if (type == "resolve_incident") {
      m.body = ResolveIncident{need_int(j, "incident_id"), need_string(j, "disposition")};
    } else if (type == "ping") {
      m.body = Ping{};
    } else {
      fail(ErrorCode::unknown_type, "unknown message type '" + type + "'");
    }
    return m;
  } catch (const Failure& f) {
    return f.error;
  }
}

std::string encode(const ClientMessage& m) {
  json j;
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, Hello>) {
          j = {{"type", "hello"}, {"v", kVersion}, {"role", name_of(b.role)}, {"token", b.token}};
        } else if constexpr (std::is_same_v<T, Subscribe>) {
          j = {{"type", "subscribe"}};
        } else if constexpr (std::is_same_v<T, AlarmIn>) {
          j = {{"type", "alarm"}, {"device", b.device}, {"seq", b.seq}, {"kind", name_of(b.kind)},
               {"device_time_ms", b.device_time_ms}};
          json detail = json::parse(b.detail, nullptr, false);
          if (!detail.is_discarded()) j["detail"] = detail;
          if (b.battery_pct) j["battery_pct"] = *b.battery_pct;
        } else if constexpr (std::is_same_v<T, AckIncident>) {
          j = {{"type", "ack_incident"}, {"incident_id", b.incident}};
        } else if constexpr (std::is_same_v<T, ResolveIncident>) {
          j = {{"type", "resolve_incident"}, {"incident_id", b.incident}, {"disposition", b.disposition}};
        } else if constexpr (std::is_same_v<T, Ping>) {
          j = {{"type", "ping"}};
        }
      },
      m.body);
  if (!m.req.empty()) j["req"] = m.req;
  return j.dump();
}

// --- server messages ------------------------------------------------------------------

std::string encode(const ServerMessage& m) {
  json j;
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, Welcome>) {
          j = {{"type", "welcome"}, {"v", kVersion}, {"role", name_of(b.role)}, {"subject", b.subject},
               {"server_time_ms", b.server_time_ms}, {"epoch", b.epoch}};
        } else if constexpr (std::is_same_v<T, Ack>) {
          j = {{"type", "ack"}, {"device", b.device}, {"seq", b.seq}, {"alert_id", b.ack.alert},
               {"incident_id", b.ack.incident}, {"duplicate", b.ack.duplicate}};
        } else if constexpr (std::is_same_v<T, Snapshot>) {
          json incidents = json::array();
          for (const auto& i : b.incidents) {
            json x = header_json(i);
            x["timeline"] = timeline_json(i.timeline);
            incidents.push_back(std::move(x));
          }
          json elders = json::array();
          for (const auto& c : b.elders) elders.push_back(to_json(c));
          j = {{"type", "snapshot"}, {"seq", b.seq}, {"epoch", b.epoch},
               {"server_time_ms", b.server_time_ms}, {"incidents", incidents}, {"elders", elders}};
        } else if constexpr (std::is_same_v<T, DeltaMessage>) {
          j = {{"type", "delta"}, {"seq", b.seq}, {"event", name_of(b.kind)},
               {"incident", header_json(b.incident)}, {"append", timeline_json(b.append)}};
          if (b.elder) j["elder"] = to_json(*b.elder);
        } else if constexpr (std::is_same_v<T, Ok>) {
          j = {{"type", "ok"}, {"incident_id", b.incident}};
        } else if constexpr (std::is_same_v<T, ErrorReply>) {
          j = {{"type", "error"}, {"code", code_name(b.error.code)}, {"message", b.error.message}};
        } else if constexpr (std::is_same_v<T, Pong>) {
          j = {{"type", "pong"}, {"server_time_ms", b.server_time_ms}};
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
    std::string type = need_string(j, "type");
    if (type == "welcome") {
      auto role = parse_role(need_string(j, "role"));
      if (!role) fail(ErrorCode::bad_field, "bad role");
      m.body = Welcome{*role, need_string(j, "subject"), need_int(j, "server_time_ms"), need_string(j, "epoch")};
    } else if (type == "ack") {
      m.body = Ack{need_string(j, "device"), need_int(j, "seq"),
                   AlarmAck{need_int(j, "alert_id"), need_int(j, "incident_id"), need_bool(j, "duplicate")}};
    } else if (type == "snapshot") {
      Snapshot s;
      s.seq = static_cast<std::uint64_t>(need_int(j, "seq"));
      s.epoch = need_string(j, "epoch");
      s.server_time_ms = need_int(j, "server_time_ms");
      for (const auto& x : need_array(j, "incidents")) {
        Incident i = header_from(x);
        i.timeline = timeline_from(need_array(x, "timeline"));
        s.incidents.push_back(std::move(i));
      }
      for (const auto& x : need_array(j, "elders")) s.elders.push_back(card_from(x));
      m.body = std::move(s);
    } else if (type == "delta") {
      DeltaMessage d;
      d.seq = static_cast<std::uint64_t>(need_int(j, "seq"));
      std::string event = need_string(j, "event");
      bool known = false;
      for (auto k : {DeltaKind::incident_opened, DeltaKind::alert_attached,
                     DeltaKind::incident_acknowledged, DeltaKind::incident_resolved})
        if (name_of(k) == event) d.kind = k, known = true;
      if (!known) fail(ErrorCode::bad_field, "unknown event '" + event + "'");
      d.incident = header_from(need(j, "incident"));
      d.append = timeline_from(need_array(j, "append"));
      if (has(j, "elder")) d.elder = card_from(j["elder"]);
      m.body = std::move(d);
    } else if (type == "ok") {
      m.body = Ok{opt_int(j, "incident_id", 0)};
    } else if (type == "error") {
      std::string code = need_string(j, "code");
      ErrorCode c = ErrorCode::internal;
      for (int k = 0; k <= static_cast<int>(ErrorCode::internal); ++k)
        if (code_name(static_cast<ErrorCode>(k)) == code) c = static_cast<ErrorCode>(k);
      m.body = ErrorReply{{c, opt_string(j, "message")}};
    } else if (type == "pong") {
      m.body = Pong{need_int(j, "server_time_ms")};
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

}  // namespace anxin::protocol
