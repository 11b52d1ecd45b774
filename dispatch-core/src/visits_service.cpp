#include "anxin/core/visits_service.hpp"

#include <algorithm>
#include <cmath>

#include "anxin/core/care_tier.hpp"
#include "anxin/core/export.hpp"
#include "anxin/core/geo.hpp"
#include "anxin/core/roster.hpp"
#include "anxin/core/visits_store.hpp"
#include "json_util.hpp"

namespace anxin::visits {

using namespace json_util;

struct Service::Ctx {
  const Principal& who;
  WorkerId worker;
  const json& j;
  Millis now;
  Day day;  // the day asked about ("date"), today by default
};

namespace {

constexpr Millis kMinuteMs = 60'000;

bool is_supervisor(const Principal& who) {
  return who.role == Role::console && who.subject.rfind("supervisor:", 0) == 0;
}

std::string plan_text(const Plan& p) {
  return std::to_string(p.frequency.times) + "/" + std::string(name_of(p.frequency.per)) + " " +
         std::string(anxin::name_of(p.mode));
}

json plan_json(const Plan& p) {
  return {{"tier", anxin::name_of(p.tier)},
          {"times", p.frequency.times},
          {"per", name_of(p.frequency.per)},
          {"mode", anxin::name_of(p.mode)},
          {"own", p.own},
          {"no_consent", p.no_consent}};
}

Per need_per(const json& j, const char* key) {
  const auto per = parse_per(need_string(j, key));
  if (!per) fail(ErrorCode::bad_field, std::string("'") + key + "' must be week or month");
  return *per;
}

Day need_date(const json& j, const char* key) {
  auto d = parse_day(need_string(j, key));
  if (!d) fail(ErrorCode::bad_field, std::string("'") + key + "' must be a date YYYY-MM-DD");
  return *d;
}

void need_position(const json& j, double& lat, double& lon) {
  lat = need_number(j, "lat");
  lon = need_number(j, "lon");
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180) fail(ErrorCode::bad_field, "'lat'/'lon' out of range");
}

}  // namespace

Result<Policy> parse_policy(std::string_view text, Policy p) {
  try {
    const json j = json::parse(text);
    if (!j.is_object()) fail(ErrorCode::bad_field, "must be an object");
    for (const auto& [key, v] : j.items()) {
      static const char* const kKeys[] = {"key", "sub_key", "general", "phone_tries", "far_m",
                                          "min_minutes", "max_elders_per_visitor", "hazard_days"};
      if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys))
        fail(ErrorCode::bad_field, "unknown key '" + key + "'");
    }
    for (auto [name, tier] : {std::pair{"key", CareTier::key}, std::pair{"sub_key", CareTier::sub_key},
                              std::pair{"general", CareTier::general}}) {
      if (!has(j, name)) continue;
      const json& r = j[name];
      TierRule& rule = tier == CareTier::key ? p.key : tier == CareTier::sub_key ? p.sub_key : p.general;
      rule.frequency.per = need_per(r, "per");
      rule.frequency.times = need_int_in(r, "times", 1, rule.frequency.per == Per::week ? 7 : 31);
      rule.mode = need_enum<VisitMode>(r, "mode");
    }
    p.phone_tries = opt_int_in(j, "phone_tries", 1, 20, p.phone_tries);
    p.far_m = has(j, "far_m") ? need_number(j, "far_m") : p.far_m;
    if (!(p.far_m >= 10 && p.far_m <= 100000)) fail(ErrorCode::bad_field, "'far_m' must be 10..100000");
    p.min_minutes = opt_int_in(j, "min_minutes", 0, 600, p.min_minutes);
    p.max_elders_per_visitor = opt_int_in(j, "max_elders_per_visitor", 1, 10000, p.max_elders_per_visitor);
    p.hazard_days = opt_int_in(j, "hazard_days", 1, 365, p.hazard_days);
    return p;
  } catch (const Failure& f) {
    return f.error;
  } catch (const json::exception& e) {
    return Error{ErrorCode::bad_json, e.what()};
  }
}

std::string policy_json(const Policy& p) {
  auto rule = [](const TierRule& r) {
    return nlohmann::ordered_json{{"times", r.frequency.times},
                                  {"per", name_of(r.frequency.per)},
                                  {"mode", anxin::name_of(r.mode)}};
  };
  return nlohmann::ordered_json{{"key", rule(p.key)},
                                {"sub_key", rule(p.sub_key)},
                                {"general", rule(p.general)},
                                {"phone_tries", p.phone_tries},
                                {"far_m", p.far_m},
                                {"min_minutes", p.min_minutes},
                                {"max_elders_per_visitor", p.max_elders_per_visitor},
                                {"hazard_days", p.hazard_days}}
      .dump();
}

Service::Service(Dispatcher& dispatcher, const Clock& clock, Policy policy)
    : dispatcher_(dispatcher), clock_(clock), book_(policy) {}

Day Service::today() const { return day_of(clock_.now_ms()); }

void Service::load_elders() {
  planned_on_ = today();
  book_.reserve(dispatcher_.elder_count());
  dispatcher_.each_elder([&](const Elder& e) { book_.put_elder(e, planned_on_); });
}

// Tiers move as elders age (an elder of 80 is in the key group from the birthday,
// 000 二.(一)): on the first command of a new day every plan is derived again.
void Service::replan_if_new_day() {
  if (today() != planned_on_) load_elders();
}

