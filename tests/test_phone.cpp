// The phone line in the core (dispatch_phone.cpp), under a manual clock: who a
// number belongs to, a ringing call as an alert, and an ended call on the timeline
// settling its call task.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "anxin/core/dispatcher.hpp"
#include "support.hpp"

using namespace anxin;

namespace {

constexpr Millis kStart = 1795622400000LL + 10 * 3600 * 1000;  // 2026-11-26 10:00 Beijing

struct Centre {
  ManualClock clock{kStart};
  Dispatcher d{clock};
  Principal line{Role::device, "line"};
  Principal op{Role::console, "operator:王芳"};
  Centre() {
    d.restore(test::live_state(test::small_registry()));
  }
  IncidentId ring(const std::string& number) {
    auto who = d.match_caller(number);
    REQUIRE(who);
    auto ack = d.phone_in(line, *who, number, "call-" + number);
    REQUIRE(ack);
    return ack->incident;
  }
};

nlohmann::json last_phone(const Incident& i) {
  for (auto e = i.timeline.rbegin(); e != i.timeline.rend(); ++e)
    if (e->kind == TimelineKind::phone) return nlohmann::json::parse(e->text);
  return {};
}

}  // namespace

TEST_CASE("numbers are normalised before they are compared", "[core][phone]") {
  CHECK(normalise_number("138-0000-0001") == "13800000001");
  CHECK(normalise_number("+86 138 0000 0001") == "13800000001");
  CHECK(normalise_number("0086 13800000001") == "13800000001");
  CHECK(normalise_number("0530-1234567") == "05301234567");
  CHECK(normalise_number("") == "");
}

TEST_CASE("a caller is found by a device's SIM, the elder's phone, or a contact's phone", "[core][phone]") {
  Centre c;
  auto sim = c.d.match_caller("1064000000001");  // D1, elder 1's one-key phone
  REQUIRE(sim);
  CHECK(sim->elder == 1);
  CHECK(sim->via == "device_sim");
  CHECK(sim->device == "D1");
  auto own = c.d.match_caller("+8613800000002");
  REQUIRE(own);
  CHECK(own->elder == 2);
  CHECK(own->via == "elder_phone");
  CHECK(own->device == "D3");  // filed under the elder's one-key phone
  auto son = c.d.match_caller("13900000001");
  REQUIRE(son);
  CHECK(son->elder == 1);
  CHECK(son->via == "contact");
  CHECK(son->contact == "王建国");
  CHECK_FALSE(c.d.match_caller("13700000000"));
  CHECK_FALSE(c.d.match_caller(""));
}

TEST_CASE("an edit to an elder's numbers is matched at once and the numbers given up are not", "[core][phone]") {
  Centre c;
  Elder a = c.d.elder_table().at(1);
  a.phone = "13800000099";                                   // was 13800000001
  a.contacts = {{"王建国", "儿子", "13900000011"}};           // 13900000001 and 刘大妈's gone
  Device sim = c.d.device_table().device(c.d.device_table().find("D2"));
  sim.sim = "1064000000022";                                 // a SIM for the smoke alarm too
  c.d.put_roster({a}, {sim});

  auto own = c.d.match_caller("13800000099");
  REQUIRE(own);
  CHECK(own->elder == 1);
  CHECK(own->via == "elder_phone");
  CHECK(own->device == "D1");
  auto son = c.d.match_caller("13900000011");
  REQUIRE(son);
  CHECK(son->via == "contact");
  CHECK(son->contact == "王建国");
  auto smoke = c.d.match_caller("1064000000022");
  REQUIRE(smoke);
  CHECK(smoke->via == "device_sim");
  CHECK(smoke->device == "D2");
  CHECK(c.d.match_caller("1064000000001"));  // D1's SIM did not change
  CHECK_FALSE(c.d.match_caller("13800000001"));
  CHECK_FALSE(c.d.match_caller("13900000001"));
  CHECK_FALSE(c.d.match_caller("13900000002"));

  SECTION("and edited again, the first edit's numbers are given up too") {
    a.phone = "13800000098";
    c.d.put_roster({a}, {});
    CHECK_FALSE(c.d.match_caller("13800000099"));
    REQUIRE(c.d.match_caller("13800000098"));
    CHECK(c.d.match_caller("13800000098")->elder == 1);
  }
  SECTION("a number another elder takes up is theirs") {
    Elder b = c.d.elder_table().at(2);
    b.phone = "13900000011";  // the son's number, now elder 2's own
    c.d.put_roster({b}, {});
    auto now = c.d.match_caller("13900000011");
    REQUIRE(now);
    CHECK(now->elder == 2);
    CHECK(now->via == "elder_phone");
    CHECK_FALSE(c.d.match_caller("13800000002"));
  }
}

