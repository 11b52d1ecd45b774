// Which frames belong to the visiting programme (docs/visits.md). Their fields are
// read by the gateway's visits module; here only their names, so the protocol can
// route them and the disk-full rule can tell reads from writes.
#include <array>
#include <utility>

#include "anxin/core/protocol.hpp"

namespace anxin::protocol {

namespace {

constexpr std::array<std::pair<std::string_view, bool>, 15> kCommands{{
    {"phone_visits", false},     {"my_visits", false},       {"visit_report", false},
    {"export_report", false},    {"campaigns", false},       {"pairing", false},
    {"phone_visit_result", true}, {"start_visit", true},     {"finish_visit", true},
    {"close_hazard", true},      {"import_roster", true},    {"update_elder", true},
    {"set_plan", true},          {"start_campaign", true},   {"end_campaign", true},
}};

constexpr std::array<std::string_view, 12> kReplies{
    "visit_list",  "visit_report", "export",           "campaigns",      "pairing",       "visit_recorded",
    "visit_started", "visit_finished", "hazard_closed", "roster_imported", "elder_updated", "campaign",
};

}  // namespace

std::optional<bool> visits_message(std::string_view type) {
  for (const auto& [name, writes] : kCommands)
    if (name == type) return writes;
  return std::nullopt;
}

bool visits_reply(std::string_view type) {
  if (type == "visits_changed") return true;
  for (auto name : kReplies)
    if (name == type) return true;
  return false;
}

}  // namespace anxin::protocol
