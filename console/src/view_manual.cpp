// The manual-incident form (issue 14, item 3): an operator on the phone, or facing a
// walk-in or a neighbour, opens an incident by hand. M in the queue and incident
// views opens it, a modal window over the console (so the views' own keys rest). Find the elder as the
// unknown-caller panel does (find_elders: name, phone, address, the ID number's last
// digits), or mark the caller unknown (U) with their number and name if given;
// choose the kind (← →) and the source (1–4); say what was reported (T); Enter
// opens it, and the answer selects the new incident in the workspace. Esc closes.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string>

#include "views.hpp"

namespace anxin::console {
namespace {

constexpr int kKinds = static_cast<int>(std::size(kManualKinds));
const ImVec4 kOpenColor{0.78f, 0.40f, 0.13f, 1.0f};

Msg source_label(int k) {
  static constexpr Msg labels[] = {Msg::mi_source_phone, Msg::mi_source_walk_in, Msg::mi_source_neighbour,
                                   Msg::mi_source_other};
  return labels[std::clamp(k, 0, 3)];
}

bool ready(const ManualForm& f) { return f.unknown || f.elder != 0; }

}  // namespace

Msg manual_source_label(std::string_view source) {
  for (int k = 0; k < 4; ++k)
    if (source == kManualSources[k]) return source_label(k);
  return Msg::mi_source_other;
}

namespace {
Commands draw_manual_form(const App& app, UiState& ui) {
  Commands out;
  ManualForm& f = ui.manual;
  const bool sending = [&] {
    const Request* r = app.last_request(0, Action::open_incident);
    return r && r->status == Request::Status::sending;
  }();
  ImGui::TextUnformatted(app.tr(Msg::mi_title));
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::mi_keys));
  ImGui::PopTextWrapPos();

  // Keys of the form, when no field has the cursor.
  if (!typing()) {
    if (ImGui::IsKeyPressed(kKeyEscape, false)) {
      f.open = false;
      return out;
    }
    if (key_pressed('U')) {
      f.unknown = !f.unknown;
      if (f.unknown) f.elder = 0, f.elder_name.clear();
    }
    if (key_pressed(kKeyRight)) f.kind = (f.kind + 1) % kKinds;
    if (key_pressed(kKeyLeft)) f.kind = (f.kind + kKinds - 1) % kKinds;
    for (int k = 0; k < 4; ++k)
      if (key_pressed('1' + k)) f.source = k;
    if (key_pressed('T')) f.focus_text = true;
    if (key_pressed('/') || key_pressed('F')) f.focus_search = true;
  }

