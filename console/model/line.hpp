// The centre's phone line as this console sees it (issue 9, docs/telephony.md): what
// the views ask of the server's last `line` frame (my seat, the callers waiting), and
// the `phone` entries the line writes on an incident's timeline, read back into
// words. The frame itself is kept by the Replica. No ImGui.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anxin/core/protocol.hpp"
#include "i18n.hpp"

namespace anxin::console {

const protocol::SeatView* seat_named(const protocol::LineState& line, std::string_view name);
const protocol::CallView* call_at(const protocol::LineState& line, std::string_view seat);
// Inbound calls nobody has answered yet, longest waiting first (the server's order).
std::vector<const protocol::CallView*> waiting_calls(const protocol::LineState& line);
// The seat's state as words: idle, dialling, ringing, talking.
const char* seat_state_text(Lang, std::string_view state);

// A `phone` timeline entry: the JSON summary the line writes when a call ends.
struct PhoneLogEntry {
  bool outgoing = false;
  std::string target;  // inbound, elder, ambulance_120, fire_119, family, worker, doctor
  std::string seat, number;
  std::string result;  // answered, no_answer, busy, failed, missed
  int ring_s = 0, talk_s = 0;
  std::string reason;
  std::string recording;  // "12/seat1-abc-heard.wav", what the seat heard; empty if none
};
std::optional<PhoneLogEntry> parse_phone_entry(std::string_view text);
// A phone_call alert's detail ({"number","via","call_id","contact"?}) in words:
// "13800000001 · 老人本人电话"; nullopt if it is not such a detail.
std::optional<std::string> describe_phone_alert(Lang, std::string_view detail);
// "呼入 13800000001 已接通 通话 3 秒", "Out 120 answered, talk 42 s",
// "呼出 家属 13900000001 无人接听 振铃 30 秒".
std::string describe(Lang, const PhoneLogEntry&);

}  // namespace anxin::console
