#include "anxin/core/geo.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace anxin {

namespace {
constexpr double kRadPerDeg = std::numbers::pi / 180;
}

GeoPoint geo_point(double lat, double lon) { return {lat, lon, std::cos(lat * kRadPerDeg)}; }

double distance_m(const GeoPoint& a, const GeoPoint& b) {
  const double s = std::sin((b.lat - a.lat) * kRadPerDeg / 2);
  const double t = std::sin((b.lon - a.lon) * kRadPerDeg / 2);
  const double h = s * s + a.cos_lat * b.cos_lat * t * t;
  // Rounding can push h a hair above 1 for antipodal points; asin would return NaN.
  return 2 * kEarthRadiusM * std::asin(std::sqrt(std::min(1.0, h)));
}

double distance_m(double lat1, double lon1, double lat2, double lon2) {
  return distance_m(geo_point(lat1, lon1), geo_point(lat2, lon2));
}

}  // namespace anxin
