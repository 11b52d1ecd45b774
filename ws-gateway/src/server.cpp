#include "anxin/gateway/server.hpp"

#include <libwebsockets.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/protocol.hpp"
#include "anxin/core/store.hpp"
#include "anxin/gateway/webhook_notifier.hpp"

namespace anxin::gateway {

namespace proto = anxin::protocol;
using Frame = std::shared_ptr<const std::string>;

namespace {

constexpr int kMaxAuthFailures = 3;

// One WebSocket connection. Lives on the service thread only.
struct Session {
  std::uint64_t id = 0;
  lws* wsi = nullptr;
  std::optional<Principal> who;
  WorkerId worker = 0;        // for field sessions
  std::string current_token;  // the token or session this connection said hello with
  int auth_failures = 0;
  bool subscribed = false;    // a console receiving deltas
  bool close_after_send = false;
  std::string rx;             // the message being reassembled from fragments
  bool rx_overflow = false;
  std::deque<Frame> tx;
};

// A frame released by the writer thread: to one session, to one worker's sessions,
// or to every subscribed console. `subscribes` marks the snapshot that turns a
// console's deltas on.
struct Outbound {
  std::uint64_t session = 0;  // 0 and worker 0: every subscribed console
  WorkerId worker = 0;
  Frame frame;
  bool subscribes = false;
  bool then_close = false;
};

Frame frame_of(proto::ServerMessage m) { return std::make_shared<const std::string>(proto::encode(m)); }

// Monday-to-Sunday does not matter here: metrics count from local midnight.
Millis start_of_local_day(Millis now) {
  constexpr Millis kDay = 86'400'000, kUtcPlus8 = 8LL * 3600 * 1000;
  return (now + kUtcPlus8) / kDay * kDay - kUtcPlus8;
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  const Clock& clock;
  Store store;
  Dispatcher dispatcher;
  std::unique_ptr<WebhookNotifier> own_notifier;
  Notifier* notifier;
  std::string epoch;

  lws_context* context = nullptr;
  lws_vhost* vhost = nullptr;
  lws_vhost* field_vhost = nullptr;
  std::atomic<int> bound_field_port{-1};
  lws_http_mount field_mount{};

  // Passwords are checked on their own thread: argon2 takes ~0.1 s on purpose, and
  // the service thread must not stop for it.
  struct LoginJob {
    std::uint64_t session;
    std::string req;
    Role role;
    std::string password;
    std::optional<Account> account;
  };
  struct LoginResult {
    LoginJob job;
    bool ok;
  };
  std::mutex login_mu;
  std::condition_variable login_cv;
  std::deque<LoginJob> login_jobs;
  std::vector<LoginResult> login_results;
  std::thread login_thread;
  bool login_stopping = false;
  std::string dummy_hash;  // checked for unknown users, so timing does not tell who exists
  std::thread service;
  std::atomic<bool> stopping{false};
  std::atomic<int> bound_port{0};
  struct Timer {
    lws_sorted_usec_list_t sul;  // first, so the callback can find the Impl
    Impl* self;
  } tick_timer{};

  // Service thread only.
  std::unordered_map<std::uint64_t, Session> sessions;
  std::uint64_t next_session = 0;

  // Filled by the writer thread, drained by the service thread.
  std::mutex outbox_mu;
  std::vector<Outbound> outbox;

  std::atomic<std::uint64_t> frames_in{0}, alarms_accepted{0}, errors_sent{0};
  std::atomic<int> n_devices{0}, n_consoles{0}, n_fields{0};
  std::atomic<size_t> n_open{0};

  Impl(ServerOptions o, const Clock& c)
      : options(std::move(o)),
        clock(c),
        store(options.db_path, StoreOptions{options.synchronous_full}),
        dispatcher(clock, options.config) {
    dispatcher.restore(store.load(start_of_local_day(clock.now_ms())));
    dispatcher.set_alert_lookup([this](const DeviceId& d, std::int64_t seq) { return store.find_alert(d, seq); });
    n_open = dispatcher.open_count();
    if (options.notifier) {
      notifier = options.notifier;
    } else {
      own_notifier = std::make_unique<WebhookNotifier>(WebhookNotifier::Options{options.webhook_url});
      notifier = own_notifier.get();
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%llx-%x", static_cast<unsigned long long>(clock.now_ms()),
                  static_cast<unsigned>(getpid()));
    epoch = buf;
    tick_timer.self = this;
    char hash[crypto_pwhash_STRBYTES];
    const std::string nobody = random_token("");
    if (crypto_pwhash_str(hash, nobody.data(), nobody.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0)
      dummy_hash = hash;
  }

  // --- logins ---------------------------------------------------------------------------

  void login_loop() {
    std::unique_lock lock(login_mu);
    for (;;) {
      login_cv.wait(lock, [&] { return login_stopping || !login_jobs.empty(); });
      if (login_stopping) return;
      LoginJob job = std::move(login_jobs.front());
      login_jobs.pop_front();
      lock.unlock();
      const bool usable = job.account && !job.account->disabled;
      const bool ok = verify_password(usable ? job.account->password_hash : dummy_hash, job.password) && usable;
      lock.lock();
      login_results.push_back({std::move(job), ok});
      lws_cancel_service(context);
    }
  }

  // Service thread: finish the logins whose passwords have been checked.
  void finish_logins() {
    std::vector<LoginResult> done;
    {
      std::lock_guard lock(login_mu);
      done.swap(login_results);
    }
    for (auto& r : done) {
      auto it = sessions.find(r.job.session);
      if (it == sessions.end()) continue;
      Session& s = it->second;
      std::vector<Outbound> replies;
      const Account* a = r.ok ? &*r.job.account : nullptr;
      if (!a || a->principal().role != r.job.role) {
        auto e = error_reply(s, r.job.req, {ErrorCode::auth_failed, "wrong username or password"});
        e.then_close = ++s.auth_failures >= kMaxAuthFailures;
        replies.push_back(std::move(e));
      } else {
        const Principal who = a->principal();
        const std::string token = dispatcher.open_session(who, options.session_ttl_ms);
        admit(s, who);
        s.current_token = token;
        replies.push_back(reply(s, r.job.req,
                                proto::Welcome{who.role, who.subject, clock.now_ms(), epoch, token,
                                               {a->display_name, a->kind, a->worker}}));
      }
      commit_and_send(std::move(replies));
    }
  }

  void admit(Session& s, const Principal& who) {
    s.who = who;
    if (who.role == Role::field && who.subject.rfind("worker:", 0) == 0) s.worker = std::stoll(who.subject.substr(7));
    (who.role == Role::device ? n_devices : who.role == Role::console ? n_consoles : n_fields)++;
  }

  // --- from the service thread to the store and back -----------------------------

  // Hands the dispatcher's effects and the replies to the store; they go out once
  // durable. Called once per received frame and once per tick.
  void commit_and_send(std::vector<Outbound> replies) {
    Effects fx = dispatcher.take_effects();
    n_open = dispatcher.open_count();
    if (fx.writes.empty() && fx.deltas.empty() && fx.field.empty() && fx.notices.empty() && replies.empty()) return;
    std::vector<Outbound> out;
    out.reserve(fx.deltas.size() + fx.field.size() + replies.size());
    const std::string today = dispatcher.today();
    for (auto& d : fx.deltas) {
      proto::DeltaMessage m{d.seq, d.kind, std::move(d.incident), std::move(d.append), {}, std::move(d.worker)};
      if (d.kind == DeltaKind::incident_opened) m.elder = card_for(m.incident.elder, today);
      out.push_back({0, 0, frame_of({"", std::move(m)})});
    }
    for (auto& f : fx.field) {
      proto::Task t{f.event, std::move(f.assignment), std::move(f.incident), {}};
      t.elder = card_for(t.incident.elder, today);
      out.push_back({0, f.worker, frame_of({"", std::move(t)})});
    }
    for (auto& r : replies) out.push_back(std::move(r));
    store.submit(std::move(fx.writes), [this, out = std::move(out), notices = std::move(fx.notices)]() mutable {
      for (const auto& n : notices) notifier->send(n);
      release(std::move(out));
    });
  }

  // Writer thread.
  void release(std::vector<Outbound> frames) {
    {
      std::lock_guard lock(outbox_mu);
      for (auto& f : frames) outbox.push_back(std::move(f));
    }
    lws_cancel_service(context);
  }

  // Service thread, on LWS_CALLBACK_EVENT_WAIT_CANCELLED.
  void drain_outbox() {
    std::vector<Outbound> ready;
    {
      std::lock_guard lock(outbox_mu);
      ready.swap(outbox);
    }
    for (auto& o : ready) {
      if (!o.frame) continue;  // a command that answers later (a login being checked)
      if (o.worker) {
        for (auto& [id, s] : sessions)
          if (s.worker == o.worker) enqueue(s, o.frame);
        continue;
      }
      if (o.session == 0) {
        for (auto& [id, s] : sessions)
          if (s.subscribed) enqueue(s, o.frame);
        continue;
      }
      auto it = sessions.find(o.session);
      if (it == sessions.end()) continue;  // gone before its reply was durable
      if (o.subscribes) it->second.subscribed = true;
      if (o.then_close) it->second.close_after_send = true;
      enqueue(it->second, o.frame);
    }
  }

  void enqueue(Session& s, const Frame& frame) {
    if (s.tx.size() >= options.max_queued_per_client) {
      // Too far behind: drop it rather than hold memory for it; it resyncs on reconnect.
      s.subscribed = false;
      s.tx.clear();
      s.close_after_send = true;
      lwsl_warn("dropping slow client %llu\n", static_cast<unsigned long long>(s.id));
      lws_callback_on_writable(s.wsi);
      return;
    }
    s.tx.push_back(frame);
    lws_callback_on_writable(s.wsi);
  }

  proto::ElderCard card_for(ElderId id, const std::string& today) const {
    const Elder* e = dispatcher.elder(id);
    if (!e) return proto::ElderCard{id};
    const Worker* paired = e->paired_worker ? dispatcher.worker(*e->paired_worker) : nullptr;
    return proto::make_card(*e, today, paired);
  }

  // --- handling one frame -----------------------------------------------------------

  Outbound reply(const Session& s, const std::string& req, proto::ServerBody body) {
    return {s.id, 0, frame_of({req, std::move(body)})};
  }

  Outbound error_reply(const Session& s, const std::string& req, Error e) {
    ++errors_sent;
    return reply(s, req, proto::ErrorReply{std::move(e)});
  }

  // Most commands answer ok with an id, or an error.
  template <class T> Outbound answer(const Session& s, const std::string& req, const Result<T>& r) {
    return r ? reply(s, req, proto::Ok{static_cast<std::int64_t>(r.value())}) : error_reply(s, req, r.error());
  }

  void on_frame(Session& s, std::string_view text) {
    ++frames_in;
    std::vector<Outbound> replies;
    auto parsed = proto::parse_client(text);
    if (!parsed) {
      replies.push_back(error_reply(s, "", parsed.error()));
    } else if (!s.who && !std::holds_alternative<proto::Hello>(parsed->body) &&
               !std::holds_alternative<proto::Login>(parsed->body) &&
               !std::holds_alternative<proto::Ping>(parsed->body)) {
      replies.push_back(error_reply(s, parsed->req, {ErrorCode::not_authenticated, "say hello with a token first"}));
    } else {
      const std::string& req = parsed->req;
      std::visit([&](auto& body) { replies.push_back(handle(s, req, body)); }, parsed->body);
    }
    commit_and_send(std::move(replies));
  }

  Outbound handle(Session& s, const std::string& req, const proto::Hello& h) {
    if (s.who) return error_reply(s, req, {ErrorCode::bad_state, "already authenticated"});
    auto who = dispatcher.authenticate(h.token);
    if (who) s.current_token = h.token;
    if (!who || who->role != h.role) {
      auto r = error_reply(s, req, {ErrorCode::auth_failed, "unknown token for role " + std::string(name_of(h.role))});
      r.then_close = ++s.auth_failures >= kMaxAuthFailures;
      return r;
    }
    admit(s, *who);
    return reply(s, req, proto::Welcome{who->role, who->subject, clock.now_ms(), epoch, "", {}});
  }

  Outbound handle(Session& s, const std::string& req, const AlarmIn& a) {
    auto r = dispatcher.raise_alarm(*s.who, a);
    if (!r) return error_reply(s, req, r.error());
    ++alarms_accepted;
    return reply(s, req, proto::Ack{a.device, a.seq, r.value()});
  }

  // A console gets everything live; a field worker only their own tasks and the
  // elders in them (issue 5: the server, not the page, enforces this).
  Outbound handle(Session& s, const std::string& req, const proto::Subscribe&) {
    if (s.who->role == Role::device) return error_reply(s, req, {ErrorCode::forbidden, "devices do not subscribe"});
    proto::Snapshot snap;
    snap.seq = dispatcher.seq();
    snap.epoch = epoch;
    snap.server_time_ms = clock.now_ms();
    const std::string today = dispatcher.today();
    const bool console = s.who->role == Role::console;
    std::set<ElderId> seen;
    for (const Incident* i : console ? dispatcher.open_incidents() : dispatcher.tasks_of(s.worker)) {
      snap.incidents.push_back(*i);
      if (seen.insert(i->elder).second) snap.elders.push_back(card_for(i->elder, today));
    }
    if (console) {
      for (const Worker* w : dispatcher.workers()) snap.workers.push_back(*w);
    } else if (const Worker* w = dispatcher.worker(s.worker)) {
      snap.workers.push_back(*w);
    }
    auto r = reply(s, req, std::move(snap));
    r.subscribes = console;
    return r;
  }

  Outbound handle(Session& s, const std::string& req, const proto::Ping&) {
    return reply(s, req, proto::Pong{clock.now_ms()});
  }

  Outbound handle(Session& s, const std::string& req, const proto::Login& l) {
    if (s.who) return error_reply(s, req, {ErrorCode::bad_state, "already authenticated"});
    std::lock_guard lock(login_mu);
    if (login_jobs.size() >= 64) return error_reply(s, req, {ErrorCode::auth_failed, "too many logins at once; retry"});
    login_jobs.push_back({s.id, req, l.role, l.password, store.find_account(l.username)});
    login_cv.notify_one();
    return {};  // answered by finish_logins()
  }

  Outbound handle(Session& s, const std::string& req, const proto::Logout&) {
    if (!s.current_token.empty()) dispatcher.close_session(*s.who, s.current_token);
    auto r = reply(s, req, proto::Ok{0});
    r.then_close = true;
    return r;
  }

  // A console may look at any elder; a field worker only at the elders of their tasks.
  Outbound handle(Session& s, const std::string& req, const proto::ElderQuery& q) {
    const Elder* e = dispatcher.elder(q.elder);
    if (s.who->role == Role::device) return error_reply(s, req, {ErrorCode::forbidden, "devices do not read the registry"});
    if (s.who->role == Role::field) {
      const auto tasks = dispatcher.tasks_of(s.worker);
      if (!e || std::none_of(tasks.begin(), tasks.end(), [&](const Incident* i) { return i->elder == q.elder; }))
        return error_reply(s, req, {ErrorCode::forbidden, "not an elder of your tasks"});
    }
    if (!e) return error_reply(s, req, {ErrorCode::bad_field, "no elder " + std::to_string(q.elder)});
    proto::ElderDetail d;
    d.card = card_for(e->id, dispatcher.today());
    for (const Device* dev : dispatcher.devices_of(e->id))
      d.devices.push_back({dev->id, dev->kind, dev->vendor, dev->battery_pct, dev->last_seen_ms});
    ElderHistory h = store.elder_history(e->id, 20);
    d.incidents = std::move(h.incidents);
    for (auto& v : h.visits) {
      const Worker* w = dispatcher.worker(v.worker);
      d.visits.push_back({std::move(v), w ? w->name : ""});
    }
    return reply(s, req, std::move(d));
  }

  Outbound handle(Session& s, const std::string& req, const proto::MapQuery&) {
    if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles read the map"});
    return reply(s, req, proto::make_map(dispatcher.elders(), dispatcher.today()));
  }

  // A field worker's current tasks and those of the last week.
  Outbound handle(Session& s, const std::string& req, const proto::MyTasks&) {
    if (s.who->role != Role::field) return error_reply(s, req, {ErrorCode::forbidden, "only field workers have tasks"});
    const std::string today = dispatcher.today();
    proto::TaskList list;
    auto add = [&](const Incident& i) {
      for (const auto& a : i.assignments) {
        if (a.worker != s.worker) continue;
        Incident header = i;
        header.timeline.clear();
        list.tasks.push_back({FieldEvent::task_updated, a, std::move(header), card_for(i.elder, today)});
      }
    };
    for (const Incident* i : dispatcher.tasks_of(s.worker)) add(*i);
    for (const Incident& i : store.worker_history(s.worker, clock.now_ms() - 7LL * 86'400'000, 50)) add(i);
    return reply(s, req, std::move(list));
  }

  // --- console commands
  Outbound handle(Session& s, const std::string& req, const proto::AckIncident& a) {
    return answer(s, req, dispatcher.acknowledge(*s.who, a.incident));
  }
  Outbound handle(Session& s, const std::string& req, const proto::ResolveIncident& a) {
    return answer(s, req, dispatcher.resolve(*s.who, a.incident, a.disposition, a.note));
  }
  Outbound handle(Session& s, const std::string& req, const proto::AddNote& a) {
    return answer(s, req, dispatcher.add_note(*s.who, a.incident, a.text));
  }
  Outbound handle(Session& s, const std::string& req, const proto::Dispatch& a) {
    return answer(s, req, dispatcher.dispatch(*s.who, a.incident, a.worker, a.responders));
  }
  Outbound handle(Session& s, const std::string& req, const proto::Callback& a) {
    return answer(s, req, dispatcher.record_callback(*s.who, a.incident, a.outcome));
  }
  Outbound handle(Session& s, const std::string& req, const proto::PlaceCall& a) {
    if (a.kind == CallKind::family) return answer(s, req, dispatcher.start_family_cascade(*s.who, a.incident));
    return answer(s, req, dispatcher.call_emergency(*s.who, a.incident, a.kind));
  }
  Outbound handle(Session& s, const std::string& req, const proto::CallResult& a) {
    return answer(s, req, dispatcher.record_call(*s.who, a.task, a.result));
  }
  Outbound handle(Session& s, const std::string& req, const proto::CandidatesQuery& q) {
    if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles ask for candidates"});
    auto r = dispatcher.candidates(q.incident, q.required);
    if (!r) return error_reply(s, req, r.error());
    proto::CandidateList list;
    list.incident = q.incident;
    for (const auto& c : r.value()) {
      const Worker* w = dispatcher.worker(c.id);
      list.candidates.push_back({c, w ? w->name : "", w ? w->role : WorkerRole::volunteer,
                                 w ? w->mode : TransportMode::ebike});
    }
    return reply(s, req, std::move(list));
  }
  Outbound handle(Session& s, const std::string& req, const proto::MetricsQuery&) {
    if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles read metrics"});
    return reply(s, req, proto::Metrics{dispatcher.metrics(), clock.now_ms()});
  }

  // --- field commands
  Outbound handle(Session& s, const std::string& req, const proto::Duty& a) {
    return answer(s, req, dispatcher.set_duty(*s.who, a.on));
  }
  Outbound handle(Session& s, const std::string& req, const proto::Position& p) {
    return answer(s, req, dispatcher.update_position(*s.who, p.lat, p.lon, p.accuracy_m, p.at_ms, p.mode));
  }
  Outbound handle(Session& s, const std::string& req, const proto::Accept& a) {
    return answer(s, req, dispatcher.accept(*s.who, a.assignment));
  }
  Outbound handle(Session& s, const std::string& req, const proto::Decline& a) {
    return answer(s, req, dispatcher.decline(*s.who, a.assignment, a.reason));
  }
  Outbound handle(Session& s, const std::string& req, const proto::OnScene& a) {
    return answer(s, req, dispatcher.arrive(*s.who, a.assignment));
  }
  Outbound handle(Session& s, const std::string& req, const proto::Complete& a) {
    return answer(s, req, dispatcher.complete(*s.who, a.assignment, a.outcome, a.report ? &*a.report : nullptr));
  }

  // --- time -----------------------------------------------------------------------------

  static void on_tick(lws_sorted_usec_list_t* sul) {
    Impl* self = reinterpret_cast<Timer*>(sul)->self;
    self->dispatcher.tick();
    self->commit_and_send({});
    self->schedule_tick();
  }

  void schedule_tick() {
    lws_sul_schedule(context, 0, &tick_timer.sul, &Impl::on_tick, static_cast<lws_usec_t>(options.tick_ms) * 1000);
  }

  // --- lws plumbing -------------------------------------------------------------------

  void on_closed(Session& s) {
    if (s.who) (s.who->role == Role::device ? n_devices : s.who->role == Role::console ? n_consoles : n_fields)--;
    sessions.erase(s.id);
  }

  int on_writeable(Session& s) {
    if (s.tx.empty()) {
      if (s.close_after_send) {
        lws_close_reason(s.wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, nullptr, 0);
        return -1;
      }
      return 0;
    }
    const std::string& text = *s.tx.front();
    std::vector<unsigned char> buf(LWS_PRE + text.size());
    std::memcpy(buf.data() + LWS_PRE, text.data(), text.size());
    int n = lws_write(s.wsi, buf.data() + LWS_PRE, text.size(), LWS_WRITE_TEXT);
    if (n < static_cast<int>(text.size())) return -1;
    s.tx.pop_front();
    if (!s.tx.empty() || s.close_after_send) lws_callback_on_writable(s.wsi);
    return 0;
  }

  void on_receive(Session& s, const void* in, size_t len) {
    if (!s.rx_overflow) {
      if (s.rx.size() + len > proto::kMaxFrameBytes) {
        s.rx_overflow = true;
        s.rx.clear();
        s.rx.shrink_to_fit();
      } else {
        s.rx.append(static_cast<const char*>(in), len);
      }
    }
    if (!lws_is_final_fragment(s.wsi) || lws_remaining_packet_payload(s.wsi) > 0) return;
    if (s.rx_overflow) {
      ++frames_in;
      std::vector<Outbound> replies;
      replies.push_back(error_reply(
          s, "", {ErrorCode::too_large, "messages are limited to " + std::to_string(proto::kMaxFrameBytes) + " bytes"}));
      commit_and_send(std::move(replies));
      s.rx_overflow = false;
      return;
    }
    std::string text;
    text.swap(s.rx);
    on_frame(s, text);
  }

  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
    auto* self = static_cast<Impl*>(lws_context_user(lws_get_context(wsi)));
    auto* slot = static_cast<std::uint64_t*>(user);  // per-session data: the session id
    auto session = [&]() -> Session* {
      if (!slot) return nullptr;
      auto it = self->sessions.find(*slot);
      return it == self->sessions.end() ? nullptr : &it->second;
    };
    switch (reason) {
      case LWS_CALLBACK_ESTABLISHED: {
        std::uint64_t id = ++self->next_session;
        *slot = id;
        Session& s = self->sessions[id];
        s.id = id;
        s.wsi = wsi;
        return 0;
      }
      case LWS_CALLBACK_RECEIVE:
        if (Session* s = session()) self->on_receive(*s, in, len);
        return 0;
      case LWS_CALLBACK_SERVER_WRITEABLE:
        if (Session* s = session()) return self->on_writeable(*s);
        return 0;
      case LWS_CALLBACK_CLOSED:
        if (Session* s = session()) self->on_closed(*s);
        return 0;
      case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        self->finish_logins();
        self->drain_outbox();
        return 0;
      default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
  }

  void start() {
    static const lws_protocols protocols[] = {
        {"anxin-v1", &Impl::callback, sizeof(std::uint64_t), 16 * 1024, 0, nullptr, 0},
        {nullptr, nullptr, 0, 0, 0, nullptr, 0},
    };
    lws_set_log_level(LLL_ERR | LLL_WARN, nullptr);
    lws_context_creation_info info;
    std::memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.user = this;
    context = lws_create_context(&info);
    if (!context) throw std::runtime_error("cannot create the WebSocket context");

    // The operators' and devices' port, and the field staff's: the page and its
    // WebSocket on one origin, so the browser needs nothing but the page's address.
    auto vhost_info = [&](const char* name, int port) {
      lws_context_creation_info v;
      std::memset(&v, 0, sizeof v);
      v.vhost_name = name;
      v.port = port;
      v.iface = options.interface.empty() ? nullptr : options.interface.c_str();
      v.protocols = protocols;
      v.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
      return v;
    };
    lws_context_creation_info main_info = vhost_info("default", options.port);
    vhost = lws_create_vhost(context, &main_info);
    if (!vhost) fail_start("cannot listen on port " + std::to_string(options.port));
    bound_port = lws_get_vhost_listen_port(vhost);
    if (options.field_port >= 0) {
      field_mount.mountpoint = "/field";
      field_mount.mountpoint_len = 6;
      field_mount.origin = options.field_root.c_str();
      field_mount.def = "index.html";
      field_mount.origin_protocol = LWSMPRO_FILE;
      lws_context_creation_info field_info = vhost_info("field", options.field_port);
      field_info.mounts = &field_mount;
      field_vhost = lws_create_vhost(context, &field_info);
      if (!field_vhost) fail_start("cannot listen on field port " + std::to_string(options.field_port));
      bound_field_port = lws_get_vhost_listen_port(field_vhost);
    }
    store.start();
    login_thread = std::thread([this] { login_loop(); });
    service = std::thread([this] {
      schedule_tick();
      while (!stopping) lws_service(context, 0);
    });
  }

  [[noreturn]] void fail_start(const std::string& why) {
    lws_context_destroy(context);
    context = nullptr;
    throw std::runtime_error(why);
  }

  void stop() {
    if (!context) return;
    stopping = true;
    lws_cancel_service(context);
    if (service.joinable()) service.join();
    lws_sul_cancel(&tick_timer.sul);
    {
      std::lock_guard lock(login_mu);
      login_stopping = true;
    }
    login_cv.notify_all();
    if (login_thread.joinable()) login_thread.join();
    store.stop();
    lws_context_destroy(context);
    context = nullptr;
  }
};

Server::Server(ServerOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

Server::~Server() { stop(); }

void Server::start() { impl_->start(); }
void Server::stop() { impl_->stop(); }
int Server::port() const { return impl_->bound_port; }
int Server::field_port() const { return impl_->bound_field_port; }

ServerStats Server::stats() const {
  ServerStats st;
  st.frames_in = impl_->frames_in;
  st.alarms_accepted = impl_->alarms_accepted;
  st.errors_sent = impl_->errors_sent;
  st.commits = impl_->store.commits();
  st.devices = impl_->n_devices;
  st.consoles = impl_->n_consoles;
  st.fields = impl_->n_fields;
  st.open_incidents = impl_->n_open;
  return st;
}

}  // namespace anxin::gateway