void Service::load(const Store& store) {
  load_elders();
  visits::load(store, book_, today());
}

WriteBatch Service::take_writes() { return std::exchange(writes_, {}); }
bool Service::take_changed() { return std::exchange(changed_, false); }

void Service::audit(const std::string& actor, const std::string& action, const std::string& detail) {
  writes_.push_back(AppendAudit{{clock_.now_ms(), actor, action, 0, detail}});
}

void Service::on_alert(ElderId elder, AlertKind kind) {
  const Millis now = clock_.now_ms();
  if (std::int64_t campaign = book_.device_raise(elder, kind, now)) {
    writes_.push_back(write_raise(elder, day_of(now), campaign, kind, now));
    changed_ = true;
  }
}

Result<std::string> Service::handle(const Principal& who, WorkerId worker, const protocol::VisitsCommand& cmd) {
  replan_if_new_day();
  try {
    const json j = json::parse(cmd.frame);
    const Millis now = clock_.now_ms();
    const Day day = has(j, "date") ? need_date(j, "date") : day_of(now);
    const Ctx c{who, worker, j, now, day};
    const std::string& t = cmd.type;
    const bool field = who.role == Role::field, console = who.role == Role::console;
    auto need = [&](bool allowed, const char* whom) {
      if (!allowed) fail(ErrorCode::forbidden, "'" + t + "' is for " + whom);
    };
    if (t == "my_visits") return need(field, "field workers"), my_visits(c);
    if (t == "start_visit") return need(field, "field workers"), start_visit(c);
    if (t == "finish_visit") return need(field, "field workers"), finish_visit(c);
    if (t == "close_hazard") return need(field || console, "consoles and field workers"), close_hazard(c);
    need(console, "consoles");
    if (t == "phone_visits") return phone_visits(c);
    if (t == "phone_visit_result") return phone_visit_result(c);
    if (t == "visit_report") return visit_report(c);
    if (t == "export_report") return export_report(c);
    if (t == "campaigns") return campaigns(c);
    if (t == "pairing") return pairing(c);
    need(is_supervisor(who), "supervisors");
    if (t == "import_roster") return import_roster(c);
    if (t == "update_elder") return update_elder(c);
    if (t == "set_plan") return set_plan(c);
    if (t == "start_campaign") return start_campaign(c);
    if (t == "end_campaign") return end_campaign(c);
    return Error{ErrorCode::unknown_type, "unknown message type '" + t + "'"};
  } catch (const Failure& f) {
    writes_.clear();  // a refused command writes nothing
    return f.error;
  } catch (const json::exception& e) {
    writes_.clear();
    return Error{ErrorCode::bad_json, e.what()};
  }
}

// --- worklists -------------------------------------------------------------------

namespace {

json item_json(const Item& i, const Book& book, const Dispatcher& d) {
  json o = {{"elder_id", i.elder},
            {"mode", anxin::name_of(i.mode)},
            {"state", name_of(i.state)},
            {"reason", name_of(i.reason)},
            {"due_date", date_of(i.due)},
            {"slot", i.slot + 1},
            {"of", i.of},
            {"campaign_id", i.campaign},
            {"tries", i.tries},
            {"visitor_id", i.visitor}};
  if (const auto e = d.elder(i.elder)) {
    o["name"] = e->name;
    o["phone"] = e->phone;
    o["address"] = e->address;
    o["town"] = e->town;
    o["community"] = e->community;
    o["lat"] = e->lat;
    o["lon"] = e->lon;
  }
  if (const Plan* p = book.plan(i.elder)) o["tier"] = anxin::name_of(p->tier), o["plan"] = plan_text(*p);
  if (const Worker* w = i.visitor ? d.worker(i.visitor) : nullptr) o["visitor"] = w->name;
  if (i.distance_m >= 0) o["distance_m"] = std::lround(i.distance_m);
  if (i.campaign)
    if (const Campaign* c = book.campaign(i.campaign)) o["campaign"] = c->name;
  return o;
}

json list_json(const char* list, Day day, const std::vector<Item>& items, const Book& book, const Dispatcher& d) {
  json a = json::array();
  for (const auto& i : items) a.push_back(item_json(i, book, d));
  return {{"type", "visit_list"}, {"list", list}, {"date", date_of(day)}, {"visits", a}};
}

}  // namespace

std::string Service::phone_visits(const Ctx& c) {
  return list_json("phone", c.day, book_.phone_list(c.day, c.now), book_, dispatcher_).dump();
}

namespace {
json hazard_json(const Hazard& h, const Dispatcher& d);  // with the reports, below
}  // namespace

std::string Service::my_visits(const Ctx& c) {
  double lat = 0, lon = 0;
  if (has(c.j, "lat")) {
    need_position(c.j, lat, lon);
  } else if (const Worker* w = dispatcher_.worker(c.worker)) {
    lat = w->lat, lon = w->lon;
  }
  json list = list_json("field", c.day, book_.field_list(c.worker, c.day, c.now, lat, lon), book_, dispatcher_);
  for (auto& item : list["visits"])  // a visit begun and not finished, so any phone can finish it
    if (const Record* r = book_.open_record(item["elder_id"].get<ElderId>(), c.worker))
      item["open_visit_id"] = r->id, item["started_ms"] = r->started_ms;
  json hazards = json::array();  // the follow-ups this worker owns (000 二.(三)2)
  for (const Hazard* h : book_.hazards(true))
    if (h->owner == c.worker) hazards.push_back(hazard_json(*h, dispatcher_));
  list["hazards"] = hazards;
  return list.dump();
}

