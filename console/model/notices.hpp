// The notice_failed entries the server writes on an incident's timeline when an SMS
// or a call request could not be delivered (docs/protocol.md, "Notices"), read back
// into words. No ImGui.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "i18n.hpp"

namespace anxin::console {

struct FailedNoticeEntry {
  std::string notice;       // contact_sms, family_call, ambulance_120, fire_119
  std::string to_name, to;  // `to` is masked ("139****0001"), except 120 and 119
  std::string reason;       // the last error: "HTTP 500", "Couldn't connect to server", "queue full"
  int attempts = 0;
  std::int64_t task_id = 0;  // the call task it requested, 0 for an SMS
};
std::optional<FailedNoticeEntry> parse_failed_notice(std::string_view text);
// "联系人短信 · 王建国 139****0001 · HTTP 500（试了 3 次）",
// "Ambulance 120 · queue full, not sent".
std::string describe(Lang, const FailedNoticeEntry&);

}  // namespace anxin::console