TEST_CASE("a ringing call opens the elder's incident, and a second one joins it", "[core][phone]") {
  Centre c;
  const IncidentId id = c.ring("13800000001");
  const Incident* i = c.d.incident(id);
  REQUIRE(i);
  CHECK(i->elder == 1);
  CHECK(i->state == IncidentState::open);
  CHECK(i->timeline.back().alert_kind == AlertKind::phone_call);
  CHECK(nlohmann::json::parse(i->timeline.back().text)["via"] == "elder_phone");
  CHECK(i->rank_base >= 80);  // ranked like an SOS
  c.clock.advance(5000);
  CHECK(c.ring("13900000002") == id);  // the neighbour calls about the same elder
  // A device cannot raise phone_call itself: only the line files it.
  AlarmIn fake{"D1", 1, AlertKind::phone_call, kStart, "{}", std::nullopt};
  auto refused = c.d.raise_alarm({Role::device, "vendor:acme"}, fake);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kind_not_supported);
}

TEST_CASE("an ended call goes on the timeline and settles its task, and no answer moves the cascade on",
          "[core][phone]") {
  Centre c;
  const IncidentId id = c.ring("1064000000001");
  REQUIRE(c.d.acknowledge(c.op, id));
  auto first = c.d.start_family_cascade(c.op, id, 0);
  REQUIRE(first);
  c.clock.advance(30'000);
  PhoneLog log{id, first.value(), "family", true, "seat1", "13900000001", "王芳", "no_answer", "no answer",
               kStart, 0, kStart + 30'000, "", ""};
  REQUIRE(c.d.phone_log(log));
  const Incident* i = c.d.incident(id);
  auto summary = last_phone(*i);
  CHECK(summary["result"] == "no_answer");
  CHECK(summary["ring_s"] == 30);
  CHECK(summary["talk_s"] == 0);
  REQUIRE(i->calls.size() == 2);
  CHECK(i->calls[0].state == CallState::no_answer);
  CHECK(i->calls[1].state == CallState::pending);  // the neighbour is next
  CHECK(i->calls[1].phone == "13900000002");

  PhoneLog reached{id, i->calls[1].id, "family", true, "seat1", "13900000002", "王芳", "answered", "",
                   kStart + 30'000, kStart + 34'000, kStart + 76'000, "1/seat1-x-heard.wav", "1/seat1-x-sent.wav"};
  REQUIRE(c.d.phone_log(reached));
  i = c.d.incident(id);
  summary = last_phone(*i);
  CHECK(summary["ring_s"] == 4);
  CHECK(summary["talk_s"] == 42);
  CHECK(summary["recording"] == "1/seat1-x-heard.wav");
  CHECK(i->calls[1].state == CallState::answered);
  CHECK(i->calls.size() == 2);  // an answer ends the cascade
}

TEST_CASE("an unanswered call back to the elder counts as the call-back's no answer", "[core][phone]") {
  Centre c;
  const IncidentId id = c.ring("1064000000001");
  PhoneLog log{id, 0, "elder", true, "seat1", "13800000001", "王芳", "no_answer", "no answer",
               kStart, 0, kStart + 30'000, "", ""};
  REQUIRE(c.d.phone_log(log));
  const Incident* i = c.d.incident(id);
  CHECK(i->callback == CallbackOutcome::no_answer);
  CHECK(std::any_of(i->calls.begin(), i->calls.end(), [](const CallTask& t) { return t.kind == CallKind::family; }));
  // A call about an incident that is not open is refused.
  log.incident = 999;
  REQUIRE_FALSE(c.d.phone_log(log));
}

TEST_CASE("an unknown number opens an incident marked unknown caller, linked to the elder later", "[core][phone]") {
  Centre c;
  auto first = c.d.phone_in_unknown(c.line, "+86 137 0000 0000", "call-x");
  REQUIRE(first);
  const Incident* i = c.d.incident(first->incident);
  REQUIRE(i);
  const auto caller = c.d.elder(i->elder);
  REQUIRE(caller);
  CHECK(caller->unknown_caller);
  CHECK(caller->name == "未知来电");
  CHECK(caller->phone == "13700000000");
  CHECK(i->timeline.back().alert_kind == AlertKind::phone_call);
  // The record and the line's device for it are written before the incident and alert.
  Effects fx = c.d.take_effects();
  REQUIRE_FALSE(fx.writes.empty());
  CHECK(std::holds_alternative<PutCaller>(fx.writes.front()));
  // The same number again joins the same incident.
  c.clock.advance(60'000);
  auto again = c.d.phone_in_unknown(c.line, "13700000000", "call-y");
  REQUIRE(again);
  CHECK(again->incident == first->incident);

  // Nobody can be sent to an unknown caller: there is no home to go to.
  CHECK(c.d.candidates(first->incident).error().code == ErrorCode::bad_state);
  CHECK(c.d.dispatch(c.op, first->incident, std::nullopt).error().code == ErrorCode::bad_state);
  // Linking: only to a real elder, not to one with an incident open, only for unknown callers.
  CHECK(c.d.link_caller(c.line, first->incident, 2).error().code == ErrorCode::forbidden);
  CHECK(c.d.link_caller(c.op, first->incident, 999).error().code == ErrorCode::bad_field);
  const IncidentId theirs = c.ring("13800000001");  // elder 1 has an incident of their own
  CHECK(c.d.link_caller(c.op, first->incident, 1).error().code == ErrorCode::bad_state);
  CHECK(c.d.link_caller(c.op, theirs, 2).error().code == ErrorCode::bad_state);
  c.d.take_effects();
  REQUIRE(c.d.link_caller(c.op, first->incident, 2));
  i = c.d.incident(first->incident);
  CHECK(i->elder == 2);
  CHECK(i->timeline.back().kind == TimelineKind::note);
  fx = c.d.take_effects();
  REQUIRE(fx.deltas.size() == 1);
  CHECK(fx.deltas[0].with_card);  // consoles get the elder's card with it
  // Elder 2's next alarm joins the linked incident.
  AlarmIn sos{"D3", 1, AlertKind::sos, kStart, "{}", std::nullopt};
  auto ack = c.d.raise_alarm({Role::device, "vendor:acme"}, sos);
  REQUIRE(ack);
  CHECK(ack->incident == first->incident);
}

TEST_CASE("an unknown caller's record, its incident and a link survive a restart", "[core][phone][store]") {
  test::TempDir dir;
  const std::string db = dir.file("centre.db");
  test::seed_small_registry(db);
  ManualClock clock{kStart};
  IncidentId id = 0;
  {
    Store store(db);
    store.start();
    Dispatcher d(clock);
    d.restore(store.load());
    auto ack = d.phone_in_unknown({Role::device, "line"}, "13700000000", "call-x");
    REQUIRE(ack);
    id = ack->incident;
    store.submit(d.take_effects().writes);
    store.drain();
  }
  Store store(db);
  store.start();
  Dispatcher d(clock);
  d.restore(store.load());
  const Incident* i = d.incident(id);
  REQUIRE(i);
  REQUIRE(d.elder(i->elder));
  CHECK(d.elder(i->elder)->unknown_caller);
  auto who = d.match_caller("13700000000");  // the number is known now: it joins its incident
  REQUIRE(who);
  CHECK(who->elder == i->elder);
  REQUIRE(d.link_caller({Role::console, "operator:王芳"}, id, 2));
  store.submit(d.take_effects().writes);
  store.drain();
  Dispatcher after(clock);
  after.restore(store.load());
  REQUIRE(after.incident(id));
  CHECK(after.incident(id)->elder == 2);
}
