// Distances on the Earth's surface, for travel times between workers and homes.
#pragma once

namespace anxin {

inline constexpr double kEarthRadiusM = 6'371'008.8;  // mean radius (IUGG)

// Great-circle distance in metres (haversine).
double distance_m(double lat1, double lon1, double lat2, double lon2);

// A point with cos(latitude) worked out once, for searches that measure from one
// point to many. distance_m() of two GeoPoints equals the four-argument form exactly.
struct GeoPoint {
  double lat = 0, lon = 0;
  double cos_lat = 1;
};
GeoPoint geo_point(double lat, double lon);
double distance_m(const GeoPoint& a, const GeoPoint& b);

}  // namespace anxin
