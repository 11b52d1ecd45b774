#include "anxin/gateway/server.hpp"

#include <libwebsockets.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/protocol.hpp"
#include "anxin/core/store.hpp"

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
  int auth_failures = 0;
  bool subscribed = false;    // receives deltas
  bool close_after_send = false;
  std::string rx;             // the message being reassembled from fragments
  bool rx_overflow = false;
  std::deque<Frame> tx;
};

// A frame released by the writer thread: to one session, or to every subscribed
// console. `subscribes` marks the snapshot that turns a session's deltas on.
struct Outbound {
  std::uint64_t session = 0;  // 0: every subscribed console
  Frame frame;
  bool subscribes = false;
  bool then_close = false;
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  const Clock& clock;
  Store store;
  Dispatcher dispatcher;
  std::string epoch;

  lws_context* context = nullptr;
  lws_vhost* vhost = nullptr;
  std::thread service;
  std::atomic<bool> stopping{false};
  std::atomic<int> bound_port{0};

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
        dispatcher(clock) {
    dispatcher.restore(store.load());
    dispatcher.set_alert_lookup(
        [this](const DeviceId& d, std::int64_t seq) { return store.find_alert(d, seq); });
    n_open = dispatcher.open_count();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%llx-%x", static_cast<unsigned long long>(clock.now_ms()),
                  static_cast<unsigned>(getpid()));
    epoch = buf;
  }

  // --- from the service thread to the store and back -----------------------------

  // Hands the dispatcher's effects and the replies to the store; they go out once
  // durable. Called once per received frame.
  void commit_and_send(std::vector<Outbound> replies) {
    Effects fx = dispatcher.take_effects();
    n_open = dispatcher.open_count();
    std::vector<Outbound> out;
    out.reserve(fx.deltas.size() + replies.size());
    const std::string today = local_date(clock.now_ms());
    for (auto& d : fx.deltas) {
      proto::DeltaMessage m{d.seq, d.kind, std::move(d.incident), std::move(d.append), {}};
      if (d.kind == DeltaKind::incident_opened) m.elder = card_for(m.incident.elder, today);
      out.push_back({0, std::make_shared<const std::string>(proto::encode({"", std::move(m)}))});
    }
    for (auto& r : replies) out.push_back(std::move(r));
    store.submit(std::move(fx.writes), [this, out = std::move(out)]() mutable { release(std::move(out)); });
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
    return {s.id, std::make_shared<const std::string>(proto::encode({req, std::move(body)}))};
  }

  Outbound error_reply(Session& s, const std::string& req, Error e) {
    ++errors_sent;
    return reply(s, req, proto::ErrorReply{std::move(e)});
  }

  void on_frame(Session& s, std::string_view text) {
    ++frames_in;
    std::vector<Outbound> replies;
    auto parsed = proto::parse_client(text);
    if (!parsed) {
      replies.push_back(error_reply(s, "", parsed.error()));
      commit_and_send(std::move(replies));
      return;
    }
    const std::string& req = parsed->req;
    std::visit([&](auto& body) { handle(s, req, body, replies); }, parsed->body);
    commit_and_send(std::move(replies));
  }

  void handle(Session& s, const std::string& req, const proto::Hello& h, std::vector<Outbound>& out) {
    if (s.who) {
      out.push_back(error_reply(s, req, {ErrorCode::bad_state, "already authenticated"}));
      return;
    }
    auto who = dispatcher.authenticate(h.token);
    if (!who || who->role != h.role) {
      auto r = error_reply(s, req, {ErrorCode::auth_failed, "unknown token for role " + std::string(name_of(h.role))});
      r.then_close = ++s.auth_failures >= kMaxAuthFailures;
      out.push_back(std::move(r));
      return;
    }
    s.who = who;
    (who->role == Role::device ? n_devices : who->role == Role::console ? n_consoles : n_fields)++;
    out.push_back(reply(s, req, proto::Welcome{who->role, who->subject, clock.now_ms(), epoch}));
  }

  void handle(Session& s, const std::string& req, const AlarmIn& a, std::vector<Outbound>& out) {
    if (!authenticated(s, req, out)) return;
    auto r = dispatcher.raise_alarm(*s.who, a);
    if (!r) return out.push_back(error_reply(s, req, r.error()));
    ++alarms_accepted;
    out.push_back(reply(s, req, proto::Ack{a.device, a.seq, r.value()}));
  }

  void handle(Session& s, const std::string& req, const proto::Subscribe&, std::vector<Outbound>& out) {
    if (!authenticated(s, req, out)) return;
    if (s.who->role != Role::console)
      return out.push_back(error_reply(s, req, {ErrorCode::forbidden, "only consoles subscribe"}));
    proto::Snapshot snap;
    snap.seq = dispatcher.seq();
    snap.epoch = epoch;
    snap.server_time_ms = clock.now_ms();
    const std::string today = local_date(snap.server_time_ms);
    std::map<ElderId, bool> seen;
    for (const Incident* i : dispatcher.open_incidents()) {
      snap.incidents.push_back(*i);
      if (!seen[i->elder]) {
        seen[i->elder] = true;
        snap.elders.push_back(card_for(i->elder, today));
      }
    }
    auto r = reply(s, req, std::move(snap));
    r.subscribes = true;
    out.push_back(std::move(r));
  }

  void handle(Session& s, const std::string& req, const proto::AckIncident& a, std::vector<Outbound>& out) {
    if (!authenticated(s, req, out)) return;
    auto r = dispatcher.acknowledge(*s.who, a.incident);
    out.push_back(r ? reply(s, req, proto::Ok{a.incident}) : error_reply(s, req, r.error()));
  }

  void handle(Session& s, const std::string& req, const proto::ResolveIncident& a, std::vector<Outbound>& out) {
    if (!authenticated(s, req, out)) return;
    auto r = dispatcher.resolve(*s.who, a.incident, a.disposition);
    out.push_back(r ? reply(s, req, proto::Ok{a.incident}) : error_reply(s, req, r.error()));
  }

  void handle(Session& s, const std::string& req, const proto::Ping&, std::vector<Outbound>& out) {
    out.push_back(reply(s, req, proto::Pong{clock.now_ms()}));
  }

  bool authenticated(Session& s, const std::string& req, std::vector<Outbound>& out) {
    if (s.who) return true;
    out.push_back(error_reply(s, req, {ErrorCode::not_authenticated, "say hello with a token first"}));
    return false;
  }

  // --- lws plumbing -------------------------------------------------------------------

  void on_closed(Session& s) {
    if (s.who)
      (s.who->role == Role::device ? n_devices : s.who->role == Role::console ? n_consoles : n_fields)--;
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
      replies.push_back(error_reply(s, "", {ErrorCode::too_large,
                                            "messages are limited to " +
                                                std::to_string(proto::kMaxFrameBytes) + " bytes"}));
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
    info.port = options.port;
    info.iface = options.interface.empty() ? nullptr : options.interface.c_str();
    info.protocols = protocols;
    info.user = this;
    info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    context = lws_create_context(&info);
    if (!context) throw std::runtime_error("cannot listen on port " + std::to_string(options.port));
    vhost = lws_get_vhost_by_name(context, "default");
    bound_port = vhost ? lws_get_vhost_listen_port(vhost) : options.port;
    store.start();
    service = std::thread([this] {
      while (!stopping) lws_service(context, 0);
    });
  }

  void stop() {
    if (!context) return;
    stopping = true;
    lws_cancel_service(context);
    if (service.joinable()) service.join();
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
