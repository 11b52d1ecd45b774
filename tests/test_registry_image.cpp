// The registry's image beside the database (issue 15, item 5; registry_image.hpp): the
// tables it gives back are the ones the rows give, it is used only when the file
// names it, an elder or device changed since is read from its rows over it, and
// after a crash the devices' battery, last contact and supervision come from them.
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "anxin/core/image_keeper.hpp"
#include "district.hpp"
#include "full_disk.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

auto fields(const Elder& e) {
  std::vector<std::string> contacts;
  for (const auto& c : e.contacts) contacts.push_back(c.name + "|" + c.relation + "|" + c.phone);
  return std::make_tuple(e.id, e.name, e.sex, e.birth_date, e.phone, e.id_number, e.town, e.community, e.address,
                         e.lat, e.lon, e.living, e.ability, e.bedridden, e.limited_mobility, e.disability_grade,
                         e.dementia, e.special_family, e.economic, e.family_doctor, e.family_doctor_phone,
                         e.paired_worker, e.visit_consent, e.unknown_caller, contacts);
}

auto fields(const Device& d) {
  return std::make_tuple(d.id, d.elder, d.kind, d.vendor, d.battery_pct, d.last_seen_ms, d.sim, d.supervised);
}

// Every elder and device of `a` is in `b` as it is in `a`, found by id and serial,
// with the same devices per elder; and no more.
void check_same(const ElderTable& a, const DeviceTable& ad, const ElderTable& b, const DeviceTable& bd) {
  REQUIRE(a.size() == b.size());
  REQUIRE(ad.size() == bd.size());
  CHECK(a.max_id() == b.max_id());
  size_t differ = 0;
  for (ElderTable::Row r = 0; r < a.size(); ++r) {
    const ElderTable::Row s = b.find(a.id(r));
    if (s == ElderTable::none || fields(a.elder(r)) != fields(b.elder(s))) ++differ;
  }
  for (DeviceTable::Row r = 0; r < ad.size(); ++r) {
    const DeviceTable::Row s = bd.find(ad.serial(r));
    if (s == DeviceTable::none || fields(ad.device(r)) != fields(bd.device(s))) ++differ;
  }
  for (ElderTable::Row r = 0; r < a.size(); ++r) {
    std::vector<std::string> of_a, of_b;
    for (auto d : ad.of_elder(a.id(r))) of_a.emplace_back(ad.serial(d));
    for (auto d : bd.of_elder(a.id(r))) of_b.emplace_back(bd.serial(d));
    if (of_a != of_b) ++differ;
  }
  CHECK(differ == 0);
}

// A change made by another program, as an operator's sqlite3 shell would.
void write_sql(const std::string& db, const char* sql) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  CHECK(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
}

void flip_byte(const std::string& path, std::uintmax_t at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x20);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

}  // namespace

TEST_CASE("the registry's image gives back the tables it was made from", "[image]") {
  test::TempDir dir;
  const std::string path = dir.file("city.db-registry");
  const sim::District district = sim::generate_district({7, 3000, 10, "2026-11-26"});
  const ElderTable elders(district.elders);
  DeviceTable devices(district.devices);
  // A device changed in place after it was added, as supervision changes them.
  Device changed = devices.device(5);
  changed.battery_pct = 9;
  changed.sim = "13800000042";
  changed.supervised = true;
  devices.put(changed);
  registry_image::save(path, "stamp-1", elders, devices);

  std::string why;
  auto image = registry_image::load(path, "stamp-1", why);
  INFO(why);
  REQUIRE(image.has_value());
  check_same(elders, devices, image->elders, image->devices);
  CHECK(image->devices.find("13800000042") == DeviceTable::none);  // a SIM is no serial
  CHECK(image->devices.device(image->devices.find(changed.id)).sim == "13800000042");

  SECTION("under another stamp it is not used") {
    CHECK_FALSE(registry_image::load(path, "stamp-2", why).has_value());
    CHECK(why.find("another state of the database") != std::string::npos);
  }
  SECTION("cut short, it is not used") {
    std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1);
    CHECK_FALSE(registry_image::load(path, "stamp-1", why).has_value());
  }
  SECTION("with one byte changed, it is not used") {
    flip_byte(path, std::filesystem::file_size(path) / 2);
    CHECK_FALSE(registry_image::load(path, "stamp-1", why).has_value());
    flip_byte(path, std::filesystem::file_size(path) / 2);  // back as it was
    REQUIRE(registry_image::load(path, "stamp-1", why).has_value());
    flip_byte(path, std::filesystem::file_size(path) - 1);  // the CRC itself
    CHECK_FALSE(registry_image::load(path, "stamp-1", why).has_value());
    CHECK(why.find("CRC") != std::string::npos);
  }
  SECTION("with a size changed, its table does not load") {
    flip_byte(path, 8 + 4 + 8 + 7 + 8 + 7);  // the top byte of the device table's serial hash
    CHECK_FALSE(registry_image::load(path, "stamp-1", why).has_value());
    CHECK(why.find("cut short") != std::string::npos);
  }
  SECTION("empty tables round-trip") {
    registry_image::save(path, "stamp-3", ElderTable(), DeviceTable());
    auto empty = registry_image::load(path, "stamp-3", why);
    REQUIRE(empty.has_value());
    CHECK(empty->elders.size() == 0);
    CHECK(empty->devices.find("D1") == DeviceTable::none);
  }
}

