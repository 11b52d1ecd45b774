// The map: a schematic of the district drawn with ImDrawList (no tile service, so
// it works on a closed network). Towns as soft discs with their names, homes as
// dots coloured by care tier, open incidents as rings coloured by priority
// (filled while unacknowledged), workers as squares coloured by status with a
// line to the incident they are on. Drag or the arrow keys pan, the wheel zooms about
// the cursor and + - about the centre, a click selects the nearest incident: the
// same selection as the queue's.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <utility>

#include "views.hpp"

namespace anxin::console {
namespace {

constexpr Millis kPlacesRefreshMs = 2000;  // re-derive towns at most this often on a busy night
constexpr float kPickRadiusPx = 14;

struct Projection {
  ImVec2 centre;
  double lat = 0, lon = 0, px_per_deg = 1, cos_lat = 1;
  ImVec2 operator()(double la, double lo) const {
    return ImVec2(centre.x + static_cast<float>((lo - lon) * px_per_deg * cos_lat),
                  centre.y - static_cast<float>((la - lat) * px_per_deg));
  }
};

ImU32 rgba(ImVec4 c, float alpha) { return ImGui::GetColorU32(ImVec4(c.x, c.y, c.z, alpha)); }

// Where town names have gone this frame, so that neighbours do not overprint.
class LabelSpace {
 public:
  // The first of `choices` clear of every label placed so far, or none: a name that
  // would overprint another is left out until zooming in makes room (issue 14).
  std::optional<ImVec2> place(std::initializer_list<ImVec2> choices, ImVec2 size) {
    for (ImVec2 at : choices)
      if (free(at, size)) {
        if (used_ < kMax) taken_[used_++] = {at, ImVec2(at.x + size.x, at.y + size.y)};
        return at;
      }
    return std::nullopt;
  }