// The reason a call or visit made now answers: a campaign's daily call if one is on
// for the elder, else the plan (or the phone that failed, for a visit at home).
static std::pair<Reason, std::int64_t> reason_now(const Book& book, ElderId elder, Day day, Millis now,
                                                  bool at_home) {
  for (const auto& i : book.items(elder, day, now)) {
    if (i.state == State::done || i.state == State::upcoming) continue;
    const bool field = i.mode == VisitMode::home || i.mode == VisitMode::encounter;
    if (field == at_home && i.reason != Reason::plan) return {i.reason, i.campaign};
  }
  return {Reason::plan, 0};
}

std::string Service::phone_visit_result(const Ctx& c) {
  const ElderId elder = need_int(c.j, "elder_id");
  if (!book_.plan(elder)) fail(ErrorCode::bad_field, "no elder " + std::to_string(elder));
  const std::string outcome = need_string(c.j, "outcome");
  if (outcome != "reached" && outcome != "no_answer")
    fail(ErrorCode::bad_field, "'outcome' must be reached or no_answer");
  const VisitMode mode = opt_enum<VisitMode>(c.j, "mode", VisitMode::phone);
  if (mode != VisitMode::phone && mode != VisitMode::online)
    fail(ErrorCode::bad_field, "'mode' must be phone or online");
  Record r;
  r.id = book_.next_record_id();
  r.elder = elder;
  r.actor = c.who.subject;
  r.mode = mode;
  r.outcome = outcome == "reached" ? Outcome::done : Outcome::no_answer;
  std::tie(r.reason, r.campaign) = reason_now(book_, elder, day_of(c.now), c.now, false);
  r.started_ms = r.finished_ms = c.now;
  r.note = opt_string(c.j, "note");
  if (r.note.size() > 2000) fail(ErrorCode::bad_field, "'note' is longer than 2000 bytes");
  book_.put_record(r);
  writes_.push_back(write(r));
  if (r.outcome == Outcome::done) {  // on the elder's card with the visits at home
    Visit v;
    v.elder = elder, v.at_ms = c.now, v.mode = mode, v.notes = r.note;
    v.areas = {ServiceArea::health, ServiceArea::emotional};
    writes_.push_back(PutVisit{v});
  }
  audit(r.actor, "phone_visit", json({{"elder_id", elder}, {"outcome", outcome}, {"record_id", r.id}}).dump());
  changed_ = true;
  const int tries = book_.unanswered_on(elder, day_of(c.now));
  // 001: not reached after the plan's tries: a visit at home is due today.
  const bool home_due = r.outcome == Outcome::no_answer && tries >= book_.policy().phone_tries;
  return json({{"type", "visit_recorded"}, {"record_id", r.id}, {"elder_id", elder}, {"outcome", outcome},
               {"tries", tries}, {"home_visit_due", home_due}})
      .dump();
}

// --- proof of visit --------------------------------------------------------------------

std::string Service::start_visit(const Ctx& c) {
  const ElderId elder = need_int(c.j, "elder_id");
  const auto e = book_.has_elder(elder) ? dispatcher_.elder(elder) : std::nullopt;
  if (!e) fail(ErrorCode::bad_field, "no elder " + std::to_string(elder));
  const VisitMode mode = opt_enum<VisitMode>(c.j, "mode", e->visit_consent ? VisitMode::home : VisitMode::encounter);
  if (mode != VisitMode::home && mode != VisitMode::encounter)
    fail(ErrorCode::bad_field, "'mode' must be home or encounter");
  // 000 二.(四)2: 入户探访要征得老年人或其赡养人同意.
  if (mode == VisitMode::home && !e->visit_consent)
    fail(ErrorCode::bad_state, "this elder has not agreed to visits at home; visit as encounter (at the door)");
  Record r;
  r.id = book_.next_record_id();
  r.elder = elder;
  r.worker = c.worker;
  r.actor = c.who.subject;
  r.mode = mode;
  r.outcome = Outcome::started;
  std::tie(r.reason, r.campaign) = reason_now(book_, elder, day_of(c.now), c.now, true);
  r.started_ms = c.now;
  need_position(c.j, r.start_lat, r.start_lon);
  r.start_distance_m = distance_m(r.start_lat, r.start_lon, e->lat, e->lon);
  // 001/003 supervision finds visits done only on paper: one begun far from the home
  // is shown to the supervisor.
  if (r.start_distance_m > book_.policy().far_m) r.flags |= kFar;
  book_.put_record(r);
  writes_.push_back(write(r));
  audit(r.actor, "visit_started",
        json({{"elder_id", elder}, {"record_id", r.id}, {"distance_m", std::lround(r.start_distance_m)}}).dump());
  changed_ = true;
  return json({{"type", "visit_started"}, {"visit_id", r.id}, {"elder_id", elder},
               {"distance_m", std::lround(r.start_distance_m)}, {"flags", flag_names(r.flags)}})
      .dump();
}

