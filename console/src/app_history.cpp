// App, the issue-14 half of requests and answers: incidents opened by hand (the
// answer selects the new incident in the workspace and closes the form), the
// history search, one incident's record, and reopening (which selects the incident
// reopened). The elders found for the form are the ordinary find_elders answer,
// asked for incident 0.
#include "app.hpp"

namespace anxin::console {
namespace proto = anxin::protocol;

void App::run_history(const Command& command) {
  if (auto* c = std::get_if<cmd::OpenIncident>(&command)) {
    manual_opened_.reset();
    ui_.manual.req = send(Action::open_incident, 0, proto::OpenIncident{c->in});
  } else if (auto* c = std::get_if<cmd::History>(&command)) {
    history_query_ = c->query;
    history_req_ = send(Action::history, 0, c->query);
  } else if (auto* c = std::get_if<cmd::IncidentRecord>(&command)) {
    ui_.history.record = c->incident;
    record_req_ = send(Action::incident_record, 0, proto::IncidentRecordQuery{c->incident});
  } else if (auto* c = std::get_if<cmd::Reopen>(&command)) {
    send(Action::reopen, c->incident, proto::ReopenIncident{c->incident, c->reason});
    last_req_[{0, Action::reopen}] = last_req_[{c->incident, Action::reopen}];  // also the console's last
  }
}

bool App::on_history_message(const proto::ServerMessage& m) {
  if (auto* b = std::get_if<proto::ManualIncident>(&m.body)) {
    manual_opened_ = b->opened;
    on_reply(m.req, std::nullopt, b->opened.incident);
    return true;
  }
  if (auto* b = std::get_if<proto::HistoryPage>(&m.body)) {
    if (m.req == history_req_) history_ = *b;  // an earlier search's late answer is dropped
    on_reply(m.req, std::nullopt);
    return true;
  }
  if (auto* b = std::get_if<proto::IncidentRecord>(&m.body)) {
    if (m.req == record_req_) record_ = *b;
    on_reply(m.req, std::nullopt);
    return true;
  }
  return false;
}

void App::on_history_reply(const Request& r, std::int64_t id) {
  if (!id) return;
  if (r.action == Action::open_incident) {
    ui_.manual.open = false;
    run(cmd::Select{id});
    view_ = View::incident;
  } else if (r.action == Action::reopen) {
    // Back in the queue: the workspace takes it up; the history is searched again on return.
    ui_.history.searched = false;
    ui_.history.record = 0;
    record_.reset();
    run(cmd::Select{id});
    view_ = View::incident;
  }
}

}  // namespace anxin::console
