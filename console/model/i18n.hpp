// The console's words in Simplified Chinese and English: every label the views
// draw and a display name for every domain enum. Pure data, no ImGui, so the
// table can be checked headless and scanned for the glyphs the font must hold.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "anxin/core/domain.hpp"

namespace anxin::console {

enum class Lang { zh, en };

std::optional<Lang> parse_lang(std::string_view text);  // "zh" / "en"

// Labels. Add a key here and a row in i18n.cpp (a static_assert keeps them paired).
enum class Msg {
  app_name,
  // connection
  conn_connecting,
  conn_authenticating,
  conn_synced,
  conn_disconnected,
  conn_resyncing,
  banner_reconnecting,
  banner_stale,
  // status bar
  operator_label,
  server_time,
  count_open,
  count_acknowledged,
  other_language,  // the toggle shows the language it switches to
  // queue
  queue_title,
  queue_empty,
  col_elder,
  col_tier,
  col_alert,
  col_town,
  col_state,
  col_waiting,
  // incident
  incident_none_selected,
  incident_gone,
  incident_label,
  opened_at,
  acknowledge,
  ack_sending,
  ack_ok,
  ack_refused,
  ack_no_reply,
  ack_not_connected,
  acknowledged_by,
  elder_card,
  sex,
  age,
  years_old,
  tier,
  living,
  ability,
  not_assessed,
  disability_grade,
  grade_prefix,  // "Grade 2" / "2级"
  grade_suffix,
  none,
  dementia,
  special_family,
  economic,
  address,
  phone,
  id_number,
  contacts,
  contact_name,
  contact_relation,
  family_doctor,
  paired_worker,
  visit_consent,
  yes,
  no,
  consent_given,
  consent_missing,
  timeline,
  col_time,
  col_event,
  col_actor,
  col_detail,
  count_  // not a label
};

const char* tr(Lang, Msg);
const char* tr(Lang, AlertKind);
const char* tr(Lang, CareTier);
const char* tr(Lang, LivingSituation);
const char* tr(Lang, Ability);
const char* tr(Lang, EconomicStatus);
const char* tr(Lang, IncidentState);
const char* tr(Lang, TimelineKind);
const char* tr(Lang, Sex);
const char* tr(Lang, Severity);

// Calls `each` with every string above, in both languages: the font loader
// builds its glyph set from them when it cannot afford the full CJK block.
void for_each_text(const std::function<void(const char*)>& each);

}  // namespace anxin::console
