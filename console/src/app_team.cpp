// App, the presence-and-handover half (issue 14, item 5): the server's `presence`
// frame kept as it came, handovers offered, answered and withdrawn, a supervisor's
// reassign and take_over, the incidents in my hands, and where the workspace goes
// after a resolve sent from here: the next incident in my hands, else the top of
// the queue (item 4).
#include <algorithm>

#include "app.hpp"

namespace anxin::console {
namespace proto = anxin::protocol;

void App::run_team(const Command& command) {
  if (auto* c = std::get_if<cmd::Handover>(&command)) {
    send(Action::handover, 0, proto::HandoverOffer{c->to, c->notes, c->incidents});
  } else if (auto* c = std::get_if<cmd::HandoverAnswer>(&command)) {
    send(Action::handover_answer, 0, proto::HandoverAnswer{c->handover, c->accept});
  } else if (auto* c = std::get_if<cmd::HandoverCancel>(&command)) {
    send(Action::handover_cancel, 0, proto::HandoverCancel{c->handover});
  } else if (auto* c = std::get_if<cmd::Reassign>(&command)) {
    send(Action::reassign, c->incident, proto::Reassign{c->incident, c->to});
    last_req_[{0, Action::reassign}] = last_req_[{c->incident, Action::reassign}];  // also the console's last
  } else if (auto* c = std::get_if<cmd::TakeOver>(&command)) {
    send(Action::take_over, c->incident, proto::TakeOver{c->incident});
    last_req_[{0, Action::take_over}] = last_req_[{c->incident, Action::take_over}];
  }
}

bool App::on_team_message(const proto::ServerMessage& m) {
  if (auto* p = std::get_if<proto::Presence>(&m.body)) {
    presence_ = *p;
    return true;
  }
  return false;
}

void App::on_team_reply(const Request& r, std::int64_t) {
  if (r.action != Action::resolve || selected_ != r.incident) return;
  // The resolved incident's delta came before this answer; skip it in any case.
  const Millis now = server_now_ms();
  std::optional<IncidentId> next;
  for (const Incident* i : mine())
    if (i->id != r.incident) {
      next = i->id;
      break;
    }
  if (!next)
    for (const QueueRow& row : ui_.queue.all(replica_, now))
      if (row.incident->id != r.incident) {
        next = row.incident->id;
        break;
      }
  if (next) {
    run(cmd::Select{*next});
    ui_.scroll_to_selected = true;
  } else {
    selected_.reset();
  }
}

const proto::HandoverView* App::handover_to_me() const {
  if (!presence_ || operator_name_.empty()) return nullptr;
  for (const auto& h : presence_->handovers)
    if (h.state == "offered" && h.to == operator_name_) return &h;
  return nullptr;
}

const proto::HandoverView* App::my_handover() const {
  if (!presence_ || operator_name_.empty()) return nullptr;
  for (const auto& h : presence_->handovers)
    if (h.state == "offered" && h.from == operator_name_) return &h;
  return nullptr;
}

std::vector<const Incident*> App::mine() const {
  std::vector<const Incident*> out;
  if (operator_name_.empty()) return out;
  for (const auto& [id, i] : replica_.incidents())
    if (i.state == IncidentState::acknowledged && i.acknowledged_by == operator_name_) out.push_back(&i);
  // In queue order: the score, then the longest waiting (as the queue sorts).
  const Millis now = server_now_ms();
  std::vector<std::pair<int, const Incident*>> keyed;
  for (const Incident* i : out) keyed.push_back({queue_score(*i, now), i});
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    if (a.second->opened_ms != b.second->opened_ms) return a.second->opened_ms < b.second->opened_ms;
    return a.second->id < b.second->id;
  });
  for (size_t k = 0; k < keyed.size(); ++k) out[k] = keyed[k].second;
  return out;
}

}  // namespace anxin::console