std::string Service::finish_visit(const Ctx& c) {
  const std::int64_t id = need_int(c.j, "visit_id");
  const Record* found = book_.record(id);
  if (!found || found->worker != c.worker) fail(ErrorCode::bad_field, "no visit " + std::to_string(id) + " of yours");
  if (found->outcome != Outcome::started) fail(ErrorCode::bad_state, "visit " + std::to_string(id) + " is finished");
  Record r = *found;
  need_position(c.j, r.finish_lat, r.finish_lon);
  r.finished_ms = c.now;
  r.outcome = Outcome::done;
  if (c.now - r.started_ms < book_.policy().min_minutes * kMinuteMs) r.flags |= kShort;
  r.note = opt_string(c.j, "notes");
  if (r.note.size() > 4000) fail(ErrorCode::bad_field, "'notes' is longer than 4000 bytes");

  // The eight service areas checked (000 二.(三)), and hazards found, each a follow-up
  // with an owner and a deadline (000 二.(三)2: 发现安全隐患…及时跟进).
  Visit v;
  v.elder = r.elder, v.worker = r.worker, v.at_ms = c.now, v.mode = r.mode, v.notes = r.note;
  if (has(c.j, "areas"))
    for (const auto& a : need_array(c.j, "areas")) {
      auto area = a.is_string() ? parse_enum<ServiceArea>(a.get<std::string>()) : std::nullopt;
      if (!area) fail(ErrorCode::bad_field, "unknown service area " + a.dump());
      v.areas.push_back(*area);
    }
  std::vector<Hazard> hazards;
  if (has(c.j, "hazards"))
    for (const auto& h : need_array(c.j, "hazards")) {
      Hazard z;
      z.id = 0;
      z.elder = r.elder, z.visit = r.id, z.owner = r.worker, z.found_ms = c.now;
      z.area = need_enum<ServiceArea>(h, "area");
      z.text = need_string(h, "text");
      if (z.text.empty() || z.text.size() > 1000) fail(ErrorCode::bad_field, "a hazard's 'text' must be 1..1000 bytes");
      z.due_ms = c.now + static_cast<Millis>(book_.policy().hazard_days) * 86'400'000;
      hazards.push_back(std::move(z));
      v.hazards += (v.hazards.empty() ? "" : "；") + hazards.back().text;
    }
  json ids = json::array();
  for (auto& z : hazards) {
    z.id = book_.next_hazard_id();
    ids.push_back(z.id);
    book_.put_hazard(z);
    writes_.push_back(write(z));
  }
  book_.put_record(r);
  writes_.push_back(write(r));
  writes_.push_back(PutVisit{v});  // the elder's card shows it with the visits before
  audit(r.actor, "visit_finished",
        json({{"elder_id", r.elder}, {"record_id", r.id}, {"minutes", (c.now - r.started_ms) / kMinuteMs},
              {"flags", flag_names(r.flags)}, {"hazards", ids}})
            .dump());
  changed_ = true;
  return json({{"type", "visit_finished"}, {"visit_id", r.id}, {"elder_id", r.elder},
               {"minutes", (c.now - r.started_ms) / kMinuteMs}, {"flags", flag_names(r.flags)}, {"hazard_ids", ids}})
      .dump();
}

std::string Service::close_hazard(const Ctx& c) {
  const std::int64_t id = need_int(c.j, "hazard_id");
  const Hazard* found = book_.hazard(id);
  if (!found) fail(ErrorCode::bad_field, "no hazard " + std::to_string(id));
  if (c.who.role == Role::field && found->owner != c.worker)
    fail(ErrorCode::forbidden, "hazard " + std::to_string(id) + " is not yours to close");
  if (!found->open()) fail(ErrorCode::bad_state, "hazard " + std::to_string(id) + " is closed");
  Hazard h = *found;
  h.closed_ms = c.now;
  h.closed_by = c.who.subject;
  h.close_note = need_string(c.j, "note");
  if (h.close_note.empty() || h.close_note.size() > 1000)
    fail(ErrorCode::bad_field, "'note' must say what was done, 1..1000 bytes");
  book_.put_hazard(h);
  writes_.push_back(write(h));
  audit(h.closed_by, "hazard_closed", json({{"hazard_id", id}, {"elder_id", h.elder}}).dump());
  changed_ = true;
  return json({{"type", "hazard_closed"}, {"hazard_id", id}}).dump();
}

// --- reports ---------------------------------------------------------------------------

namespace {

json rate_json(const RateRow& r) {
  return {{"key", r.key},         {"elders", r.elders}, {"visited", r.visited},
          {"rate", r.rate()},     {"planned", r.planned}, {"done", r.done},
          {"completion", r.completion()}};
}

std::unordered_map<WorkerId, std::string> worker_names(const Dispatcher& d) {
  std::unordered_map<WorkerId, std::string> out;
  for (const Worker* w : d.workers()) out[w->id] = w->name;
  return out;
}

json record_json(const Record& r, const Dispatcher& d) {
  const auto e = d.elder(r.elder);
  return {{"visit_id", r.id},          {"elder_id", r.elder},         {"name", e ? e->name : ""},
          {"worker_id", r.worker},     {"actor", r.actor},            {"mode", anxin::name_of(r.mode)},
          {"started_ms", r.started_ms}, {"finished_ms", r.finished_ms},
          {"minutes", (r.finished_ms - r.started_ms) / kMinuteMs},
          {"distance_m", std::lround(r.start_distance_m)}, {"flags", flag_names(r.flags)}};
}

json hazard_json(const Hazard& h, const Dispatcher& d) {
  const auto e = d.elder(h.elder);
  return {{"hazard_id", h.id},   {"elder_id", h.elder},      {"name", e ? e->name : ""},
          {"area", anxin::name_of(h.area)}, {"text", h.text}, {"owner_id", h.owner},
          {"found_ms", h.found_ms}, {"due_ms", h.due_ms},     {"closed_ms", h.closed_ms}};
}

}  // namespace

