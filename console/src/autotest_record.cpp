// The autotest's steps and state for the care record (issue 14, items 6-7):
//   reveal-entry                the selected incident's elder's entry code, as V asks
//                               for it; waits for the answer (a refusal fails the test)
//   update-record K=V ...       what the supervisor's form sends for the selected
//                               incident's elder: conditions=a,b medications=.. allergies=..
//                               hospital=.. entry=.. entry_code=.. hearing=.. dialect=..
//                               photo=PATH (underscores read as spaces); waits for the
//                               answer, ok or refused (check /update_record/status)
// State: /elder_detail/record, /revealed, /reveal_entry, /update_record, /record_form,
// /readings (the incident header's words), /candidates/N/{rank,connected,reasons},
// /workers/N/phone.
#include <sstream>

#include "alert_detail.hpp"
#include "autotest.hpp"
#include "autotest_record.hpp"

namespace anxin::console {
namespace {
using nlohmann::json;

std::vector<std::string> split_items(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream in(v);
  for (std::string x; std::getline(in, x, ',');)
    if (!x.empty()) out.push_back(x);
  return out;
}
}  // namespace

bool record_op(const std::string& op) { return op == "reveal-entry" || op == "update-record"; }

void record_json(const App& app, json& dump) {
  const Replica& r = app.replica();
  const Incident* i = app.selected() ? r.incident(*app.selected()) : nullptr;
  if (i && dump["elder_detail"].is_object())
    if (const auto* d = app.elder_detail(i->elder); d && d->record) {
      const ElderRecord& x = *d->record;
      dump["elder_detail"]["record"] = {
          {"conditions", x.conditions}, {"medications", x.medications}, {"allergies", x.allergies},
          {"hospital", x.hospital},     {"entry", x.entry},             {"has_entry_code", x.has_entry_code},
          {"entry_code", x.entry_code}, {"hearing", x.hearing},         {"dialect", x.dialect},
          {"has_photo", x.has_photo},   {"photo_bytes", x.photo.size()}, {"updated_by", x.updated_by}};
    }
  dump["revealed"] = nullptr;
  if (const auto& v = app.revealed_entry())
    dump["revealed"] = {{"elder_id", v->elder}, {"code", v->code}, {"entry", v->entry},
                        {"shown", app.server_now_ms() < v->until_ms}};
  dump["reveal_entry"] = request_json(i ? app.last_request(i->id, Action::reveal_entry) : nullptr);
  dump["update_record"] = request_json(app.last_request(0, Action::update_record));
  dump["record_form"] = {{"open", app.ui().record.edit_open}, {"elder_id", app.ui().record.elder}};
  // The header's readings, as it words them.
  dump["readings"] = nullptr;
  if (i)
    for (auto t = i->timeline.rbegin(); t != i->timeline.rend(); ++t)
      if (t->kind == TimelineKind::alert && t->alert_kind != AlertKind::phone_call)
        if (auto words = describe_alert_detail(app.lang(), t->text); !words.empty()) {
          dump["readings"] = words;
          break;
        }
  // Candidates in the order shown (the order D offers them), with why.
  if (i && dump["candidates"].is_array())
    if (const auto* c = app.candidates(i->id))
      for (size_t k = 0; k < c->candidates.size() && k < dump["candidates"].size(); ++k) {
        const auto& v = c->candidates[k];
        json reasons = json::array();
        for (const auto& x : v.reasons) reasons.push_back(x.code);
        dump["candidates"][k]["rank"] = k + 1;
        dump["candidates"][k]["connected"] = v.candidate.connected;
        dump["candidates"][k]["reasons"] = reasons;
      }
  if (dump["workers"].is_array())
    for (auto& w : dump["workers"])
      if (const Worker* x = r.worker(w.value("id", WorkerId{0}))) w["phone"] = x->phone;
}

bool Autotest::record_step(const App& app, const Step& s, Commands& out) {
  const Incident* i = app.selected() ? app.replica().incident(*app.selected()) : nullptr;
  if (!i) return fail(s.op + ": no incident selected");
  if (s.op == "reveal-entry") {
    if (frames_ == 1) {
      out.push(cmd::RevealEntry{i->elder, i->id});
      return false;
    }
    const Request* r = app.last_request(i->id, Action::reveal_entry);
    if (frames_ < 2 || !r || r->status == Request::Status::sending) return false;
    return r->status == Request::Status::ok || fail("reveal-entry: " + (r->error.empty() ? "no reply" : r->error));
  }
  // update-record K=V ...
  if (frames_ == 1) {
    cmd::UpdateElderRecord c;
    c.elder = i->elder;
    std::istringstream in(s.arg);
    for (std::string kv; in >> kv;) {
      const auto eq = kv.find('=');
      const std::string k = kv.substr(0, eq);
      std::string v = eq == std::string::npos ? "" : kv.substr(eq + 1);
      for (char& ch : v)
        if (ch == '_') ch = ' ';
      ElderRecordPatch& p = c.patch;
      if (k == "conditions") p.conditions = split_items(v);
      else if (k == "medications") p.medications = split_items(v);
      else if (k == "allergies") p.allergies = split_items(v);
      else if (k == "hospital") p.hospital = v;
      else if (k == "entry") p.entry = v;
      else if (k == "entry_code") p.entry_code = v;
      else if (k == "hearing") p.hearing = v;
      else if (k == "dialect") p.dialect = v;
      else if (k == "photo") c.photo_path = kv.substr(eq + 1);
      else return fail("update-record: unknown field " + k);
    }
    out.push(c);
    return false;
  }
  const Request* r = app.last_request(0, Action::update_record);
  return frames_ >= 2 && r && r->status != Request::Status::sending;
}

}  // namespace anxin::console
