// The visiting programme as the console shows it (docs/visits.md): the server's
// visits replies (protocol::VisitsReply, a JSON object with its "type") read into
// plain values once, when they arrive, so the views draw rows and figures without
// touching JSON every frame. No ImGui, no sockets: tested headless.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin::console {

// One row of a worklist (`visit_list`).
struct VisitItem {
  ElderId elder = 0;
  std::string name, phone, town, community;
  std::optional<CareTier> tier;
  std::string plan;    // "1/month phone"
  std::string mode;    // phone, online, home, encounter
  std::string state;   // upcoming, due, late, done, missed
  std::string reason;  // plan, phone_unreached, campaign, campaign_unreached, device
  std::string due_date, campaign;
  int slot = 0, of = 0, tries = 0;
};
struct VisitList {
  std::string list, date;  // list: "phone" or "field"
  std::vector<VisitItem> visits;
  size_t elders = 0;  // distinct elders: one may have two rows (the plan's and a campaign's)
};

// The answer to a phone_visit_result.
struct VisitRecorded {
  std::int64_t record = 0;
  ElderId elder = 0;
  std::string outcome;  // reached, no_answer
  int tries = 0;        // unanswered calls today
  bool home_visit_due = false;
  std::string name;     // not in the reply: the console fills it from its list
};

// A rate row: the seeds' 探访率 (visited / elders) and completion (done / planned).
struct VisitRate {
  std::string key;
  int elders = 0, visited = 0, planned = 0, done = 0;
  double rate = 0, completion = 0;  // per cent
};
// A visit flagged for the supervisor (proof of visit): far from home, or too short.
struct FlaggedVisit {
  std::int64_t visit = 0;
  ElderId elder = 0;
  WorkerId worker = 0;
  std::string name, actor, mode;
  std::int64_t minutes = 0, distance_m = 0;
  std::vector<std::string> flags;  // far_from_home, too_short
};
// A hazard found on a visit, open until closed with a note (close_hazard).
struct OpenHazard {
  std::int64_t id = 0;
  ElderId elder = 0;
  std::string name, area, text;  // area: health, home_safety, ... (ServiceArea's names)
  Millis found_ms = 0, due_ms = 0;
};
struct VisitReport {
  std::string period, from, to;  // period: "week" or "month"; dates inclusive
  VisitRate total;
  std::vector<VisitRate> towns;
  size_t overdue = 0, flagged = 0, open_hazards = 0;
  std::vector<FlaggedVisit> flagged_visits;
  std::vector<OpenHazard> hazards;
};

struct CampaignProgress {
  std::int64_t id = 0;
  std::string name, reason, first_date, last_date;
  int reach_by_hour = 16;
  std::vector<std::string> tiers, towns, living;  // empty: all
  bool active = false;
  int chosen = 0, reached = 0;  // reached today
};
// The answer to start_campaign or end_campaign: the campaign as it now is.
struct CampaignChanged {
  CampaignProgress campaign;
};

// `pairing` (结对帮扶): elders with no visitor, visitors with too many elders.
struct Pairing {
  int max_elders_per_visitor = 0;
  struct Unpaired {
    ElderId elder = 0;
    std::string name, town, community;
  };
  struct Overloaded {
    WorkerId worker = 0;
    std::string name;
    int elders = 0;
  };
  std::vector<Unpaired> unpaired;
  std::vector<Overloaded> overloaded;
};

struct HazardClosed {
  std::int64_t id = 0;
};

// `roster_imported`: what a roster file changed.
struct RosterImported {
  int added = 0, updated = 0, devices = 0;
  struct TierChange {
    ElderId elder = 0;
    std::string from, to;
  };
  std::vector<TierChange> tier_changes;
};

// The supervisor's campaign form (发起专项关爱) as plain values: each list empty
// means all; an empty date means today (the server's).
struct CampaignForm {
  std::string name;
  std::string reason = "weather";  // weather, festival, public_health
  std::string first_date, last_date;
  int reach_by_hour = 16;
  std::vector<std::string> tiers, towns, living;
};
// The start_campaign frame the form sends (JSON, with "type").
std::string start_campaign_frame(const CampaignForm& form);
// The import_roster frame for a file's bytes; encoding "utf-8" or "gbk".
std::string import_roster_frame(std::string_view file_bytes, std::string_view encoding);
// The largest roster file one frame carries (docs/visits.md: about 45 KiB).
inline constexpr size_t kMaxRosterFileBytes = 45 * 1024;
struct CampaignList {
  std::string date;
  std::vector<CampaignProgress> campaigns;
};

// An `export_report` answer, decoded.
struct ReportFile {
  std::string report, format, name;
  int rows = 0;
  std::string content;
};

struct VisitsChanged {};

// What a visits reply says; monostate for the ones the console does not show.
using VisitsAnswer = std::variant<std::monostate, VisitsChanged, VisitList, VisitRecorded, VisitReport,
                                  CampaignList, ReportFile, CampaignChanged, Pairing, HazardClosed, RosterImported>;
// Throws nothing: a reply that cannot be read is monostate (and `error`, when given, says why).
VisitsAnswer read_visits_reply(std::string_view json, std::string* error = nullptr);

// A file name from the server made safe to write in the export directory: its
// last path component, no leading dots; "anxin-export" when nothing is left.
std::string safe_file_name(std::string_view name);

}  // namespace anxin::console
