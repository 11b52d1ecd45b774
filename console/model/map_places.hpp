// Towns, communities and homes as the map draws them: from the server's `map`
// reply (every home in the district, with its tier) when there is one, else
// derived from the elder cards the console knows. Each place is the centroid of
// its homes with a radius that holds them; the extent covers homes and workers.
// No ImGui.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "replica.hpp"

namespace anxin::console {

struct MapPlace {
  std::string name;
  double lat = 0, lon = 0;
  double radius_deg = 0;  // furthest home from the centroid
  int homes = 0;
};

struct MapHome {
  double lat = 0, lon = 0;
  CareTier tier = CareTier::general;
};

struct MapPlaces {
  std::uint64_t version = ~0ull;  // the replica version they were derived from
  bool from_server = false;       // the district's `map`, not just the cards we hold
  std::vector<MapPlace> towns, communities;
  std::vector<MapHome> homes;     // flat, so drawing thousands is a tight loop
  // the extent of every known home and worker position
  double min_lat = 0, max_lat = 0, min_lon = 0, max_lon = 0;
  bool any = false;
};

MapPlaces derive_places(const Replica& replica, const protocol::DistrictMap* district = nullptr);

}  // namespace anxin::console
