// The supervisor's tools on the dashboard's visits tab (docs/visits.md): the campaign
// form (发起专项关爱) and each active campaign's End, pairing (结对帮扶), open hazards
// with their close (销号) and the flagged visits, the month's exports, and the roster
// import. What a supervisor types lives in UiState; every button becomes a Command
// that App sends. Operators see the same parts: the server refuses the supervisors'
// messages (E_FORBIDDEN) and the answer says so in words.
#include <algorithm>
#include <cstdio>
#include <string>

#include "views.hpp"

namespace anxin::console {
namespace {

Msg campaign_reason_label(const std::string& r) {
  if (r == "festival") return Msg::creason_festival;
  if (r == "public_health") return Msg::creason_public_health;
  return Msg::creason_weather;
}

const char* flag_words(const App& app, const std::string& flag) {
  if (flag == "far_from_home") return app.tr(Msg::flag_far);
  if (flag == "too_short") return app.tr(Msg::flag_short);
  return flag.c_str();
}

// "重点人群、独居 · 城关镇" or "全部老人": whom a campaign chose.
std::string campaign_scope(const App& app, const CampaignProgress& c) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : "、") + s; };
  for (const auto& t : c.tiers)
    if (auto v = parse_enum<CareTier>(t)) add(app.tr(*v));
  for (const auto& l : c.living)
    if (auto v = parse_enum<LivingSituation>(l)) add(app.tr(*v));
  std::string towns;
  for (const auto& t : c.towns) towns += (towns.empty() ? "" : "、") + t;
  if (!towns.empty()) out += (out.empty() ? "" : " · ") + towns;
  return out.empty() ? app.tr(Msg::all_elders) : out;
}

// Checkboxes that flow onto the next line when the row is full.
template <class Label, class Tick>
void checkbox_row(size_t n, Label label, Tick ticked) {
  const float right = ImGui::GetCursorScreenPos().x + ImGui::GetContentRegionAvail().x;
  for (size_t k = 0; k < n; ++k) {
    const char* text = label(k);
    const float w = ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(text).x;
    if (k > 0) {
      ImGui::SameLine();
      if (ImGui::GetCursorScreenPos().x + w > right) ImGui::NewLine();
    }
    ImGui::PushID(static_cast<int>(k));
    bool on = ticked(k);
    if (ImGui::Checkbox(text, &on)) ticked(k, on);
    ImGui::PopID();
  }
}

void form_label(const char* text) {
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  ImGui::AlignTextToFramePadding();
  ImGui::TextColored(kMutedText, "%s", text);
  ImGui::TableNextColumn();
}

bool sending(const App& app, Action a) {
  const Request* r = app.last_request(0, a);
  return r && r->status == Request::Status::sending;
}

}  // namespace

// --- campaigns ---------------------------------------------------------------------

