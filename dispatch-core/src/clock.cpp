#include "anxin/core/clock.hpp"

#include <cstdio>

namespace anxin {

// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
std::string local_date(Millis at) {
  constexpr Millis kUtcPlus8 = 8LL * 3600 * 1000;
  Millis ms = at + kUtcPlus8;
  long long z = (ms >= 0 ? ms : ms - 86'399'999) / 86'400'000 + 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  long long doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long y = yoe + era * 400;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153;
  long long d = doy - (153 * mp + 2) / 5 + 1;
  long long m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", y, m, d);
  return buf;
}

Millis start_of_local_day(Millis at) {
  constexpr Millis kDay = 86'400'000, kUtcPlus8 = 8LL * 3600 * 1000;
  Millis ms = at + kUtcPlus8;
  return (ms >= 0 ? ms : ms - (kDay - 1)) / kDay * kDay - kUtcPlus8;
}

}  // namespace anxin
