#include "district.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <set>
#include <stdexcept>

#include "anxin/core/care_tier.hpp"

// Percentages marked "assumption" are demo choices meant to look like a rural Shandong
// county; the seeds give rules, not rates. Seeds are cited by file name.

namespace anxin::sim {

// --- random numbers ------------------------------------------------------------

namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::int64_t Rng::uniform(std::int64_t lo, std::int64_t hi) {
  if (hi < lo) throw std::invalid_argument("Rng::uniform: empty range");
  const std::uint64_t range = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo) + 1;
  if (range == 0) return static_cast<std::int64_t>(next());  // the full 64-bit range
  const std::uint64_t threshold = (0 - range) % range;       // 2^64 mod range: reject below
  for (;;) {
    const std::uint64_t r = next();
    if (r >= threshold) return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + r % range);
  }
}

double Rng::unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

namespace {

// Index drawn with integer weights (exact, so identical everywhere).
template <class C> std::size_t pick(Rng& rng, const C& weights) {
  std::int64_t total = 0;
  for (int w : weights) total += w;
  std::int64_t r = rng.uniform(0, total - 1);
  std::size_t i = 0;
  for (int w : weights) {
    if (r < w) return i;
    r -= w;
    ++i;
  }
  return i - 1;
}
std::size_t pick(Rng& rng, std::initializer_list<int> weights) {
  return pick<std::initializer_list<int>>(rng, weights);
}

template <class T> struct Weighted {
  T value;
  int weight;
};
template <class T> T choose(Rng& rng, std::initializer_list<Weighted<T>> choices) {
  std::vector<int> w;
  for (const auto& c : choices) w.push_back(c.weight);
  return choices.begin()[pick(rng, w)].value;
}

template <class T, std::size_t N> const T& any_of(Rng& rng, const T (&items)[N]) {
  return items[rng.uniform(0, static_cast<std::int64_t>(N) - 1)];
}

std::string digits(std::int64_t v, int width) {  // zero-padded decimal
  std::string s = std::to_string(v);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<std::size_t>(width) - s.size(), '0');
  return s;
}

// --- dates -------------------------------------------------------------------

struct Ymd {
  int y, m, d;
};

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

Ymd parse_date(std::string_view s) {
  auto num = [&](std::size_t at, std::size_t len) {
    int v = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (s[i] < '0' || s[i] > '9') throw std::invalid_argument("bad date: " + std::string(s));
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') throw std::invalid_argument("bad date: " + std::string(s));
  Ymd d{num(0, 4), num(5, 2), num(8, 2)};
  if (d.m < 1 || d.m > 12 || d.d < 1 || d.d > days_in_month(d.y, d.m))
    throw std::invalid_argument("bad date: " + std::string(s));
  return d;
}

// Days since 1970-01-01 and back (H. Hinnant's civil calendar algorithms).
std::int64_t days_from_civil(Ymd c) {
  const int y = c.y - (c.m <= 2);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (c.m > 2 ? c.m - 3 : c.m + 9) + 2) / 5 + c.d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return std::int64_t{era} * 146097 + doe - 719468;
}
Ymd civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = static_cast<int>(z - era * 146097);
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  const int d = doy - (153 * mp + 2) / 5 + 1;
  const int m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(era * 400 + yoe) + (m <= 2), m, d};
}
std::string format_date(Ymd d, std::string_view sep) {
  return digits(d.y, 4) + std::string(sep) + digits(d.m, 2) + std::string(sep) + digits(d.d, 2);
}

// --- places ------------------------------------------------------------------

// Positions are integer micro-degrees until the end, so they are exact everywhere.
constexpr std::int64_t kMetresPerDegLat = 110'940;  // at 35 N
constexpr std::int64_t kMetresPerDegLon = 91'380;   // 111.32 km * cos(34.83)

struct Micro {
  std::int64_t lat, lon;
};
Micro scatter(Rng& rng, Micro c, std::int64_t radius_m) {  // uniform in a disc
  for (;;) {
    const std::int64_t dx = rng.uniform(-radius_m, radius_m);
    const std::int64_t dy = rng.uniform(-radius_m, radius_m);
    if (dx * dx + dy * dy <= radius_m * radius_m)
      return {c.lat + dy * 1'000'000 / kMetresPerDegLat, c.lon + dx * 1'000'000 / kMetresPerDegLon};
  }
}
double degrees(std::int64_t micro) { return static_cast<double>(micro) / 1e6; }

