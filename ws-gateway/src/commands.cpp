// One handler per protocol message: check who may send it, call the dispatcher,
// and say what to answer. Replies ride with the writes to the store and go out
// once durable (see commit_and_send in server.cpp).
#include <algorithm>
#include <set>

#include "server_impl.hpp"

namespace anxin::gateway {

proto::ElderCard Server::Impl::card_for(ElderId id, const std::string& today) const {
  const auto e = dispatcher.elder(id);
  if (!e) return proto::ElderCard{id};
  const Worker* paired = e->paired_worker ? dispatcher.worker(*e->paired_worker) : nullptr;
  return proto::make_card(*e, today, paired);
}

Outbound Server::Impl::reply(const Session& s, const std::string& req, proto::ServerBody body) {
  return {s.id, 0, frame_of({req, std::move(body)})};
}

Outbound Server::Impl::error_reply(const Session& s, const std::string& req, Error e) {
  ++errors_sent;
  return reply(s, req, proto::ErrorReply{std::move(e)});
}

void Server::Impl::on_frame(Session& s, std::string_view text) {
  ++frames_in;
  watch_storage();  // refuse from the first frame after the disk filled, not the next tick
  std::vector<Outbound> replies;
  std::string req_of_bad_frame;
  auto parsed = proto::parse_client(text, &req_of_bad_frame);
  if (!parsed) {
    replies.push_back(error_reply(s, req_of_bad_frame, parsed.error()));
  } else if (!s.who && !std::holds_alternative<proto::Hello>(parsed->body) &&
             !std::holds_alternative<proto::Login>(parsed->body) &&
             !std::holds_alternative<proto::Ping>(parsed->body)) {
    replies.push_back(error_reply(s, parsed->req, {ErrorCode::not_authenticated, "say hello with a token first"}));
  } else if (storage_full && proto::changes_state(parsed->body)) {
    // Refused before the dispatcher sees it: nothing changes that could not be stored.
    replies.push_back(error_reply(s, parsed->req, refused_for_full_disk()));
  } else {
    const std::string& req = parsed->req;
    try {
      std::visit([&](auto& body) { replies.push_back(handle(s, req, body)); }, parsed->body);
    } catch (const std::exception& e) {
      // A fault (a bad stored row, a failed read) answers this request and closes
      // this connection; everyone else is served on (issue 11, item 2).
      std::fprintf(stderr, "anxin-server: a command failed: %s\n", e.what());
      auto r = error_reply(s, req, {ErrorCode::internal, "the server could not do this; try again"});
      r.then_close = true;
      replies.push_back(std::move(r));
    }
  }
  if (std::ranges::all_of(replies, &Outbound::empty)) {  // an alarm, answered once the turn's alarms are durable
    commit_due = true;
    return;
  }
  commit_and_send(std::move(replies));
}

// The field port faces phones on the street: only field workers are let in there,
// so a leaked operator password or device token is no use from outside (issue 10, 4).
constexpr const char* kFieldPortOnly = "this port serves field workers only";

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Hello& h) {
  if (s.who) return error_reply(s, req, {ErrorCode::bad_state, "already authenticated"});
  if (s.field_port && h.role != Role::field) return error_reply(s, req, {ErrorCode::forbidden, kFieldPortOnly});
  auto who = dispatcher.authenticate(h.token);
  if (who) s.take_token(h.token);
  if (who && who->role == Role::field && !worker_of(*who)) {
    std::fprintf(stderr, "anxin-server: a field token names no worker (%s); refused\n", who->subject.c_str());
    who.reset();
  }
  if (!who || who->role != h.role) {
    auto r = error_reply(s, req, {ErrorCode::auth_failed, "unknown token for role " + std::string(name_of(h.role))});
    r.then_close = ++s.auth_failures >= kMaxAuthFailures;
    return r;
  }
  admit(s, *who);
  return reply(s, req, proto::Welcome{who->role, who->subject, clock.now_ms(), epoch, "", {}});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const AlarmIn& a) {
  take_alarm(*s.who, a, [this, session = s.id, req, a](const Result<AlarmAck>& r) -> Outbound {
    if (!r) ++errors_sent;
    return {session, 0, frame_of({req, r ? proto::ServerBody{proto::Ack{a.device, a.seq, r.value()}}
                                          : proto::ServerBody{proto::ErrorReply{r.error()}}})};
  });
  return {};
}

