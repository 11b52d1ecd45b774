#include "visit_board.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_set>

#include "anxin/core/protocol.hpp"

namespace anxin::console {
namespace {

using nlohmann::json;

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

template <class N>
N number(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<N>() : N{};
}

size_t count(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? it->size() : 0;
}

const json& array(const json& j, const char* key) {
  static const json empty = json::array();
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}

VisitItem item_of(const json& j) {
  VisitItem v;
  v.elder = number<ElderId>(j, "elder_id");
  v.name = text(j, "name"), v.phone = text(j, "phone"), v.town = text(j, "town"), v.community = text(j, "community");
  v.tier = parse_enum<CareTier>(text(j, "tier"));
  v.plan = text(j, "plan"), v.mode = text(j, "mode"), v.state = text(j, "state"), v.reason = text(j, "reason");
  v.due_date = text(j, "due_date"), v.campaign = text(j, "campaign");
  v.slot = number<int>(j, "slot"), v.of = number<int>(j, "of"), v.tries = number<int>(j, "tries");
  return v;
}

VisitRate rate_of(const json& j) {
  VisitRate r;
  r.key = text(j, "key");
  r.elders = number<int>(j, "elders"), r.visited = number<int>(j, "visited");
  r.planned = number<int>(j, "planned"), r.done = number<int>(j, "done");
  r.rate = number<double>(j, "rate"), r.completion = number<double>(j, "completion");
  return r;
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  for (const json& x : array(j, key))
    if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

CampaignProgress campaign_of(const json& x) {
  CampaignProgress c;
  c.id = number<std::int64_t>(x, "campaign_id");
  c.name = text(x, "name"), c.reason = text(x, "reason");
  c.first_date = text(x, "first_date"), c.last_date = text(x, "last_date");
  if (x.contains("reach_by_hour")) c.reach_by_hour = number<int>(x, "reach_by_hour");
  c.tiers = strings(x, "tiers"), c.towns = strings(x, "towns"), c.living = strings(x, "living");
  c.active = x.value("active", false);
  c.chosen = number<int>(x, "chosen"), c.reached = number<int>(x, "reached");
  return c;
}

}  // namespace

std::string start_campaign_frame(const CampaignForm& f) {
  json j = {{"type", "start_campaign"}, {"name", f.name}, {"reason", f.reason}, {"reach_by_hour", f.reach_by_hour}};
  if (!f.first_date.empty()) j["first_date"] = f.first_date;
  if (!f.last_date.empty()) j["last_date"] = f.last_date;
  else if (!f.first_date.empty()) j["last_date"] = f.first_date;
  if (!f.tiers.empty()) j["tiers"] = f.tiers;
  if (!f.towns.empty()) j["towns"] = f.towns;
  if (!f.living.empty()) j["living"] = f.living;
  return j.dump();
}

std::string import_roster_frame(std::string_view bytes, std::string_view encoding) {
  return json{{"type", "import_roster"},
              {"encoding", encoding.empty() ? std::string("utf-8") : std::string(encoding)},
              {"csv_base64", protocol::base64_encode(bytes)}}
      .dump();
}

VisitsAnswer read_visits_reply(std::string_view text_in, std::string* error) {
  const json j = json::parse(text_in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    if (error) *error = "not a JSON object";
    return std::monostate{};
  }
  try {
    const std::string type = text(j, "type");
    if (type == "visits_changed") return VisitsChanged{};
    if (type == "visit_list") {
      VisitList l;
      l.list = text(j, "list"), l.date = text(j, "date");
      std::unordered_set<ElderId> elders;
      for (const json& x : array(j, "visits")) {
        l.visits.push_back(item_of(x));
        elders.insert(l.visits.back().elder);
      }
      l.elders = elders.size();
      return l;
    }
    if (type == "visit_recorded") {
      VisitRecorded r;
      r.record = number<std::int64_t>(j, "record_id");
      r.elder = number<ElderId>(j, "elder_id");
      r.outcome = text(j, "outcome");
      r.tries = number<int>(j, "tries");
      r.home_visit_due = j.value("home_visit_due", false);
      return r;
    }
    if (type == "visit_report") {
      VisitReport r;
      r.period = text(j, "period"), r.from = text(j, "from"), r.to = text(j, "to");
      if (auto t = j.find("total"); t != j.end() && t->is_object()) r.total = rate_of(*t);
      for (const json& x : array(j, "towns")) r.towns.push_back(rate_of(x));
      r.overdue = count(j, "overdue"), r.flagged = count(j, "flagged"), r.open_hazards = count(j, "open_hazards");
      for (const json& x : array(j, "flagged")) {
        FlaggedVisit v;
        v.visit = number<std::int64_t>(x, "visit_id"), v.elder = number<ElderId>(x, "elder_id");
        v.worker = number<WorkerId>(x, "worker_id");
        v.name = text(x, "name"), v.actor = text(x, "actor"), v.mode = text(x, "mode");
        v.minutes = number<std::int64_t>(x, "minutes"), v.distance_m = number<std::int64_t>(x, "distance_m");
        v.flags = strings(x, "flags");
        r.flagged_visits.push_back(std::move(v));
      }
      for (const json& x : array(j, "open_hazards")) {
        OpenHazard h;
        h.id = number<std::int64_t>(x, "hazard_id"), h.elder = number<ElderId>(x, "elder_id");
        h.name = text(x, "name"), h.area = text(x, "area"), h.text = text(x, "text");
        h.found_ms = number<Millis>(x, "found_ms"), h.due_ms = number<Millis>(x, "due_ms");
        if (number<Millis>(x, "closed_ms") == 0) r.hazards.push_back(std::move(h));
      }
      return r;
    }
    if (type == "campaigns") {
      CampaignList l;
      l.date = text(j, "date");
      for (const json& x : array(j, "campaigns")) l.campaigns.push_back(campaign_of(x));
      return l;
    }
    if (type == "campaign") {
      auto c = j.find("campaign");
      if (c == j.end() || !c->is_object()) throw std::runtime_error("'campaign' is missing");
      return CampaignChanged{campaign_of(*c)};
    }
    if (type == "pairing") {
      Pairing p;
      p.max_elders_per_visitor = number<int>(j, "max_elders_per_visitor");
      for (const json& x : array(j, "unpaired"))
        p.unpaired.push_back({number<ElderId>(x, "elder_id"), text(x, "name"), text(x, "town"), text(x, "community")});
      for (const json& x : array(j, "overloaded"))
        p.overloaded.push_back({number<WorkerId>(x, "worker_id"), text(x, "name"), number<int>(x, "elders")});
      return p;
    }
    if (type == "hazard_closed") return HazardClosed{number<std::int64_t>(j, "hazard_id")};
    if (type == "roster_imported") {
      RosterImported r;
      r.added = number<int>(j, "added"), r.updated = number<int>(j, "updated"), r.devices = number<int>(j, "devices");
      for (const json& x : array(j, "tier_changes"))
        r.tier_changes.push_back({number<ElderId>(x, "elder_id"), text(x, "from"), text(x, "to")});
      return r;
    }
    if (type == "export") {
      ReportFile f;
      f.report = text(j, "report"), f.format = text(j, "format"), f.name = text(j, "name");
      f.rows = number<int>(j, "rows");
      auto bytes = protocol::base64_decode(text(j, "content_base64"));
      if (!bytes) {
        if (error) *error = "'content_base64' is not base64";
        return std::monostate{};
      }
      f.content = std::move(*bytes);
      return f;
    }
  } catch (const std::exception& e) {
    if (error) *error = e.what();
  }
  return std::monostate{};
}

std::string safe_file_name(std::string_view name) {
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  while (!name.empty() && name.front() == '.') name.remove_prefix(1);
  std::string out;
  for (char c : name)
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  return out.empty() ? "anxin-export" : out;
}

}  // namespace anxin::console
