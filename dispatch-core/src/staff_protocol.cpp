// The frames of presence and handover (docs/protocol.md, "Presence and handover"):
// handover, handover_answer, handover_cancel, reassign, take_over from consoles, and
// presence to them. Pure functions; protocol.cpp routes to them.
#include "staff_protocol.hpp"

namespace anxin::protocol::staff {

using namespace json_util;

namespace {
constexpr size_t kMaxNotesBytes = 2000;
constexpr size_t kMaxIncidents = 200;

std::string read_name(const json& j, const char* key) {
  std::string name = need_string(j, key);
  if (name.empty() || name.size() > 64) fail(ErrorCode::bad_field, std::string("'") + key + "' must be 1..64 bytes");
  return name;
}
}  // namespace

std::optional<ClientBody> parse_client(const std::string& type, const json& j) {
  if (type == "handover") {
    HandoverOffer h;
    h.to = read_name(j, "to");
    h.notes = opt_string(j, "notes");
    if (h.notes.size() > kMaxNotesBytes) fail(ErrorCode::bad_field, "'notes' is at most 2000 bytes");
    if (has(j, "incidents")) {
      const json& ids = need_array(j, "incidents");
      if (ids.size() > kMaxIncidents) fail(ErrorCode::bad_field, "'incidents' holds at most 200 ids");
      for (const auto& id : ids) {
        const IncidentId v = as_int(id, "incidents");
        if (v <= 0) fail(ErrorCode::bad_field, "'incidents' must hold incident ids");
        h.incidents.push_back(v);
      }
    }
    return h;
  }
  if (type == "handover_answer") return HandoverAnswer{need_int(j, "handover_id"), need_bool(j, "accept")};
  if (type == "handover_cancel") return HandoverCancel{need_int(j, "handover_id")};
  if (type == "reassign") return Reassign{need_int(j, "incident_id"), read_name(j, "to")};
  if (type == "take_over") return TakeOver{need_int(j, "incident_id")};
  return std::nullopt;
}

json to_json(const HandoverOffer& b) {
  json j{{"type", "handover"}, {"to", b.to}, {"notes", b.notes}};
  if (!b.incidents.empty()) j["incidents"] = b.incidents;
  return j;
}
json to_json(const HandoverAnswer& b) {
  return {{"type", "handover_answer"}, {"handover_id", b.handover}, {"accept", b.accept}};
}
json to_json(const HandoverCancel& b) { return {{"type", "handover_cancel"}, {"handover_id", b.handover}}; }
json to_json(const Reassign& b) { return {{"type", "reassign"}, {"incident_id", b.incident}, {"to", b.to}}; }
json to_json(const TakeOver& b) { return {{"type", "take_over"}, {"incident_id", b.incident}}; }

json to_json(const Presence& b) {
  json staff = json::array(), handovers = json::array();
  for (const auto& s : b.staff)
    staff.push_back({{"name", s.name}, {"kind", s.kind}, {"since_ms", s.since_ms}, {"seat", s.seat},
                     {"consoles", s.consoles}});
  for (const auto& h : b.handovers)
    handovers.push_back({{"id", h.id}, {"from", h.from}, {"to", h.to}, {"notes", h.notes},
                         {"incidents", h.incidents}, {"state", h.state}, {"offered_ms", h.offered_ms},
                         {"answered_ms", h.answered_ms}, {"reason", h.reason}});
  return {{"type", "presence"}, {"staff", staff}, {"handovers", handovers}};
}

Presence presence_from(const json& j) {
  Presence p;
  for (const auto& x : need_array(j, "staff"))
    p.staff.push_back({need_string(x, "name"), need_string(x, "kind"), opt_int(x, "since_ms", 0),
                       opt_string(x, "seat"), static_cast<int>(opt_int(x, "consoles", 0))});
  for (const auto& x : need_array(j, "handovers")) {
    HandoverView h;
    h.id = need_int(x, "id");
    h.from = need_string(x, "from");
    h.to = need_string(x, "to");
    h.notes = opt_string(x, "notes");
    for (const auto& id : need_array(x, "incidents")) h.incidents.push_back(as_int(id, "incidents"));
    h.state = need_string(x, "state");
    h.offered_ms = opt_int(x, "offered_ms", 0);
    h.answered_ms = opt_int(x, "answered_ms", 0);
    h.reason = opt_string(x, "reason");
    p.handovers.push_back(std::move(h));
  }
  return p;
}

}  // namespace anxin::protocol::staff