TEST_CASE("a clean stop leaves an image that holds what the rows hold", "[image][server]") {
  test::Centre centre;
  {
    auto device = centre.client("device", "tok-d1");
    device->send(R"({"type":"heartbeat","device":"D1","boot":"b1","battery_pct":37,"signal_dbm":-70,"req":"h"})");
    REQUIRE(test::next_json(*device)["type"] == "ok");
    device->send(test::alarm_frame("D1", 1, "sos", "a"));
    REQUIRE(test::next_of_type(*device, "ack")["type"] == "ack");
  }
  centre.server().stop();
  const std::string db = centre.db(), image = registry_image::path_for(db);
  REQUIRE(std::filesystem::exists(image));
  CHECK(test::count_rows(db, "registry_image") == 1);
  CHECK(test::count_rows(db, "sqlite_schema WHERE type = 'trigger' AND name GLOB 'registry_image_*'") == 9);

  Store store(db);
  LiveState from_image = store.load();
  CHECK(from_image.from_image);
  CHECK_FALSE(from_image.device_state_from_rows);
  // That start kept the stamp and the triggers, and marked that a server ran: the next
  // takes the devices' state from the rows, which a server writes without voiding the
  // image (as after a crash).
  CHECK(test::count_rows(db, "registry_image WHERE server_ran = 1") == 1);
  CHECK(test::count_rows(db, "sqlite_schema WHERE type = 'trigger' AND name GLOB 'registry_image_*'") == 9);
  write_sql(db, "UPDATE devices SET battery_pct = 12, last_seen_ms = 4242, supervised = 0 WHERE id = 'D1'");
  CHECK(test::count_rows(db, "registry_image") == 1);
  LiveState after_crash = store.load();
  CHECK(after_crash.from_image);
  CHECK(after_crash.device_state_from_rows);
  const auto d1 = from_image.devices.device(from_image.devices.find("D1"));
  CHECK(d1.battery_pct == 37);
  CHECK(d1.supervised);
  const auto d1_now = after_crash.devices.device(after_crash.devices.find("D1"));
  CHECK(d1_now.battery_pct == 12);
  CHECK(d1_now.last_seen_ms == 4242);
  CHECK_FALSE(d1_now.supervised);

  std::filesystem::remove(image);
  LiveState from_rows = store.load();
  CHECK_FALSE(from_rows.from_image);
  CHECK(from_rows.image_note.find("cannot open") != std::string::npos);
  check_same(from_rows.elders, from_rows.devices, after_crash.elders, after_crash.devices);
  check_same(from_rows.elders, from_rows.devices, from_image.elders, after_crash.devices);
  // Without the image, the stamp and the triggers are gone.
  CHECK(test::count_rows(db, "registry_image") == 0);
  CHECK(test::count_rows(db, "sqlite_schema WHERE type = 'trigger' AND name GLOB 'registry_image_*'") == 0);
}

TEST_CASE("an image whose devices are not the rows' is not used", "[image][server]") {
  test::Centre centre;
  centre.server().stop();
  const std::string db = centre.db();
  REQUIRE(Store(db).load().from_image);  // a server ran: the next start reads the devices' state
  // Another program that took the triggers away first (none of Anxin's does).
  write_sql(db, "DROP TRIGGER registry_image_devices_DELETE; DELETE FROM devices WHERE id = 'D1'");
  REQUIRE(test::count_rows(db, "registry_image") == 1);
  LiveState st = Store(db).load();
  CHECK_FALSE(st.from_image);
  CHECK(st.image_note.find("does not hold the devices the rows hold") != std::string::npos);
  CHECK(st.devices.find("D1") == DeviceTable::none);
  CHECK(st.devices.size() > 0);
  CHECK(test::count_rows(db, "registry_image") == 0);
}

