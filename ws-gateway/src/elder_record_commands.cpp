// The elder's care record on the wire (issue 14, item 6; elder_record.hpp): a
// supervisor's change and a console's reveal of the entry code. Each is one write on
// the store's writer: the record is read, changed and audited (old -> new per field),
// or the code read and its reveal audited, in one transaction, and the answer leaves
// only once that is durable. Reads of the record ride with `elder` (commands.cpp).
#include <nlohmann/json.hpp>

#include "server_impl.hpp"

namespace anxin::gateway {

namespace {

bool is_supervisor(const Principal& who) {
  return who.role == Role::console && who.subject.rfind("supervisor:", 0) == 0;
}

}  // namespace

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::UpdateElderRecord& a) {
  if (!is_supervisor(*s.who))
    return error_reply(s, req, {ErrorCode::forbidden, "only supervisors change an elder's care record"});
  if (!dispatcher.has_elder(a.elder)) return error_reply(s, req, {ErrorCode::bad_field, "no elder " + std::to_string(a.elder)});
  if (auto wrong = elder_record::check(a.patch)) return error_reply(s, req, *wrong);
  const Millis now = clock.now_ms();
  const std::string actor = s.who->subject, name = display_name(*s.who);
  SqlWrite write{[elder = a.elder, patch = a.patch, now, actor, name](sqlite3* db) {
    ElderRecord r = elder_record::load(db, elder, true);
    const std::string changes = elder_record::apply(r, patch);
    if (changes == "{}") return;  // the same as before: nothing to write or audit
    r.updated_ms = now;
    r.updated_by = name;
    elder_record::save(db, r);
    elder_record::audit(db, now, actor, "elder_record_updated", 0,
                        nlohmann::json{{"elder_id", elder}, {"changes", nlohmann::json::parse(changes)}}.dump());
  }};
  store.submit({std::move(write)}, [this, session = s.id, req, elder = a.elder] {
    release({{session, 0, frame_of({req, proto::Ok{elder}})}});
  });
  return {};
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::RevealEntry& a) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles reveal entry codes"});
  if (!dispatcher.has_elder(a.elder)) return error_reply(s, req, {ErrorCode::bad_field, "no elder " + std::to_string(a.elder)});
  if (a.incident) {
    const Incident* i = dispatcher.incident(a.incident);
    if (!i || i->elder != a.elder)
      return error_reply(s, req, {ErrorCode::bad_field, "incident " + std::to_string(a.incident) +
                                                            " is no open incident of elder " + std::to_string(a.elder)});
  }
  // The code is read in the transaction that writes the audit line, and goes out only
  // once that line is durable: nobody sees a code whose reveal is not on record.
  auto found = std::make_shared<proto::EntryCode>(proto::EntryCode{a.elder, "", ""});
  SqlWrite write{[found, incident = a.incident, now = clock.now_ms(), actor = s.who->subject](sqlite3* db) {
    const ElderRecord r = elder_record::load(db, found->elder, false);
    found->entry = r.entry;
    found->code = r.entry_code;
    elder_record::audit(db, now, actor, "entry_revealed", incident,
                        nlohmann::json{{"elder_id", found->elder}, {"had_code", !r.entry_code.empty()}}.dump());
  }};
  store.submit({std::move(write)}, [this, session = s.id, req, found] {
    release({{session, 0, frame_of({req, *found})}});
  });
  return {};
}

}  // namespace anxin::gateway
