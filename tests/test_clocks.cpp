// Wall time for records, monotonic time for timers (issue 11, item 5). Under a manual
// clock, step_wall() is an NTP step: the wall clock jumps while no time passes. Offers,
// escalations, the family cascade and the age of a worker's position must go by the
// time that really passed, and by when the server heard a position, not the phone's clock.
#include <catch2/catch.hpp>

#include "anxin/core/dispatcher.hpp"
#include "support.hpp"

using namespace anxin;

namespace {

constexpr Millis kStart = 1795622400000LL + 10 * 3600 * 1000;  // 2026-11-26 10:00 Beijing
constexpr Millis kHour = 3600 * 1000;
constexpr Millis kMinute = 60'000;

// The small registry with both workers available. Their stored positions are four
// hours old, so that a phone a few hours behind still sends a newer fix.
struct Fixture {
  ManualClock clock{kStart};
  Dispatcher d{clock};
  Principal device{Role::device, "vendor:acme"};
  Principal op{Role::console, "operator:王芳"};
  std::int64_t seq = 0;

  explicit Fixture(std::vector<Incident> open = {}) {
    auto r = test::small_registry();
    LiveState st = test::live_state(r);
    for (auto& w : st.workers) {
      w.status = WorkerStatus::available;
      w.position_ms = kStart - 4 * kHour;
    }
    for (const auto& i : open)
      for (const auto& a : i.assignments) {
        st.workers[static_cast<size_t>(a.worker - 1)].status = WorkerStatus::offered;
        st.workers[static_cast<size_t>(a.worker - 1)].incident = i.id;
        st.max_assignment_id = std::max(st.max_assignment_id, a.id);
      }
    for (const auto& i : open) st.max_incident_id = std::max(st.max_incident_id, i.id);
    st.open_incidents = std::move(open);
    d.restore(std::move(st));
  }
  static Principal field(WorkerId id) { return {Role::field, "worker:" + std::to_string(id)}; }

  IncidentId alarm(const char* device_id) { return test::raise(d, device, device_id, ++seq, AlertKind::sos).incident; }
  const Incident& incident(IncidentId id) {
    const Incident* i = d.incident(id);
    REQUIRE(i);
    return *i;
  }
  bool unacknowledged(IncidentId id) { return incident(id).has_escalation(EscalationKind::unacknowledged); }
  AssignmentState state_of(IncidentId id, size_t k) { return incident(id).assignments.at(k).state; }
  bool stale(IncidentId id, WorkerId worker) {
    auto cands = d.candidates(id);
    REQUIRE(cands.ok());
    for (const auto& c : cands.value())
      if (c.id == worker) return c.stale;
    FAIL("worker " << worker << " is not a candidate");
    return false;
  }
};

}  // namespace

