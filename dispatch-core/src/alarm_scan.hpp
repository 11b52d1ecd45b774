// Private: the alarm frame read without a JSON tree (issue 15).
//
// Devices send more alarms than every other frame together. With only new alerts,
// the tree nlohmann::json builds of each alarm was 10 % of the network thread
// (docs/benchmarks.md, "The alarm's own JSON"). scan_alarm reads the frame devices
// send: one object of strings and integers, with a detail that is an object of strings
// and integers too. Anything else it leaves to the tree, and so is anything the tree
// would refuse. The tree reads every frame and gives every error, so a frame read here
// is read as the tree reads it (tests/test_alarm_scan.cpp and the fuzz target
// client_frame compare the two).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "anxin/core/protocol.hpp"

namespace anxin::protocol {

// The alarm in `text`, or nothing when `text` is another frame, or not a plain one.
std::optional<ClientMessage> scan_alarm(std::string_view text);

// Whether `text` is one object of strings and integers, as scan_alarm reads a detail,
// and nothing else: JSON for certain, known without a parser (frame_text.cpp).
bool plain_object(std::string_view text);

// parse_client without scan_alarm: every frame through the JSON tree.
Result<ClientMessage> parse_client_tree(std::string_view text, std::string* req_out = nullptr);

// Why the tree refuses a device's boot, or null (protocol.cpp; docs/protocol.md, "Boots").
const char* boot_fault(std::string_view boot);

}  // namespace anxin::protocol
