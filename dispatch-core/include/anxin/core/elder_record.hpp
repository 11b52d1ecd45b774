// The elder's care record (issue 14, item 6): what an operator needs on a call and a
// responder at the door: chronic conditions, medication, allergies, the preferred
// hospital, how to get in (with a key safe or door code that is masked everywhere and
// only revealed by an audited request), hearing and dialect notes, and a small photo.
//
// It lives in its own table (elder_care, schema v11), read on demand with the elder's
// history and never held in the Dispatcher's memory: a city's million elders must fit
// in memory without it. This module owns the record's rules (what a supervisor may
// write, what the audit says) and its table; it calls only SQLite and the store's
// helpers. The gateway reads it on the reader thread and writes it through the writer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "anxin/core/domain.hpp"
#include "anxin/core/errors.hpp"

struct sqlite3;

namespace anxin {

struct ElderRecord {
  ElderId elder = 0;
  std::vector<std::string> conditions;   // chronic conditions: 高血压, 糖尿病 …
  std::vector<std::string> medications;  // "二甲双胍 0.5g 每日两次"
  std::vector<std::string> allergies;    // "青霉素"
  std::string hospital;                  // preferred hospital
  std::string entry;                     // how to get in, in words: "钥匙盒在门左侧"
  std::string entry_code;                // the key safe or door code: never sent but by reveal_entry
  bool has_entry_code = false;           // what the wire says instead of the code
  std::string hearing;                   // "左耳听力差，说话慢一点"
  std::string dialect;                   // "只讲曹县方言"
  std::string photo;                     // PNG or JPEG bytes; sent only when asked for
  bool has_photo = false;
  Millis updated_ms = 0;
  std::string updated_by;                // the supervisor's name
};

// A supervisor's change: only the fields present change; an empty value clears one.
struct ElderRecordPatch {
  std::optional<std::vector<std::string>> conditions, medications, allergies;
  std::optional<std::string> hospital, entry, entry_code, hearing, dialect, photo;
  bool empty() const;
};

namespace elder_record {

inline constexpr size_t kMaxText = 200;         // bytes, each text field
inline constexpr size_t kMaxItems = 20;         // per list
inline constexpr size_t kMaxItem = 100;         // bytes, per list item
inline constexpr size_t kMaxCode = 32;          // bytes, the entry code
inline constexpr size_t kMaxPhotoBytes = 32 * 1024;  // a small picture (a client frame is at most 64 KiB)

// Why a patch may not be applied (E_BAD_FIELD), or nullopt.
std::optional<Error> check(const ElderRecordPatch& patch);

// Applies `patch` to `record` and says what changed for the audit log: a JSON object
// {"field": {"old": …, "new": …}} per changed field. The entry code and the photo
// are never written into it: {"entry_code": {"changed": true, "set": bool}},
// {"photo": {"old_bytes": n, "new_bytes": m}}. "{}" when nothing changed.
std::string apply(ElderRecord& record, const ElderRecordPatch& patch);

// The table (store.cpp's migration 11 creates it). load() reads one elder's row
// (a record with only `elder` set when there is none); the photo's bytes only when
// asked for, `has_photo` always.
ElderRecord load(sqlite3* db, ElderId elder, bool with_photo);
void save(sqlite3* db, const ElderRecord& record);
// An audit line written in the same transaction (the gateway's writes of the record).
void audit(sqlite3* db, Millis at_ms, const std::string& actor, const std::string& action, IncidentId incident,
           const std::string& detail);

}  // namespace elder_record
}  // namespace anxin