 private:
  bool free(ImVec2 at, ImVec2 size) const {
    for (int k = 0; k < used_; ++k) {
      const auto& [a, b] = taken_[k];
      // with a few pixels' margin, so neighbours never touch
      if (at.x < b.x + 6 && at.x + size.x + 6 > a.x && at.y < b.y + 2 && at.y + size.y + 2 > a.y) return false;
    }
    return true;
  }
  static constexpr int kMax = 64;  // a county has a few dozen towns at most
  std::pair<ImVec2, ImVec2> taken_[kMax];
  int used_ = 0;
};

float legend_height() { return (ImGui::GetTextLineHeight() + 2) * 7 + 24; }

// Everything known in view, clear of the legend along the bottom.
void fit(MapCamera& cam, const MapPlaces& p, ImVec2 size) {
  if (!p.any) return;
  const double free_h = std::max(60.0, static_cast<double>(size.y - legend_height()));
  const double mid_lat = (p.min_lat + p.max_lat) / 2;
  const double cos_lat = std::cos(mid_lat * M_PI / 180);
  const double span_lat = std::max(p.max_lat - p.min_lat, 0.01);
  const double span_lon = std::max((p.max_lon - p.min_lon) * cos_lat, 0.01);
  cam.px_per_deg = 0.80 * std::min(size.x / span_lon, free_h / span_lat);
  cam.lon = (p.min_lon + p.max_lon) / 2;
  cam.lat = mid_lat - (size.y - free_h) / 2 / cam.px_per_deg;  // the data's centre sits above the legend
  cam.fitted = true;
}

void legend(const App& app, ImDrawList* dl, ImVec2 origin) {
  const float line = ImGui::GetTextLineHeight() + 2;
  ImVec2 p = origin;
  auto title = [&](Msg m) {
    dl->AddText(p, ImGui::GetColorU32(kMutedText), app.tr(m));
    p.y += line;
  };
  // Each sample is drawn as its marker is on the map (issue 14): homes small squares,
  // incidents discs (filled: not acknowledged; a ring: acknowledged), workers squares.
  enum class Shape { home, incident, incident_ring, worker };
  auto item = [&](ImVec4 c, const char* text, Shape shape) {
    const ImVec2 m(p.x + 6, p.y + line / 2 - 1);
    switch (shape) {
      case Shape::home: dl->AddRectFilled(ImVec2(m.x - 2, m.y - 2), ImVec2(m.x + 2, m.y + 2), rgba(c, 0.75f)); break;
      case Shape::incident: dl->AddCircleFilled(m, 6.0f, rgba(c, 0.95f), 10); break;
      case Shape::incident_ring: dl->AddCircle(m, 5.0f, rgba(c, 0.95f), 10, 2.0f); break;
      case Shape::worker:
        dl->AddRectFilled(ImVec2(m.x - 3.5f, m.y - 3.5f), ImVec2(m.x + 3.5f, m.y + 3.5f), rgba(c, 1));
        break;
    }
    dl->AddText(ImVec2(p.x + 18, p.y), ImGui::GetColorU32(ImGuiCol_Text), text);
    p.y += line;
  };
  const float top = p.y;
  dl->AddRectFilled(ImVec2(origin.x - 8, origin.y - 6),
                    ImVec2(origin.x + ImGui::GetFontSize() * 18, origin.y + legend_height() - 18),
                    IM_COL32(20, 22, 27, 225), 6);
  title(Msg::legend_homes);
  for (CareTier t : {CareTier::key, CareTier::sub_key, CareTier::general}) item(tier_color(t), app.tr(t), Shape::home);
  p = ImVec2(origin.x + ImGui::GetFontSize() * 6.5f, top);
  title(Msg::legend_incidents);
  item(score_color(100), "≥100", Shape::incident);
  item(score_color(70), "70–99", Shape::incident);
  item(score_color(40), "40–69", Shape::incident);
  item(score_color(0), "<40", Shape::incident);
  item(kMutedText, app.tr(Msg::legend_unacked), Shape::incident);
  item(kMutedText, app.tr(Msg::legend_acked), Shape::incident_ring);
  p = ImVec2(origin.x + ImGui::GetFontSize() * 12, top);
  title(Msg::legend_workers);
  for (WorkerStatus s : {WorkerStatus::available, WorkerStatus::offered, WorkerStatus::en_route,
                         WorkerStatus::on_scene, WorkerStatus::busy_visiting})
    item(worker_color(s), app.tr(s), Shape::worker);
}

// The keyboard (issue 14): arrows pan an eighth of the view, + and - zoom about its
// centre; held keys repeat. Not while typing or while a picker is open.
void map_keys(MapCamera& cam, ImVec2 size) {
  if (typing() || ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId)) return;
  constexpr int kRight = 262, kLeft = 263, kDown = 264, kUp = 265, kMinus = 45, kEqual = 61, kPadMinus = 333,
                kPadPlus = 334;
  auto down = [](int key) { return ImGui::IsKeyPressed(key, true); };
  const double cos_lat = std::cos(cam.lat * M_PI / 180);
  const double step_x = size.x / 8 / (cam.px_per_deg * cos_lat), step_y = size.y / 8 / cam.px_per_deg;
  if (down(kLeft)) cam.lon -= step_x;
  if (down(kRight)) cam.lon += step_x;
  if (down(kUp)) cam.lat += step_y;
  if (down(kDown)) cam.lat -= step_y;
  if (down(kEqual) || down(kPadPlus)) cam.px_per_deg = std::min(cam.px_per_deg * 1.25, 2'000'000.0);
  if (down(kMinus) || down(kPadMinus)) cam.px_per_deg = std::max(cam.px_per_deg / 1.25, 50.0);
}

}  // namespace

