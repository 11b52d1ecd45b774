// Who holds an incident (Incident::acknowledged_by) after it was acknowledged: a
// handover between colleagues, a supervisor's reassign or take_over (issue 14, item
// 5). The gateway decides who may do it and whether the new holder is signed in
// (ws-gateway/src/handover.cpp); this only checks the incident and records the change.
#include <nlohmann/json.hpp>

#include "dispatch_internal.hpp"

namespace anxin {

Result<IncidentId> Dispatcher::change_holder(const Principal& who, IncidentId id, const std::string& to,
                                             const std::string& action, const std::string& detail) {
  if (who.role != Role::console) return Error{ErrorCode::forbidden, "only consoles change who holds an incident"};
  if (to.empty()) return Error{ErrorCode::missing_field, "the new holder needs a name"};
  auto found = open_incident(id);
  if (!found) return found.error();
  Incident& incident = *found.value();
  if (incident.state != IncidentState::acknowledged)
    return Error{ErrorCode::bad_state, "incident " + std::to_string(id) + " is waiting: nobody holds it yet"};
  if (incident.acknowledged_by == to)
    return Error{ErrorCode::bad_state, "incident " + std::to_string(id) + " is already in " + to + "'s hands"};
  nlohmann::json text = nlohmann::json::parse(detail, nullptr, false);
  if (!text.is_object()) text = nlohmann::json::object();
  text["how"] = action;
  text["from"] = incident.acknowledged_by;
  text["to"] = to;
  const size_t mark = incident.timeline.size();
  incident.acknowledged_by = to;
  note(incident, TimelineKind::handed_over, display_name(who), text.dump());
  save(incident);
  audit(who, action, id, text.dump());
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  return id;
}

}  // namespace anxin
