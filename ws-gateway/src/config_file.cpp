// The timers file: one table of keys, each with its range and where it goes in
// ServerOptions. Adding a timer is adding a row here and a row in
// docs/configuration.md (tests/test_config_file.cpp checks that both, and the
// example file, name the same keys).
#include "anxin/gateway/config_file.hpp"

#include <cctype>
#include <cmath>
#include <optional>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "anxin/core/visits_service.hpp"
#include "dc09.hpp"

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
      {{"realert_escalate_s", 1, 3600, false},  // attention.cpp (issue 14)
       [](const ServerOptions& o) { return o.config.realert_escalation_ms; },
       [](ServerOptions& o, Millis v) { o.config.realert_escalation_ms = v; }},
      {{"reopen_within_s", 0, 30 * 86400, false},  // dispatch_manual.cpp (issue 14)
       [](const ServerOptions& o) { return o.config.reopen_within_ms; },
       [](ServerOptions& o, Millis v) { o.config.reopen_within_ms = v; }},
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
      {{"registry_image_check_s", 1, 3600, true},  // image_keeper.hpp (issue 15, item 5)
       [](const ServerOptions& o) { return static_cast<Millis>(o.registry_image_check_s) * 1000; },
       [](ServerOptions& o, Millis v) { o.registry_image_check_s = static_cast<int>(v / 1000); }},
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

// Frames a connection may send (docs/security.md): {"connection": {"per_s": 100,
// "at_once": 500}, "vendor": {"per_s": 2000, "at_once": 10000}}. A centre whose vendor
// platform forwards a whole city's alarms over a few connections raises "vendor".
std::optional<std::string> apply_frame_limits(const nlohmann::json& v, ServerOptions& options) {
  constexpr const char* kShape = "must be an object: {\"connection\": {\"per_s\": 100, \"at_once\": 500}, \"vendor\": {...}}";
  if (!v.is_object()) return kShape;
  RateLimit connection = options.frame_limit, vendor = options.vendor_frame_limit;
  for (const auto& [who, x] : v.items()) {
    RateLimit* limit = who == "connection" ? &connection : who == "vendor" ? &vendor : nullptr;
    if (!limit) return "unknown key '" + who + "' (the keys are connection and vendor)";
    if (!x.is_object()) return who + ": must be an object: {\"per_s\": 2000, \"at_once\": 10000}";
    for (const auto& [k, n] : x.items()) {
      const bool rate = k == "per_s";
      if (!rate && k != "at_once") return who + ": unknown key '" + k + "' (the keys are per_s and at_once)";
      const double max = rate ? 1e6 : 1e7;
      if (!n.is_number() || !std::isfinite(n.get<double>()) || n.get<double>() < 0 || n.get<double>() > max)
        return who + ": " + k + ": must be a number from 0 to " + std::to_string(static_cast<long long>(max)) + ", not " + n.dump();
      (rate ? limit->per_s : limit->burst) = n.get<double>();
    }
    if (limit->per_s > 0 && limit->burst < 1)
      return who + ": at_once must be at least 1 while per_s is not 0 (per_s 0 turns the limit off)";
  }
  options.frame_limit = connection;
  options.vendor_frame_limit = vendor;
  return std::nullopt;
}

// The signed HTTP intake (docs/protocol.md, "HTTP intake"):
// {"window_s": 300, "vendors": {"hx-iot": {"secret": "..."}}}. What is wrong with it,
// or nothing; `options` changes only when it is all right.
std::optional<std::string> apply_intake(const nlohmann::json& v, ServerOptions& options) {
  if (!v.is_object()) return "must be an object: {\"window_s\": 300, \"vendors\": {\"NAME\": {\"secret\": \"...\"}}}";
  int window_s = options.intake_window_s;
  auto secrets = options.intake_secrets;
  for (const auto& [key, x] : v.items()) {
    if (key == "window_s") {
      if (!x.is_number_integer() || x.get<long long>() < 10 || x.get<long long>() > 3600)
        return "window_s: must be a whole number of seconds from 10 to 3600, not " + x.dump();
      window_s = x.get<int>();
    } else if (key == "vendors") {
      if (!x.is_object()) return "vendors: must be an object of vendor names, each {\"secret\": \"...\"}";
      secrets.clear();
      for (const auto& [vendor, entry] : x.items()) {
        // The name devices carry as their vendor (the devices table), and X-Anxin-Vendor.
        bool name_ok = !vendor.empty() && vendor.size() <= 64;
        for (unsigned char c : vendor) name_ok = name_ok && (std::isalnum(c) || c == '-' || c == '_' || c == '.');
        if (!name_ok) return "vendors: '" + vendor + "': a vendor name is 1..64 letters, digits, '-', '_' or '.'";
        if (!entry.is_object()) return "vendors: " + vendor + ": must be an object {\"secret\": \"...\"}";
        for (const auto& [k, unused] : entry.items())
          if (k != "secret") return "vendors: " + vendor + ": unknown key '" + k + "' (the key is secret)";
        if (!entry.contains("secret"))
          return "vendors: " + vendor + ": 'secret' is missing (a printed configuration leaves secrets out)";
        if (!entry["secret"].is_string() || entry["secret"].get<std::string>().size() < 16)
          return "vendors: " + vendor + ": 'secret' must be a string of at least 16 bytes (e.g. openssl rand -hex 32)";
        secrets[vendor] = entry["secret"].get<std::string>();
      }
    } else {
      return "unknown key '" + key + "' (the keys are window_s and vendors)";
    }
  }
  options.intake_window_s = window_s;
  options.intake_secrets = std::move(secrets);
  return std::nullopt;
}