TEST_CASE("a change to the registry while the server is down is read from its rows over the image",
          "[image][server]") {
  test::Centre centre;
  centre.server().stop();
  const std::string db = centre.db();
  REQUIRE(test::count_rows(db, "registry_image") == 1);
  std::int64_t elders = 0, devices = 0;
  SECTION("an elder's phone") {
    write_sql(db, "UPDATE elders SET phone = '13900000001' WHERE id = 2");
    elders = 1;
  }
  SECTION("a new device") {
    Store(db).import_registry({}, {Device{"D9", 2, DeviceKind::smoke, "acme", 100, 0, "", false}}, {});
    devices = 1;
  }
  SECTION("an emergency contact taken away") {
    write_sql(db, "DELETE FROM emergency_contacts WHERE elder_id = 1");
    elders = 1;
  }
  SECTION("a device's vendor and another's elder") {
    write_sql(db, "UPDATE devices SET vendor = 'other' WHERE id = 'D1'");
    write_sql(db, "UPDATE devices SET elder_id = 2 WHERE id = 'D1'");
    devices = 1;
  }
  SECTION("a new elder with a contact and a device") {
    write_sql(db,
              "INSERT INTO elders(id, name, sex, birth_date, phone, id_number, town, community, address, lat, lon,"
              " living, economic) VALUES (40, '赵桂英', 'female', '1938-02-14', '13800000040', '372901193802140040',"
              " '曹城街道', '西关社区', '西关街 40 号', 34.8, 115.5, 'alone', 'ordinary');"
              "INSERT INTO emergency_contacts(elder_id, ord, name, relation, phone)"
              " VALUES (40, 0, '赵强', 'son', '13900000040');"
              "INSERT INTO devices(id, elder_id, kind, vendor) VALUES ('D40', 40, 'sos_button', 'acme')");
    elders = 1;
    devices = 1;
  }
  CHECK(test::count_rows(db, "registry_image") == 1);
  CHECK(test::count_rows(db, "registry_changed_elders") == elders);
  CHECK(test::count_rows(db, "registry_changed_devices") == devices);
  LiveState over_image = Store(db).load();
  INFO(over_image.image_note);
  CHECK(over_image.from_image);
  CHECK(over_image.changed_elders == elders);
  CHECK(over_image.changed_devices == devices);
  // Until the next clean stop each start reads them again: the image is still the old one.
  CHECK(test::count_rows(db, "registry_changed_elders") == elders);
  // What the rows alone give, the image gone.
  std::filesystem::remove(registry_image::path_for(db));
  LiveState from_rows = Store(db).load();
  REQUIRE_FALSE(from_rows.from_image);
  check_same(from_rows.elders, from_rows.devices, over_image.elders, over_image.devices);
  check_same(over_image.elders, over_image.devices, from_rows.elders, from_rows.devices);
  CHECK(test::count_rows(db, "registry_changed_elders") == 0);
  CHECK(test::count_rows(db, "registry_changed_devices") == 0);
}

TEST_CASE("a file from the version before keeps its image and gets the triggers that name changes",
          "[image][server]") {
  test::Centre centre;
  centre.server().stop();
  const std::string db = centre.db();
  // As schema 15 left it: no tables of changes, and a trigger that deleted the stamp.
  write_sql(db,
            "DROP TRIGGER registry_image_elders_UPDATE;"
            "CREATE TRIGGER registry_image_elders_UPDATE AFTER UPDATE ON elders BEGIN DELETE FROM registry_image; END;"
            "DROP TABLE registry_changed_elders; DROP TABLE registry_changed_devices;"
            "PRAGMA user_version = 15;");
  LiveState st = Store(db).load();
  CHECK(st.from_image);
  CHECK(test::count_rows(db, "registry_changed_elders") == 0);
  // The start made this version's triggers: an edit now names the elder.
  write_sql(db, "UPDATE elders SET phone = '13900000001' WHERE id = 2");
  CHECK(test::count_rows(db, "registry_image") == 1);
  CHECK(test::count_rows(db, "registry_changed_elders WHERE id = 2") == 1);
  LiveState again = Store(db).load();
  CHECK(again.from_image);
  CHECK(again.changed_elders == 1);
  CHECK(again.elders.at(2).phone == "13900000001");
}

