#include "notices.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace anxin::console {

std::optional<FailedNoticeEntry> parse_failed_notice(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  FailedNoticeEntry e;
  try {
    e.notice = j.value("notice", "");
    e.to_name = j.value("to_name", "");
    e.to = j.value("to", "");
    e.reason = j.value("reason", "");
    e.attempts = j.value("attempts", 0);
    e.task_id = j.value("task_id", std::int64_t{0});
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a field of the wrong type: show the text as it is
  }
  return e;
}

std::string describe(Lang lang, const FailedNoticeEntry& e) {
  // 120 and 119 are named by their kind alone; a contact by name and masked number.
  const bool service = e.notice == "ambulance_120" || e.notice == "fire_119";
  std::string out = e.notice == "contact_sms"     ? tr(lang, Msg::notice_sms)
                    : e.notice == "family_call"   ? tr(lang, CallKind::family)
                    : e.notice == "ambulance_120" ? tr(lang, CallKind::ambulance_120)
                    : e.notice == "fire_119"      ? tr(lang, CallKind::fire_119)
                                                  : e.notice;
  if (!service && !e.to_name.empty()) out += " · " + e.to_name;
  if (!service && !e.to.empty()) out += (e.to_name.empty() ? " · " : " ") + e.to;
  if (e.reason == "queue full") return out + " · " + tr(lang, Msg::notice_queue_full);
  out += " · " + e.reason;
  if (e.attempts > 0) {
    char tries[64];
    std::snprintf(tries, sizeof tries, tr(lang, Msg::notice_tries_fmt), e.attempts);
    out += tries;
  }
  return out;
}

}  // namespace anxin::console