Commands draw_campaign_list(const App& app, bool with_end) {
  Commands out;
  heading(app.tr(Msg::vr_campaigns));
  const auto& list = app.campaigns();
  size_t shown = 0;
  const bool can_end = app.live() && !sending(app, Action::end_campaign);
  if (list)
    for (const CampaignProgress& c : list->campaigns) {
      if (!c.active) continue;
      ++shown;
      ImGui::PushID(static_cast<int>(c.id));
      ImGui::TextUnformatted(c.name.c_str());
      ImGui::SameLine();
      ImGui::TextColored(kMutedText, "%s  ·  %s — %s", app.tr(campaign_reason_label(c.reason)),
                         c.first_date.c_str(), c.last_date.c_str());
      ImGui::PushTextWrapPos(0.0f);
      ImGui::TextColored(kMutedText, "%s：%s", app.tr(Msg::campaign_scope), campaign_scope(app, c).c_str());
      ImGui::PopTextWrapPos();
      char overlay[96];
      std::snprintf(overlay, sizeof overlay, app.tr(Msg::vr_reached_fmt), c.reached, c.chosen);
      const float done = c.chosen ? static_cast<float>(c.reached) / static_cast<float>(c.chosen) : 1.0f;
      const char* end = app.tr(Msg::campaign_end);
      const float end_w = with_end ? ImGui::CalcTextSize(end).x + ImGui::GetStyle().FramePadding.x * 2 : 0;
      ImGui::PushStyleColor(ImGuiCol_PlotHistogram, done >= 1.0f ? kGoodText : kAccent);
      ImGui::ProgressBar(done, ImVec2(with_end ? -(end_w + ImGui::GetStyle().ItemSpacing.x) : -1, 0), overlay);
      ImGui::PopStyleColor();
      if (with_end) {
        ImGui::SameLine();
        if (action_button(end, 0, can_end, ImVec4(0.55f, 0.25f, 0.24f, 1))) out.push(cmd::EndCampaign{c.id});
      }
      ImGui::Spacing();
      ImGui::PopID();
    }
  if (!shown) ImGui::TextColored(kMutedText, "%s", app.tr(list ? Msg::vr_no_campaigns : Msg::loading));
  if (with_end) {
    const Request* r = app.last_request(0, Action::end_campaign);
    if (r && r->status == Request::Status::ok && app.campaign_changed()) {
      ImGui::TextColored(kGoodText, app.tr(Msg::campaign_ended_fmt), app.campaign_changed()->name.c_str());
    } else {
      request_status(app, r);
    }
  }
  return out;
}

Commands draw_campaign_form(const App& app, UiState& ui) {
  Commands out;
  heading(app.tr(Msg::vs_campaign));
  UiState::CampaignEdit& e = ui.campaign;
  const ImGuiTableFlags flags = ImGuiTableFlags_SizingStretchProp;
  if (ImGui::BeginTable("campaign_form", 2, flags)) {
    ImGui::TableSetupColumn("label", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 9);
    ImGui::TableSetupColumn("input", ImGuiTableColumnFlags_WidthStretch);

    form_label(app.tr(Msg::cf_name));
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##name", app.tr(Msg::cf_name_hint), e.name.data(), e.name.size());

    form_label(app.tr(Msg::cf_reason));
    const Msg reasons[] = {Msg::creason_weather, Msg::creason_festival, Msg::creason_public_health};
    for (int k = 0; k < 3; ++k) {
      if (k) ImGui::SameLine();
      ImGui::RadioButton(app.tr(reasons[k]), &e.reason, k);
    }

    const std::string today = format_date(app.server_now_ms());
    const float date_w = ImGui::CalcTextSize("0000-00-00").x + ImGui::GetStyle().FramePadding.x * 2 + 8;
    form_label(app.tr(Msg::cf_first));
    ImGui::SetNextItemWidth(date_w);
    ImGui::InputTextWithHint("##first", today.c_str(), e.first_date.data(), e.first_date.size(),
                             ImGuiInputTextFlags_CharsDecimal | ImGuiInputTextFlags_CharsNoBlank);
    ImGui::SameLine();
    ImGui::AlignTextToFramePadding();
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::cf_last));
    ImGui::SameLine();
    ImGui::SetNextItemWidth(date_w);
    ImGui::InputTextWithHint("##last", e.first_date[0] ? e.first_date.data() : today.c_str(), e.last_date.data(),
                             e.last_date.size(), ImGuiInputTextFlags_CharsDecimal | ImGuiInputTextFlags_CharsNoBlank);

    form_label(app.tr(Msg::cf_reach_by));
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    if (ImGui::InputInt("##hour", &e.reach_by_hour, 1, 1)) e.reach_by_hour = std::clamp(e.reach_by_hour, 1, 23);

    form_label(app.tr(Msg::cf_tiers));
    const CareTier tiers[] = {CareTier::key, CareTier::sub_key, CareTier::general};
    ImGui::PushID("tiers");
    checkbox_row(
        3, [&](size_t k) { return app.tr(tiers[k]); },
        [&](size_t k, std::optional<bool> set = std::nullopt) { return set ? (e.tiers[k] = *set) : e.tiers[k]; });
    ImGui::PopID();

    form_label(app.tr(Msg::cf_towns));
    std::vector<std::string> towns;  // the report's, and any ticked that it no longer has
    if (const auto& m = app.visit_report_month())
      for (const VisitRate& t : m->towns) towns.push_back(t.key);
    for (const auto& t : e.towns)
      if (std::find(towns.begin(), towns.end(), t) == towns.end()) towns.push_back(t);
    if (towns.empty()) ImGui::TextColored(kMutedText, "%s", app.tr(Msg::cf_no_towns));
    ImGui::PushID("towns");
    checkbox_row(
        towns.size(), [&](size_t k) { return towns[k].c_str(); },
        [&](size_t k, std::optional<bool> set = std::nullopt) {
          auto it = std::find(e.towns.begin(), e.towns.end(), towns[k]);
          if (set && *set && it == e.towns.end()) e.towns.push_back(towns[k]);
          if (set && !*set && it != e.towns.end()) e.towns.erase(it);
          return set ? *set : it != e.towns.end();
        });
    ImGui::PopID();

    form_label(app.tr(Msg::cf_living));
    const LivingSituation living[] = {LivingSituation::alone, LivingSituation::empty_nest, LivingSituation::left_behind,
                                      LivingSituation::elderly_only, LivingSituation::with_family};
    ImGui::PushID("living");
    checkbox_row(
        5, [&](size_t k) { return app.tr(living[k]); },
        [&](size_t k, std::optional<bool> set = std::nullopt) { return set ? (e.living[k] = *set) : e.living[k]; });
    ImGui::PopID();

    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TableNextColumn();
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::cf_all_hint));
    const bool named = e.name[0] != 0;
    if (action_button(app.tr(Msg::vs_campaign), 0, app.live() && named && !sending(app, Action::start_campaign),
                      ImVec4(0.20f, 0.45f, 0.70f, 1)))
      out.push(cmd::StartCampaign{form_of(e)});
    if (!named) {
      ImGui::SameLine();
      ImGui::AlignTextToFramePadding();
      ImGui::TextColored(kMutedText, "%s", app.tr(Msg::cf_need_name));
    }
    const Request* r = app.last_request(0, Action::start_campaign);
    if (r && r->status == Request::Status::ok && app.campaign_changed()) {
      ImGui::PushTextWrapPos(0.0f);
      ImGui::TextColored(kGoodText, app.tr(Msg::cf_started_fmt), app.campaign_changed()->name.c_str(),
                         app.campaign_changed()->chosen);
      ImGui::PopTextWrapPos();
    } else {
      request_status(app, r);
    }
    ImGui::EndTable();
  }
  return out;
}

