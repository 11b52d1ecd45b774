// The Store's side of the registry's image (registry_image.hpp): the stamp in the file
// that says the image beside it is its own, and the triggers that void that stamp.
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "anxin/core/store.hpp"
#include "store_sql.hpp"

namespace anxin {

using store_sql::in_transaction;
using store_sql::Stmt;

namespace {
// A change to any of these rows voids the image while no server runs.
constexpr const char* kTables[] = {"elders", "emergency_contacts", "devices"};
constexpr const char* kChanges[] = {"INSERT", "UPDATE", "DELETE"};

std::string trigger_name(const char* table, const char* change) {
  return std::string("registry_image_") + table + "_" + change;
}
}  // namespace

std::int64_t Store::data_version() const {
  Stmt s(write_db_, "PRAGMA data_version");
  std::int64_t version = -1;
  while (s.next()) version = s.i64(0);
  return version;
}

std::optional<registry_image::Tables> Store::take_image(std::string& note) const {
  loaded_version_ = data_version();
  const std::string path = registry_image::path_for(path_);
  std::string stamp;
  std::int64_t triggers = 0;
  {
    std::lock_guard lock(read_mu_);
    Stmt s(read_db_,
           "SELECT (SELECT stamp FROM registry_image LIMIT 1),"
           " (SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger' AND name GLOB 'registry_image_*')");
    while (s.next()) {
      stamp = s.text(0);
      triggers = s.i64(1);
    }
  }
  std::optional<registry_image::Tables> tables;
  if (!stamp.empty()) {
    tables = registry_image::load(path, stamp, note);
  } else if (std::error_code ec; std::filesystem::exists(path, ec)) {
    note = path + " is not this database's: the server did not stop cleanly since it was written, or the "
           "elders or devices changed";
  }
  if (stamp.empty() && triggers == 0) return tables;
  // Forgotten before anything is written: from here on the tables in memory move
  // ahead of the image, and a crash must send the next start back to the rows.
  in_transaction(write_db_, [&] {
    for (const char* table : kTables)
      for (const char* change : kChanges) exec(("DROP TRIGGER IF EXISTS " + trigger_name(table, change)).c_str());
    exec("DELETE FROM registry_image");
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
      exec("DELETE FROM registry_image");
      for (const char* table : kTables)
        for (const char* change : kChanges)
          exec(("CREATE TRIGGER IF NOT EXISTS " + trigger_name(table, change) + " AFTER " + change + " ON " + table +
                " BEGIN DELETE FROM registry_image; END")
                   .c_str());
      Stmt(write_db_, "INSERT INTO registry_image(stamp) VALUES (?)").bind(1, stamp).run();
    });
  } catch (...) {
    std::remove(path.c_str());  // no file names it: only room taken (a full disk, say)
    throw;
  }
}

}  // namespace anxin
