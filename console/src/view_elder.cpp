// The elder card: who the elder is (age, tier, living situation, conditions),
// who to call (contacts in cascade order, each with the state of its call), the
// paired visitor, and, from the server's `elder` reply, their devices (battery,
// last seen), past incidents and visits.
#include <cstdio>
#include <string>

#include "views.hpp"

namespace anxin::console {
namespace {

const ImVec4& text_color() { return ImGui::GetStyle().Colors[ImGuiCol_Text]; }

// One label/value pair of the card grid.
void fact(const char* label, const std::string& value, ImVec4 color = ImVec4(0, 0, 0, 0)) {
  ImGui::TableNextColumn();
  ImGui::TextColored(kMutedText, "%s", label);
  ImGui::TableNextColumn();
  ImGui::PushStyleColor(ImGuiCol_Text, color.w > 0 ? color : text_color());
  ImGui::TextWrapped("%s", value.c_str());
  ImGui::PopStyleColor();
}

void card(const App& app, const protocol::ElderCard& e) {
  auto yes_no = [&](bool b) { return std::string(app.tr(b ? Msg::yes : Msg::no)); };
  heading(app.tr(Msg::elder_card));
  if (ImGui::BeginTable("card", 4, ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("l1", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("v1", ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableSetupColumn("l2", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("v2", ImGuiTableColumnFlags_WidthStretch, 1.2f);
    fact(app.tr(Msg::age), std::to_string(e.age) + app.tr(Msg::years_old) + "  " + app.tr(e.sex));
    fact(app.tr(Msg::tier), app.tr(e.tier), tier_color(e.tier));
    fact(app.tr(Msg::living), app.tr(e.living),
         e.living == LivingSituation::alone ? kWarnText : ImVec4(0, 0, 0, 0));
    fact(app.tr(Msg::ability), e.ability ? app.tr(*e.ability) : app.tr(Msg::not_assessed),
         e.ability ? ImVec4(0, 0, 0, 0) : kMutedText);
    char grade[32];
    std::snprintf(grade, sizeof grade, app.tr(Msg::grade_fmt), e.disability_grade);
    fact(app.tr(Msg::disability_grade), e.disability_grade > 0 ? grade : app.tr(Msg::none));
    fact(app.tr(Msg::dementia), yes_no(e.dementia), e.dementia ? kWarnText : ImVec4(0, 0, 0, 0));
    fact(app.tr(Msg::economic), app.tr(e.economic));
    fact(app.tr(Msg::phone), e.phone);
    fact(app.tr(Msg::visit_consent), app.tr(e.visit_consent ? Msg::consent_given : Msg::consent_missing),
         e.visit_consent ? ImVec4(0, 0, 0, 0) : kWarnText);
    fact(app.tr(Msg::paired_worker), e.paired_worker.empty() ? app.tr(Msg::none) : e.paired_worker);
    fact(app.tr(Msg::special_family), yes_no(e.special_family));
    ImGui::EndTable();
  }
  if (ImGui::BeginTable("card_long", 2, ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("l", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("v", ImGuiTableColumnFlags_WidthStretch);
    fact(app.tr(Msg::address), e.address);
    fact(app.tr(Msg::id_number), e.id_masked);  // masked by the server; shown exactly as sent
    fact(app.tr(Msg::family_doctor),
         e.family_doctor.empty() ? app.tr(Msg::none) : e.family_doctor + "  " + e.family_doctor_phone);
    ImGui::EndTable();
  }
}

// The latest family call to contact `k`, if the cascade has reached them.
const CallTask* call_to(const Incident& i, int k) {
  const CallTask* last = nullptr;
  for (const CallTask& t : i.calls)
    if (t.kind == CallKind::family && t.contact_index == k) last = &t;
  return last;
}

Commands contacts(const App& app, const Incident& i, const protocol::ElderCard& e) {
  Commands out;
  heading(app.tr(Msg::contacts));
  if (e.contacts.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::none));
    return out;
  }
  if (!ImGui::BeginTable("contacts", 4, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH)) return out;
  ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn(app.tr(Msg::contact_name), ImGuiTableColumnFlags_WidthStretch, 1.2f);
  ImGui::TableSetupColumn(app.tr(Msg::phone), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_state), ImGuiTableColumnFlags_WidthStretch, 1.4f);
  int k = 0;
  for (const auto& c : e.contacts) {  // in the order the cascade calls them
    ImGui::PushID(k);
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    ImGui::TextColored(kMutedText, "%d", k + 1);
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    ImGui::Text("%s", c.name.c_str());
    ImGui::SameLine();
    ImGui::TextColored(kMutedText, "%s", c.relation.c_str());
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(c.phone.c_str());
    ImGui::TableNextColumn();
    if (const CallTask* t = call_to(i, k); t && t->open()) {
      // The one-click result for the contact being called now.
      for (CallState r : {CallState::answered, CallState::no_answer}) {
        if (r != CallState::answered) ImGui::SameLine(0, 4);
        if (action_button(app.tr(r), 0, app.live())) out.push(cmd::CallResult{i.id, t->id, r});
      }
    } else {
      if (t) {
        ImGui::AlignTextToFramePadding();
        ImGui::TextColored(t->state == CallState::answered ? kGoodText : kMutedText, "%s", app.tr(t->state));
        ImGui::SameLine(0, 8);
      }
      // One click calls this contact; the cascade goes on down the list from here.
      if (action_button(app.tr(Msg::call_contact), 0, app.live())) out.push(cmd::Call{i.id, CallKind::family, k});
    }
    ImGui::PopID();
    ++k;
  }
  ImGui::EndTable();
  return out;
}

void devices(const App& app, const protocol::ElderDetail& d, Millis now) {
  heading(app.tr(Msg::devices_title));
  if (d.devices.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::none));
    return;
  }
  if (!ImGui::BeginTable("devices", 4, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH)) return;
  ImGui::TableSetupColumn(app.tr(Msg::col_kind), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_device), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(app.tr(Msg::col_battery), ImGuiTableColumnFlags_WidthStretch, 0.5f);
  ImGui::TableSetupColumn(app.tr(Msg::col_last_seen), ImGuiTableColumnFlags_WidthStretch, 0.9f);
  ImGui::TableHeadersRow();
  for (const auto& dev : d.devices) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(app.tr(dev.kind));
    ImGui::TableNextColumn();
    ImGui::TextColored(kMutedText, "%s", dev.id.c_str());
    ImGui::TableNextColumn();
    ImGui::TextColored(dev.battery_pct < 20 ? kBadText : text_color(), "%d%%", dev.battery_pct);
    ImGui::TableNextColumn();
    if (dev.last_seen_ms) ImGui::TextUnformatted(format_age(app, dev.last_seen_ms, now).c_str());
    else ImGui::TextColored(kWarnText, "%s", app.tr(Msg::device_never));
  }
  ImGui::EndTable();
}

void history(const App& app, const protocol::ElderDetail& d) {
  heading(app.tr(Msg::history_title));
  if (d.incidents.empty()) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::none));
  for (const auto& p : d.incidents) {
    ImGui::TextColored(kMutedText, "%s", format_date(p.opened_ms).c_str());
    ImGui::SameLine();
    ImGui::TextUnformatted(app.tr(p.lead_kind));
    ImGui::SameLine();
    auto disposition = parse_enum<Disposition>(p.disposition);
    ImGui::TextColored(kMutedText, "%s", disposition ? app.tr(*disposition) : app.tr(Msg::still_open));
  }
  heading(app.tr(Msg::visits_title));
  if (d.visits.empty()) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::none));
  for (const auto& v : d.visits) {
    ImGui::TextColored(kMutedText, "%s", format_date(v.visit.at_ms).c_str());
    ImGui::SameLine();
    ImGui::Text("%s  %s", app.tr(v.visit.mode), v.worker.c_str());
    if (!v.visit.notes.empty()) {
      ImGui::SameLine();
      ImGui::PushTextWrapPos(0);
      ImGui::TextColored(kMutedText, "%s", v.visit.notes.c_str());
      ImGui::PopTextWrapPos();
    }
    if (!v.visit.hazards.empty()) {
      ImGui::PushTextWrapPos(0);
      ImGui::TextColored(kWarnText, "  %s", v.visit.hazards.c_str());
      ImGui::PopTextWrapPos();
    }
  }
}

}  // namespace

Commands draw_elder(const App& app, const Incident& i, const protocol::ElderCard& e) {
  card(app, e);
  Commands out = contacts(app, i, e);
  // Devices and history come from the `elder` reply; until it arrives, or on a
  // server that does not offer it yet, the card above is all there is.
  if (const protocol::ElderDetail* d = app.elder_detail(e.id)) {
    devices(app, *d, app.server_now_ms());
    history(app, *d);
  } else {
    ImGui::Spacing();
    ImGui::TextColored(kMutedText, "%s",
                       app.tr(app.elder_detail_supported() ? Msg::loading : Msg::history_unavailable));
  }
  return out;
}

}  // namespace anxin::console