std::string Service::visit_report(const Ctx& c) {
  const Per per = has(c.j, "period") ? need_per(c.j, "period") : Per::month;
  const Report rep = book_.report(per, c.day, c.now, worker_names(dispatcher_));
  json towns = json::array(), communities = json::array(), visitors = json::array(), overdue = json::array(),
       flagged = json::array(), hazards = json::array();
  for (const auto& r : rep.towns) towns.push_back(rate_json(r));
  for (const auto& r : rep.communities) communities.push_back(rate_json(r));
  for (const auto& r : rep.visitors) visitors.push_back(rate_json(r));
  for (const auto& i : rep.overdue) overdue.push_back(item_json(i, book_, dispatcher_));
  for (const auto& r : rep.flagged) flagged.push_back(record_json(r, dispatcher_));
  for (const auto& h : rep.open_hazards) hazards.push_back(hazard_json(h, dispatcher_));
  return json({{"type", "visit_report"},
               {"period", name_of(per)},
               {"from", date_of(rep.period.first)},
               {"to", date_of(rep.period.end - 1)},
               {"total", rate_json(rep.total)},
               {"towns", towns},
               {"communities", communities},
               {"visitors", visitors},
               {"overdue", overdue},
               {"flagged", flagged},
               {"open_hazards", hazards}})
      .dump();
}

namespace {

Table rates_table(const Report& rep) {
  Table t;
  t.title = "探访率 " + date_of(rep.period.first) + " — " + date_of(rep.period.end - 1);
  t.columns = {"层级", "名称", "服务对象数", "已探访人数", "探访率(%)", "计划次数", "完成次数", "完成率(%)"};
  auto add = [&](const char* level, const RateRow& r) {
    t.rows.push_back({std::string(level), r.key.empty() ? std::string("(未结对)") : r.key, (long long)r.elders,
                      (long long)r.visited, r.rate(), (long long)r.planned, (long long)r.done, r.completion()});
  };
  RateRow total = rep.total;
  total.key = "合计";
  add("全区", total);
  for (const auto& r : rep.towns) add("镇/街道", r);
  for (const auto& r : rep.communities) add("村/居", r);
  for (const auto& r : rep.visitors) add("探访人员", r);
  return t;
}

}  // namespace

std::string Service::export_report(const Ctx& c) {
  const std::string what = need_string(c.j, "report");
  const std::string format = need_string(c.j, "format");
  if (format != "csv" && format != "xlsx") fail(ErrorCode::bad_field, "'format' must be csv or xlsx");
  const Per per = has(c.j, "period") ? need_per(c.j, "period") : Per::month;
  const Report rep = book_.report(per, c.day, c.now, worker_names(dispatcher_));
  Table t;
  if (what == "rates") {
    t = rates_table(rep);
  } else if (what == "roster") {
    t.title = "特殊困难老年人名单 " + date_of(c.day);
    t.columns = {"编号", "老人姓名", "性别", "出生日期", "乡镇", "村（居）", "家庭地址", "联系电话", "居住状况",
                 "能力评估结果", "残疾等级", "人群分类", "探访方案", "同意入户", "结对帮扶人"};
    dispatcher_.each_elder([&](const Elder& e) {
      if (e.unknown_caller) return;
      const Plan* p = book_.plan(e.id);
      const Worker* w = e.paired_worker ? dispatcher_.worker(*e.paired_worker) : nullptr;
      t.rows.push_back({(long long)e.id, e.name, std::string(e.sex == Sex::male ? "男" : "女"), e.birth_date,
                        e.town, e.community, e.address, e.phone, std::string(anxin::name_of(e.living)),
                        std::string(e.ability ? anxin::name_of(*e.ability) : "unassessed"),
                        (long long)e.disability_grade, std::string(p ? anxin::name_of(p->tier) : ""),
                        p ? plan_text(*p) : std::string(), std::string(e.visit_consent ? "是" : "否"),
                        w ? w->name : std::string()});
    });
  } else if (what == "overdue") {
    t.title = "逾期未探访 " + date_of(c.day);
    t.columns = {"编号", "老人姓名", "乡镇", "村（居）", "应访日期", "方式", "结对帮扶人"};
    for (const auto& i : rep.overdue) {
      const auto e = dispatcher_.elder(i.elder);
      const Worker* w = i.visitor ? dispatcher_.worker(i.visitor) : nullptr;
      t.rows.push_back({(long long)i.elder, e ? e->name : "", e ? e->town : "", e ? e->community : "",
                        date_of(i.due), std::string(anxin::name_of(i.mode)), w ? w->name : std::string()});
    }
  } else if (what == "flagged") {
    t.title = "存疑探访 " + date_of(rep.period.first) + " — " + date_of(rep.period.end - 1);
    t.columns = {"记录号", "老人姓名", "探访人员", "开始", "时长(分钟)", "距住址(米)", "问题"};
    for (const auto& r : rep.flagged) {
      const auto e = dispatcher_.elder(r.elder);
      std::string flags;
      for (const auto& f : flag_names(r.flags)) flags += (flags.empty() ? "" : ",") + f;
      t.rows.push_back({(long long)r.id, e ? e->name : "", r.actor, local_date(r.started_ms),
                        (long long)((r.finished_ms - r.started_ms) / kMinuteMs), (long long)std::lround(r.start_distance_m),
                        flags});
    }
  } else if (what == "hazards") {
    t.title = "隐患跟进 " + date_of(c.day);
    t.columns = {"编号", "老人姓名", "服务领域", "隐患", "责任人", "发现日期", "期限"};
    for (const auto& h : rep.open_hazards) {
      const auto e = dispatcher_.elder(h.elder);
      const Worker* w = dispatcher_.worker(h.owner);
      t.rows.push_back({(long long)h.id, e ? e->name : "", std::string(anxin::name_of(h.area)), h.text,
                        w ? w->name : std::string(), local_date(h.found_ms), local_date(h.due_ms)});
    }
  } else {
    fail(ErrorCode::bad_field, "'report' must be roster, rates, overdue, flagged or hazards");
  }
  const std::string bytes = format == "csv" ? to_csv(t) : to_xlsx(t);
  const std::string name = what + "-" + date_of(c.day) + "." + format;
  return json({{"type", "export"}, {"report", what}, {"format", format}, {"name", name}, {"rows", t.rows.size()},
               {"content_base64", protocol::base64_encode(bytes)}})
      .dump();
}

