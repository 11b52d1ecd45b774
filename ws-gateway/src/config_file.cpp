// The timers file: one table of keys, each with its range and where it goes in
// ServerOptions. Adding a timer is adding a row here and a row in
// docs/configuration.md (tests/test_config_file.cpp checks that both, and the
// example file, name the same keys).
#include "anxin/gateway/config_file.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "anxin/core/visits_service.hpp"

namespace anxin::gateway {

namespace {

struct Timer {
  ConfigKey key;
  Millis (*get)(const ServerOptions&);
  void (*set)(ServerOptions&, Millis);
};

const std::vector<Timer>& timers() {
  static const std::vector<Timer> t = {
      {{"offer_timeout_s", 1, 3600, false},
       [](const ServerOptions& o) { return o.config.offer_timeout_ms; },
       [](ServerOptions& o, Millis v) { o.config.offer_timeout_ms = v; }},
      {{"family_call_timeout_s", 1, 3600, false},
       [](const ServerOptions& o) { return o.config.family_call_timeout_ms; },
       [](ServerOptions& o, Millis v) { o.config.family_call_timeout_ms = v; }},
      {{"ack_escalation_s", 1, 3600, false},
       [](const ServerOptions& o) { return o.config.ack_escalation_ms; },
       [](ServerOptions& o, Millis v) { o.config.ack_escalation_ms = v; }},
      {{"ack_escalation_long_s", 1, 86400, false},
       [](const ServerOptions& o) { return o.config.ack_escalation_long_ms; },
       [](ServerOptions& o, Millis v) { o.config.ack_escalation_long_ms = v; }},
      {{"late_margin_s", 0, 7200, false},
       [](const ServerOptions& o) { return o.config.late_margin_ms; },
       [](ServerOptions& o, Millis v) { o.config.late_margin_ms = v; }},
      {{"position_stale_after_s", 1, 86400, false},
       [](const ServerOptions& o) { return o.config.travel.stale_after_ms; },
       [](ServerOptions& o, Millis v) { o.config.travel.stale_after_ms = v; }},
      {{"session_ttl_s", 60, 7 * 86400, false},
       [](const ServerOptions& o) { return o.session_ttl_ms; },
       [](ServerOptions& o, Millis v) { o.session_ttl_ms = v; }},
      {{"hello_timeout_s", 1, 300, true},
       [](const ServerOptions& o) { return static_cast<Millis>(o.hello_timeout_s) * 1000; },
       [](ServerOptions& o, Millis v) { o.hello_timeout_s = static_cast<int>(v / 1000); }},
      {{"timer_tick_s", 0.05, 5, false},
       [](const ServerOptions& o) { return static_cast<Millis>(o.tick_ms); },
       [](ServerOptions& o, Millis v) { o.tick_ms = static_cast<int>(v); }},
      {{"webhook_timeout_s", 0.5, 60, false},
       [](const ServerOptions& o) { return static_cast<Millis>(o.webhook_timeout_ms); },
       [](ServerOptions& o, Millis v) { o.webhook_timeout_ms = static_cast<int>(v); }},
      {{"webhook_backoff_s", 0.1, 600, false},
       [](const ServerOptions& o) { return static_cast<Millis>(o.webhook_backoff_ms); },
       [](ServerOptions& o, Millis v) { o.webhook_backoff_ms = static_cast<int>(v); }},
  };
  return t;
}

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

Error refuse(const std::string& source, const std::string& what) {
  return Error{ErrorCode::bad_field, source + ": " + what};
}

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> k;
    for (const auto& t : timers()) k.push_back(t.key);
    return k;
  }();
  return keys;
}

Result<ServerOptions> apply_config(std::string_view json_text, ServerOptions options, const std::string& source) {
  const auto j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded()) return Error{ErrorCode::bad_json, source + ": not valid JSON"};
  if (!j.is_object()) return Error{ErrorCode::bad_json, source + ": must be a JSON object of timers"};
  for (const auto& [name, value] : j.items()) {
    if (name == "visits") {  // the visiting policy: an object of its own
      auto policy = visits::parse_policy(value.dump(), options.visits);
      if (!policy) return refuse(source, "visits: " + policy.error().message);
      options.visits = policy.value();
      continue;
    }
    const Timer* t = nullptr;
    for (const auto& candidate : timers())
      if (candidate.key.name == name) t = &candidate;
    if (!t) {
      std::string known;
      for (const auto& k : config_keys()) known += (known.empty() ? "" : ", ") + std::string(k.name);
      return refuse(source, name + ": unknown key (the keys are " + known + ")");
    }
    if (!value.is_number()) return refuse(source, name + ": must be a number of seconds, not " + value.dump());
    const double s = value.get<double>();
    if (!std::isfinite(s) || s < t->key.min_s || s > t->key.max_s)
      return refuse(source, name + ": " + value.dump() + " is out of range (" + number(t->key.min_s) + " to " +
                                number(t->key.max_s) + " seconds)");
    if (t->key.whole && s != std::floor(s))
      return refuse(source, name + ": must be a whole number of seconds, not " + value.dump());
    t->set(options, std::llround(s * 1000));
  }
  // The long threshold is the second step of the same escalation (UK TSA: 60 s, 180 s).
  if (options.config.ack_escalation_long_ms < options.config.ack_escalation_ms)
    return refuse(source, "ack_escalation_long_s: must not be shorter than ack_escalation_s (" +
                              number(options.config.ack_escalation_ms / 1000.0) + " s)");
  return options;
}

Result<ServerOptions> load_config_file(const std::string& path, ServerOptions options) {
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::bad_field, "cannot read the config file " + path};
  std::stringstream text;
  text << in.rdbuf();
  return apply_config(text.str(), std::move(options), path);
}

std::string config_json(const ServerOptions& options) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& t : timers()) {
    const Millis ms = t.get(options);
    if (ms % 1000 == 0) j[std::string(t.key.name)] = ms / 1000;
    else j[std::string(t.key.name)] = static_cast<double>(ms) / 1000;
  }
  j["visits"] = nlohmann::ordered_json::parse(visits::policy_json(options.visits));
  return j.dump(2) + "\n";
}

}  // namespace anxin::gateway