TEST_CASE("an elder or device taken away since the image sends the start to the rows", "[image][server]") {
  test::Centre centre;
  centre.server().stop();
  const std::string db = centre.db();
  std::string gone;
  SECTION("an elder") {
    write_sql(db, "DELETE FROM emergency_contacts WHERE elder_id = 2; DELETE FROM elders WHERE id = 2");
    gone = "1 elder and 0 devices";
  }
  SECTION("a device") {
    write_sql(db, "DELETE FROM devices WHERE id = 'D1'");
    gone = "0 elders and 1 device";
  }
  SECTION("a device's serial changed") {
    write_sql(db, "UPDATE devices SET id = 'D1b' WHERE id = 'D1'");
    gone = "0 elders and 2 devices";
  }
  LiveState st = Store(db).load();
  CHECK_FALSE(st.from_image);
  CHECK(st.image_note ==
        gone + " changed since " + registry_image::path_for(db) + " was written, of which some are gone");
  const bool elder_gone = gone == "1 elder and 0 devices";
  CHECK(st.elders.contains(2) != elder_gone);
  CHECK((st.devices.find("D1") == DeviceTable::none) != elder_gone);
  // The stamp, the triggers and the changes they named are gone with the image's use.
  CHECK(test::count_rows(db, "registry_image") == 0);
  CHECK(test::count_rows(db, "registry_changed_elders") == 0);
  CHECK(test::count_rows(db, "registry_changed_devices") == 0);
  CHECK(test::count_rows(db, "sqlite_schema WHERE type = 'trigger' AND name GLOB 'registry_image_*'") == 0);
}

TEST_CASE("more changes since the image than it is worth send the start to the rows", "[image][server]") {
  test::Centre centre;
  centre.server().stop();
  const std::string db = centre.db();
  // A roster import of 20,001 elders: named as the triggers name each (not made, to keep
  // the test short), with the one real change among them.
  write_sql(db,
            "UPDATE elders SET phone = '13900000001' WHERE id = 2;"
            "WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM n WHERE i < 20999)"
            " INSERT INTO registry_changed_elders(id) SELECT i FROM n;");
  LiveState st = Store(db).load();
  CHECK_FALSE(st.from_image);
  CHECK(st.image_note == "20001 elders and 0 devices changed since " + registry_image::path_for(db) +
                             " was written: all are read from the rows");
  CHECK(st.elders.at(2).phone == "13900000001");
  CHECK(test::count_rows(db, "registry_changed_elders") == 0);
}

TEST_CASE("a stop on a full disk leaves no image, and the next start reads the rows", "[image][full]") {
  test::TempDir dir;
  test::FullDisk disk(dir.path().string());
  const std::string db = dir.file("full.db"), image = registry_image::path_for(db);
  test::seed_small_registry(db);
  StoreOptions options;
  options.full_retry_ms = 50;
  SECTION("a commit held for want of space was dropped: memory is ahead of the file") {
    Store store(db, options);
    LiveState st = store.load();
    store.start();
    disk.fill();
    store.submit({AppendAudit{{1000, "test", "note", 0, "{}"}}});
    REQUIRE(test::eventually([&] { return store.full(); }, std::chrono::seconds(5)));
    store.stop();
    CHECK_THROWS_WITH(store.save_image(st.elders, st.devices), Catch::Contains("dropped"));
  }
  SECTION("the image was written but the file could not name it") {
    Store store(db, options);
    LiveState st = store.load();
    store.start();
    store.stop();
    disk.fill();
    CHECK_THROWS_AS(store.save_image(st.elders, st.devices), StorageFull);
  }
  CHECK_FALSE(std::filesystem::exists(image));  // no room taken for nothing
  disk.free();
  CHECK(test::count_rows(db, "registry_image") == 0);
  LiveState again = Store(db).load();
  CHECK_FALSE(again.from_image);
  CHECK(again.elders.size() == 2);
}

