// Presence and handover (issue 14, item 5; docs/protocol.md, "Presence and handover"):
// who of the staff is signed in, read from the sessions; handovers from one of them to
// a colleague who is signed in, who accepts or declines; a supervisor's reassign and
// take_over; and the logout that would leave incidents in hand. The incidents' holder
// changes through Dispatcher::change_holder; the handovers table through
// handovers::write (handover_store.hpp). Service thread only.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "anxin/core/handover_store.hpp"
#include "server_impl.hpp"

namespace anxin::gateway {

using json = nlohmann::json;

std::optional<std::string> staff_kind(const Principal& who) {
  if (who.role != Role::console) return std::nullopt;
  for (const char* kind : {"operator", "supervisor"})
    if (who.subject.rfind(std::string(kind) + ":", 0) == 0 && who.subject.size() > std::strlen(kind) + 1) return kind;
  return std::nullopt;
}

namespace {
std::string ids_text(const std::vector<IncidentId>& ids) {
  std::string out;
  for (IncidentId id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out;
}
}  // namespace

void Server::Impl::load_handovers() {
  auto loaded = handovers::load(store, Handovers::kKeepAnswered);
  handovers.last_id = loaded.max_id;
  handovers.answered.assign(loaded.recent.begin(), loaded.recent.end());
  // Nobody is signed in at start: a handover still waiting lapses, and says why.
  for (auto& h : loaded.offered) {
    h.state = "lapsed";
    h.answered_ms = clock.now_ms();
    h.reason = "the server restarted";
    store.submit({handovers::write(h)});
    handovers.answered.push_front(h);
  }
  std::sort(handovers.answered.begin(), handovers.answered.end(),
            [](const auto& a, const auto& b) { return a.id > b.id; });
  while (handovers.answered.size() > Handovers::kKeepAnswered) handovers.answered.pop_back();
}

bool Server::Impl::signed_in(const std::string& name, std::uint64_t except) const {
  for (const auto& [id, s] : sessions)
    if (id != except && s.who && !s.dropped && staff_kind(*s.who) && display_name(*s.who) == name) return true;
  return false;
}

std::vector<IncidentId> Server::Impl::held_by(const std::string& name) const {
  std::vector<IncidentId> out;
  for (const Incident* i : dispatcher.open_incidents())
    if (i->state == IncidentState::acknowledged && i->acknowledged_by == name) out.push_back(i->id);
  return out;
}

Frame Server::Impl::presence_frame() const {
  proto::Presence p;
  std::map<std::string, proto::StaffView> staff;
  for (const auto& [id, s] : sessions) {
    if (!s.who || s.dropped) continue;
    auto kind = staff_kind(*s.who);
    if (!kind) continue;
    const std::string name = display_name(*s.who);
    auto [it, fresh] = staff.try_emplace(name, proto::StaffView{name, *kind, s.since_ms, s.seat, 0});
    proto::StaffView& v = it->second;
    if (!fresh) v.since_ms = std::min(v.since_ms, s.since_ms);
    if (v.seat.empty()) v.seat = s.seat;
    ++v.consoles;
  }
  for (auto& [name, v] : staff) p.staff.push_back(std::move(v));
  for (const auto& [id, h] : handovers.offered) p.handovers.push_back(h);
  p.handovers.insert(p.handovers.end(), handovers.answered.begin(), handovers.answered.end());
  return frame_of({"", std::move(p)});
}

void Server::Impl::settle_handover(proto::HandoverView h, const std::string& state, const std::string& actor,
                                   const std::string& reason) {
  h.state = state;
  h.answered_ms = clock.now_ms();
  h.reason = reason;
  handovers.offered.erase(h.id);
  handovers.writes.push_back(handovers::write(h));
  handovers.writes.push_back(AppendAudit{
      {h.answered_ms, actor, "handover_" + state, 0,
       json{{"handover", h.id}, {"from", h.from}, {"to", h.to}, {"incidents", h.incidents}, {"reason", reason}}
           .dump()}});
  handovers.answered.push_front(std::move(h));
  if (handovers.answered.size() > Handovers::kKeepAnswered) handovers.answered.pop_back();
  handovers.dirty = true;
}

void Server::Impl::staff_changed(const Session* leaving) {
  handovers.dirty = true;
  if (!leaving) return;
  std::vector<proto::HandoverView> lapse;
  for (const auto& [id, h] : handovers.offered)
    if (!signed_in(h.from, leaving->id) || !signed_in(h.to, leaving->id)) lapse.push_back(h);
  for (auto& h : lapse) {
    const std::string gone = signed_in(h.to, leaving->id) ? h.from : h.to;
    settle_handover(std::move(h), "lapsed", "system", gone + " signed out");
  }
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::HandoverOffer& a) {
  if (!staff_kind(*s.who)) return error_reply(s, req, {ErrorCode::forbidden, "only operators and supervisors hand over"});
  const std::string me = display_name(*s.who);
  if (a.to == me) return error_reply(s, req, {ErrorCode::bad_field, "a handover goes to a colleague, not to yourself"});
  if (!signed_in(a.to)) return error_reply(s, req, {ErrorCode::bad_field, a.to + " is not signed in on a console"});
  for (const auto& [id, h] : handovers.offered)
    if (h.from == me)
      return error_reply(s, req, {ErrorCode::bad_state, "handover " + std::to_string(id) + " to " + h.to +
                                                            " is still waiting for an answer: cancel it first"});
  std::vector<IncidentId> ids = a.incidents;
  if (ids.empty()) {
    ids = held_by(me);
  } else {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (IncidentId id : ids) {
      const Incident* i = dispatcher.incident(id);
      if (!i) return error_reply(s, req, {ErrorCode::unknown_incident, "no open incident " + std::to_string(id)});
      if (i->state != IncidentState::acknowledged || i->acknowledged_by != me)
        return error_reply(s, req, {ErrorCode::bad_state, "incident " + std::to_string(id) + " is not in your hands"});
    }
  }
  if (ids.empty() && a.notes.empty())
    return error_reply(s, req, {ErrorCode::bad_state, "nothing to hand over: no incident in your hands and no notes"});
  proto::HandoverView h{++handovers.last_id, me, a.to, a.notes, ids, "offered", clock.now_ms(), 0, ""};
  handovers.writes.push_back(handovers::write(h));
  handovers.writes.push_back(AppendAudit{
      {h.offered_ms, s.who->subject, "handover_offered", 0,
       json{{"handover", h.id}, {"to", h.to}, {"incidents", h.incidents}, {"notes", h.notes}}.dump()}});
  handovers.offered.emplace(h.id, h);
  handovers.dirty = true;
  return reply(s, req, proto::Ok{h.id});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::HandoverAnswer& a) {
  if (!staff_kind(*s.who)) return error_reply(s, req, {ErrorCode::forbidden, "only operators and supervisors take handovers"});
  auto it = handovers.offered.find(a.handover);
  if (it == handovers.offered.end())
    return error_reply(s, req, {ErrorCode::bad_state, "handover " + std::to_string(a.handover) +
                                                          " is not waiting for an answer"});
  const std::string me = display_name(*s.who);
  if (it->second.to != me)
    return error_reply(s, req, {ErrorCode::forbidden, "handover " + std::to_string(a.handover) + " was offered to " +
                                                          it->second.to});
  proto::HandoverView h = it->second;
  if (!a.accept) {
    settle_handover(std::move(h), "declined", s.who->subject, "");
    return reply(s, req, proto::Ok{a.handover});
  }
  // What is still the giver's moves; what was resolved or moved meanwhile stays where it is.
  std::vector<IncidentId> moved;
  const json detail{{"handover", h.id}, {"notes", h.notes}};
  for (IncidentId id : h.incidents) {
    const Incident* i = dispatcher.incident(id);
    if (!i || i->state != IncidentState::acknowledged || i->acknowledged_by != h.from) continue;
    if (dispatcher.change_holder(*s.who, id, me, "handed_over", detail.dump())) moved.push_back(id);
  }
  std::string reason;
  if (moved.size() != h.incidents.size()) reason = "resolved or moved meanwhile, left as they were: ";
  for (IncidentId id : h.incidents)
    if (std::find(moved.begin(), moved.end(), id) == moved.end()) reason += std::to_string(id) + " ";
  if (!reason.empty()) reason.pop_back();
  h.incidents = moved;
  settle_handover(std::move(h), "accepted", s.who->subject, reason);
  return reply(s, req, proto::Ok{a.handover});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::HandoverCancel& a) {
  if (!staff_kind(*s.who)) return error_reply(s, req, {ErrorCode::forbidden, "only operators and supervisors hand over"});
  auto it = handovers.offered.find(a.handover);
  if (it == handovers.offered.end())
    return error_reply(s, req, {ErrorCode::bad_state, "handover " + std::to_string(a.handover) +
                                                          " is not waiting for an answer"});
  if (it->second.from != display_name(*s.who))
    return error_reply(s, req, {ErrorCode::forbidden, "handover " + std::to_string(a.handover) + " was offered by " +
                                                          it->second.from});
  settle_handover(it->second, "cancelled", s.who->subject, "");
  return reply(s, req, proto::Ok{a.handover});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Reassign& a) {
  if (staff_kind(*s.who) != "supervisor")
    return error_reply(s, req, {ErrorCode::forbidden, "only supervisors reassign incidents"});
  if (!signed_in(a.to)) return error_reply(s, req, {ErrorCode::bad_field, a.to + " is not signed in on a console"});
  return answer(s, req, dispatcher.change_holder(*s.who, a.incident, a.to, "reassigned"));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::TakeOver& a) {
  if (staff_kind(*s.who) != "supervisor")
    return error_reply(s, req, {ErrorCode::forbidden, "only supervisors take incidents over"});
  const Incident* i = dispatcher.incident(a.incident);
  // A waiting incident is simply acknowledged by the supervisor.
  if (i && i->state == IncidentState::open) return answer(s, req, dispatcher.acknowledge(*s.who, a.incident));
  return answer(s, req, dispatcher.change_holder(*s.who, a.incident, display_name(*s.who), "taken_over"));
}

std::optional<Error> Server::Impl::logout_refusal(const Session& s, bool force) {
  if (!staff_kind(*s.who)) return std::nullopt;
  const std::string me = display_name(*s.who);
  // Still signed in elsewhere after this logout: on a connection of another token, or
  // of the same one when it is no login session (a logout closes every connection of
  // its own login session, "sess-…", and no other).
  for (const auto& [id, other] : sessions)
    if (id != s.id && other.who && !other.dropped && staff_kind(*other.who) && display_name(*other.who) == me &&
        (other.current_token != s.current_token || s.current_token.rfind("sess-", 0) != 0))
      return std::nullopt;
  const auto held = held_by(me);
  if (held.empty()) return std::nullopt;
  if (!force)
    return Error{ErrorCode::bad_state, "incidents " + ids_text(held) +
                                           " are in your hands: hand them over first (handover), or sign out with "
                                           "\"force\": true and leave them in your name"};
  handovers.writes.push_back(AppendAudit{
      {clock.now_ms(), s.who->subject, "signed_out_holding", 0, json{{"incidents", held}}.dump()}});
  return std::nullopt;
}

}  // namespace anxin::gateway
