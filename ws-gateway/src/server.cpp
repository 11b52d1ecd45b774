// The libwebsockets plumbing of the server: vhosts, connections, the outbox that
// brings durable replies back from the store's writer thread, password checks on
// their own thread, and the timer tick. The commands themselves are in commands.cpp.
#include <ev.h>
#include <libwebsockets.h>
#include <sodium.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <system_error>

#include "server_impl.hpp"

namespace anxin::gateway {

namespace {

constexpr rlim_t kReservedFiles = 64;  // open files kept for everything but connections

// on_writeable frames a connection's frames while what it has framed this turn is
// under kMaxWriteBytes; the last may add as much again and its header (10 bytes).
constexpr size_t kMaxWriteBytes = 256 * 1024;
constexpr size_t kMaxTurnBytes = 2 * kMaxWriteBytes + 10;

// libwebsockets logs some refusals once per connection ("User code denied
// connection"): a flood of them must not become a flood of lines. Each distinct line
// is written at most 3 times a minute; the rest are counted and summed up.
void quiet_lws_log(int level, const char* line) {
  static std::mutex mu;
  static std::map<std::string, int> seen;
  static auto window = std::chrono::steady_clock::now();
  std::lock_guard lock(mu);
  const auto now = std::chrono::steady_clock::now();
  if (now - window > std::chrono::minutes(1)) {
    for (const auto& [text, n] : seen)
      if (n > 3) std::fprintf(stderr, "lws: %d more of: %s", n - 3, text.c_str());
    seen.clear();
    window = now;
  }
  if (seen.size() >= 1000 && !seen.count(line)) return;
  if (++seen[line] <= 3) std::fprintf(stderr, "lws %s: %s", level == LLL_ERR ? "E" : "W", line);
}

}  // namespace

DatabaseLock::DatabaseLock(const std::string& db_path) {
  const std::string path = db_path + ".lock";
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = "";
    const ssize_t n = pread(fd_, holder, sizeof holder - 1, 0);
    holder[n > 0 ? n : 0] = 0;
    close(fd_);
    throw std::runtime_error("another anxin-server is using " + db_path + " (pid " +
                             std::string(holder[0] ? holder : "unknown") + "); stop it first, or use another --db");
  }
  const std::string pid = std::to_string(getpid());
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) < 0) {}  // the pid is only for that message
}

DatabaseLock::~DatabaseLock() {
  if (fd_ >= 0) close(fd_);  // and with it the lock
}

std::optional<WorkerId> worker_of(const Principal& who) {
  constexpr std::string_view prefix = "worker:";
  if (who.role != Role::field || who.subject.rfind(prefix, 0) != 0) return std::nullopt;
  const char* first = who.subject.data() + prefix.size();
  const char* last = who.subject.data() + who.subject.size();
  WorkerId id = 0;
  auto [end, err] = std::from_chars(first, last, id);
  if (err != std::errc() || end != last || id <= 0) return std::nullopt;
  return id;
}

Frame frame_of(proto::ServerMessage m) { return std::make_shared<const std::string>(proto::encode(m)); }