// The SIA DC-09 receiver (docs/dc09.md): {"port": 7603, "window_s_before": 40,
// "window_s_after": 20, "accounts": {"1234": {"key": "hex", "device": "D1",
// "zones": {"001": "D1"}}}}. What is wrong with it, or nothing; `options` changes
// only when it is all right.
std::optional<std::string> apply_dc09(const nlohmann::json& v, ServerOptions& options) {
  if (!v.is_object())
    return "must be an object: {\"port\": 7603, \"accounts\": {\"1234\": {\"device\": \"D1\"}}}";
  int port = options.dc09_port;
  Dc09Options dc09 = options.dc09;
  auto whole = [](const nlohmann::json& x, long long lo, long long hi) {
    return x.is_number_integer() && x.get<long long>() >= lo && x.get<long long>() <= hi;
  };
  auto serial_ok = [](const nlohmann::json& x) {
    if (!x.is_string() || x.get<std::string>().empty() || x.get<std::string>().size() > 64) return false;
    for (unsigned char c : x.get<std::string>())
      if (c < 0x21 || c > 0x7e) return false;
    return true;
  };
  for (const auto& [key, x] : v.items()) {
    if (key == "port") {
      if (!whole(x, -1, 65535)) return "port: must be a whole number from -1 (off) to 65535, not " + x.dump();
      port = x.get<int>();
    } else if (key == "window_s_before" || key == "window_s_after") {
      if (!whole(x, 1, 3600)) return key + ": must be a whole number of seconds from 1 to 3600, not " + x.dump();
      (key == "window_s_before" ? dc09.window_s_before : dc09.window_s_after) = x.get<int>();
    } else if (key == "accounts") {
      if (!x.is_object()) return "accounts: must be an object of account numbers, each {\"device\": ..., \"zones\": {...}}";
      dc09.accounts.clear();
      for (const auto& [number, entry] : x.items()) {
        bool number_ok = number.size() >= 3 && number.size() <= 16;
        for (unsigned char c : number) number_ok = number_ok && std::isxdigit(c);
        if (!number_ok) return "accounts: '" + number + "': an account number is 3 to 16 hex digits";
        std::string upper_number;
        for (unsigned char c : number) upper_number += static_cast<char>(std::toupper(c));
        if (dc09.accounts.count(upper_number)) return "accounts: " + number + " is given twice";
        if (!entry.is_object()) return "accounts: " + number + ": must be an object {\"key\", \"device\", \"zones\"}";
        Dc09Account account;
        for (const auto& [k, y] : entry.items()) {
          if (k == "key") {
            const auto raw = y.is_string() ? dc09::from_hex(y.get<std::string>()) : std::nullopt;
            if (!raw || (raw->size() != 16 && raw->size() != 24 && raw->size() != 32))
              return "accounts: " + number + ": key: must be 32, 48 or 64 hex digits (AES-128, -192 or -256)";
            account.key_hex = y.get<std::string>();
          } else if (k == "device") {
            if (!serial_ok(y)) return "accounts: " + number + ": device: must be a device serial (1..64 printable bytes)";
            account.device = y.get<std::string>();
          } else if (k == "zones") {
            if (!y.is_object()) return "accounts: " + number + ": zones: must be an object {\"001\": \"D1\"}";
            for (const auto& [zone, serial] : y.items()) {
              bool zone_ok = !zone.empty() && zone.size() <= 4;
              for (unsigned char c : zone) zone_ok = zone_ok && std::isdigit(c);
              if (!zone_ok) return "accounts: " + number + ": zones: '" + zone + "': a zone is 1 to 4 digits";
              if (!serial_ok(serial))
                return "accounts: " + number + ": zones: " + zone + ": must be a device serial (1..64 printable bytes)";
              if (!account.zones.emplace(dc09::normal_zone(zone), serial.get<std::string>()).second)
                return "accounts: " + number + ": zones: zone " + zone + " is given twice";
            }
          } else if (k == "key_set") {
            return "accounts: " + number + ": 'key_set' is what a printed configuration shows in place of a key: give the key";
          } else {
            return "accounts: " + number + ": unknown key '" + k + "' (the keys are key, device and zones)";
          }
        }
        dc09.accounts[upper_number] = std::move(account);
      }
    } else {
      return "unknown key '" + key + "' (the keys are port, window_s_before, window_s_after and accounts)";
    }
  }
  options.dc09_port = port;
  options.dc09 = std::move(dc09);
  return std::nullopt;
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
    if (name == "intake") {  // the signed HTTP intake's vendors: an object of its own
      if (auto wrong = apply_intake(value, options)) return refuse(source, "intake: " + *wrong);
      continue;
    }
    if (name == "dc09") {  // the SIA DC-09 receiver: an object of its own
      if (auto wrong = apply_dc09(value, options)) return refuse(source, "dc09: " + *wrong);
      continue;
    }
    if (name == "frame_limits") {  // frames per connection: an object of its own
      if (auto wrong = apply_frame_limits(value, options)) return refuse(source, "frame_limits: " + *wrong);
      continue;
    }
    if (name == "supervision") {  // device check-ins, low battery, alarm rates: an object of its own
      auto s = parse_supervision(value.dump(), options.config.supervision);
      if (!s) return refuse(source, "supervision: " + s.error().message);
      options.config.supervision = s.value();
      continue;
    }
    if (name == "offer_unconnected") {  // a worker whose phone page is not connected: "last" or "never"
      const std::string v = value.is_string() ? value.get<std::string>() : "";
      if (v != "last" && v != "never")
        return refuse(source, "offer_unconnected: must be \"last\" or \"never\", not " + value.dump());
      options.config.offer_unconnected =
          v == "last" ? DispatchConfig::OfferUnconnected::last : DispatchConfig::OfferUnconnected::never;
      continue;
    }
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
  j["offer_unconnected"] =
      options.config.offer_unconnected == DispatchConfig::OfferUnconnected::never ? "never" : "last";
  j["visits"] = nlohmann::ordered_json::parse(visits::policy_json(options.visits));
  j["supervision"] = nlohmann::ordered_json::parse(supervision_json(options.config.supervision));
  const auto whole = [](double v) {
    return v == std::floor(v) ? nlohmann::ordered_json(static_cast<long long>(v)) : nlohmann::ordered_json(v);
  };
  const auto limit_json = [&](const RateLimit& l) {
    return nlohmann::ordered_json{{"per_s", whole(l.per_s)}, {"at_once", whole(l.burst)}};
  };
  j["frame_limits"] = {{"connection", limit_json(options.frame_limit)}, {"vendor", limit_json(options.vendor_frame_limit)}};
  // The intake's vendors by name only: their secrets are never printed.
  nlohmann::ordered_json vendors = nlohmann::ordered_json::object();
  for (const auto& [vendor, secret] : options.intake_secrets) vendors[vendor] = nlohmann::ordered_json::object();
  j["intake"] = {{"window_s", options.intake_window_s}, {"vendors", std::move(vendors)}};
  // The DC-09 accounts with "key_set" in place of their keys: a key is never printed.
  nlohmann::ordered_json accounts = nlohmann::ordered_json::object();
  for (const auto& [number, account] : options.dc09.accounts) {
    nlohmann::ordered_json a = nlohmann::ordered_json::object();
    if (!account.key_hex.empty()) a["key_set"] = true;
    if (!account.device.empty()) a["device"] = account.device;
    if (!account.zones.empty()) a["zones"] = account.zones;
    accounts[number] = std::move(a);
  }
  j["dc09"] = {{"port", options.dc09_port},
               {"window_s_before", options.dc09.window_s_before},
               {"window_s_after", options.dc09.window_s_after},
               {"accounts", std::move(accounts)}};
  return j.dump(2) + "\n";
}

}  // namespace anxin::gateway
