// The registry's rows read into the compact tables: see store_registry.hpp.
#include "store_registry.hpp"

#include <string>

#include "store_sql.hpp"

namespace anxin::store_registry {

using store_sql::enum_or;
using store_sql::Stmt;

namespace {
size_t count_rows(sqlite3* db, const std::string& table) {
  Stmt n(db, ("SELECT COUNT(*) FROM " + table).c_str());
  size_t rows = 0;
  while (n.next()) rows = static_cast<size_t>(n.i64(0));
  return rows;
}
}  // namespace

DeviceTable read_devices(sqlite3* db, Rows rows) {
  const std::string which = rows == Rows::all ? "" : " WHERE id IN (SELECT serial FROM registry_changed_devices)";
  DeviceTable devices;
  // In the table's own order, not the serials': by the serial's index, each row was a
  // seek into the table, a quarter of the read when rows lie in serial order and more
  // when they do not. The DeviceTable is indexed by hash, so no order is needed.
  Stmt s(db, ("SELECT id, elder_id, kind, vendor, battery_pct, last_seen_ms, sim, supervised FROM devices" + which)
                 .c_str());
  devices.reserve(count_rows(db, "devices" + which));
  Device d;  // one, its strings' buffers reused for every row
  while (s.next()) {
    d.id.assign(s.view(0)); d.elder = s.i64(1); d.kind = enum_or(s.view(2), DeviceKind::sos_button);
    d.vendor.assign(s.view(3)); d.battery_pct = static_cast<int>(s.i64(4)); d.last_seen_ms = s.i64(5);
    d.sim.assign(s.view(6)); d.supervised = s.i64(7) != 0;
    devices.append(d);  // unique: the primary key
  }
  devices.index_appended();
  return devices;
}

std::jthread read_devices_beside(const std::string& path, DeviceTable& devices, std::exception_ptr& failed) {
  return std::jthread([&path, &devices, &failed] {
    try {
      store_sql::OwnReader own(path);
      devices = read_devices(own.db, Rows::all);
    } catch (...) {
      failed = std::current_exception();
    }
  });
}

ElderTable read_elders(sqlite3* db, Rows rows) {
  const bool all = rows == Rows::all;
  const std::string changed = "IN (SELECT id FROM registry_changed_elders)";
  const std::string elders_where = all ? "" : " WHERE id " + changed;
  const std::string contacts_where = all ? "" : " WHERE elder_id " + changed;
  ElderTable elders;
  // Both in elder order: each elder's contacts are taken off the front as it is read,
  // with no map of a city's millions of contacts in between.
  Stmt c(db, ("SELECT elder_id, name, relation, phone FROM emergency_contacts" + contacts_where +
              " ORDER BY elder_id, ord")
                 .c_str());
  bool contact = c.next();
  elders.reserve(count_rows(db, "elders" + elders_where));
  Elder e;  // each row read into the same one: its strings keep their room
  Stmt s(db,
         ("SELECT id, name, sex, birth_date, phone, id_number, town, community, address, lat,"
          " lon, living, ability, bedridden, limited_mobility, disability_grade, dementia,"
          " special_family, economic, family_doctor, family_doctor_phone, paired_worker,"
          " visit_consent, unknown_caller FROM elders" +
          elders_where + " ORDER BY id")
             .c_str());
  while (s.next()) {
    e.id = s.i64(0); e.name.assign(s.view(1)); e.sex = enum_or(s.view(2), Sex::male);
    e.birth_date.assign(s.view(3)); e.phone.assign(s.view(4)); e.id_number.assign(s.view(5));
    e.town.assign(s.view(6)); e.community.assign(s.view(7)); e.address.assign(s.view(8));
    e.lat = s.f64(9); e.lon = s.f64(10);
    e.living = enum_or(s.view(11), LivingSituation::alone);
    e.ability = s.is_null(12) ? std::nullopt : parse_enum<Ability>(s.view(12));
    e.bedridden = s.i64(13) != 0; e.limited_mobility = s.i64(14) != 0;
    e.disability_grade = static_cast<int>(s.i64(15));
    e.dementia = s.i64(16) != 0; e.special_family = s.i64(17) != 0;
    e.economic = enum_or(s.view(18), EconomicStatus::ordinary);
    e.family_doctor.assign(s.view(19)); e.family_doctor_phone.assign(s.view(20));
    e.paired_worker = s.is_null(21) ? std::nullopt : std::optional<WorkerId>(s.i64(21));
    e.visit_consent = s.i64(22) != 0;
    e.unknown_caller = s.i64(23) != 0;
    while (contact && c.i64(0) < e.id) contact = c.next();  // of no elder: left out
    size_t n = 0;
    for (; contact && c.i64(0) == e.id; contact = c.next(), ++n) {
      if (n == e.contacts.size()) e.contacts.emplace_back();
      e.contacts[n].name.assign(c.view(1)); e.contacts[n].relation.assign(c.view(2)); e.contacts[n].phone.assign(c.view(3));
    }
    e.contacts.resize(n);
    elders.append(e);
  }
  elders.index_appended();
  if (contact) c.fresh();  // the rest are of no elder
  return elders;
}

}  // namespace anxin::store_registry
