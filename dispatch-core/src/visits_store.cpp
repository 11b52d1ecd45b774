#include "anxin/core/visits_store.hpp"

#include <nlohmann/json.hpp>

#include "store_sql.hpp"

namespace anxin::visits {

using store_sql::enum_or;
using store_sql::join;
using store_sql::Stmt;
using json = nlohmann::json;

namespace {

template <class E> json names(const std::vector<E>& v) {
  json a = json::array();
  for (const auto& x : v) a.push_back(std::string(anxin::name_of(x)));
  return a;
}
template <class E> std::vector<E> enums(const std::string& text) {
  std::vector<E> out;
  for (const auto& x : json::parse(text, nullptr, false))
    if (x.is_string())
      if (auto e = parse_enum<E>(x.get<std::string>())) out.push_back(*e);
  return out;
}

void load_records(sqlite3* db, Book& book) {
  Stmt s(db,
         "SELECT id, elder_id, worker_id, actor, mode, outcome, reason, campaign_id, started_ms, finished_ms,"
         " start_lat, start_lon, finish_lat, finish_lon, start_distance_m, flags, note FROM visit_records ORDER BY id");
  while (s.next()) {
    Record r;
    r.id = s.i64(0), r.elder = s.i64(1), r.worker = s.i64(2), r.actor = s.text(3);
    r.mode = enum_or(s.text(4), VisitMode::phone);
    r.outcome = parse_outcome(s.text(5)).value_or(Outcome::cancelled);
    r.reason = parse_reason(s.text(6)).value_or(Reason::plan);
    r.campaign = s.i64(7), r.started_ms = s.i64(8), r.finished_ms = s.i64(9);
    r.start_lat = s.f64(10), r.start_lon = s.f64(11), r.finish_lat = s.f64(12), r.finish_lon = s.f64(13);
    r.start_distance_m = s.f64(14);
    r.flags = parse_flags(s.text(15));
    r.note = s.text(16);
    book.put_record(r);
  }
}

void load_hazards(sqlite3* db, Book& book) {
  Stmt s(db,
         "SELECT id, elder_id, visit_id, area, text, owner_worker, found_ms, due_ms, closed_ms, closed_by,"
         " close_note FROM hazards ORDER BY id");
  while (s.next()) {
    Hazard h;
    h.id = s.i64(0), h.elder = s.i64(1), h.visit = s.i64(2);
    h.area = enum_or(s.text(3), ServiceArea::home_safety);
    h.text = s.text(4), h.owner = s.i64(5), h.found_ms = s.i64(6), h.due_ms = s.i64(7);
    h.closed_ms = s.i64(8), h.closed_by = s.text(9), h.close_note = s.text(10);
    book.put_hazard(h);
  }
}

void load_campaigns(sqlite3* db, Book& book) {
  Stmt s(db,
         "SELECT id, name, reason, first_date, last_date, reach_by_hour, tiers, towns, living, started_by,"
         " started_ms, ended_ms FROM campaigns ORDER BY id");
  while (s.next()) {
    Campaign c;
    c.id = s.i64(0), c.name = s.text(1);
    c.reason = parse_campaign_reason(s.text(2)).value_or(CampaignReason::weather);
    c.first = parse_day(s.text(3)).value_or(0);
    c.last = parse_day(s.text(4)).value_or(0);
    c.reach_by_hour = static_cast<int>(s.i64(5));
    c.tiers = enums<CareTier>(s.text(6));
    for (const auto& t : json::parse(s.text(7), nullptr, false))
      if (t.is_string()) c.towns.push_back(t.get<std::string>());
    c.living = enums<LivingSituation>(s.text(8));
    c.started_by = s.text(9), c.started_ms = s.i64(10), c.ended_ms = s.i64(11);
    book.put_campaign(c);
  }
  Stmt r(db, "SELECT elder_id, day, campaign_id FROM campaign_raises");
  while (r.next())
    if (auto d = parse_day(r.text(1))) book.put_raise(r.i64(0), *d, r.i64(2));
}

}  // namespace

void load(const Store& store, Book& book, Day today) {
  store.read([&](sqlite3* db) {
    Stmt s(db, "SELECT elder_id, times, per, mode FROM own_plans");
    while (s.next()) {
      PlanOverride own;
      own.frequency.times = static_cast<int>(s.i64(1));
      own.frequency.per = parse_per(s.text(2)).value_or(Per::month);
      own.mode = enum_or(s.text(3), VisitMode::phone);
      book.set_override(s.i64(0), own, today);
    }
    load_records(db, book);
    load_hazards(db, book);
    load_campaigns(db, book);
  });
}

SqlWrite write(const Record& r) {
  return {[r](sqlite3* db) {
    Stmt s(db,
           "INSERT OR REPLACE INTO visit_records(id, elder_id, worker_id, actor, mode, outcome, reason, campaign_id,"
           " started_ms, finished_ms, start_lat, start_lon, finish_lat, finish_lon, start_distance_m, flags, note)"
           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, r.id).bind(2, r.elder).bind(3, r.worker).bind(4, r.actor).bind(5, anxin::name_of(r.mode))
        .bind(6, name_of(r.outcome)).bind(7, name_of(r.reason)).bind(8, r.campaign).bind(9, r.started_ms)
        .bind(10, r.finished_ms).bind(11, r.start_lat).bind(12, r.start_lon).bind(13, r.finish_lat)
        .bind(14, r.finish_lon).bind(15, r.start_distance_m).bind(16, join(flag_names(r.flags)))
        .bind(17, r.note).run();
  }};
}

SqlWrite write(const Hazard& h) {
  return {[h](sqlite3* db) {
    Stmt s(db,
           "INSERT OR REPLACE INTO hazards(id, elder_id, visit_id, area, text, owner_worker, found_ms, due_ms,"
           " closed_ms, closed_by, close_note) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, h.id).bind(2, h.elder).bind(3, h.visit).bind(4, anxin::name_of(h.area)).bind(5, h.text)
        .bind(6, h.owner).bind(7, h.found_ms).bind(8, h.due_ms).bind(9, h.closed_ms).bind(10, h.closed_by)
        .bind(11, h.close_note).run();
  }};
}

SqlWrite write(const Campaign& c) {
  return {[c](sqlite3* db) {
    Stmt s(db,
           "INSERT OR REPLACE INTO campaigns(id, name, reason, first_date, last_date, reach_by_hour, tiers, towns,"
           " living, started_by, started_ms, ended_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, c.id).bind(2, c.name).bind(3, name_of(c.reason)).bind(4, date_of(c.first))
        .bind(5, date_of(c.last)).bind(6, c.reach_by_hour).bind(7, names(c.tiers).dump())
        .bind(8, json(c.towns).dump()).bind(9, names(c.living).dump()).bind(10, c.started_by)
        .bind(11, c.started_ms).bind(12, c.ended_ms).run();
  }};
}

SqlWrite write_own_plan(ElderId elder, const std::optional<PlanOverride>& own, const std::string& by, Millis at) {
  return {[=](sqlite3* db) {
    if (!own) {
      Stmt(db, "DELETE FROM own_plans WHERE elder_id=?").bind(1, elder).run();
      return;
    }
    Stmt s(db, "INSERT OR REPLACE INTO own_plans(elder_id, times, per, mode, set_by, set_ms) VALUES (?,?,?,?,?,?)");
    s.bind(1, elder).bind(2, own->frequency.times).bind(3, name_of(own->frequency.per))
        .bind(4, anxin::name_of(own->mode)).bind(5, by).bind(6, at).run();
  }};
}

SqlWrite write_raise(ElderId elder, Day day, std::int64_t campaign, AlertKind kind, Millis at) {
  return {[=](sqlite3* db) {
    Stmt s(db,
           "INSERT OR IGNORE INTO campaign_raises(elder_id, day, campaign_id, alert_kind, at_ms) VALUES (?,?,?,?,?)");
    s.bind(1, elder).bind(2, date_of(day)).bind(3, campaign).bind(4, anxin::name_of(kind)).bind(5, at).run();
  }};
}

SqlWrite write_elder(const Elder& x) {
  return {[x](sqlite3* db) {
    Stmt e(db,
           "INSERT INTO elders(id, name, sex, birth_date, phone, id_number, town, community,"
           " address, lat, lon, living, ability, bedridden, limited_mobility, disability_grade,"
           " dementia, special_family, economic, family_doctor, family_doctor_phone,"
           " paired_worker, visit_consent) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
           " ON CONFLICT(id) DO UPDATE SET name=excluded.name, sex=excluded.sex, birth_date=excluded.birth_date,"
           " phone=excluded.phone, id_number=excluded.id_number, town=excluded.town,"
           " community=excluded.community, address=excluded.address, lat=excluded.lat, lon=excluded.lon,"
           " living=excluded.living, ability=excluded.ability, bedridden=excluded.bedridden,"
           " limited_mobility=excluded.limited_mobility, disability_grade=excluded.disability_grade,"
           " dementia=excluded.dementia, special_family=excluded.special_family, economic=excluded.economic,"
           " family_doctor=excluded.family_doctor, family_doctor_phone=excluded.family_doctor_phone,"
           " paired_worker=excluded.paired_worker, visit_consent=excluded.visit_consent");
    e.bind(1, x.id).bind(2, x.name).bind(3, anxin::name_of(x.sex)).bind(4, x.birth_date).bind(5, x.phone)
        .bind(6, x.id_number).bind(7, x.town).bind(8, x.community).bind(9, x.address).bind(10, x.lat)
        .bind(11, x.lon).bind(12, anxin::name_of(x.living));
    if (x.ability) e.bind(13, anxin::name_of(*x.ability)); else e.bind_null(13);
    e.bind(14, x.bedridden).bind(15, x.limited_mobility).bind(16, x.disability_grade).bind(17, x.dementia)
        .bind(18, x.special_family).bind(19, anxin::name_of(x.economic)).bind(20, x.family_doctor)
        .bind(21, x.family_doctor_phone);
    if (x.paired_worker) e.bind(22, *x.paired_worker); else e.bind_null(22);
    e.bind(23, x.visit_consent).run();
    Stmt(db, "DELETE FROM emergency_contacts WHERE elder_id=?").bind(1, x.id).run();
    Stmt c(db, "INSERT INTO emergency_contacts(elder_id, ord, name, relation, phone) VALUES (?,?,?,?,?)");
    for (size_t i = 0; i < x.contacts.size(); ++i)
      c.bind(1, x.id).bind(2, static_cast<int>(i)).bind(3, x.contacts[i].name).bind(4, x.contacts[i].relation)
          .bind(5, x.contacts[i].phone).run();
  }};
}

SqlWrite write_device(const Device& d) {
  return {[d](sqlite3* db) {
    Stmt s(db,
           "INSERT INTO devices(id, elder_id, kind, vendor, battery_pct, last_seen_ms, sim) VALUES (?,?,?,?,?,?,?)"
           " ON CONFLICT(id) DO UPDATE SET elder_id=excluded.elder_id, kind=excluded.kind, vendor=excluded.vendor,"
           " sim=excluded.sim");
    s.bind(1, d.id).bind(2, d.elder).bind(3, anxin::name_of(d.kind)).bind(4, d.vendor).bind(5, d.battery_pct)
        .bind(6, d.last_seen_ms).bind(7, d.sim).run();
  }};
}

}  // namespace anxin::visits