struct TownSeed {
  std::string_view name;
  Micro centre;  // approximate seat of the town government (assumption, from maps)
  int weight;    // share of the demo's elders (assumption)
  bool urban;    // 街道: 社区 in flats; 镇: 村 with 组 numbers
  std::array<std::string_view, 8> communities;  // trailing blanks unused
};

// Real 街道 / 镇 of 曹县; 古营集镇 is 17.7 km north-east of the seat, the rest are placed
// by their direction from it. Community names are plausible, not a census.
const TownSeed kTowns[] = {
    {"曹城街道", {34'826'000, 115'545'000}, 14, true,
     {"东关社区", "西关社区", "南关社区", "北关社区", "文化路社区", "青年路社区"}},
    {"磐石街道", {34'833'000, 115'560'000}, 14, true,
     {"磐石社区", "华夏社区", "五里墩社区", "和平社区", "建设社区"}},
    {"郑庄街道", {34'805'000, 115'515'000}, 12, true,
     {"郑庄社区", "张庄村", "刘楼村", "孙庄村", "前李庄村", "后李庄村"}},
    {"青菏街道", {34'855'000, 115'525'000}, 10, true,
     {"青菏社区", "新华社区", "杨庄村", "王庄村"}},
    {"普连集镇", {34'935'000, 115'590'000}, 12, false,
     {"普连集村", "王楼村", "赵庄村", "刘庙村", "陈集村", "周寨村", "李堂村"}},
    {"古营集镇", {34'945'000, 115'695'000}, 12, false,
     {"古营集村", "孟庄村", "郭楼村", "徐寨村", "何庄村", "马楼村"}},
    {"侯集回族镇", {34'840'000, 115'710'000}, 14, false,
     {"侯集村", "马庄村", "白寨村", "杨楼村", "黄庄村"}},
    {"大集镇", {34'760'000, 115'460'000}, 12, false,
     {"大集村", "丁楼村", "张庄村", "葛庄村", "梁楼村", "韩庄村", "苏庄村", "孙集村"}},
};

// --- people ------------------------------------------------------------------

const std::string_view kSurnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏",
    "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
    "石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹",
    "薛", "闫", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵",
    "万", "钱", "严", "覃", "武", "戴", "莫", "孔", "向", "汤"};
const std::string_view kOldMale[] = {
    "建国", "建华", "建军", "国华", "国强", "国庆", "德明", "德胜", "德福", "志强", "志刚",
    "保国", "振华", "长林", "福生", "学文", "玉山", "金山", "广田", "守仁", "文华", "树林",
    "春生", "洪亮", "庆祥", "永福", "新民", "兆林", "明", "山", "成", "忠", "林", "刚"};
const std::string_view kOldFemale[] = {
    "秀英", "桂英", "玉兰", "凤英", "淑珍", "秀兰", "桂兰", "玉珍", "兰英", "秀珍", "凤兰",
    "桂芝", "玉梅", "秀云", "淑英", "素芬", "翠兰", "春梅", "美英", "玉英", "巧云", "爱华",
    "桂花", "月英", "金凤", "素珍", "凤琴", "秀荣", "霞", "芳", "英", "兰", "珍", "荣"};
const std::string_view kYoungMale[] = {
    "伟", "磊", "强", "涛", "超", "鹏", "杰", "勇", "军", "浩", "晓东", "国栋", "建伟", "志伟",
    "俊杰", "海涛", "文博", "振宇", "宏伟", "东升"};
const std::string_view kYoungFemale[] = {
    "静", "丽", "敏", "婷", "艳", "娜", "慧", "燕", "芳", "海燕", "丽娜", "红霞", "晓燕", "雪梅",
    "文静", "亚楠", "晓丽", "美玲", "春燕", "玉洁"};

bool hui_town(std::size_t t) { return kTowns[t].name == "侯集回族镇"; }

