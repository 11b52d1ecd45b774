// The Store's side of the registry's image (registry_image.hpp): the stamp in the file
// that says the image beside it is its own, the triggers that name what changed
// since, read from the rows over it, and the devices' state read from the rows when a
// server ran since the image.
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "anxin/core/store.hpp"
#include "store_registry.hpp"
#include "store_sql.hpp"

namespace anxin {

using store_sql::in_transaction;
using store_sql::OwnReader;
using store_sql::Stmt;

namespace {
// A change to an elder, a contact or a device, by whichever program, a running server
// included, names the elder or device in registry_changed_elders or
// registry_changed_devices (an update both the old and the new). They are rare (a
// roster imported, an elder's card edited, a device fitted): a start reads those rows
// over the image. Not the devices' battery, last contact and supervision, which every
// alarm and heartbeat writes; after a server ran on the file, a start reads those
// from the rows instead.
struct Trigger {
  const char* name;
  const char* event;
  bool device;            // names a device in registry_changed_devices, else an elder
  const char* keys[2];    // OLD's, NEW's, or one of them
};
constexpr Trigger kTriggers[] = {
    {"elders_INSERT", "INSERT ON elders", false, {"NEW.id"}},
    {"elders_UPDATE", "UPDATE ON elders", false, {"OLD.id", "NEW.id"}},
    {"elders_DELETE", "DELETE ON elders", false, {"OLD.id"}},
    {"emergency_contacts_INSERT", "INSERT ON emergency_contacts", false, {"NEW.elder_id"}},
    {"emergency_contacts_UPDATE", "UPDATE ON emergency_contacts", false, {"OLD.elder_id", "NEW.elder_id"}},
    {"emergency_contacts_DELETE", "DELETE ON emergency_contacts", false, {"OLD.elder_id"}},
    {"devices_INSERT", "INSERT ON devices", true, {"NEW.id"}},
    {"devices_UPDATE", "UPDATE OF id, elder_id, kind, vendor, sim ON devices", true, {"OLD.id", "NEW.id"}},
    {"devices_DELETE", "DELETE ON devices", true, {"OLD.id"}},
};

// A trigger's statements that name `key` once, as the last change: a name made
// before stays no longer, so that an image read from the rows after it forgets it
// (Store::record_image) while the change after is still named. Not INSERT OR
// REPLACE: a trigger's statements take the conflict policy of the one that fired
// them, whatever their own.
std::string name_last(bool device, const char* key) {
  const std::string table = device ? "registry_changed_devices" : "registry_changed_elders";
  const std::string column = device ? "serial" : "id";
  return "DELETE FROM " + table + " WHERE " + column + " = " + key + "; INSERT INTO " + table + "(" + column +
         ") SELECT " + key + " WHERE " + key + " IS NOT NULL; ";
}

// More elders and devices changed than this, together, and a start reads every row:
// each changed one is looked up by its key, about 10 µs apiece, while a city's rows
// take 2.4–2.7 s in all; 50,000 made a city's start after a crash 1.8–2.2 s, 20,000
// keep it within 2 s (docs/benchmarks.md, "Changes since the image").
constexpr std::int64_t kMostChanged = 20'000;

// The stamp and what the triggers named since it: gone together, when a start reads
// the rows and when a stop writes a new image.
constexpr const char* kForgetImage =
    "DELETE FROM registry_image; DELETE FROM registry_changed_elders; DELETE FROM registry_changed_devices";

// Every trigger of an image, and those an older version made (they deleted the stamp),
// dropped; with `make`, this version's made.
void put_triggers(sqlite3* db, bool make) {
  Stmt old(db, "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name GLOB 'registry_image_*'");
  std::vector<std::string> names;
  while (old.next()) names.push_back(old.text(0));
  for (const std::string& name : names) Stmt(db, ("DROP TRIGGER \"" + name + "\"").c_str()).run();
  if (!make) return;
  for (const Trigger& t : kTriggers) {
    std::string body;
    for (const char* key : t.keys)
      if (key) body += name_last(t.device, key);
    Stmt(db, (std::string("CREATE TRIGGER registry_image_") + t.name + " AFTER " + t.event + " BEGIN " + body + "END")
                 .c_str())
        .run();
  }
}

// The devices changed since the image, from their rows over its table. False when
// one is gone (fewer rows than serials named: taken away, or its serial changed),
// which the image cannot say: the start then reads every row.
bool put_changed_devices(sqlite3* db, std::int64_t named, DeviceTable& devices) {
  if (named == 0) return true;
  const DeviceTable changed = store_registry::read_devices(db, store_registry::Rows::changed);
  if (static_cast<std::int64_t>(changed.size()) != named) return false;
  for (DeviceTable::Row r = 0; r < changed.size(); ++r) devices.put(changed.device(r));
  return true;
}

// The same for the elders, with their emergency contacts.
bool put_changed_elders(sqlite3* db, std::int64_t named, ElderTable& elders) {
  if (named == 0) return true;
  const ElderTable changed = store_registry::read_elders(db, store_registry::Rows::changed);
  if (static_cast<std::int64_t>(changed.size()) != named) return false;
  for (ElderTable::Row r = 0; r < changed.size(); ++r) elders.put(changed.elder(r));
  return true;
}

// The devices' battery, last contact and supervision from the rows, over the image's
// (a server that ran since wrote them there). Half the table on each of two threads,
// each on its own connection: a city's 4 million rows take about as long as the
// image's read, beside which they are read (docs/benchmarks.md, "A start after a
// crash from the image"). A row is matched to the table by its serial, the next row
// along tried first. False when a serial is not in the table or the counts differ:
// the image is not of these rows.
bool read_device_state(const std::string& path, DeviceTable& devices) {
  std::int64_t first = 0, last = -1;
  {
    OwnReader own(path);
    // Each alone: MIN and MAX in one SELECT read the whole table.
    Stmt s(own.db, "SELECT (SELECT MIN(rowid) FROM devices), (SELECT MAX(rowid) FROM devices)");
    while (s.next()) first = s.i64(0), last = s.i64(1);
  }
  std::size_t matched[2] = {0, 0};
  bool ok[2] = {true, true};
  std::exception_ptr failed[2];
  auto read = [&](int k, std::int64_t from, std::int64_t to) {
    try {
      OwnReader own(path);
      Stmt s(own.db, "SELECT id, battery_pct, last_seen_ms, supervised FROM devices WHERE rowid BETWEEN ? AND ?");
      s.bind(1, from).bind(2, to);
      DeviceTable::Row r = DeviceTable::none;
      std::size_t n = 0;  // counted here, not in matched[k]: the two threads' counts share a cache line
      while (s.next()) {
        const std::string_view serial = s.view(0);
        const DeviceTable::Row next = r == DeviceTable::none ? 0 : r + 1;
        r = next < devices.size() && devices.serial(next) == serial ? next : devices.find(serial);
        if (r == DeviceTable::none) {
          ok[k] = false;
          s.fresh();
          return;
        }
        DeviceTable::Fixed& f = devices.at(r);
        f.battery_pct = static_cast<std::int8_t>(std::clamp<std::int64_t>(s.i64(1), 0, 100));
        f.last_seen_ms = s.i64(2);
        f.supervised = s.i64(3) != 0;
        ++n;
      }
      matched[k] = n;
    } catch (...) {
      failed[k] = std::current_exception();
    }
  };
  const std::int64_t middle = first + (last - first) / 2;
  {
    std::jthread second([&] { read(1, middle + 1, last); });
    read(0, first, middle);
  }
  for (const auto& e : failed)
    if (e) std::rethrow_exception(e);
  return ok[0] && ok[1] && matched[0] + matched[1] == devices.size();
}
}  // namespace

void Store::remake_image_triggers() {
  Stmt s(write_db_, "SELECT COUNT(*) FROM registry_image");
  bool stamp = false;
  while (s.next()) stamp = s.i64(0) > 0;
  put_triggers(write_db_, stamp);
}

Store::ImageState Store::image_state() const {
  ImageState out;
  read([&](sqlite3* db) {
    Stmt s(db,
           "SELECT (SELECT stamp FROM registry_image LIMIT 1), (SELECT server_ran FROM registry_image LIMIT 1),"
           " (SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger' AND name GLOB 'registry_image_*'),"
           " (SELECT COUNT(*) FROM registry_changed_elders), (SELECT COUNT(*) FROM registry_changed_devices)");
    while (s.next()) {
      out.stamp = s.text(0);
      out.server_ran = s.i64(1) != 0;
      out.triggers = s.i64(2);
      out.changed_elders = s.i64(3);
      out.changed_devices = s.i64(4);
    }
  });
  out.all_triggers = out.triggers == static_cast<std::int64_t>(std::size(kTriggers));
  return out;
}

void Store::name_changes(std::function<void()> on_durable) {
  submit({SqlWrite{[](sqlite3* db) { put_triggers(db, true); }}}, std::move(on_durable));
}

Store::ImageFromRows Store::image_from_rows(const std::string& path) {
  ImageFromRows out;
  out.stamp = random_token("");
  {
    // Before the rows: a change committed after this read has a later name, which
    // record_image keeps, whether the rows read below hold it or not.
    OwnReader own(path);
    Stmt s(own.db,
           "SELECT (SELECT IFNULL(MAX(seq), 0) FROM registry_changed_elders),"
           " (SELECT IFNULL(MAX(seq), 0) FROM registry_changed_devices)");
    while (s.next()) out.elders_named = s.i64(0), out.devices_named = s.i64(1);
  }
  // As a start from the rows reads them (Store::load).
  DeviceTable devices;
  std::exception_ptr devices_failed;
  ElderTable elders;
  {
    const std::jthread device_reader = store_registry::read_devices_beside(path, devices, devices_failed);
    OwnReader own(path);
    elders = store_registry::read_elders(own.db, store_registry::Rows::all);
  }
  if (devices_failed) std::rethrow_exception(devices_failed);
  registry_image::save(registry_image::path_for(path), out.stamp, elders, devices, true);
  return out;
}

void Store::record_image(const ImageFromRows& image, std::function<void()> on_durable) {
  submit({SqlWrite{[image](sqlite3* db) {
           Stmt(db, "DELETE FROM registry_image").run();
           // A server runs: the devices' state moves on in the rows.
           Stmt(db, "INSERT INTO registry_image(stamp, server_ran) VALUES (?, 1)").bind(1, image.stamp).run();
           Stmt(db, "DELETE FROM registry_changed_elders WHERE seq <= ?").bind(1, image.elders_named).run();
           Stmt(db, "DELETE FROM registry_changed_devices WHERE seq <= ?").bind(1, image.devices_named).run();
         }}},
         std::move(on_durable));
}

std::int64_t Store::data_version() const {
  Stmt s(write_db_, "PRAGMA data_version");
  std::int64_t version = -1;
  while (s.next()) version = s.i64(0);
  return version;
}

std::optional<registry_image::Tables> Store::take_image(LiveState& st) const {
  loaded_version_ = data_version();
  const std::string path = registry_image::path_for(path_);
  const ImageState file = image_state();
  const std::int64_t changed_elders = file.changed_elders, changed_devices = file.changed_devices;
  const std::string changed =
      registry_image::changed(changed_elders, changed_devices) + " since " + path + " was written";
  std::optional<registry_image::Tables> tables;
  if (file.named() && file.changed() > kMostChanged) {
    st.image_note = changed + ": all are read from the rows";
  } else if (file.named()) {
    std::optional<OwnReader> own;  // for the rows changed since, if any
    if (file.changed() > 0) own.emplace(path_);
    sqlite3* const db = own ? own->db : nullptr;
    registry_image::Reader image(path, file.stamp);
    registry_image::Tables t;
    bool whole = image.devices(t.devices), state_read = true;
    // The changed devices first, so that the table holds the rows' devices; then
    // their state is read from the rows while the elders are read from the image.
    bool puts = whole && put_changed_devices(db, changed_devices, t.devices);
    std::exception_ptr state_failed;
    {
      std::jthread state;
      if (whole && puts && file.server_ran)
        state = std::jthread([&] {
          try {
            state_read = read_device_state(path_, t.devices);
          } catch (...) {
            state_failed = std::current_exception();
          }
        });
      whole = whole && image.elders(t.elders) && image.end();
      puts = puts && whole && put_changed_elders(db, changed_elders, t.elders);
    }
    if (state_failed) std::rethrow_exception(state_failed);
    if (!whole)
      st.image_note = image.why();
    else if (!puts)
      st.image_note = changed + ", of which some are gone";
    else if (!state_read)
      st.image_note = path + " does not hold the devices the rows hold";
    else
      tables = std::move(t);
  } else if (std::error_code ec; std::filesystem::exists(path, ec)) {
    st.image_note = path + " is not this database's: the elders or devices changed since it was written";
  }
  st.from_image = tables.has_value();
  if (tables) {
    st.changed_elders = changed_elders;
    st.changed_devices = changed_devices;
  }
  st.device_state_from_rows = tables && file.server_ran;
  if (!tables && !file.named() && file.triggers == 0 && file.changed() == 0) return tables;
  // Before anything is written: the server's writes move the devices' state ahead of
  // the image, so the next start must read it from the rows; without an image, the
  // stamp, the triggers and the changes they named go.
  in_transaction(write_db_, [&] {
    put_triggers(write_db_, tables.has_value());
    exec(tables ? "UPDATE registry_image SET server_ran = 1" : kForgetImage);
  });
  return tables;
}

void Store::save_image(const ElderTable& elders, const DeviceTable& devices) {
  {
    std::lock_guard lock(mu_);
    if (writer_.joinable()) throw StoreError("the registry's image is written with the writer stopped");
    if (dropped_) throw StoreError("a held commit was dropped: the registry in memory is ahead of the file");
  }
  if (loaded_version_ < 0 || data_version() != loaded_version_)
    throw StoreError("another program wrote to the file while the server ran: its rows may not be those in memory");
  const std::string stamp = random_token(""), path = registry_image::path_for(path_);
  registry_image::save(path, stamp, elders, devices);
  // Only now that the image is on the disk does the file name it.
  try {
    in_transaction(write_db_, [&] {
      exec(kForgetImage);
      put_triggers(write_db_, true);
      Stmt(write_db_, "INSERT INTO registry_image(stamp) VALUES (?)").bind(1, stamp).run();
    });
  } catch (...) {
    std::remove(path.c_str());  // no file names it: only room taken (a full disk, say)
    throw;
  }
}

}  // namespace anxin
