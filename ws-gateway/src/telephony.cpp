// The phone line on the service thread (issue 9, docs/telephony.md): consoles claim
// their seats, dial and answer; the seats' events become facts for the dispatcher.
//
// An inbound call is matched to an elder by its number before anyone answers and
// files a phone_call alert (which opens or joins the elder's incident and goes to
// every console as a delta); the line's own picture (seats, ringing and live calls)
// goes to every console as a `line` frame after that delta. A call that ends goes on
// its incident's timeline with its durations and recordings, and settles the call
// task it was placed for: a real no-answer moves the family cascade on.
#include <nlohmann/json.hpp>

#include "server_impl.hpp"

namespace anxin::gateway {

namespace {

const Principal kLine{Role::device, "line"};

std::string result_of(const SeatEvent& closed, const LiveCall& call) {
  if (call.answered_ms) return "answered";
  if (!call.outgoing) return "missed";  // the caller gave up, or the line lost them, before anyone answered
  const std::string& r = closed.reason;
  if (r.find("486") != std::string::npos || r.find("600") != std::string::npos || r == "busy") return "busy";
  if (r == "no answer" || r == "Local timeout" || r.find("408") != std::string::npos || r.find("480") != std::string::npos ||
      r.find("Connection reset by user") != std::string::npos)
    return "no_answer";
  return "failed";
}

}  // namespace

Frame Server::Impl::line_frame() const {
  proto::LineState st;
  st.configured = line != nullptr;
  if (line) {
    for (const auto& sc : line->config().seats) {
      proto::SeatView v{sc.name, false, "", "idle"};
      if (const Seat* seat = line->seat(sc.name)) v.up = seat->up();
      if (auto op = line->operator_of.find(sc.name); op != line->operator_of.end()) v.operator_name = op->second;
      if (auto c = line->calls.find(sc.name); c != line->calls.end()) v.state = c->second.state;
      st.seats.push_back(std::move(v));
    }
    for (const auto& [seat, c] : line->calls)
      st.calls.push_back({c.call_id, seat, c.outgoing, c.number, c.target, c.elder, c.incident, c.task, c.state,
                          c.since_ms, c.answered_ms, c.operator_name});
    // Waiting callers first, the longest waiting at the top; then the calls in progress.
    std::stable_sort(st.calls.begin(), st.calls.end(), [](const proto::CallView& a, const proto::CallView& b) {
      const bool wa = !a.outgoing && a.state == "ringing", wb = !b.outgoing && b.state == "ringing";
      if (wa != wb) return wa;
      return a.since_ms < b.since_ms;
    });
  }
  return frame_of({"", std::move(st)});
}

bool Server::Impl::dial_from(const std::string& seat_name, LiveCall call) {
  if (!line) return false;
  Seat* seat = line->seat(seat_name);
  if (!seat || !seat->up() || line->calls.count(seat_name)) return false;
  call.state = "dialling";
  call.since_ms = clock.now_ms();
  call.operator_name = line->operator_of[seat_name];
  // Calls are kept by seat, so the token only names the incident in the seat's events.
  seat->dial(line->uri_for(call.number), "incident:" + std::to_string(call.incident));
  line->calls[seat_name] = std::move(call);
  line_dirty = true;
  return true;
}

void Server::Impl::release_seat(const Session& s) {
  if (!line || s.seat.empty()) return;
  auto it = line->session_of.find(s.seat);
  if (it == line->session_of.end() || it->second != s.id) return;
  line->session_of.erase(it);
  line->operator_of.erase(s.seat);
  line_dirty = true;
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::ClaimSeat& a) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles sit at seats"});
  if (!line) return error_reply(s, req, {ErrorCode::no_line, "no SIP line is configured: calls are tasks to dial"});
  if (!line->seat(a.seat)) return error_reply(s, req, {ErrorCode::unknown_seat, "the line has no seat " + a.seat});
  release_seat(s);
  // The desk, not the person, owns the seat: the last console to claim it has it.
  if (auto old = line->session_of.find(a.seat); old != line->session_of.end())
    if (auto other = sessions.find(old->second); other != sessions.end()) other->second.seat.clear();
  s.seat = a.seat;
  line->session_of[a.seat] = s.id;
  line->operator_of[a.seat] = display_name(*s.who);
  line_dirty = true;
  handovers.dirty = true;  // presence shows the seat (handover.cpp)
  return reply(s, req, proto::Ok{0});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Dial& a) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles place calls"});
  if (!line || s.seat.empty())
    return error_reply(s, req, {ErrorCode::no_line, line ? "claim a seat first (seat)" : "no SIP line is configured"});
  const Incident* i = dispatcher.incident(a.incident);
  if (!i) return error_reply(s, req, {ErrorCode::unknown_incident, "no open incident " + std::to_string(a.incident)});
  const auto e = dispatcher.elder(i->elder);
  LiveCall call{.outgoing = true, .target = a.to, .elder = i->elder, .incident = i->id};
  if (a.to == "elder") call.number = e ? e->phone : "";
  else if (a.to == "doctor") call.number = e ? e->family_doctor_phone : "";
  else if (const Worker* w = dispatcher.worker(a.worker)) call.number = w->phone;
  else return error_reply(s, req, {ErrorCode::unknown_worker, "no worker " + std::to_string(a.worker)});
  if (call.number.empty()) return error_reply(s, req, {ErrorCode::bad_state, "no number on record for the " + a.to});
  if (!dial_from(s.seat, std::move(call)))
    return error_reply(s, req, {ErrorCode::no_line, "seat " + s.seat + " is down or already on a call"});
  return reply(s, req, proto::Ok{0});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Answer&) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles answer calls"});
  if (!line || s.seat.empty()) return error_reply(s, req, {ErrorCode::no_line, "no seat claimed"});
  auto c = line->calls.find(s.seat);
  if (c == line->calls.end() || c->second.outgoing || c->second.state != "ringing")
    return error_reply(s, req, {ErrorCode::bad_state, "no call is ringing at " + s.seat});
  c->second.operator_name = display_name(*s.who);
  line->seat(s.seat)->accept();
  return reply(s, req, proto::Ok{c->second.incident});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Hangup&) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles hang up"});
  if (!line || s.seat.empty()) return error_reply(s, req, {ErrorCode::no_line, "no seat claimed"});
  if (!line->calls.count(s.seat)) return error_reply(s, req, {ErrorCode::bad_state, "no call at " + s.seat});
  line->seat(s.seat)->hangup();
  return reply(s, req, proto::Ok{0});
}

