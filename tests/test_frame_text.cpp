// Deltas and snapshots written straight to text (frame_text.cpp) parse to exactly
// what the JSON tree makes of the same message (encode_tree), over a shift's worth
// of every kind of change; and the text writer's escapes.
#include <catch2/catch.hpp>

#include "anxin/core/protocol.hpp"
#include "support.hpp"

using namespace anxin;
namespace proto = anxin::protocol;
using json = nlohmann::json;

namespace {

constexpr Millis kStart = 1795622400000LL + 10 * 3600 * 1000;

json direct(const proto::ServerMessage& m) { return json::parse(proto::encode(m)); }
json tree(const proto::ServerMessage& m) { return json::parse(proto::encode_tree(m)); }

}  // namespace

TEST_CASE("deltas and snapshots written as text equal the tree's over every kind of change", "[frame_text]") {
  ManualClock clock{kStart};
  Dispatcher d(clock);
  auto r = test::small_registry();
  r.elders[0].name = "张\"桂\\英\t";  // escapes in a card
  r.elders[0].contacts.push_back({"王 \x01", "儿子", "139"});
  LiveState st = test::live_state(r);
  for (auto& w : st.workers) w.status = WorkerStatus::available, w.on_duty = true;
  d.restore(std::move(st));
  const Principal vendor{Role::device, "vendor:acme"};
  const Principal op{Role::console, "operator:王芳"};

  std::vector<proto::ServerMessage> messages;
  auto collect = [&] {
    for (auto& x : d.take_effects().deltas) {
      proto::DeltaMessage m{x.seq, x.kind, x.incident, x.append, {}, x.worker};
      if (x.kind == DeltaKind::incident_opened || x.with_card)
        if (const auto e = d.elder(m.incident.elder)) m.elder = proto::make_card(*e, d.today(), nullptr);
      messages.push_back({messages.size() % 2 ? "r" + std::to_string(messages.size()) : "", std::move(m)});
    }
  };
  const IncidentId one = test::raise(d, vendor, "D1", 1, AlertKind::sos).incident;
  test::raise(d, vendor, "D2", 1, AlertKind::smoke);
  const IncidentId two = test::raise(d, vendor, "D4", 1, AlertKind::fall).incident;
  collect();
  REQUIRE(d.acknowledge(op, one));
  REQUIRE(d.record_callback(op, one, CallbackOutcome::no_answer));
  REQUIRE(d.add_note(op, one, "门锁着，邻居说\"昨晚没见\"\n第二行"));
  REQUIRE(d.call_emergency(op, one, CallKind::ambulance_120));
  REQUIRE(d.dispatch(op, one, std::nullopt, 2));
  collect();
  for (const auto& a : d.incident(one)->assignments) {
    const Principal field{Role::field, "worker:" + std::to_string(a.worker)};
    if (a.worker == 1) {
      REQUIRE(d.accept(field, a.id));
      REQUIRE(d.update_position(field, 34.8301234567, 115.54, 12.5, kStart + 1000, TransportMode::ebike));
      REQUIRE(d.arrive(field, a.id));
    } else {
      REQUIRE(d.decline(field, a.id, "正在另一户"));
    }
  }
  clock.advance(5 * 60 * 1000);
  d.tick();  // escalations on the other incident
  REQUIRE(d.acknowledge(op, two));
  test::raise(d, vendor, "D3", 1, AlertKind::sos);  // a critical alert joins, and is unseen
  collect();
  REQUIRE(d.resolve(op, one, Disposition::visitor_assisted, "已送医"));
  collect();
  REQUIRE(messages.size() > 15);

  size_t with_card = 0, with_worker = 0, escalated = 0;
  for (const auto& m : messages) {
    INFO(proto::encode_tree(m));
    CHECK(direct(m) == tree(m));
    const auto& delta = std::get<proto::DeltaMessage>(m.body);
    with_card += delta.elder.has_value();
    with_worker += delta.worker.has_value();
    escalated += !delta.incident.escalations.empty();
  }
  CHECK(with_card >= 2);
  CHECK(with_worker >= 1);
  CHECK(escalated >= 1);
  // The device's ack too.
  for (const auto& ack : {AlarmAck{12, 3, false, false}, AlarmAck{12, 3, true, true}}) {
    const proto::ServerMessage a{"a1", proto::Ack{"D\"1", 9, ack}};
    CHECK(direct(a) == tree(a));
  }

  // A snapshot of what is open, with cards and every worker.
  proto::Snapshot snap{d.seq(), "e-1", kStart, {}, {}, {}};
  for (const Incident* i : d.open_incidents()) {
    snap.incidents.push_back(*i);
    snap.elders.push_back(proto::make_card(*d.elder(i->elder), d.today(), nullptr));
  }
  for (const Worker* w : d.workers()) snap.workers.push_back(*w);
  REQUIRE(!snap.incidents.empty());
  REQUIRE(!snap.incidents[0].timeline.empty());
  const proto::ServerMessage m{"s1", snap};
  CHECK(direct(m) == tree(m));
  // And one put together from parts kept apart.
  proto::SnapshotText parts{snap.seq, snap.epoch, snap.server_time_ms, {}, {}, {}};
  for (const auto& i : snap.incidents) parts.incidents.push_back(std::make_shared<const std::string>(proto::encode_incident(i)));
  for (const auto& c : snap.elders) parts.elders.push_back(std::make_shared<const std::string>(proto::encode_card(c)));
  for (const auto& w : snap.workers) parts.workers.push_back(std::make_shared<const std::string>(proto::encode_worker(w)));
  CHECK(proto::assemble_snapshot(parts, "s1") == proto::encode(m));
  CHECK(json::parse(proto::assemble_snapshot({}, "")) == json::parse(R"({"type":"snapshot","seq":0,"epoch":"","server_time_ms":0,"incidents":[],"elders":[],"workers":[]})"));
}

TEST_CASE("the text writer escapes strings and replaces bytes that are not UTF-8", "[frame_text]") {
  proto::DeltaMessage m;
  m.kind = DeltaKind::incident_updated;
  m.incident.id = 7;
  TimelineEntry note;
  note.kind = TimelineKind::note;
  note.actor = "王芳";
  note.text = std::string("a\"b\\c\nd\x01 e\x7f 表\xff\xc3(\xe2\x82 end");
  TimelineEntry alert;
  alert.kind = TimelineKind::alert;
  alert.text = "not json {";  // a detail that does not parse goes as a string
  TimelineEntry detail = alert;
  detail.text = R"({"ppm": 620, "where":"厨房"})";
  m.append = {note, alert, detail};
  const json j = json::parse(proto::encode_delta(m, ""));
  CHECK(j["append"][0]["text"] == "a\"b\\c\nd\x01 e\x7f 表\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD end");
  CHECK(j["append"][1]["detail"] == "not json {");
  CHECK(j["append"][2]["detail"]["ppm"] == 620);
  CHECK(j["append"][2]["detail"]["where"] == "厨房");
  // Doubles read back the same, and stay floats.
  Worker w;
  w.lat = 34.822571;
  w.lon = 115.0;
  w.accuracy_m = 1e-7;
  const json x = json::parse(proto::encode_worker(w));
  CHECK(x["lat"].get<double>() == 34.822571);
  CHECK(x["lon"].is_number_float());
  CHECK(x["lon"].get<double>() == 115.0);
  CHECK(x["accuracy_m"].get<double>() == 1e-7);
}
