// The console's model, headless: the filtered queue and its cache, the
// supervisor's figures and their CSV, the map's towns, remembered settings, and
// that every label exists in both languages.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <set>

#include "dashboard.hpp"
#include "i18n.hpp"
#include "map_places.hpp"
#include "notices.hpp"
#include "queue_index.hpp"
#include "settings.hpp"
#include "support.hpp"

using namespace anxin;
using namespace anxin::console;

namespace {

protocol::ElderCard card(ElderId id, const std::string& name, const std::string& town, double lat, double lon) {
  protocol::ElderCard e;
  e.id = id;
  e.name = name;
  e.town = town;
  e.community = town + "一社区";
  e.address = town + "幸福路" + std::to_string(id) + "号";
  e.phone = "1380000000" + std::to_string(id);
  e.lat = lat;
  e.lon = lon;
  return e;
}

Incident incident(IncidentId id, ElderId elder, AlertKind kind, int base, Millis opened,
                  const std::string& device = "D1") {
  Incident i;
  i.id = id;
  i.elder = elder;
  i.opened_ms = opened;
  i.rank_base = base;
  TimelineEntry t;
  t.kind = TimelineKind::alert;
  t.alert_kind = kind;
  t.actor = device;
  t.at_ms = opened;
  i.timeline.push_back(t);
  return i;
}

Replica three_incidents() {
  protocol::Snapshot s;
  s.seq = 1;
  s.server_time_ms = 1'000'000;
  s.elders = {card(1, "张桂英", "曹城街道", 34.83, 115.54), card(2, "李德明", "庄寨镇", 34.75, 115.40),
              card(3, "王秀兰", "曹城街道", 34.84, 115.55)};
  s.incidents = {incident(1, 1, AlertKind::sos, 135, 0, "D000001"), incident(2, 2, AlertKind::smoke, 165, 0, "D000777"),
                 incident(3, 3, AlertKind::low_battery, 10, 0, "D000003")};
  Replica r;
  r.apply(s);
  return r;
}

}  // namespace

TEST_CASE("the queue filters by town and kind and searches name, address, phone and device", "[console]") {
  Replica r = three_incidents();
  QueueIndex q;
  const auto& all = q.all(r, 0);
  REQUIRE(all.size() == 3);
  CHECK(all[0].incident->id == 2);  // 165 first
  CHECK(all[0].score == 165);
  CHECK(all[0].elder->name == "李德明");

  auto ids = [&](QueueFilter f) {
    std::vector<IncidentId> out;
    for (const auto& row : q.rows(r, f, 0)) out.push_back(row.incident->id);
    return out;
  };
  CHECK(ids({"曹城街道", std::nullopt, ""}) == std::vector<IncidentId>{1, 3});
  CHECK(ids({"", AlertKind::low_battery, ""}) == std::vector<IncidentId>{3});
  CHECK(ids({"", std::nullopt, "秀兰"}) == std::vector<IncidentId>{3});       // name
  CHECK(ids({"", std::nullopt, "幸福路2号"}) == std::vector<IncidentId>{2});  // address
  CHECK(ids({"", std::nullopt, "13800000001"}) == std::vector<IncidentId>{1});  // phone
  CHECK(ids({"", std::nullopt, "d000777"}) == std::vector<IncidentId>{2});    // device, any case
  CHECK(ids({"", std::nullopt, "#3"}) == std::vector<IncidentId>{3});
  CHECK(ids({"庄寨镇", AlertKind::sos, ""}).empty());
  CHECK(q.towns(r) == std::vector<std::string>{"庄寨镇", "曹城街道"});
}