std::string Service::pairing(const Ctx&) {
  json unpaired = json::array(), overloaded = json::array();
  for (ElderId id : book_.unpaired()) {
    const auto e = dispatcher_.elder(id);
    unpaired.push_back({{"elder_id", id}, {"name", e->name}, {"town", e->town}, {"community", e->community}});
  }
  for (const auto& [w, n] : book_.overloaded()) {
    const Worker* x = dispatcher_.worker(w);
    overloaded.push_back({{"worker_id", w}, {"name", x ? x->name : ""}, {"elders", n}});
  }
  return json({{"type", "pairing"}, {"max_elders_per_visitor", book_.policy().max_elders_per_visitor},
               {"unpaired", unpaired}, {"overloaded", overloaded}})
      .dump();
}

// --- the roster --------------------------------------------------------------------------

CareTier Service::replan(const Elder& before, const Elder& after, const std::string& actor, bool is_new) {
  const Day d = today();
  const CareTier was = care_tier(before, age_on(before.birth_date, date_of(d)));
  const Plan& plan = book_.put_elder(after, d);
  if (!is_new && was != plan.tier)
    audit(actor, "tier_changed",
          json({{"elder_id", after.id}, {"from", anxin::name_of(was)}, {"to", anxin::name_of(plan.tier)},
                {"plan", plan_text(plan)}})
              .dump());
  changed_ = elders_changed_ = true;
  return was;
}

