// The console's mirror: snapshot plus deltas, in sequence, and a resync on a gap.
#include <catch2/catch.hpp>

#include "replica.hpp"

using namespace anxin;
using console::Replica;

namespace {

Incident header(IncidentId id, ElderId elder, IncidentState state, Millis opened) {
  Incident i;
  i.id = id;
  i.elder = elder;
  i.state = state;
  i.opened_ms = opened;
  return i;
}

TimelineEntry alert(AlertId id, AlertKind kind, Millis at) {
  TimelineEntry e;
  e.at_ms = at;
  e.kind = TimelineKind::alert;
  e.alert = id;
  e.alert_kind = kind;
  e.text = "{}";
  return e;
}

protocol::DeltaMessage delta(std::uint64_t seq, DeltaKind kind, Incident i, std::vector<TimelineEntry> append) {
  return {seq, kind, std::move(i), std::move(append), std::nullopt};
}

}  // namespace

TEST_CASE("a snapshot then deltas build the mirror", "[console][replica]") {
  Replica r;
  CHECK_FALSE(r.synced());
  protocol::Snapshot s;
  s.seq = 10;
  s.epoch = "e1";
  Incident a = header(1, 1, IncidentState::open, 1000);
  a.timeline.push_back(alert(1, AlertKind::low_battery, 1000));
  s.incidents.push_back(a);
  REQUIRE(r.apply(s) == Replica::Applied::changed);
  CHECK(r.synced());

  // A delta from before the snapshot is already in it.
  CHECK(r.apply(delta(9, DeltaKind::alert_attached, header(1, 1, IncidentState::open, 1000), {})) ==
        Replica::Applied::unchanged);

  CHECK(r.apply(delta(11, DeltaKind::incident_opened, header(2, 2, IncidentState::open, 2000),
                      {alert(2, AlertKind::sos, 2000)})) == Replica::Applied::changed);
  CHECK(r.apply(delta(12, DeltaKind::alert_attached, header(1, 1, IncidentState::open, 1000),
                      {alert(3, AlertKind::fall, 3000)})) == Replica::Applied::changed);
  REQUIRE(r.incident(1)->timeline.size() == 2);

  // Queue order: the fall (critical) on incident 1 ties with the SOS on 2; older first.
  auto q = r.queue();
  REQUIRE(q.size() == 2);
  CHECK(q[0]->id == 1);
  CHECK(q[1]->id == 2);

  // Acknowledged incidents drop below unacknowledged ones.
  Incident acked = header(1, 1, IncidentState::acknowledged, 1000);
  acked.acknowledged_by = "王芳";
  CHECK(r.apply(delta(13, DeltaKind::incident_acknowledged, acked, {})) == Replica::Applied::changed);
  CHECK(r.incident(1)->timeline.size() == 2);  // the header update keeps the timeline
  CHECK(r.incident(1)->acknowledged_by == "王芳");
  CHECK(r.queue()[0]->id == 2);

  CHECK(r.apply(delta(14, DeltaKind::incident_resolved, header(2, 2, IncidentState::resolved, 2000), {})) ==
        Replica::Applied::changed);
  CHECK(r.incident(2) == nullptr);
  CHECK(r.seq() == 14);
}

TEST_CASE("a gap in the sequence asks for a resync", "[console][replica]") {
  Replica r;
  protocol::Snapshot s;
  s.seq = 5;
  r.apply(s);
  CHECK(r.apply(delta(7, DeltaKind::incident_opened, header(1, 1, IncidentState::open, 0), {})) ==
        Replica::Applied::resync);
  CHECK_FALSE(r.synced());
  CHECK(r.incident(1) == nullptr);  // nothing from beyond the gap
  // Deltas are ignored until a new snapshot arrives.
  CHECK(r.apply(delta(8, DeltaKind::incident_opened, header(1, 1, IncidentState::open, 0), {})) ==
        Replica::Applied::unchanged);
  s.seq = 8;
  r.apply(s);
  CHECK(r.synced());
}

TEST_CASE("a lost connection keeps the last picture until the next snapshot", "[console][replica]") {
  Replica r;
  protocol::Snapshot s;
  s.seq = 1;
  s.incidents.push_back(header(1, 1, IncidentState::open, 0));
  r.apply(s);
  r.lose_sync();
  CHECK_FALSE(r.synced());
  CHECK(r.incidents().size() == 1);
  protocol::Snapshot fresh;
  fresh.seq = 0;  // a restarted server counts from zero again
  fresh.epoch = "e2";
  fresh.incidents.push_back(header(1, 1, IncidentState::open, 0));
  fresh.incidents.push_back(header(2, 2, IncidentState::open, 0));
  r.apply(fresh);
  CHECK(r.synced());
  CHECK(r.incidents().size() == 2);
  CHECK(r.epoch() == "e2");
}
