// The dispatcher alone, under a manual clock: correlation of alerts into incidents,
// acknowledgement, resolution, retries, and refusals that change nothing.
#include <catch2/catch.hpp>

#include "anxin/core/dispatcher.hpp"
#include "support.hpp"

using namespace anxin;

namespace {

constexpr Millis kStart = 1795622400000LL;  // 2026-11-26 00:00 Beijing

struct Fixture {
  ManualClock clock{kStart};
  Dispatcher d{clock};
  Principal vendor{Role::device, "vendor:acme"};
  Principal d1_only{Role::device, "device:D1"};
  Principal op{Role::console, "operator:王芳"};

  Fixture() {
    auto r = test::small_registry();
    LiveState st = test::live_state(r);
    st.tokens.push_back({token_hash("tok-console"), op});
    d.restore(std::move(st));
  }

  AlarmAck alarm(const std::string& device, std::int64_t seq, AlertKind kind, Principal who) {
    return test::raise(d, who, device, seq, kind);
  }
  AlarmAck alarm(const std::string& device, std::int64_t seq, AlertKind kind) {
    return alarm(device, seq, kind, vendor);
  }
};

}  // namespace

TEST_CASE("a second alert of the same elder joins the open incident", "[core][correlation]") {
  Fixture f;
  auto first = f.alarm("D1", 1, AlertKind::sos);
  f.clock.advance(5000);
  auto second = f.alarm("D2", 1, AlertKind::smoke);
  CHECK(second.incident == first.incident);
  CHECK(second.alert != first.alert);

  const Incident* i = f.d.incident(first.incident);
  REQUIRE(i);
  CHECK(i->alert_count() == 2);
  CHECK(i->lead_kind() == AlertKind::sos);  // both critical: the first stays the lead
  CHECK(i->opened_ms == kStart);

  auto fx = f.d.take_effects();
  REQUIRE(fx.deltas.size() == 2);
  CHECK(fx.deltas[0].kind == DeltaKind::incident_opened);
  CHECK(fx.deltas[1].kind == DeltaKind::alert_attached);
  CHECK(fx.deltas[1].seq == fx.deltas[0].seq + 1);
  // The smoke alarm is the first automatic one, so the contacts are notified too.
  REQUIRE(fx.deltas[1].append.size() == 2);
  CHECK(fx.deltas[1].append[0].alert_kind == AlertKind::smoke);
  CHECK(fx.deltas[1].append[1].kind == TimelineKind::notified);
}

// The incident's row holds nothing a joining alert changes (its rank and the unseen
// flag live in memory): the alert's own row is the only write for the incident.
TEST_CASE("a joining alert writes its alert and not the incident's row again", "[core][correlation]") {
  Fixture f;
  auto first = f.alarm("D1", 1, AlertKind::sos);
  CHECK(test::count_writes<PutIncident>(f.d.take_effects().writes) == 1);
  f.clock.advance(5000);
  auto second = f.alarm("D2", 1, AlertKind::smoke);  // another device: not a repeat to fold
  REQUIRE(second.incident == first.incident);
  REQUIRE(second.alert != first.alert);
  const WriteBatch joined = f.d.take_effects().writes;
  CHECK(test::count_writes<PutIncident>(joined) == 0);
  CHECK(test::count_writes<PutAlert>(joined) == 1);
}

// A joining alert of a kind the incident has had is not ranked again on the day of the
// last alert (nothing the rank counts has changed); on a later day it is, for the age.
TEST_CASE("an alert of a kind seen before ranks again on a new day for the elder's age", "[core][ranking]") {
  Fixture f;
  Elder b = *f.d.elder(2);
  b.birth_date = "1946-11-27";  // 79 on the first day, 80 the next
  f.d.put_roster({b}, {{"D5", 2, DeviceKind::sos_button, "acme", 70, 0},  // two more buttons: alerts of
                       {"D6", 2, DeviceKind::sos_button, "acme", 70, 0}});  // a kind seen, not repeats
  const auto first = f.alarm("D3", 1, AlertKind::sos);
  const Incident* i = f.d.incident(first.incident);
  REQUIRE(i);
  CHECK(test::rank_points(*i, "age:80") == 0);
  const int base = i->rank_base;

  f.clock.advance(3'600'000);
  REQUIRE(f.alarm("D5", 1, AlertKind::sos).incident == first.incident);  // another button: a new alert
  CHECK(i->rank_base == base);
  CHECK(test::rank_points(*i, "age:80") == 0);

  f.clock.advance(24 * 3'600'000LL);  // 2026-11-27: the birthday
  const auto later = f.alarm("D6", 1, AlertKind::sos);
  REQUIRE(later.incident == first.incident);
  REQUIRE_FALSE(later.folded);
  CHECK(test::rank_points(*i, "age:80") > 0);
  CHECK(i->rank_base == base + RankWeights{}.age_80 + RankWeights{}.tier_key);  // 80+: the key tier too
}