std::string Service::import_roster(const Ctx& c) {
  auto bytes = protocol::base64_decode(need_string(c.j, "csv_base64"));
  if (!bytes) fail(ErrorCode::bad_field, "'csv_base64' is not base64");
  auto encoding = parse_encoding(has(c.j, "encoding") ? need_string(c.j, "encoding") : "utf-8");
  if (!encoding) fail(ErrorCode::bad_field, "'encoding' must be utf-8 or gbk");
  std::vector<Worker> workers;
  for (const Worker* w : dispatcher_.workers()) workers.push_back(*w);
  RosterImport in = parse_roster(*bytes, *encoding, date_of(c.day), workers);

  // Rows naming an elder by 编号 must name one we have; a new row whose ID number we
  // know is that elder again, updated.
  std::unordered_map<std::string, ElderId> by_id_number;
  dispatcher_.each_elder([&](const Elder& e) { by_id_number[e.id_number] = e.id; });
  for (size_t i = 0; i < in.elders.size(); ++i) {
    Elder& e = in.elders[i];
    const int line = in.lines.at(i);
    if (e.id != 0 && !dispatcher_.elder(e.id))
      in.errors.push_back({line, "编号", "没有编号为 " + std::to_string(e.id) + " 的老人 (no such elder)"});
    // The file's 身份证号 is the elder's key in the database: one elder each.
    auto known = by_id_number.find(e.id_number);
    const bool id_refused = std::any_of(in.errors.begin(), in.errors.end(), [&](const RosterError& x) {
      return x.line == line && x.field == "身份证号";
    });
    if (e.id_number.empty() && !id_refused)
      in.errors.push_back({line, "身份证号", "身份证号不能为空 (the ID number is required)"});
    else if (e.id == 0 && known != by_id_number.end())
      e.id = known->second;
    else if (known != by_id_number.end() && known->second != e.id)
      in.errors.push_back({line, "身份证号", "身份证号已属于编号 " + std::to_string(known->second) +
                                                 " 的老人 (the ID number is another elder's)"});
  }
  if (!in.errors.empty()) {
    std::stable_sort(in.errors.begin(), in.errors.end(),
                     [](const RosterError& a, const RosterError& b) { return a.line < b.line; });
    std::string msg = std::to_string(in.errors.size()) + " problem(s); nothing was imported:";
    size_t shown = 0;
    for (const auto& e : in.errors) {
      if (++shown > 50) {
        msg += "\n…";
        break;
      }
      msg += "\nline " + std::to_string(e.line) + (e.field.empty() ? "" : " " + e.field) + ": " + e.message;
    }
    fail(ErrorCode::bad_field, msg);
  }

  std::vector<Elder> before;
  for (const auto& e : in.elders) before.push_back(e.id && dispatcher_.elder(e.id) ? *dispatcher_.elder(e.id) : e);
  std::vector<bool> is_new;
  for (const auto& e : in.elders) is_new.push_back(e.id == 0);
  const std::vector<ElderId> ids = dispatcher_.put_roster(in.elders, {});
  for (auto& d : in.devices)
    if (d.elder < 0) d.elder = ids.at(static_cast<size_t>(-d.elder - 1));
  dispatcher_.put_roster({}, in.devices);

  int added = 0, updated = 0;
  json tier_changes = json::array();
  for (size_t i = 0; i < ids.size(); ++i) {
    const Elder now = *dispatcher_.elder(ids[i]);
    writes_.push_back(write_elder(now));
    const CareTier was = replan(before[i], now, c.who.subject, is_new[i]);
    if (is_new[i]) {
      ++added;
    } else {
      ++updated;
      if (book_.plan(now.id)->tier != was)
        tier_changes.push_back({{"elder_id", now.id}, {"from", anxin::name_of(was)},
                                {"to", anxin::name_of(book_.plan(now.id)->tier)}});
    }
  }
  for (const auto& d : in.devices) writes_.push_back(write_device(d));
  audit(c.who.subject, "roster_import",
        json({{"added", added}, {"updated", updated}, {"devices", in.devices.size()}}).dump());
  return json({{"type", "roster_imported"}, {"added", added}, {"updated", updated}, {"devices", in.devices.size()},
               {"elder_ids", ids}, {"tier_changes", tier_changes}})
      .dump();
}

std::string Service::update_elder(const Ctx& c) {
  const ElderId id = need_int(c.j, "elder_id");
  const auto found = dispatcher_.elder(id);
  if (!found || found->unknown_caller) fail(ErrorCode::bad_field, "no elder " + std::to_string(id));
  const Elder before = *found;
  Elder e = before;
  json changes = json::object();
  if (has(c.j, "birth_date")) {
    e.birth_date = need_string(c.j, "birth_date");
    if (!parse_day(e.birth_date)) fail(ErrorCode::bad_field, "'birth_date' must be a date YYYY-MM-DD");
    changes["birth_date"] = e.birth_date;
  }
  if (c.j.contains("ability")) {  // null: not assessed
    e.ability = c.j["ability"].is_null() ? std::nullopt : std::optional(need_enum<Ability>(c.j, "ability"));
    changes["ability"] = c.j["ability"];
  }
  if (has(c.j, "disability_grade"))
    changes["disability_grade"] = e.disability_grade = need_int_in(c.j, "disability_grade", 0, 4);
  if (has(c.j, "living")) {
    e.living = need_enum<LivingSituation>(c.j, "living");
    changes["living"] = anxin::name_of(e.living);
  }
  if (has(c.j, "dementia")) changes["dementia"] = e.dementia = need_bool(c.j, "dementia");
  if (has(c.j, "bedridden")) changes["bedridden"] = e.bedridden = need_bool(c.j, "bedridden");
  if (has(c.j, "limited_mobility")) changes["limited_mobility"] = e.limited_mobility = need_bool(c.j, "limited_mobility");
  if (has(c.j, "visit_consent")) changes["visit_consent"] = e.visit_consent = need_bool(c.j, "visit_consent");
  if (has(c.j, "paired_worker")) {
    const WorkerId w = need_int(c.j, "paired_worker");
    if (w != 0 && !dispatcher_.worker(w)) fail(ErrorCode::unknown_worker, "no worker " + std::to_string(w));
    e.paired_worker = w ? std::optional(w) : std::nullopt;
    changes["paired_worker"] = w;
  }
  if (changes.empty()) fail(ErrorCode::missing_field, "nothing to change");
  dispatcher_.put_roster({e}, {});
  writes_.push_back(write_elder(e));
  audit(c.who.subject, "elder_updated", json({{"elder_id", id}, {"changes", changes}}).dump());
  const CareTier was = replan(before, e, c.who.subject, false);
  const Plan& p = *book_.plan(id);
  return json({{"type", "elder_updated"}, {"elder_id", id}, {"tier_before", anxin::name_of(was)},
               {"plan", plan_json(p)}})
      .dump();
}