// Costs no commit: nothing is written for it until the tick's batch (supervision.cpp).
Outbound Server::Impl::handle(Session& s, const std::string& req, const HeartbeatIn& b) {
  auto r = dispatcher.heartbeat(*s.who, b);
  if (!r) return error_reply(s, req, r.error());
  return reply(s, req, proto::Ok{0});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Subscribe&) {
  if (s.who->role == Role::device) return error_reply(s, req, {ErrorCode::forbidden, "devices do not subscribe"});
  // The snapshot still on its way, and the deltas after it, bring the same picture a
  // new one would: a client repeating subscribe cannot make the server build and
  // queue one per request.
  if (s.snapshot_pending) return {};
  s.snapshot_pending = true;
  const bool console = s.who->role == Role::console;
  if (console) {
    commit_and_send({});  // changes not yet passed on go first, so the texts and seq agree
    // Texts kept from one snapshot to the next, written out from them a fragment a
    // turn once the reply's turn comes (snapshot_texts.hpp): thousands of incidents
    // hold up nobody.
    Outbound r{s.id, 0, nullptr};
    r.parts = std::make_shared<const proto::SnapshotText>(
        snapshot_texts.take(dispatcher.seq(), epoch, clock.now_ms()));
    r.req = req;
    r.subscribes = r.snapshot = true;
    line_dirty |= static_cast<bool>(line);  // the line's picture follows the snapshot (none without a line)
    handovers.dirty = true;                 // and presence (handover.cpp)
    return r;
  }
  proto::Snapshot snap;
  snap.seq = dispatcher.seq();
  snap.epoch = epoch;
  snap.server_time_ms = clock.now_ms();
  const std::string today = dispatcher.today();
  std::set<ElderId> seen;
  for (const Incident* i : dispatcher.tasks_of(s.worker)) {  // a field worker's own
    snap.incidents.push_back(*i);
    if (seen.insert(i->elder).second) snap.elders.push_back(card_for(i->elder, today));
  }
  if (const Worker* w = dispatcher.worker(s.worker)) snap.workers.push_back(*w);
  auto r = reply(s, req, std::move(snap));
  r.snapshot = true;
  return r;
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Ping&) {
  return reply(s, req, proto::Pong{clock.now_ms()});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Login& l) {
  if (s.who) return error_reply(s, req, {ErrorCode::bad_state, "already authenticated"});
  if (s.field_port && l.role != Role::field) return error_reply(s, req, {ErrorCode::forbidden, kFieldPortOnly});
  // Guesses are held back before their password costs anything (issue 10, item 1).
  const Millis now = clock.now_ms();
  if (Millis wait = login_guard.wait_ms(s.peer, l.username, now)) {
    if (login_guard.report_held(s.peer, now)) dispatcher.audit_login("login_throttled", l.username, s.peer, wait);
    return error_reply(s, req, {ErrorCode::throttled, "too many failed logins; try again in " +
                                                          std::to_string((wait + 999) / 1000) + " s"});
  }
  const bool clean = login_guard.clean(s.peer, now);
  std::lock_guard lock(login_mu);
  auto& lane = clean ? login_jobs : suspect_jobs;
  if (lane.size() >= kMaxQueuedLogins || !login_guard.begin_check(s.peer))
    return error_reply(s, req, {ErrorCode::throttled, "too many logins being checked at once; try again in 1 s"});
  lane.push_back({s.id, req, l.role, l.password, s.peer, l.username, std::nullopt});
  login_cv.notify_one();
  // A login in hand restarts the hello deadline: the connection is not idle while its
  // password is being checked, and a wrong one leaves it the whole time to try again.
  lws_set_timeout(s.wsi, PENDING_TIMEOUT_USER_OK, options.hello_timeout_s);
  return {};  // answered by finish_logins()
}

