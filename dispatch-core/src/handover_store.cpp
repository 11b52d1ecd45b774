#include "anxin/core/handover_store.hpp"

#include <nlohmann/json.hpp>

#include "store_sql.hpp"

namespace anxin::handovers {

using store_sql::Stmt;
using json = nlohmann::json;

namespace {
constexpr const char* kColumns =
    "SELECT id, from_name, to_name, notes, incidents, state, offered_ms, answered_ms, reason FROM handovers ";

protocol::HandoverView row(const Stmt& s) {
  protocol::HandoverView h;
  h.id = s.i64(0), h.from = s.text(1), h.to = s.text(2), h.notes = s.text(3);
  for (const auto& id : json::parse(s.text(4), nullptr, false))
    if (id.is_number_integer()) h.incidents.push_back(id.get<IncidentId>());
  h.state = s.text(5), h.offered_ms = s.i64(6), h.answered_ms = s.i64(7), h.reason = s.text(8);
  return h;
}

std::vector<protocol::HandoverView> rows(sqlite3* db, const std::string& tail) {
  std::vector<protocol::HandoverView> out;
  Stmt s(db, (kColumns + tail).c_str());
  while (s.next()) out.push_back(row(s));
  return out;
}
}  // namespace

SqlWrite write(const protocol::HandoverView& h) {
  return {[h](sqlite3* db) {
    Stmt s(db,
           "INSERT OR REPLACE INTO handovers(id, from_name, to_name, notes, incidents, state, offered_ms,"
           " answered_ms, reason) VALUES (?,?,?,?,?,?,?,?,?)");
    s.bind(1, h.id).bind(2, h.from).bind(3, h.to).bind(4, h.notes).bind(5, json(h.incidents).dump())
        .bind(6, h.state).bind(7, h.offered_ms).bind(8, h.answered_ms).bind(9, h.reason).run();
  }};
}

Loaded load(const Store& store, size_t limit) {
  Loaded out;
  store.read([&](sqlite3* db) {
    Stmt max(db, "SELECT IFNULL(MAX(id), 0) FROM handovers");
    if (max.next()) out.max_id = max.i64(0);
    while (max.next()) {
    }
    out.offered = rows(db, "WHERE state = 'offered' ORDER BY id");
    out.recent = rows(db, "WHERE state <> 'offered' ORDER BY id DESC LIMIT " + std::to_string(limit));
  });
  return out;
}

std::vector<protocol::HandoverView> all(const Store& store) {
  std::vector<protocol::HandoverView> out;
  store.read([&](sqlite3* db) { out = rows(db, "ORDER BY id"); });
  return out;
}

}  // namespace anxin::handovers