std::string surname(Rng& rng, bool hui_town) {
  // 侯集回族镇 is a Hui town: 马 / 丁 / 白 are common there (assumption).
  static const std::string_view kHui[] = {"马", "丁", "白"};
  if (hui_town && rng.chance(0.25)) return std::string(any_of(rng, kHui));
  // Smaller index = more common: the minimum of two uniform indices skews to the front.
  const auto n = static_cast<std::int64_t>(std::size(kSurnames)) - 1;
  const std::int64_t a = rng.uniform(0, n);
  const std::int64_t b = rng.uniform(0, n);
  return std::string(kSurnames[std::min(a, b)]);
}
std::string given(Rng& rng, bool male, bool old) {
  return std::string(old ? (male ? any_of(rng, kOldMale) : any_of(rng, kOldFemale))
                         : (male ? any_of(rng, kYoungMale) : any_of(rng, kYoungFemale)));
}
// Note: `a(rng) + b(rng)` would leave the draw order to the compiler, so every use of
// the Rng below is its own statement.
std::string full_name(Rng& rng, const std::string& family, bool male, bool old) {
  return family + given(rng, male, old);
}
std::string full_name(Rng& rng, bool hui_town, bool male, bool old) {
  const std::string family = surname(rng, hui_town);
  return full_name(rng, family, male, old);
}

std::string mobile(Rng& rng) {
  static const std::string_view kPrefixes[] = {"130", "131", "132", "133", "134", "135", "136",
                                               "137", "138", "139", "150", "151", "152", "155",
                                               "156", "157", "158", "159", "182", "183", "185",
                                               "186", "187", "188", "189"};
  std::string number(any_of(rng, kPrefixes));
  number += digits(rng.uniform(0, 99'999'999), 8);
  return number;
}

// GB 11643: 6-digit region, YYYYMMDD, 3-digit sequence (odd = male), ISO 7064 MOD 11-2.
char id_check_char(std::string_view first17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (std::size_t i = 0; i < 17; ++i) sum += (first17[i] - '0') * kWeights[i];
  return "10X98765432"[sum % 11];
}

int age_band_index(int age) { return age < 70 ? 0 : age < 80 ? 1 : 2; }