TEST_CASE("a wall clock stepped forward neither lapses offers nor escalates", "[clock]") {
  Fixture f;
  const IncidentId waiting = f.alarm("D3");  // elder 2: nobody answers it
  const IncidentId sent = f.alarm("D1");     // elder 1: both workers are offered it
  REQUIRE(f.d.dispatch(f.op, sent, std::nullopt, 2).ok());

  f.clock.step_wall(kHour);
  f.d.tick();
  CHECK_FALSE(f.unacknowledged(waiting));
  CHECK(f.state_of(sent, 0) == AssignmentState::offered);
  CHECK(f.state_of(sent, 1) == AssignmentState::offered);
  // The offer still has its minute: the second worker can take it.
  const Assignment taken = f.incident(sent).assignments.at(1);
  REQUIRE(f.d.accept(Fixture::field(taken.worker), taken.id).ok());

  // A minute of real time: now the other offer lapses and the waiting incident escalates.
  f.clock.advance(59'999);
  f.d.tick();
  CHECK_FALSE(f.unacknowledged(waiting));
  CHECK(f.state_of(sent, 0) == AssignmentState::offered);
  f.clock.advance(1);
  f.d.tick();
  CHECK(f.unacknowledged(waiting));
  CHECK(f.state_of(sent, 0) == AssignmentState::expired);

  // The responder is late by the time that passed since accepting, not by the wall.
  f.clock.step_wall(kHour);
  f.d.tick();
  CHECK_FALSE(f.incident(sent).has_escalation(EscalationKind::visitor_late));
  f.clock.advance(static_cast<Millis>(taken.eta_s * 1000) + 5 * kMinute - kMinute);
  f.d.tick();
  CHECK(f.incident(sent).has_escalation(EscalationKind::visitor_late));
}

TEST_CASE("a wall clock stepped back does not freeze offers or escalations", "[clock]") {
  Fixture f;
  const IncidentId waiting = f.alarm("D3");
  const IncidentId sent = f.alarm("D1");
  REQUIRE(f.d.dispatch(f.op, sent, std::nullopt).ok());
  const Assignment offered = f.incident(sent).assignments.at(0);

  f.clock.step_wall(-kHour);
  f.clock.advance(59'999);
  f.d.tick();
  CHECK_FALSE(f.unacknowledged(waiting));
  CHECK(f.state_of(sent, 0) == AssignmentState::offered);
  f.clock.advance(1);
  // Too late to accept, even before a tick has noticed.
  auto late = f.d.accept(Fixture::field(offered.worker), offered.id);
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == ErrorCode::bad_state);
  f.d.tick();
  CHECK(f.unacknowledged(waiting));
  CHECK(f.state_of(sent, 0) == AssignmentState::expired);
}

TEST_CASE("a family call moves on by the time that passed, whatever the wall says", "[clock]") {
  Fixture f;
  const IncidentId id = f.alarm("D1");  // elder 1 has two contacts
  REQUIRE(f.d.start_family_cascade(f.op, id).ok());

  f.clock.step_wall(kHour);
  f.d.tick();
  REQUIRE(f.incident(id).calls.size() == 1);
  CHECK(f.incident(id).calls[0].open());

  f.clock.step_wall(-2 * kHour);
  f.clock.advance(59'999);
  f.d.tick();
  REQUIRE(f.incident(id).calls.size() == 1);
  CHECK(f.incident(id).calls[0].open());
  f.clock.advance(1);
  f.d.tick();
  const Incident& i = f.incident(id);
  REQUIRE(i.calls.size() == 2);
  CHECK(i.calls[0].state == CallState::no_answer);
  CHECK(i.calls[1].contact_index == 1);
}

TEST_CASE("a position ages from when the server received it, not by the phone's clock", "[clock]") {
  Fixture f;
  const IncidentId id = f.alarm("D1");
  const Millis now = f.clock.now_ms();
  // Worker 1's phone is three hours behind; worker 2's four minutes ahead (the most
  // the server takes is five).
  REQUIRE(f.d.update_position(Fixture::field(1), 34.83, 115.54, 10, now - 3 * kHour, std::nullopt).ok());
  REQUIRE(f.d.update_position(Fixture::field(2), 34.836, 115.548, 10, now + 4 * kMinute, std::nullopt).ok());
  CHECK(f.d.worker(1)->position_ms == now - 3 * kHour);  // the record keeps the phone's time
  CHECK_FALSE(f.stale(id, 1));
  CHECK_FALSE(f.stale(id, 2));

  f.clock.step_wall(kHour);  // no time passes: nothing ages
  CHECK_FALSE(f.stale(id, 1));
  CHECK_FALSE(f.stale(id, 2));

  f.clock.advance(10 * kMinute);  // stale after ten minutes (TravelModel::stale_after_ms)
  CHECK_FALSE(f.stale(id, 1));
  CHECK_FALSE(f.stale(id, 2));
  f.clock.advance(1);
  CHECK(f.stale(id, 1));
  CHECK(f.stale(id, 2));
}

TEST_CASE("restored timers run from their wall stamps, capped at now", "[clock]") {
  // Incident 1 opened 50 s before the restart; incident 2's stamps lie an hour ahead,
  // as if the wall clock had been stepped back while the server was down.
  auto make = [](IncidentId id, ElderId elder, Millis opened, WorkerId worker) {
    Incident i;
    i.id = id;
    i.elder = elder;
    i.opened_ms = opened;
    i.timeline.push_back({opened, TimelineKind::alert, "D", id, AlertKind::sos, "{}"});
    Assignment a;
    a.id = id;
    a.incident = id;
    a.worker = worker;
    a.offered_ms = opened;
    a.expires_ms = opened + 60'000;
    i.assignments.push_back(a);
    return i;
  };
  Fixture f({make(1, 1, kStart - 50'000, 1), make(2, 2, kStart + kHour, 2)});

  f.clock.advance(9'999);
  f.d.tick();
  CHECK_FALSE(f.unacknowledged(1));
  CHECK(f.state_of(1, 0) == AssignmentState::offered);
  f.clock.advance(1);
  f.d.tick();
  CHECK(f.unacknowledged(1));
  CHECK(f.state_of(1, 0) == AssignmentState::expired);
  // The stamps from the future count from the restart, so they do not freeze.
  CHECK_FALSE(f.unacknowledged(2));
  f.clock.advance(50'000);
  f.d.tick();
  CHECK(f.unacknowledged(2));
  CHECK(f.state_of(2, 0) == AssignmentState::expired);
}