TEST_CASE("rows another program adds while the server runs are read at the next start", "[image][server]") {
  test::Centre centre;
  Elder e;
  e.id = 3; e.name = "王秀兰"; e.sex = Sex::female; e.birth_date = "1940-11-20"; e.phone = "13800000003";
  e.town = "曹城街道"; e.community = "西关社区"; e.lat = 34.829; e.lon = 115.535;
  Store(centre.db()).import_registry({e}, {{"D5", 3, DeviceKind::sos_button, "acme", 95, 0}}, {});
  centre.server().stop();  // memory never saw elder 3: no image, as it would lose them
  CHECK(test::count_rows(centre.db(), "registry_image") == 0);
  LiveState st = Store(centre.db()).load();
  CHECK_FALSE(st.from_image);
  CHECK(st.elders.contains(3));
  CHECK(st.devices.find("D5") != DeviceTable::none);
}

TEST_CASE("an image written from the rows forgets only the changes named before it read them", "[image][server]") {
  test::Centre centre;
  centre.server().stop();
  const std::string db = centre.db();
  // Changed since the clean stop's image: elder 2's phone and device D1's vendor.
  write_sql(db,
            "UPDATE elders SET phone = '13900000001' WHERE id = 2;"
            "UPDATE devices SET vendor = 'other' WHERE id = 'D1'");
  Store store(db);
  REQUIRE(store.load().from_image);
  store.start();
  const Store::ImageFromRows image = Store::image_from_rows(db);
  // After the rows were read, before the image is recorded: elder 2 again, and elder 1.
  write_sql(db,
            "UPDATE elders SET phone = '13900000002' WHERE id = 2;"
            "UPDATE elders SET phone = '13900000003' WHERE id = 1");
  store.record_image(image, {});
  store.drain();
  CHECK(test::sql_text(db, "SELECT stamp || ' ' || server_ran FROM registry_image") == image.stamp + " 1");
  CHECK(test::sql_text(db, "SELECT group_concat(id) FROM (SELECT id FROM registry_changed_elders ORDER BY id)") ==
        "1,2");
  CHECK(test::count_rows(db, "registry_changed_devices") == 0);
  store.stop();
  // A start after a crash: the new image, with the two elders changed since over it.
  LiveState after = Store(db).load();
  INFO(after.image_note);
  REQUIRE(after.from_image);
  CHECK(after.changed_elders == 2);
  CHECK(after.changed_devices == 0);
  CHECK(after.elders.at(2).phone == "13900000002");
  CHECK(after.elders.at(1).phone == "13900000003");
  CHECK(after.devices.device(after.devices.find("D1")).vendor == "other");
  CHECK_FALSE(std::filesystem::exists(registry_image::path_for(db) + ".old"));  // the image before, given back
  CHECK_FALSE(std::filesystem::exists(registry_image::path_for(db) + ".new"));
  std::filesystem::remove(registry_image::path_for(db));
  LiveState rows = Store(db).load();
  REQUIRE_FALSE(rows.from_image);
  check_same(rows.elders, rows.devices, after.elders, after.devices);
  check_same(after.elders, after.devices, rows.elders, rows.devices);
}

TEST_CASE("the image keeper records nothing from a helper that fails and kills one still running at its stop",
          "[image]") {
  test::TempDir dir;
  const std::string db = dir.file("keeper.db"), helper = dir.file("helper.sh"), ran = dir.file("ran");
  test::seed_small_registry(db);
  Store store(db);
  REQUIRE_FALSE(store.load().from_image);
  store.start();
  std::string script;
  SECTION("a helper that fails") { script = "echo $2 >> " + ran + "; echo not-an-image; exit 3\n"; }
  SECTION("a helper still running") { script = "echo $$ >> " + ran + "; exec sleep 600\n"; }
  {
    std::ofstream(helper) << "#!/bin/sh\n" << script;
    std::filesystem::permissions(helper, std::filesystem::perms::owner_all);
  }
  ImageKeeper keeper(store, db, ImageKeeperOptions{helper, 1});
  keeper.start();
  REQUIRE(test::eventually([&] { return !test::read_file(ran).empty(); }, std::chrono::seconds(10)));
  // The file named no image: the triggers were made before the helper ran.
  CHECK(test::count_rows(db, "sqlite_schema WHERE type = 'trigger' AND name GLOB 'registry_image_*'") == 9);
  const std::string first = test::read_file(ran);
  keeper.stop();
  CHECK(keeper.recorded() == 0);
  CHECK(test::count_rows(db, "registry_image") == 0);
  if (first.find(db) != std::string::npos) {
    CHECK(first == db + "\n");  // run as `helper --registry-image-from-rows DB`
  } else {
    const pid_t pid = std::stoi(first);
    CHECK(kill(pid, 0) == -1);  // killed and reaped
    CHECK(errno == ESRCH);
  }
}

