// The part of a subscribe that runs on the service thread (issue 15, item 4):
// SnapshotTexts::take() hands over the texts of every open incident, of each one's
// elder card and of each worker, and a SnapshotStream writes them out as the
// connection takes them. The benchmark runs with
//   anxin-tests "take() at 14000 open incidents" --benchmark-samples 50
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "anxin/core/dispatcher.hpp"
#include "district.hpp"
#include "snapshot_texts.hpp"
#include "support.hpp"

using namespace anxin;

namespace {
std::vector<ElderId> card_ids(const protocol::SnapshotText& parts) {
  std::vector<ElderId> ids;
  for (const auto& card : parts.elders) ids.push_back(nlohmann::json::parse(*card)["id"].get<ElderId>());
  std::sort(ids.begin(), ids.end());
  return ids;
}
}  // namespace

// Each open incident's text is kept with its elder's card. An unknown caller's
// incident moves to the elder the operator links it to: its card must move too.
TEST_CASE("a snapshot carries the card of each open incident's elder as it is now", "[snapshot]") {
  ManualClock clock(1795622400000LL + 10 * 3600 * 1000);
  Dispatcher d(clock);
  d.restore(test::live_state(test::small_registry()));
  gateway::SnapshotTexts texts(
      d,
      [&](ElderId id) {
        const auto e = d.elder(id);
        return e ? protocol::make_card(*e, d.today(), nullptr) : protocol::ElderCard{id};
      },
      [](const Worker& w) { return w; });
  auto tell = [&] {  // as the server does with each delta
    for (Delta& delta : d.take_effects().deltas) {
      protocol::DeltaMessage m;
      m.kind = delta.kind;
      m.incident = std::move(delta.incident);
      m.worker = std::move(delta.worker);
      texts.changed(m);
    }
  };
  const Principal line{Role::device, "line"}, op{Role::console, "operator:王芳"};
  const auto call = d.phone_in_unknown(line, "13700000000", "call-1");
  REQUIRE(call);
  const ElderId caller = d.incident(call->incident)->elder;
  test::raise(d, {Role::device, "vendor:acme"}, "D1", 1, AlertKind::sos);
  tell();
  CHECK(card_ids(texts.take(1, "e", clock.now_ms())) == std::vector<ElderId>{1, caller});

  REQUIRE(d.link_caller(op, call->incident, 2));
  tell();
  CHECK(card_ids(texts.take(2, "e", clock.now_ms())) == std::vector<ElderId>{1, 2});

  texts.forget_cards();  // the roster changed: every card made again
  CHECK(card_ids(texts.take(3, "e", clock.now_ms())) == std::vector<ElderId>{1, 2});
}

TEST_CASE("take() at 14000 open incidents", "[.][bench][city]") {
  sim::District district = sim::generate_district({42, 15'000, 60, "2026-11-26"});
  ManualClock clock(sim::local_noon_ms("2026-11-26"));
  Dispatcher d(clock);
  test::open_district(d, clock, district, 14'000, 0);
  REQUIRE(d.open_count() == 14'000);

  gateway::SnapshotTexts texts(
      d,
      [&](ElderId id) {
        const auto e = d.elder(id);
        return e ? protocol::make_card(*e, d.today(), nullptr) : protocol::ElderCard{id};
      },
      [](const Worker& w) { return w; });
  const protocol::SnapshotText first = texts.take(1, "bench", clock.now_ms());  // every text encoded once
  REQUIRE(first.incidents.size() == 14'000);
  REQUIRE(first.elders.size() == 14'000);

  BENCHMARK("take(), nothing changed since the last") {
    return texts.take(2, "bench", clock.now_ms()).elders.size();
  };
}

// Written out in pieces of any size, the stream is the assembled text byte for byte:
// empty lists, one item, many, a req or none, an epoch that needs escaping.
TEST_CASE("a snapshot streamed in pieces of any size is the assembled text", "[snapshot]") {
  auto texts = [](int n, const std::string& what) {
    std::vector<std::shared_ptr<const std::string>> v;
    for (int i = 0; i < n; ++i)
      v.push_back(std::make_shared<const std::string>("{\"" + what + "\":" + std::to_string(i) + ",\"pad\":\"" +
                                                      std::string(static_cast<size_t>(i % 37), 'x') + "\"}"));
    return v;
  };
  for (const auto& [incidents, elders, workers] : {std::tuple{0, 0, 0}, {1, 0, 0}, {0, 0, 1}, {1, 1, 1}, {3, 0, 2},
                                                   {500, 500, 40}}) {
    for (const std::string req : {"", "r-1", "q\"uote"}) {
      auto parts = std::make_shared<const protocol::SnapshotText>(protocol::SnapshotText{
          42, "ep\"och\\1", 1795622400123LL, texts(incidents, "i"), texts(elders, "e"), texts(workers, "w")});
      const std::string whole = protocol::assemble_snapshot(*parts, req);
      REQUIRE(nlohmann::json::parse(whole)["incidents"].size() == static_cast<size_t>(incidents));
      for (const size_t piece : {size_t{1}, size_t{7}, size_t{4096}, whole.size(), whole.size() + 5}) {
        gateway::SnapshotStream stream(parts, req);
        CHECK(stream.size() == whole.size());
        std::string out;
        std::vector<char> buf(piece);
        while (stream.left() > 0) {
          const size_t n = stream.read(buf.data(), piece);
          REQUIRE(n == std::min(piece, whole.size() - out.size()));
          out.append(buf.data(), n);
        }
        CHECK(stream.read(buf.data(), piece) == 0);
        CHECK(stream.sent() == whole.size());
        CHECK(out == whole);
      }
    }
  }
}
