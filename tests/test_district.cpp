// The demo-district generator: deterministic, well-formed, realistic spreads.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <string>

#include "anxin/core/care_tier.hpp"
#include "anxin/core/domain.hpp"
#include "district.hpp"

using namespace anxin;
using namespace anxin::sim;

namespace {

const District& default_district() {
  static const District d = generate_district({});
  return d;
}

double km_from_seat(double lat, double lon) {
  constexpr double kPi = 3.14159265358979323846;
  const double dy = (lat - kSeatLat) * 110.94;
  const double dx = (lon - kSeatLon) * 111.32 * std::cos(kSeatLat * kPi / 180);
  return std::sqrt(dx * dx + dy * dy);
}

bool all_digits(const std::string& s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

bool is_mobile(const std::string& p) {
  return p.size() == 11 && all_digits(p) && p[0] == '1' && (p[1] == '3' || p[1] == '5' || p[1] == '8');
}

// "{}" or {"key":integer} — the shapes the generator emits.
bool is_simple_json_object(const std::string& s) {
  if (s == "{}") return true;
  const auto colon = s.find(':');
  if (s.size() < 7 || s.front() != '{' || s.back() != '}' || s[1] != '"' || colon == std::string::npos ||
      s[colon - 1] != '"')
    return false;
  const std::string key = s.substr(2, colon - 3), value = s.substr(colon + 1, s.size() - colon - 2);
  return !key.empty() && key.find('"') == std::string::npos && all_digits(value);
}

}  // namespace

TEST_CASE("same options give identical districts, and another seed differs", "[sim]") {
  const District a = generate_district({});
  const District b = generate_district({});
  REQUIRE(a.elders.size() == b.elders.size());
  REQUIRE(a.devices.size() == b.devices.size());
  REQUIRE(a.workers.size() == b.workers.size());
  for (std::size_t i = 0; i < a.elders.size(); ++i) {
    const Elder &x = a.elders[i], &y = b.elders[i];
    REQUIRE(x.id == y.id);
    REQUIRE(x.name == y.name);
    REQUIRE(x.id_number == y.id_number);
    REQUIRE(x.birth_date == y.birth_date);
    REQUIRE(x.phone == y.phone);
    REQUIRE(x.address == y.address);
    REQUIRE(x.lat == y.lat);
    REQUIRE(x.lon == y.lon);
    REQUIRE(x.contacts.size() == y.contacts.size());
    for (std::size_t k = 0; k < x.contacts.size(); ++k) {
      REQUIRE(x.contacts[k].name == y.contacts[k].name);
      REQUIRE(x.contacts[k].phone == y.contacts[k].phone);
    }
    REQUIRE(x.paired_worker == y.paired_worker);
  }
  for (std::size_t i = 0; i < a.devices.size(); ++i) {
    const Device &x = a.devices[i], &y = b.devices[i];
    REQUIRE(x.id == y.id);
    REQUIRE(x.elder == y.elder);
    REQUIRE(x.kind == y.kind);
    REQUIRE(x.vendor == y.vendor);
    REQUIRE(x.battery_pct == y.battery_pct);
    REQUIRE(x.last_seen_ms == y.last_seen_ms);
  }
  for (std::size_t i = 0; i < a.workers.size(); ++i) {
    REQUIRE(a.workers[i].name == b.workers[i].name);
    REQUIRE(a.workers[i].lat == b.workers[i].lat);
    REQUIRE(a.workers[i].skills == b.workers[i].skills);
  }

  DistrictOptions other;
  other.seed = 7;
  const District c = generate_district(other);
  int same = 0;
  for (std::size_t i = 0; i < c.elders.size(); ++i) same += c.elders[i].id_number == a.elders[i].id_number;
  CHECK(same < 10);
}

namespace {

// FNV-1a over a canonical text of the district: pins the exact output so a platform or
// compiler that draws differently fails here. Update deliberately when the generator changes.
std::uint64_t fingerprint(const District& d) {
  std::uint64_t h = 1469598103934665603ULL;
  auto eat = [&](std::initializer_list<std::string> fields) {
    for (const auto& s : fields) {
      for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
      h = (h ^ 0xff) * 1099511628211ULL;
    }
  };
  auto micro = [](double deg) { return std::to_string(std::llround(deg * 1e6)); };
  for (const Elder& e : d.elders) {
    eat({e.name, e.id_number, e.phone, e.address, micro(e.lat), micro(e.lon),
         std::to_string(e.paired_worker.value_or(0))});
    for (const auto& c : e.contacts) eat({c.relation, c.name, c.phone});
  }
  for (const Device& v : d.devices)
    eat({v.id, std::to_string(v.elder), std::string(name_of(v.kind)), v.vendor, std::to_string(v.battery_pct),
         std::to_string(v.last_seen_ms)});
  for (const Worker& w : d.workers) eat({w.name, w.phone, micro(w.lat), micro(w.lon)});
  return h;
}

}  // namespace

TEST_CASE("the default district is pinned", "[sim]") {
  const District& d = default_district();
  CHECK(d.elders[0].name == "郭秀英");
  CHECK(d.elders[0].id_number == "371721195406232002");
  CHECK(d.elders[1].id_number == "37172119530427587X");
  CHECK(fingerprint(d) == 0xa1164c0b3c18fd0eULL);
  AlarmPicker p(d, 1);
  std::string first;
  for (int i = 0; i < 3; ++i) first += p.next().device + " ";
  CHECK(first == "D000796 D004102 D001676 ");
}

TEST_CASE("Rng helpers are pinned and in range", "[sim]") {
  Rng r(1);
  Rng s(1);
  for (int i = 0; i < 1000; ++i) REQUIRE(r.next() == s.next());
  for (int i = 0; i < 10000; ++i) {
    const auto v = r.uniform(-3, 5);
    REQUIRE(v >= -3);
    REQUIRE(v <= 5);
    const double u = r.unit();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("counts, ids and places", "[sim]") {
  const District& d = default_district();
  CHECK(d.county == "曹县");
  REQUIRE(d.elders.size() == 2000);
  REQUIRE(d.workers.size() == 60);
  REQUIRE(d.towns.size() >= 6);
  std::set<std::string> towns;
  for (const Town& t : d.towns) {
    towns.insert(t.name);
    CHECK(t.communities.size() >= 4);
    CHECK(t.communities.size() <= 8);
  }
  for (std::size_t i = 0; i < d.elders.size(); ++i) {
    const Elder& e = d.elders[i];
    REQUIRE(e.id == static_cast<ElderId>(i + 1));
    REQUIRE(towns.count(e.town) == 1);
    REQUIRE(e.address.rfind(e.town + e.community, 0) == 0);
    REQUIRE(!e.family_doctor.empty());
    REQUIRE(is_mobile(e.family_doctor_phone));
    REQUIRE((is_mobile(e.phone) || (e.phone.size() == 12 && e.phone.rfind("0530-", 0) == 0)));
    REQUIRE(!e.contacts.empty());
    REQUIRE(e.contacts.size() <= 3);
    for (const auto& c : e.contacts) {
      REQUIRE(!c.name.empty());
      REQUIRE(!c.relation.empty());
      REQUIRE(is_mobile(c.phone));
    }
    REQUIRE(e.disability_grade >= 0);
    REQUIRE(e.disability_grade <= 4);
    if (e.ability) REQUIRE((!e.bedridden && !e.limited_mobility));
    if (e.paired_worker) {
      REQUIRE(*e.paired_worker >= 1);
      REQUIRE(*e.paired_worker <= 60);
      CHECK(d.workers[static_cast<std::size_t>(*e.paired_worker - 1)].town == e.town);
    }
  }
  const std::set<std::string> kSkills = {"first_aid",   "medical",     "nursing", "dementia_care",
                                         "fire_safety", "counselling", "repair"};
  std::set<WorkerRole> roles;
  for (std::size_t i = 0; i < d.workers.size(); ++i) {
    const Worker& w = d.workers[i];
    REQUIRE(w.id == static_cast<WorkerId>(i + 1));
    REQUIRE(towns.count(w.town) == 1);
    REQUIRE(is_mobile(w.phone));
    REQUIRE(!w.skills.empty());
    for (const auto& s : w.skills) REQUIRE(kSkills.count(s) == 1);
    roles.insert(w.role);
  }
  CHECK(roles.size() == 6);

  DistrictOptions small;
  small.elders = 50;
  small.workers = 3;  // fewer workers than towns: pairing still stays in range
  const District s = generate_district(small);
  CHECK(s.elders.size() == 50);
  CHECK(s.workers.size() == 3);
  for (const Elder& e : s.elders)
    if (e.paired_worker) CHECK((*e.paired_worker >= 1 && *e.paired_worker <= 3));

  DistrictOptions leap_day;
  leap_day.today = "2024-02-29";
  leap_day.elders = 400;
  for (const Elder& e : generate_district(leap_day).elders) {
    const int age = age_on(e.birth_date, leap_day.today);
    REQUIRE(age >= 60);
    REQUIRE(age <= 100);
  }

  DistrictOptions bad;
  bad.today = "2026-13-01";
  CHECK_THROWS(generate_district(bad));
}

TEST_CASE("national ID numbers are valid and match birth date and sex", "[sim]") {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  std::set<std::string> seen;
  for (const Elder& e : default_district().elders) {
    const std::string& id = e.id_number;
    REQUIRE(id.size() == 18);
    REQUIRE(all_digits(id.substr(0, 17)));
    REQUIRE(id.substr(0, 6) == "371721");
    std::string born = e.birth_date;
    born.erase(7, 1);
    born.erase(4, 1);
    REQUIRE(id.substr(6, 8) == born);
    REQUIRE(((id[16] - '0') % 2 == 1) == (e.sex == Sex::male));
    int sum = 0;
    for (int i = 0; i < 17; ++i) sum += (id[static_cast<std::size_t>(i)] - '0') * kWeights[i];
    REQUIRE(id[17] == "10X98765432"[sum % 11]);
    REQUIRE(seen.insert(id).second);
  }
}

TEST_CASE("ages, sexes and tiers have realistic spreads", "[sim]") {
  const District& d = default_district();
  const std::string today = DistrictOptions{}.today;
  std::map<CareTier, int> tiers;
  int old_old = 0, female = 0, alone = 0, dementia = 0, unassessed = 0, severe = 0, consent = 0;
  for (const Elder& e : d.elders) {
    const int age = age_on(e.birth_date, today);
    REQUIRE(age >= 60);
    REQUIRE(age <= 100);
    old_old += age >= 80;
    female += e.sex == Sex::female;
    alone += e.living == LivingSituation::alone;
    dementia += e.dementia;
    unassessed += !e.ability.has_value();
    severe += e.ability == Ability::severe;
    consent += e.visit_consent;
    ++tiers[care_tier(e, age)];
  }
  const double n = static_cast<double>(d.elders.size());
  CHECK(old_old / n >= 0.22);
  CHECK(old_old / n <= 0.33);
  CHECK(female / n >= 0.50);
  CHECK(female / n <= 0.60);
  CHECK(alone / n >= 0.24);
  CHECK(alone / n <= 0.36);
  CHECK(dementia / n >= 0.03);
  CHECK(dementia / n <= 0.09);
  CHECK(unassessed / n >= 0.07);
  CHECK(unassessed / n <= 0.13);
  CHECK(severe / n >= 0.03);
  CHECK(severe / n <= 0.09);
  CHECK(consent / n >= 0.88);
  CHECK(tiers[CareTier::key] > 0);
  CHECK(tiers[CareTier::general] > 0);
  CHECK(tiers[CareTier::sub_key] > 0);
  CHECK(tiers[CareTier::key] / n >= 0.20);
  CHECK(tiers[CareTier::key] / n <= 0.60);
}

TEST_CASE("devices: every home has an SOS button, ids are sequential, all recently seen", "[sim]") {
  const District& d = default_district();
  const Millis noon = local_noon_ms(DistrictOptions{}.today);
  CHECK(noon == 1'795'665'600'000);  // 2026-11-26T12:00+08:00
  std::map<ElderId, std::set<DeviceKind>> kinds;
  const std::set<std::string> kVendors = {"hx-iot", "yl-cloud", "ak-link"};
  for (std::size_t i = 0; i < d.devices.size(); ++i) {
    const Device& dev = d.devices[i];
    const std::string num = std::to_string(i + 1);
    REQUIRE(dev.id == "D" + std::string(6 - num.size(), '0') + num);
    REQUIRE(dev.elder >= 1);
    REQUIRE(dev.elder <= 2000);
    REQUIRE(kinds[dev.elder].insert(dev.kind).second);  // one of each kind per home
    REQUIRE(kVendors.count(dev.vendor) == 1);
    REQUIRE(dev.battery_pct >= 1);
    REQUIRE(dev.battery_pct <= 100);
    REQUIRE(dev.last_seen_ms <= noon);
    REQUIRE(dev.last_seen_ms >= noon - 3'600'000);
  }
  int geofenced_dementia = 0, dementia = 0;
  for (const Elder& e : d.elders) {
    REQUIRE(kinds[e.id].count(DeviceKind::sos_button) == 1);
    if (e.dementia) {
      ++dementia;
      geofenced_dementia += kinds[e.id].count(DeviceKind::geofence) == 1;
    }
  }
  CHECK(geofenced_dementia * 2 > dementia);
  CHECK(d.devices.size() > 2 * d.elders.size());
}

TEST_CASE("everything lies within 40 km of the county seat", "[sim]") {
  const District& d = default_district();
  for (const Town& t : d.towns) {
    CHECK(km_from_seat(t.lat, t.lon) < 25);
    for (const Community& c : t.communities) CHECK(km_from_seat(c.lat, c.lon) < 40);
  }
  for (const Elder& e : d.elders) REQUIRE(km_from_seat(e.lat, e.lon) < 40);
  for (const Worker& w : d.workers) REQUIRE(km_from_seat(w.lat, w.lon) < 40);
}

TEST_CASE("AlarmPicker picks raisable kinds, deterministically, SOS most often", "[sim]") {
  const District& d = default_district();
  std::map<DeviceId, const Device*> by_id;
  for (const Device& dev : d.devices) by_id[dev.id] = &dev;

  AlarmPicker a(d, 99), b(d, 99);
  std::map<AlertKind, int> counts;
  for (int i = 0; i < 20000; ++i) {
    const SimAlarm x = a.next();
    const SimAlarm y = b.next();
    REQUIRE(x.device == y.device);
    REQUIRE(x.kind == y.kind);
    REQUIRE(x.detail_json == y.detail_json);
    REQUIRE(by_id.count(x.device) == 1);
    const Device& dev = *by_id[x.device];
    REQUIRE(dev.elder == x.elder);
    REQUIRE(device_can_raise(dev.kind, x.kind));
    REQUIRE(is_simple_json_object(x.detail_json));
    if (x.kind == AlertKind::vital_abnormal)
      REQUIRE((x.detail_json.find("heart_rate") != std::string::npos ||
               x.detail_json.find("breath_rate") != std::string::npos));
    if (x.kind == AlertKind::low_battery) REQUIRE(x.detail_json.find("battery_pct") != std::string::npos);
    ++counts[x.kind];
  }
  for (const auto& [kind, n] : counts) CHECK(n <= counts[AlertKind::sos]);
  CHECK(counts[AlertKind::smoke] < counts[AlertKind::fall]);
  CHECK(counts[AlertKind::gas] < counts[AlertKind::door_open_long]);
  CHECK(counts[AlertKind::low_battery] > counts[AlertKind::smoke]);
  CHECK(counts.size() == 13);

  AlarmPicker c(d, 100);
  int same = 0;
  AlarmPicker a2(d, 99);
  for (int i = 0; i < 100; ++i) same += c.next().device == a2.next().device;
  CHECK(same < 20);

  CHECK_THROWS(AlarmPicker(District{}, 1).next());
}
