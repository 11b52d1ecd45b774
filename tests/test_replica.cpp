// The console's mirror: snapshot plus deltas, in sequence, workers as well as
// incidents, a resync on a gap, and the queue in the server's rank order.
#include <catch2/catch.hpp>

#include "replica.hpp"

using namespace anxin;
using console::Replica;

namespace {

Incident header(IncidentId id, ElderId elder, IncidentState state, Millis opened, int rank_base = 0) {
  Incident i;
  i.id = id;
  i.elder = elder;
  i.state = state;
  i.opened_ms = opened;
  i.rank_base = rank_base;
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
  return {seq, kind, std::move(i), std::move(append), std::nullopt, std::nullopt};
}

Worker worker(WorkerId id, WorkerStatus status, IncidentId incident = 0) {
  Worker w;
  w.id = id;
  w.name = "钱进";
  w.status = status;
  w.on_duty = status != WorkerStatus::off_duty;
  w.incident = incident;
  w.lat = 34.8;
  w.lon = 115.5;
  return w;
}

protocol::DeltaMessage worker_delta(std::uint64_t seq, Worker w) {
  protocol::DeltaMessage d;
  d.seq = seq;
  d.kind = DeltaKind::worker_updated;
  d.worker = std::move(w);
  return d;
}

}  // namespace

TEST_CASE("a snapshot then deltas build the mirror", "[console][replica]") {
  Replica r;
  CHECK_FALSE(r.synced());
  protocol::Snapshot s;
  s.seq = 10;
  s.epoch = "e1";
  Incident a = header(1, 1, IncidentState::open, 1000, 10);
  a.timeline.push_back(alert(1, AlertKind::low_battery, 1000));
  s.incidents.push_back(a);
  REQUIRE(r.apply(s) == Replica::Applied::changed);
  CHECK(r.synced());

  // A delta from before the snapshot is already in it.
  CHECK(r.apply(delta(9, DeltaKind::alert_attached, header(1, 1, IncidentState::open, 1000), {})) ==
        Replica::Applied::unchanged);

  CHECK(r.apply(delta(11, DeltaKind::incident_opened, header(2, 2, IncidentState::open, 2000, 80),
                      {alert(2, AlertKind::sos, 2000)})) == Replica::Applied::changed);
  CHECK(r.apply(delta(12, DeltaKind::alert_attached, header(1, 1, IncidentState::open, 1000, 95),
                      {alert(3, AlertKind::fall, 3000)})) == Replica::Applied::changed);
  REQUIRE(r.incident(1)->timeline.size() == 2);
  CHECK(r.incident(1)->rank_base == 95);  // the header is whole in every delta

  // Queue order is the server's rank: the fall raised incident 1 above the SOS.
  auto q = r.queue(3000);
  REQUIRE(q.size() == 2);
  CHECK(q[0]->id == 1);
  CHECK(q[1]->id == 2);

  // Acknowledged incidents drop below unacknowledged ones, whatever their score.
  Incident acked = header(1, 1, IncidentState::acknowledged, 1000, 95);
  acked.acknowledged_ms = 4000;
  acked.acknowledged_by = "王芳";
  CHECK(r.apply(delta(13, DeltaKind::incident_acknowledged, acked, {})) == Replica::Applied::changed);
  CHECK(r.incident(1)->timeline.size() == 2);  // the header update keeps the timeline
  CHECK(r.incident(1)->acknowledged_by == "王芳");
  CHECK(r.queue(5000)[0]->id == 2);

  CHECK(r.apply(delta(14, DeltaKind::incident_resolved, header(2, 2, IncidentState::resolved, 2000), {})) ==
        Replica::Applied::changed);
  CHECK(r.incident(2) == nullptr);
  CHECK(r.seq() == 14);
}

