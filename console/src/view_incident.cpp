// The selected incident: a header, the Acknowledge button with the server's
// answer beside it, the elder's card, and the alert timeline.
#include <string>

#include "views.hpp"

namespace anxin::console {
namespace {

void heading(const char* text) {
  ImGui::Spacing();
  ImGui::TextColored(kMutedText, "%s", text);
  ImGui::Separator();
}

void header(const App& app, const Incident& i, const protocol::ElderCard* e) {
  ImGui::TextUnformatted(e ? e->name.c_str() : ("#" + std::to_string(i.elder)).c_str());
  ImGui::SameLine(0, 14);
  chip(app.tr(i.severity()), severity_color(i.severity()));
  ImGui::SameLine(0, 10);
  ImGui::TextUnformatted(app.tr(i.lead_kind()));
  if (int n = i.alert_count(); n > 1) {
    ImGui::SameLine();
    ImGui::TextColored(kMutedText, "×%d", n);
  }
  ImGui::TextColored(kMutedText, "%s #%lld  ·  %s %s  ·  %s %s", app.tr(Msg::incident_label),
                     static_cast<long long>(i.id), app.tr(Msg::opened_at), format_date_hms(i.opened_ms).c_str(),
                     app.tr(Msg::col_waiting), format_waiting(app.server_now_ms() - i.opened_ms).c_str());
}

Commands acknowledge_row(const App& app, const Incident& i) {
  Commands out;
  const AckRequest* req = app.ack_request(i.id);
  const bool sending = req && req->status == AckRequest::Status::sending;
  const bool enabled = i.state == IncidentState::open && app.live() && !sending;

  // The one call to action on screen is coloured; disabled, it goes plain grey.
  ImGui::BeginDisabled(!enabled);
  if (enabled) {
    ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.78f, 0.40f, 0.13f, 1.0f));
    ImGui::PushStyleColor(ImGuiCol_ButtonHovered, ImVec4(0.86f, 0.47f, 0.17f, 1.0f));
    ImGui::PushStyleColor(ImGuiCol_ButtonActive, ImVec4(0.70f, 0.34f, 0.10f, 1.0f));
  }
  if (ImGui::Button(app.tr(Msg::acknowledge), ImVec2(160, ImGui::GetFrameHeight() * 1.3f))) out.acknowledge = i.id;
  if (enabled) ImGui::PopStyleColor(3);
  ImGui::EndDisabled();

  // Beside the button: who holds the incident, then the server's answer to this
  // console's own request (an error can be long: it wraps, never clips).
  const bool held = i.state == IncidentState::acknowledged;
  ImGui::SameLine(0, 16);
  ImGui::BeginGroup();
  if (!(held && req)) ImGui::SetCursorPosY(ImGui::GetCursorPosY() + ImGui::GetFrameHeight() * 0.15f);
  if (held) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::acknowledged_by));
    ImGui::SameLine();
    ImGui::Text("%s  %s", i.acknowledged_by.c_str(), format_hms(i.acknowledged_ms).c_str());
  }
  if (req) {
    ImGui::PushTextWrapPos(0.0f);  // wrap at the pane's right edge
    switch (req->status) {
      case AckRequest::Status::sending: ImGui::TextColored(kMutedText, "%s", app.tr(Msg::ack_sending)); break;
      case AckRequest::Status::ok: ImGui::TextColored(kGoodText, "%s (ok)", app.tr(Msg::ack_ok)); break;
      case AckRequest::Status::refused:
        ImGui::PushStyleColor(ImGuiCol_Text, kBadText);
        ImGui::TextWrapped("%s  %s", app.tr(Msg::ack_refused), req->error.c_str());
        ImGui::PopStyleColor();
        break;
      case AckRequest::Status::no_reply: ImGui::TextColored(kWarnText, "%s", app.tr(Msg::ack_no_reply)); break;
      case AckRequest::Status::not_sent: ImGui::TextColored(kBadText, "%s", app.tr(Msg::ack_not_connected)); break;
    }
    ImGui::PopTextWrapPos();
  }
  ImGui::EndGroup();
  return out;
}

// One label/value pair of the card grid.
void fact(const char* label, const std::string& value, ImVec4 color = ImGui::GetStyle().Colors[ImGuiCol_Text]) {
  ImGui::TableNextColumn();
  ImGui::TextColored(kMutedText, "%s", label);
  ImGui::TableNextColumn();
  ImGui::PushStyleColor(ImGuiCol_Text, color);
  ImGui::TextWrapped("%s", value.c_str());
  ImGui::PopStyleColor();
}

