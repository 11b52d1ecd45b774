// The History view (F7, issue 14 item 4): resolved incidents searched in the server's
// file (history), by elder (name, phone, address, the ID number's last digits, or
// "#id"), the dates opened (centre time, inclusive), kind, who resolved it and the
// disposition; a page of rows; Enter opens the chosen one's whole record
// (incident_record: header, alerts, responders, calls, the field reports' notes and
// service areas, the timeline), and O reopens it with a reason, after a confirming
// Enter, while the server's window allows (reopen_incident). Also the field reports
// on a live incident's workspace (draw_field_reports) and the words for manual
// alerts and field reports on a timeline (describe_entry).
#include <algorithm>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "views.hpp"

namespace anxin::console {
namespace {

constexpr int kPageSize = 50;
constexpr AlertKind kAllKinds[] = {
    AlertKind::sos,           AlertKind::smoke,         AlertKind::gas,           AlertKind::water_leak,
    AlertKind::fall,          AlertKind::inactivity,    AlertKind::door_open_long, AlertKind::bed_exit_long,
    AlertKind::vital_abnormal, AlertKind::geofence_exit, AlertKind::no_water_use, AlertKind::low_battery,
    AlertKind::offline,       AlertKind::phone_call};
constexpr int kKindCount = static_cast<int>(std::size(kAllKinds));
constexpr Disposition kAllDispositions[] = {
    Disposition::false_alarm,    Disposition::resolved_by_phone, Disposition::visitor_assisted,
    Disposition::ambulance_took, Disposition::fire_brigade,      Disposition::family_handled,
    Disposition::not_at_home,    Disposition::device_fault};
const ImVec4 kReopenColor{0.78f, 0.40f, 0.13f, 1.0f};

// YYYY-MM-DD at the centre (UTC+8) to the first millisecond of that day; nullopt if malformed.
std::optional<Millis> centre_day_ms(const char* text) {
  int y = 0, m = 0, d = 0;
  if (std::sscanf(text, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  // days from civil (Howard Hinnant's algorithm)
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long long days = static_cast<long long>(era) * 146097 + static_cast<long long>(doe) - 719468;
  return days * 86'400'000LL - 8LL * 3'600'000;
}

const char* source_text(const App& app, const std::string& source) {
  if (source == "device") return app.tr(Msg::hi_source_device);
  if (source == "line") return app.tr(Msg::hi_source_line);
  return app.tr(manual_source_label(source));
}

std::string disposition_text(const App& app, const std::string& d) {
  if (auto x = parse_enum<Disposition>(d)) return app.tr(*x);
  return d;
}

std::string worker_name(const App& app, WorkerId id) {
  const auto& workers = app.replica().workers();
  auto it = workers.find(id);
  return it != workers.end() ? it->second.name : "#" + std::to_string(id);
}

// Builds the search from the filters; false (and a message) when a date does not read.
bool build_query(const App& app, HistoryUi& h, protocol::HistoryQuery& q) {
  h.date_error.clear();
  const std::string elder = h.elder.data();
  if (!elder.empty() && elder[0] == '#') {
    long long id = 0;
    auto r = std::from_chars(elder.data() + 1, elder.data() + elder.size(), id);
    if (r.ec != std::errc() || id <= 0) return h.date_error = app.tr(Msg::hi_bad_elder_id), false;
    q.elder = id;
  } else {
    q.elder_text = elder;
  }
  if (h.from[0]) {
    auto from = centre_day_ms(h.from.data());
    if (!from) return h.date_error = app.tr(Msg::hi_bad_date), false;
    q.from_ms = *from;
  }
  if (h.to[0]) {
    auto to = centre_day_ms(h.to.data());
    if (!to) return h.date_error = app.tr(Msg::hi_bad_date), false;
    q.to_ms = *to + 86'400'000;  // the whole last day
  }
  if (q.from_ms && q.to_ms && q.to_ms <= q.from_ms) return h.date_error = app.tr(Msg::hi_bad_date), false;
  if (h.kind >= 0) q.kind = kAllKinds[h.kind];
  if (h.disposition >= 0) q.disposition = kAllDispositions[h.disposition];
  q.resolved_by = h.resolved_by.data();
  q.limit = kPageSize;
  q.offset = h.page * kPageSize;
  return true;
}

Commands search(const App& app, HistoryUi& h) {
  Commands out;
  protocol::HistoryQuery q;
  if (build_query(app, h, q)) out.push(cmd::History{q});
  h.row = 0;
  return out;
}

void filters(const App& app, HistoryUi& h, Commands& out) {
  bool go = false;
  auto field = [&](const char* id, const char* label, char* buf, size_t size, float width, const char* hint = "") {
    ImGui::TextColored(kMutedText, "%s", label);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(width);
    if (ImGui::InputTextWithHint(id, hint, buf, size, ImGuiInputTextFlags_EnterReturnsTrue)) go = true;
    ImGui::SameLine(0, 14);
  };
  if (h.focus_elder) {
    ImGui::SetKeyboardFocusHere();
    h.focus_elder = false;
  }
  field("##h_elder", app.tr(Msg::hi_elder), h.elder.data(), h.elder.size(), 200);
  field("##h_from", app.tr(Msg::hi_from), h.from.data(), h.from.size(), 120, "YYYY-MM-DD");
  field("##h_to", app.tr(Msg::hi_to), h.to.data(), h.to.size(), 120, "YYYY-MM-DD");
  field("##h_by", app.tr(Msg::hi_resolved_by), h.resolved_by.data(), h.resolved_by.size(), 120);
  ImGui::NewLine();
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::hi_kind));
  ImGui::SameLine();
  ImGui::SetNextItemWidth(170);
  if (ImGui::BeginCombo("##h_kind", h.kind < 0 ? app.tr(Msg::hi_any) : app.tr(kAllKinds[h.kind]))) {
    if (ImGui::Selectable(app.tr(Msg::hi_any), h.kind < 0)) h.kind = -1, go = true;
    for (int k = 0; k < kKindCount; ++k)
      if (ImGui::Selectable(app.tr(kAllKinds[k]), h.kind == k)) h.kind = k, go = true;
    ImGui::EndCombo();
  }
  ImGui::SameLine(0, 14);
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::hi_disposition));
  ImGui::SameLine();
  ImGui::SetNextItemWidth(170);
  if (ImGui::BeginCombo("##h_disp", h.disposition < 0 ? app.tr(Msg::hi_any) : app.tr(kAllDispositions[h.disposition]))) {
    if (ImGui::Selectable(app.tr(Msg::hi_any), h.disposition < 0)) h.disposition = -1, go = true;
    for (int k = 0; k < 8; ++k)
      if (ImGui::Selectable(app.tr(kAllDispositions[k]), h.disposition == k)) h.disposition = k, go = true;
    ImGui::EndCombo();
  }
  ImGui::SameLine(0, 14);
  if (ImGui::Button(app.tr(Msg::hi_search))) go = true;
  if (!typing()) {
    if (key_pressed('E')) h.focus_elder = true;
    if (key_pressed(kKeyRight)) h.kind = h.kind + 1 >= kKindCount ? -1 : h.kind + 1, go = true;
    if (key_pressed(kKeyLeft)) h.kind = h.kind < 0 ? kKindCount - 1 : h.kind - 1, go = true;
    if (key_pressed('D')) h.disposition = h.disposition + 1 >= 8 ? -1 : h.disposition + 1, go = true;
  }
  if (go) h.page = 0, out += search(app, h);
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(kMutedText, "%s", app.tr(Msg::hi_keys));
  ImGui::PopTextWrapPos();
  if (!h.date_error.empty()) ImGui::TextColored(kBadText, "%s", h.date_error.c_str());
}