// The registry's word counts at once: an edited elder's open incident is ranked again
// and every console told, without waiting for its next alert.
TEST_CASE("an edited elder's open incident is ranked again at once", "[core][ranking]") {
  Fixture f;
  const auto opened = f.alarm("D3", 1, AlertKind::sos);
  const Incident* i = f.d.incident(opened.incident);
  REQUIRE(i);
  CHECK(test::rank_points(*i, "living:empty_nest") > 0);
  f.d.take_effects();

  Elder b = *f.d.elder(2);
  b.living = LivingSituation::alone;
  f.d.put_roster({b}, {});
  CHECK(test::rank_points(*i, "living:alone") > 0);
  CHECK(test::rank_points(*i, "living:empty_nest") == 0);
  const Effects fx = f.d.take_effects();
  REQUIRE(fx.deltas.size() == 1);
  CHECK(fx.deltas[0].kind == DeltaKind::incident_updated);
  CHECK(fx.deltas[0].incident.id == opened.incident);
  CHECK(fx.deltas[0].incident.rank_base == i->rank_base);
  CHECK(fx.deltas[0].with_card);  // the card as edited
}

TEST_CASE("another elder's alert opens a new incident", "[core][correlation]") {
  Fixture f;
  auto a = f.alarm("D1", 1, AlertKind::sos);
  auto b = f.alarm("D4", 1, AlertKind::fall);
  CHECK(a.incident != b.incident);
  CHECK(f.d.open_count() == 2);
  CHECK(f.d.incident(b.incident)->elder == 2);
}

TEST_CASE("after resolution a new alert opens a new incident", "[core][correlation]") {
  Fixture f;
  auto a = f.alarm("D1", 1, AlertKind::sos);
  REQUIRE(f.d.acknowledge(f.op, a.incident).ok());
  REQUIRE(f.d.resolve(f.op, a.incident, Disposition::resolved_by_phone).ok());
  CHECK(f.d.incident(a.incident) == nullptr);
  auto b = f.alarm("D1", 2, AlertKind::sos);
  CHECK(b.incident != a.incident);
}

TEST_CASE("a resolved incident's alerts are no longer held for repeats to fold into", "[core][correlation]") {
  Fixture f;
  auto a = f.alarm("D1", 1, AlertKind::sos);
  f.alarm("D2", 1, AlertKind::smoke);
  CHECK(f.d.folds_held() == 2);
  auto again = f.alarm("D1", 2, AlertKind::sos);  // a repeat folds into the alert held
  CHECK(again.folded);
  CHECK(f.d.folds_held() == 2);
  auto other = f.alarm("D4", 1, AlertKind::fall);  // another elder's incident stays open
  REQUIRE(f.d.resolve(f.op, a.incident, Disposition::resolved_by_phone).ok());
  CHECK(f.d.folds_held() == 1);
  auto later = f.alarm("D1", 3, AlertKind::sos);
  CHECK_FALSE(later.folded);
  CHECK(later.incident != a.incident);
  CHECK(f.alarm("D4", 2, AlertKind::fall).alert == other.alert);  // still folds
}