TEST_CASE("the cached queue follows the replica and the clock", "[console]") {
  Replica r = three_incidents();
  QueueIndex q;
  CHECK(q.all(r, 0)[0].score == 165);
  // Waiting points are re-read once the clock moves to another second: 40
  // minutes unacknowledged add 160 to every waiting incident.
  CHECK(q.all(r, 40 * 60'000)[0].score == 325);
  // A delta moves the replica's version: the next read rebuilds, and the
  // acknowledged smoke alarm drops below the waiting ones.
  Incident acked = incident(2, 2, AlertKind::smoke, 165, 0);
  acked.state = IncidentState::acknowledged;
  acked.acknowledged_ms = 30'000;
  r.apply(protocol::DeltaMessage{2, DeltaKind::incident_acknowledged, acked, {}, std::nullopt, std::nullopt});
  const auto& rows = q.all(r, 40 * 60'000);
  CHECK(rows.front().incident->id == 1);
  CHECK(rows.back().incident->id == 2);
  CHECK(rows.back().score == 165 + 2);  // its clock stopped at 30 s
}

TEST_CASE("the dashboard's figures and their CSV", "[console]") {
  Replica r = three_incidents();
  Incident late = incident(4, 1, AlertKind::fall, 80, 0);
  late.escalations = {{EscalationKind::unacknowledged_long, 180'000, 0, false},
                      {EscalationKind::unacknowledged, 60'000, 0, true}};
  r.apply(protocol::DeltaMessage{2, DeltaKind::incident_opened, late, {}, std::nullopt, std::nullopt});

  MetricsSummary m;
  m.acknowledged = 200;
  m.acknowledged_within_60s = 196;
  m.acknowledged_within_180s = 200;
  m.intervals[0] = {200, 30'000, 55'000};
  m.opened_per_hour[3] = 7;
  m.operators["王芳"] = {120, 110, 2};
  const DashboardFigures f = dashboard_figures(r, m, 300'000);
  CHECK(f.open == 4);
  CHECK(f.unacknowledged == 4);
  CHECK(f.oldest_wait_ms == 300'000);
  CHECK(f.pct_60s() == Approx(98.0));
  CHECK(f.pct_60s() >= kTarget60sPct);
  CHECK(f.pct_180s() == Approx(100.0));
  REQUIRE(f.escalations.size() == 1);  // cleared ones are not active
  CHECK(f.escalations[0].kind == EscalationKind::unacknowledged_long);
  REQUIRE(f.operators.size() == 1);
  CHECK(f.operators[0].resolved == 110);

  const std::string csv = dashboard_csv(f);
  CHECK(csv.rfind("\xEF\xBB\xBFsection,item,measure,value\n", 0) == 0);
  CHECK(csv.find("acknowledgement,within_60s,pct,98.00\n") != std::string::npos);
  CHECK(csv.find("acknowledgement,within_60s,target_pct,97.50\n") != std::string::npos);
  CHECK(csv.find("interval,to_acknowledge,p90_s,55\n") != std::string::npos);
  CHECK(csv.find("per_hour,03,incidents,7\n") != std::string::npos);
  CHECK(csv.find("operator,王芳,resolved,110\n") != std::string::npos);
  CHECK(csv.find("escalation,#4 张桂英,unacknowledged_long,180000\n") != std::string::npos);

  // Without metrics from the server, operator load falls back to the live queue.
  const DashboardFigures live = dashboard_figures(r, std::nullopt, 300'000);
  CHECK_FALSE(live.have_metrics);
  CHECK(live.pct_60s() == Approx(100.0));
}

TEST_CASE("the map's towns are the centroids of the homes the console knows", "[console]") {
  Replica r = three_incidents();
  const MapPlaces p = derive_places(r);
  REQUIRE(p.any);
  REQUIRE(p.towns.size() == 2);
  const MapPlace& caocheng = p.towns[1].name == "曹城街道" ? p.towns[1] : p.towns[0];
  CHECK(caocheng.homes == 2);
  CHECK(caocheng.lat == Approx(34.835));
  CHECK(caocheng.radius_deg > 0);
  CHECK(p.min_lat == Approx(34.75));
  CHECK(p.max_lon == Approx(115.55));
  CHECK(p.communities.size() == 2);
  CHECK(p.communities[0].name.find("社区") != std::string::npos);
}

TEST_CASE("the server's district map gives every home, and its towns", "[console]") {
  Replica r = three_incidents();
  protocol::DistrictMap d;
  d.towns.push_back({{"曹城街道", 34.83, 115.54, 3}, {{"东关社区", 34.84, 115.55, 2}, {"西关社区", 34.82, 115.53, 1}}});
  d.homes = {{1, 34.84, 115.55, CareTier::key}, {2, 34.841, 115.551, CareTier::general},
             {3, 34.82, 115.53, CareTier::sub_key}, {4, 0, 0, CareTier::general}};  // unlocated: left out
  const MapPlaces p = derive_places(r, &d);
  CHECK(p.from_server);
  CHECK(p.homes.size() == 3);
  REQUIRE(p.towns.size() == 1);
  CHECK(p.towns[0].homes == 3);
  CHECK(p.towns[0].radius_deg > std::hypot(0.01, 0.01));  // reaches its furthest community
  CHECK(p.communities.size() == 2);
  // Without the district (an older server), the cards the replica holds.
  CHECK_FALSE(derive_places(r, nullptr).from_server);
  CHECK(derive_places(r, nullptr).homes.size() == 3);
}

TEST_CASE("settings remember language, server and user, and nothing else", "[console]") {
  test::TempDir dir;
  const std::string path = dir.file("anxin/console.conf");
  Settings defaults = load_settings(path);  // missing file: defaults
  CHECK(defaults.lang == Lang::zh);
  CHECK(defaults.port == 7600);
  Settings s{Lang::en, "10.0.0.5", 7700, "wangfang\nlang=zh"};
  REQUIRE(save_settings(path, s));
  const Settings back = load_settings(path);
  CHECK(back.lang == Lang::en);  // a newline in a name cannot smuggle a key in
  CHECK(back.host == "10.0.0.5");
  CHECK(back.port == 7700);
  CHECK(back.username == "wangfang lang=zh");
  std::ofstream(path, std::ios::app) << "port=banana\nunknown=1\n";
  CHECK(load_settings(path).port == 7700);
}

TEST_CASE("every label and name exists in both languages", "[console]") {
  for (int m = 0; m < static_cast<int>(Msg::count_); ++m) {
    INFO("Msg " << m);
    const std::string zh = tr(Lang::zh, static_cast<Msg>(m)), en = tr(Lang::en, static_cast<Msg>(m));
    // Units and suffixes may be empty in one language (岁 has no English word).
    if (static_cast<Msg>(m) != Msg::years_old && static_cast<Msg>(m) != Msg::seconds_unit) CHECK_FALSE(zh.empty());
    CHECK((!en.empty() || static_cast<Msg>(m) == Msg::years_old));
  }
  for (auto d : {Disposition::false_alarm, Disposition::resolved_by_phone, Disposition::visitor_assisted,
                 Disposition::ambulance_took, Disposition::fire_brigade, Disposition::family_handled,
                 Disposition::not_at_home, Disposition::device_fault})
    CHECK(std::string(tr(Lang::zh, d)) != "?");
  CHECK(rank_reason(Lang::zh, "living:alone") == "独居");
  CHECK(rank_reason(Lang::en, "kind:sos") == "SOS call");
  CHECK(rank_reason(Lang::zh, "alerts:3") == "3种告警");
  CHECK(rank_reason(Lang::zh, "age:80") == "80岁以上");
  CHECK(rank_reason(Lang::en, "callback:no_answer") == "No answer on call-back");
  CHECK(rank_reason(Lang::zh, "something:new") == "something:new");
  std::set<std::string> texts;
  for_each_text([&](const char* t) { texts.insert(t); });
  CHECK(texts.count("处置结案"));
  CHECK(texts.count("Two responders"));
}

TEST_CASE("a notice that could not be delivered reads in words on the timeline", "[console]") {
  CHECK(std::string(tr(Lang::zh, TimelineKind::notice_failed)) == "通知未送达");
  CHECK(std::string(tr(Lang::en, TimelineKind::notice_failed)) == "Notice failed");
  auto sms = parse_failed_notice(
      R"({"notice":"contact_sms","notice_id":"sms-7-0","to_name":"王建国","to":"139****0001","reason":"HTTP 500","attempts":3})");
  REQUIRE(sms);
  CHECK(describe(Lang::zh, *sms) == "联系人短信 · 王建国 139****0001 · HTTP 500（试了 3 次）");
  CHECK(describe(Lang::en, *sms) == "SMS to contact · 王建国 139****0001 · HTTP 500 (3 tries)");
  auto ambulance = parse_failed_notice(
      R"({"notice":"ambulance_120","notice_id":"call-4","task_id":4,"to_name":"120急救中心","to":"120","reason":"queue full","attempts":0})");
  REQUIRE(ambulance);
  CHECK(ambulance->task_id == 4);
  CHECK(describe(Lang::zh, *ambulance) == "急救 120 · 待发队列已满，未发出");
  CHECK(describe(Lang::en, *ambulance) == "Ambulance 120 · queue full, not sent");
  CHECK_FALSE(parse_failed_notice("family:exhausted"));  // not such an entry: shown as it is
  CHECK_FALSE(parse_failed_notice(R"({"attempts":"many"})"));
}

TEST_CASE("a throttled login reads as such on the login screen, with the wait", "[console]") {
  CHECK(login_refusal(Lang::zh, {ErrorCode::auth_failed, "wrong username or password"}) == "用户名或密码错误");
  const std::string held = login_refusal(Lang::zh, {ErrorCode::throttled, "too many failed logins; try again in 8 s"});
  CHECK(held.find("登录失败次数过多") != std::string::npos);
  CHECK(held.find("try again in 8 s") != std::string::npos);
  CHECK(login_refusal(Lang::en, {ErrorCode::throttled, "x"}).rfind("Too many failed logins", 0) == 0);
  CHECK(login_refusal(Lang::en, {ErrorCode::forbidden, "this port serves field workers only"}) ==
        "E_FORBIDDEN this port serves field workers only");
}