void results(const App& app, HistoryUi& h, Commands& out) {
  const auto& page = app.history();
  const Request* r = app.last_request(0, Action::history);
  if (r && r->status == Request::Status::refused) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextColored(kBadText, "%s", r->error.c_str());
    ImGui::PopTextWrapPos();
  }
  if (!page) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::loading));
    return;
  }
  const int n = static_cast<int>(page->rows.size());
  char line[160];
  if (n == 0) std::snprintf(line, sizeof line, "%s", app.tr(Msg::hi_none));
  else std::snprintf(line, sizeof line, app.tr(Msg::hi_rows_fmt), page->offset + 1, page->offset + n, page->total);
  ImGui::TextColored(kMutedText, "%s", line);
  if (r && r->status == Request::Status::sending) {
    ImGui::SameLine();
    ImGui::TextColored(kMutedText, "· %s", app.tr(Msg::loading));
  }
  h.row = std::clamp(h.row, 0, std::max(0, n - 1));
  bool moved = false;
  if (!typing() && !h.reopen_open && !h.reopen_confirm) {
    if (key_pressed(kKeyDown) && h.row + 1 < n) ++h.row, moved = true;
    if (key_pressed(kKeyUp) && h.row > 0) --h.row, moved = true;
    if (key_pressed(kKeyEnter) && n > 0) out.push(cmd::IncidentRecord{page->rows[static_cast<size_t>(h.row)].id});
    if (key_pressed(kKeyPageDown) && page->offset + n < page->total) ++h.page, out += search(app, h);
    if (key_pressed(kKeyPageUp) && h.page > 0) --h.page, out += search(app, h);
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH |
                                ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("history", 7, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("#");
  ImGui::TableSetupColumn(app.tr(Msg::hi_col_opened));
  ImGui::TableSetupColumn(app.tr(Msg::hi_col_elder), ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableSetupColumn(app.tr(Msg::hi_col_kind));
  ImGui::TableSetupColumn(app.tr(Msg::hi_col_source));
  ImGui::TableSetupColumn(app.tr(Msg::hi_col_disposition));
  ImGui::TableSetupColumn(app.tr(Msg::hi_col_by));
  ImGui::TableHeadersRow();
  for (int k = 0; k < n; ++k) {
    const protocol::HistoryRow& row = page->rows[static_cast<size_t>(k)];
    ImGui::PushID(static_cast<int>(row.id));
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    char id[24];
    std::snprintf(id, sizeof id, "%lld", static_cast<long long>(row.id));
    if (ImGui::Selectable(id, k == h.row, ImGuiSelectableFlags_SpanAllColumns)) {
      h.row = k;
      out.push(cmd::IncidentRecord{row.id});
    }
    if (moved && k == h.row) scroll_row_into_view();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(format_date_hms(row.opened_ms).substr(0, 16).c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(row.elder_name.c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(app.tr(row.lead_kind));
    ImGui::TableNextColumn();
    ImGui::TextColored(kMutedText, "%s", source_text(app, row.source));
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(disposition_text(app, row.disposition).c_str());
    ImGui::TableNextColumn();
    ImGui::TextColored(kMutedText, "%s", row.resolved_by.c_str());
    ImGui::PopID();
  }
  ImGui::EndTable();
}

void report_rows(const App& app, const std::vector<protocol::VisitView>& reports) {
  for (const auto& v : reports) {
    std::string areas;
    for (auto a : v.visit.areas) areas += (areas.empty() ? "" : app.lang() == Lang::zh ? "、" : ", ") + std::string(app.tr(a));
    ImGui::Text("%s  %s", format_date_hms(v.visit.at_ms).c_str(), v.worker.c_str());
    ImGui::PushTextWrapPos(0);
    ImGui::TextColored(kMutedText, "%s %s", app.tr(Msg::fr_areas), areas.empty() ? "—" : areas.c_str());
    if (!v.visit.notes.empty()) ImGui::Text("%s %s", app.tr(Msg::fr_notes), v.visit.notes.c_str());
    if (!v.visit.hazards.empty()) ImGui::TextColored(kWarnText, "%s %s", app.tr(Msg::fr_hazards), v.visit.hazards.c_str());
    ImGui::PopTextWrapPos();
  }
}

Commands record_panel(const App& app, HistoryUi& h) {
  Commands out;
  const auto& rec = app.record();
  const Request* asked = app.last_request(0, Action::incident_record);
  if (asked && asked->status == Request::Status::refused) {
    ImGui::TextColored(kBadText, "%s", asked->error.c_str());
    return out;
  }
  if (!rec || rec->incident.id != h.record) {
    ImGui::TextColored(kMutedText, "%s", h.record ? app.tr(Msg::loading) : app.tr(Msg::hi_pick));
    return out;
  }
  const Incident& i = rec->incident;
  const protocol::ElderCard& e = rec->elder;
  ImGui::Text("#%lld  %s  ·  %s  ·  %s", static_cast<long long>(i.id), e.name.c_str(), app.tr(i.lead_kind()),
              app.tr(i.state));
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(kMutedText, "%s %s  ·  %s %s %s  ·  %s %s %s", app.tr(Msg::opened_at),
                     format_date_hms(i.opened_ms).c_str(), app.tr(Msg::hi_acknowledged),
                     i.acknowledged_ms ? format_hms(i.acknowledged_ms).c_str() : "—", i.acknowledged_by.c_str(),
                     app.tr(Msg::hi_resolved), i.resolved_ms ? format_date_hms(i.resolved_ms).c_str() : "—",
                     i.resolved_by.c_str());
  if (!i.disposition.empty())
    ImGui::Text("%s: %s", app.tr(Msg::hi_col_disposition), disposition_text(app, i.disposition).c_str());
  ImGui::PopTextWrapPos();

  // Reopening: O, a reason, Enter, then Enter again to confirm; Esc cancels.
  const Millis now = app.server_now_ms();
  const bool reopenable = i.state == IncidentState::resolved && now <= rec->reopen_until_ms;
  const Request* reopen = app.last_request(i.id, Action::reopen);
  const bool reopen_sending = reopen && reopen->status == Request::Status::sending;
  if (i.state == IncidentState::resolved) {
    char until[128];
    std::snprintf(until, sizeof until, app.tr(reopenable ? Msg::hi_reopen_until_fmt : Msg::hi_reopen_closed_fmt),
                  format_date_hms(rec->reopen_until_ms).c_str());
    ImGui::TextColored(reopenable ? kMutedText : kWarnText, "%s", until);
    if (!h.reopen_open && !h.reopen_confirm) {
      ImGui::SameLine();
      if (action_button(app.tr(Msg::hi_reopen), 'O', reopenable && app.live() && !reopen_sending, kReopenColor) ||
          (reopenable && !typing() && key_pressed('O')))
        h.reopen_open = true, h.focus_reason = true, h.reason.fill(0);
    }
  }
  if (h.reopen_open) {
    if (h.focus_reason) {
      ImGui::SetKeyboardFocusHere();
      h.focus_reason = false;
    }
    ImGui::SetNextItemWidth(-1);
    if (ImGui::InputTextWithHint("##reopen_reason", app.tr(Msg::hi_reason_hint), h.reason.data(), h.reason.size(),
                                 ImGuiInputTextFlags_EnterReturnsTrue) && h.reason[0])
      h.reopen_open = false, h.reopen_confirm = true;
    if (ImGui::IsKeyPressed(kKeyEscape, false)) h.reopen_open = false;
  } else if (h.reopen_confirm) {
    char ask[512];
    std::snprintf(ask, sizeof ask, app.tr(Msg::hi_reopen_confirm_fmt), static_cast<long long>(i.id), h.reason.data());
    ImGui::PushTextWrapPos(0);
    ImGui::TextColored(kWarnText, "%s", ask);
    ImGui::PopTextWrapPos();
    const bool yes = action_button(app.tr(Msg::hi_reopen), 0, app.live(), kReopenColor);
    ImGui::SameLine();
    const bool no = ImGui::Button(app.tr(Msg::mi_cancel));
    if (yes || (!typing() && key_pressed(kKeyEnter))) {
      out.push(cmd::Reopen{i.id, h.reason.data()});
      h.reopen_confirm = false;
    } else if (no || (!typing() && ImGui::IsKeyPressed(kKeyEscape, false))) {
      h.reopen_confirm = false;
    }
  }
  if (reopen) request_status(app, reopen);

  if (!rec->alerts.empty()) {
    heading(app.tr(Msg::hi_alerts));
    for (const auto& a : rec->alerts)
      ImGui::Text("%s  %s  %s", format_hms(a.received_ms).c_str(), app.tr(a.kind), a.device.c_str());
  }
  if (!i.assignments.empty()) {
    heading(app.tr(Msg::hi_responders));
    for (const auto& a : i.assignments) {
      ImGui::Text("%s  %s", worker_name(app, a.worker).c_str(), app.tr(a.state));
      if (!a.note.empty()) {
        ImGui::SameLine();
        ImGui::TextColored(kMutedText, "%s", a.note.c_str());
      }
    }
  }
  if (!i.calls.empty()) {
    heading(app.tr(Msg::hi_calls));
    for (const auto& c : i.calls)
      ImGui::Text("%s  %s %s  %s  %s", format_hms(c.created_ms).c_str(), app.tr(c.kind), c.name.c_str(),
                  app.tr(c.state), c.actor.c_str());
  }
  if (!rec->reports.empty()) {
    heading(app.tr(Msg::fr_title));
    report_rows(app, rec->reports);
  }
  out += draw_timeline(app, i);
  return out;
}

}  // namespace

Commands draw_history(const App& app, UiState& ui) {
  Commands out;
  HistoryUi& h = ui.history;
  if (!h.searched && app.live()) {
    h.searched = true;
    out += search(app, h);
  }
  const bool reopening = h.reopen_open || h.reopen_confirm;  // Esc then cancels that, not the record
  filters(app, h, out);
  ImGui::Separator();
  const float left_w = ImGui::GetContentRegionAvail().x * 0.50f;
  ImGui::BeginChild("history_rows", ImVec2(left_w, 0), true);
  results(app, h, out);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("history_record", ImVec2(0, 0), true);
  out += record_panel(app, h);
  ImGui::EndChild();
  if (!typing() && !reopening && h.record && ImGui::IsKeyPressed(kKeyEscape, false))
    h.record = 0;
  for (const auto& c : out.list)
    if (auto* r = std::get_if<cmd::IncidentRecord>(&c)) h.record = r->incident, h.reopen_open = h.reopen_confirm = false;
  return out;
}

void draw_field_reports(const App& app, const Incident& i) {
  std::vector<protocol::VisitView> reports;
  for (const auto& t : i.timeline) {
    if (t.kind != TimelineKind::report) continue;
    auto j = nlohmann::json::parse(t.text, nullptr, false);
    if (!j.is_object()) continue;
    protocol::VisitView v;
    v.worker = t.actor;
    v.visit.at_ms = t.at_ms;
    if (j.contains("areas") && j["areas"].is_array())
      for (const auto& a : j["areas"])
        if (auto area = a.is_string() ? parse_enum<ServiceArea>(a.get<std::string>()) : std::nullopt)
          v.visit.areas.push_back(*area);
    v.visit.notes = j.value("notes", "");
    v.visit.hazards = j.value("hazards", "");
    reports.push_back(std::move(v));
  }
  if (reports.empty()) return;
  heading(app.tr(Msg::fr_title));
  report_rows(app, reports);
}

std::optional<std::string> describe_entry(const App& app, const TimelineEntry& t) {
  const bool desk = t.kind == TimelineKind::alert && t.actor.rfind("DESK-", 0) == 0;
  if (!desk && t.kind != TimelineKind::report) return std::nullopt;  // cheap: drawn every frame
  auto j = nlohmann::json::parse(t.text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  if (t.kind == TimelineKind::alert && j.value("manual", false)) {
    std::string s = std::string(app.tr(Msg::mi_manual)) + " · " + app.tr(manual_source_label(j.value("source", "")));
    if (j.contains("operator")) s += " · " + j.value("operator", "");
    if (j.contains("caller_phone")) s += " · " + j.value("caller_phone", "");
    if (j.contains("caller_name")) s += " " + j.value("caller_name", "");
    if (j.contains("text")) s += ": " + j.value("text", "");
    return s;
  }
  if (t.kind == TimelineKind::report) {
    std::string areas;
    if (j.contains("areas") && j["areas"].is_array())
      for (const auto& a : j["areas"])
        if (auto area = a.is_string() ? parse_enum<ServiceArea>(a.get<std::string>()) : std::nullopt)
          areas += (areas.empty() ? "" : app.lang() == Lang::zh ? "、" : ", ") + std::string(app.tr(*area));
    std::string s = std::string(app.tr(Msg::fr_areas)) + " " + (areas.empty() ? "—" : areas);
    if (!j.value("notes", "").empty()) s += " · " + std::string(app.tr(Msg::fr_notes)) + " " + j.value("notes", "");
    if (!j.value("hazards", "").empty()) s += " · " + std::string(app.tr(Msg::fr_hazards)) + " " + j.value("hazards", "");
    return s;
  }
  return std::nullopt;
}

}  // namespace anxin::console
