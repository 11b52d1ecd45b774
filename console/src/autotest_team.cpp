// The autotest's steps and state for presence, handover and the supervisor's hands
// (issue 14, item 5), each sent as the Team view's buttons send it:
//   handover USER [NOTES]       every incident in my hands, with notes; waits for the
//                               answer (a refusal fails the test)
//   accept-handover | decline-handover   waits until one is offered to me, answers it
//                               as F9 / F10 do, and waits for the answer
//   cancel-handover             withdraws the one I offered; waits for the answer
//   reassign ID USER | take-over ID   waits for the answer, ok or refused
//                               (check /reassign/status, /take_over/status)
//   logout [force]              the Sign out button (with incidents in hand it asks:
//                               /logout_ask), or its "sign out anyway"
// State: /presence (staff, handovers), /handover (offered to me), /my_handover,
// /mine (ids in my hands, queue order), /logout_ask, /resolve_confirm,
// /handover_request, /reassign, /take_over.
#include <sstream>

#include "autotest.hpp"
#include "autotest_team.hpp"

namespace anxin::console {
namespace {
using nlohmann::json;

json handover_json(const protocol::HandoverView* h) {
  if (!h) return nullptr;
  return {{"id", h->id},       {"from", h->from},   {"to", h->to},         {"notes", h->notes},
          {"incidents", h->incidents}, {"state", h->state}, {"reason", h->reason}};
}
}  // namespace

bool team_op(const std::string& op) {
  return op == "handover" || op == "accept-handover" || op == "decline-handover" || op == "cancel-handover" ||
         op == "reassign" || op == "take-over" || op == "logout";
}

void team_json(const App& app, json& dump) {
  dump["presence"] = nullptr;
  if (const auto& p = app.presence()) {
    json staff = json::array(), handovers = json::array();
    for (const auto& s : p->staff)
      staff.push_back({{"name", s.name}, {"kind", s.kind}, {"seat", s.seat}, {"consoles", s.consoles}});
    for (const auto& h : p->handovers) handovers.push_back(handover_json(&h));
    dump["presence"] = {{"staff", staff}, {"handovers", handovers}};
  }
  dump["handover"] = handover_json(app.handover_to_me());
  dump["my_handover"] = handover_json(app.my_handover());
  json mine = json::array();
  for (const Incident* i : app.mine()) mine.push_back(i->id);
  dump["mine"] = mine;
  dump["logout_ask"] = app.ui().team.logout_ask;
  dump["resolve_confirm"] = app.ui().team.resolve_confirm;
  dump["handover_request"] = request_json(app.last_request(0, Action::handover));
  dump["reassign"] = request_json(app.last_request(0, Action::reassign));
  dump["take_over"] = request_json(app.last_request(0, Action::take_over));
}

bool Autotest::team_step(const App& app, const Step& s, Commands& out) {
  auto answered = [&](Action action, bool refusal_fails) {
    if (frames_ < 2) return false;
    const Request* r = app.last_request(0, action);
    if (!r || r->status == Request::Status::sending) return false;
    if (refusal_fails && r->status != Request::Status::ok)
      return fail(s.op + " " + s.arg + ": " + (r->error.empty() ? "no reply" : r->error));
    return true;
  };
  std::istringstream in(s.arg);
  if (s.op == "handover") {
    if (frames_ == 1) {
      std::string to, notes;
      in >> to;
      std::getline(in >> std::ws, notes);
      out.push(cmd::Handover{to, notes, {}});
      return false;
    }
    return answered(Action::handover, true);
  }
  if (s.op == "accept-handover" || s.op == "decline-handover" || s.op == "cancel-handover") {
    const Action action = s.op == "cancel-handover" ? Action::handover_cancel : Action::handover_answer;
    if (!waiting_) {
      const protocol::HandoverView* h = s.op == "cancel-handover" ? app.my_handover() : app.handover_to_me();
      error_ = s.op + ": no handover waiting";
      if (!h) return false;  // not yet: the presence picture is on its way
      if (s.op == "cancel-handover") out.push(cmd::HandoverCancel{h->id});
      else out.push(cmd::HandoverAnswer{h->id, s.op == "accept-handover"});
      waiting_ = true;
      frames_ = 1;
      return false;
    }
    return answered(action, true);
  }
  if (s.op == "reassign" || s.op == "take-over") {
    if (frames_ == 1) {
      IncidentId id = 0;
      std::string to;
      in >> id >> to;
      if (s.op == "reassign") out.push(cmd::Reassign{id, to});
      else out.push(cmd::TakeOver{id});
      return false;
    }
    return answered(s.op == "reassign" ? Action::reassign : Action::take_over, false);
  }
  // logout [force]
  if (frames_ == 1) {
    out.push(cmd::Logout{s.arg == "force"});
    return false;
  }
  return true;
}

}  // namespace anxin::console
