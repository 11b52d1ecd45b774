// Private to the protocol codec: the frames of manual incidents and history (issue 14,
// docs/protocol.md "open_incident", "history", "incident_record", "reopen_incident"),
// kept apart from protocol.cpp, which calls these. Throws json_util::Failure on bad input.
#pragma once

#include <optional>
#include <string>

#include "anxin/core/protocol.hpp"
#include "json_util.hpp"

namespace anxin::protocol::manual {

using json = nlohmann::json;

// A client frame of type `type`, or nullopt when the type is not one of these.
std::optional<ClientBody> parse_client(const std::string& type, const json& j);
json encode(const OpenIncident& b);
json encode(const HistoryQuery& b);
json encode(const IncidentRecordQuery& b);
json encode(const ReopenIncident& b);

// Server frames. The record's elder card is added and read by protocol.cpp.
json encode(const ManualIncident& b);
json encode(const HistoryPage& b);
json encode(const IncidentRecord& b);
std::optional<ServerBody> parse_server(const std::string& type, const json& j);

// The manual sources an operator may give.
bool known_source(std::string_view source);

}  // namespace anxin::protocol::manual
