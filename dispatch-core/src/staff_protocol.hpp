// Private to protocol.cpp: the frames of presence and handover (docs/protocol.md,
// "Presence and handover"), read and written here so protocol.cpp only routes them.
#pragma once

#include <optional>
#include <string>

#include "anxin/core/protocol.hpp"
#include "json_util.hpp"

namespace anxin::protocol::staff {

// A client message of presence and handover, or nullopt when `type` is none of them.
// Throws json_util::Failure on a bad field, as the rest of parse_client does.
std::optional<ClientBody> parse_client(const std::string& type, const json_util::json& j);

json_util::json to_json(const HandoverOffer& b);
json_util::json to_json(const HandoverAnswer& b);
json_util::json to_json(const HandoverCancel& b);
json_util::json to_json(const Reassign& b);
json_util::json to_json(const TakeOver& b);
json_util::json to_json(const Presence& b);

Presence presence_from(const json_util::json& j);

}  // namespace anxin::protocol::staff
