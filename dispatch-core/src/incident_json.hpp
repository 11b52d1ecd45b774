// Private: incidents, timelines and workers as JSON, the same shape on the wire
// (protocol.cpp) and in the store's archive and escalation columns (store.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include "anxin/core/domain.hpp"

namespace anxin::incident_json {

using json = nlohmann::json;

json entry(const TimelineEntry& e);
TimelineEntry entry_from(const json& j);
json timeline(const std::vector<TimelineEntry>& entries);
std::vector<TimelineEntry> timeline_from(const json& a);

json escalations(const std::vector<Escalation>& list);
std::vector<Escalation> escalations_from(const json& a);

json assignment(const Assignment& a);
Assignment assignment_from(const json& j, IncidentId incident);

// Everything but the timeline.
json header(const Incident& i);
Incident header_from(const json& j);
// Header plus timeline: the snapshot's form, and the closing record's.
json full(const Incident& i);
Incident full_from(const json& j);

json worker(const Worker& w);
Worker worker_from(const json& j);

}  // namespace anxin::incident_json
