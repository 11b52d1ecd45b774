// The autotest's steps and state for manual incidents and history (issue 14):
//   open-incident ELDER|unknown[:PHONE] KIND SOURCE [TEXT]   what the form's Enter sends;
//                               waits for the answer (a refusal fails the test)
//   history-search [elder=T] [from=D] [to=D] [kind=K] [by=NAME] [disposition=D]
//                               what the History view's filters send; waits for the page
//   record ID                   the whole record of one incident; waits for it
//   reopen ID REASON            reopen_incident; waits for the answer, ok or refused
//                               (check /reopen/status)
// State: /manual_opened, /open_incident, /manual_form, /history, /history_ui, /record, /reopen.
#include <sstream>

#include "autotest.hpp"
#include "autotest_history.hpp"

namespace anxin::console {
namespace {
using nlohmann::json;
}  // namespace

bool history_op(const std::string& op) {
  return op == "open-incident" || op == "history-search" || op == "record" || op == "reopen";
}

void history_json(const App& app, json& dump) {
  dump["manual_opened"] = nullptr;
  if (const auto& m = app.manual_opened())
    dump["manual_opened"] = {{"incident_id", m->incident}, {"alert_id", m->alert}, {"elder_id", m->elder},
                             {"joined", m->joined}, {"acknowledged", m->acknowledged}};
  dump["open_incident"] = request_json(app.last_request(0, Action::open_incident));
  const ManualForm& f = app.ui().manual;
  dump["manual_form"] = {{"open", f.open}, {"elder_id", f.elder}, {"unknown", f.unknown},
                         {"kind", name_of(kManualKinds[f.kind])}, {"source", kManualSources[f.source]},
                         {"found", app.found_elders(0) ? json(app.found_elders(0)->elders.size()) : json(nullptr)}};
  dump["history"] = nullptr;
  if (const auto& h = app.history()) {
    json rows = json::array();
    for (const auto& r : h->rows)
      rows.push_back({{"id", r.id}, {"elder_id", r.elder}, {"elder_name", r.elder_name}, {"lead_kind", name_of(r.lead_kind)},
                      {"source", r.source}, {"disposition", r.disposition}, {"resolved_by", r.resolved_by},
                      {"opened_ms", r.opened_ms}});
    const Request* asked = app.last_request(0, Action::history);
    dump["history"] = {{"total", h->total}, {"offset", h->offset}, {"rows", rows},
                       {"fresh", asked && asked->status != Request::Status::sending}};
  }
  const HistoryUi& u = app.ui().history;
  dump["history_ui"] = {{"row", u.row},       {"record", u.record},         {"kind", u.kind},
                        {"disposition", u.disposition}, {"reopen_open", u.reopen_open},
                        {"reopen_confirm", u.reopen_confirm}, {"page", u.page}};
  dump["record"] = nullptr;
  if (const auto& r = app.record()) {
    const Incident& i = r->incident;
    json reports = json::array();
    for (const auto& v : r->reports) {
      json areas = json::array();
      for (auto a : v.visit.areas) areas.push_back(name_of(a));
      reports.push_back({{"worker", v.worker}, {"notes", v.visit.notes}, {"hazards", v.visit.hazards}, {"areas", areas}});
    }
    dump["record"] = {{"id", i.id}, {"state", name_of(i.state)}, {"elder_name", r->elder.name},
                      {"disposition", i.disposition}, {"timeline", i.timeline.size()}, {"alerts", r->alerts.size()},
                      {"assignments", i.assignments.size()}, {"calls", i.calls.size()}, {"reports", reports},
                      {"reopen_until_ms", r->reopen_until_ms}};
  }
  dump["reopen"] = request_json(app.last_request(0, Action::reopen));
}

bool Autotest::history_step(const App& app, const Step& s, Commands& out) {
  auto answered = [&](IncidentId incident, Action action, bool refusal_fails) {
    if (frames_ < 2) return false;
    const Request* r = app.last_request(incident, action);
    if (!r || r->status == Request::Status::sending) return false;
    if (refusal_fails && r->status != Request::Status::ok)
      return fail(s.op + " " + s.arg + ": " + (r->error.empty() ? "no reply" : r->error));
    return true;
  };
  std::istringstream in(s.arg);
  if (s.op == "open-incident") {
    if (frames_ == 1) {
      std::string who, kind, source, text;
      in >> who >> kind >> source;
      std::getline(in >> std::ws, text);
      ManualIncidentIn m;
      if (who.rfind("unknown", 0) == 0) {
        m.unknown = true;
        if (auto colon = who.find(':'); colon != std::string::npos) m.caller_phone = who.substr(colon + 1);
      } else {
        m.elder = std::stoll(who);
      }
      auto k = parse_enum<AlertKind>(kind);
      if (!k) return fail("open-incident: unknown kind " + kind);
      m.kind = *k;
      m.source = source;
      m.text = text;
      out.push(cmd::OpenIncident{m});
      return false;
    }
    return answered(0, Action::open_incident, true);
  }
  if (s.op == "history-search") {
    if (frames_ == 1) {
      protocol::HistoryQuery q;
      for (std::string kv; in >> kv;) {
        const auto eq = kv.find('=');
        const std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (k == "elder") q.elder_text = v;
        else if (k == "elder_id") q.elder = std::stoll(v);
        else if (k == "from") q.from_ms = std::stoll(v);
        else if (k == "to") q.to_ms = std::stoll(v);
        else if (k == "kind") q.kind = parse_enum<AlertKind>(v);
        else if (k == "by") q.resolved_by = v;
        else if (k == "disposition") q.disposition = parse_enum<Disposition>(v);
        else return fail("history-search: unknown filter " + k);
      }
      out.push(cmd::History{q});
      return false;
    }
    return answered(0, Action::history, true);
  }
  if (s.op == "record") {
    if (frames_ == 1) {
      out.push(cmd::IncidentRecord{std::stoll(s.arg)});
      return false;
    }
    return answered(0, Action::incident_record, true);
  }
  // reopen ID REASON
  IncidentId id = 0;
  std::string reason;
  in >> id;
  std::getline(in >> std::ws, reason);
  if (frames_ == 1) {
    out.push(cmd::Reopen{id, reason});
    return false;
  }
  return answered(id, Action::reopen, false);
}

}  // namespace anxin::console
