// The frames of manual incidents and history (issue 14): see protocol_manual.hpp.
#include "protocol_manual.hpp"

#include "incident_json.hpp"

namespace anxin::protocol::manual {

using namespace json_util;
namespace ij = incident_json;

bool known_source(std::string_view s) { return s == "phone" || s == "walk_in" || s == "neighbour" || s == "other"; }

namespace {

std::string bounded(const json& j, const char* key, size_t max) {
  std::string v = opt_string(j, key);
  if (v.size() > max) fail(ErrorCode::bad_field, std::string("'") + key + "' is at most " + std::to_string(max) + " bytes");
  return v;
}

json visit_json(const VisitView& v) {
  json areas = json::array();
  for (auto a : v.visit.areas) areas.push_back(name_of(a));
  return {{"at_ms", v.visit.at_ms}, {"worker", v.worker}, {"worker_id", v.visit.worker}, {"mode", name_of(v.visit.mode)},
          {"areas", areas}, {"notes", v.visit.notes}, {"hazards", v.visit.hazards}, {"incident_id", v.visit.incident}};
}

VisitView visit_from(const json& x) {
  VisitView v;
  v.visit.at_ms = need_int(x, "at_ms");
  v.worker = opt_string(x, "worker");
  v.visit.worker = opt_int(x, "worker_id", 0);
  v.visit.mode = opt_enum(x, "mode", VisitMode::home);
  for (const auto& a : need_array(x, "areas")) {
    auto area = a.is_string() ? parse_enum<ServiceArea>(a.get<std::string>()) : std::nullopt;
    if (area) v.visit.areas.push_back(*area);  // an area this client does not know is left out
  }
  v.visit.notes = opt_string(x, "notes");
  v.visit.hazards = opt_string(x, "hazards");
  v.visit.incident = opt_int(x, "incident_id", 0);
  return v;
}

}  // namespace

std::optional<ClientBody> parse_client(const std::string& type, const json& j) {
  if (type == "open_incident") {
    ManualIncidentIn in;
    in.unknown = opt_bool(j, "unknown", false);
    if (in.unknown) {
      if (has(j, "elder_id")) fail(ErrorCode::bad_field, "give 'elder_id' or 'unknown', not both");
      in.caller_phone = bounded(j, "caller_phone", 32);
      in.caller_name = bounded(j, "caller_name", 64);
    } else {
      if (!has(j, "elder_id")) fail(ErrorCode::missing_field, "missing field 'elder_id' (or \"unknown\": true)");
      in.elder = need_int(j, "elder_id");
    }
    in.kind = need_enum<AlertKind>(j, "kind");
    in.source = need_string(j, "source");
    if (!known_source(in.source)) fail(ErrorCode::bad_field, "'source' must be phone, walk_in, neighbour or other");
    in.text = bounded(j, "text", 2000);
    return OpenIncident{std::move(in)};
  }
  if (type == "history") {
    HistoryQuery q;
    q.elder = opt_int(j, "elder_id", 0);
    q.elder_text = bounded(j, "elder", 64);
    q.from_ms = opt_int(j, "from_ms", 0);
    q.to_ms = opt_int(j, "to_ms", 0);
    if (q.from_ms < 0 || q.to_ms < 0) fail(ErrorCode::bad_field, "'from_ms' and 'to_ms' must not be negative");
    if (q.from_ms && q.to_ms && q.to_ms <= q.from_ms) fail(ErrorCode::bad_field, "'to_ms' must be after 'from_ms'");
    if (has(j, "kind")) q.kind = need_enum<AlertKind>(j, "kind");
    q.resolved_by = bounded(j, "resolved_by", 64);
    if (has(j, "disposition")) q.disposition = need_enum<Disposition>(j, "disposition");
    q.limit = opt_int_in(j, "limit", 1, 200, 50);
    q.offset = opt_int_in(j, "offset", 0, 1'000'000, 0);
    return q;
  }
  if (type == "incident_record") return IncidentRecordQuery{need_int(j, "incident_id")};
  if (type == "reopen_incident") {
    ReopenIncident r{need_int(j, "incident_id"), need_string(j, "reason")};
    if (r.reason.empty() || r.reason.size() > 2000) fail(ErrorCode::bad_field, "'reason' must be 1..2000 bytes");
    return r;
  }
  return std::nullopt;
}

json encode(const OpenIncident& b) {
  const ManualIncidentIn& in = b.in;
  json j = {{"type", "open_incident"}, {"kind", name_of(in.kind)}, {"source", in.source}};
  if (in.unknown) {
    j["unknown"] = true;
    if (!in.caller_phone.empty()) j["caller_phone"] = in.caller_phone;
    if (!in.caller_name.empty()) j["caller_name"] = in.caller_name;
  } else {
    j["elder_id"] = in.elder;
  }
  if (!in.text.empty()) j["text"] = in.text;
  return j;
}

json encode(const HistoryQuery& q) {
  json j = {{"type", "history"}, {"limit", q.limit}, {"offset", q.offset}};
  if (q.elder) j["elder_id"] = q.elder;
  if (!q.elder_text.empty()) j["elder"] = q.elder_text;
  if (q.from_ms) j["from_ms"] = q.from_ms;
  if (q.to_ms) j["to_ms"] = q.to_ms;
  if (q.kind) j["kind"] = name_of(*q.kind);
  if (!q.resolved_by.empty()) j["resolved_by"] = q.resolved_by;
  if (q.disposition) j["disposition"] = name_of(*q.disposition);
  return j;
}

json encode(const IncidentRecordQuery& b) { return {{"type", "incident_record"}, {"incident_id", b.incident}}; }

json encode(const ReopenIncident& b) {
  return {{"type", "reopen_incident"}, {"incident_id", b.incident}, {"reason", b.reason}};
}

json encode(const ManualIncident& b) {
  const ManualOpened& o = b.opened;
  return {{"type", "manual_incident"}, {"incident_id", o.incident}, {"alert_id", o.alert}, {"elder_id", o.elder},
          {"joined", o.joined}, {"acknowledged", o.acknowledged}};
}

json encode(const HistoryPage& b) {
  json rows = json::array();
  for (const auto& r : b.rows)
    rows.push_back({{"id", r.id}, {"elder_id", r.elder}, {"elder_name", r.elder_name}, {"opened_ms", r.opened_ms},
                    {"resolved_ms", r.resolved_ms}, {"lead_kind", name_of(r.lead_kind)}, {"alerts", r.alerts},
                    {"source", r.source}, {"acknowledged_by", r.acknowledged_by}, {"resolved_by", r.resolved_by},
                    {"disposition", r.disposition}});
  return {{"type", "history"}, {"rows", rows}, {"total", b.total}, {"offset", b.offset}};
}

json encode(const IncidentRecord& b) {
  json alerts = json::array();
  for (const auto& a : b.alerts)
    alerts.push_back({{"id", a.id}, {"device", a.device}, {"kind", name_of(a.kind)}, {"received_ms", a.received_ms},
                      {"detail", a.detail}, {"repeats", a.repeats}});
  json reports = json::array();
  for (const auto& v : b.reports) reports.push_back(visit_json(v));
  return {{"type", "incident_record"}, {"incident", ij::full(b.incident)}, {"alerts", alerts},
          {"reports", reports}, {"reopen_until_ms", b.reopen_until_ms}};
}

std::optional<ServerBody> parse_server(const std::string& type, const json& j) {
  if (type == "manual_incident") {
    ManualOpened o;
    o.incident = need_int(j, "incident_id");
    o.alert = need_int(j, "alert_id");
    o.elder = need_int(j, "elder_id");
    o.joined = need_bool(j, "joined");
    o.acknowledged = need_bool(j, "acknowledged");
    return ManualIncident{o};
  }
  if (type == "history") {
    HistoryPage p;
    p.total = need_int_in(j, "total", 0, 1'000'000'000);
    p.offset = need_int_in(j, "offset", 0, 1'000'000'000);
    for (const auto& x : need_array(j, "rows")) {
      HistoryRow r;
      r.id = need_int(x, "id");
      r.elder = need_int(x, "elder_id");
      r.elder_name = opt_string(x, "elder_name");
      r.opened_ms = need_int(x, "opened_ms");
      r.resolved_ms = need_int(x, "resolved_ms");
      r.lead_kind = opt_enum(x, "lead_kind", AlertKind::sos);
      r.alerts = need_int_in(x, "alerts", 0, 1'000'000'000);
      r.source = opt_string(x, "source");
      r.acknowledged_by = opt_string(x, "acknowledged_by");
      r.resolved_by = opt_string(x, "resolved_by");
      r.disposition = opt_string(x, "disposition");
      p.rows.push_back(std::move(r));
    }
    return p;
  }
  if (type == "incident_record") {
    IncidentRecord r;
    r.incident = ij::full_from(need(j, "incident"));
    for (const auto& x : need_array(j, "alerts")) {
      AlertView a;
      a.id = need_int(x, "id");
      a.device = need_string(x, "device");
      a.kind = opt_enum(x, "kind", AlertKind::sos);
      a.received_ms = need_int(x, "received_ms");
      a.detail = opt_string(x, "detail");
      a.repeats = static_cast<int>(opt_int(x, "repeats", 0));
      r.alerts.push_back(std::move(a));
    }
    for (const auto& x : need_array(j, "reports")) r.reports.push_back(visit_from(x));
    r.reopen_until_ms = opt_int(j, "reopen_until_ms", 0);
    return r;
  }
  return std::nullopt;
}

}  // namespace anxin::protocol::manual