// --- hazards and flagged visits -------------------------------------------------------

Commands draw_hazards(const App& app, UiState& ui, float height) {
  Commands out;
  const auto& month = app.visit_report_month();
  heading(app.tr(Msg::vr_hazards));
  const Request* last = app.last_request(0, Action::close_hazard);
  if (last && last->status == Request::Status::ok && app.hazard_closed())
    ImGui::TextColored(kGoodText, app.tr(Msg::hz_closed_fmt), static_cast<long long>(*app.hazard_closed()));
  else
    request_status(app, last);
  if (!month || month->hazards.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(month ? Msg::hz_none : Msg::loading));
    return out;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH |
                                ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY;
  if (!ImGui::BeginTable("hazards", 5, flags, ImVec2(0, height))) return out;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(app.tr(Msg::col_name), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableSetupColumn(app.tr(Msg::col_area), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableSetupColumn(app.tr(Msg::col_hazard), ImGuiTableColumnFlags_WidthStretch, 1.6f);
  ImGui::TableSetupColumn(app.tr(Msg::col_due), ImGuiTableColumnFlags_WidthStretch, 0.7f);
  ImGui::TableSetupColumn(app.tr(Msg::hz_close), ImGuiTableColumnFlags_WidthStretch, 2.0f);
  ImGui::TableHeadersRow();
  const Millis now = app.server_now_ms();
  const bool can = app.live() && !sending(app, Action::close_hazard);
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(month->hazards.size()));
  while (clipper.Step())
    for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
      const OpenHazard& h = month->hazards[k];
      ImGui::PushID(static_cast<int>(h.id));
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::AlignTextToFramePadding();
      ImGui::TextUnformatted(h.name.c_str());
      ImGui::TableNextColumn();
      const auto area = parse_enum<ServiceArea>(h.area);
      ImGui::TextUnformatted(area ? app.tr(*area) : h.area.c_str());
      ImGui::TableNextColumn();
      ImGui::PushTextWrapPos(0.0f);
      ImGui::TextUnformatted(h.text.c_str());
      ImGui::PopTextWrapPos();
      ImGui::TableNextColumn();
      ImGui::TextColored(h.due_ms && h.due_ms < now ? kBadText : ImGui::GetStyle().Colors[ImGuiCol_Text], "%s",
                         format_date(h.due_ms).c_str());
      ImGui::TableNextColumn();
      if (ui.closing_hazard == h.id) {
        // The note says what was done; the close is sent with it.
        const char* ok = app.tr(Msg::hz_close);
        const float ok_w = ImGui::CalcTextSize(ok).x + ImGui::GetStyle().FramePadding.x * 2;
        const float x_w = ImGui::GetFrameHeight();
        ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - ok_w - x_w - ImGui::GetStyle().ItemSpacing.x * 2);
        if (ui.focus_hazard_note) ImGui::SetKeyboardFocusHere(), ui.focus_hazard_note = false;
        const bool entered = ImGui::InputTextWithHint("##note", app.tr(Msg::hz_note_hint), ui.hazard_note.data(),
                                                      ui.hazard_note.size(), ImGuiInputTextFlags_EnterReturnsTrue);
        const bool noted = ui.hazard_note[0] != 0;
        ImGui::SameLine();
        if ((action_button(ok, 0, can && noted, ImVec4(0.20f, 0.50f, 0.32f, 1)) || (entered && noted && can)))
          out.push(cmd::CloseHazard{h.id, ui.hazard_note.data()});
        ImGui::SameLine();
        if (ImGui::Button("×", ImVec2(x_w, 0))) ui.closing_hazard = 0, ui.hazard_note.fill(0);
      } else if (action_button(app.tr(Msg::hz_close), 0, can)) {
        ui.closing_hazard = h.id;  // ask for the note on the row
        ui.hazard_note.fill(0);
        ui.focus_hazard_note = true;
      }
      ImGui::PopID();
    }
  ImGui::EndTable();
  return out;
}

