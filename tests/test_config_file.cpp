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
    "timer_tick_s": 0.5, "webhook_timeout_s": 5, "webhook_backoff_s": 1.5, "realert_escalate_s": 90,
    "reopen_within_s": 7200, "registry_image_check_s": 30})",
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
  CHECK(o.config.realert_escalation_ms == 90'000);
  CHECK(o.config.reopen_within_ms == 7'200'000);
  CHECK(o.registry_image_check_s == 30);
  // Fourteen keys above: every key the file knows.
  CHECK(gateway::config_keys().size() == 14);
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
      {R"({"supervision": {"check_in": 60}})", "supervision: unknown key 'check_in'"},
      {R"({"supervision": {"check_in_s": {"toaster": 60}}})", "supervision: check_in_s: 'toaster' is no device kind"},
      {R"({"supervision": {"grace_s": {"smoke": -1}}})", "supervision: grace_s.smoke must be whole seconds"},
      {R"({"supervision": {"battery_low_pct": [20, 0]}})", "supervision: 'battery_low_pct' holds percentages 1..99"},
      {R"({"intake": []})", "intake: must be an object"},
      {R"({"intake": {"window": 300}})", "intake: unknown key 'window'"},
      {R"({"intake": {"window_s": 5}})", "intake: window_s: must be a whole number of seconds from 10 to 3600"},
      {R"({"intake": {"window_s": 30.5}})", "intake: window_s: must be a whole number"},
      {R"({"intake": {"vendors": ["hx-iot"]}})", "intake: vendors: must be an object"},
      {R"({"intake": {"vendors": {"hx iot": {"secret": "0123456789abcdef"}}}})", "intake: vendors: 'hx iot': a vendor name"},
      {R"({"intake": {"vendors": {"hx-iot": "0123456789abcdef"}}})", "intake: vendors: hx-iot: must be an object"},
      {R"({"intake": {"vendors": {"hx-iot": {}}}})", "intake: vendors: hx-iot: 'secret' is missing"},
      {R"({"intake": {"vendors": {"hx-iot": {"secret": "short"}}}})", "intake: vendors: hx-iot: 'secret' must be a string of at least 16 bytes"},
      {R"({"intake": {"vendors": {"hx-iot": {"secret": "0123456789abcdef", "key": 1}}}})", "intake: vendors: hx-iot: unknown key 'key'"},
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

TEST_CASE("the supervision object sets check-ins per device kind and keeps the rest", "[config][devices]") {
  auto r = gateway::apply_config(
      R"({"supervision": {"check_in_s": {"sos_button": 600}, "grace_s": {"sos_button": 120}, "alarm_burst": 5}})", {},
      "c.json");
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  const auto& s = r->config.supervision;
  CHECK(s.check_in.at(DeviceKind::sos_button).every_ms == 600'000);
  CHECK(s.check_in.at(DeviceKind::sos_button).grace_ms == 120'000);
  CHECK(s.check_in.at(DeviceKind::smoke).every_ms == 24 * 3600'000LL);  // the default
  CHECK(s.alarm_burst == 5);
  const json printed = json::parse(gateway::config_json(r.value()))["supervision"];
  CHECK(printed["check_in_s"]["sos_button"] == 600);
  CHECK(printed["battery_low_pct"] == json::array({20, 10, 5}));
}

TEST_CASE("frame_limits sets the frames each connection may send and refuses what it cannot take", "[config]") {
  auto r = gateway::apply_config(R"({"frame_limits": {"vendor": {"per_s": 60000, "at_once": 200000}}})", {}, "c.json");
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  CHECK(r->vendor_frame_limit.per_s == 60000);
  CHECK(r->vendor_frame_limit.burst == 200000);
  CHECK(r->frame_limit.per_s == 100);  // the rest keep their defaults
  CHECK(r->frame_limit.burst == 500);
  const json printed = json::parse(gateway::config_json(r.value()))["frame_limits"];
  CHECK(printed == json::parse(R"({"connection": {"per_s": 100, "at_once": 500}, "vendor": {"per_s": 60000, "at_once": 200000}})"));

  const auto refused = [](const char* text) {
    auto bad = gateway::apply_config(text, {}, "c.json");
    return bad.ok() ? std::string("(taken)") : bad.error().message;
  };
  CHECK(refused(R"({"frame_limits": {"device": {"per_s": 1}}})") ==
        "c.json: frame_limits: unknown key 'device' (the keys are connection and vendor)");
  CHECK(refused(R"({"frame_limits": {"vendor": {"rate": 1}}})") ==
        "c.json: frame_limits: vendor: unknown key 'rate' (the keys are per_s and at_once)");
  CHECK(refused(R"({"frame_limits": {"vendor": {"per_s": "many"}}})") ==
        "c.json: frame_limits: vendor: per_s: must be a number from 0 to 1000000, not \"many\"");
  CHECK(refused(R"({"frame_limits": {"connection": {"per_s": -1}}})").find("from 0 to") != std::string::npos);
  CHECK(refused(R"({"frame_limits": {"connection": {"at_once": 0}}})") ==
        "c.json: frame_limits: connection: at_once must be at least 1 while per_s is not 0 (per_s 0 turns the limit off)");
  CHECK(refused(R"({"frame_limits": [100, 500]})").find("frame_limits: must be an object") != std::string::npos);
  CHECK(refused(R"({"frame_limits": {"vendor": 2000}})").find("frame_limits: vendor: must be an object") != std::string::npos);
  CHECK(gateway::apply_config(R"({"frame_limits": {"connection": {"per_s": 0, "at_once": 0}}})", {}).ok());
}

TEST_CASE("the config file's intake sets the vendors' secrets and never prints them", "[config][intake]") {
  auto r = gateway::apply_config(
      R"({"intake": {"window_s": 120, "vendors": {"hx-iot": {"secret": "s3cret-of-hx-iot-0001"},
                                                   "acme": {"secret": "s3cret-of-acme-0002"}}}})",
      {}, "c.json");
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  CHECK(r->intake_window_s == 120);
  CHECK(r->intake_secrets == std::map<std::string, std::string>{{"hx-iot", "s3cret-of-hx-iot-0001"},
                                                                {"acme", "s3cret-of-acme-0002"}});
  const std::string printed = gateway::config_json(r.value());
  CHECK(printed.find("s3cret") == std::string::npos);
  CHECK(json::parse(printed)["intake"] == json::parse(R"({"window_s": 120, "vendors": {"acme": {}, "hx-iot": {}}})"));
  // Printed, the vendors have no secret: read back, that is refused, not taken as none.
  auto back = gateway::apply_config(printed, {}, "printed.json");
  REQUIRE_FALSE(back.ok());
  CHECK(back.error().message.find("'secret' is missing") != std::string::npos);
  // Off by default.
  CHECK(gateway::ServerOptions{}.intake_secrets.empty());
  CHECK(test::read_file(ANXIN_SOURCE_DIR "/docs/configuration.md").find("`intake`") != std::string::npos);
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

TEST_CASE("the dc09 object sets the receiver and refuses what it cannot take", "[config][dc09]") {
  auto r = gateway::apply_config(R"({"dc09": {"port": 7603, "window_s_before": 30, "window_s_after": 10,
    "accounts": {"12ab": {"device": "D1", "zones": {"2": "D2"}, "key": "30313233343536373839414243444546"}}}})",
                                 {}, "c.json");
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  CHECK(r->dc09_port == 7603);
  CHECK(r->dc09.window_s_before == 30);
  CHECK(r->dc09.window_s_after == 10);
  REQUIRE(r->dc09.accounts.count("12AB"));
  CHECK(r->dc09.accounts.at("12AB").device == "D1");
  CHECK(r->dc09.accounts.at("12AB").zones.at("002") == "D2");
  // Printed without the key, which read back is refused rather than taken as none.
  const std::string printed = gateway::config_json(r.value());
  CHECK(printed.find("3031323334") == std::string::npos);
  auto again = gateway::apply_config(printed, {}, "c.json");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().message.find("dc09: accounts: 12AB: 'key_set'") != std::string::npos);

  auto [text, key] = GENERATE(table<std::string, std::string>({
      {R"({"dc09": []})", "dc09: must be an object"},
      {R"({"dc09": {"prt": 1}})", "dc09: unknown key 'prt'"},
      {R"({"dc09": {"port": 70000}})", "dc09: port: must be a whole number from -1 (off) to 65535"},
      {R"({"dc09": {"window_s_after": 0}})", "dc09: window_s_after: must be a whole number of seconds from 1 to 3600"},
      {R"({"dc09": {"accounts": {"12": {}}}})", "dc09: accounts: '12': an account number is 3 to 16 hex digits"},
      {R"({"dc09": {"accounts": {"1234": {"key": "abc"}}}})", "dc09: accounts: 1234: key: must be 32, 48 or 64 hex digits"},
      {R"({"dc09": {"accounts": {"1234": {"zones": {"A1": "D1"}}}}})", "dc09: accounts: 1234: zones: 'A1': a zone is 1 to 4 digits"},
      {R"({"dc09": {"accounts": {"1234": {"zones": {"1": "D1", "001": "D2"}}}}})", "is given twice"},
      {R"({"dc09": {"accounts": {"1234": {"device": ""}}}})", "dc09: accounts: 1234: device: must be a device serial"},
      {R"({"dc09": {"accounts": {"1234": {"pin": 1}}}})", "dc09: accounts: 1234: unknown key 'pin'"},
  }));
  INFO(text);
  auto bad = gateway::apply_config(text, {}, "c.json");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find(key) != std::string::npos);
}
