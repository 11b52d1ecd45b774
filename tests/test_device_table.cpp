// The registry's compact device table (issue 15, item 5) against the plain map it
// replaced: every device found by serial and by elder with the same fields, through
// growth, replacement, a device moved to another elder, and a table thinned at restore.
#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "anxin/core/device_table.hpp"

using namespace anxin;

namespace {

Device make(const std::string& id, ElderId elder, int n) {
  Device d;
  d.id = id;
  d.elder = elder;
  d.kind = static_cast<DeviceKind>(n % 10);
  d.vendor = "vendor-" + std::to_string(n % 3);
  d.battery_pct = n % 101;
  d.last_seen_ms = 1'700'000'000'000 + n;
  d.sim = n % 4 == 0 ? "1390000" + std::to_string(1000 + n % 9000) : "";
  d.supervised = n % 5 == 0;
  return d;
}

bool same(const Device& a, const Device& b) {
  return a.id == b.id && a.elder == b.elder && a.kind == b.kind && a.vendor == b.vendor &&
         a.battery_pct == b.battery_pct && a.last_seen_ms == b.last_seen_ms && a.sim == b.sim &&
         a.supervised == b.supervised;
}

// The table holds exactly `model`: by serial, by elder (sorted by serial), row by row.
void check_holds(const DeviceTable& t, const std::map<std::string, Device>& model) {
  REQUIRE(t.size() == model.size());
  std::map<ElderId, std::vector<std::string>> by_elder;
  for (const auto& [id, d] : model) {
    const DeviceTable::Row r = t.find(id);
    REQUIRE(r != DeviceTable::none);
    CHECK(same(t.device(r), d));
    CHECK(t.serial(r) == id);
    by_elder[d.elder].push_back(id);
  }
  for (const auto& [elder, ids] : by_elder) {
    std::vector<std::string> got;
    for (DeviceTable::Row r : t.of_elder(elder)) got.emplace_back(t.serial(r));
    CHECK(got == ids);
  }
}

}  // namespace

TEST_CASE("the device table finds what a map of devices finds", "[city]") {
  DeviceTable t;
  std::map<std::string, Device> model;
  std::mt19937 rng(7);
  // Serials of many lengths, some sharing prefixes, enough to grow both indexes.
  for (int n = 0; n < 5000; ++n) {
    const std::string id = (n % 7 == 0 ? "LONG-SERIAL-OF-A-VENDOR-" : "D") + std::to_string(n);
    const Device d = make(id, 1 + static_cast<ElderId>(rng() % 1500), n);
    t.put(d);
    model[id] = d;
  }
  check_holds(t, model);
  CHECK(t.find("D5000") == DeviceTable::none);
  CHECK(t.find("") == DeviceTable::none);
  CHECK(t.of_elder(99'999).empty());

  SECTION("a device put again is replaced in its row, moved to its new elder") {
    const DeviceTable::Row row = t.find("D40");
    REQUIRE(row != DeviceTable::none);
    const ElderId from = model["D40"].elder;
    Device moved = make("D40", from + 1, 43);  // another elder, another SIM, kind and vendor
    moved.sim = "13912345678";
    CHECK(t.put(moved) == row);
    model["D40"] = moved;
    Device kept = make("D41", model["D41"].elder, 44);  // the same elder, new fields
    t.put(kept);
    model["D41"] = kept;
    check_holds(t, model);
    for (DeviceTable::Row r : t.of_elder(from)) CHECK(t.serial(r) != "D40");
  }

  SECTION("fields changed in place read back") {
    const DeviceTable::Row r = t.find("D8");
    REQUIRE(r != DeviceTable::none);
    t.at(r).battery_pct = 9;
    t.at(r).last_seen_ms = 5;
    t.at(r).supervised = true;
    const Device d = t.device(r);
    CHECK(d.battery_pct == 9);
    CHECK(d.last_seen_ms == 5);
    CHECK(d.supervised);
    CHECK(d.id == "D8");
  }

  SECTION("a table thinned at restore keeps exactly the rows asked for") {
    t.retain([&](DeviceTable::Row r) { return t.at(r).elder % 3 != 0; });
    std::erase_if(model, [](const auto& kv) { return kv.second.elder % 3 == 0; });
    check_holds(t, model);
  }
}

TEST_CASE("a device table appended to and reserved finds the devices put before and after", "[city]") {
  DeviceTable t;
  std::map<std::string, Device> model;
  for (int n = 0; n < 100; ++n) model[std::to_string(n)] = make(std::to_string(n), n / 4 + 1, n);
  for (const auto& [id, d] : model) t.append(d);  // as the store loads them
  CHECK_THROWS_AS(t.find("7"), std::logic_error);
  t.index_appended();
  check_holds(t, model);
  t.reserve(10'000);  // the index is rebuilt over the rows already there
  for (int n = 100; n < 3000; ++n) {
    model[std::to_string(n)] = make(std::to_string(n), n / 4 + 1, n);
    t.put(model[std::to_string(n)]);
  }
  check_holds(t, model);
}
