// The history search and incident records, from the file: see history.hpp.
#include "anxin/core/history.hpp"

#include <nlohmann/json.hpp>

#include "incident_json.hpp"
#include "store_sql.hpp"

namespace anxin::history {

using store_sql::enum_or;
using store_sql::Stmt;

namespace {

// The most urgent of a comma-separated list of alert kinds (Incident::lead_kind's rule).
AlertKind lead_of(const std::string& kinds) {
  std::optional<AlertKind> lead;
  size_t start = 0;
  while (start <= kinds.size()) {
    size_t end = kinds.find(',', start);
    if (end == std::string::npos) end = kinds.size();
    if (auto k = parse_enum<AlertKind>(std::string_view(kinds).substr(start, end - start)))
      if (!lead || severity_of(*k) < severity_of(*lead)) lead = *k;
    start = end + 1;
  }
  return lead.value_or(AlertKind::sos);
}

// "device", the line's "line", or a manual incident's source, from its first alert.
std::string source_of(const std::string& device, const std::string& kind, const std::string& detail) {
  if (device.rfind("DESK-", 0) == 0) {
    auto j = nlohmann::json::parse(detail, nullptr, false);
    if (j.is_object() && j.contains("source") && j["source"].is_string()) return j["source"].get<std::string>();
    return "other";
  }
  return kind == "phone_call" ? "line" : "device";
}

}  // namespace

protocol::HistoryPage search(const Store& store, const protocol::HistoryQuery& q, const std::vector<ElderId>* elders) {
  protocol::HistoryPage page;
  page.offset = q.offset;
  if (elders && elders->empty()) return page;
  std::string where = " FROM incidents i WHERE i.state = 'resolved'";
  if (q.elder) where += " AND i.elder_id = ?1";
  if (elders) {
    where += " AND i.elder_id IN (";
    for (size_t k = 0; k < elders->size(); ++k) where += (k ? "," : "") + std::to_string((*elders)[k]);
    where += ")";
  }
  if (q.from_ms) where += " AND i.opened_ms >= ?2";
  if (q.to_ms) where += " AND i.opened_ms < ?3";
  if (q.kind) where += " AND EXISTS (SELECT 1 FROM alerts a WHERE a.incident_id = i.id AND a.kind = ?4)";
  if (!q.resolved_by.empty()) where += " AND i.resolved_by = ?5";
  if (q.disposition) where += " AND i.disposition = ?6";
  auto bind = [&](Stmt& s) {
    s.bind(1, q.elder).bind(2, q.from_ms).bind(3, q.to_ms);
    s.bind(4, q.kind ? name_of(*q.kind) : std::string_view{});
    s.bind(5, q.resolved_by).bind(6, q.disposition ? name_of(*q.disposition) : std::string_view{});
  };
  store.read([&](sqlite3* db) {
    Stmt count(db, ("SELECT COUNT(*)" + where).c_str());
    bind(count);
    while (count.next()) page.total = static_cast<int>(count.i64(0));
    Stmt s(db, ("SELECT i.id, i.elder_id, i.opened_ms, i.resolved_ms, i.acknowledged_by, i.resolved_by,"
                " i.disposition,"
                " (SELECT group_concat(a.kind) FROM alerts a WHERE a.incident_id = i.id),"
                " (SELECT COUNT(*) FROM alerts a WHERE a.incident_id = i.id),"
                " (SELECT a.device_id FROM alerts a WHERE a.incident_id = i.id ORDER BY a.id LIMIT 1),"
                " (SELECT a.kind FROM alerts a WHERE a.incident_id = i.id ORDER BY a.id LIMIT 1),"
                " (SELECT a.detail FROM alerts a WHERE a.incident_id = i.id ORDER BY a.id LIMIT 1)" +
                where + " ORDER BY i.resolved_ms DESC, i.id DESC LIMIT ?7 OFFSET ?8")
                   .c_str());
    bind(s);
    s.bind(7, q.limit).bind(8, q.offset);
    while (s.next()) {
      protocol::HistoryRow r;
      r.id = s.i64(0);
      r.elder = s.i64(1);
      r.opened_ms = s.i64(2);
      r.resolved_ms = s.i64(3);
      r.acknowledged_by = s.text(4);
      r.resolved_by = s.text(5);
      r.disposition = s.text(6);
      r.lead_kind = lead_of(s.text(7));
      r.alerts = static_cast<int>(s.i64(8));
      r.source = source_of(s.text(9), s.text(10), s.text(11));
      page.rows.push_back(std::move(r));
    }
  });
  return page;
}

RecordParts read_record(const Store& store, IncidentId id) {
  RecordParts out;
  store.read([&](sqlite3* db) {
    Stmt c(db, "SELECT record FROM closing_records WHERE incident_id = ?");
    c.bind(1, id);
    while (c.next()) {
      auto j = incident_json::json::parse(c.text(0), nullptr, false);
      try {
        if (!j.is_discarded()) out.closing = incident_json::full_from(j);
      } catch (...) {
        throw StoreError("closing record of incident " + std::to_string(id) + " is unreadable");
      }
    }
    Stmt a(db, "SELECT id, device_id, kind, received_ms, detail, repeats FROM alerts WHERE incident_id = ? ORDER BY id");
    a.bind(1, id);
    while (a.next())
      out.alerts.push_back({a.i64(0), a.text(1), enum_or(a.text(2), AlertKind::sos), a.i64(3), a.text(4),
                            static_cast<int>(a.i64(5))});
    Stmt v(db,
           "SELECT id, elder_id, IFNULL(worker_id, 0), at_ms, mode, areas, notes, hazards FROM visits"
           " WHERE incident_id = ? ORDER BY at_ms, id");
    v.bind(1, id);
    while (v.next()) {
      Visit x;
      x.id = v.i64(0); x.elder = v.i64(1); x.worker = v.i64(2); x.at_ms = v.i64(3);
      x.mode = enum_or(v.text(4), VisitMode::home);
      const std::string areas = v.text(5);
      size_t start = 0;
      while (start < areas.size()) {
        size_t end = areas.find(',', start);
        if (end == std::string::npos) end = areas.size();
        if (auto area = parse_enum<ServiceArea>(std::string_view(areas).substr(start, end - start)))
          x.areas.push_back(*area);
        start = end + 1;
      }
      x.notes = v.text(6); x.hazards = v.text(7); x.incident = id;
      out.reports.push_back(std::move(x));
    }
  });
  return out;
}

}  // namespace anxin::history
