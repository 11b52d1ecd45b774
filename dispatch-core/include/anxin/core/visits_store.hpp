// The visiting programme's tables (schema version 7), and the writes that keep them:
// each a SqlWrite for the store's writer, so a visit is on disk before anyone is told.
// The roster's elders and devices are written here too, as an import or a change of
// one elder goes through the writer like everything else the running server changes.
#pragma once

#include <optional>
#include <string>

#include "anxin/core/store.hpp"
#include "anxin/core/visits.hpp"

namespace anxin::visits {

inline constexpr const char* kSchema = R"sql(
CREATE TABLE visit_records(
  id INTEGER PRIMARY KEY,
  elder_id INTEGER NOT NULL REFERENCES elders(id),
  worker_id INTEGER NOT NULL DEFAULT 0,      -- 0: an operator's call
  actor TEXT NOT NULL,
  mode TEXT NOT NULL,                        -- phone, online, encounter, home
  outcome TEXT NOT NULL CHECK (outcome IN ('started', 'done', 'no_answer', 'cancelled')),
  reason TEXT NOT NULL,
  campaign_id INTEGER NOT NULL DEFAULT 0,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL DEFAULT 0,    -- 0 while started
  start_lat REAL NOT NULL DEFAULT 0, start_lon REAL NOT NULL DEFAULT 0,
  finish_lat REAL NOT NULL DEFAULT 0, finish_lon REAL NOT NULL DEFAULT 0,
  start_distance_m REAL NOT NULL DEFAULT 0,
  flags TEXT NOT NULL DEFAULT '',            -- comma-separated: far_from_home, too_short
  note TEXT NOT NULL DEFAULT '');
CREATE INDEX visit_records_by_elder ON visit_records(elder_id, finished_ms);
CREATE INDEX visit_records_by_time ON visit_records(finished_ms);

CREATE TABLE hazards(
  id INTEGER PRIMARY KEY,
  elder_id INTEGER NOT NULL REFERENCES elders(id),
  visit_id INTEGER NOT NULL DEFAULT 0,
  area TEXT NOT NULL,
  text TEXT NOT NULL,
  owner_worker INTEGER NOT NULL DEFAULT 0,
  found_ms INTEGER NOT NULL,
  due_ms INTEGER NOT NULL,
  closed_ms INTEGER NOT NULL DEFAULT 0,
  closed_by TEXT NOT NULL DEFAULT '',
  close_note TEXT NOT NULL DEFAULT '');

-- An elder's own plan (一人一方案), set by a supervisor over the district policy.
CREATE TABLE own_plans(
  elder_id INTEGER PRIMARY KEY REFERENCES elders(id),
  times INTEGER NOT NULL CHECK (times BETWEEN 1 AND 31),
  per TEXT NOT NULL CHECK (per IN ('week', 'month')),
  mode TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_ms INTEGER NOT NULL);

CREATE TABLE campaigns(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  reason TEXT NOT NULL,
  first_date TEXT NOT NULL,
  last_date TEXT NOT NULL,
  reach_by_hour INTEGER NOT NULL,
  tiers TEXT NOT NULL DEFAULT '[]',          -- JSON arrays; empty: all
  towns TEXT NOT NULL DEFAULT '[]',
  living TEXT NOT NULL DEFAULT '[]',
  started_by TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER NOT NULL DEFAULT 0);

-- A device's no-water or inactivity report during a campaign: that day's visit at home.
CREATE TABLE campaign_raises(
  elder_id INTEGER NOT NULL,
  day TEXT NOT NULL,
  campaign_id INTEGER NOT NULL,
  alert_kind TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY (elder_id, day));
)sql";

// Reads the programme's rows into `book`, whose elders are already in it.
void load(const Store& store, Book& book, Day today);

SqlWrite write(const Record& record);
SqlWrite write(const Hazard& hazard);
SqlWrite write(const Campaign& campaign);
SqlWrite write_own_plan(ElderId elder, const std::optional<PlanOverride>& own, const std::string& by, Millis at);
SqlWrite write_raise(ElderId elder, Day day, std::int64_t campaign, AlertKind kind, Millis at);
// The roster: an elder added or changed (its contacts replaced), a device added or moved.
SqlWrite write_elder(const Elder& elder);
SqlWrite write_device(const Device& device);

}  // namespace anxin::visits