// Ends the login session everywhere: every other connection that said hello with it
// (the same worker's second tab, a phone left logged in) is closed too (issue 10, 7).
Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Logout& l) {
  // Not with incidents in hand and nobody else to see them, unless forced (handover.cpp).
  if (auto refused = logout_refusal(s, l.force)) return error_reply(s, req, *refused);
  if (!s.current_token.empty()) {
    dispatcher.close_session(*s.who, s.current_token);
    if (!dispatcher.authenticate(s.current_token))  // it was a login session, and it is gone
      for (auto& [id, other] : sessions)
        if (id != s.id && other.current_token == s.current_token) {
          other.close_after_send = true;
          lws_callback_on_writable(other.wsi);
        }
  }
  auto r = reply(s, req, proto::Ok{0});
  r.then_close = true;
  return r;
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::ElderQuery& q) {
  const auto e = dispatcher.elder(q.elder);
  if (s.who->role == Role::device) return error_reply(s, req, {ErrorCode::forbidden, "devices do not read the registry"});
  if (s.who->role == Role::field) {
    // Only while the worker is, or was, actually sent: an offer, a task in hand or one
    // completed. Declining, letting the offer lapse or being stood down ends it (issue 10, 7).
    auto sent = [&](const Incident* i) {
      return i->elder == q.elder && std::any_of(i->assignments.begin(), i->assignments.end(), [&](const auto& a) {
               return a.worker == s.worker && a.state != AssignmentState::declined &&
                      a.state != AssignmentState::expired && a.state != AssignmentState::cancelled;
             });
    };
    const auto tasks = dispatcher.tasks_of(s.worker);
    if (!e || std::none_of(tasks.begin(), tasks.end(), sent))
      return error_reply(s, req, {ErrorCode::forbidden, "not an elder of your tasks"});
  }
  if (!e) return error_reply(s, req, {ErrorCode::bad_field, "no elder " + std::to_string(q.elder)});
  proto::ElderDetail d;
  d.card = card_for(e->id, dispatcher.today());
  for (const Device& dev : dispatcher.devices_of(e->id))
    d.devices.push_back({dev.id, dev.kind, dev.vendor, dev.battery_pct, dev.last_seen_ms});
  // The history is read off the service thread; the visitors' names are added back on it.
  read_then_reply(s, req, [this, d = std::move(d), photo = q.photo]() mutable -> Finish {
    ElderHistory h = store.elder_history(d.card.id, 20);
    // The care record (v11, elder_record.hpp) is read here, never kept in memory; its
    // entry code is blanked here and never encoded (has_entry_code says there is one).
    store.read([&](sqlite3* db) { d.record = elder_record::load(db, d.card.id, photo); });
    d.record->entry_code.clear();
    return [this, d = std::move(d), h = std::move(h)]() mutable -> proto::ServerBody {
      d.incidents = std::move(h.incidents);
      for (auto& v : h.visits) {
        const Worker* w = dispatcher.worker(v.worker);
        d.visits.push_back({std::move(v), w ? w->name : ""});
      }
      return std::move(d);
    };
  });
  return {};
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::FindElders& q) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles search elders"});
  proto::ElderList list;
  const std::string today = dispatcher.today();
  const ElderTable& elders = dispatcher.elder_table();
  elders.rows_by_id([&](ElderTable::Row r) {  // views of the table's text: no copies
    if (elders.unknown_caller(r) || !elders.matches(r, q.q)) return true;
    list.elders.push_back(card_for(elders.id(r), today));
    return list.elders.size() < 20;
  });
  return reply(s, req, std::move(list));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::MapQuery&) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles read the map"});
  return reply(s, req, proto::make_map(dispatcher.elder_table(), dispatcher.today()));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::MyTasks&) {
  if (s.who->role != Role::field) return error_reply(s, req, {ErrorCode::forbidden, "only field workers have tasks"});
  // Service thread only (card_for reads the dispatcher).
  auto add = [this](proto::TaskList& list, WorkerId worker, const Incident& i) {
    for (const auto& a : i.assignments) {
      if (a.worker != worker) continue;
      Incident header = i;
      header.timeline.clear();
      list.tasks.push_back({FieldEvent::task_updated, a, std::move(header), card_for(i.elder, dispatcher.today())});
    }
  };
  proto::TaskList list;
  std::set<IncidentId> listed;
  for (const Incident* i : dispatcher.tasks_of(s.worker)) add(list, s.worker, *i), listed.insert(i->id);
  // The last week's are read off the service thread; their cards are added back on it.
  read_then_reply(s, req, [this, add, worker = s.worker, since = clock.now_ms() - 7LL * 86'400'000,
                           listed = std::move(listed), list = std::move(list)]() mutable -> Finish {
    std::vector<Incident> past = store.worker_history(worker, since, 50);
    return [add, worker, listed = std::move(listed), list = std::move(list),
            past = std::move(past)]() mutable -> proto::ServerBody {
      for (const Incident& i : past)
        if (!listed.count(i.id)) add(list, worker, i);  // one resolved since the command came is listed already
      return std::move(list);
    };
  });
  return {};
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::AckIncident& a) {
  return answer(s, req, dispatcher.acknowledge(*s.who, a.incident));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::ResolveIncident& a) {
  return answer(s, req, dispatcher.resolve(*s.who, a.incident, a.disposition, a.note));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::AddNote& a) {
  return answer(s, req, dispatcher.add_note(*s.who, a.incident, a.text));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Dispatch& a) {
  return answer(s, req, dispatcher.dispatch(*s.who, a.incident, a.worker, a.responders));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Callback& a) {
  return answer(s, req, dispatcher.record_callback(*s.who, a.incident, a.outcome));
}

