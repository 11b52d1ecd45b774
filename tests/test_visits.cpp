// The visiting programme (docs/visits.md): plans by tier, live states, phone tries,
// proof of visit, campaigns, the roster over the protocol, and visit rates that agree
// with SQL on a replayed month.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "anxin/core/roster.hpp"
#include "anxin/core/visits.hpp"
#include "anxin/core/visits_service.hpp"
#include "anxin/core/visits_store.hpp"
#include "district.hpp"
#include "support.hpp"
#include "visit_month.hpp"

using namespace anxin;
using namespace anxin::visits;
using test::json;

namespace {

constexpr Millis kHour = 3'600'000, kDay = 24 * kHour;

Elder elder_aged(ElderId id, const std::string& birth) {
  Elder e;
  e.id = id;
  e.name = "老人" + std::to_string(id);
  e.birth_date = birth;
  e.town = "城关镇";
  e.community = "东街社区";
  e.id_number = "id-" + std::to_string(id);
  e.lat = 34.83, e.lon = 115.54;
  e.ability = Ability::mild;
  e.visit_consent = true;
  e.paired_worker = 1;
  return e;
}

Record done(std::int64_t id, ElderId elder, Millis at, VisitMode mode = VisitMode::home) {
  Record r;
  r.id = id, r.elder = elder, r.mode = mode, r.outcome = Outcome::done, r.started_ms = at, r.finished_ms = at;
  return r;
}

std::vector<Item> plan_items(const Book& b, ElderId e, Day d) {
  std::vector<Item> out;
  for (const auto& i : b.items(e, d, start_of(d) + 10 * kHour))
    if (i.reason == Reason::plan) out.push_back(i);
  return out;
}

// GB 11643 check digit, for ID numbers the roster import accepts.
std::string with_check(const std::string& first17) {
  static const int w[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (first17[static_cast<size_t>(i)] - '0') * w[i];
  return first17 + "10X98765432"[sum % 11];
}

json login(gateway::SyncClient& c, const std::string& role, const std::string& user) {
  c.send(json{{"type", "login"}, {"role", role}, {"username", user}, {"password", "correct horse"}}.dump());
  return test::next_of_type(c, "welcome");
}

json ask(gateway::SyncClient& c, json frame) {
  frame["req"] = "q";
  c.send(frame.dump());
  for (;;) {
    json j = test::next_json(c);
    if (j.value("req", "") == "q") return j;
  }
}

}  // namespace

TEST_CASE("a change of ability moves the elder to the key group and re-plans at once", "[visits]") {
  Book book;
  const Day today = *parse_day("2026-12-03");
  Elder e = elder_aged(1, "1956-01-01");  // 70
  const Plan& general = book.put_elder(e, today);
  CHECK(general.tier == CareTier::general);
  CHECK(general.frequency.times == 1);
  CHECK(general.frequency.per == Per::month);
  CHECK(general.mode == VisitMode::phone);

  e.ability = Ability::severe;  // 000 二.(一): 重度失能 is the key group
  const Plan& key = book.put_elder(e, today);
  CHECK(key.tier == CareTier::key);
  CHECK(key.frequency.per == Per::week);
  CHECK(key.mode == VisitMode::home);

  e.visit_consent = false;  // 000 二.(四)2: no consent, no visit at home
  const Plan& by_phone = book.put_elder(e, today);
  CHECK(by_phone.mode == VisitMode::phone);
  CHECK(by_phone.no_consent);

  // An elder's own plan overrides the policy; clearing it returns to the policy.
  book.set_override(1, PlanOverride{{2, Per::week}, VisitMode::online}, today);
  CHECK(book.plan(1)->frequency.times == 2);
  CHECK(book.plan(1)->mode == VisitMode::online);
  book.set_override(1, std::nullopt, today);
  CHECK(book.plan(1)->mode == VisitMode::phone);

  // Turning 80 is enough (000), on the birthday.
  Elder old = elder_aged(2, "1946-12-04");
  CHECK(book.put_elder(old, today).tier == CareTier::general);
  CHECK(book.put_elder(old, today + 1).tier == CareTier::key);
}

TEST_CASE("a plan visit is upcoming then due then late until made", "[visits]") {
  Policy p;
  p.general = {{1, Per::week}, VisitMode::home};
  Book book(p);
  book.put_elder(elder_aged(5, "1956-01-01"), *parse_day("2026-11-30"));
  const Period week = week_of(*parse_day("2026-12-02"));
  CHECK(date_of(week.first) == "2026-11-30");  // a Monday
  // Find the day this elder's weekly visit falls on; the days around it show the states.
  const Day due = plan_items(book, 5, week.first).at(0).due;
  REQUIRE(week.holds(due));
  if (due > week.first) CHECK(plan_items(book, 5, due - 1).at(0).state == State::upcoming);
  CHECK(plan_items(book, 5, due).at(0).state == State::due);
  if (due + 1 < week.end) {
    CHECK(plan_items(book, 5, due + 1).at(0).state == State::late);
    book.put_record(done(1, 5, start_of(due + 1) + 11 * kHour));
    CHECK(plan_items(book, 5, due + 1).at(0).state == State::done);  // on the day's list, ticked
    CHECK(plan_items(book, 5, due + 1).at(0).slot == 0);
  } else {
    book.put_record(done(1, 5, start_of(due) + 11 * kHour));
  }
  // The week's one visit is made: nothing more is due until next week.
  if (due + 2 < week.end) CHECK(plan_items(book, 5, due + 2).empty());
  CHECK_FALSE(plan_items(book, 5, week.end + 6).empty());
}

TEST_CASE("three unanswered calls make a visit at home due that day", "[visits]") {
  Book book;
  book.put_elder(elder_aged(3, "1956-01-01"), *parse_day("2026-12-03"));  // general: by phone
  const Day day = *parse_day("2026-12-03");
  const Millis t = start_of(day) + 9 * kHour;
  for (int k = 0; k < 3; ++k) {
    CHECK(book.field_list(1, day, t, 34.83, 115.54).empty());
    Record r = done(10 + k, 3, t + k * kHour, VisitMode::phone);
    r.outcome = Outcome::no_answer;
    book.put_record(r);
  }
  auto field = book.field_list(1, day, t + 3 * kHour, 34.83, 115.54);
  REQUIRE(field.size() == 1);
  CHECK(field[0].reason == Reason::phone_unreached);
  CHECK(field[0].mode == VisitMode::home);
  CHECK(field[0].state == State::due);
  CHECK(field[0].tries == 3);
}

TEST_CASE("the field list is in walking order from where the worker is", "[visits]") {
  Policy p;
  p.general = {{1, Per::week}, VisitMode::home};
  Book book(p);
  const Day day = *parse_day("2026-12-06");  // a Sunday: every weekly visit is due or late
  for (int k = 1; k <= 4; ++k) {
    Elder e = elder_aged(k, "1956-01-01");
    e.lat = 34.80 + 0.01 * (5 - k);  // elder 4 nearest the worker at 34.80, then 3, 2, 1
    book.put_elder(e, day);
  }
  auto list = book.field_list(1, day, start_of(day) + 9 * kHour, 34.80, 115.54);
  REQUIRE(list.size() == 4);
  CHECK(list[0].elder == 4);
  CHECK(list[1].elder == 3);
  CHECK(list[2].elder == 2);
  CHECK(list[3].elder == 1);
  CHECK(list[1].distance_m == Approx(1112).margin(5));  // each leg, 0.01° of latitude
}

// --- over the real server ------------------------------------------------------------

namespace {

struct Supervised {
  std::unique_ptr<test::Centre> centre;
  std::unique_ptr<gateway::SyncClient> sup;
};

Supervised with_supervisor(gateway::ServerOptions o = {}) {
  Supervised s;
  s.centre = std::make_unique<test::Centre>(true, o);
  test::add_small_accounts(s.centre->db());
  s.centre->restart();
  s.sup = std::make_unique<gateway::SyncClient>(s.centre->port());
  REQUIRE(s.sup->wait_open());
  REQUIRE(login(*s.sup, "console", "zhangmin")["subject"] == "supervisor:张敏");
  s.sup->send(R"({"type":"subscribe"})");  // for visits_changed
  test::next_of_type(*s.sup, "snapshot");
  return s;
}

std::string roster_row(const std::string& name, const std::string& id_number, const std::string& ability,
                       const std::string& town, const std::string& lat) {
  return "," + name + ",女,," + id_number + "," + ability + "," + town + ",东街社区,东街1号," + lat +
         ",115.54,是,赵敏\n";
}
const std::string kRosterHeader = "编号,老人姓名,性别,出生日期,身份证号,能力评估结果,乡镇,村（居）,家庭地址,纬度,经度,"
                                  "是否同意入户探访,结对帮扶人\n";

}  // namespace

TEST_CASE("a roster file with bad rows imports nothing and names every error", "[visits][roster][ws]") {
  auto s = with_supervisor();
  const std::string db = s.centre->db();
  const long long elders = test::count_rows(db, "elders");
  const std::string good = with_check("37172119500101002");
  std::string bad = with_check("37172119500101012");
  bad.back() = bad.back() == '1' ? '2' : '1';
  const long long audit = test::count_rows(db, "audit");
  const std::string csv = kRosterHeader + roster_row("好人", good, "轻度失能", "城关镇", "34.8") +
                          roster_row("坏号", bad, "轻度失能", "城关镇", "34.8") +  // check digit
                          roster_row("", with_check("37172119500101004"), "轻度失能", "城关镇", "34.8") +
                          roster_row("远方", with_check("37172119500101006"), "轻度失能", "城关镇", "95") +
                          roster_row("无镇", with_check("37172119500101008"), "很好", "", "34.8");
  json r = ask(*s.sup, {{"type", "import_roster"}, {"csv_base64", protocol::base64_encode(csv)}});
  REQUIRE(r["type"] == "error");
  CHECK(r["code"] == "E_BAD_FIELD");
  const std::string msg = r["message"];
  INFO(msg);
  CHECK(msg.find("nothing was imported") != std::string::npos);
  CHECK(msg.find("line 3 身份证号") != std::string::npos);
  CHECK(msg.find("line 4 老人姓名") != std::string::npos);
  CHECK(msg.find("line 5 纬度") != std::string::npos);
  CHECK(msg.find("line 6 能力评估结果") != std::string::npos);
  CHECK(msg.find("line 6 乡镇") != std::string::npos);
  CHECK(msg.find("line 2") == std::string::npos);  // the good row is not blamed
  CHECK(test::count_rows(db, "elders") == elders);
  CHECK(test::count_rows(db, "audit") == audit);

  // The same file in GBK with the bad rows gone: imported whole.
  const std::string fixed = kRosterHeader + roster_row("好人", good, "重度失能", "城关镇", "34.8");
  r = ask(*s.sup, {{"type", "import_roster"}, {"encoding", "gbk"},
                   {"csv_base64", protocol::base64_encode(utf8_to_gbk(fixed))}});
  REQUIRE(r["type"] == "roster_imported");
  CHECK(r["added"] == 1);
  CHECK(test::count_rows(db, "elders") == elders + 1);

  // Operators may not import.
  auto op = s.centre->client("console", "tok-console");
  r = ask(*op, {{"type", "import_roster"}, {"csv_base64", protocol::base64_encode(fixed)}});
  CHECK(r["code"] == "E_FORBIDDEN");
}

TEST_CASE("a change of ability over the protocol re-plans the elder and is audited", "[visits][ws]") {
  auto s = with_supervisor();
  // Elder 2 (李德明, 70, unassessed, no consent): general, monthly by phone.
  json r = ask(*s.sup, {{"type", "update_elder"}, {"elder_id", 2}, {"ability", "complete"}, {"visit_consent", true},
                        {"paired_worker", 2}});
  REQUIRE(r["type"] == "elder_updated");
  CHECK(r["tier_before"] == "general");
  CHECK(r["plan"]["tier"] == "key");
  CHECK(r["plan"]["per"] == "week");
  CHECK(r["plan"]["mode"] == "home");
  CHECK(test::next_of_type(*s.sup, "visits_changed").is_object());

  bool audited = false;
  for (const auto& e : Store(s.centre->db()).audit_log())
    if (e.action == "tier_changed") audited = json::parse(e.detail)["to"] == "key";
  CHECK(audited);

  // The change is in the file: after a restart the elder is still key.
  s.centre->restart();
  auto again = std::make_unique<gateway::SyncClient>(s.centre->port());
  REQUIRE(again->wait_open());
  login(*again, "console", "zhangmin");
  r = ask(*again, {{"type", "set_plan"}, {"elder_id", 2}, {"times", 3}, {"per", "week"}, {"mode", "home"}});
  CHECK(r["tier_before"] == "key");
  CHECK(r["plan"]["own"] == true);
  // A bad change is refused and changes nothing.
  r = ask(*again, {{"type", "update_elder"}, {"elder_id", 2}, {"disability_grade", 9}});
  CHECK(r["code"] == "E_BAD_FIELD");
}

// The snapshot's cards are kept as text between subscribes (snapshot_texts.hpp) and
// made again when the roster changes an elder, not when visits are logged.
TEST_CASE("a snapshot after an elder's edit shows the new card", "[visits][ws][snapshot]") {
  auto s = with_supervisor();
  auto device = s.centre->client("device", "tok-acme");
  device->send(R"({"type":"alarm","device":"D3","seq":1,"kind":"sos","device_time_ms":1,"req":"a"})");
  REQUIRE(test::next_of_type(*device, "ack")["incident_id"].get<long long>() > 0);
  auto card_of_2 = [&] {
    json snap = ask(*s.sup, {{"type", "subscribe"}});
    REQUIRE(snap["type"] == "snapshot");
    for (const auto& e : snap["elders"])
      if (e["id"] == 2) return e;
    FAIL("no card for elder 2 in " << snap["elders"].dump());
    return json();
  };
  json before = card_of_2();
  CHECK(before["tier"] == "general");
  // A plan changed is no change to the card; the snapshot still has the same one.
  ask(*s.sup, {{"type", "set_plan"}, {"elder_id", 2}, {"times", 2}, {"per", "month"}, {"mode", "phone"}});
  CHECK(card_of_2() == before);

  REQUIRE(ask(*s.sup, {{"type", "update_elder"}, {"elder_id", 2}, {"ability", "complete"}, {"visit_consent", true},
                       {"paired_worker", 2}})["type"] == "elder_updated");
  json after = card_of_2();
  CHECK(after["tier"] == "key");
  CHECK(after["paired_worker_id"] == 2);
}

// An edit reaches the live picture at once: the elder's open incident is ranked again
// and every subscribed console gets it with the edited card (docs/protocol.md).
TEST_CASE("an elder's edit ranks the open incident again on every console", "[visits][ws][ranking]") {
  auto s = with_supervisor();
  auto device = s.centre->client("device", "tok-acme");
  device->send(R"({"type":"alarm","device":"D3","seq":1,"kind":"sos","device_time_ms":1,"req":"a"})");
  const auto incident = test::next_of_type(*device, "ack")["incident_id"].get<long long>();
  REQUIRE(incident > 0);
  auto op = s.centre->client("console", "tok-console");
  REQUIRE(ask(*op, {{"type", "subscribe"}})["type"] == "snapshot");

  REQUIRE(ask(*s.sup, {{"type", "update_elder"}, {"elder_id", 2}, {"living", "alone"}})["type"] == "elder_updated");
  json d = test::next_of_type(*op, "delta");
  CHECK(d["event"] == "incident_updated");
  CHECK(d["incident"]["id"] == incident);
  std::vector<std::string> codes;
  for (const auto& r : d["incident"]["rank"]["reasons"]) codes.push_back(r["code"]);
  CHECK(std::find(codes.begin(), codes.end(), "living:alone") != codes.end());
  CHECK(std::find(codes.begin(), codes.end(), "living:empty_nest") == codes.end());
  CHECK(d["elder"]["living"] == "alone");
}

TEST_CASE("a visit filed 2 km from the home and too short is flagged for the supervisor", "[visits][ws]") {
  auto s = with_supervisor();
  auto w1 = s.centre->client("field", "tok-w1");
  // Elder 1's home is at 34.831, 115.541; 0.018° of latitude north is some 2 km.
  json r = ask(*w1, {{"type", "start_visit"}, {"elder_id", 1}, {"lat", 34.849}, {"lon", 115.541}});
  REQUIRE(r["type"] == "visit_started");
  CHECK(r["distance_m"].get<int>() == Approx(2000).margin(20));
  CHECK(r["flags"] == json::array({"far_from_home"}));
  const auto id = r["visit_id"].get<std::int64_t>();
  r = ask(*w1, {{"type", "finish_visit"}, {"visit_id", id}, {"lat", 34.831}, {"lon", 115.541},
                {"areas", {"health", "home_safety"}},
                {"hazards", {{{"area", "home_safety"}, {"text", "燃气软管老化"}}}}});
  REQUIRE(r["type"] == "visit_finished");
  CHECK(r["flags"] == json::array({"far_from_home", "too_short"}));
  REQUIRE(r["hazard_ids"].size() == 1);

  json rep = ask(*s.sup, {{"type", "visit_report"}, {"period", "month"}});
  REQUIRE(rep["flagged"].size() == 1);
  CHECK(rep["flagged"][0]["visit_id"] == id);
  CHECK(rep["flagged"][0]["distance_m"].get<int>() > 1900);
  REQUIRE(rep["open_hazards"].size() == 1);
  CHECK(rep["open_hazards"][0]["owner_id"] == 1);

  json mine = ask(*w1, {{"type", "my_visits"}});
  REQUIRE(mine["hazards"].size() == 1);  // the owner sees the follow-up on the list
  CHECK(mine["hazards"][0]["text"] == "燃气软管老化");

  // Finishing twice, or someone else's visit, is refused.
  CHECK(ask(*w1, {{"type", "finish_visit"}, {"visit_id", id}, {"lat", 34.8}, {"lon", 115.5}})["code"] == "E_BAD_STATE");
  auto w2 = s.centre->client("field", "tok-w2");
  CHECK(ask(*w2, {{"type", "close_hazard"}, {"hazard_id", rep["open_hazards"][0]["hazard_id"]}, {"note", "换了"}})["code"] ==
        "E_FORBIDDEN");
  r = ask(*w1, {{"type", "close_hazard"}, {"hazard_id", rep["open_hazards"][0]["hazard_id"]}, {"note", "已更换软管"}});
  CHECK(r["type"] == "hazard_closed");
  CHECK(ask(*s.sup, {{"type", "visit_report"}})["open_hazards"].empty());
  CHECK(test::count_rows(s.centre->db(), "visit_records") == 1);
}

TEST_CASE("a campaign reaches everyone it chooses and sends visitors to those not reached", "[visits][ws]") {
  // A clock at 09:00 today, moved by hand past the campaign's hour.
  const Day day = *parse_day("2026-12-03");
  ManualClock clock(start_of(day) + 9 * kHour);
  test::Centre centre(true, {}, &clock);
  test::add_small_accounts(centre.db());
  centre.restart();
  gateway::SyncClient sup(centre.port());
  REQUIRE(sup.wait_open());
  login(sup, "console", "zhangmin");
  // Both elders need pairing and consent for the visit at home.
  ask(sup, {{"type", "update_elder"}, {"elder_id", 2}, {"paired_worker", 1}, {"visit_consent", true}});
  json c = ask(sup, {{"type", "start_campaign"}, {"name", "寒潮关爱"}, {"reason", "weather"}, {"reach_by_hour", 16}});
  REQUIRE(c["type"] == "campaign");
  const auto cid = c["campaign"]["campaign_id"];
  CHECK(c["campaign"]["chosen"] == 2);
  CHECK(c["campaign"]["reached"] == 0);

  // The phone list holds both elders' campaign calls; one is reached by phone.
  auto op = centre.client("console", "tok-console");
  json list = ask(*op, {{"type", "phone_visits"}});
  int campaign_calls = 0;
  for (const auto& i : list["visits"]) campaign_calls += i["reason"] == "campaign";
  CHECK(campaign_calls == 2);
  CHECK(ask(*op, {{"type", "phone_visit_result"}, {"elder_id", 2}, {"outcome", "reached"}})["type"] ==
        "visit_recorded");

  // Past 16:00 the other becomes a visit at home for the paired worker.
  clock.advance(8 * kHour);
  auto w1 = centre.client("field", "tok-w1");
  json field = ask(*w1, {{"type", "my_visits"}, {"lat", 34.83}, {"lon", 115.54}});
  bool sent = false;
  for (const auto& i : field["visits"])
    if (i["elder_id"] == 1 && i["reason"] == "campaign_unreached") sent = i["state"] == "due";
  CHECK(sent);
  json v = ask(*w1, {{"type", "start_visit"}, {"elder_id", 1}, {"lat", 34.831}, {"lon", 115.541}});
  clock.advance(20 * 60'000);
  ask(*w1, {{"type", "finish_visit"}, {"visit_id", v["visit_id"]}, {"lat", 34.831}, {"lon", 115.541}});

  json all = ask(sup, {{"type", "campaigns"}});
  REQUIRE(all["campaigns"].size() == 1);
  CHECK(all["campaigns"][0]["campaign_id"] == cid);
  CHECK(all["campaigns"][0]["reached"] == 2);  // everyone chosen, reached today
  CHECK(all["campaigns"][0]["chosen"] == 2);
}

TEST_CASE("a replayed month's visit rates agree with the same figures from SQL", "[visits][replay]") {
  test::TempDir dir;
  const std::string db = dir.file("month.db");
  sim::DistrictOptions d;
  d.elders = 400, d.workers = 15, d.today = "2026-12-01";
  const sim::District district = sim::generate_district(d);
  ManualClock clock(start_of(*parse_day("2026-11-01")) - kHour);
  sim::MonthResult month;
  {
    Store store(db);
    store.import_registry(district.elders, district.devices, district.workers);
    store.start();
    sim::MonthOptions m;
    m.first_date = "2026-11-01";
    m.days = 30;
    month = sim::replay_month(store, clock, m);
    store.stop();
  }
  CHECK(month.refused == 0);
  CHECK(month.flagged > 0);
  CHECK(month.campaign > 0);

  // The server's figures, from what is in the file after a restart.
  Store store(db);
  Dispatcher dispatcher(clock);
  dispatcher.restore(store.load());
  Service service(dispatcher, clock, {});
  service.load(store);
  std::unordered_map<WorkerId, std::string> names;
  for (const auto& w : district.workers) names[w.id] = w.name;

  auto sql_rows = [&](const std::string& key_sql, Millis from, Millis to) {
    std::map<std::string, std::pair<int, int>> out;  // key -> elders, visited
    store.read([&](sqlite3* h) {
      const std::string q = "SELECT " + key_sql +
                            ", COUNT(*), SUM(EXISTS (SELECT 1 FROM visit_records r WHERE r.elder_id = e.id"
                            " AND r.outcome = 'done' AND r.finished_ms >= ?1 AND r.finished_ms < ?2))"
                            " FROM elders e LEFT JOIN workers w ON w.id = e.paired_worker"
                            " WHERE e.unknown_caller = 0 GROUP BY 1";
      sqlite3_stmt* st = nullptr;
      REQUIRE(sqlite3_prepare_v2(h, q.c_str(), -1, &st, nullptr) == SQLITE_OK);
      sqlite3_bind_int64(st, 1, from);
      sqlite3_bind_int64(st, 2, to);
      while (sqlite3_step(st) == SQLITE_ROW) {
        const auto* k = sqlite3_column_text(st, 0);
        out[k ? reinterpret_cast<const char*>(k) : ""] = {sqlite3_column_int(st, 1), sqlite3_column_int(st, 2)};
      }
      sqlite3_finalize(st);
    });
    return out;
  };
  auto check = [&](const std::vector<RateRow>& rows, const std::map<std::string, std::pair<int, int>>& sql) {
    REQUIRE(rows.size() == sql.size());
    for (const auto& r : rows) {
      INFO(r.key);
      REQUIRE(sql.count(r.key));
      CHECK(r.elders == sql.at(r.key).first);
      CHECK(r.visited == sql.at(r.key).second);
    }
  };

  for (auto [per, date] : {std::pair{Per::month, "2026-11-15"}, std::pair{Per::week, "2026-11-18"}}) {
    const Report rep = service.book().report(per, *parse_day(date), month.end_ms, names);
    const Millis from = start_of(rep.period.first), to = start_of(rep.period.end);
    check(rep.towns, sql_rows("e.town", from, to));
    check(rep.communities, sql_rows("e.town || '/' || e.community", from, to));
    check(rep.visitors, sql_rows("IFNULL(w.name, '')", from, to));
    const auto total = sql_rows("'all'", from, to).at("all");
    CHECK(rep.total.elders == total.first);
    CHECK(rep.total.visited == total.second);
    // A realistic picture: in a week, the elders on weekly plans and some on monthly ones.
    CHECK(rep.total.rate() > 30);
    CHECK(rep.total.done <= rep.total.planned);
  }
  const Report november = service.book().report(Per::month, *parse_day("2026-11-30"), month.end_ms, names);
  CHECK(november.total.rate() > 90);
  CHECK(november.total.rate() < 100.0001);
}

TEST_CASE("an elder who turns 80 overnight is in the key group from the first message of the day", "[visits]") {
  const Day day = *parse_day("2026-12-03");
  ManualClock clock(start_of(day) + 22 * kHour);
  Dispatcher dispatcher(clock);
  dispatcher.put_roster({elder_aged(0, "1946-12-04")}, {});  // 80 tomorrow
  Service service(dispatcher, clock, {});
  service.load_elders();
  const Principal op{Role::console, "operator:王芳"};
  auto tier_now = [&] {
    const json frame = {{"type", "phone_visits"}};
    REQUIRE(service.handle(op, 0, {"phone_visits", frame.dump(), false}).ok());
    return service.book().plan(1)->tier;
  };
  CHECK(tier_now() == CareTier::general);
  clock.advance(4 * kHour);  // past midnight
  CHECK(tier_now() == CareTier::key);
}

TEST_CASE("a burst of phone results tells the consoles once per tick", "[visits][ws]") {
  gateway::ServerOptions o;
  o.tick_ms = 1000;
  auto s = with_supervisor(o);
  for (int k = 0; k < 5; ++k)
    s.sup->send(json{{"type", "phone_visit_result"}, {"elder_id", 2}, {"outcome", "no_answer"},
                     {"req", "r" + std::to_string(k)}}.dump());
  int recorded = 0, changed = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  while (std::chrono::steady_clock::now() < until) {
    auto frame = s.sup->next(std::chrono::milliseconds(100));
    if (!frame) continue;
    const json j = json::parse(*frame);
    recorded += j["type"] == "visit_recorded";
    if (j["type"] == "visits_changed") {
      CHECK(recorded > 0);  // never before the change it announces
      ++changed;
    }
  }
  CHECK(recorded == 5);
  CHECK(changed >= 1);
  CHECK(changed <= 2);  // five changes, one tick (two if a tick fell among them)
}

TEST_CASE("after a restart every list and report is as it was", "[visits][ws]") {
  const Day day = *parse_day("2026-12-03");
  ManualClock clock(start_of(day) + 9 * kHour);
  test::Centre centre(true, {}, &clock);
  test::add_small_accounts(centre.db());
  centre.restart();
  auto picture = [&] {
    gateway::SyncClient sup(centre.port());
    REQUIRE(sup.wait_open());
    login(sup, "console", "zhangmin");
    auto w1 = centre.client("field", "tok-w1");
    json p;
    for (const char* period : {"week", "month"}) p[period] = ask(sup, {{"type", "visit_report"}, {"period", period}});
    p["phone"] = ask(sup, {{"type", "phone_visits"}});
    p["campaigns"] = ask(sup, {{"type", "campaigns"}});
    p["field"] = ask(*w1, {{"type", "my_visits"}, {"lat", 34.83}, {"lon", 115.54}});
    for (auto& [k, v] : p.items()) v.erase("req");
    return p;
  };
  {
    gateway::SyncClient sup(centre.port());
    REQUIRE(sup.wait_open());
    login(sup, "console", "zhangmin");
    ask(sup, {{"type", "update_elder"}, {"elder_id", 2}, {"paired_worker", 1}, {"visit_consent", true}});
    ask(sup, {{"type", "set_plan"}, {"elder_id", 2}, {"times", 2}, {"per", "week"}, {"mode", "phone"}});
    ask(sup, {{"type", "start_campaign"}, {"name", "春节关爱"}, {"reason", "festival"}, {"tiers", {"key"}}});
    for (int k = 0; k < 3; ++k) ask(sup, {{"type", "phone_visit_result"}, {"elder_id", 2}, {"outcome", "no_answer"}});
    auto w1 = centre.client("field", "tok-w1");
    json v = ask(*w1, {{"type", "start_visit"}, {"elder_id", 1}, {"lat", 34.85}, {"lon", 115.541}});
    ask(*w1, {{"type", "finish_visit"}, {"visit_id", v["visit_id"]}, {"lat", 34.831}, {"lon", 115.541},
              {"hazards", {{{"area", "health"}, {"text", "血压偏高"}}}}});
    ask(*w1, {{"type", "start_visit"}, {"elder_id", 2}, {"lat", 34.75}, {"lon", 115.40}});  // left open
  }
  const json before = picture();
  REQUIRE(before["field"]["hazards"].size() == 1);
  REQUIRE(before["month"]["flagged"].size() == 1);
  centre.restart();
  const json after = picture();
  CHECK(after == before);
}