// Recordings are for the centre only: a console may fetch one, nobody else.
Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::RecordingQuery& q) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "recordings are for consoles"});
  if (!line) return error_reply(s, req, {ErrorCode::no_line, "no SIP line is configured"});
  auto wav = line->read_recording(q.name);
  if (!wav) return error_reply(s, req, wav.error());
  return reply(s, req, proto::Recording{q.name, std::move(wav.value())});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::LinkCaller& a) {
  auto r = dispatcher.link_caller(*s.who, a.incident, a.elder);
  if (r && line)  // the live call, if any, now shows the elder too
    for (auto& [seat, call] : line->calls)
      if (call.incident == a.incident) call.elder = a.elder, line_dirty = true;
  return answer(s, req, r);
}

void Server::Impl::on_line_events() {
  if (!line) return;
  auto events = line->take_events();
  if (events.empty()) return;
  const Millis now = clock.now_ms();
  // With the disk full nothing can be filed: calls still ring, are answered and
  // dialled by hand, and consoles see them, but they open, acknowledge and log nothing.
  watch_storage();
  const bool filing = !storage_full;
  for (const SeatEvent& ev : events) {
    line_dirty = true;
    auto at = line->calls.find(ev.seat);
    switch (ev.kind) {
      case SeatEvent::Kind::up:
      case SeatEvent::Kind::down:
        lwsl_user("line: %s is %s %s\n", ev.seat.c_str(), ev.kind == SeatEvent::Kind::up ? "up" : "down",
                  ev.reason.c_str());
        break;
      case SeatEvent::Kind::incoming: {
        LiveCall call{.call_id = ev.call_id, .number = ev.number, .target = "inbound", .state = "ringing",
                      .since_ms = now};
        // Matched before anyone answers: the alert opens or joins the elder's incident;
        // a number nobody knows opens one marked unknown caller.
        auto who = dispatcher.match_caller(ev.number);
        if (!filing) {
          if (who) call.elder = who->elder;
        } else if (auto ack = who ? dispatcher.phone_in(kLine, *who, ev.number, ev.call_id)
                                  : dispatcher.phone_in_unknown(kLine, ev.number, ev.call_id)) {
          call.incident = ack->incident;
          if (const Incident* i = dispatcher.incident(ack->incident)) call.elder = i->elder;
        }
        line->calls[ev.seat] = std::move(call);
        break;
      }
      case SeatEvent::Kind::ringing:
        if (at != line->calls.end()) {
          at->second.state = "ringing";
          if (at->second.call_id.empty()) at->second.call_id = ev.call_id;
        }
        break;
      case SeatEvent::Kind::established:
        if (at == line->calls.end()) break;
        at->second.state = "talking";
        at->second.answered_ms = now;
        if (at->second.call_id.empty()) at->second.call_id = ev.call_id;
        // Answering a caller acknowledges their incident, by the operator who answered.
        if (filing && !at->second.outgoing && at->second.incident) {
          const Incident* i = dispatcher.incident(at->second.incident);
          if (i && i->state == IncidentState::open)
            (void)dispatcher.acknowledge({Role::console, "operator:" + at->second.operator_name}, i->id);
        }
        break;
      case SeatEvent::Kind::closed: {
        if (at == line->calls.end()) break;
        LiveCall call = std::move(at->second);
        line->calls.erase(at);
        auto [heard, sent] = line->keep_recordings(ev, call.incident);
        if (!call.incident || !filing) break;  // a hidden number, or no room: nothing to file it under
        PhoneLog log{call.incident, call.task, call.target, call.outgoing, ev.seat, call.number,
                     call.operator_name, result_of(ev, call), ev.reason, call.since_ms, call.answered_ms, now,
                     heard, sent};
        (void)dispatcher.phone_log(log);
        // The family cascade goes on from the same seat: dial the contact now due.
        if (call.target == "family")
          if (const Incident* i = dispatcher.incident(call.incident))
            for (const auto& t : i->calls)
              if (t.kind == CallKind::family && t.open())
                dial_from(ev.seat, LiveCall{.outgoing = true, .number = t.phone, .target = "family",
                                            .elder = i->elder, .incident = i->id, .task = t.id});
        break;
      }
    }
  }
  commit_and_send({});
}

void Server::Impl::line_tick() {
  if (!line) return;
  const Millis now = clock.now_ms();
  if (now - line->last_purge_ms < 3'600'000) return;
  line->last_purge_ms = now;
  if (int n = line->purge_recordings()) lwsl_user("line: %d recordings past their retention deleted\n", n);
}

}  // namespace anxin::gateway
