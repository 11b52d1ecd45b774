#include "map_places.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace anxin::console {
namespace {

struct Sum {
  double lat = 0, lon = 0;
  int n = 0;
  std::vector<const protocol::ElderCard*> homes;
};

std::vector<MapPlace> places_of(std::map<std::string, Sum>& sums) {
  std::vector<MapPlace> out;
  for (auto& [name, s] : sums) {
    MapPlace p{name, s.lat / s.n, s.lon / s.n, 0, s.n};
    for (const auto* e : s.homes) p.radius_deg = std::max(p.radius_deg, std::hypot(e->lat - p.lat, e->lon - p.lon));
    out.push_back(std::move(p));
  }
  return out;
}

bool located(double lat, double lon) { return lat != 0 || lon != 0; }

}  // namespace

MapPlaces derive_places(const Replica& r, const protocol::DistrictMap* district) {
  MapPlaces out;
  auto extend = [&](double lat, double lon) {
    if (!out.any) {
      out.min_lat = out.max_lat = lat;
      out.min_lon = out.max_lon = lon;
      out.any = true;
    }
    out.min_lat = std::min(out.min_lat, lat), out.max_lat = std::max(out.max_lat, lat);
    out.min_lon = std::min(out.min_lon, lon), out.max_lon = std::max(out.max_lon, lon);
  };
  if (district && !district->homes.empty()) {
    out.from_server = true;
    for (const auto& h : district->homes) {
      if (!located(h.lat, h.lon)) continue;
      out.homes.push_back({h.lat, h.lon, h.tier});
      extend(h.lat, h.lon);
    }
    for (const auto& t : district->towns) {
      // The reply names no town's homes, only its communities': the town's disc
      // reaches its furthest community, and a little beyond for that one's homes.
      MapPlace town{t.town.name, t.town.lat, t.town.lon, 0.004, static_cast<int>(t.town.homes)};
      for (const auto& c : t.communities) {
        town.radius_deg = std::max(town.radius_deg, std::hypot(c.lat - town.lat, c.lon - town.lon) + 0.004);
        out.communities.push_back({c.name, c.lat, c.lon, 0.004, static_cast<int>(c.homes)});
      }
      out.towns.push_back(std::move(town));
    }
  } else {
    std::map<std::string, Sum> towns, communities;
    for (const auto& [id, e] : r.elders()) {
      if (!located(e.lat, e.lon)) continue;
      extend(e.lat, e.lon);
      out.homes.push_back({e.lat, e.lon, e.tier});
      if (e.town.empty()) continue;
      for (Sum* s : {&towns[e.town], &communities[e.town + "\x1f" + e.community]}) {
        s->lat += e.lat, s->lon += e.lon, ++s->n;
        s->homes.push_back(&e);
      }
    }
    out.towns = places_of(towns);
    out.communities = places_of(communities);
    // Communities are keyed "town<US>community"; people read only the community.
    for (MapPlace& c : out.communities) c.name = c.name.substr(c.name.find('\x1f') + 1);
  }
  for (const auto& [id, w] : r.workers())
    if (located(w.lat, w.lon)) extend(w.lat, w.lon);
  out.version = r.version();
  return out;
}

}  // namespace anxin::console