TEST_CASE("waiting points lift a long-waiting incident past a fresh urgent one", "[console][replica]") {
  // docs/ranking.md: a low battery (10) outranks a fresh SOS (80) after 18 minutes
  // unacknowledged, at 4 points a minute; the console computes the same as the server.
  Replica r;
  protocol::Snapshot s;
  s.seq = 1;
  s.incidents.push_back(header(1, 1, IncidentState::open, 0, 10));
  s.incidents.push_back(header(2, 2, IncidentState::open, 18 * 60'000, 80));
  r.apply(s);
  CHECK(r.queue(18 * 60'000)[0]->id == 1);          // 10 + 72 = 82 > 80
  CHECK(r.queue(17 * 60'000 + 29'000)[0]->id == 2);  // 10 + 69 = 79 < 80

  // Equal scores: the older first, then the lower id.
  protocol::Snapshot tie;
  tie.seq = 1;
  tie.incidents.push_back(header(5, 5, IncidentState::open, 100, 50));
  tie.incidents.push_back(header(4, 4, IncidentState::open, 100, 50));
  tie.incidents.push_back(header(3, 3, IncidentState::open, 200, 50));
  r.apply(tie);
  auto q = r.queue(300);
  REQUIRE(q.size() == 3);
  CHECK(q[0]->id == 4);
  CHECK(q[1]->id == 5);
  CHECK(q[2]->id == 3);
}

TEST_CASE("the mirror carries the whole incident header", "[console][replica]") {
  Replica r;
  protocol::Snapshot s;
  s.seq = 1;
  r.apply(s);
  Incident i = header(7, 3, IncidentState::acknowledged, 1000, 135);
  i.rank_reasons = {{"kind:sos", 80}, {"tier:key", 25}, {"living:alone", 20}, {"age:80", 10}};
  i.callback = CallbackOutcome::no_answer;
  i.proposed_worker = 12;
  i.responders_wanted = 2;
  Assignment a;
  a.id = 1, a.incident = 7, a.worker = 12, a.state = AssignmentState::offered, a.expires_ms = 61'000;
  i.assignments.push_back(a);
  CallTask c;
  c.id = 3, c.incident = 7, c.kind = CallKind::family, c.contact_index = 0, c.name = "王建国", c.due_ms = 60'000;
  i.calls.push_back(c);
  i.escalations.push_back({EscalationKind::unacknowledged, 61'000, 0, true});
  REQUIRE(r.apply(delta(2, DeltaKind::incident_updated, i, {})) == Replica::Applied::changed);

  const Incident* m = r.incident(7);
  REQUIRE(m);
  CHECK(m->rank_reasons.size() == 4);
  CHECK(m->callback == CallbackOutcome::no_answer);
  CHECK(m->proposed_worker == 12);
  CHECK(m->responders_wanted == 2);
  REQUIRE(m->assignments.size() == 1);
  CHECK(m->assignments[0].state == AssignmentState::offered);
  REQUIRE(m->calls.size() == 1);
  CHECK(m->calls[0].name == "王建国");
  REQUIRE(m->escalations.size() == 1);
  CHECK(m->escalations[0].cleared);

  // The next update replaces responders and calls wholesale: the offer was accepted.
  i.assignments[0].state = AssignmentState::accepted;
  i.calls[0].state = CallState::answered;
  r.apply(delta(3, DeltaKind::incident_updated, i, {}));
  CHECK(r.incident(7)->assignments[0].state == AssignmentState::accepted);
  CHECK(r.incident(7)->calls[0].state == CallState::answered);
  CHECK(r.incident_version(7) == r.version());
}

TEST_CASE("workers come with the snapshot and change by worker_updated", "[console][replica]") {
  Replica r;
  protocol::Snapshot s;
  s.seq = 20;
  s.server_time_ms = 5'000;
  s.workers = {worker(1, WorkerStatus::available), worker(2, WorkerStatus::off_duty)};
  r.apply(s);
  REQUIRE(r.workers().size() == 2);
  CHECK(r.worker(1)->status == WorkerStatus::available);

  const auto v = r.version();
  CHECK(r.apply(worker_delta(21, worker(1, WorkerStatus::en_route, 9))) == Replica::Applied::changed);
  CHECK(r.worker(1)->status == WorkerStatus::en_route);
  CHECK(r.worker(1)->incident == 9);
  CHECK(r.version() > v);
  CHECK(r.seq() == 21);

  // The server dates each shift; the mirror keeps what it says.
  Worker on = worker(2, WorkerStatus::available);
  on.duty_since_ms = 7'000;
  r.apply(worker_delta(22, on));
  CHECK(r.worker(2)->duty_since_ms == 7'000);
  r.apply(worker_delta(23, worker(2, WorkerStatus::off_duty)));
  CHECK(r.worker(2)->duty_since_ms == 0);

  // A worker the snapshot did not hold (registered since) appears.
  r.apply(worker_delta(24, worker(3, WorkerStatus::available)));
  CHECK(r.workers().size() == 3);

  // Worker deltas count in the sequence like any other.
  CHECK(r.apply(worker_delta(26, worker(3, WorkerStatus::offered))) == Replica::Applied::resync);
  CHECK(r.worker(3)->status == WorkerStatus::available);
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

TEST_CASE("reconnecting keeps the last picture, then loses nothing", "[console][replica]") {
  Replica r;
  protocol::Snapshot s;
  s.seq = 1;
  s.incidents.push_back(header(1, 1, IncidentState::open, 0));
  s.workers = {worker(1, WorkerStatus::off_duty)};
  protocol::ElderCard card;
  card.id = 1;
  card.name = "张桂英";
  s.elders.push_back(card);
  r.apply(s);
  r.apply(worker_delta(2, worker(1, WorkerStatus::en_route, 1)));
  r.lose_sync();
  CHECK_FALSE(r.synced());
  CHECK(r.incidents().size() == 1);  // still shown, marked stale

  // While away: incident 1 was resolved, 2 opened, the worker went on to 2. The
  // fresh snapshot of the restarted server (counting from zero) holds all of it.
  protocol::Snapshot fresh;
  fresh.seq = 0;
  fresh.epoch = "e2";
  fresh.incidents.push_back(header(2, 2, IncidentState::open, 0));
  fresh.workers = {worker(1, WorkerStatus::on_scene, 2)};
  r.apply(fresh);
  CHECK(r.synced());
  CHECK(r.epoch() == "e2");
  CHECK(r.incident(1) == nullptr);
  CHECK(r.incident(2) != nullptr);
  CHECK(r.worker(1)->status == WorkerStatus::on_scene);
  // Elder cards are registry data: the map keeps the home of a closed incident.
  CHECK(r.elder(1) != nullptr);
  // And deltas continue from the new sequence.
  CHECK(r.apply(delta(1, DeltaKind::incident_opened, header(3, 3, IncidentState::open, 0), {})) ==
        Replica::Applied::changed);
}
