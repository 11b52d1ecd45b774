// The libwebsockets plumbing of the server: vhosts, connections, the outbox that
// brings durable replies back from the store's writer thread, password checks on
// their own thread, and the timer tick. The commands themselves are in commands.cpp.
#include <libwebsockets.h>
#include <sodium.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "server_impl.hpp"

namespace anxin::gateway {

namespace {

// Today's metrics count from local midnight (China time, UTC+8, no DST).
Millis start_of_local_day(Millis now) {
  constexpr Millis kDay = 86'400'000, kUtcPlus8 = 8LL * 3600 * 1000;
  return (now + kUtcPlus8) / kDay * kDay - kUtcPlus8;
}

}  // namespace

Frame frame_of(proto::ServerMessage m) { return std::make_shared<const std::string>(proto::encode(m)); }

Server::Impl::Impl(ServerOptions o, const Clock& c)
    : options(std::move(o)),
      clock(c),
      store(options.db_path, StoreOptions{options.synchronous_full}),
      dispatcher(clock, options.config) {
  store.purge_expired_tokens(clock.now_ms());
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

void Server::Impl::finish_logins() {
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

void Server::Impl::admit(Session& s, const Principal& who) {
  s.who = who;
  lws_set_timeout(s.wsi, NO_PENDING_TIMEOUT, 0);  // the hello deadline is met
  if (who.role == Role::field && who.subject.rfind("worker:", 0) == 0) s.worker = std::stoll(who.subject.substr(7));
  (who.role == Role::device ? n_devices : who.role == Role::console ? n_consoles : n_fields)++;
}

void Server::Impl::commit_and_send(std::vector<Outbound> replies) {
  Effects fx = dispatcher.take_effects();
  if (line_dirty) {  // after the deltas it may refer to, which are released with it
    replies.push_back({0, 0, line_frame()});
    line_dirty = false;
  }
  n_open = dispatcher.open_count();
  if (fx.writes.empty() && fx.deltas.empty() && fx.field.empty() && fx.notices.empty() && replies.empty()) return;
  std::vector<Outbound> out;
  out.reserve(fx.deltas.size() + fx.field.size() + replies.size());
  const std::string today = dispatcher.today();
  for (auto& d : fx.deltas) {
    proto::DeltaMessage m{d.seq, d.kind, std::move(d.incident), std::move(d.append), {}, std::move(d.worker)};
    if (m.worker) m.worker = for_consoles(std::move(*m.worker));
    if (d.kind == DeltaKind::incident_opened || d.with_card) m.elder = card_for(m.incident.elder, today);
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

void Server::Impl::release(std::vector<Outbound> frames) {
  {
    std::lock_guard lock(outbox_mu);
    for (auto& f : frames) outbox.push_back(std::move(f));
  }
  lws_cancel_service(context);
}

void Server::Impl::drain_outbox() {
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

void Server::Impl::enqueue(Session& s, const Frame& frame) {
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

void Server::Impl::on_tick(lws_sorted_usec_list_t* sul) {
  Impl* self = reinterpret_cast<Timer*>(sul)->self;
  self->dispatcher.tick();
  self->line_tick();
  self->commit_and_send({});
  self->schedule_tick();
}

void Server::Impl::schedule_tick() {
  lws_sul_schedule(context, 0, &tick_timer.sul, &Impl::on_tick, static_cast<lws_usec_t>(options.tick_ms) * 1000);
}

void Server::Impl::on_closed(Session& s) {
  release_seat(s);
  if (s.who) (s.who->role == Role::device ? n_devices : s.who->role == Role::console ? n_consoles : n_fields)--;
  sessions.erase(s.id);
}

int Server::Impl::on_writeable(Session& s) {
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

int Server::Impl::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  auto* self = static_cast<Impl*>(lws_context_user(lws_get_context(wsi)));
  auto* slot = static_cast<std::uint64_t*>(user);  // per-session data: the session id
  auto session = [&]() -> Session* {
    if (!slot) return nullptr;
    auto it = self->sessions.find(*slot);
    return it == self->sessions.end() ? nullptr : &it->second;
  };
  switch (reason) {
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
      self->drain_outbox();
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

void Server::Impl::start() {
  static const lws_protocols protocols[] = {
      {"anxin-v1", &Impl::callback, sizeof(std::uint64_t), 16 * 1024, 0, nullptr, 0},
      {nullptr, nullptr, 0, 0, 0, nullptr, 0},
  };
  lws_set_log_level(LLL_ERR | LLL_WARN, nullptr);
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  if (!options.tls_cert.empty()) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
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
  store.start();
  login_thread = std::thread([this] { login_loop(); });
  service = std::thread([this] {
    schedule_tick();
    while (!stopping) lws_service(context, 0);
  });
}

void Server::Impl::fail_start(const std::string& why) {
  lws_context_destroy(context);
  context = nullptr;
  throw std::runtime_error(why);
}

void Server::Impl::stop() {
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