std::string Service::set_plan(const Ctx& c) {
  const ElderId id = need_int(c.j, "elder_id");
  if (!book_.plan(id)) fail(ErrorCode::bad_field, "no elder " + std::to_string(id));
  std::optional<PlanOverride> own;
  if (!opt_bool(c.j, "clear", false)) {
    PlanOverride o;
    o.frequency.times = need_int_in(c.j, "times", 1, 31);
    o.frequency.per = need_per(c.j, "per");
    if (o.frequency.per == Per::week && o.frequency.times > 7) fail(ErrorCode::bad_field, "at most 7 a week");
    o.mode = need_enum<VisitMode>(c.j, "mode");
    own = o;
  }
  book_.set_override(id, own, today());
  writes_.push_back(write_own_plan(id, own, c.who.subject, c.now));
  const Plan& p = *book_.plan(id);
  audit(c.who.subject, "plan_set", json({{"elder_id", id}, {"plan", plan_json(p)}}).dump());
  changed_ = true;
  return json({{"type", "elder_updated"}, {"elder_id", id}, {"tier_before", anxin::name_of(p.tier)},
               {"plan", plan_json(p)}})
      .dump();
}

// --- campaigns ---------------------------------------------------------------------------

namespace {

json campaign_json(const Campaign& c, const Book& book, const Dispatcher& d, Day day) {
  int chosen = 0, reached = 0;
  d.each_elder([&](const Elder& e) {
    const Plan* p = book.plan(e.id);
    if (!p || e.unknown_caller || !c.chooses(e, p->tier)) return;
    ++chosen;
    if (book.reached_on(e.id, day)) ++reached;
  });
  json tiers = json::array(), living = json::array();
  for (auto t : c.tiers) tiers.push_back(anxin::name_of(t));
  for (auto l : c.living) living.push_back(anxin::name_of(l));
  return {{"campaign_id", c.id},      {"name", c.name},           {"reason", name_of(c.reason)},
          {"first_date", date_of(c.first)}, {"last_date", date_of(c.last)}, {"reach_by_hour", c.reach_by_hour},
          {"tiers", tiers},           {"towns", c.towns},         {"living", living},
          {"active", c.active_on(day)}, {"ended_ms", c.ended_ms}, {"date", date_of(day)},
          {"chosen", chosen},         {"reached", reached}};
}

}  // namespace

std::string Service::campaigns(const Ctx& c) {
  json list = json::array();
  for (const Campaign* x : book_.campaigns()) list.push_back(campaign_json(*x, book_, dispatcher_, c.day));
  return json({{"type", "campaigns"}, {"date", date_of(c.day)}, {"campaigns", list}}).dump();
}

std::string Service::start_campaign(const Ctx& c) {
  Campaign x;
  x.name = need_string(c.j, "name");
  if (x.name.empty() || x.name.size() > 200) fail(ErrorCode::bad_field, "'name' must be 1..200 bytes");
  const auto reason = parse_campaign_reason(need_string(c.j, "reason"));
  if (!reason) fail(ErrorCode::bad_field, "'reason' must be weather, festival or public_health");
  x.reason = *reason;
  x.first = has(c.j, "first_date") ? need_date(c.j, "first_date") : day_of(c.now);
  x.last = has(c.j, "last_date") ? need_date(c.j, "last_date") : x.first;
  if (x.last < x.first || x.last - x.first > 60) fail(ErrorCode::bad_field, "'last_date' must be 0..60 days after 'first_date'");
  x.reach_by_hour = opt_int_in(c.j, "reach_by_hour", 1, 23, 16);
  if (has(c.j, "tiers"))
    for (const auto& t : need_array(c.j, "tiers")) {
      auto v = t.is_string() ? parse_enum<CareTier>(t.get<std::string>()) : std::nullopt;
      if (!v) fail(ErrorCode::bad_field, "unknown tier " + t.dump());
      x.tiers.push_back(*v);
    }
  if (has(c.j, "towns"))
    for (const auto& t : need_array(c.j, "towns")) {
      if (!t.is_string()) fail(ErrorCode::bad_field, "'towns' must hold strings");
      x.towns.push_back(t.get<std::string>());
    }
  if (has(c.j, "living"))
    for (const auto& t : need_array(c.j, "living")) {
      auto v = t.is_string() ? parse_enum<LivingSituation>(t.get<std::string>()) : std::nullopt;
      if (!v) fail(ErrorCode::bad_field, "unknown living situation " + t.dump());
      x.living.push_back(*v);
    }
  x.started_by = c.who.subject;
  x.started_ms = c.now;
  x.id = book_.next_campaign_id();
  book_.put_campaign(x);
  writes_.push_back(write(x));
  audit(c.who.subject, "campaign_started", json({{"campaign_id", x.id}, {"name", x.name}}).dump());
  changed_ = true;
  return json({{"type", "campaign"}, {"campaign", campaign_json(x, book_, dispatcher_, day_of(c.now))}}).dump();
}

std::string Service::end_campaign(const Ctx& c) {
  const std::int64_t id = need_int(c.j, "campaign_id");
  const Campaign* found = book_.campaign(id);
  if (!found) fail(ErrorCode::bad_field, "no campaign " + std::to_string(id));
  if (found->ended_ms) fail(ErrorCode::bad_state, "campaign " + std::to_string(id) + " has ended");
  Campaign x = *found;
  x.ended_ms = c.now;
  book_.put_campaign(x);
  writes_.push_back(write(x));
  audit(c.who.subject, "campaign_ended", json({{"campaign_id", id}}).dump());
  changed_ = true;
  return json({{"type", "campaign"}, {"campaign", campaign_json(x, book_, dispatcher_, day_of(c.now))}}).dump();
}

}  // namespace anxin::visits
