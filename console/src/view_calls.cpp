// Calls someone must make for the incident (000, 001: help call 120 or 119, and
// contact the family): buttons that open call tasks, and each task with its
// number, the countdown before the family cascade moves to the next contact, and
// the buttons to record how the call went. With the phone line and my seat up,
// those calls dial out by themselves, and the elder (key B), the family doctor and
// each responder can be dialled from here; without, the console says to dial by hand.
#include <cstdio>

#include "views.hpp"

namespace anxin::console {
namespace {

constexpr CallState kResults[] = {CallState::answered, CallState::no_answer, CallState::failed};

ImVec4 call_state_color(CallState s) {
  switch (s) {
    case CallState::pending: return kWarnText;
    case CallState::answered: return kGoodText;
    case CallState::no_answer:
    case CallState::failed: return kBadText;
    case CallState::cancelled: return kMutedText;
  }
  return kMutedText;
}

bool has_pending(const Incident& i, CallKind kind) {
  for (const CallTask& t : i.calls)
    if (t.kind == kind && t.open()) return true;
  return false;
}

// Whether calls dial out from my seat, and if not, why.
void line_note(const App& app) {
  const protocol::SeatView* seat = app.my_seat();
  char text[160];
  if (!app.line() || !app.line()->configured) {
    ImGui::TextColored(kWarnText, "%s", app.tr(Msg::line_none));
  } else if (app.seat_name().empty()) {
    ImGui::TextColored(kWarnText, "%s", app.tr(Msg::seat_none));
  } else if (!seat || !seat->up) {
    std::snprintf(text, sizeof text, app.tr(Msg::seats_down_fmt), app.seat_name().c_str());
    ImGui::TextColored(kBadText, "%s", text);
  } else if (app.my_call()) {
    ImGui::TextColored(kWarnText, "%s", app.tr(Msg::line_seat_busy));
  } else {
    std::snprintf(text, sizeof text, app.tr(Msg::line_ready_fmt), app.seat_name().c_str());
    ImGui::TextColored(kGoodText, "%s", text);
  }
}

// The elder, their family doctor and each responder on their way or there, dialled
// from my seat.
Commands dial_buttons(const App& app, const Incident& i) {
  Commands out;
  const Request* last = app.last_request(i.id, Action::dial);
  const bool can = app.can_dial() && !(last && last->status == Request::Status::sending);
  const bool keys = !typing() && !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId);
  if (action_button(app.tr(Msg::dial_elder), 'B', can) || (keys && can && key_pressed('B')))
    out.push(cmd::Dial{i.id, "elder"});
  ImGui::SameLine();
  if (action_button(app.tr(Msg::dial_doctor), 0, can)) out.push(cmd::Dial{i.id, "doctor"});
  for (const Assignment& a : i.assignments) {
    if (a.state != AssignmentState::accepted && a.state != AssignmentState::on_scene) continue;
    const Worker* w = app.replica().worker(a.worker);
    char label[128];
    std::snprintf(label, sizeof label, app.tr(Msg::dial_worker_fmt), w ? w->name.c_str() : "?");
    ImGui::PushID(static_cast<int>(a.id));
    ImGui::SameLine();
    if (action_button(label, 0, can)) out.push(cmd::Dial{i.id, "worker", a.worker});
    ImGui::PopID();
  }
  line_note(app);
  return out;
}

}  // namespace

Commands draw_calls(const App& app, const Incident& i) {
  Commands out;
  heading(app.tr(Msg::calls_title));
  const bool live = app.live();
  const ImVec4 emergency{0.62f, 0.22f, 0.22f, 1.0f};
  // A second 120 while one is pending would only confuse the telephony side.
  if (action_button(app.tr(Msg::call_120), 0, live && !has_pending(i, CallKind::ambulance_120), emergency))
    out.push(cmd::Call{i.id, CallKind::ambulance_120});
  ImGui::SameLine();
  if (action_button(app.tr(Msg::call_119), 0, live && !has_pending(i, CallKind::fire_119), emergency))
    out.push(cmd::Call{i.id, CallKind::fire_119});
  ImGui::SameLine();
  if (action_button(app.tr(Msg::call_family), 0, live && !has_pending(i, CallKind::family)))
    out.push(cmd::Call{i.id, CallKind::family});
  out += dial_buttons(app, i);

  if (i.calls.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::calls_none));
    return out;
  }
  const Millis now = app.server_now_ms();
  if (!ImGui::BeginTable("calls", 4, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH)) return out;
  ImGui::TableSetupColumn("kind", ImGuiTableColumnFlags_WidthStretch, 1.2f);
  ImGui::TableSetupColumn("phone", ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn("state", ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn("act", ImGuiTableColumnFlags_WidthFixed);
  for (const CallTask& t : i.calls) {
    ImGui::PushID(static_cast<int>(t.id));
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    if (t.kind == CallKind::family) ImGui::Text("%s  %s", app.tr(t.kind), t.name.c_str());
    else ImGui::TextUnformatted(app.tr(t.kind));
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(t.phone.c_str());
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    ImGui::TextColored(call_state_color(t.state), "%s", app.tr(t.state));
    if (t.open() && t.kind == CallKind::family && t.due_ms) {
      char next[64];
      std::snprintf(next, sizeof next, app.tr(Msg::next_contact_fmt), format_waiting(t.due_ms - now).c_str());
      ImGui::SameLine();
      ImGui::TextColored(t.due_ms - now < 15'000 ? kWarnText : kMutedText, "%s", next);
    }
    ImGui::TableNextColumn();
    if (t.open()) {
      for (CallState r : kResults) {
        if (r != kResults[0]) ImGui::SameLine(0, 4);
        if (action_button(app.tr(r), 0, live)) out.push(cmd::CallResult{i.id, t.id, r});
      }
    } else if (t.closed_ms) {
      ImGui::TextColored(kMutedText, "%s %s", format_hm(t.closed_ms).c_str(), t.actor.c_str());
    }
    ImGui::PopID();
  }
  ImGui::EndTable();
  return out;
}

}  // namespace anxin::console
