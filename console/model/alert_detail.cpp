#include "alert_detail.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace anxin::console {
namespace {

using json = nlohmann::json;

std::string number(const json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) {
    const double d = v.get<double>();
    char buf[32];
    std::snprintf(buf, sizeof buf, std::abs(d - std::round(d)) < 1e-9 ? "%.0f" : "%.1f", d);
    return buf;
  }
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

const json* first(const json& j, std::initializer_list<const char*> keys, const char** used) {
  for (const char* k : keys) {
    auto it = j.find(k);
    if (it != j.end() && !it->is_null()) {
      *used = k;
      return &*it;
    }
  }
  return nullptr;
}

// Wall-clock time at the centre (UTC+8), as every time on the console reads.
std::string hm(long long ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000 + 8 * 3600);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M", &tm);
  return buf;
}

}  // namespace

std::string describe_alert_detail(Lang lang, std::string_view text) {
  if (text.empty() || text == "{}") return "";
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::string(text);
  const bool zh = lang == Lang::zh;
  std::string out;
  json rest = j;
  auto add = [&](const std::string& words) {
    if (words.empty()) return;
    if (!out.empty()) out += " · ";
    out += words;
  };
  auto label = [&](Msg m) { return std::string(tr(lang, m)); };
  // A reading: the label, the value and its unit; `keys` are the names devices use.
  auto reading = [&](std::initializer_list<const char*> keys, Msg name, const char* unit_zh, const char* unit_en) {
    const char* used = nullptr;
    if (const json* v = first(j, keys, &used)) {
      add(label(name) + " " + number(*v) + (zh ? unit_zh : unit_en));
      for (const char* k : keys) rest.erase(k);
    }
  };
  reading({"heart_rate", "hr", "pulse"}, Msg::vt_heart_rate, " 次/分", "/min");
  reading({"breath_rate", "respiration_rate", "respiratory_rate", "rr"}, Msg::vt_respiration, " 次/分", "/min");
  reading({"spo2", "blood_oxygen", "oxygen_saturation"}, Msg::vt_spo2, "%", "%");
  // Blood pressure: two numbers, or one "150/95" text.
  {
    const char* used = nullptr;
    const json* sys = first(j, {"systolic", "bp_systolic", "sbp"}, &used);
    const json* dia = first(j, {"diastolic", "bp_diastolic", "dbp"}, &used);
    const json* bp = first(j, {"blood_pressure", "bp"}, &used);
    if (sys && dia) add(label(Msg::vt_blood_pressure) + " " + number(*sys) + "/" + number(*dia) + " mmHg");
    else if (bp) add(label(Msg::vt_blood_pressure) + " " + number(*bp) + " mmHg");
    for (const char* k : {"systolic", "bp_systolic", "sbp", "diastolic", "bp_diastolic", "dbp", "blood_pressure", "bp"})
      if ((sys && dia) || bp) rest.erase(k);
  }
  reading({"temperature", "temp_c", "body_temp", "temperature_c"}, Msg::vt_temperature, " ℃", " °C");
  reading({"blood_glucose", "glucose"}, Msg::vt_glucose, " mmol/L", " mmol/L");
  char buf[128];
  auto formatted = [&](const char* key, Msg fmt) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return;
    std::snprintf(buf, sizeof buf, tr(lang, fmt), number(*it).c_str());
    add(buf);
    rest.erase(key);
  };
  formatted("minutes", Msg::vt_minutes_fmt);
  formatted("hours", Msg::vt_hours_fmt);
  formatted("distance_m", Msg::vt_distance_fmt);
  formatted("battery_pct", Msg::vt_battery_fmt);
  formatted("threshold_pct", Msg::vt_threshold_fmt);
  if (auto it = j.find("last_seen_ms"); it != j.end() && it->is_number_integer()) {
    add(label(Msg::vt_last_heard) + " " + (it->get<long long>() > 0 ? hm(it->get<long long>()) : label(Msg::vt_never)));
    rest.erase("last_seen_ms");
  }
  if (j.value("raised_by", "") == "server") {
    add(label(Msg::vt_raised_by_server));
    rest.erase("raised_by");
  }
  // A DC-09 panel's event (docs/dc09.md): its zone and the event in the panel's words.
  if (auto it = j.find("zone"); it != j.end()) {
    add(label(Msg::vt_zone) + " " + number(*it));
    rest.erase("zone");
  }
  if (auto it = j.find("event"); it != j.end() && it->is_string()) {
    add(it->get<std::string>());
    rest.erase("event");
  }
  if (auto it = j.find("text"); it != j.end() && it->is_string()) {
    add(it->get<std::string>());
    rest.erase("text");
  }
  for (const auto& [key, v] : rest.items()) {
    if (v.is_null()) continue;
    if (v.is_boolean()) add(key + ": " + label(v.get<bool>() ? Msg::yes : Msg::no));
    else if (v.is_object() || v.is_array()) add(key + ": " + v.dump());
    else add(key + ": " + number(v));
  }
  return out;
}

}  // namespace anxin::console
