// The elder's care record in the workspace (issue 14, item 6): conditions,
// medication, allergies, the preferred hospital, how to get in (the entry code
// masked; V asks the server for it, which audits the reveal, and it shows for 30 s),
// hearing and dialect, and the photo. Supervisors edit it in a form (W, or the
// button): every field by keyboard, Tab from one to the next, Ctrl+Enter saves.
#include <cstdio>
#include <string>

#include "photo.hpp"
#include "views.hpp"

namespace anxin::console {
namespace {

std::string joined(const App& app, const std::vector<std::string>& items) {
  std::string out;
  for (const auto& x : items) out += (out.empty() ? "" : (app.lang() == Lang::zh ? "、" : ", ")) + x;
  return out;
}

// "高血压、糖尿病" or "a, b; c" into items: split on , ， 、 ; ；, trimmed, empties dropped.
std::vector<std::string> items_of(const char* text) {
  std::vector<std::string> out;
  std::string s = text, cur;
  auto flush = [&] {
    const auto a = cur.find_first_not_of(' '), b = cur.find_last_not_of(' ');
    if (a != std::string::npos) out.push_back(cur.substr(a, b - a + 1));
    cur.clear();
  };
  for (size_t k = 0; k < s.size();) {
    bool sep = false;
    for (const char* d : {",", ";", "，", "、", "；"}) {
      const size_t n = std::char_traits<char>::length(d);
      if (s.compare(k, n, d) == 0) {
        flush();
        k += n;
        sep = true;
        break;
      }
    }
    if (!sep) cur += s[k++];
  }
  flush();
  return out;
}

template <size_t N> void copy_to(std::array<char, N>& buf, const std::string& s) {
  buf.fill(0);
  s.copy(buf.data(), N - 1);
}

void row(const char* label, const std::string& value, const App& app, ImVec4 color = ImVec4(0, 0, 0, 0)) {
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  ImGui::TextColored(kMutedText, "%s", label);
  ImGui::TableNextColumn();
  if (value.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::er_none));
    return;
  }
  ImGui::PushStyleColor(ImGuiCol_Text, color.w > 0 ? color : ImGui::GetStyle().Colors[ImGuiCol_Text]);
  ImGui::TextWrapped("%s", value.c_str());
  ImGui::PopStyleColor();
}

void open_form(UiState& ui, ElderId elder, const ElderRecord& r, const App& app) {
  RecordUi& f = ui.record;
  f = RecordUi{};
  f.edit_open = true;
  f.focus_first = true;
  f.elder = elder;
  copy_to(f.conditions, joined(app, r.conditions));
  copy_to(f.medications, joined(app, r.medications));
  copy_to(f.allergies, joined(app, r.allergies));
  copy_to(f.hospital, r.hospital);
  copy_to(f.entry, r.entry);
  copy_to(f.hearing, r.hearing);
  copy_to(f.dialect, r.dialect);
}

// The patch: every text field as typed; the code only when typed or cleared.
cmd::UpdateElderRecord patch_of(const RecordUi& f) {
  cmd::UpdateElderRecord c;
  c.elder = f.elder;
  ElderRecordPatch& p = c.patch;
  p.conditions = items_of(f.conditions.data());
  p.medications = items_of(f.medications.data());
  p.allergies = items_of(f.allergies.data());
  p.hospital = f.hospital.data();
  p.entry = f.entry.data();
  p.hearing = f.hearing.data();
  p.dialect = f.dialect.data();
  if (f.clear_code) p.entry_code = "";
  else if (f.new_code[0]) p.entry_code = f.new_code.data();
  c.photo_path = f.photo_path.data();
  return c;
}

Commands edit_form(const App& app, UiState& ui) {
  Commands out;
  RecordUi& f = ui.record;
  if (f.edit_open && !ImGui::IsPopupOpen("##record_edit")) ImGui::OpenPopup("##record_edit");
  const ImVec2 screen = ImGui::GetMainViewport()->WorkSize;
  ImGui::SetNextWindowSize(ImVec2(std::min(screen.x - 40, ImGui::GetFontSize() * 40), 0));
  ImGui::SetNextWindowPos(ImVec2(screen.x * 0.5f, screen.y * 0.45f), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  if (!ImGui::BeginPopupModal("##record_edit", nullptr, ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_AlwaysAutoResize)) {
    f.edit_open = false;
    return out;
  }
  ImGui::TextUnformatted(app.tr(Msg::er_edit_title));
  ImGui::SameLine();
  if (const protocol::ElderCard* e = app.replica().elder(f.elder)) ImGui::TextColored(kMutedText, "%s", e->name.c_str());
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::er_edit_hint));
  ImGui::Separator();
  if (ImGui::BeginTable("record_form", 2, ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("l", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("v", ImGuiTableColumnFlags_WidthStretch);
    auto field = [&](Msg label, char* buf, size_t size, const char* id, ImGuiInputTextFlags flags = 0) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::AlignTextToFramePadding();
      ImGui::TextUnformatted(app.tr(label));
      ImGui::TableNextColumn();
      ImGui::SetNextItemWidth(-1);
      ImGui::InputText(id, buf, size, flags | ImGuiInputTextFlags_AutoSelectAll);
    };
    if (f.focus_first) {
      ImGui::SetKeyboardFocusHere(0);  // lands on the next input: the conditions
      f.focus_first = false;
    }
    field(Msg::er_conditions, f.conditions.data(), f.conditions.size(), "##conditions");
    field(Msg::er_medications, f.medications.data(), f.medications.size(), "##medications");
    field(Msg::er_allergies, f.allergies.data(), f.allergies.size(), "##allergies");
    field(Msg::er_hospital, f.hospital.data(), f.hospital.size(), "##hospital");
    field(Msg::er_entry, f.entry.data(), f.entry.size(), "##entry");
    field(Msg::er_new_code, f.new_code.data(), f.new_code.size(), "##new_code", ImGuiInputTextFlags_Password);
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TableNextColumn();
    ImGui::Checkbox(app.tr(Msg::er_clear_code), &f.clear_code);
    field(Msg::er_hearing, f.hearing.data(), f.hearing.size(), "##hearing");
    field(Msg::er_dialect, f.dialect.data(), f.dialect.size(), "##dialect");
    field(Msg::er_photo, f.photo_path.data(), f.photo_path.size(), "##photo_path");
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TableNextColumn();
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::er_photo_path));
    ImGui::EndTable();
  }
  if (f.photo_unreadable) ImGui::TextColored(kBadText, "%s", app.tr(Msg::er_photo_unreadable));
  if (const Request* r = app.last_request(0, Action::update_record); r && r->status == Request::Status::refused)
    ImGui::TextColored(kBadText, "%s", r->error.c_str());
  ImGui::Spacing();
  const bool save_keys = ImGui::GetIO().KeyCtrl &&
                         (ImGui::IsKeyPressed(kKeyEnter, false) || ImGui::IsKeyPressed(kKeyKeypadEnter, false));
  if (action_button(app.tr(Msg::er_save), 0, app.live(), kAccent) || (save_keys && app.live())) {
    f.photo_unreadable = false;
    out.push(patch_of(f));  // the answer closes the form (app_record.cpp)
  }
  ImGui::SameLine();
  if (ImGui::Button(app.tr(Msg::cancel)) || ImGui::IsKeyPressed(kKeyEscape, false)) {
    f.edit_open = false;
    ImGui::CloseCurrentPopup();
  }
  if (!f.edit_open) ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
  return out;
}

}  // namespace

