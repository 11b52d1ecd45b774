#include "line.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace anxin::console {
namespace proto = anxin::protocol;

const proto::SeatView* seat_named(const proto::LineState& line, std::string_view name) {
  for (const auto& s : line.seats)
    if (s.name == name) return &s;
  return nullptr;
}

const proto::CallView* call_at(const proto::LineState& line, std::string_view seat) {
  for (const auto& c : line.calls)
    if (c.seat == seat) return &c;
  return nullptr;
}

std::vector<const proto::CallView*> waiting_calls(const proto::LineState& line) {
  std::vector<const proto::CallView*> out;
  for (const auto& c : line.calls)
    if (!c.outgoing && c.state == "ringing") out.push_back(&c);
  return out;
}

const char* seat_state_text(Lang lang, std::string_view state) {
  if (state == "dialling") return tr(lang, Msg::seat_dialling);
  if (state == "ringing") return tr(lang, Msg::seat_ringing);
  if (state == "talking") return tr(lang, Msg::seat_talking);
  return tr(lang, Msg::seat_idle);
}

std::optional<PhoneLogEntry> parse_phone_entry(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  PhoneLogEntry e;
  try {
    e.outgoing = j.value("direction", "") == "out";
    e.target = j.value("target", "");
    e.seat = j.value("seat", "");
    e.number = j.value("number", "");
    e.result = j.value("result", "");
    e.ring_s = j.value("ring_s", 0);
    e.talk_s = j.value("talk_s", 0);
    e.reason = j.value("reason", "");
    e.recording = j.value("recording", "");
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a field of the wrong type: show the text as it is
  }
  return e;
}

namespace {

// Who was called, as the operator says it: 120 and 119 are their own names.
std::string callee(Lang lang, const PhoneLogEntry& e) {
  Msg who;
  if (e.target == "elder") who = Msg::target_elder;
  else if (e.target == "doctor") who = Msg::target_doctor;
  else if (e.target == "worker") who = Msg::target_worker;
  else if (e.target == "family") who = Msg::target_family;
  else return e.number;
  return std::string(tr(lang, who)) + " " + e.number;
}

const char* result_text(Lang lang, std::string_view result) {
  if (result == "answered") return tr(lang, Msg::result_answered);
  if (result == "no_answer") return tr(lang, Msg::result_no_answer);
  if (result == "busy") return tr(lang, Msg::result_busy);
  if (result == "missed") return tr(lang, Msg::result_missed);
  return tr(lang, Msg::result_failed);
}

}  // namespace

std::optional<std::string> describe_phone_alert(Lang lang, std::string_view detail) {
  const auto j = nlohmann::json::parse(detail, nullptr, false);
  auto text = [&](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  if (!j.is_object() || text("number").empty()) return std::nullopt;
  const std::string via = text("via");
  std::string how;
  if (via == "device_sim") how = tr(lang, Msg::via_device_sim);
  else if (via == "elder_phone") how = tr(lang, Msg::via_elder_phone);
  else if (via == "contact") {
    char buf[160];
    std::snprintf(buf, sizeof buf, tr(lang, Msg::via_contact_fmt), text("contact").c_str());
    how = buf;
  }
  return how.empty() ? text("number") : text("number") + " · " + how;
}

std::string describe(Lang lang, const PhoneLogEntry& e) {
  std::string out = tr(lang, e.outgoing ? Msg::phone_out : Msg::phone_in);
  out += " " + (e.outgoing ? callee(lang, e) : e.number) + " " + result_text(lang, e.result);
  char span[64];
  const bool answered = e.result == "answered";
  std::snprintf(span, sizeof span, tr(lang, answered ? Msg::phone_talk_fmt : Msg::phone_ring_fmt),
                answered ? e.talk_s : e.ring_s);
  return out + span;
}

}  // namespace anxin::console