  // Who: an elder found, or an unknown caller.
  heading(app.tr(Msg::mi_who));
  if (ImGui::Checkbox(app.tr(Msg::mi_unknown), &f.unknown) && f.unknown) f.elder = 0, f.elder_name.clear();
  if (f.unknown) {
    ImGui::SetNextItemWidth(220);
    ImGui::InputTextWithHint("##caller_phone", app.tr(Msg::mi_caller_phone), f.caller_phone.data(), f.caller_phone.size(),
                             ImGuiInputTextFlags_CharsDecimal);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(220);
    ImGui::InputTextWithHint("##caller_name", app.tr(Msg::mi_caller_name), f.caller_name.data(), f.caller_name.size());
  } else {
    const protocol::ElderList* found = app.found_elders(0);
    const int n = found ? static_cast<int>(found->elders.size()) : 0;
    if (f.focus_search) {
      ImGui::SetKeyboardFocusHere();
      f.focus_search = false;
    }
    ImGui::SetNextItemWidth(std::min(420.0f, ImGui::GetContentRegionAvail().x));
    const bool enter = ImGui::InputTextWithHint("##manual_search", app.tr(Msg::link_hint), f.search.data(), f.search.size(),
                                                ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_AutoSelectAll);
    if (ImGui::IsItemEdited()) f.highlight = -1;
    if (ImGui::IsItemActive() && n > 0) {
      if (ImGui::IsKeyPressed(kKeyDown)) f.highlight = std::min(f.highlight + 1, n - 1);
      if (ImGui::IsKeyPressed(kKeyUp)) f.highlight = std::max(f.highlight - 1, 0);
    }
    if (f.highlight >= n) f.highlight = -1;
    if (enter && f.highlight >= 0) {
      const auto& e = found->elders[static_cast<size_t>(f.highlight)];
      f.elder = e.id, f.elder_name = e.name;  // chosen; the cursor leaves the field for the keys
    } else if (enter && f.search[0] && app.live()) {
      out.push(cmd::FindElders{0, f.search.data()});
      f.highlight = -1;
      f.focus_search = true;  // keep the cursor for ↑ ↓ and the Enter that chooses
    }
    if (f.elder) {
      ImGui::TextColored(kGoodText, "%s: %s  #%lld", app.tr(Msg::mi_chosen), f.elder_name.c_str(),
                         static_cast<long long>(f.elder));
    }
    const Request* search = app.last_request(0, Action::find_elders);
    if (search && search->status == Request::Status::sending) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::loading));
    else if (found && n == 0) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::link_none));
    if (n > 0 && ImGui::BeginTable("manual_found", 3, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH)) {
      for (int k = 0; k < n; ++k) {
        const protocol::ElderCard& e = found->elders[static_cast<size_t>(k)];
        ImGui::PushID(static_cast<int>(e.id));
        ImGui::TableNextRow();
        if (k == f.highlight || e.id == f.elder)
          ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, ImGui::GetColorU32(ImGuiCol_Header));
        ImGui::TableNextColumn();
        if (ImGui::Selectable(e.name.c_str(), e.id == f.elder, ImGuiSelectableFlags_SpanAllColumns))
          f.elder = e.id, f.elder_name = e.name, f.highlight = k;
        ImGui::TableNextColumn();
        ImGui::TextColored(kMutedText, "%d%s  %s  %s", e.age, app.tr(Msg::years_old), e.phone.c_str(), e.id_masked.c_str());
        ImGui::TableNextColumn();
        ImGui::TextColored(kMutedText, "%s", e.address.c_str());
        ImGui::PopID();
      }
      ImGui::EndTable();
    }
  }

  // What: the kind and the source.
  heading(app.tr(Msg::mi_what));
  // A row of radio buttons after a label, wrapped to the window's width.
  const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
  auto radio_row = [&](const char* title, int n, int& chosen, auto label_of) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextColored(kMutedText, "%s", title);
    const float indent = ImGui::GetItemRectMax().x - ImGui::GetWindowPos().x + ImGui::GetStyle().ItemSpacing.x;
    for (int k = 0; k < n; ++k) {
      const std::string label = label_of(k);
      const float w = ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(label.c_str()).x;
      if (ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x + w <= right) ImGui::SameLine();
      else ImGui::SetCursorPosX(indent);
      if (ImGui::RadioButton(label.c_str(), chosen == k)) chosen = k;
    }
  };
  radio_row(app.tr(Msg::mi_kind), kKinds, f.kind, [&](int k) { return std::string(app.tr(kManualKinds[k])); });
  radio_row(app.tr(Msg::mi_source), 4, f.source, [&](int k) {
    return std::to_string(k + 1) + " " + app.tr(source_label(k));
  });
  if (f.focus_text) {
    ImGui::SetKeyboardFocusHere();
    f.focus_text = false;
  }
  ImGui::SetNextItemWidth(-1);
  const bool text_enter = ImGui::InputTextWithHint("##manual_text", app.tr(Msg::mi_text_hint), f.text.data(), f.text.size(),
                                                   ImGuiInputTextFlags_EnterReturnsTrue);

  // Open it.
  ImGui::Spacing();
  const bool can_open = app.live() && ready(f) && !sending;
  const bool open_key = !text_enter && key_pressed(kKeyEnter);
  if (action_button(app.tr(Msg::mi_open), 0, can_open, kOpenColor) || (open_key && can_open)) {
    ManualIncidentIn in;
    in.unknown = f.unknown;
    in.elder = f.unknown ? 0 : f.elder;
    if (f.unknown) in.caller_phone = f.caller_phone.data(), in.caller_name = f.caller_name.data();
    in.kind = kManualKinds[f.kind];
    in.source = kManualSources[f.source];
    in.text = f.text.data();
    out.push(cmd::OpenIncident{in});
  }
  ImGui::SameLine();
  if (ImGui::Button(app.tr(Msg::mi_cancel))) f.open = false;
  if (!ready(f)) ImGui::TextColored(kWarnText, "%s", app.tr(Msg::mi_need_elder));
  const Request* r = app.last_request(0, Action::open_incident);
  if (r && r->status != Request::Status::ok) request_status(app, r);
  return out;
}
}  // namespace

Commands draw_manual_modal(const App& app, UiState& ui) {
  Commands out;
  constexpr const char* kId = "##manual_incident";
  const bool shown = ImGui::IsPopupOpen(kId);
  if (!ui.manual.open && !shown) {
    if ((app.view() == View::queue || app.view() == View::incident) && key_pressed('M') &&
        !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId)) {
      ui.manual = {};
      ui.manual.open = ui.manual.focus_search = true;
    }
    return out;
  }
  if (ui.manual.open && !shown) ImGui::OpenPopup(kId);
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  const ImVec2 size(std::min(vp->WorkSize.x * 0.62f, 1100.0f), std::min(vp->WorkSize.y * 0.78f, 760.0f));
  ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + vp->WorkSize.x * 0.5f, vp->WorkPos.y + vp->WorkSize.y * 0.5f),
                          ImGuiCond_Always, ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowSize(size, ImGuiCond_Always);
  if (ImGui::BeginPopupModal(kId, nullptr, ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoResize |
                                               ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings)) {
    if (ui.manual.open) out = draw_manual_form(app, ui);
    if (!ui.manual.open) ImGui::CloseCurrentPopup();  // opened, cancelled, or closed by the answer
    ImGui::EndPopup();
  }
  return out;
}

}  // namespace anxin::console
