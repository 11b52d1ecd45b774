// The priority of an open incident, and why. The score is the sum of the points of
// its reasons; docs/ranking.md gives the table and the thinking behind each weight.
//
// Two parts: a base, which changes only when something happens to the incident (an
// alert joins, the call-back goes unanswered) and travels with it to the consoles;
// and waiting points, which grow with the time an incident has gone unacknowledged,
// so that a waiting incident rises and none starves. Server and consoles compute
// the waiting part with the same function, so every screen shows the same order.
#pragma once

#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin {

struct RankWeights {
  // alert kinds
  int smoke = 100, gas = 100, sos = 80, fall = 80, inactivity = 70, vital_abnormal = 70;
  int geofence_exit = 45, geofence_exit_dementia = 80;
  int bed_exit_long = 45, no_water_use = 45, water_leak = 40, door_open_long = 35;
  int offline = 20, low_battery = 10;
  int phone_call = 80;  // as an SOS: the one-key phone calls the centre
  // the elder
  int tier_key = 25, tier_sub_key = 10;
  int living_alone = 20, elderly_only = 15, empty_nest = 10, left_behind = 10;
  int age_80 = 10, age_90 = 20;
  // what has happened
  int callback_no_answer = 40;
  int callback_needs_help = 30;
  int per_extra_kind = 15, max_extra_kinds = 45;
  // waiting, while unacknowledged
  int waiting_points_per_min = 4;
};

int kind_points(AlertKind kind, bool dementia, const RankWeights& w);

// The base part, with its reasons, for an incident of `elder` aged `age`.
struct RankBase {
  int points = 0;
  std::vector<RankReason> reasons;
};
RankBase rank_base(const Incident& incident, const Elder& elder, int age, const RankWeights& w = {});
// The same into `reasons`, returning the points: each reason is written over the one
// in its place, in its string's room (a re-ranked incident's reasons need no new text).
int rank_base(const Incident& incident, const Elder& elder, int age, const RankWeights& w,
              std::vector<RankReason>& reasons);

// Points for waiting: from opening until acknowledgement (or now, if not yet).
int waiting_points(const Incident& incident, Millis now, const RankWeights& w = {});

inline int rank_score(const Incident& incident, Millis now, const RankWeights& w = {}) {
  return incident.rank_base + waiting_points(incident, now, w);
}

// Queue order: higher score first; ties by older opening, then lower id. The same
// inputs always give the same order.
bool ranks_before(const Incident& a, const Incident& b, Millis now, const RankWeights& w = {});

}  // namespace anxin