void draw_flagged(const App& app) {
  const auto& month = app.visit_report_month();
  heading(app.tr(Msg::vr_flagged));
  if (!month || month->flagged_visits.empty()) {
    ImGui::TextColored(kMutedText, "%s", app.tr(month ? Msg::fl_none : Msg::loading));
    return;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerH |
                                ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY;
  if (!ImGui::BeginTable("flagged", 5, flags, ImVec2(0, std::max(ImGui::GetContentRegionAvail().y, 80.0f)))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(app.tr(Msg::col_name), ImGuiTableColumnFlags_WidthStretch, 0.8f);
  ImGui::TableSetupColumn(app.tr(Msg::col_visitor), ImGuiTableColumnFlags_WidthStretch, 0.8f);
  ImGui::TableSetupColumn(app.tr(Msg::col_minutes), ImGuiTableColumnFlags_WidthStretch, 0.5f);
  ImGui::TableSetupColumn(app.tr(Msg::col_from_home), ImGuiTableColumnFlags_WidthStretch, 0.6f);
  ImGui::TableSetupColumn(app.tr(Msg::col_visit_flags), ImGuiTableColumnFlags_WidthStretch, 1.4f);
  ImGui::TableHeadersRow();
  const auto& workers = app.replica().workers();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(month->flagged_visits.size()));
  while (clipper.Step())
    for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
      const FlaggedVisit& v = month->flagged_visits[k];
      ImGui::PushID(static_cast<int>(v.visit));
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(v.name.c_str());
      ImGui::TableNextColumn();
      const auto w = workers.find(v.worker);
      const std::string actor = w != workers.end() ? w->second.name : v.actor.substr(v.actor.find(':') + 1);
      ImGui::TextUnformatted(actor.c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%lld", static_cast<long long>(v.minutes));
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(format_distance(static_cast<double>(v.distance_m)).c_str());
      ImGui::TableNextColumn();
      std::string words;
      for (const auto& f : v.flags) words += (words.empty() ? "" : "、") + std::string(flag_words(app, f));
      ImGui::TextColored(kWarnText, "%s", words.c_str());
      ImGui::PopID();
    }
  ImGui::EndTable();
}

// --- pairing -----------------------------------------------------------------------------

void draw_pairing(const App& app, size_t max_names) {
  heading(app.tr(Msg::vs_pairing));
  const auto& p = app.pairing();
  if (!p) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::loading));
    return;
  }
  char line[192];
  if (p->unpaired.empty()) {
    ImGui::TextColored(kGoodText, "%s", app.tr(Msg::pr_all_paired));
  } else {
    std::snprintf(line, sizeof line, app.tr(Msg::pr_unpaired_fmt), p->unpaired.size());
    ImGui::TextColored(kWarnText, "%s", line);
    ImGui::Indent();
    const size_t n = std::min(max_names, p->unpaired.size());
    for (size_t k = 0; k < n; ++k) {
      const auto& u = p->unpaired[k];
      ImGui::Text("%s", u.name.c_str());
      ImGui::SameLine();
      ImGui::TextColored(kMutedText, "%s %s", u.town.c_str(), u.community.c_str());
    }
    if (n < p->unpaired.size()) {
      std::snprintf(line, sizeof line, app.tr(Msg::pr_more_fmt), p->unpaired.size() - n);
      ImGui::TextColored(kMutedText, "%s", line);
    }
    ImGui::Unindent();
  }
  ImGui::Spacing();
  if (p->overloaded.empty()) {
    ImGui::TextColored(kGoodText, "%s", app.tr(Msg::pr_none_overloaded));
    return;
  }
  std::snprintf(line, sizeof line, app.tr(Msg::pr_overloaded_fmt), p->max_elders_per_visitor);
  ImGui::TextColored(kWarnText, "%s", line);
  ImGui::Indent();
  for (const auto& o : p->overloaded) {
    std::snprintf(line, sizeof line, app.tr(Msg::pr_elders_fmt), o.elders);
    ImGui::Text("%s", o.name.c_str());
    ImGui::SameLine();
    ImGui::TextColored(kBadText, "%s", line);
    ImGui::SameLine();
    ImGui::TextColored(kMutedText, "/ %d", p->max_elders_per_visitor);
  }
  ImGui::Unindent();
}