TEST_CASE("anxin-server starts from the image generate or a clean stop left and after a crash",
          "[image][server]") {
  test::TempDir dir;
  const std::string db = dir.file("city.db");
  {
    test::Process gen({ANXIN_SIM_BIN, "generate", "--db", db, "--elders", "300", "--workers", "10", "--seed", "7"},
                      dir.file("generate.log"));
    REQUIRE(gen.wait(std::chrono::seconds(30)) == 0);
  }
  const json tokens = json::parse(test::read_file(db + ".tokens.json"));
  int runs = 0;
  std::string log;
  auto start = [&] {
    log = dir.file("server-" + std::to_string(++runs) + ".log");
    return std::make_unique<test::Process>(std::vector<std::string>{ANXIN_SERVER_BIN, "--db", db, "--port", "0",
                                                                     "--field-port", "-1", "--port-file",
                                                                     dir.file("port")},
                                           log);
  };
  // The elder's card, as a console asks for it; and, when `edit` is given, a
  // supervisor's update_elder first.
  auto card_of = [&](ElderId id, const json& edit = nullptr) {
    std::filesystem::remove(dir.file("port"));
    auto server = start();
    REQUIRE(test::eventually([&] { return !test::read_file(dir.file("port")).empty(); }, std::chrono::seconds(20)));
    gateway::SyncClient c(std::stoi(test::read_file(dir.file("port"))));
    REQUIRE(c.wait_open());
    if (edit.is_null()) {
      c.send(json{{"type", "hello"}, {"role", "console"}, {"token", tokens["consoles"][0]["token"]}}.dump());
      REQUIRE(test::next_json(c)["type"] == "welcome");
    } else {
      c.send(json{{"type", "login"}, {"role", "console"}, {"username", "zhangmin"}, {"password", tokens["password"]}}
                 .dump());
      REQUIRE(test::next_json(c)["type"] == "welcome");
      json update = edit;
      update["type"] = "update_elder";
      update["req"] = "u";
      update["elder_id"] = id;
      c.send(update.dump());
      INFO(test::read_file(log));
      REQUIRE(test::next_of_type(c, "elder_updated")["type"] == "elder_updated");
    }
    c.send(json{{"type", "elder"}, {"req", "e"}, {"elder_id", id}}.dump());
    json card = test::next_of_type(c, "elder")["card"];
    return std::make_pair(card, std::move(server));
  };
  const std::string phone = test::sql_text(db, "SELECT phone FROM elders WHERE id = 7");
  REQUIRE_FALSE(phone.empty());
  const std::string from_image = "elders and devices read from " + db + "-registry";

  auto [first, server] = card_of(7);
  CHECK(first["phone"] == phone);
  CHECK(test::read_file(log).find(from_image + "\n") != std::string::npos);
  server->signal(SIGTERM);
  REQUIRE(server->wait(std::chrono::seconds(20)) == 0);
  CHECK(std::filesystem::exists(db + "-registry"));

  auto [second, again] = card_of(7);
  CHECK(second["phone"] == phone);
  CHECK(test::read_file(log).find(from_image + "\n") != std::string::npos);
  again->signal(SIGKILL);
  REQUIRE(again->wait(std::chrono::seconds(5)) == 128 + SIGKILL);

  // After the crash: the image, with the devices' state from the rows. A supervisor
  // edits the elder, and the server is killed again.
  const int grade = (std::stoi(test::sql_text(db, "SELECT disability_grade FROM elders WHERE id = 7")) + 1) % 5;
  auto [third, after_crash] = card_of(7, json{{"disability_grade", grade}});
  CHECK(third["phone"] == phone);
  CHECK(third["disability_grade"] == grade);
  INFO(test::read_file(log));
  CHECK(test::read_file(log).find(from_image + ", the devices' battery, last contact and supervision from the rows") !=
        std::string::npos);
  after_crash->signal(SIGKILL);
  REQUIRE(after_crash->wait(std::chrono::seconds(5)) == 128 + SIGKILL);

  // The edit named the elder as it was written: the image, with that elder from its row.
  auto [fourth, edited] = card_of(7);
  CHECK(fourth["disability_grade"] == grade);
  CHECK(test::read_file(log).find(from_image + ", the 1 elder and 0 devices changed since from their rows, the devices'"
                                               " battery, last contact and supervision from the rows\n") !=
        std::string::npos);
  edited->signal(SIGTERM);
  REQUIRE(edited->wait(std::chrono::seconds(20)) == 0);

  // The clean stop wrote a new image: nothing changed since it.
  CHECK(test::count_rows(db, "registry_changed_elders") == 0);
  write_sql(db, "UPDATE elders SET phone = '13900000007' WHERE id = 7");
  auto [fifth, changed] = card_of(7);
  CHECK(fifth["phone"] == "13900000007");
  CHECK(fifth["disability_grade"] == grade);
  CHECK(test::read_file(log).find(from_image + ", the 1 elder and 0 devices changed since from their rows\n") !=
        std::string::npos);
}

