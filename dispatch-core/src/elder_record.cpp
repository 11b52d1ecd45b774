// The elder's care record (elder_record.hpp): its rules, its table and its JSON.
// Calls SQLite, the store's helpers and the protocol's base64; nothing else.
#include "anxin/core/elder_record.hpp"

#include <sqlite3.h>

#include "anxin/core/protocol.hpp"
#include "elder_record_json.hpp"
#include "json_util.hpp"
#include "store_sql.hpp"

namespace anxin {

bool ElderRecordPatch::empty() const {
  return !conditions && !medications && !allergies && !hospital && !entry && !entry_code && !hearing && !dialect &&
         !photo;
}

namespace elder_record {

namespace {

using json = nlohmann::json;
using json_util::fail;

bool has_control(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

std::optional<Error> check_text(const char* name, const std::optional<std::string>& v, size_t max) {
  if (!v) return std::nullopt;
  if (v->size() > max)
    return Error{ErrorCode::bad_field, std::string("'") + name + "' is at most " + std::to_string(max) + " bytes"};
  if (has_control(*v)) return Error{ErrorCode::bad_field, std::string("'") + name + "' holds a control character"};
  return std::nullopt;
}

std::optional<Error> check_list(const char* name, const std::optional<std::vector<std::string>>& v) {
  if (!v) return std::nullopt;
  if (v->size() > kMaxItems)
    return Error{ErrorCode::bad_field, std::string("'") + name + "' holds at most " + std::to_string(kMaxItems) + " items"};
  for (const auto& item : *v) {
    if (item.empty()) return Error{ErrorCode::bad_field, std::string("'") + name + "' holds an empty item"};
    if (auto e = check_text(name, item, kMaxItem)) return e;
  }
  return std::nullopt;
}

bool is_picture(const std::string& bytes) {
  return bytes.rfind("\x89PNG\r\n\x1a\n", 0) == 0 || bytes.rfind("\xFF\xD8\xFF", 0) == 0;
}

json list(const std::vector<std::string>& v) { return json(v); }

std::vector<std::string> list_from(const std::string& text) {
  std::vector<std::string> out;
  const json j = json::parse(text, nullptr, false);
  if (j.is_array())
    for (const auto& x : j)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

std::vector<std::string> need_list(const json& j, const char* key) {
  std::vector<std::string> out;
  for (const auto& x : json_util::need_array(j, key)) {
    if (!x.is_string()) fail(ErrorCode::bad_field, std::string("'") + key + "' must hold strings");
    out.push_back(x.get<std::string>());
  }
  return out;
}

}  // namespace

std::optional<Error> check(const ElderRecordPatch& p) {
  if (p.empty()) return Error{ErrorCode::missing_field, "the record holds nothing to change"};
  if (auto e = check_list("conditions", p.conditions)) return e;
  if (auto e = check_list("medications", p.medications)) return e;
  if (auto e = check_list("allergies", p.allergies)) return e;
  if (auto e = check_text("hospital", p.hospital, kMaxText)) return e;
  if (auto e = check_text("entry", p.entry, kMaxText)) return e;
  if (auto e = check_text("entry_code", p.entry_code, kMaxCode)) return e;
  if (auto e = check_text("hearing", p.hearing, kMaxText)) return e;
  if (auto e = check_text("dialect", p.dialect, kMaxText)) return e;
  if (p.photo && !p.photo->empty()) {
    if (p.photo->size() > kMaxPhotoBytes)
      return Error{ErrorCode::bad_field, "the photo is at most " + std::to_string(kMaxPhotoBytes) + " bytes"};
    if (!is_picture(*p.photo)) return Error{ErrorCode::bad_field, "the photo must be a PNG or JPEG image"};
  }
  return std::nullopt;
}

std::string apply(ElderRecord& r, const ElderRecordPatch& p) {
  json changes = json::object();
  auto put_list = [&](const char* name, std::vector<std::string>& field, const auto& v) {
    if (!v || *v == field) return;
    changes[name] = {{"old", field}, {"new", *v}};
    field = *v;
  };
  auto put_text = [&](const char* name, std::string& field, const std::optional<std::string>& v) {
    if (!v || *v == field) return;
    changes[name] = {{"old", field}, {"new", *v}};
    field = *v;
  };
  put_list("conditions", r.conditions, p.conditions);
  put_list("medications", r.medications, p.medications);
  put_list("allergies", r.allergies, p.allergies);
  put_text("hospital", r.hospital, p.hospital);
  put_text("entry", r.entry, p.entry);
  put_text("hearing", r.hearing, p.hearing);
  put_text("dialect", r.dialect, p.dialect);
  // The code and the photo are not copied into the audit log: the code would leak
  // through it, and the photo is too big for a line.
  if (p.entry_code && *p.entry_code != r.entry_code) {
    changes["entry_code"] = {{"changed", true}, {"set", !p.entry_code->empty()}};
    r.entry_code = *p.entry_code;
  }
  r.has_entry_code = !r.entry_code.empty();
  if (p.photo && *p.photo != r.photo) {
    changes["photo"] = {{"old_bytes", r.photo.size()}, {"new_bytes", p.photo->size()}};
    r.photo = *p.photo;
  }
  r.has_photo = !r.photo.empty();
  return changes.dump();
}

ElderRecord load(sqlite3* db, ElderId elder, bool with_photo) {
  using store_sql::Stmt;
  ElderRecord r;
  r.elder = elder;
  Stmt s(db,
         "SELECT conditions, medications, allergies, hospital, entry, entry_code, hearing, dialect,"
         " photo IS NOT NULL AND length(photo) > 0, updated_ms, updated_by FROM elder_care WHERE elder_id = ?");
  s.bind(1, elder);
  if (s.next()) {
    r.conditions = list_from(s.text(0));
    r.medications = list_from(s.text(1));
    r.allergies = list_from(s.text(2));
    r.hospital = s.text(3), r.entry = s.text(4), r.entry_code = s.text(5);
    r.hearing = s.text(6), r.dialect = s.text(7);
    r.has_photo = s.i64(8) != 0;
    r.updated_ms = s.i64(9);
    r.updated_by = s.text(10);
    while (s.next()) {
    }
  }
  r.has_entry_code = !r.entry_code.empty();
  if (with_photo && r.has_photo) {
    Stmt p(db, "SELECT photo FROM elder_care WHERE elder_id = ?");
    p.bind(1, elder);
    if (p.next()) {
      r.photo = p.text(0);  // the blob's bytes, as they are
      while (p.next()) {
      }
    }
  }
  return r;
}

void save(sqlite3* db, const ElderRecord& r) {
  sqlite3_stmt* s = nullptr;
  store_sql::check(db,
                   sqlite3_prepare_v2(db,
                                      "INSERT OR REPLACE INTO elder_care(elder_id, conditions, medications, allergies,"
                                      " hospital, entry, entry_code, hearing, dialect, photo, updated_ms, updated_by)"
                                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                      -1, &s, nullptr),
                   "prepare elder_care");
  auto text = [&](int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  };
  sqlite3_bind_int64(s, 1, r.elder);
  text(2, list(r.conditions).dump());
  text(3, list(r.medications).dump());
  text(4, list(r.allergies).dump());
  text(5, r.hospital), text(6, r.entry), text(7, r.entry_code), text(8, r.hearing), text(9, r.dialect);
  if (r.photo.empty()) sqlite3_bind_null(s, 10);
  else sqlite3_bind_blob(s, 10, r.photo.data(), static_cast<int>(r.photo.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 11, r.updated_ms);
  text(12, r.updated_by);
  const int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  store_sql::check(db, rc, "save elder_care");
}

void audit(sqlite3* db, Millis at_ms, const std::string& actor, const std::string& action, IncidentId incident,
           const std::string& detail) {
  store_sql::Stmt s(db, "INSERT INTO audit(at_ms, actor, action, incident_id, detail) VALUES (?, ?, ?, ?, ?)");
  s.bind(1, at_ms).bind(2, actor).bind(3, action).bind(4, incident).bind(5, detail).run();
}

// --- the wire -------------------------------------------------------------------------------

json record_json(const ElderRecord& r) {
  json j = {{"conditions", r.conditions},
            {"medications", r.medications},
            {"allergies", r.allergies},
            {"hospital", r.hospital},
            {"entry", r.entry},
            {"has_entry_code", r.has_entry_code || !r.entry_code.empty()},
            {"hearing", r.hearing},
            {"dialect", r.dialect},
            {"has_photo", r.has_photo || !r.photo.empty()},
            {"updated_ms", r.updated_ms},
            {"updated_by", r.updated_by}};
  if (!r.photo.empty()) j["photo_base64"] = protocol::base64_encode(r.photo);
  return j;
}

ElderRecord record_from(const json& j, ElderId elder) {
  using namespace json_util;
  ElderRecord r;
  r.elder = elder;
  if (has(j, "conditions")) r.conditions = need_list(j, "conditions");
  if (has(j, "medications")) r.medications = need_list(j, "medications");
  if (has(j, "allergies")) r.allergies = need_list(j, "allergies");
  r.hospital = opt_string(j, "hospital");
  r.entry = opt_string(j, "entry");
  r.has_entry_code = opt_bool(j, "has_entry_code", false);
  r.hearing = opt_string(j, "hearing");
  r.dialect = opt_string(j, "dialect");
  r.has_photo = opt_bool(j, "has_photo", false);
  if (has(j, "photo_base64")) {
    auto bytes = protocol::base64_decode(need_string(j, "photo_base64"));
    if (!bytes) fail(ErrorCode::bad_field, "'photo_base64' is not base64");
    r.photo = std::move(*bytes);
  }
  r.updated_ms = opt_int(j, "updated_ms", 0);
  r.updated_by = opt_string(j, "updated_by");
  return r;
}

json patch_json(const ElderRecordPatch& p) {
  json j = json::object();
  if (p.conditions) j["conditions"] = *p.conditions;
  if (p.medications) j["medications"] = *p.medications;
  if (p.allergies) j["allergies"] = *p.allergies;
  if (p.hospital) j["hospital"] = *p.hospital;
  if (p.entry) j["entry"] = *p.entry;
  if (p.entry_code) j["entry_code"] = *p.entry_code;
  if (p.hearing) j["hearing"] = *p.hearing;
  if (p.dialect) j["dialect"] = *p.dialect;
  if (p.photo) j["photo_base64"] = protocol::base64_encode(*p.photo);
  return j;
}

ElderRecordPatch patch_from(const json& j) {
  using namespace json_util;
  if (!j.is_object()) fail(ErrorCode::bad_field, "'record' must be an object");
  ElderRecordPatch p;
  for (const auto& [key, v] : j.items()) {
    if (v.is_null()) fail(ErrorCode::bad_field, "'" + key + "' may not be null (\"\" or [] clears it)");
    if (key == "conditions") p.conditions = need_list(j, "conditions");
    else if (key == "medications") p.medications = need_list(j, "medications");
    else if (key == "allergies") p.allergies = need_list(j, "allergies");
    else if (key == "hospital") p.hospital = need_string(j, "hospital");
    else if (key == "entry") p.entry = need_string(j, "entry");
    else if (key == "entry_code") p.entry_code = need_string(j, "entry_code");
    else if (key == "hearing") p.hearing = need_string(j, "hearing");
    else if (key == "dialect") p.dialect = need_string(j, "dialect");
    else if (key == "photo_base64") {
      auto bytes = protocol::base64_decode(need_string(j, "photo_base64"));
      if (!bytes) fail(ErrorCode::bad_field, "'photo_base64' is not base64");
      p.photo = std::move(*bytes);
    } else {
      fail(ErrorCode::bad_field, "unknown field '" + key +
                                     "' (the record's fields are conditions, medications, allergies, hospital, entry,"
                                     " entry_code, hearing, dialect and photo_base64)");
    }
  }
  return p;
}

}  // namespace elder_record
}  // namespace anxin