TEST_CASE("acknowledging records who and when, once", "[core]") {
  Fixture f;
  auto a = f.alarm("D1", 1, AlertKind::sos);
  f.clock.advance(12'000);
  f.d.take_effects();
  REQUIRE(f.d.acknowledge(f.op, a.incident).ok());
  const Incident* i = f.d.incident(a.incident);
  CHECK(i->state == IncidentState::acknowledged);
  CHECK(i->acknowledged_by == "王芳");
  CHECK(i->acknowledged_ms - i->opened_ms == 12'000);
  auto fx = f.d.take_effects();
  REQUIRE(fx.deltas.size() == 1);
  CHECK(fx.deltas[0].kind == DeltaKind::incident_acknowledged);
  CHECK_FALSE(fx.writes.empty());

  auto again = f.d.acknowledge(f.op, a.incident);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::bad_state);
  fx = f.d.take_effects();
  CHECK(fx.deltas.empty());
  CHECK(fx.writes.empty());
}

TEST_CASE("a retried alarm gets the same alert back and stores nothing", "[core]") {
  Fixture f;
  auto a = f.alarm("D1", 7, AlertKind::sos);
  f.d.take_effects();
  auto again = f.alarm("D1", 7, AlertKind::sos);
  CHECK(again.duplicate);
  CHECK(again.alert == a.alert);
  auto b = f.alarm("D1", 8, AlertKind::low_battery);  // another kind: not folded into seq 7's
  auto older = f.alarm("D1", 7, AlertKind::sos);  // an out-of-order retry
  CHECK(older.duplicate);
  CHECK(older.alert == a.alert);
  CHECK(b.alert != a.alert);
  auto fx = f.d.take_effects();
  CHECK(fx.deltas.size() == 1);  // only seq 8 was new
}

TEST_CASE("a resend is known among the last 1024 alarms and looked up in the file after", "[core]") {
  ManualClock clock{kStart};
  DispatchConfig config;
  config.supervision.alarm_burst = 100'000;  // a thousand alarms at once, none refused
  Dispatcher d{clock, config};
  d.restore(test::live_state(test::small_registry()));
  Principal vendor{Role::device, "vendor:acme"};
  auto a = test::raise(d, vendor, "D1", 7, AlertKind::sos);
  test::raise(d, vendor, "D1", 8, AlertKind::low_battery);
  auto resend = test::raise(d, vendor, "D1", 7, AlertKind::sos);  // not D1's last: among the recent
  CHECK(resend.duplicate);
  CHECK(resend.alert == a.alert);
  // Another device's seq 7 is not D1's.
  auto other = test::raise(d, vendor, "D2", 7, AlertKind::smoke);
  CHECK_FALSE(other.duplicate);
  for (int seq = 8; seq < 8 + 1024; ++seq) test::raise(d, vendor, "D2", seq, AlertKind::smoke);
  // D1's seq 7 has left the recent ones: below its last, so the host must look.
  AlarmIn again;
  again.device = "D1";
  again.seq = 7;
  again.kind = AlertKind::sos;
  again.device_time_ms = kStart;
  auto old = d.raise_alarm(vendor, again);
  REQUIRE(old.ok());
  CHECK(old->look_up);
  CHECK_FALSE(old->duplicate);
}

TEST_CASE("refused commands change nothing", "[core]") {
  Fixture f;
  AlarmIn a;
  a.device = "D3";
  a.seq = 1;
  a.kind = AlertKind::sos;

  auto not_owned = f.d.raise_alarm(f.d1_only, a);
  REQUIRE_FALSE(not_owned.ok());
  CHECK(not_owned.error().code == ErrorCode::device_not_owned);

  a.device = "D404";
  CHECK(f.d.raise_alarm(f.vendor, a).error().code == ErrorCode::unknown_device);

  a.device = "D1";
  a.kind = AlertKind::smoke;  // a call button has no smoke sensor
  CHECK(f.d.raise_alarm(f.vendor, a).error().code == ErrorCode::kind_not_supported);

  a.kind = AlertKind::sos;
  a.seq = 0;
  CHECK(f.d.raise_alarm(f.vendor, a).error().code == ErrorCode::bad_field);

  a.seq = 1;
  CHECK(f.d.raise_alarm(f.op, a).error().code == ErrorCode::forbidden);
  CHECK(f.d.acknowledge(f.vendor, 1).error().code == ErrorCode::forbidden);
  CHECK(f.d.acknowledge(f.op, 99).error().code == ErrorCode::unknown_incident);

  auto fx = f.d.take_effects();
  CHECK(fx.writes.empty());
  CHECK(fx.deltas.empty());
  CHECK(f.d.open_count() == 0);
  CHECK(f.d.seq() == 0);
}

TEST_CASE("tokens are checked by hash", "[core]") {
  Fixture f;
  auto who = f.d.authenticate("tok-console");
  REQUIRE(who);
  CHECK(who->role == Role::console);
  CHECK_FALSE(f.d.authenticate("tok-wrong"));
  CHECK_FALSE(f.d.authenticate(""));
}