std::vector<EmergencyContact> make_contacts(Rng& rng, const Elder& e, const std::string& family,
                                            bool village) {
  // 1-3 contacts (assumption: 20% / 45% / 35%); people living alone or left behind are more
  // often reached through a neighbour or the village/community head (000: contact children,
  // relatives and the village/community head in an emergency).
  const int n = 1 + static_cast<int>(pick(rng, {20, 45, 35}));
  const double p_local = e.living == LivingSituation::alone         ? 0.45
                         : e.living == LivingSituation::left_behind ? 0.35
                         : e.living == LivingSituation::with_family ? 0.05
                                                                    : 0.15;
  std::vector<EmergencyContact> out;
  bool head_used = false;
  for (int k = 0; k < n; ++k) {
    EmergencyContact c;
    if (rng.chance(p_local)) {
      if (!head_used && rng.chance(0.5)) {
        head_used = true;
        c.relation = village ? "村主任" : "居委会主任";
        const bool male = rng.chance(0.8);
        c.name = full_name(rng, false, male, false);
      } else {
        c.relation = "邻居";
        const bool male = rng.chance(0.5);
        const bool old = rng.chance(0.5);
        c.name = full_name(rng, false, male, old);
      }
    } else {
      // 计划生育特殊家庭 have lost their only child: nephews and nieces instead.
      const std::string_view rel =
          e.special_family ? choose<std::string_view>(rng, {{"侄子", 50}, {"侄女", 30}, {"外甥", 20}})
                           : choose<std::string_view>(rng, {{"儿子", 40}, {"女儿", 35}, {"儿媳", 15}, {"孙子", 10}});
      const bool male = rel == "儿子" || rel == "孙子" || rel == "侄子" || rel == "外甥";
      const bool own_surname = rel != "儿媳" && rel != "外甥";  // children take the father's
      c.relation = std::string(rel);
      c.name = own_surname ? full_name(rng, family, male, false) : full_name(rng, false, male, false);
    }
    c.phone = mobile(rng);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> skills_for(Rng& rng, WorkerRole role) {
  // Plausible skills per role (assumption); kept in one canonical order.
  static const std::string_view kOrder[] = {"first_aid",   "medical",     "nursing", "dementia_care",
                                            "fire_safety", "counselling", "repair"};
  std::set<std::string_view> s;
  auto maybe = [&](std::string_view skill, double p) {
    if (rng.chance(p)) s.insert(skill);
  };
  switch (role) {
    case WorkerRole::nurse:
      s = {"nursing", "first_aid"};
      maybe("medical", 0.4);
      maybe("dementia_care", 0.4);
      break;
    case WorkerRole::family_doctor:
      s = {"medical", "first_aid"};
      maybe("dementia_care", 0.3);
      maybe("counselling", 0.2);
      break;
    case WorkerRole::social_worker:
      s = {"counselling"};
      maybe("dementia_care", 0.4);
      maybe("first_aid", 0.5);
      break;
    case WorkerRole::volunteer:
      maybe("first_aid", 0.7);
      maybe("repair", 0.3);
      maybe("counselling", 0.3);
      if (s.empty()) s.insert("counselling");
      break;
    case WorkerRole::property_staff:
      s = {"repair", "fire_safety"};
      maybe("first_aid", 0.4);
      break;
    case WorkerRole::grid_worker:
      s = {"fire_safety"};
      maybe("first_aid", 0.5);
      maybe("repair", 0.3);
      maybe("counselling", 0.2);
      break;
  }
  std::vector<std::string> out;
  for (auto k : kOrder)
    if (s.count(k)) out.emplace_back(k);
  return out;
}

const std::string_view kVendors[] = {"hx-iot", "yl-cloud", "ak-link"};
std::string vendor(Rng& rng) { return std::string(kVendors[pick(rng, {45, 35, 20})]); }

}  // namespace

Millis local_noon_ms(std::string_view date) {
  return days_from_civil(parse_date(date)) * 86'400'000 + 4 * 3'600'000;  // 12:00 +08:00
}

// --- the district ----------------------------------------------------------------

namespace {

// Takes devices away or adds some until there are `want` (DistrictOptions::devices),
// then numbers them afresh in elder and kind order, as the take-up numbers them.
void set_device_count(District& d, std::size_t want, Rng& r, Millis noon) {
  std::vector<Device>& devs = d.devices;
  if (want < devs.size()) {
    std::size_t excess = devs.size() - want;
    std::vector<std::size_t> optional;  // every device but the 一键通
    for (std::size_t i = 0; i < devs.size(); ++i)
      if (devs[i].kind != DeviceKind::sos_button) optional.push_back(i);
    std::vector<bool> drop(devs.size(), false);
    if (excess <= optional.size()) {
      for (std::size_t k = 0; k < excess; ++k) {  // a partial Fisher-Yates draw
        const auto j = static_cast<std::size_t>(r.uniform(static_cast<std::int64_t>(k),
                                                          static_cast<std::int64_t>(optional.size()) - 1));
        std::swap(optional[k], optional[j]);
        drop[optional[k]] = true;
      }
    } else {  // fewer devices than homes: the last elders have none
      for (std::size_t i : optional) drop[i] = true;
      excess -= optional.size();
      for (std::size_t i = devs.size(); i-- > 0 && excess > 0;)
        if (!drop[i]) drop[i] = true, --excess;
    }
    std::vector<Device> kept;
    kept.reserve(want);
    for (std::size_t i = 0; i < devs.size(); ++i)
      if (!drop[i]) kept.push_back(std::move(devs[i]));
    devs = std::move(kept);
  } else {
    if (d.elders.empty()) throw std::invalid_argument("devices need elders to belong to");
    devs.reserve(want);
    while (devs.size() < want) {
      // A second sensor of a kind in another room, weighted by the kinds' take-up.
      Device dev;
      dev.elder = d.elders[static_cast<std::size_t>(r.uniform(0, static_cast<std::int64_t>(d.elders.size()) - 1))].id;
      dev.kind = choose<DeviceKind>(r, {{DeviceKind::smoke, 70}, {DeviceKind::gas, 50}, {DeviceKind::water_leak, 25},
                                        {DeviceKind::infrared, 40}, {DeviceKind::door, 35}, {DeviceKind::bed, 20},
                                        {DeviceKind::vital_signs, 15}, {DeviceKind::geofence, 7},
                                        {DeviceKind::water_meter, 33}});
      dev.vendor = vendor(r);
      dev.battery_pct = static_cast<int>(r.chance(0.04) ? r.uniform(5, 19) : r.uniform(20, 100));
      dev.last_seen_ms = noon - r.uniform(0, 3'600'000);
      devs.push_back(std::move(dev));
    }
  }
  std::stable_sort(devs.begin(), devs.end(), [](const Device& a, const Device& b) {
    return a.elder != b.elder ? a.elder < b.elder : static_cast<int>(a.kind) < static_cast<int>(b.kind);
  });
  int serial = 0;
  for (Device& dev : devs) {
    dev.id = "D" + digits(++serial, 6);
    dev.sim = dev.kind == DeviceKind::sos_button ? "1064" + digits(serial, 9) : "";
  }
}

}  // namespace

District generate_district(const DistrictOptions& opt) {
  if (opt.elders < 0 || opt.workers < 0 || opt.devices < -1) throw std::invalid_argument("negative count");
  const Ymd today = parse_date(opt.today);
  const Millis noon = local_noon_ms(opt.today);

  // Independent streams, so e.g. more workers does not reshuffle the towns.
  Rng master(opt.seed);
  Rng town_rng(master.next());
  Rng worker_rng(master.next());
  Rng elder_rng(master.next());
  Rng device_rng(master.next());
  Rng count_rng(master.next());  // only for a device count of the caller's

  District d;
  d.county = "曹县";
  const std::size_t town_count = std::size(kTowns);
  std::vector<std::vector<Micro>> spots(town_count);
  for (std::size_t t = 0; t < town_count; ++t) {
    const TownSeed& ts = kTowns[t];
    Town town{std::string(ts.name), degrees(ts.centre.lat), degrees(ts.centre.lon), {}};
    for (auto name : ts.communities) {
      if (name.empty()) continue;
      const Micro at = scatter(town_rng, ts.centre, ts.urban ? 1500 : 2500);
      spots[t].push_back(at);
      town.communities.push_back({std::string(name), degrees(at.lat), degrees(at.lon)});
    }
    d.towns.push_back(std::move(town));
  }

  // Workers: round-robin over towns, roles weighted toward grid workers and volunteers
  // (000 lists grid workers, family doctors, social workers, volunteers, property staff).
  std::vector<std::vector<WorkerId>> town_workers(town_count);
  std::vector<std::vector<std::pair<std::string, std::string>>> doctors(town_count);
  for (int i = 1; i <= opt.workers; ++i) {
    Rng& r = worker_rng;
    const std::size_t t = static_cast<std::size_t>(i - 1) % town_count;
    Worker w;
    w.id = i;
    w.role = choose<WorkerRole>(r, {{WorkerRole::grid_worker, 25}, {WorkerRole::volunteer, 25},
                                    {WorkerRole::social_worker, 15}, {WorkerRole::nurse, 15},
                                    {WorkerRole::property_staff, 10}, {WorkerRole::family_doctor, 10}});
    const bool male = r.chance(0.5);
    w.name = full_name(r, hui_town(t), male, false);
    w.phone = mobile(r);
    w.skills = skills_for(r, w.role);
    w.town = d.towns[t].name;
    w.on_duty = r.chance(0.70);  // assumption
    const Micro at = scatter(r, kTowns[t].centre, 3000);
    w.lat = degrees(at.lat), w.lon = degrees(at.lon);
    w.position_ms = noon - r.uniform(0, 30 * 60'000);
    town_workers[t].push_back(w.id);
    if (w.role == WorkerRole::family_doctor) doctors[t].emplace_back(w.name, w.phone);
    d.workers.push_back(std::move(w));
  }
  // Each town clinic adds two doctors of its own (004: every 老老人 and every disabled or
  // demented elder signs with a family doctor; the demo gives everyone one).
  for (std::size_t t = 0; t < town_count; ++t) {
    for (int k = 0; k < 2; ++k) {
      const bool male = town_rng.chance(0.5);
      std::string name = full_name(town_rng, hui_town(t), male, false);
      doctors[t].emplace_back(std::move(name), mobile(town_rng));
    }
  }

  std::vector<int> town_weights;
  for (const auto& ts : kTowns) town_weights.push_back(ts.weight);
  std::set<std::string> used_ids;
  for (int i = 1; i <= opt.elders; ++i) {
    Rng& r = elder_rng;
    Elder e;
    e.id = i;
    const std::size_t t = pick(r, town_weights);
    const TownSeed& ts = kTowns[t];
    const auto c = static_cast<std::size_t>(r.uniform(0, static_cast<std::int64_t>(spots[t].size()) - 1));
    e.town = d.towns[t].name;
    e.community = d.towns[t].communities[c].name;

    // Age: bands skewed to 65-85, 27.5% aged 80+ (assumption; "老老人" = 80+, 004).
    static constexpr int kBandLo[] = {60, 65, 70, 75, 80, 85, 90, 95};
    static constexpr int kBandHi[] = {64, 69, 74, 79, 84, 89, 94, 100};
    const std::size_t band = pick(r, {140, 200, 210, 175, 140, 90, 35, 10});
    const int age = static_cast<int>(r.uniform(kBandLo[band], kBandHi[band]));
    // Women outlive men: 48% male under 80, 38% from 80 (~45% overall; assumption).
    e.sex = r.chance(age < 80 ? 0.48 : 0.38) ? Sex::male : Sex::female;
    const bool male = e.sex == Sex::male;

    // A birth date that makes `age` whole years today: up to 364 days before the
    // anniversary in year today.y - age (Feb 29 anniversaries fall back to Feb 28).
    Ymd anniversary{today.y - age, today.m, 0};
    anniversary.d = std::min(today.d, days_in_month(anniversary.y, today.m));
    const Ymd born = civil_from_days(days_from_civil(anniversary) - r.uniform(0, 364));
    e.birth_date = format_date(born, "-");

    const std::string family = surname(r, hui_town(t));
    e.name = full_name(r, family, male, true);
    e.phone = r.chance(0.08) ? "0530-" + digits(3'000'000 + r.uniform(0, 999'999), 7)  // landline
                             : mobile(r);
    for (;;) {  // 371721 = 山东省菏泽市曹县
      const std::int64_t seq = male ? 2 * r.uniform(0, 499) + 1 : 2 * r.uniform(1, 499);
      std::string id = "371721" + format_date(born, "") + digits(seq, 3);
      id += id_check_char(id);
      if (used_ids.insert(id).second) {
        e.id_number = std::move(id);
        break;
      }
    }

    // 居住状况 (assumption): alone 30, empty-nest 30, elderly-only 15, left-behind 10, with family 15.
    e.living = choose<LivingSituation>(r, {{LivingSituation::alone, 30}, {LivingSituation::empty_nest, 30},
                                           {LivingSituation::elderly_only, 15}, {LivingSituation::left_behind, 10},
                                           {LivingSituation::with_family, 15}});

    // Ability by age band; overall ~42% intact, 26% mild, 12% moderate, 6% severe, 3% complete,
    // 10% not assessed (assumption). Unassessed elders may be bedridden (counts as severe) or
    // of limited mobility (counts as moderate), 000 二.(一).
    static constexpr std::array<std::array<int, 6>, 3> kAbility = {{
        // intact mild moderate severe complete not-assessed, per mille
        {560, 220, 70, 30, 15, 105},   // 60-69
        {420, 280, 120, 55, 25, 100},  // 70-79
        {260, 290, 180, 105, 55, 110}, // 80+
    }};
    const int band3 = age_band_index(age);
    const std::size_t ab = pick(r, kAbility[static_cast<std::size_t>(band3)]);
    if (ab < 5) {
      e.ability = static_cast<Ability>(ab);
    } else {
      const std::size_t body = pick(r, {15, 25, 60});  // bedridden / limited mobility / neither
      e.bedridden = body == 0;
      e.limited_mobility = body == 1;
    }
    // 失智 2% / 5% / 12% by age band, ~6% overall (assumption).
    e.dementia = r.chance(band3 == 0 ? 0.02 : band3 == 1 ? 0.05 : 0.12);
    // Disability grade: 85% none; grades 1-4 at 2 / 3 / 4.5 / 5.5% (assumption).
    e.disability_grade = static_cast<int>(pick(r, {850, 20, 30, 45, 55}));
    // 计划生育特殊家庭 ~3% (assumption); with no child they live alone or as a couple.
    e.special_family = r.chance(0.03);
    if (e.special_family && (e.living == LivingSituation::left_behind || e.living == LivingSituation::with_family))
      e.living = r.chance(0.5) ? LivingSituation::alone : LivingSituation::elderly_only;
    // 低保 10%, 特困 4%, 低保边缘 6% (assumption; categories from 003 and 002).
    e.economic = choose<EconomicStatus>(r, {{EconomicStatus::ordinary, 80}, {EconomicStatus::subsistence, 10},
                                            {EconomicStatus::extreme_poverty, 4},
                                            {EconomicStatus::near_poverty, 6}});

    const Micro home = scatter(r, spots[t][c], ts.urban ? 500 : 1000);
    e.lat = degrees(home.lat), e.lon = degrees(home.lon);
    const bool village = e.community.ends_with("村");
    e.address = e.town + e.community;
    if (village) {  // 3组12号
      e.address += std::to_string(r.uniform(1, 10)) + "组";
      e.address += std::to_string(r.uniform(1, 80)) + "号";
    } else {  // 5号楼2单元301
      e.address += std::to_string(r.uniform(1, 30)) + "号楼";
      e.address += std::to_string(r.uniform(1, 4)) + "单元";
      e.address += std::to_string(r.uniform(1, 6));
      e.address += "0" + std::to_string(r.uniform(1, 2));
    }

    e.contacts = make_contacts(r, e, male ? family : surname(r, hui_town(t)), village);
    const auto& doc = doctors[t][static_cast<std::size_t>(r.uniform(0, static_cast<std::int64_t>(doctors[t].size()) - 1))];
    e.family_doctor = doc.first;
    e.family_doctor_phone = doc.second;
    // 结对帮扶 (001): each elder gets a fixed visitor; the demo leaves ~10% not yet paired.
    const auto& pool = town_workers[t];
    if (r.chance(0.90)) {
      if (!pool.empty())
        e.paired_worker = pool[static_cast<std::size_t>(r.uniform(0, static_cast<std::int64_t>(pool.size()) - 1))];
      else if (opt.workers > 0)
        e.paired_worker = r.uniform(1, opt.workers);
    }
    e.visit_consent = r.chance(0.92);  // in-home visits need consent (000); 92% assumption
    d.elders.push_back(std::move(e));
  }

  // Devices. Every home has the 一键通 that calls the dispatch room (003 附件4 清单2);
  // the rest with assumed take-up, raised where the seeds point at a need.
  int serial = 0;
  for (const Elder& e : d.elders) {
    Rng& r = device_rng;
    const bool key = care_tier(e, age_on(e.birth_date, opt.today)) == CareTier::key;
    const bool severe = (e.ability && *e.ability >= Ability::severe) || (!e.ability && e.bedridden);
    const bool alone = e.living == LivingSituation::alone;
    const std::string home_vendor = vendor(r);
    auto add = [&](DeviceKind kind, double p) {
      if (!r.chance(p)) return;
      Device dev;
      dev.id = "D" + digits(++serial, 6);
      dev.elder = e.id;
      dev.kind = kind;
      dev.vendor = r.chance(0.10) ? vendor(r) : home_vendor;  // mostly one platform per home
      dev.battery_pct = static_cast<int>(r.chance(0.04) ? r.uniform(5, 19) : r.uniform(20, 100));
      dev.last_seen_ms = noon - r.uniform(0, 3'600'000);
      // The 一键通 phones the centre on its own IoT SIM (13-digit 1064 numbers); taken
      // from the serial, not the generator, so every other draw stays as it was.
      if (kind == DeviceKind::sos_button) dev.sim = "1064" + digits(serial, 9);
      d.devices.push_back(std::move(dev));
    };
    add(DeviceKind::sos_button, 1.0);
    add(DeviceKind::smoke, 0.70);
    add(DeviceKind::gas, 0.50);
    add(DeviceKind::water_leak, 0.25);
    // Infrared is not for homes with someone living in (003 附件4 清单2).
    add(DeviceKind::infrared, e.living == LivingSituation::with_family ? 0.15 : alone ? 0.70 : key ? 0.60 : 0.35);
    add(DeviceKind::door, 0.35);
    add(DeviceKind::bed, severe ? 0.60 : 0.15);
    add(DeviceKind::vital_signs, key ? 0.25 : 0.10);
    add(DeviceKind::geofence, e.dementia ? 0.85 : 0.02);  // mainly for 失智 (003 附件4 清单2)
    add(DeviceKind::water_meter, alone ? 0.45 : 0.25);
  }
  if (opt.devices >= 0 && static_cast<std::size_t>(opt.devices) != d.devices.size())
    set_device_count(d, static_cast<std::size_t>(opt.devices), count_rng, noon);
  return d;
}

// --- alarms ------------------------------------------------------------------------

namespace {

// Relative alarm rate of one device for one kind (assumption): SOS presses dominate,
// door-left-open and low battery are frequent, falls and inactivity moderate, smoke and
// gas rare. A device already low on battery reports low_battery far more often.
int alarm_weight(DeviceKind device, AlertKind kind, int battery_pct) {
  switch (kind) {
    case AlertKind::sos: return device == DeviceKind::sos_button ? 30 : 6;
    case AlertKind::smoke: return 2;
    case AlertKind::gas: return 2;
    case AlertKind::water_leak: return 3;
    case AlertKind::fall: return 8;
    case AlertKind::inactivity: return 10;
    case AlertKind::door_open_long: return 20;
    case AlertKind::bed_exit_long: return 12;
    case AlertKind::vital_abnormal: return 10;
    case AlertKind::geofence_exit: return 15;
    case AlertKind::no_water_use: return 8;
    case AlertKind::low_battery: return battery_pct < 20 ? 40 : 3;
    case AlertKind::offline: return 2;
  }
  return 0;
}

std::string json1(std::string_view key, std::int64_t value) {
  return "{\"" + std::string(key) + "\":" + std::to_string(value) + "}";
}

}  // namespace

AlarmPicker::AlarmPicker(const District& d, std::uint64_t seed) : rng_(seed) {
  std::uint64_t total = 0;
  for (const Device& dev : d.devices) {
    for (int k = 0; k <= static_cast<int>(AlertKind::offline); ++k) {
      const auto kind = static_cast<AlertKind>(k);
      if (!device_can_raise(dev.kind, kind)) continue;
      total += static_cast<std::uint64_t>(alarm_weight(dev.kind, kind, dev.battery_pct));
      entries_.push_back({dev.id, dev.elder, kind, dev.battery_pct});
      cumulative_.push_back(total);
    }
  }
}

SimAlarm AlarmPicker::next() {
  if (entries_.empty()) throw std::logic_error("AlarmPicker: district has no devices");
  const auto r = static_cast<std::uint64_t>(rng_.uniform(0, static_cast<std::int64_t>(cumulative_.back()) - 1));
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), r);
  const Entry& e = entries_[static_cast<std::size_t>(it - cumulative_.begin())];

  SimAlarm a{e.device, e.elder, e.kind, "{}"};
  switch (e.kind) {
    case AlertKind::vital_abnormal:
      switch (pick(rng_, {60, 25, 15})) {
        case 0: a.detail_json = json1("heart_rate", rng_.uniform(120, 160)); break;
        case 1: a.detail_json = json1("heart_rate", rng_.uniform(35, 48)); break;
        default: a.detail_json = json1("breath_rate", rng_.uniform(28, 40)); break;
      }
      break;
    case AlertKind::geofence_exit: a.detail_json = json1("distance_m", rng_.uniform(200, 3000)); break;
    case AlertKind::low_battery:
      a.detail_json = json1("battery_pct", e.battery_pct < 20 ? e.battery_pct : rng_.uniform(3, 15));
      break;
    case AlertKind::door_open_long: a.detail_json = json1("minutes", rng_.uniform(30, 180)); break;
    case AlertKind::inactivity: a.detail_json = json1("minutes", rng_.uniform(90, 480)); break;
    case AlertKind::bed_exit_long: a.detail_json = json1("minutes", rng_.uniform(30, 120)); break;
    case AlertKind::no_water_use: a.detail_json = json1("hours", rng_.uniform(24, 60)); break;
    default: break;
  }
  return a;
}

DeviceFleet::DeviceFleet(const District& d, std::uint64_t seed, std::map<DeviceId, std::int64_t> last_seq)
    : picker_(d, seed), seq_(std::move(last_seq)) {
  for (const auto& dev : d.devices) vendor_[dev.id] = dev.vendor;
}

AlarmIn DeviceFleet::next(Millis device_time_ms) {
  SimAlarm s = picker_.next();
  AlarmIn a;
  a.device = s.device;
  a.seq = ++seq_[s.device];
  a.kind = s.kind;
  a.device_time_ms = device_time_ms;
  a.detail = std::move(s.detail_json);
  return a;
}

std::set<std::string> DeviceFleet::vendors() const {
  std::set<std::string> out;
  for (const auto& [device, vendor] : vendor_) out.insert(vendor);
  return out;
}

}  // namespace anxin::sim