void elder_card(const App& app, const protocol::ElderCard& e) {
  auto yes_no = [&](bool b) { return std::string(app.tr(b ? Msg::yes : Msg::no)); };
  heading(app.tr(Msg::elder_card));
  if (ImGui::BeginTable("card", 4, ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("l1", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("v1", ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableSetupColumn("l2", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("v2", ImGuiTableColumnFlags_WidthStretch, 1.3f);
    fact(app.tr(Msg::sex), app.tr(e.sex));
    fact(app.tr(Msg::age), std::to_string(e.age) + app.tr(Msg::years_old));
    fact(app.tr(Msg::tier), app.tr(e.tier));
    fact(app.tr(Msg::living), app.tr(e.living));
    fact(app.tr(Msg::ability), e.ability ? app.tr(*e.ability) : app.tr(Msg::not_assessed),
         e.ability ? ImGui::GetStyle().Colors[ImGuiCol_Text] : kMutedText);
    fact(app.tr(Msg::disability_grade),
         e.disability_grade > 0 ? app.tr(Msg::grade_prefix) + std::to_string(e.disability_grade) + app.tr(Msg::grade_suffix)
                                : app.tr(Msg::none));
    fact(app.tr(Msg::dementia), yes_no(e.dementia), e.dementia ? kWarnText : ImGui::GetStyle().Colors[ImGuiCol_Text]);
    fact(app.tr(Msg::special_family), yes_no(e.special_family));
    fact(app.tr(Msg::economic), app.tr(e.economic));
    fact(app.tr(Msg::visit_consent), app.tr(e.visit_consent ? Msg::consent_given : Msg::consent_missing),
         e.visit_consent ? ImGui::GetStyle().Colors[ImGuiCol_Text] : kWarnText);
    fact(app.tr(Msg::phone), e.phone);
    fact(app.tr(Msg::id_number), e.id_masked);  // masked by the server; shown exactly as sent
    ImGui::EndTable();
  }
  if (ImGui::BeginTable("card_long", 2, ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("l", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("v", ImGuiTableColumnFlags_WidthStretch);
    fact(app.tr(Msg::address), e.town + " " + e.community + " " + e.address);
    fact(app.tr(Msg::family_doctor),
         e.family_doctor.empty() ? app.tr(Msg::none) : e.family_doctor + "  " + e.family_doctor_phone);
    fact(app.tr(Msg::paired_worker), e.paired_worker.empty() ? app.tr(Msg::none) : e.paired_worker);
    ImGui::EndTable();
  }

  heading(app.tr(Msg::contacts));
  if (e.contacts.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::none));
  } else if (ImGui::BeginTable("contacts", 4, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH)) {
    ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn(app.tr(Msg::contact_name), ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableSetupColumn(app.tr(Msg::contact_relation), ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableSetupColumn(app.tr(Msg::phone), ImGuiTableColumnFlags_WidthStretch, 1.4f);
    ImGui::TableHeadersRow();
    int n = 0;
    for (const auto& c : e.contacts) {  // in the order to call them
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextColored(kMutedText, "%d", ++n);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(c.name.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(c.relation.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(c.phone.c_str());
    }
    ImGui::EndTable();
  }
}

void timeline(const App& app, const Incident& i) {
  heading(app.tr(Msg::timeline));
  const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerH |
                                ImGuiTableFlags_SizingStretchProp;
  if (!ImGui::BeginTable("timeline", 4, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(app.tr(Msg::col_time), ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::col_event), ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::col_actor), ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::col_detail), ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(i.timeline.size()));
  while (clipper.Step()) {
    for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
      const TimelineEntry& t = i.timeline[k];
      ImGui::PushID(k);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(format_hms(t.at_ms).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(t.kind == TimelineKind::alert ? app.tr(t.alert_kind) : app.tr(t.kind));
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(t.actor.c_str());
      ImGui::TableNextColumn();
      // Device detail is JSON as the device sent it; one line here, all of it on hover.
      ImGui::PushStyleColor(ImGuiCol_Text, kMutedText);
      ImGui::TextUnformatted(t.text.c_str());  // not Text(): it truncates long strings
      ImGui::PopStyleColor();
      if (ImGui::IsItemHovered() && !t.text.empty()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
        ImGui::TextUnformatted(t.text.c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
      }
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
}

}  // namespace

Commands draw_incident(const App& app) {
  const std::optional<IncidentId> selected = app.selected();
  if (!selected) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::incident_none_selected));
    return {};
  }
  const Incident* i = app.replica().incident(*selected);
  if (!i) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::incident_gone));
    return {};
  }
  const protocol::ElderCard* e = app.replica().elder(i->elder);
  header(app, *i, e);
  Commands out = acknowledge_row(app, *i);
  if (e) elder_card(app, *e);
  timeline(app, *i);
  return out;
}

}  // namespace anxin::console
