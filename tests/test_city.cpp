// A city's registry (issue 15, item 5): anxin-sim generate takes a device count, and
// the compact index of callers' numbers finds the same elder, device and contact as
// the plain map it replaced.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "anxin/core/dispatcher.hpp"
#include "district.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;

namespace {

std::map<ElderId, std::vector<DeviceKind>> kinds_by_elder(const sim::District& d) {
  std::map<ElderId, std::vector<DeviceKind>> out;
  for (const auto& dev : d.devices) out[dev.elder].push_back(dev.kind);
  return out;
}

void check_numbered(const sim::District& d) {
  std::set<ElderId> elders;
  for (const auto& e : d.elders) elders.insert(e.id);
  for (size_t i = 0; i < d.devices.size(); ++i) {
    const Device& dev = d.devices[i];
    CHECK(dev.id == "D" + std::string(6 - std::min<size_t>(6, std::to_string(i + 1).size()), '0') +
                        std::to_string(i + 1));
    CHECK(elders.count(dev.elder) == 1);
    CHECK(dev.sim.empty() == (dev.kind != DeviceKind::sos_button));
    if (i > 0) CHECK(d.devices[i - 1].elder <= dev.elder);
  }
}

}  // namespace

TEST_CASE("a district has exactly the devices asked for", "[sim]") {
  sim::DistrictOptions o;
  o.elders = 200;
  o.workers = 10;
  const sim::District model = sim::generate_district(o);
  const size_t n = model.devices.size();
  REQUIRE(n > 400);

  SECTION("no count, or the take-up's own count, changes nothing") {
    o.devices = static_cast<long long>(n);
    const sim::District same = sim::generate_district(o);
    REQUIRE(same.devices.size() == n);
    for (size_t i = 0; i < n; ++i) {
      CHECK(same.devices[i].id == model.devices[i].id);
      CHECK(same.devices[i].kind == model.devices[i].kind);
      CHECK(same.devices[i].vendor == model.devices[i].vendor);
    }
  }
  SECTION("more: every home keeps what it had, and the rest are sensors") {
    o.devices = static_cast<long long>(n) + 333;
    const sim::District more = sim::generate_district(o);
    CHECK(more.devices.size() == n + 333);
    CHECK(more.elders.size() == model.elders.size());
    for (size_t i = 0; i < model.elders.size(); ++i) CHECK(more.elders[i].name == model.elders[i].name);
    auto was = kinds_by_elder(model), now = kinds_by_elder(more);
    size_t sos = 0;
    for (const auto& dev : more.devices) sos += dev.kind == DeviceKind::sos_button;
    CHECK(sos == model.elders.size());
    for (auto& [elder, kinds] : was) {
      auto& after = now[elder];
      for (DeviceKind k : kinds) {  // each device of the take-up is still there
        auto it = std::find(after.begin(), after.end(), k);
        REQUIRE(it != after.end());
        after.erase(it);
      }
    }
    check_numbered(more);
  }
  SECTION("fewer: sensors go first, every home keeps its one-key phone") {
    o.devices = 250;
    const sim::District fewer = sim::generate_district(o);
    CHECK(fewer.devices.size() == 250);
    std::set<ElderId> with_sos;
    for (const auto& dev : fewer.devices)
      if (dev.kind == DeviceKind::sos_button) with_sos.insert(dev.elder);
    CHECK(with_sos.size() == 200);
    check_numbered(fewer);
  }
  SECTION("fewer than homes: the last elders have none") {
    o.devices = 150;
    const sim::District few = sim::generate_district(o);
    REQUIRE(few.devices.size() == 150);
    for (const auto& dev : few.devices) CHECK(dev.kind == DeviceKind::sos_button);
    CHECK(few.devices.back().elder == 150);
    check_numbered(few);
  }
  SECTION("the same options give the same devices") {
    o.devices = static_cast<long long>(n) + 50;
    const sim::District a = sim::generate_district(o), b = sim::generate_district(o);
    REQUIRE(a.devices.size() == b.devices.size());
    for (size_t i = 0; i < a.devices.size(); ++i) {
      CHECK(a.devices[i].elder == b.devices[i].elder);
      CHECK(a.devices[i].kind == b.devices[i].kind);
    }
  }
}

TEST_CASE("anxin-sim generate --devices puts that many devices in the file", "[sim]") {
  test::TempDir dir;
  const std::string db = dir.file("city.db");
  {
    test::Process gen({ANXIN_SIM_BIN, "generate", "--db", db, "--elders", "40", "--workers", "4", "--devices", "97",
                       "--seed", "5", "--today", "2026-11-26"},
                      dir.file("generate.log"));
    REQUIRE(gen.wait(std::chrono::seconds(60)) == 0);
  }
  CHECK(test::count_rows(db, "devices") == 97);
  CHECK(test::count_rows(db, "elders") == 40);
  CHECK(test::sql_text(db, "SELECT COUNT(*) FROM devices WHERE elder_id NOT IN (SELECT id FROM elders)") == "0");
  CHECK(test::sql_text(db, "SELECT COUNT(DISTINCT elder_id) FROM devices WHERE kind = 'sos_button'") == "40");

  // A bad count is refused and makes no file.
  const std::string bad = dir.file("bad.db");
  test::Process refused({ANXIN_SIM_BIN, "generate", "--db", bad, "--elders", "40", "--devices", "-3"},
                        dir.file("bad.log"));
  CHECK(refused.wait(std::chrono::seconds(30)) == 2);
  CHECK_FALSE(std::filesystem::exists(bad));
  CHECK(test::read_file(dir.file("bad.log")).find("--devices must be 0 or more") != std::string::npos);
}

