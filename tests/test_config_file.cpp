// The timers file (anxin-server --config): its keys, ranges and refusals, and that
// the example file and docs/configuration.md agree with the code's defaults.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "anxin/gateway/config_file.hpp"
#include "process.hpp"

using namespace anxin;
using nlohmann::json;

namespace {

bool same_timers(const gateway::ServerOptions& a, const gateway::ServerOptions& b) {
  return gateway::config_json(a) == gateway::config_json(b);
}

}  // namespace

TEST_CASE("an empty timers file keeps every default", "[config]") {
  auto r = gateway::apply_config("{}", {});
  REQUIRE(r.ok());
  CHECK(same_timers(r.value(), gateway::ServerOptions{}));
  CHECK(r->config.offer_timeout_ms == 60'000);
  CHECK(r->config.ack_escalation_ms == 60'000);
  CHECK(r->config.ack_escalation_long_ms == 180'000);
}

TEST_CASE("every key of the timers file sets its timer", "[config]") {
  auto r = gateway::apply_config(R"({
    "offer_timeout_s": 45, "family_call_timeout_s": 90, "ack_escalation_s": 30, "ack_escalation_long_s": 120,
    "late_margin_s": 600, "position_stale_after_s": 300, "session_ttl_s": 43200, "hello_timeout_s": 10,
    "timer_tick_s": 0.5, "webhook_timeout_s": 5, "webhook_backoff_s": 1.5})",
                                 {});
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  const auto& o = r.value();
  CHECK(o.config.offer_timeout_ms == 45'000);
  CHECK(o.config.family_call_timeout_ms == 90'000);
  CHECK(o.config.ack_escalation_ms == 30'000);
  CHECK(o.config.ack_escalation_long_ms == 120'000);
  CHECK(o.config.late_margin_ms == 600'000);
  CHECK(o.config.travel.stale_after_ms == 300'000);
  CHECK(o.session_ttl_ms == 43'200'000);
  CHECK(o.hello_timeout_s == 10);
  CHECK(o.tick_ms == 500);
  CHECK(o.webhook_timeout_ms == 5000);
  CHECK(o.webhook_backoff_ms == 1500);
  // Eleven keys above: every key the file knows.
  CHECK(gateway::config_keys().size() == 11);
  // Written back out, the same file.
  auto again = gateway::apply_config(gateway::config_json(o), {});
  REQUIRE(again.ok());
  CHECK(same_timers(again.value(), o));
}

TEST_CASE("the example timers file holds the defaults, and docs/configuration.md documents every key", "[config]") {
  const std::string example = test::read_file(ANXIN_SOURCE_DIR "/assets/anxin.conf.json");
  REQUIRE_FALSE(example.empty());
  CHECK(json::parse(example) == json::parse(gateway::config_json(gateway::ServerOptions{})));
  auto loaded = gateway::load_config_file(ANXIN_SOURCE_DIR "/assets/anxin.conf.json", {});
  REQUIRE(loaded.ok());
  const std::string docs = test::read_file(ANXIN_SOURCE_DIR "/docs/configuration.md");
  for (const auto& k : gateway::config_keys()) {
    INFO(k.name);
    CHECK(docs.find("`" + std::string(k.name) + "`") != std::string::npos);
  }
}

TEST_CASE("the timers file refuses what it does not know or cannot take, naming the key", "[config]") {
  auto [text, key] = GENERATE(table<std::string, std::string>({
      {R"({"offer_timout_s": 60})", "offer_timout_s: unknown key"},
      {R"({"offer_timeout_s": 0})", "offer_timeout_s: 0 is out of range (1 to 3600 seconds)"},
      {R"({"offer_timeout_s": 3601})", "offer_timeout_s: 3601 is out of range"},
      {R"({"late_margin_s": -1})", "late_margin_s: -1 is out of range"},
      {R"({"offer_timeout_s": "60"})", "offer_timeout_s: must be a number of seconds"},
      {R"({"offer_timeout_s": true})", "offer_timeout_s: must be a number of seconds"},
      {R"({"offer_timeout_s": null})", "offer_timeout_s: must be a number of seconds"},
      {R"({"timers": {"offer_timeout_s": 60}})", "timers: unknown key"},
      {R"({"hello_timeout_s": 2.5})", "hello_timeout_s: must be a whole number of seconds"},
      {R"({"timer_tick_s": 0.01})", "timer_tick_s: 0.01 is out of range (0.05 to 5 seconds)"},
      {R"({"ack_escalation_s": 120, "ack_escalation_long_s": 90})", "ack_escalation_long_s: must not be shorter"},
      {R"({"ack_escalation_long_s": 30})", "ack_escalation_long_s: must not be shorter"},
      {R"({"visits": {"often": 1}})", "visits: unknown key 'often'"},
      {R"({"visits": {"general": {"times": 9, "per": "week", "mode": "phone"}}})", "visits: 'times' must be 1..7"},
      {R"({"visits": {"key": {"times": 1, "per": "day", "mode": "home"}}})", "visits: 'per' must be week or month"},
      {R"({"visits": {"far_m": 5}})", "visits: 'far_m' must be 10..100000"},
      {"offer_timeout_s = 60", "centre.json: not valid JSON"},
      {"[60]", "centre.json: must be a JSON object"},
  }));
  INFO(text);
  auto r = gateway::apply_config(text, {}, "centre.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(key) != std::string::npos);
  CHECK(r.error().message.rfind("centre.json: ", 0) == 0);
}

TEST_CASE("the visits policy in the config file sets the district's frequencies", "[config][visits]") {
  auto r = gateway::apply_config(
      R"({"visits": {"general": {"times": 2, "per": "week", "mode": "phone"}, "phone_tries": 2}})", {}, "c.json");
  REQUIRE(r.ok());
  CHECK(r.value().visits.general.frequency.times == 2);
  CHECK(r.value().visits.general.frequency.per == visits::Per::week);
  CHECK(r.value().visits.phone_tries == 2);
  CHECK(r.value().visits.key.frequency.per == visits::Per::week);  // the rest keep their defaults
}

TEST_CASE("each timer takes the ends of its range and nothing beyond", "[config]") {
  for (const auto& k : gateway::config_keys()) {
    INFO(k.name);
    const std::string name(k.name);
    // The long unacknowledged threshold may not be under the first.
    json base = name == "ack_escalation_long_s" ? json{{"ack_escalation_s", 1}}
                : name == "ack_escalation_s"    ? json{{"ack_escalation_long_s", 86400}}
                                                : json::object();
    auto with = [&](double v) {
      json j = base;
      j[name] = v;
      return gateway::apply_config(j.dump(), {});
    };
    CHECK(with(k.min_s).ok());
    CHECK(with(k.max_s).ok());
    CHECK_FALSE(with(k.max_s + 1).ok());
    CHECK_FALSE(with(k.min_s - (k.whole ? 1 : 0.01)).ok());
  }
  CHECK_FALSE(gateway::load_config_file("/nonexistent/anxin.conf.json", {}).ok());
}