Commands draw_map(const App& app, UiState& ui) {
  Commands out;
  const Replica& r = app.replica();
  const Millis now = app.server_now_ms();
  // The server's district arrives once; until then, and on an older server, the
  // places come from the cards the replica holds, re-derived as they change.
  const bool district_arrived = app.district() && !ui.places.from_server;
  if (district_arrived ||
      (!ui.places.from_server && ui.places.version != r.version() &&
       (!ui.places.any || now - ui.places_built_ms >= kPlacesRefreshMs))) {
    ui.places = derive_places(r, app.district());
    ui.places_built_ms = now;
    if (district_arrived) ui.map.fitted = false;  // the whole district: fit again
  }

  ImGui::AlignTextToFramePadding();
  ImGui::TextColored(kMutedText, "%s  ·  %s", app.tr(Msg::map_hint), app.tr(Msg::map_keys));
  ImGui::SameLine();
  const bool refit = ImGui::Button(app.tr(Msg::map_fit));

  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 size = ImGui::GetContentRegionAvail();
  if (size.x < 50 || size.y < 50) return out;
  if (!ui.places.any) {
    ImGui::TextColored(kMutedText, "%s", app.tr(Msg::map_no_data));
    return out;
  }
  if (!ui.map.fitted || refit) fit(ui.map, ui.places, size);

  ImGui::InvisibleButton("canvas", size);
  const bool hovered = ImGui::IsItemHovered();
  ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
    ui.map.lon -= io.MouseDelta.x / (ui.map.px_per_deg * std::cos(ui.map.lat * M_PI / 180));
    ui.map.lat += io.MouseDelta.y / ui.map.px_per_deg;
  }
  map_keys(ui.map, size);
  Projection proj{ImVec2(origin.x + size.x / 2, origin.y + size.y / 2), ui.map.lat, ui.map.lon, ui.map.px_per_deg,
                  std::cos(ui.map.lat * M_PI / 180)};
  if (hovered && io.MouseWheel != 0) {
    // Zoom about the cursor: the point under it stays under it.
    const double mx = (io.MousePos.x - proj.centre.x) / (proj.px_per_deg * proj.cos_lat);
    const double my = (proj.centre.y - io.MousePos.y) / proj.px_per_deg;
    const double factor = std::pow(1.2, io.MouseWheel);
    ui.map.px_per_deg = std::clamp(ui.map.px_per_deg * factor, 50.0, 2'000'000.0);
    ui.map.lon += mx - mx / factor;
    ui.map.lat += my - my / factor;
    proj.lat = ui.map.lat, proj.lon = ui.map.lon, proj.px_per_deg = ui.map.px_per_deg;
  }

  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 end(origin.x + size.x, origin.y + size.y);
  dl->PushClipRect(origin, end, true);
  dl->AddRectFilled(origin, end, IM_COL32(24, 27, 32, 255));
  auto visible = [&](ImVec2 p, float margin) {
    return p.x > origin.x - margin && p.x < end.x + margin && p.y > origin.y - margin && p.y < end.y + margin;
  };

  // Towns first, under everything; community names only once zoomed in enough to read them.
  for (const MapPlace& t : ui.places.towns) {
    const ImVec2 c = proj(t.lat, t.lon);
    const float radius = std::max(18.0f, static_cast<float>(t.radius_deg * proj.px_per_deg) + 10);
    if (!visible(c, radius)) continue;
    dl->AddCircleFilled(c, radius, IM_COL32(70, 90, 120, 26), 48);
    dl->AddCircle(c, radius, IM_COL32(90, 110, 140, 60), 48, 1.0f);
  }
  if (proj.px_per_deg > 4000)
    for (const MapPlace& c : ui.places.communities) {
      const ImVec2 p = proj(c.lat, c.lon);
      if (!visible(p, 50)) continue;
      const ImVec2 ts = ImGui::CalcTextSize(c.name.c_str());
      dl->AddText(ImVec2(p.x - ts.x / 2, p.y + 6), IM_COL32(140, 150, 165, 150), c.name.c_str());
    }

  // Zoomed out, thousands of markers share a few pixels. Each cell of about a
  // marker's radius is drawn once, by the most urgent marker in it: what is left
  // out would have been covered anyway, and the frame stays cheap at 10,000
  // incidents (software GL spends its time per triangle, not per pixel).
  // Incidents claim their cells first, in queue order, so the most urgent wins;
  // they are drawn last, on top, in reverse order for the same reason.
  ScreenCells& incident_cells = ui.map_incident_cells;
  incident_cells.reset(origin.x, origin.y, size.x, size.y, 8.0f);
  std::vector<const QueueRow*>& shown = ui.map_markers;
  shown.clear();
  for (const QueueRow& row : ui.queue.all(r, now)) {
    if (!row.elder) continue;
    const ImVec2 p = proj(row.elder->lat, row.elder->lon);
    if (visible(p, 12) && incident_cells.claim(p.x, p.y)) shown.push_back(&row);
  }

  // Homes, except where an incident marker will cover them.
  ScreenCells& cells = ui.map_cells;
  cells.reset(origin.x, origin.y, size.x, size.y, 5.0f);
  for (const MapHome& h : ui.places.homes) {
    const ImVec2 p = proj(h.lat, h.lon);
    if (!visible(p, 2) || incident_cells.taken(p.x, p.y) || !cells.claim(p.x, p.y)) continue;
    dl->AddRectFilled(ImVec2(p.x - 2, p.y - 2), ImVec2(p.x + 2, p.y + 2), rgba(tier_color(h.tier), 0.75f));
  }

  // Workers, with a line to their incident.
  cells.reset(origin.x, origin.y, size.x, size.y, 6.0f);
  for (const auto& [id, w] : r.workers()) {
    if (w.status == WorkerStatus::off_duty || (w.lat == 0 && w.lon == 0)) continue;
    const ImVec2 p = proj(w.lat, w.lon);
    const ImVec4 c = worker_color(w.status);
    if (const Incident* i = w.incident ? r.incident(w.incident) : nullptr)
      if (const auto* e = r.elder(i->elder)) dl->AddLine(p, proj(e->lat, e->lon), rgba(c, 0.6f), 1.0f);
    if (visible(p, 4) && cells.claim(p.x, p.y))
      dl->AddRectFilled(ImVec2(p.x - 3.5f, p.y - 3.5f), ImVec2(p.x + 3.5f, p.y + 3.5f), rgba(c, 1));
  }

  const Incident* nearest = nullptr;
  float nearest_d2 = kPickRadiusPx * kPickRadiusPx;
  const auto flash = app.flashing();
  // Solid markers need no anti-aliased fringe: it would double their triangles.
  const ImDrawListFlags flags = dl->Flags;
  dl->Flags &= ~ImDrawListFlags_AntiAliasedFill;
  for (auto it = shown.rbegin(); it != shown.rend(); ++it) {
    const QueueRow& row = **it;
    const ImVec2 p = proj(row.elder->lat, row.elder->lon);
    const ImVec4 c = score_color(row.score);
    if (unacknowledged(*row.incident)) dl->AddCircleFilled(p, 6.0f, rgba(c, 0.95f), 10);
    else dl->AddCircle(p, 5.0f, rgba(c, 0.95f), 10, 2.0f);
    if (flash == row.incident->id) dl->AddCircle(p, 9.0f + 8.0f * app.flash_phase(), rgba(c, 0.8f), 24, 2.0f);
    const float dx = io.MousePos.x - p.x, dy = io.MousePos.y - p.y;
    if (hovered && dx * dx + dy * dy <= nearest_d2) nearest = row.incident, nearest_d2 = dx * dx + dy * dy;
  }
  dl->Flags = flags;
  // Town names last, on a dark backing, so markers never hide them: above the
  // disc, or below it when a neighbour's name is already there.
  // Each name on its town's centre, or just above, below or beside it; the towns with
  // the most homes choose first, and a name with no room is left out (issue 14).
  LabelSpace labels;
  std::array<const MapPlace*, 64> order{};
  size_t n_towns = 0;
  for (const MapPlace& t : ui.places.towns)
    if (n_towns < order.size()) order[n_towns++] = &t;
  std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_towns),
            [](const MapPlace* a, const MapPlace* b) { return a->homes > b->homes; });
  for (size_t k = 0; k < n_towns; ++k) {
    const MapPlace& t = *order[k];
    const ImVec2 c = proj(t.lat, t.lon);
    if (!visible(c, 40)) continue;
    const ImVec2 ts = ImGui::CalcTextSize(t.name.c_str());
    const float h = ts.y + 4;
    const auto at = labels.place({ImVec2(c.x - ts.x / 2, c.y - ts.y / 2), ImVec2(c.x - ts.x / 2, c.y - ts.y / 2 - h),
                                  ImVec2(c.x - ts.x / 2, c.y - ts.y / 2 + h), ImVec2(c.x + 8, c.y - ts.y / 2),
                                  ImVec2(c.x - ts.x - 8, c.y - ts.y / 2)},
                                 ts);
    if (!at) continue;
    dl->AddRectFilled(ImVec2(at->x - 3, at->y), ImVec2(at->x + ts.x + 3, at->y + ts.y), IM_COL32(24, 27, 32, 190), 3);
    dl->AddText(*at, IM_COL32(180, 190, 205, 230), t.name.c_str());
  }
  if (const Incident* s = app.selected() ? r.incident(*app.selected()) : nullptr)
    if (const auto* e = r.elder(s->elder)) {
      const ImVec2 p = proj(e->lat, e->lon);
      dl->AddCircle(p, 11.0f, IM_COL32(255, 255, 255, 230), 24, 2.0f);
    }
  legend(app, dl, ImVec2(origin.x + 16, end.y - legend_height() + 10));
  dl->PopClipRect();

  if (nearest) {
    const protocol::ElderCard* e = r.elder(nearest->elder);
    ImGui::BeginTooltip();
    ImGui::Text("%d  %s  %s", queue_score(*nearest, now), e ? e->name.c_str() : "", app.tr(nearest->lead_kind()));
    ImGui::TextColored(kMutedText, "%s  %s", e ? e->town.c_str() : "", app.tr(nearest->state));
    ImGui::EndTooltip();
    // A click, not the end of a drag, selects.
    if (ImGui::IsMouseReleased(ImGuiMouseButton_Left) && io.MouseDragMaxDistanceSqr[0] < 16)
      out.push(cmd::Select{nearest->id});
  }
  return out;
}

}  // namespace anxin::console