TEST_CASE("the index of callers' numbers: landlines, long numbers, shared numbers", "[core][phone]") {
  ManualClock clock(1795622400000LL);
  Dispatcher d(clock);
  auto r = test::small_registry();
  // Elder 2 gets elder 1's landline as a contact (a neighbour's), and a number too long
  // to pack; elder 1's doctor's landline is nobody's caller number.
  r.elders[1].contacts = {{"邻居王", "邻居", "0530-7654321"}, {"外地亲戚", "侄子", "00-1-2345-6789-0123-4567"}};
  r.elders[0].phone = "0530-7654321";
  r.devices[2].sim = "1064000000003";
  LiveState st;
  st.elders = ElderTable(r.elders);
  st.devices = DeviceTable(r.devices);
  st.workers = r.workers;
  d.restore(std::move(st));

  auto landline = d.match_caller("05307654321");  // elder 1's own phone wins over elder 2's contact
  REQUIRE(landline);
  CHECK(landline->elder == 1);
  CHECK(landline->via == "elder_phone");
  CHECK(landline->device == "D1");
  CHECK_FALSE(d.match_caller("5307654321"));  // the leading zero counts

  auto far = d.match_caller("0012345678901234567");
  REQUIRE(far);
  CHECK(far->elder == 2);
  CHECK(far->via == "contact");
  CHECK(far->contact == "外地亲戚");
  CHECK(far->device == "D3");

  auto sim = d.match_caller("1064-0000-00003");
  REQUIRE(sim);
  CHECK(sim->elder == 2);
  CHECK(sim->via == "device_sim");
  CHECK(sim->device == "D3");

  // A roster change re-indexes: elder 2's new phone finds them.
  Elder b = *d.elder(2);
  b.phone = "13600000002";
  d.put_roster({b}, {});
  auto moved = d.match_caller("13600000002");
  REQUIRE(moved);
  CHECK(moved->elder == 2);
  CHECK_FALSE(d.match_caller("13800000002"));
}

TEST_CASE("the index of callers' numbers: thousands of numbers of every length read in any order",
          "[core][phone]") {
  ManualClock clock(1795622400000LL);
  Dispatcher d(clock);
  auto r = test::small_registry();
  const Elder model = r.elders[0];
  const Device sos = r.devices[0];
  r.elders.clear();
  r.devices.clear();
  // 3,000 elders whose phones have 5 to 17 digits, so that the numbers differ in every
  // bit an index sorts on; six share a landline with the elder before them. Each
  // elder's 一键通 carries a SIM.
  std::function<std::string(int)> phone_of = [&](int k) {
    if (k % 500 == 0) return phone_of(k - 1);  // a couple's landline
    std::string digits = "0";  // no SIM (1064...) or contact (139...) begins so
    for (std::uint64_t x = static_cast<std::uint64_t>(k) * 2654435761u; digits.size() < 5u + k % 13;) {
      x = x * 6364136223846793005u + 1442695040888963407u;
      digits += static_cast<char>('0' + (x >> 33) % 10);
    }
    return digits;
  };
  for (int k = 1; k <= 3000; ++k) {
    Elder e = model;
    e.id = k;
    e.phone = phone_of(k);
    e.id_number = "ID" + std::to_string(k);
    e.contacts = {{"子女", "儿子", "139" + std::to_string(10'000'000 + k)}};
    r.elders.push_back(e);
  }
  // The devices read backwards, highest elder first; elders 7 and 4 share a SIM (a
  // card moved between homes), and 7's device is read first.
  for (int k = 3000; k >= 1; --k) {
    Device dev = sos;
    dev.id = "D" + std::to_string(k);
    dev.elder = k;
    dev.sim = k == 7 || k == 4 ? "1064900000000" : "1064" + std::to_string(100'000'000 + k);
    r.devices.push_back(dev);
  }
  d.restore(test::live_state(r));

  std::map<std::string, ElderId> first_owner;  // a shared phone is the lowest id's
  for (int k = 1; k <= 3000; ++k) first_owner.try_emplace(phone_of(k), k);
  REQUIRE(first_owner.size() == 2994);
  for (int k = 1; k <= 3000; ++k) {
    auto phone = d.match_caller(phone_of(k));
    REQUIRE(phone);
    CHECK(phone->via == "elder_phone");
    CHECK(phone->elder == first_owner.at(phone_of(k)));
    auto contact = d.match_caller("139" + std::to_string(10'000'000 + k));
    REQUIRE(contact);
    CHECK(contact->elder == k);
    CHECK(contact->via == "contact");
    if (k == 7) continue;
    auto sim = d.match_caller("1064" + std::to_string(100'000'000 + k));
    if (k == 4) sim = d.match_caller("1064900000000");
    REQUIRE(sim);
    CHECK(sim->elder == k);
    CHECK(sim->device == "D" + std::to_string(k));
  }
}