Server::Impl::Impl(ServerOptions o, const Clock& c)
    : options(std::move(o)),
      clock(c),
      store(options.db_path, StoreOptions{options.synchronous_full}),
      dispatcher(clock, [this] {
        DispatchConfig c = options.config;
        c.field_links_known = true;  // the field sessions below say whose phone page is connected
        return c;
      }()) {
  try {
    store.purge_expired_tokens(clock.now_ms());
  } catch (const StorageFull&) {
    // The disk is full already: the writer holds the purge and tries it again once
    // started, so the server runs in the full state from here rather than stop.
    store.submit({PurgeExpiredTokens{clock.now_ms()}});
  }
  LiveState live = store.load(start_of_local_day(clock.now_ms()));
  if (live.from_image)
    std::fprintf(stderr, "anxin-server: elders and devices read from %s%s%s\n",
                 registry_image::path_for(options.db_path).c_str(),
                 live.changed_elders + live.changed_devices == 0
                     ? ""
                     : (", the " + registry_image::changed(live.changed_elders, live.changed_devices) +
                        " since from their rows")
                           .c_str(),
                 live.device_state_from_rows ? ", the devices' battery, last contact and supervision from the rows"
                                             : "");
  else if (!live.image_note.empty())
    std::fprintf(stderr, "anxin-server: elders and devices read from the rows: %s\n", live.image_note.c_str());
  for (const auto& row : dispatcher.restore(std::move(live), false))
    std::fprintf(stderr, "anxin-server: a bad row was left out: %s\n", row.c_str());
  {
    // The callers' index and the visit book only read the registry: a city's start
    // makes them side by side on the two cores (docs/benchmarks.md).
    std::exception_ptr failed;
    std::jthread callers([&] {
      try {
        dispatcher.index_numbers();
      } catch (...) {
        failed = std::current_exception();
      }
    });
    visits.load(store);
    callers.join();
    if (failed) std::rethrow_exception(failed);
  }
  load_handovers();
  snapshot_texts.take(0, "", 0);  // every open incident as text now, before the first console asks
  n_open = dispatcher.open_count();
  if (options.notifier) {
    notifier = options.notifier;
  } else {
    WebhookNotifier::Options n;
    n.url = options.webhook_url;
    n.secret = options.webhook_secret;
    n.attempts = options.webhook_attempts;
    n.backoff_ms = options.webhook_backoff_ms;
    n.timeout_ms = options.webhook_timeout_ms;
    n.on_failed = [this](const Notice& notice, const std::string& reason, int attempts) {
      on_failed_notice(notice, reason, attempts);
    };
    n.on_delivered = [this](const Notice& notice, int attempts) {
      std::lock_guard lock(settled_mu);
      settled.push_back(SettleNotice{notice.id, NoticeState::delivered, attempts, "", clock.now_ms()});
    };
    own_notifier = std::make_unique<WebhookNotifier>(std::move(n));
    notifier = own_notifier.get();
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx-%x", static_cast<unsigned long long>(clock.now_ms()),
                static_cast<unsigned>(getpid()));
  epoch = buf;
  login_guard = LoginGuard(options.login_limits);
  tick_timer.self = refresh_timer.self = this;
  if (!options.line_file.empty()) {
    auto config = load_line_config(options.line_file);
    if (!config) throw std::runtime_error(config.error().message);
    line = std::make_unique<Line>(std::move(config.value()), [this] {
      if (context) lws_cancel_service(context);
    });
  }
  char hash[crypto_pwhash_STRBYTES];
  const std::string nobody = random_token("");
  if (crypto_pwhash_str(hash, nobody.data(), nobody.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0)
    dummy_hash = hash;
}

void Server::Impl::login_loop() {
  std::unique_lock lock(login_mu);
  for (;;) {
    login_cv.wait(lock, [&] { return login_stopping || !login_jobs.empty() || !suspect_jobs.empty(); });
    if (login_stopping) return;
    auto& lane = login_jobs.empty() ? suspect_jobs : login_jobs;
    LoginJob job = std::move(lane.front());
    lane.pop_front();
    lock.unlock();
    // The account is read here, not on the service thread, and read again once the
    // password is checked: one disabled or re-keyed meanwhile gets no session.
    bool ok = false;
    try {
      job.account = store.find_account(job.username);
      const bool usable = job.account && !job.account->disabled;
      ok = verify_password(usable ? job.account->password_hash : dummy_hash, job.password) && usable &&
           account_unchanged(*job.account);
    } catch (const StoreError& e) {
      lwsl_err("cannot read the account of a login: %s\n", e.what());
    }
    lock.lock();
    login_results.push_back({std::move(job), ok});
    lws_cancel_service(context);
  }
}

void Server::Impl::finish_logins() {
  std::vector<LoginResult> done;
  {
    std::lock_guard lock(login_mu);
    done.swap(login_results);
  }
  for (auto& r : done) {
    login_guard.end_check(r.job.address);
    const Account* a = r.ok ? &*r.job.account : nullptr;
    const bool ok = a && a->principal().role == r.job.role;
    if (ok) login_guard.succeeded(r.job.address, r.job.username, clock.now_ms());
    else {
      login_guard.failed(r.job.address, r.job.username, clock.now_ms());
      dispatcher.audit_login("login_failed", r.job.username, r.job.address);
    }
    auto it = sessions.find(r.job.session);
    if (it == sessions.end()) {
      commit_and_send({});  // the audit entry
      continue;
    }
    Session& s = it->second;
    std::vector<Outbound> replies;
    if (!ok) {
      auto e = error_reply(s, r.job.req, {ErrorCode::auth_failed, "wrong username or password"});
      e.then_close = ++s.auth_failures >= kMaxAuthFailures;
      replies.push_back(std::move(e));
    } else {
      const Principal who = a->principal();
      const std::string token = dispatcher.open_session(who, options.session_ttl_ms);
      admit(s, who);
      s.take_token(token);
      replies.push_back(reply(s, r.job.req,
                              proto::Welcome{who.role, who.subject, clock.now_ms(), epoch, token,
                                             {a->display_name, a->kind, a->worker}}));
    }
    commit_and_send(std::move(replies));
  }
}

void Server::Impl::admit(Session& s, const Principal& who) {
  s.who = who;
  lws_set_timeout(s.wsi, NO_PENDING_TIMEOUT, 0);  // the hello deadline is met
  s.frame_tokens.reset();  // full again, under the limit of who it turned out to be
  if (who.role == Role::field) s.worker = worker_of(who).value_or(0);
  s.since_ms = clock.now_ms();
  if (staff_kind(who)) staff_changed();  // presence (handover.cpp)
  if (s.worker) dispatcher.set_field_connected(s.worker, true);  // candidates rank them first
  (who.role == Role::device ? n_devices : who.role == Role::console ? n_consoles : n_fields)++;
}

void Server::Impl::commit_and_send(std::vector<Outbound> replies) {
  // A command answered later (an alarm, among held_acks; a login) gives an empty
  // reply: kept, it cost a commit callback and a wake.
  std::erase_if(replies, [](const Outbound& o) { return o.empty(); });
  commit_due = false;
  if (!held_acks.empty()) {  // first: their alarms' effects are among those taken below
    for (auto& r : replies) held_acks.push_back(std::move(r));
    replies.swap(held_acks);
    held_acks.clear();
  }
  Effects fx = dispatcher.take_effects();
  for (auto& w : visits.take_writes()) fx.writes.push_back(std::move(w));
  if (visits.take_changed()) visits_dirty = true;  // told at the next tick (on_tick)
  // Only the roster changes cards: a visit logged must not make the next subscribe
  // encode every open incident's card again on this thread.
  if (visits.take_elders_changed()) snapshot_texts.forget_cards();
  if (line_dirty) {  // after the deltas it may refer to, which are released with it
    replies.push_back({0, 0, line_frame()});
    line_dirty = false;
  }
  for (auto& w : std::exchange(handovers.writes, {})) fx.writes.push_back(std::move(w));
  // While the disk is full they wait: with them, a reply that needs no disk (a pong,
  // a read) would wait behind the held commit too.
  if (!storage_full) take_settled(fx.writes);
  if (std::exchange(handovers.dirty, false)) replies.push_back({0, 0, presence_frame()});  // handover.cpp
  n_open = dispatcher.open_count();
  if (fx.writes.empty() && fx.deltas.empty() && fx.field.empty() && fx.notices.empty() && replies.empty()) return;
  std::vector<Outbound> out;
  out.reserve(fx.deltas.size() + fx.field.size() + replies.size());
  const std::string today = dispatcher.today();
  for (auto& d : fx.deltas) {
    proto::DeltaMessage m{d.seq, d.kind, std::move(d.incident), std::move(d.append), {}, std::move(d.worker)};
    if (m.worker) m.worker = for_consoles(std::move(*m.worker));
    if (d.kind == DeltaKind::incident_opened || d.with_card) m.elder = card_for(m.incident.elder, today);
    snapshot_texts.changed(m);
    out.push_back({0, 0, std::make_shared<const std::string>(proto::encode_delta(m, ""))});
  }
  for (auto& f : fx.field) {
    proto::Task t{f.event, std::move(f.assignment), std::move(f.incident), {}};
    t.elder = card_for(t.incident.elder, today);
    out.push_back({0, f.worker, frame_of({"", std::move(t)})});
  }
  for (auto& r : replies) out.push_back(std::move(r));
  // While the disk is full the writer holds a commit, and all behind it waits too.
  // Replies that change nothing (reads, pongs, refusals, the line's picture) need no
  // disk, so they go at once; they may pass an ack still held, never the reverse.
  if (storage_full && fx.writes.empty() && fx.deltas.empty() && fx.field.empty() && fx.notices.empty()) {
    release(std::move(out));
    return;
  }
  ++commits_in_flight;
  last_handed = std::chrono::steady_clock::now();
  store.submit(std::move(fx.writes), [this, out = std::move(out), notices = std::move(fx.notices)]() mutable {
    release_durable(std::move(out), std::move(notices));
    --commits_in_flight;
  });
}

bool Server::Impl::awaiting_commit() const {
  return commits_in_flight > 0 &&
         std::chrono::steady_clock::now() - last_handed < std::chrono::microseconds(options.commit_spin_us);
}

void Server::Impl::take_settled(WriteBatch& writes) {
  std::lock_guard lock(settled_mu);
  for (auto& w : settled) writes.push_back(std::move(w));
  settled.clear();
}

void Server::Impl::release(std::vector<Outbound> frames) {
  {
    std::lock_guard lock(outbox_mu);
    outbox.push_back(std::move(frames));
  }
  lws_cancel_service(context);
}

// The writer's part of a commit's replies and notices: into the outbox, one wake for
// all that joins it before the service thread takes it (drain_outbox, under the
// same lock), and nothing copied. The service thread hands the notices to the
// notifier. When every alarm is a new alert the writer is the busier thread, and its
// callbacks took 0.62 ms of every 4.1 ms commit cycle (docs/benchmarks.md, "The
// notices handed over by the service thread").
void Server::Impl::release_durable(std::vector<Outbound> frames, std::vector<Notice> notices) {
  bool first = false;
  {
    std::lock_guard lock(outbox_mu);
    first = outbox.empty() && durable_notices.empty();
    outbox.push_back(std::move(frames));
    for (auto& n : notices) durable_notices.push_back(std::move(n));
  }
  if (first) lws_cancel_service(context);
}

void Server::Impl::send_durable_notices(std::vector<Notice> notices) {
  if (!notices.empty()) notifier->send_all(notices);
}

void Server::Impl::read_then_reply(const Session& s, const std::string& req, std::function<Finish()> read) {
  auto internal = [this, session = s.id, req](const std::exception& e) {
    lwsl_err("a read for request \"%s\" failed: %s\n", req.c_str(), e.what());
    ++errors_sent;
    release({{session, 0, frame_of({req, proto::ErrorReply{{ErrorCode::internal, "the server could not read that"}}})}});
  };
  store.submit({}, [this, session = s.id, req, read = std::move(read), internal]() mutable {
    reader.post([this, session, req = std::move(req), read = std::move(read), internal] {
      Finish finish;
      try {
        finish = read();
      } catch (const std::exception& e) {
        return internal(e);
      }
      std::lock_guard lock(finished_reads_mu);
      finished_reads.push_back([this, session, req, finish = std::move(finish), internal] {
        try {
          release({{session, 0, frame_of({req, finish()})}});
        } catch (const std::exception& e) {
          internal(e);
        }
      });
      lws_cancel_service(context);
    });
  });
}

void Server::Impl::run_finished_reads() {
  std::vector<std::function<void()>> done;
  {
    std::lock_guard lock(finished_reads_mu);
    done.swap(finished_reads);
  }
  for (auto& f : done) f();
}

void Server::Impl::on_failed_notice(const Notice& notice, const std::string& reason, int attempts) {
  std::lock_guard lock(failed_notices_mu);
  failed_notices.push_back({notice, reason, attempts});
  if (wake_on_failed_notice) lws_cancel_service(context);
}

void Server::Impl::drain_failed_notices() {
  // With the disk full nothing can be filed: they wait here, and the first tick with
  // room files them.
  watch_storage();
  if (storage_full) return;
  std::vector<FailedNotice> failed;
  {
    std::lock_guard lock(failed_notices_mu);
    failed.swap(failed_notices);
  }
  if (failed.empty()) return;
  for (const auto& f : failed) dispatcher.notice_failed(f.notice, f.reason, f.attempts);
  // Durable first, then the consoles' deltas, like any other change; a failed call
  // request may move the family cascade on, whose next notice goes out here too.
  commit_and_send({});
}

void Server::Impl::drain_outbox() {
  std::vector<std::vector<Outbound>> ready = std::move(spare_outbox);
  std::vector<Notice> notices;
  {
    std::lock_guard lock(outbox_mu);
    ready.swap(outbox);
    notices.swap(durable_notices);
  }
  send_durable_notices(std::move(notices));  // before the replies, as the writer did
  collecting = true;
  for (auto& batch : ready)
    for (auto& o : batch) deliver(o);
  collecting = false;
  flush_listed();
  ready.clear();
  spare_outbox = std::move(ready);
}

// Written at once: asking for WRITEABLE instead cost each connection a poll and lws's
// round of callbacks, between one console's send and the next (issue 15: the wider the
// gaps between sends, the more of them wake the reader). Devices' acks and field
// pages' tasks first, a send each, then the consoles.
void Server::Impl::flush_listed() {
  for (const bool consoles : {false, true})
    for (std::uint64_t id : to_flush) {
      auto it = sessions.find(id);
      if (it == sessions.end() || it->second.subscribed != consoles) continue;
      Session& s = it->second;
      s.flush_listed = false;
      if (s.tx.empty()) continue;  // dropped
      if (!straight_to_socket(s)) {
        lws_callback_on_writable(s.wsi);  // TLS's writes, or lws's own first
      } else if (write_out(s) < 0) {
        s.dropped = true;  // closed at the next turn, as a dropped client is
        lws_set_timeout(s.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
      }
    }
  to_flush.clear();
}

// Nothing of lws's own waits before what the server writes next (a WRITEABLE comes
// only once lws has sent all it held), and no TLS is in between.
bool Server::Impl::straight_to_socket(const Session& s) const {
  return !lws_is_ssl(s.wsi) && !lws_partial_buffered(s.wsi);
}

void Server::Impl::want_write(Session& s) {
  if (!collecting) {
    lws_callback_on_writable(s.wsi);
  } else if (!s.flush_listed) {
    s.flush_listed = true;
    to_flush.push_back(s.id);
  }
}

void Server::Impl::deliver(Outbound& o) {
  if (o.then) o.then();
  if (!o.frame && !o.parts) return;  // a command that answers later (a login being checked)
  if (o.worker) {
    for (auto& [id, s] : sessions)
      if (s.worker == o.worker) enqueue(s, o.frame);
    return;
  }
  if (o.session == 0) return broadcast(o.frame);
  auto it = sessions.find(o.session);
  if (it == sessions.end()) return;  // gone before its reply was durable
  if (o.parts) {
    send_snapshot(it->second, std::move(o.parts), o.req);
    if (storage_full) enqueue(it->second, status_frame());  // right after its snapshot
    return;
  }
  if (o.subscribes) mark_subscribed(it->second);
  if (o.snapshot) it->second.snapshot = o.frame;
  if (o.then_close) it->second.close_after_send = true;
  enqueue(it->second, o.frame);
  if (o.subscribes && storage_full) enqueue(it->second, status_frame());  // right after its snapshot
}

void Server::Impl::send_snapshot(Session& s, std::shared_ptr<const proto::SnapshotText> parts,
                                 const std::string& req) {
  mark_subscribed(s);  // the deltas after it queue behind its place
  s.stream = std::make_unique<SnapshotStream>(std::move(parts), req);
  s.tx.push_back(nullptr);
  s.tx_bytes += s.stream->size();
  queued_bytes += s.stream->size();
  want_write(s);
}

void Server::Impl::broadcast(const Frame& frame) {
  for (size_t i = 0; i < subscribers.size(); ++i)  // enqueue may drop one: no iterator
    if (Session* s = subscribers[i]) enqueue(*s, frame);
}

void Server::Impl::mark_subscribed(Session& s) {
  if (s.subscribed) return;
  s.subscribed = true;
  std::erase(subscribers, nullptr);
  subscribers.push_back(&s);
}

void Server::Impl::unsubscribe(Session& s) {
  if (!s.subscribed) return;
  s.subscribed = false;
  std::replace(subscribers.begin(), subscribers.end(), &s, static_cast<Session*>(nullptr));
}

void Server::Impl::watch_storage() {
  if (store.full() == storage_full) return;
  storage_full = !storage_full;
  storage_full_since_ms = storage_full ? clock.now_ms() : 0;
  broadcast(status_frame());
}

Frame Server::Impl::status_frame() const {
  return frame_of({"", proto::ServerStatus{storage_full,
                                           storage_full ? "the server's disk is full: alarms, acknowledgements, "
                                                          "dispatches and every other change are refused "
                                                          "(E_STORAGE_FULL) until space is freed"
                                                        : "the server's disk has room again: changes are accepted",
                                           storage_full_since_ms}});
}

// A client is judged by what it leaves unread, as Redis's client-output-buffer-limit
// does: a burst it keeps up with trips nothing; a backlog over the soft limit for the
// whole grace (drop_slow_clients), or what the server holds for it passing the hard
// limit, drops it.
void Server::Impl::enqueue(Session& s, const Frame& frame) {
  if (s.dropped) return;  // closing
  // The snapshot, however large, is the server's own doing: what it holds beyond it is judged.
  const size_t snapshot = s.stream ? s.stream->size() : 0;
  if (s.tx_bytes - snapshot + frame->size() > options.max_unread_bytes_hard) return drop_slow(s, "hard limit");
  s.tx.push_back(frame);
  s.tx_bytes += frame->size();
  queued_bytes += frame->size();
  want_write(s);
}

size_t Server::Impl::unread_bytes(const Session& s) const {
  // The socket's own send queue holds what the peer's TCP has not taken yet: up to
  // megabytes (tcp_wmem), which a client that stopped reading fills first.
  int in_socket = 0;
  if (ioctl(lws_get_socket_fd(s.wsi), SIOCOUTQ, &in_socket) != 0 || in_socket < 0) in_socket = 0;
  return s.tx_bytes + static_cast<size_t>(in_socket);
}

void Server::Impl::drop_slow(Session& s, const char* why) {
  lwsl_warn("dropping slow client %llu (%s): %zu bytes unread\n", static_cast<unsigned long long>(s.id), why,
            unread_bytes(s));
  ++slow_clients_dropped;
  s.dropped = true;
  unsubscribe(s);
  s.tx.clear();
  s.stream.reset();
  queued_bytes -= s.tx_bytes;
  s.tx_bytes = s.tx_sent = 0;
  s.over_soft_since.reset();
  s.close_after_send = true;
  // Closed at the next turn of the service loop, not through a WRITEABLE that a
  // client reading nothing would never give.
  lws_set_timeout(s.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void Server::Impl::drop_slow_clients() {
  const Millis now = clock.mono_ms();
  const Millis grace_ms = static_cast<Millis>(options.slow_client_grace_s) * 1000;
  for (auto& [id, s] : sessions) {
    if (s.dropped) continue;
    // All it was written was taken by the last look and nothing waits: it holds
    // nothing unread, and its socket need not be asked. A quiet connection's ioctl
    // each tick took 1.5 ms of the tick with 3,000 platforms connected.
    if (s.tx_bytes == 0 && s.written == s.taken_mark) {
      s.over_soft_since.reset();
      continue;
    }
    const size_t unread = unread_bytes(s);
    // What its socket no longer holds of what was written to it (the socket may also
    // hold a few bytes libwebsockets wrote itself, a pong say).
    const std::uint64_t in_socket = unread - s.tx_bytes;
    const std::uint64_t taken = s.written > in_socket ? s.written - in_socket : 0;
    // Over the soft limit, yet taking at least that much since it went over (or last
    // proved it reads): a reader behind a burst, not a slow one. Its grace starts over.
    if (unread <= options.max_unread_bytes_soft || taken >= s.taken_mark + options.max_unread_bytes_soft) {
      s.over_soft_since.reset();
      s.taken_mark = taken;
      continue;
    }
    if (!s.over_soft_since) s.over_soft_since = now;
    if (now - *s.over_soft_since >= grace_ms) drop_slow(s, "over the soft limit for the whole grace");
  }
}

void Server::Impl::on_tick(lws_sorted_usec_list_t* sul) {
  Impl* self = reinterpret_cast<Timer*>(sul)->self;
  // No exception may unwind into libwebsockets' C (issue 11, item 2): a fault in one
  // tick is logged, and the next tick comes as usual.
  try {
    self->watch_storage();
    // Timers change state too: with the disk full they wait, and whatever fell due
    // meanwhile happens at the first tick with room again.
    if (!self->storage_full) self->dispatcher.tick();
    self->drain_failed_notices();
    self->line_tick();
    self->apply_credential_changes();
    self->close_expired_sessions();
    self->drop_slow_clients();
    // Consoles re-read their lists on visits_changed: once a tick however many calls
    // were logged, and after their writes, which went to the store before this batch.
    std::vector<Outbound> changed;
    if (std::exchange(self->visits_dirty, false))
      changed.push_back({0, 0, frame_of({"", proto::VisitsReply{R"({"type":"visits_changed"})"}})});
    self->commit_and_send(std::move(changed));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anxin-server: a timer tick failed: %s\n", e.what());
  }
  self->schedule_tick();
}

// What changed, as text for the next snapshot: a slice at a time, fifty times a second,
// so that neither a burst of changes nor the texts hold alarms up for long (a slice of
// 2 ms each 250 ms tick made a pause that every alarm meeting it waited out).
void Server::Impl::on_refresh(lws_sorted_usec_list_t* sul) {
  Impl* self = reinterpret_cast<Timer*>(sul)->self;
  try {
    self->snapshot_texts.refresh(kRefreshSlice);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anxin-server: refreshing the snapshot texts failed: %s\n", e.what());
  }
  self->schedule_refresh();
}

void Server::Impl::schedule_refresh() {
  lws_sul_schedule(context, 0, &refresh_timer.sul, &Impl::on_refresh, kRefreshEveryUs);
}

// lws 4.1 waits in poll() for the time to its next timer in whole milliseconds,
// rounded down: through the last millisecond before each of ours it polled without
// waiting, again and again, about 3,000 times a second with the refresh's 50 a
// second, busy or idle (docs/benchmarks.md, "The last millisecond before a timer").
// A timer due within that millisecond runs now instead; each reschedules itself.
// Over libev, which rounds its waits up, lws runs them itself.
void Server::Impl::run_timers_due_soon() {
  const lws_usec_t soon = lws_now_usecs() + 1000;
  for (Timer* t : {&tick_timer, &refresh_timer})
    if (t->sul.us != 0 && t->sul.us < soon) t->sul.cb(&t->sul);
}

void Server::Impl::schedule_tick() {
  lws_sul_schedule(context, 0, &tick_timer.sul, &Impl::on_tick, static_cast<lws_usec_t>(options.tick_ms) * 1000);
}

void Server::Impl::on_closed(Session& s) {
  release_seat(s);
  if (s.who && staff_kind(*s.who)) staff_changed(&s);  // presence; its handovers may lapse (handover.cpp)
  queued_bytes -= s.tx_bytes;
  if (s.who) (s.who->role == Role::device ? n_devices : s.who->role == Role::console ? n_consoles : n_fields)--;
  const WorkerId worker = s.worker;
  unsubscribe(s);
  sessions.erase(s.id);
  // The worker's last phone page gone: offered last, or not at all (offer_unconnected).
  if (worker && std::none_of(sessions.begin(), sessions.end(),
                             [&](const auto& kv) { return kv.second.worker == worker && kv.second.who; }))
    dispatcher.set_field_connected(worker, false);
}

bool Server::Impl::origin_allowed(lws* wsi) const {
  char origin[256] = "", host[256] = "";
  if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0) return true;  // not a browser
  if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0) return false;
  const std::string o = origin;
  if (std::find(options.allowed_origins.begin(), options.allowed_origins.end(), o) != options.allowed_origins.end())
    return true;
  // The pages this server serves: from this very port, or the field page from the
  // field port of the same host (its `?ws=` may name the other port).
  const auto scheme_end = o.find("://");
  if (scheme_end == std::string::npos || lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0) return false;
  const std::string from = o.substr(scheme_end + 3), to = host;
  if (from == to) return true;
  const std::string to_host = to.substr(0, to.rfind(':') == std::string::npos ? to.size() : to.rfind(':'));
  return bound_field_port > 0 && from == to_host + ":" + std::to_string(bound_field_port.load());
}

namespace {

// A WebSocket frame's header as a server sends it (unmasked): RFC 6455 5.2. `first`
// and `last` say which fragment of its message it is (5.4): text, continuation, FIN.
size_t put_frame_header(unsigned char* p, size_t len, bool first, bool last) {
  p[0] = static_cast<unsigned char>((last ? 0x80 : 0) | (first ? 0x1 : 0x0));
  if (len < 126) {
    p[1] = static_cast<unsigned char>(len);
    return 2;
  }
  if (len < 65536) {
    p[1] = 126;
    p[2] = static_cast<unsigned char>(len >> 8);
    p[3] = static_cast<unsigned char>(len);
    return 4;
  }
  p[1] = 127;
  for (int i = 0; i < 8; ++i) p[2 + i] = static_cast<unsigned char>(static_cast<std::uint64_t>(len) >> (56 - 8 * i));
  return 10;
}

}  // namespace

// Every frame waiting, up to kMaxWriteBytes a turn so that one busy connection does
// not hold up the others, framed here and handed to the socket in one write (issue
// 15: a send() per frame per console was a quarter of the service thread at 5,000
// alarms/s). A message longer than that (a snapshot of thousands of incidents) goes
// as fragments, one a turn: written whole it held the service thread for 30 ms. A
// reader that keeps up drains its backlog at its own pace.
int Server::Impl::on_writeable(Session& s) {
  if (!s.tx.empty()) return write_out(s);
  if (s.close_after_send) {
    lws_close_reason(s.wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, nullptr, 0);
    return -1;
  }
  return 0;
}

int Server::Impl::write_out(Session& s) {
  size_t used = LWS_PRE;
  while (!s.tx.empty() && used - LWS_PRE < kMaxWriteBytes) {
    // The front: a frame, or the snapshot's place, written out from its parts.
    SnapshotStream* stream = s.tx.front() ? nullptr : s.stream.get();
    const size_t size = stream ? stream->size() : s.tx.front()->size();
    const size_t part = std::min(size - s.tx_sent, kMaxWriteBytes);
    const bool first = s.tx_sent == 0, last = s.tx_sent + part == size;
    if (write_buf.size() < used + 10 + part) write_buf.resize(used + 10 + part);
    used += put_frame_header(write_buf.data() + used, part, first, last);
    if (stream)
      stream->read(reinterpret_cast<char*>(write_buf.data() + used), part);
    else
      std::memcpy(write_buf.data() + used, s.tx.front()->data() + s.tx_sent, part);
    used += part;
    if (!last) {
      s.tx_sent += part;
      break;  // the rest next turn, nothing else in between
    }
    s.tx_sent = 0;
    s.tx_bytes -= size;
    queued_bytes -= size;
    if (stream || s.tx.front() == s.snapshot) {  // the snapshot is out: a subscribe builds another
      s.stream.reset();
      s.snapshot.reset();
      s.snapshot_pending = false;
    }
    s.tx.pop_front();
  }
  // Already framed: straight to the socket when it may be; lws takes what the socket
  // did not, holds it, and sends it before the next WRITEABLE.
  const size_t n = used - LWS_PRE;
  unsigned char* data = write_buf.data() + LWS_PRE;
  size_t sent = 0;
  if (straight_to_socket(s)) {
    const ssize_t r = ::send(lws_get_socket_fd(s.wsi), data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r > 0) sent = static_cast<size_t>(r);  // an error: lws's write below meets it too
  }
  const size_t rest = n - sent;
  if (rest > 0 && lws_write(s.wsi, data + sent, rest, LWS_WRITE_RAW) < static_cast<int>(rest)) return -1;
  s.written += n;
  if (!s.tx.empty() || s.close_after_send) lws_callback_on_writable(s.wsi);
  return 0;
}

void Server::Impl::on_receive(Session& s, const void* in, size_t len) {
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
  if (!within_frame_limit(s, s.rx_overflow ? std::string_view() : std::string_view(s.rx))) {
    s.rx.clear();
    s.rx_overflow = false;
    return;
  }
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

// A token bucket per connection (docs/protocol.md, "Floods and slow clients"). A
// refused frame is not parsed, applied or stored; the first in each 100 ms is answered
// (its `req` read for that alone), the rest are only counted, so that the answers to
// a flood do not become a flood of their own.
bool Server::Impl::within_frame_limit(Session& s, std::string_view text) {
  const bool vendor = s.who && s.who->role == Role::device && s.who->subject.rfind("vendor:", 0) == 0;
  const RateLimit& limit = vendor ? options.vendor_frame_limit : options.frame_limit;
  if (limit.per_s <= 0) return true;
  const Millis now = clock.mono_ms();
  const double refill = s.frame_tokens ? *s.frame_tokens + static_cast<double>(now - s.frame_tokens_mono) * limit.per_s / 1000
                                       : limit.burst;
  s.frame_tokens = std::min(limit.burst, refill);
  s.frame_tokens_mono = now;
  if (*s.frame_tokens >= 1) {
    *s.frame_tokens -= 1;
    return true;
  }
  ++frames_in;
  ++frames_rate_limited;
  if (s.rate_error_mono && now - *s.rate_error_mono < kRateErrorGapMs) {
    ++s.refused_unanswered;
    return false;
  }
  s.rate_error_mono = now;
  std::string req;
  if (auto parsed = proto::parse_client(text, &req)) req = parsed->req;
  char message[256];
  std::snprintf(message, sizeof message,
                "too many frames: this connection may send %g a second, %g at once; this frame was not applied", limit.per_s,
                limit.burst);
  std::string text_of_error = message;
  if (s.refused_unanswered)
    text_of_error += " (nor were the " + std::to_string(s.refused_unanswered) +
                     " frames refused unanswered since the last such error)";
  s.refused_unanswered = 0;
  std::vector<Outbound> replies;
  replies.push_back(error_reply(s, req, {ErrorCode::rate_limited, std::move(text_of_error)}));
  commit_and_send(std::move(replies));
  return false;
}

// The barrier between libwebsockets' C and our C++ (issue 11, item 2): an exception
// from handling one connection's event closes that connection, logged, and the
// server goes on serving everyone else.
int Server::Impl::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  try {
    return serve(wsi, reason, user, in, len);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anxin-server: closing a connection after a fault: %s\n", e.what());
  }
  return reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED ? 0 : -1;
}

int Server::Impl::serve(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  auto* self = static_cast<Impl*>(lws_context_user(lws_get_context(wsi)));
  auto* slot = static_cast<std::uint64_t*>(user);  // per-session data: the session id
  auto session = [&]() -> Session* {
    if (!slot) return nullptr;
    auto it = self->sessions.find(*slot);
    return it == self->sessions.end() ? nullptr : &it->second;
  };
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      if (self->origin_allowed(wsi)) return 0;
      if (self->refused_connections++ % 1000 == 0) lwsl_warn("refusing a WebSocket from a foreign page (logged once per 1000)\n");
      return 1;  // the handshake fails: the page's script sees the connection refused
    case LWS_CALLBACK_ESTABLISHED: {
      // Connections cost a file each: one address may not hold more than its share,
      // and a connection must say who it is within hello_timeout_s (issue 10, item 2).
      char peer[64] = "";
      lws_get_peer_simple(wsi, peer, sizeof peer);
      const auto same = std::count_if(self->sessions.begin(), self->sessions.end(),
                                      [&](const auto& kv) { return kv.second.peer == peer; });
      if (same >= self->options.max_connections_per_address) {
        if (self->refused_connections++ % 1000 == 0)
          lwsl_warn("refusing connections from %s: %d open (logged once per 1000)\n", peer,
                    static_cast<int>(same));
        return -1;
      }
      std::uint64_t id = ++self->next_session;
      *slot = id;
      Session& s = self->sessions[id];
      s.id = id;
      s.wsi = wsi;
      s.peer = peer;
      s.field_port = lws_get_vhost(wsi) == self->field_vhost;
      lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, self->options.hello_timeout_s);
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
      self->on_line_events();
      self->drain_failed_notices();
      self->run_finished_reads();
      self->drain_intake();
      self->drain_outbox();
      return 0;
    default:
      // The signed HTTP intake's requests (http_intake.cpp); any other HTTP as lws does.
      if (int rc = 0; self->http_intake(wsi, reason, slot, in, len, rc)) return rc;
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

void Server::Impl::start() {
  // tx_packet_size: lws sends at most this much of one lws_write at once, copies the
  // rest into a buffer of its own and sends it in later turns of the loop. Left at 0
  // it is rx_buffer_size: at 30,000 alarms/s a console's batch (84 KB on average)
  // went out in 16 KB sends, one turn each.
  static const lws_protocols protocols[] = {
      {"anxin-v1", &Impl::callback, sizeof(std::uint64_t), 16 * 1024, 0, nullptr, kMaxTurnBytes},
      {nullptr, nullptr, 0, 0, 0, nullptr, 0},
  };
  lws_set_log_level(LLL_ERR | LLL_WARN, quiet_lws_log);
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  if (!options.tls_cert.empty()) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.user = this;
  // lws counts only its own sockets against the open-file limit, and at the limit it
  // spins on a listener it cannot accept from (EMFILE), logging each try. Leave room
  // for the database, the seats and the webhook: past this lws accepts and closes at
  // once, quietly (issue 10, item 2).
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY)
    info.fd_limit_per_thread = static_cast<unsigned>(std::max<rlim_t>(files.rlim_cur, 2 * kReservedFiles) - kReservedFiles);
  // lws 4.1 waits in poll() over every socket, and at each wake looks at each again:
  // with 3,000 platforms connected an alarm cost the server 1.1 ms of CPU and reached
  // the first console after 1.8 ms (p50); over libev's epoll, where a turn costs what
  // is ready, 0.65 and 0.45 ms (docs/benchmarks.md, "The service loop on epoll"). lws
  // drives libev through its plugin (libwebsockets-evlib-ev); without it, lws's
  // poll() serves as before.
  event_loop = ev_loop_new(static_cast<unsigned>(EVBACKEND_EPOLL) | EVFLAG_NOENV);
  if (event_loop) {
    foreign_loops[0] = event_loop;
    info.foreign_loops = foreign_loops;
    info.options |= LWS_SERVER_OPTION_LIBEV;
    context = lws_create_context(&info);
    if (!context) {
      lwsl_warn("lws cannot run on libev (is libwebsockets-evlib-ev installed?): it polls every socket instead\n");
      ev_loop_destroy(event_loop);
      event_loop = nullptr;
      info.foreign_loops = nullptr;
      info.options &= ~LWS_SERVER_OPTION_LIBEV;
    }
  }
  if (!context) context = lws_create_context(&info);
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
    // lws 4.1 with IPv6 built in binds an IPv4 address's listener to every interface
    // (issue 10, item 4); without IPv6 on that vhost it binds the address given.
    in_addr v4{};
    if (!options.interface.empty() && inet_pton(AF_INET, options.interface.c_str(), &v4) == 1)
      v.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
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
    if (!options.tls_cert.empty()) {
      field_info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;  // lws 4.1 reads it per vhost too
      field_info.ssl_cert_filepath = options.tls_cert.c_str();
      field_info.ssl_private_key_filepath = options.tls_key.c_str();
    }
    field_vhost = lws_create_vhost(context, &field_info);
    if (!field_vhost) fail_start("cannot listen on field port " + std::to_string(options.field_port));
    bound_field_port = lws_get_vhost_listen_port(field_vhost);
  }
  if (options.dc09_port >= 0) {  // the SIA DC-09 receiver (docs/dc09.md), on its own thread
    try {
      dc09 = std::make_unique<Dc09Receiver>(options.dc09, options.interface, clock, intake);
      dc09->start(options.dc09_port);
    } catch (const std::exception& e) {
      dc09.reset();
      fail_start(e.what());
    }
    bound_dc09_port = dc09->port();
  }
  store.start();
  image_keeper.start();
  {
    std::lock_guard lock(failed_notices_mu);
    wake_on_failed_notice = true;
  }
  login_thread = std::thread([this] { login_loop(); });
  service = std::thread([this] {
    pthread_setname_np(pthread_self(), "anxin-service");
    schedule_tick();
    schedule_refresh();
    // On libev, lws arms its timer for what was scheduled outside its callbacks only
    // at its next event: this is one. A turn is then one epoll_wait's events.
    if (event_loop) lws_cancel_service(context);
    while (!stopping) {
      // Without libev lws offers no turn that does not wait: there it always sleeps.
      if (event_loop)
        ev_run(event_loop, awaiting_commit() ? EVRUN_NOWAIT : EVRUN_ONCE);
      else
        lws_service(context, 0);
      if (commit_due) commit_and_send({});
      if (!event_loop) run_timers_due_soon();
    }
  });
  if (!options.service_cpus.empty()) {
    try {
      pin_thread(service.native_handle(), options.service_cpus);
    } catch (const std::system_error& e) {  // a CPU taken offline since the list was read
      lwsl_warn("%s; the service thread runs wherever the system puts it\n", e.what());
    }
  }
}

void Server::Impl::fail_start(const std::string& why) {
  destroy_context();
  throw std::runtime_error(why);
}

void Server::Impl::destroy_context() {
  lws_context_destroy(context);
  context = nullptr;
  if (event_loop) ev_loop_destroy(event_loop);
  event_loop = nullptr;
}

void Server::Impl::stop() {
  if (!context) return;
  if (dc09) dc09->stop();  // first: it pushes to `intake`, which wakes `context`
  stopping = true;
  lws_cancel_service(context);
  if (service.joinable()) service.join();
  lws_sul_cancel(&tick_timer.sul);
  lws_sul_cancel(&refresh_timer.sul);
  {
    std::lock_guard lock(login_mu);
    login_stopping = true;
  }
  login_cv.notify_all();
  if (login_thread.joinable()) login_thread.join();
  image_keeper.stop();
  // The last contacts and batteries not yet written (a heartbeat's wait up to
  // write_every_s), committed before the writer stops: the rows then hold what the
  // image does.
  // The notices delivered since the last commit likewise.
  WriteBatch last = dispatcher.take_devices_heard();
  take_settled(last);
  store.submit(std::move(last), nullptr);
  store.stop();
  // The notices of batches made durable since the service thread stopped: to the
  // notifier, which delivers or logs them as it stops.
  std::vector<Notice> notices;
  {
    std::lock_guard lock(outbox_mu);
    notices.swap(durable_notices);
  }
  send_durable_notices(std::move(notices));
  reader.stop();
  {
    std::lock_guard lock(failed_notices_mu);
    wake_on_failed_notice = false;  // failures from now on stay in the log
  }
  // What everything acknowledged made of the registry, for the next start to read
  // whole (registry_image.hpp). Without it that start reads the rows, only slower.
  try {
    store.save_image(dispatcher.elder_table(), dispatcher.device_table());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anxin-server: no image of the registry was left: %s\n", e.what());
  }
  destroy_context();
}

Server::Server(ServerOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

Server::~Server() { stop(); }

void Server::start() { impl_->start(); }
void Server::stop() { impl_->stop(); }
int Server::port() const { return impl_->bound_port; }
int Server::field_port() const { return impl_->bound_field_port; }
int Server::dc09_port() const { return impl_->bound_dc09_port; }

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
  st.queued_bytes = impl_->queued_bytes;
  st.slow_clients_dropped = impl_->slow_clients_dropped;
  st.frames_rate_limited = impl_->frames_rate_limited;
  return st;
}

}  // namespace anxin::gateway