TEST_CASE("a running anxin-server writes the registry's image again once much changed, for a start after a crash",
          "[image][server]") {
  test::TempDir dir;
  const std::string db = dir.file("city.db"), config = dir.file("timers.json");
  {
    test::Process gen({ANXIN_SIM_BIN, "generate", "--db", db, "--elders", "300", "--workers", "10", "--seed", "7"},
                      dir.file("generate.log"));
    REQUIRE(gen.wait(std::chrono::seconds(30)) == 0);
  }
  std::ofstream(config) << R"({"registry_image_check_s": 1})";
  const json tokens = json::parse(test::read_file(db + ".tokens.json"));
  int runs = 0;
  std::string log;
  auto start = [&] {
    std::filesystem::remove(dir.file("port"));
    log = dir.file("server-" + std::to_string(++runs) + ".log");
    auto server = std::make_unique<test::Process>(
        std::vector<std::string>{ANXIN_SERVER_BIN, "--db", db, "--port", "0", "--field-port", "-1", "--port-file",
                                 dir.file("port"), "--config", config},
        log);
    REQUIRE(test::eventually([&] { return !test::read_file(dir.file("port")).empty(); }, std::chrono::seconds(20)));
    return server;
  };
  auto server = start();
  // A roster's worth of changes while it runs, by another program: 5,000 named as
  // the triggers name each (not made, to keep the test short), and elder 7's phone,
  // in one transaction.
  write_sql(db,
            "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM n WHERE i < 5999)"
            " INSERT INTO registry_changed_elders(id) SELECT i FROM n;"
            "UPDATE elders SET phone = '13900000007' WHERE id = 7; COMMIT;");
  INFO(test::read_file(log));
  REQUIRE(test::eventually([&] { return test::read_file(log).find("written from the rows") != std::string::npos; },
                           std::chrono::seconds(30)));
  CHECK(test::read_file(log).find(db + "-registry written from the rows in ") != std::string::npos);
  CHECK(test::read_file(log).find("(5001 elders and devices had changed since the last)") != std::string::npos);
  CHECK(test::count_rows(db, "registry_changed_elders") == 0);
  // One more change, after the image; then the server is killed.
  write_sql(db, "UPDATE elders SET phone = '13900000008' WHERE id = 8");
  CHECK(test::count_rows(db, "registry_changed_elders") == 1);
  server->signal(SIGKILL);
  REQUIRE(server->wait(std::chrono::seconds(5)) == 128 + SIGKILL);

  auto again = start();
  CHECK(test::read_file(log).find("elders and devices read from " + db +
                                  "-registry, the 1 elder and 0 devices changed since from their rows, the devices'"
                                  " battery, last contact and supervision from the rows\n") != std::string::npos);
  gateway::SyncClient c(std::stoi(test::read_file(dir.file("port"))));
  REQUIRE(c.wait_open());
  c.send(json{{"type", "hello"}, {"role", "console"}, {"token", tokens["consoles"][0]["token"]}}.dump());
  REQUIRE(test::next_json(c)["type"] == "welcome");
  for (const auto& [id, phone] : {std::pair{7, "13900000007"}, std::pair{8, "13900000008"}}) {
    c.send(json{{"type", "elder"}, {"req", "e"}, {"elder_id", id}}.dump());
    CHECK(test::next_of_type(c, "elder")["card"]["phone"] == phone);
  }
  again->signal(SIGTERM);
  REQUIRE(again->wait(std::chrono::seconds(20)) == 0);
}
