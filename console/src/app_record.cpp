// App, the care record's half (issue 14, item 6): revealing an elder's entry code
// (the server audits it; the code is kept for App::kRevealShownMs, then the view
// masks it again) and a supervisor's change to the record, after which the elder's
// detail is read again so the card shows what the server now holds.
#include <fstream>
#include <iterator>

#include "app.hpp"

namespace anxin::console {
namespace proto = anxin::protocol;

void App::run_record(const Command& command) {
  if (auto* c = std::get_if<cmd::RevealEntry>(&command)) {
    revealed_.reset();
    send(Action::reveal_entry, c->incident, proto::RevealEntry{c->elder, c->incident});
  } else if (auto* c = std::get_if<cmd::UpdateElderRecord>(&command)) {
    ElderRecordPatch patch = c->patch;
    if (!c->photo_path.empty()) {
      // A picture file becomes the photo; one that cannot be read, or is too big to
      // send, stops the save here and says so in the form.
      std::ifstream in(c->photo_path, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) bytes.clear();
      if (bytes.empty() || bytes.size() > elder_record::kMaxPhotoBytes) {
        ui_.record.photo_unreadable = true;
        return;
      }
      patch.photo = std::move(bytes);
    }
    record_reqs_[send(Action::update_record, 0, proto::UpdateElderRecord{c->elder, std::move(patch)})] = c->elder;
  }
}

bool App::on_record_message(const proto::ServerMessage& m) {
  if (auto* b = std::get_if<proto::EntryCode>(&m.body)) {
    revealed_ = RevealedEntry{b->elder, b->entry, b->code, server_now_ms() + kRevealShownMs};
    on_reply(m.req, std::nullopt);
    return true;
  }
  return false;
}

void App::on_record_reply(const Request& r, std::int64_t) {
  if (r.action != Action::update_record) return;
  auto it = record_reqs_.find(r.req);
  if (it == record_reqs_.end()) return;
  const ElderId elder = it->second;
  record_reqs_.erase(it);
  ui_.record.edit_open = false;
  ui_.record.saved_elder = elder;
  // The card keeps showing the old record until the new one comes.
  send(Action::elder, 0, proto::ElderQuery{elder, true});
}

}  // namespace anxin::console