Commands draw_care_record(const App& app, UiState& ui, const Incident& i, const protocol::ElderCard& e) {
  Commands out;
  const protocol::ElderDetail* d = app.elder_detail(e.id);
  const ElderRecord* r = d && d->record ? &*d->record : nullptr;
  const bool keys = !typing() && !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId);

  heading(app.tr(Msg::er_title));
  if (app.supervisor() && r) {
    ImGui::SameLine(ImGui::GetContentRegionAvail().x - ImGui::CalcTextSize(app.tr(Msg::er_edit)).x - 40);
    if (action_button(app.tr(Msg::er_edit), 'W', app.live()) || (keys && key_pressed('W'))) open_form(ui, e.id, *r, app);
  }
  if (!r) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::er_loading));
    return out;
  }
  // V: the entry code, from the server (audited there), for 30 s.
  const bool has_code = r->has_entry_code;
  if (keys && has_code && app.live() && key_pressed('V')) out.push(cmd::RevealEntry{e.id, i.id});

  const PhotoTexture* photo = r->photo.empty() ? nullptr : &photo_texture(e.id, r->photo);
  if (photo && photo->id) {
    const float side = ImGui::GetFontSize() * 6;
    const float scale = side / std::max(photo->width, photo->height);
    ImGui::Image(photo->id, ImVec2(photo->width * scale, photo->height * scale));
    ImGui::SameLine(0, 12);
  }
  ImGui::BeginGroup();
  if (ImGui::BeginTable("care_record", 2, ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("l", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("v", ImGuiTableColumnFlags_WidthStretch);
    row(app.tr(Msg::er_conditions), joined(app, r->conditions), app, kWarnText);
    row(app.tr(Msg::er_medications), joined(app, r->medications), app);
    row(app.tr(Msg::er_allergies), joined(app, r->allergies), app, kBadText);
    row(app.tr(Msg::er_hospital), r->hospital, app);
    // How to get in: the words, then the code masked, or as revealed while it shows.
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::er_entry));
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    if (!r->entry.empty()) {
      ImGui::TextWrapped("%s", r->entry.c_str());
    }
    const auto& shown = app.revealed_entry();
    const Millis now = app.server_now_ms();
    if (shown && shown->elder == e.id && now < shown->until_ms) {
      char text[160];
      std::snprintf(text, sizeof text, app.tr(Msg::er_code_shown_fmt),
                    shown->code.empty() ? app.tr(Msg::er_code_none) : shown->code.c_str(),
                    static_cast<int>((shown->until_ms - now + 999) / 1000));
      ImGui::TextColored(kWarnText, "%s", text);
    } else if (has_code) {
      ImGui::TextUnformatted(app.tr(Msg::er_code_masked));
      ImGui::SameLine(0, 10);
      if (action_button(app.tr(Msg::er_reveal), 'V', app.live())) out.push(cmd::RevealEntry{e.id, i.id});
    } else {
      ImGui::TextColored(kMutedText, "%s", app.tr(Msg::er_code_none));
    }
    if (const Request* q = app.last_request(i.id, Action::reveal_entry); q && q->status == Request::Status::refused)
      ImGui::TextColored(kBadText, "%s", q->error.c_str());
    row(app.tr(Msg::er_hearing), r->hearing, app);
    row(app.tr(Msg::er_dialect), r->dialect, app);
    ImGui::EndTable();
  }
  if (r->updated_ms) {
    char text[160];
    std::snprintf(text, sizeof text, app.tr(Msg::er_updated_fmt), r->updated_by.c_str(),
                  format_date(r->updated_ms).c_str());
    ImGui::TextColored(kMutedText, "%s", text);
  }
  if (ui.record.saved_elder == e.id && !ui.record.edit_open) ImGui::TextColored(kGoodText, "%s", app.tr(Msg::er_saved));
  ImGui::EndGroup();
  out += edit_form(app, ui);
  return out;
}

}  // namespace anxin::console
