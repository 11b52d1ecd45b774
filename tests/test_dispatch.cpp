// The dispatch core under a simulated clock: ranking, nearest visitor, offers,
// calls for help, escalations, metrics and the audit trail.
#include <catch2/catch.hpp>
#include <cmath>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/ranking.hpp"
#include "prng.hpp"
#include "support.hpp"

using namespace anxin;

namespace {

constexpr Millis kStart = 1795622400000LL + 10 * 3600 * 1000;  // 2026-11-26 10:00 Beijing
constexpr double kLat = 34.83, kLon = 115.54;                   // elder 1's home

// A point `north_m` and `east_m` from elder 1's home.
std::pair<double, double> offset(double north_m, double east_m) {
  const double dlat = north_m / 111'195.0;
  const double dlon = east_m / (111'195.0 * std::cos(kLat * 3.14159265358979 / 180));
  return {kLat + dlat, kLon + dlon};
}

Worker make_worker(WorkerId id, const char* name, WorkerRole role, TransportMode mode, double north_m,
                   double east_m, std::vector<std::string> skills = {}) {
  Worker w;
  w.id = id;
  w.name = name;
  w.role = role;
  w.mode = mode;
  w.status = WorkerStatus::available;
  w.on_duty = true;
  std::tie(w.lat, w.lon) = offset(north_m, east_m);
  w.position_ms = kStart;
  w.skills = std::move(skills);
  return w;
}

// Elder 1 (82, alone, key) at kLat/kLon with two contacts; elder 2 elsewhere.
// Workers, all on an e-bike unless said: 1 nurse 600 m N, 2 volunteer 300 m E,
// 3 grid worker by car 3 km S, 4 family doctor walking 5 km W (paired with elder 2).
struct Centre {
  ManualClock clock{kStart};
  Dispatcher d;
  Principal device{Role::device, "vendor:acme"};
  Principal op{Role::console, "operator:王芳"};
  std::int64_t seq = 0;

  explicit Centre(DispatchConfig config = {}) : d(clock, config) {
    auto r = test::small_registry();
    r.elders[0].lat = kLat;
    r.elders[0].lon = kLon;
    r.elders[0].paired_worker.reset();
    r.elders[1].paired_worker = 4;
    LiveState st;
    st.elders = ElderTable(r.elders);
    st.devices = DeviceTable(r.devices);
    st.devices.put({"D5", 1, DeviceKind::infrared, "acme", 100, 0});
    st.workers = {make_worker(1, "赵护士", WorkerRole::nurse, TransportMode::ebike, 600, 0, {"first_aid", "medical"}),
                  make_worker(2, "钱志愿", WorkerRole::volunteer, TransportMode::ebike, 0, 300),
                  make_worker(3, "孙网格", WorkerRole::grid_worker, TransportMode::car, -3000, 0, {"fire_safety"}),
                  make_worker(4, "李医生", WorkerRole::family_doctor, TransportMode::walk, 0, -5000,
                              {"first_aid", "medical"})};
    d.restore(std::move(st));
  }
  static Principal field(WorkerId id) { return {Role::field, "worker:" + std::to_string(id)}; }

  IncidentId alarm(const char* device_id, AlertKind kind) {
    return test::raise(d, device, device_id, ++seq, kind).incident;
  }
  const Incident& incident(IncidentId id) {
    const Incident* i = d.incident(id);
    REQUIRE(i);
    return *i;
  }
  const Assignment& last_assignment(IncidentId id) {
    REQUIRE_FALSE(incident(id).assignments.empty());
    return incident(id).assignments.back();
  }
  std::vector<AuditEntry> audit() {
    std::vector<AuditEntry> out;
    for (auto& w : d.take_effects().writes)
      if (auto* a = std::get_if<AppendAudit>(&w)) out.push_back(a->entry);
    return out;
  }
};

}  // namespace

// --- ranking ------------------------------------------------------------------------

TEST_CASE("rank points follow the weights table", "[dispatch][ranking]") {
  RankWeights w;
  Elder e;
  e.living = LivingSituation::with_family;
  e.ability = Ability::intact;
  struct Row {
    const char* why;
    std::vector<AlertKind> kinds;
    int age;
    LivingSituation living;
    bool dementia;
    CallbackOutcome callback;
    int expected;
  };
  auto row = GENERATE(values<Row>({
      {"smoke, young, with family", {AlertKind::smoke}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 100},
      {"gas", {AlertKind::gas}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 100},
      {"sos", {AlertKind::sos}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 80},
      {"fall", {AlertKind::fall}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 80},
      {"inactivity", {AlertKind::inactivity}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 70},
      {"vital signs", {AlertKind::vital_abnormal}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 70},
      // dementia makes the elder key-tier (+25) as well as raising the geofence alarm
      {"geofence, dementia", {AlertKind::geofence_exit}, 65, LivingSituation::with_family, true, CallbackOutcome::none, 80 + 25},
      {"geofence, no dementia", {AlertKind::geofence_exit}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 45},
      {"water leak", {AlertKind::water_leak}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 40},
      {"door open", {AlertKind::door_open_long}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 35},
      {"no water use", {AlertKind::no_water_use}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 45},
      {"low battery", {AlertKind::low_battery}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 10},
      {"offline", {AlertKind::offline}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 20},
      {"alone", {AlertKind::sos}, 65, LivingSituation::alone, false, CallbackOutcome::none, 80 + 20},
      {"elderly only", {AlertKind::sos}, 65, LivingSituation::elderly_only, false, CallbackOutcome::none, 80 + 15},
      {"empty nest", {AlertKind::sos}, 65, LivingSituation::empty_nest, false, CallbackOutcome::none, 80 + 10},
      {"80, so key tier too", {AlertKind::sos}, 80, LivingSituation::with_family, false, CallbackOutcome::none, 80 + 25 + 10},
      {"93", {AlertKind::sos}, 93, LivingSituation::with_family, false, CallbackOutcome::none, 80 + 25 + 20},
      {"no answer on call-back", {AlertKind::sos}, 65, LivingSituation::with_family, false, CallbackOutcome::no_answer, 80 + 40},
      {"needs help", {AlertKind::sos}, 65, LivingSituation::with_family, false, CallbackOutcome::needs_help, 80 + 30},
      {"fine on call-back", {AlertKind::sos}, 65, LivingSituation::with_family, false, CallbackOutcome::fine, 80},
      {"fall then inactivity", {AlertKind::fall, AlertKind::inactivity}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 80 + 15},
      {"four kinds, capped", {AlertKind::door_open_long, AlertKind::fall, AlertKind::inactivity, AlertKind::sos, AlertKind::low_battery},
       65, LivingSituation::with_family, false, CallbackOutcome::none, 80 + 45},
      {"the same kind twice", {AlertKind::sos, AlertKind::sos}, 65, LivingSituation::with_family, false, CallbackOutcome::none, 80},
  }));
  INFO(row.why);
  Incident i;
  for (auto k : row.kinds) i.timeline.push_back({0, TimelineKind::alert, "D", 1, k, "{}"});
  i.callback = row.callback;
  e.living = row.living;
  e.dementia = row.dementia;
  RankBase r = rank_base(i, e, row.age, w);
  CHECK(r.points == row.expected);
  int sum = 0;
  for (const auto& reason : r.reasons) sum += reason.points;
  CHECK(sum == r.points);  // the reasons explain every point
}

TEST_CASE("a waiting incident rises and none starves", "[dispatch][ranking]") {
  Incident battery;  // 10 points, waiting since kStart
  battery.id = 1;
  battery.opened_ms = kStart;
  battery.rank_base = 10;
  CHECK(waiting_points(battery, kStart + 60'000) == 4);
  // A fresh SOS (80 points) outranks it after 10 minutes of waiting (10 + 40)...
  Incident sos;
  sos.id = 2;
  sos.rank_base = 80;
  sos.opened_ms = kStart + 10 * 60'000;
  CHECK(ranks_before(sos, battery, sos.opened_ms));
  // ...but not after 20 (10 + 80 > 80): however many fresh alarms arrive, the old
  // incident comes up in the end.
  sos.opened_ms = kStart + 20 * 60'000;
  CHECK(ranks_before(battery, sos, sos.opened_ms));
  // Acknowledging stops the clock.
  battery.acknowledged_ms = kStart + 5 * 60'000;
  CHECK(waiting_points(battery, kStart + 60 * 60'000) == 20);
}

TEST_CASE("equal ranks break ties on opening time, then id", "[dispatch][ranking]") {
  Incident a, b;
  a.id = 7, b.id = 3;
  a.rank_base = b.rank_base = 80;
  a.opened_ms = b.opened_ms = kStart;
  CHECK(ranks_before(b, a, kStart));
  CHECK_FALSE(ranks_before(a, b, kStart));
  a.opened_ms = kStart - 1;  // older first, before id
  CHECK(ranks_before(a, b, kStart));
}

TEST_CASE("the dispatcher ranks and explains every open incident", "[dispatch][ranking]") {
  Centre c;
  auto battery = c.alarm("D3", AlertKind::low_battery);  // elder 2: 70, empty nest
  auto fall = c.alarm("D1", AlertKind::sos);             // elder 1: 82, alone
  const Incident& f = c.incident(fall);
  CHECK(test::rank_points(f, "kind:sos") == 80);
  CHECK(test::rank_points(f, "tier:key") == 25);
  CHECK(test::rank_points(f, "living:alone") == 20);
  CHECK(test::rank_points(f, "age:80") == 10);
  auto ranked = c.d.ranked_incidents();
  REQUIRE(ranked.size() == 2);
  CHECK(ranked[0]->id == fall);
  CHECK(ranked[1]->id == battery);
  // Once the SOS is acknowledged its waiting stops; the low battery keeps rising.
  REQUIRE(c.d.acknowledge(c.op, fall).ok());
  c.clock.advance(60 * 60'000);
  CHECK(c.d.ranked_incidents()[0]->id == battery);
}

// --- nearest visitor and offers --------------------------------------------------------

TEST_CASE("the nearest available worker gets the offer", "[dispatch][offers]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  auto cands = c.d.candidates(id);
  REQUIRE(cands.ok());
  REQUIRE(cands->size() == 4);
  CHECK(cands.value()[0].id == 2);  // 300 m by e-bike
  CHECK(cands.value()[1].id == 1);  // 600 m by e-bike
  CHECK(cands.value()[0].travel_s == Approx(300 * 1.35 / 4.2).epsilon(0.01));
  REQUIRE(c.d.dispatch(c.op, id, std::nullopt).ok());
  const Assignment& a = c.last_assignment(id);
  CHECK(a.worker == 2);
  CHECK(a.state == AssignmentState::offered);
  CHECK(a.expires_ms == kStart + 60'000);
  CHECK(c.d.worker(2)->status == WorkerStatus::offered);
  CHECK(c.incident(id).state == IncidentState::acknowledged);  // dispatching answers it
  auto fx = c.d.take_effects();
  REQUIRE(fx.field.size() == 1);
  CHECK(fx.field[0].worker == 2);
  CHECK(fx.field[0].event == FieldEvent::offer);
}

TEST_CASE("medical alarms prefer a nurse or doctor", "[dispatch][offers]") {
  Centre c;
  auto id = c.alarm("D5", AlertKind::fall);
  auto cands = c.d.candidates(id);
  REQUIRE(cands.ok());
  // The volunteer is closer (300 m) but carries the 300 s other-role penalty.
  CHECK(cands.value()[0].id == 1);
  CHECK(cands.value()[0].preferred_role);
  const auto volunteer = std::find_if(cands->begin(), cands->end(), [](auto& x) { return x.id == 2; });
  REQUIRE(volunteer != cands->end());
  CHECK_FALSE(volunteer->preferred_role);
  CHECK(volunteer->penalty_s == Approx(300));
}

TEST_CASE("required skills are respected", "[dispatch][offers]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  auto medical = c.d.candidates(id, static_cast<SkillSet>(Skill::medical));
  REQUIRE(medical.ok());
  REQUIRE(medical->size() == 2);
  CHECK(medical.value()[0].id == 1);
  CHECK(medical.value()[1].id == 4);
  auto fire = c.d.candidates(id, static_cast<SkillSet>(Skill::fire_safety));
  REQUIRE(fire->size() == 1);
  CHECK(fire.value()[0].id == 3);
  auto nobody = c.d.candidates(id, static_cast<SkillSet>(Skill::repair));
  CHECK(nobody->empty());
}

TEST_CASE("the paired visitor is preferred within the margin", "[dispatch][offers]") {
  // Elder 2 is paired with the walking doctor (worker 4).
  DispatchConfig near_cfg;
  Centre c(near_cfg);
  auto id = c.alarm("D3", AlertKind::sos);
  const auto e = c.d.elder(2);
  REQUIRE(e);
  auto cands = c.d.candidates(id);
  REQUIRE(cands.ok());
  // Elder 2 is ~17 km from the others; the doctor walking 5 km W of elder 1 is far
  // outside the margin, so the order is by score only, the doctor flagged as paired.
  const auto doctor = std::find_if(cands->begin(), cands->end(), [](auto& x) { return x.id == 4; });
  REQUIRE(doctor != cands->end());
  CHECK(doctor->paired);
  CHECK(cands.value()[0].id != 4);

  // Within the margin the paired visitor goes first even when not the closest.
  DispatchConfig wide;
  wide.travel.paired_margin_s = 1e6;
  Centre w(wide);
  auto id2 = w.alarm("D3", AlertKind::sos);
  auto first = w.d.candidates(id2);
  REQUIRE(first.ok());
  CHECK(first.value()[0].id == 4);
  CHECK(first.value()[0].paired);
  REQUIRE(w.d.dispatch(w.op, id2, std::nullopt).ok());
  CHECK(w.last_assignment(id2).worker == 4);
}

TEST_CASE("a decline moves the offer to the next candidate", "[dispatch][offers]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  REQUIRE(c.d.dispatch(c.op, id, std::nullopt).ok());
  const auto first = c.last_assignment(id);
  REQUIRE(first.worker == 2);
  REQUIRE(c.d.decline(Centre::field(2), first.id, "在另一户").ok());
  const Incident& i = c.incident(id);
  REQUIRE(i.assignments.size() == 2);
  CHECK(i.assignments[0].state == AssignmentState::declined);
  CHECK(i.assignments[0].note == "在另一户");
  CHECK(i.assignments[1].worker == 1);
  CHECK(i.assignments[1].state == AssignmentState::offered);
  CHECK(c.d.worker(2)->status == WorkerStatus::available);
  CHECK(c.d.worker(1)->status == WorkerStatus::offered);
  // A worker cannot answer someone else's offer.
  auto other = c.d.accept(Centre::field(3), i.assignments[1].id);
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == ErrorCode::unknown_assignment);
}

TEST_CASE("an unanswered offer lapses at the timeout and moves on", "[dispatch][offers]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  REQUIRE(c.d.dispatch(c.op, id, std::nullopt).ok());
  c.clock.advance(59'999);
  c.d.tick();
  CHECK(c.incident(id).assignments.size() == 1);
  c.clock.advance(1);
  c.d.tick();
  const Incident& i = c.incident(id);
  REQUIRE(i.assignments.size() == 2);
  CHECK(i.assignments[0].state == AssignmentState::expired);
  CHECK(i.assignments[1].worker == 1);
  auto fx = c.d.take_effects();
  bool told = false;
  for (const auto& f : fx.field) told |= f.worker == 2 && f.event == FieldEvent::offer_expired;
  CHECK(told);
  // Accepting after the lapse is refused.
  CHECK(c.d.accept(Centre::field(2), i.assignments[0].id).error().code == ErrorCode::bad_state);
}

TEST_CASE("no candidate is a clear state, not a hang", "[dispatch][offers]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  for (WorkerId w : {1, 2, 3, 4}) REQUIRE(c.d.set_duty(Centre::field(w), false).ok());
  auto r = c.d.dispatch(c.op, id, std::nullopt);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::no_candidate);
  CHECK(c.incident(id).assignments.empty());

  // When every candidate declines in turn, the incident says no responder is left.
  Centre d;
  auto id2 = d.alarm("D1", AlertKind::sos);
  REQUIRE(d.d.dispatch(d.op, id2, std::nullopt).ok());
  for (int k = 0; k < 4; ++k) {
    const Assignment a = d.last_assignment(id2);
    REQUIRE(a.state == AssignmentState::offered);
    REQUIRE(d.d.decline(Centre::field(a.worker), a.id, "").ok());
  }
  const Incident& i = d.incident(id2);
  CHECK(i.assignments.size() == 4);
  CHECK(i.has_escalation(EscalationKind::no_responder));
}

TEST_CASE("the operator can pick any free worker, and ask for two", "[dispatch][offers]") {
  Centre c;
  auto id = c.alarm("D2", AlertKind::smoke);
  REQUIRE(c.d.dispatch(c.op, id, WorkerId{3}).ok());
  CHECK(c.last_assignment(id).worker == 3);
  CHECK(c.last_assignment(id).chosen_by_operator);
  // A worker already offered cannot be picked again.
  CHECK(c.d.dispatch(c.op, id, WorkerId{3}).error().code == ErrorCode::bad_state);
  // Two responders: one more goes out, the best remaining.
  REQUIRE(c.d.dispatch(c.op, id, std::nullopt, 2).ok());
  const Incident& i = c.incident(id);
  REQUIRE(i.assignments.size() == 2);
  CHECK(i.assignments[1].worker == 2);
  CHECK(i.responders_wanted == 2);
}

TEST_CASE("a responder goes en route, on scene, and completes", "[dispatch][offers]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  c.clock.advance(20'000);
  REQUIRE(c.d.acknowledge(c.op, id).ok());
  c.clock.advance(10'000);
  REQUIRE(c.d.dispatch(c.op, id, std::nullopt).ok());
  const auto a = c.last_assignment(id);
  c.clock.advance(15'000);
  REQUIRE(c.d.accept(Centre::field(2), a.id).ok());
  CHECK(c.d.worker(2)->status == WorkerStatus::en_route);
  // On scene before accepting? Completing before arriving? Refused.
  CHECK(c.d.complete(Centre::field(2), a.id, "ok").error().code == ErrorCode::bad_state);
  c.clock.advance(120'000);
  REQUIRE(c.d.arrive(Centre::field(2), a.id).ok());
  CHECK(c.d.worker(2)->status == WorkerStatus::on_scene);
  c.clock.advance(600'000);
  REQUIRE(c.d.complete(Centre::field(2), a.id, "老人摔倒后已扶起，无明显外伤").ok());
  CHECK(c.d.worker(2)->status == WorkerStatus::available);
  c.clock.advance(60'000);
  REQUIRE(c.d.resolve(c.op, id, Disposition::visitor_assisted).ok());

  const MetricsSummary m = c.d.metrics();
  auto at = [&](Interval k) { return m.intervals[static_cast<size_t>(k)]; };
  CHECK(at(Interval::to_acknowledge).p50_ms == 20'000);
  CHECK(at(Interval::to_dispatch).p50_ms == 10'000);
  CHECK(at(Interval::to_accept).p50_ms == 15'000);
  CHECK(at(Interval::to_arrive).p50_ms == 120'000);
  CHECK(at(Interval::on_scene).p50_ms == 660'000);
  CHECK(m.acknowledged_within_60s == 1);
}

// --- calls for help ---------------------------------------------------------------------

TEST_CASE("an automatic alarm notifies every emergency contact at once", "[dispatch][calls]") {
  Centre c;
  c.alarm("D2", AlertKind::smoke);
  auto fx = c.d.take_effects();
  REQUIRE(fx.notices.size() == 2);  // elder 1 has two contacts
  CHECK(fx.notices[0].kind == NoticeKind::contact_sms);
  CHECK(fx.notices[0].to_phone == "13900000001");
  CHECK(fx.notices[1].to_phone == "13900000002");
  CHECK(fx.notices[0].text.find("烟雾报警") != std::string::npos);
  // An SOS press is a person on the line: no automatic notice.
  Centre s;
  s.alarm("D1", AlertKind::sos);
  CHECK(s.d.take_effects().notices.empty());
}

TEST_CASE("no answer on call-back proposes a responder and starts the family cascade", "[dispatch][calls]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  const int before = c.incident(id).rank_base;
  REQUIRE(c.d.record_callback(c.op, id, CallbackOutcome::no_answer).ok());
  const Incident& i = c.incident(id);
  CHECK(i.rank_base == before + 40);
  CHECK(i.proposed_worker == 2);
  REQUIRE(i.calls.size() == 1);
  CHECK(i.calls[0].kind == CallKind::family);
  CHECK(i.calls[0].contact_index == 0);
  CHECK(i.calls[0].phone == "13900000001");
  auto fx = c.d.take_effects();
  REQUIRE(fx.notices.size() == 1);
  CHECK(fx.notices[0].kind == NoticeKind::family_call);
}

TEST_CASE("the family cascade moves on at the no-answer timeout", "[dispatch][calls]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  REQUIRE(c.d.start_family_cascade(c.op, id).ok());
  c.clock.advance(59'999);
  c.d.tick();
  CHECK(c.incident(id).calls.size() == 1);
  c.clock.advance(1);
  c.d.tick();
  const Incident& i = c.incident(id);
  REQUIRE(i.calls.size() == 2);
  CHECK(i.calls[0].state == CallState::no_answer);
  CHECK(i.calls[1].contact_index == 1);
  // The operator reaches the second contact: the cascade ends there.
  REQUIRE(c.d.record_call(c.op, i.calls[1].id, CallState::answered).ok());
  c.clock.advance(10 * 60'000);
  c.d.tick();
  CHECK(c.incident(id).calls.size() == 2);
  CHECK(c.incident(id).calls[1].state == CallState::answered);
}

TEST_CASE("a cascade that runs out says so", "[dispatch][calls]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  REQUIRE(c.d.start_family_cascade(c.op, id).ok());
  REQUIRE(c.d.record_call(c.op, c.incident(id).calls[0].id, CallState::no_answer).ok());
  REQUIRE(c.d.record_call(c.op, c.incident(id).calls[1].id, CallState::failed).ok());
  const auto& t = c.incident(id).timeline;
  CHECK(t.back().text == "family:exhausted");
  // Elder 2 has no contacts at all.
  auto id2 = c.alarm("D3", AlertKind::sos);
  CHECK(c.d.start_family_cascade(c.op, id2).error().code == ErrorCode::bad_state);
}

TEST_CASE("120 and 119 become call tasks with a notice", "[dispatch][calls]") {
  Centre c;
  auto id = c.alarm("D2", AlertKind::smoke);
  c.d.take_effects();
  auto t = c.d.call_emergency(c.op, id, CallKind::fire_119);
  REQUIRE(t.ok());
  CHECK(c.d.call_emergency(c.op, id, CallKind::fire_119).error().code == ErrorCode::bad_state);
  REQUIRE(c.d.call_emergency(c.op, id, CallKind::ambulance_120).ok());
  auto fx = c.d.take_effects();
  REQUIRE(fx.notices.size() == 2);
  CHECK(fx.notices[0].kind == NoticeKind::fire_119);
  CHECK(fx.notices[0].to_phone == "119");
  CHECK(fx.notices[0].text.find("东关社区") != std::string::npos);  // the address goes to the dispatcher
  CHECK(fx.notices[1].kind == NoticeKind::ambulance_120);
}

TEST_CASE("each notice has an id that stays the same for its receiver to drop duplicates", "[dispatch][calls]") {
  Centre c;
  auto id = c.alarm("D2", AlertKind::smoke);
  REQUIRE(c.d.call_emergency(c.op, id, CallKind::ambulance_120).ok());
  auto fx = c.d.take_effects();
  REQUIRE(fx.notices.size() == 3);
  CHECK(fx.notices[0].id == "sms-" + std::to_string(id) + "-0");
  CHECK(fx.notices[1].id == "sms-" + std::to_string(id) + "-1");
  CHECK(fx.notices[2].id == "call-" + std::to_string(fx.notices[2].task_id));
}

TEST_CASE("a notice that finally fails goes on its incident's timeline and fails its call task", "[dispatch][calls]") {
  Centre c;
  auto id = c.alarm("D2", AlertKind::smoke);
  auto sms = c.d.take_effects().notices;
  REQUIRE(sms.size() == 2);

  // An SMS: only the timeline entry, masked as in the log, in a delta like any change.
  c.clock.advance(5000);
  CHECK(c.d.notice_failed(sms[0], "HTTP 500", 3));
  auto fx = c.d.take_effects();
  REQUIRE(fx.deltas.size() == 1);
  CHECK(fx.deltas[0].kind == DeltaKind::incident_updated);
  REQUIRE(fx.deltas[0].append.size() == 1);
  const TimelineEntry& e = fx.deltas[0].append[0];
  CHECK(e.kind == TimelineKind::notice_failed);
  CHECK(e.actor == "system");
  CHECK(e.at_ms == kStart + 5000);
  const auto j = nlohmann::json::parse(e.text);
  CHECK(j["notice"] == "contact_sms");
  CHECK(j["to"] == "139****0001");
  CHECK(j["reason"] == "HTTP 500");
  CHECK(j["attempts"] == 3);
  CHECK(j["notice_id"] == sms[0].id);
  bool stored = false, audited = false;
  for (const auto& w : fx.writes) {
    if (auto* t = std::get_if<AddTimeline>(&w)) stored |= t->incident == id && t->entry.kind == TimelineKind::notice_failed;
    if (auto* a = std::get_if<AppendAudit>(&w)) audited |= a->entry.action == "notice_failed";
  }
  CHECK(stored);
  CHECK(audited);

  // 120: nobody was asked to call, so the task fails and the operator may call again.
  auto task = c.d.call_emergency(c.op, id, CallKind::ambulance_120);
  REQUIRE(task.ok());
  auto call = c.d.take_effects().notices.at(0);
  CHECK(c.d.notice_failed(call, "Couldn't connect to server", 3));
  const Incident& i = c.incident(id);
  CHECK(i.calls.back().state == CallState::failed);
  CHECK(i.timeline[i.timeline.size() - 2].kind == TimelineKind::notice_failed);
  CHECK(nlohmann::json::parse(i.timeline[i.timeline.size() - 2].text)["to"] == "120");  // a service number, as is
  CHECK(i.timeline.back().text == "ambulance_120:failed");
  CHECK(c.d.call_emergency(c.op, id, CallKind::ambulance_120).ok());
}

TEST_CASE("a family call request that fails moves the cascade on", "[dispatch][calls]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  REQUIRE(c.d.start_family_cascade(c.op, id).ok());
  auto first = c.d.take_effects().notices.at(0);
  CHECK(c.d.notice_failed(first, "queue full", 0));
  auto fx = c.d.take_effects();
  const Incident& i = c.incident(id);
  REQUIRE(i.calls.size() == 2);
  CHECK(i.calls[0].state == CallState::failed);
  CHECK(i.calls[1].contact_index == 1);
  REQUIRE(fx.notices.size() == 1);  // the next contact's request goes out
  CHECK(fx.notices[0].to_phone == "13900000002");
  // A late failure of a call already settled only adds the entry.
  REQUIRE(c.d.record_call(c.op, i.calls[1].id, CallState::answered).ok());
  c.d.take_effects();
  CHECK(c.d.notice_failed(fx.notices[0], "HTTP 503", 3));
  CHECK(c.incident(id).calls[1].state == CallState::answered);
  CHECK(c.incident(id).timeline.back().kind == TimelineKind::notice_failed);
}

TEST_CASE("a notice that fails after its incident was resolved is only audited", "[dispatch][calls]") {
  Centre c;
  auto id = c.alarm("D2", AlertKind::smoke);
  auto sms = c.d.take_effects().notices;
  REQUIRE(c.d.resolve(c.op, id, Disposition::false_alarm).ok());
  c.d.take_effects();
  CHECK_FALSE(c.d.notice_failed(sms[0], "HTTP 500", 3));
  auto fx = c.d.take_effects();
  CHECK(fx.deltas.empty());
  REQUIRE(fx.writes.size() == 2);  // the audit entry, and the outbox's row settled
  auto* a = std::get_if<AppendAudit>(&fx.writes[0]);
  REQUIRE(a);
  CHECK(a->entry.action == "notice_failed");
  CHECK(a->entry.incident == id);
  auto* settled = std::get_if<SettleNotice>(&fx.writes[1]);
  REQUIRE(settled);
  CHECK(settled->id == sms[0].id);
  CHECK(settled->state == NoticeState::failed);
}

// --- escalations ------------------------------------------------------------------------

TEST_CASE("unacknowledged incidents escalate at 60 s and 180 s", "[dispatch][escalation]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  c.clock.advance(59'999);
  c.d.tick();
  CHECK(c.incident(id).escalations.empty());
  c.clock.advance(1);
  c.d.tick();
  REQUIRE(c.incident(id).escalations.size() == 1);
  CHECK(c.incident(id).escalations[0].kind == EscalationKind::unacknowledged);
  c.clock.advance(119'999);
  c.d.tick();
  CHECK(c.incident(id).escalations.size() == 1);
  c.clock.advance(1);
  c.d.tick();
  REQUIRE(c.incident(id).escalations.size() == 2);
  CHECK(c.incident(id).escalations[1].kind == EscalationKind::unacknowledged_long);
  c.d.tick();
  CHECK(c.incident(id).escalations.size() == 2);  // raised once
  REQUIRE(c.d.acknowledge(c.op, id).ok());
  for (const auto& e : c.incident(id).escalations) CHECK(e.cleared);
}

TEST_CASE("thresholds are configurable", "[dispatch][escalation]") {
  DispatchConfig cfg;
  cfg.ack_escalation_ms = 30'000;
  Centre c(cfg);
  auto id = c.alarm("D1", AlertKind::sos);
  c.clock.advance(30'000);
  c.d.tick();
  CHECK(c.incident(id).has_escalation(EscalationKind::unacknowledged));
}

TEST_CASE("a visitor not on scene by ETA plus margin is flagged", "[dispatch][escalation]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  REQUIRE(c.d.dispatch(c.op, id, std::nullopt).ok());
  const auto a = c.last_assignment(id);
  REQUIRE(c.d.accept(Centre::field(2), a.id).ok());
  const Millis due = static_cast<Millis>(a.eta_s * 1000) + 5 * 60'000;
  c.clock.advance(due - 1);
  c.d.tick();
  CHECK_FALSE(c.incident(id).has_escalation(EscalationKind::visitor_late));
  c.clock.advance(1);
  c.d.tick();
  REQUIRE(c.incident(id).has_escalation(EscalationKind::visitor_late));
  CHECK(c.incident(id).escalations.back().worker == 2);
  REQUIRE(c.d.arrive(Centre::field(2), a.id).ok());
  CHECK(c.incident(id).escalations.back().cleared);
}

// --- audit and resolution -----------------------------------------------------------------

TEST_CASE("every action is audited with its actor and time", "[dispatch][audit]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  c.clock.advance(5000);
  REQUIRE(c.d.acknowledge(c.op, id).ok());
  REQUIRE(c.d.dispatch(c.op, id, std::nullopt).ok());
  const auto a = c.last_assignment(id);
  REQUIRE(c.d.accept(Centre::field(2), a.id).ok());
  REQUIRE(c.d.resolve(c.op, id, Disposition::visitor_assisted, "已到场").ok());
  auto log = c.audit();
  std::vector<std::string> actions;
  for (const auto& e : log) actions.push_back(e.action);
  CHECK(actions == std::vector<std::string>{"alarm", "acknowledge", "offer", "accept", "resolve"});
  CHECK(log[0].actor == "vendor:acme");
  CHECK(log[1].actor == "operator:王芳");
  CHECK(log[1].at_ms == kStart + 5000);
  CHECK(log[3].actor == "worker:2");
  // The responder was stood down when the incident closed.
  CHECK(c.d.worker(2)->status == WorkerStatus::available);
}

TEST_CASE("refused dispatch commands change nothing", "[dispatch]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  c.d.take_effects();
  const auto seq = c.d.seq();
  CHECK(c.d.dispatch(c.op, id, std::nullopt, 3).error().code == ErrorCode::bad_field);
  CHECK(c.d.dispatch(c.op, id, WorkerId{99}).error().code == ErrorCode::unknown_worker);
  CHECK(c.d.dispatch(c.device, id, std::nullopt).error().code == ErrorCode::forbidden);
  CHECK(c.d.accept(c.op, 1).error().code == ErrorCode::forbidden);
  CHECK(c.d.accept(Centre::field(2), 42).error().code == ErrorCode::unknown_assignment);
  CHECK(c.d.record_call(c.op, 42, CallState::answered).error().code == ErrorCode::unknown_call);
  CHECK(c.d.record_callback(c.op, id, CallbackOutcome::none).error().code == ErrorCode::bad_field);
  CHECK(c.d.update_position(Centre::field(1), 91, 0, 5, kStart, std::nullopt).error().code == ErrorCode::bad_field);
  CHECK(c.d.update_position(Centre::field(1), 34, 115, 5, kStart + 3600'000, std::nullopt).error().code ==
        ErrorCode::bad_field);
  auto fx = c.d.take_effects();
  CHECK(fx.writes.empty());
  CHECK(fx.deltas.empty());
  CHECK(c.d.seq() == seq);
}

TEST_CASE("the operator can call a chosen contact first", "[dispatch][calls]") {
  Centre c;
  auto id = c.alarm("D1", AlertKind::sos);
  REQUIRE(c.d.start_family_cascade(c.op, id, 1).ok());
  REQUIRE(c.incident(id).calls.size() == 1);
  CHECK(c.incident(id).calls[0].contact_index == 1);
  CHECK(c.incident(id).calls[0].phone == "13900000002");
  CHECK(c.d.start_family_cascade(c.op, id, 1).error().code == ErrorCode::bad_state);  // already ringing
  CHECK(c.d.start_family_cascade(c.op, id, 5).error().code == ErrorCode::bad_field);
  // Choosing another contact stops the pending call for it.
  REQUIRE(c.d.start_family_cascade(c.op, id, 0).ok());
  const Incident& i = c.incident(id);
  REQUIRE(i.calls.size() == 2);
  CHECK(i.calls[0].state == CallState::cancelled);
  CHECK(i.calls[1].contact_index == 0);
  CHECK(i.calls[1].open());
}

TEST_CASE("a shift is dated from going on duty", "[dispatch]") {
  Centre c;
  REQUIRE(c.d.set_duty(Centre::field(1), false).ok());
  CHECK(c.d.worker(1)->duty_since_ms == 0);
  c.clock.advance(60'000);
  REQUIRE(c.d.set_duty(Centre::field(1), true).ok());
  CHECK(c.d.worker(1)->duty_since_ms == kStart + 60'000);
  c.clock.advance(60'000);
  REQUIRE(c.d.dispatch(c.op, c.alarm("D1", AlertKind::sos), WorkerId{1}).ok());
  CHECK(c.d.worker(1)->duty_since_ms == kStart + 60'000);  // an offer does not start a new shift
}

TEST_CASE("incidents count in their hour as soon as they open", "[dispatch][metrics]") {
  Centre c;  // 10:00 Beijing
  c.alarm("D1", AlertKind::sos);
  c.alarm("D3", AlertKind::sos);
  const MetricsSummary m = c.d.metrics();
  CHECK(m.opened_per_hour[10] == 2);
  CHECK(m.intervals[0].count == 0);  // nothing acknowledged yet
}

// The tick takes only incidents whose next timer is due (Dispatcher::timers_). Whatever
// changes an incident, and in whatever order, no timer may be left behind: after each
// tick, nothing of any open incident is due any more.
TEST_CASE("after every tick no open incident has a timer still due", "[dispatch][escalation]") {
  DispatchConfig cfg;
  cfg.offer_timeout_ms = 20'000;
  cfg.family_call_timeout_ms = 15'000;
  cfg.ack_escalation_ms = 30'000;
  cfg.ack_escalation_long_ms = 90'000;
  cfg.late_margin_ms = 10'000;
  cfg.realert_escalation_ms = 20'000;
  ManualClock clock{kStart};
  Dispatcher d(clock, cfg);
  constexpr int kElders = 12;
  std::vector<Elder> elders;
  std::vector<Device> devices;
  for (int e = 1; e <= kElders; ++e) {
    Elder el;
    el.id = e;
    el.name = "老人" + std::to_string(e);
    std::tie(el.lat, el.lon) = offset(100.0 * e, -50.0 * e);
    el.living = LivingSituation::alone;
    for (int k = 0; k < e % 4; ++k)  // 0 to 3 contacts
      el.contacts.push_back({"联系人" + std::to_string(k), "子女", "1390000" + std::to_string(1000 + 10 * e + k)});
    elders.push_back(el);
    devices.push_back({"S" + std::to_string(e), e, DeviceKind::sos_button, "acme", 90, 0});
    devices.push_back({"F" + std::to_string(e), e, DeviceKind::smoke, "acme", 90, 0});
  }
  LiveState st;
  st.elders = ElderTable(elders);
  st.devices = DeviceTable(devices);
  for (WorkerId w = 1; w <= 5; ++w)
    st.workers.push_back(make_worker(w, "队员", WorkerRole::volunteer, TransportMode::ebike, 200.0 * w, 0));
  d.restore(std::move(st));

  const Principal device{Role::device, "vendor:acme"};
  const Principal op{Role::console, "operator:王芳"};
  test::Prng rng{15};
  std::int64_t seq = 0;
  int ticks = 0, escalated = 0, lapsed = 0, unanswered = 0;
  auto any_open = [&]() -> const Incident* {
    const auto open = d.open_incidents();
    return open.empty() ? nullptr : open[rng.below(open.size())];
  };
  for (int step = 0; step < 4'000; ++step) {
    const Incident* i = any_open();
    switch (rng.below(10)) {
      case 0:
      case 1: {
        const int e = 1 + static_cast<int>(rng.below(kElders));
        const bool sos = rng.chance(0.5);
        test::raise(d, device, (sos ? "S" : "F") + std::to_string(e), ++seq, sos ? AlertKind::sos : AlertKind::smoke);
        break;
      }
      case 2:
        if (i) (void)d.acknowledge(op, i->id);  // again: marks a new alert seen
        break;
      case 3:
        if (i) (void)d.dispatch(op, i->id, std::nullopt, 1 + static_cast<int>(rng.below(2)));
        break;
      case 4:
        if (i && !i->assignments.empty()) {
          const Assignment& a = i->assignments[rng.below(i->assignments.size())];
          const Principal field{Role::field, "worker:" + std::to_string(a.worker)};
          const std::int64_t id = a.id;
          switch (rng.below(3)) {
            case 0: (void)d.accept(field, id); break;
            case 1: (void)d.decline(field, id, "busy"); break;
            default: (void)d.arrive(field, id); break;
          }
        }
        break;
      case 5:
        if (i) (void)d.record_callback(op, i->id, rng.chance(0.7) ? CallbackOutcome::no_answer : CallbackOutcome::fine);
        break;
      case 6:
        if (i) (void)d.start_family_cascade(op, i->id, static_cast<int>(rng.below(2)));
        break;
      case 7:
        if (i && !i->calls.empty()) (void)d.record_call(op, i->calls[rng.below(i->calls.size())].id, CallState::answered);
        break;
      case 8:
        if (i && rng.chance(0.3)) (void)d.resolve(op, i->id, Disposition::false_alarm);
        break;
      default: {
        clock.advance(static_cast<Millis>(rng.below(12'000)));
        d.tick();
        ++ticks;
        for (const Incident* open : d.open_incidents()) {
          const auto next = d.next_timer(open->id);
          INFO("incident " << open->id << " at step " << step);
          REQUIRE((!next || *next > clock.mono_ms()));
        }
        for (const Delta& delta : d.take_effects().deltas) {
          for (const auto& e : delta.append) {
            escalated += e.kind == TimelineKind::escalated;
            lapsed += e.kind == TimelineKind::expired;
            unanswered += e.kind == TimelineKind::call && e.text == "family:no_answer";
          }
        }
      }
    }
  }
  // The walk met every kind of timer, many times over.
  CHECK(ticks > 300);
  CHECK(escalated > 50);
  CHECK(lapsed > 20);
  CHECK(unanswered > 20);
}