// --- exports and the roster ----------------------------------------------------------------

Commands draw_visit_exports(const App& app) {
  Commands out;
  ImGui::AlignTextToFramePadding();
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::exp_title));
  const auto& e = app.visits_export();
  const bool can = app.live() && !(e && !e->done);
  const std::pair<const char*, Msg> reports[] = {{"rates", Msg::report_rates},
                                                 {"overdue", Msg::vr_overdue},
                                                 {"flagged", Msg::vr_flagged},
                                                 {"hazards", Msg::vr_hazards},
                                                 {"roster", Msg::report_roster}};
  for (const auto& [report, label] : reports) {
    ImGui::PushID(report);
    ImGui::SameLine(0, ImGui::GetFontSize());
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(app.tr(label));
    ImGui::SameLine();
    if (action_button("CSV", 0, can)) out.push(cmd::ExportVisits{report, "csv"});
    ImGui::SameLine(0, 2);
    if (action_button("XLSX", 0, can)) out.push(cmd::ExportVisits{report, "xlsx"});
    ImGui::PopID();
  }
  if (e && e->done) {
    if (e->ok) ImGui::TextColored(kGoodText, "%s  %s", app.tr(Msg::dash_exported), e->path.c_str());
    else ImGui::TextColored(kBadText, "%s  %s", app.tr(Msg::dash_export_failed), e->error.c_str());
  } else {
    ImGui::NewLine();
  }
  return out;
}

