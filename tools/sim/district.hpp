// A seeded, deterministic demo district around the seat of 曹县 (Cao County, Heze,
// Shandong): towns and villages, elders with the spreads a service centre sees, the
// devices in their homes, field workers, and a stream of device alarms to play.
//
// Same options give byte-identical output on every platform: all randomness comes from
// the Rng below (xoshiro256**), never from <random> distributions, and coordinates are
// computed in integer micro-degrees.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <map>
#include <set>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/domain.hpp"

namespace anxin::sim {

// The county seat, centre of the demo map.
inline constexpr double kSeatLat = 34.83;
inline constexpr double kSeatLon = 115.54;

struct Community {  // 村 or 社区
  std::string name;
  double lat = 0, lon = 0;
};

struct Town {  // 镇 or 街道
  std::string name;
  double lat = 0, lon = 0;
  std::vector<Community> communities;
};

struct District {
  std::string county;          // "曹县"
  std::vector<Town> towns;
  std::vector<Elder> elders;    // ids 1..N
  std::vector<Device> devices;  // ids "D000001"...; grouped by elder, in DeviceKind order
  std::vector<Worker> workers;  // ids 1..M
};

struct DistrictOptions {
  std::uint64_t seed = 42;
  int elders = 2000;
  int workers = 60;
  std::string today = "2026-11-26";  // YYYY-MM-DD; ages, birth dates and "now" follow it
  // How many devices in all; -1: as the homes' take-up gives (about 4 per elder). A
  // count other than that takes devices away (the 一键通 last) or adds more of the other
  // kinds to homes drawn at random, from a stream of its own, so the elders and the
  // devices the take-up gives stay as they were.
  long long devices = -1;
};

// Throws std::invalid_argument for a malformed `today` or negative counts.
District generate_district(const DistrictOptions&);

// 12:00 China Standard Time (UTC+8) on `date` (YYYY-MM-DD), in Unix millis: the demo's
// "now". Devices were last seen, and workers last positioned, within the hour before it.
// Throws std::invalid_argument for a malformed date.
Millis local_noon_ms(std::string_view date);

// xoshiro256** seeded through splitmix64. Every helper is defined by integer arithmetic
// or exact floating-point operations, so sequences match across compilers and platforms.
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  std::int64_t uniform(std::int64_t lo, std::int64_t hi);  // inclusive, unbiased
  double unit();                                           // [0, 1), 53 bits
  bool chance(double p) { return unit() < p; }

 private:
  std::uint64_t s_[4];
};

// A device alarm to play into the gateway.
struct SimAlarm {
  DeviceId device;
  ElderId elder = 0;
  AlertKind kind = AlertKind::sos;
  std::string detail_json;  // a JSON object, "{}" when the kind carries nothing
};

// Picks (device, kind) pairs with realistic relative frequencies: SOS presses are the
// most common, door-left-open and low battery frequent, falls and inactivity moderate,
// smoke and gas rare. Every kind is one the device can raise (device_can_raise).
class AlarmPicker {
 public:
  AlarmPicker(const District&, std::uint64_t seed);  // copies what it needs
  SimAlarm next();  // deterministic for a given district + seed; throws if no devices

 private:
  struct Entry {
    DeviceId device;
    ElderId elder;
    AlertKind kind;
    int battery_pct;
  };
  std::vector<Entry> entries_;
  std::vector<std::uint64_t> cumulative_;  // running sum of entry weights
  Rng rng_;
};

// The district's devices raising alarms: the picker's choices, each device counting
// its own sequence number as real devices do (a restarted simulator continues from
// `last_seq`, so the server does not take new alarms for retries).
class DeviceFleet {
 public:
  DeviceFleet(const District&, std::uint64_t seed, std::map<DeviceId, std::int64_t> last_seq = {});
  AlarmIn next(Millis device_time_ms);
  const std::string& vendor_of(const DeviceId& device) const { return vendor_.at(device); }
  std::set<std::string> vendors() const;

 private:
  AlarmPicker picker_;
  std::map<DeviceId, std::int64_t> seq_;
  std::map<DeviceId, std::string> vendor_;
};

}  // namespace anxin::sim