// With a seat on the phone line the call is dialled at once; without one (or with
// the seat busy or down) it stays a task for the operator to dial by hand.
Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::PlaceCall& a) {
  auto task = a.kind == CallKind::family ? dispatcher.start_family_cascade(*s.who, a.incident, a.contact_index)
                                         : dispatcher.call_emergency(*s.who, a.incident, a.kind);
  if (task && !s.seat.empty()) {
    const Incident* i = dispatcher.incident(a.incident);
    for (const auto& c : i->calls)
      if (c.id == task.value())
        dial_from(s.seat, LiveCall{.outgoing = true, .number = c.phone, .target = std::string(name_of(c.kind)),
                                   .elder = i->elder, .incident = i->id, .task = c.id});
  }
  return answer(s, req, task);
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::CallResult& a) {
  return answer(s, req, dispatcher.record_call(*s.who, a.task, a.result));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::CandidatesQuery& q) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles ask for candidates"});
  auto r = dispatcher.candidates(q.incident, q.required);
  if (!r) return error_reply(s, req, r.error());
  proto::CandidateList list;
  list.incident = q.incident;
  for (const auto& c : r.value()) {
    const Worker* w = dispatcher.worker(c.id);
    list.candidates.push_back({c, w ? w->name : "", w ? w->role : WorkerRole::volunteer,
                               w ? w->mode : TransportMode::ebike, reasons_for(c)});
  }
  return reply(s, req, std::move(list));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::MetricsQuery&) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles read metrics"});
  return reply(s, req, proto::Metrics{dispatcher.metrics(), clock.now_ms()});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Duty& a) {
  return answer(s, req, dispatcher.set_duty(*s.who, a.on));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Position& p) {
  return answer(s, req, dispatcher.update_position(*s.who, p.lat, p.lon, p.accuracy_m, p.at_ms, p.mode));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Accept& a) {
  return answer(s, req, dispatcher.accept(*s.who, a.assignment));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Decline& a) {
  return answer(s, req, dispatcher.decline(*s.who, a.assignment, a.reason));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::OnScene& a) {
  return answer(s, req, dispatcher.arrive(*s.who, a.assignment));
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::Complete& a) {
  return answer(s, req, dispatcher.complete(*s.who, a.assignment, a.outcome, a.report ? &*a.report : nullptr));
}

}  // namespace anxin::gateway