Commands draw_roster_import(const App& app, UiState& ui) {
  Commands out;
  heading(app.tr(Msg::vs_roster));
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::ri_explain));
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted(app.tr(Msg::ri_path));
  ImGui::SameLine();
  const char* button = app.tr(Msg::ri_import);
  const char* encodings[] = {"UTF-8", "GBK"};
  const float combo_w = ImGui::CalcTextSize("UTF-8").x + ImGui::GetFrameHeight() * 2;
  const float button_w = ImGui::CalcTextSize(button).x + ImGui::GetStyle().FramePadding.x * 2;
  const float label_w = ImGui::CalcTextSize(app.tr(Msg::ri_encoding)).x;
  const float sp = ImGui::GetStyle().ItemSpacing.x;
  ImGui::SetNextItemWidth(std::max(120.0f, ImGui::GetContentRegionAvail().x - combo_w - button_w - label_w - sp * 4));
  ImGui::InputTextWithHint("##roster_path", app.tr(Msg::ri_path_hint), ui.roster_path.data(), ui.roster_path.size());
  ImGui::SameLine();
  ImGui::TextUnformatted(app.tr(Msg::ri_encoding));
  ImGui::SameLine();
  ImGui::SetNextItemWidth(combo_w);
  ImGui::Combo("##encoding", &ui.roster_encoding, encodings, 2);
  ImGui::SameLine();
  const auto& r = app.roster_import();
  const bool busy = r && r->status == App::RosterImport::Status::sending;
  if (action_button(button, 0, app.live() && ui.roster_path[0] && !busy, ImVec4(0.20f, 0.45f, 0.70f, 1)))
    out.push(cmd::ImportRoster{ui.roster_path.data(), ui.roster_encoding == 1 ? "gbk" : "utf-8"});
  if (!r) return out;

  ImGui::Spacing();
  ImGui::TextColored(kMutedText, "%s", r->path.c_str());
  char line[256];
  switch (r->status) {
    case App::RosterImport::Status::sending:
      ImGui::TextColored(kMutedText, "%s", app.tr(Msg::ri_sending));
      break;
    case App::RosterImport::Status::imported: {
      const RosterImported& x = r->result;
      std::snprintf(line, sizeof line, app.tr(Msg::ri_done_fmt), x.added, x.updated, x.devices, x.tier_changes.size());
      ImGui::TextColored(kGoodText, "%s", line);
      for (const auto& t : x.tier_changes) {
        const auto from = parse_enum<CareTier>(t.from), to = parse_enum<CareTier>(t.to);
        ImGui::TextColored(kMutedText, "#%lld  %s → %s", static_cast<long long>(t.elder),
                           from ? app.tr(*from) : t.from.c_str(), to ? app.tr(*to) : t.to.c_str());
      }
      break;
    }
    case App::RosterImport::Status::unreadable:
      if (r->error == "too big") std::snprintf(line, sizeof line, app.tr(Msg::ri_too_big_fmt), (r->bytes + 1023) / 1024);
      else std::snprintf(line, sizeof line, app.tr(Msg::ri_read_failed_fmt), r->error.c_str());
      ImGui::TextColored(kBadText, "%s", line);
      break;
    case App::RosterImport::Status::refused: {
      const Request* q = app.last_request(0, Action::import_roster);
      if (q && q->code == ErrorCode::forbidden) {
        ImGui::TextColored(kBadText, "%s", app.tr(Msg::req_forbidden));
        break;
      }
      ImGui::TextColored(kBadText, "%s", app.tr(Msg::ri_refused));
      // The server's message, whole: one bad line of the file per line, up to 50.
      ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0.35f, 0.12f, 0.12f, 0.25f));
      ImGui::BeginChild("roster_errors", ImVec2(0, std::max(ImGui::GetContentRegionAvail().y, 80.0f)), true,
                        ImGuiWindowFlags_HorizontalScrollbar);
      ImGui::TextUnformatted(r->error.c_str(), r->error.c_str() + r->error.size());
      ImGui::EndChild();
      ImGui::PopStyleColor();
      break;
    }
  }
  return out;
}

}  // namespace anxin::console
