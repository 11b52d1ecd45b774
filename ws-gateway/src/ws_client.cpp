#include "anxin/gateway/ws_client.hpp"

#include <libwebsockets.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

namespace anxin::gateway {

namespace {

// One connection of a group. Its lws state is touched on the group's thread only;
// phase and tx (under tx_mu) and connected are shared with senders.
struct Connection;

// The connection whose on_open handler is running on this thread, if any: only its
// own sends go straight to the queue while it runs; other threads' wait behind them.
thread_local const Connection* opening_here = nullptr;

struct Connection {
  // lws timers hand back only the list node; it sits first so we can find the rest.
  struct Timer {
    lws_sorted_usec_list_t sul;
    Connection* self;
  };

  ClientOptions options;
  ClientHandlers handlers;
  lws_context* context = nullptr;
  const std::atomic<bool>* stopping = nullptr;
  lws* wsi = nullptr;
  Timer retry{};
  int backoff_ms = 0;
  std::string rx;
  std::atomic<bool> connected{false};  // phase != closed, for connected() without the lock
  std::mutex tx_mu;
  // closed: send() refuses. opening: on_open runs; its own sends are queued, other
  // threads' are held until it returns, so its hello goes first. open: all queued.
  enum class Phase { closed, opening, open } phase = Phase::closed;
  std::deque<std::string> tx;    // frames for the current connection only
  std::deque<std::string> held;  // other threads' frames while on_open runs

  void connect() {
    if (*stopping) return;
    lws_client_connect_info ci;
    std::memset(&ci, 0, sizeof ci);
    ci.context = context;
    ci.address = options.host.c_str();
    ci.port = options.port;
    ci.path = options.path.c_str();
    ci.host = options.host.c_str();
    ci.origin = options.origin.empty() ? nullptr : options.origin.c_str();
    ci.iface = options.local_address.empty() ? nullptr : options.local_address.c_str();
    ci.protocol = "anxin-v1";
    ci.local_protocol_name = "anxin-client";
    ci.opaque_user_data = this;
    ci.pwsi = &wsi;
    if (!lws_client_connect_via_info(&ci)) {
      wsi = nullptr;
      schedule_retry();
    }
  }

  void schedule_retry() {
    if (!options.reconnect || *stopping) return;
    retry.self = this;
    lws_sul_schedule(context, 0, &retry.sul, &Connection::on_retry, static_cast<lws_usec_t>(backoff_ms) * 1000);
    backoff_ms = std::min(backoff_ms * 2, options.backoff_max_ms);
  }

  static void on_retry(lws_sorted_usec_list_t* sul) { reinterpret_cast<Timer*>(sul)->self->connect(); }

  // Queues a frame if the connection takes it now (see Phase).
  bool enqueue(std::string& text) {
    std::lock_guard lock(tx_mu);
    if (phase == Phase::closed) return false;
    (phase == Phase::opening && opening_here != this ? held : tx).push_back(std::move(text));
    return true;
  }

  void opened() {
    backoff_ms = options.backoff_min_ms;
    {
      std::lock_guard lock(tx_mu);
      if (*stopping) return;  // stop() has closed it for good
      phase = Phase::opening;  // tx and held are empty: closed() emptied them, and send() refused since
      connected = true;
    }
    {
      struct Opening {
        explicit Opening(const Connection* c) { opening_here = c; }
        ~Opening() { opening_here = nullptr; }
      } opening(this);
      if (handlers.on_open) handlers.on_open();
    }
    std::lock_guard lock(tx_mu);
    if (phase != Phase::opening) return;  // stop() closed it meanwhile
    phase = Phase::open;
    for (auto& f : held) tx.push_back(std::move(f));
    held.clear();
    if (!tx.empty()) lws_callback_on_writable(wsi);
  }

  // What was queued and not written goes with the connection: a later connection
  // starts with its own on_open (its hello), never with an earlier one's frames.
  void closed() {
    std::lock_guard lock(tx_mu);
    phase = Phase::closed;
    connected = false;
    tx.clear();
    held.clear();
  }

  void dropped(const std::string& why) {
    wsi = nullptr;
    closed();
    rx.clear();
    if (handlers.on_close) handlers.on_close(why);
    schedule_retry();
  }

  int on_writeable() {
    std::string text;
    bool more;
    {
      std::lock_guard lock(tx_mu);
      if (tx.empty()) return 0;
      text = std::move(tx.front());
      tx.pop_front();
      more = !tx.empty();
    }
    std::vector<unsigned char> buf(LWS_PRE + text.size());
    std::memcpy(buf.data() + LWS_PRE, text.data(), text.size());
    if (lws_write(wsi, buf.data() + LWS_PRE, text.size(), LWS_WRITE_TEXT) < static_cast<int>(text.size()))
      return -1;
    if (more) lws_callback_on_writable(wsi);
    return 0;
  }

  void on_receive(lws* w, const void* in, size_t len) {
    rx.append(static_cast<const char*>(in), len);
    if (!lws_is_final_fragment(w) || lws_remaining_packet_payload(w) > 0) return;
    std::string text;
    text.swap(rx);
    if (handlers.on_message) handlers.on_message(std::move(text));
  }

  void flush_if_pending() {
    if (!wsi) return;
    std::lock_guard lock(tx_mu);
    if (!tx.empty()) lws_callback_on_writable(wsi);
  }
};

}  // namespace

struct WsClientGroup::Impl {
  std::vector<std::unique_ptr<Connection>> connections;
  lws_context* context = nullptr;
  std::thread service;
  std::atomic<bool> stopping{false};
  std::mutex life_mu;  // start() and stop() one at a time
  // The context senders may wake: set once it exists, cleared under this lock before
  // stop() destroys it, so no send() can reach a context being destroyed.
  std::mutex wake_mu;
  lws_context* wake_context = nullptr;

  void wake() {
    std::lock_guard lock(wake_mu);
    if (wake_context) lws_cancel_service(wake_context);
  }

  static int callback(lws* w, lws_callback_reasons reason, void*, void* in, size_t len) {
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
      auto* self = static_cast<Impl*>(lws_context_user(lws_get_context(w)));
      for (auto& c : self->connections) c->flush_if_pending();
      return 0;
    }
    auto* c = static_cast<Connection*>(lws_get_opaque_user_data(w));
    if (!c) return 0;
    switch (reason) {
      case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->opened();
        return 0;
      case LWS_CALLBACK_CLIENT_RECEIVE:
        c->on_receive(w, in, len);
        return 0;
      case LWS_CALLBACK_CLIENT_WRITEABLE:
        return c->on_writeable();
      case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        c->dropped(in ? std::string(static_cast<const char*>(in), len ? len : std::strlen(static_cast<const char*>(in)))
                      : "connection failed");
        return 0;
      case LWS_CALLBACK_CLIENT_CLOSED:
        c->dropped("closed");
        return 0;
      default:
        return 0;
    }
  }

  void start() {
    std::lock_guard life(life_mu);
    if (context) return;
    static const lws_protocols protocols[] = {
        {"anxin-client", &Impl::callback, 0, 64 * 1024, 0, nullptr, 0},
        {nullptr, nullptr, 0, 0, 0, nullptr, 0},
    };
    lws_set_log_level(LLL_ERR, nullptr);
    lws_context_creation_info info;
    std::memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = this;
    info.fd_limit_per_thread = static_cast<unsigned>(connections.size()) + 16;
    context = lws_create_context(&info);
    if (!context) throw std::runtime_error("cannot create the WebSocket client context");
    for (auto& c : connections) {
      c->context = context;
      c->stopping = &stopping;
      c->backoff_ms = c->options.backoff_min_ms;
    }
    {
      std::lock_guard lock(wake_mu);
      wake_context = context;
    }
    service = std::thread([this] {
      for (auto& c : connections) c->connect();
      while (!stopping) lws_service(context, 0);
    });
  }

  void stop() {
    std::lock_guard life(life_mu);
    if (!context) return;
    {
      std::lock_guard lock(wake_mu);
      wake_context = nullptr;
    }
    stopping = true;
    for (auto& c : connections) c->closed();  // send() refuses from here on
    lws_cancel_service(context);
    if (service.joinable()) service.join();
    for (auto& c : connections) {
      lws_sul_cancel(&c->retry.sul);
      c->handlers = {};  // no callbacks while the context is torn down
    }
    lws_context_destroy(context);
    context = nullptr;
  }
};

WsClientGroup::WsClientGroup() : impl_(std::make_unique<Impl>()) {}
WsClientGroup::~WsClientGroup() { stop(); }

size_t WsClientGroup::add(ClientOptions options, ClientHandlers handlers) {
  auto c = std::make_unique<Connection>();
  c->options = std::move(options);
  c->handlers = std::move(handlers);
  impl_->connections.push_back(std::move(c));
  return impl_->connections.size() - 1;
}

void WsClientGroup::start() { impl_->start(); }
void WsClientGroup::stop() { impl_->stop(); }

bool WsClientGroup::send(size_t i, std::string text) {
  if (!impl_->connections.at(i)->enqueue(text)) return false;
  impl_->wake();
  return true;
}

bool WsClientGroup::connected(size_t i) const { return impl_->connections.at(i)->connected; }
size_t WsClientGroup::size() const { return impl_->connections.size(); }

// --- WsClient: a group of one -------------------------------------------------------

WsClient::WsClient(ClientOptions options, ClientHandlers handlers) : group_(std::make_unique<WsClientGroup>()) {
  group_->add(std::move(options), std::move(handlers));
}
WsClient::~WsClient() { stop(); }
void WsClient::start() { group_->start(); }
void WsClient::stop() { group_->stop(); }
bool WsClient::send(std::string text) { return group_->send(0, std::move(text)); }
bool WsClient::connected() const { return group_->connected(0); }

// --- SyncClient ----------------------------------------------------------------------

SyncClient::SyncClient(int port, std::string host) : SyncClient([&] {
  ClientOptions o;
  o.host = std::move(host);
  o.port = port;
  return o;
}()) {}

SyncClient::SyncClient(ClientOptions o) {
  o.reconnect = false;
  ClientHandlers h;
  h.on_open = [this] {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  };
  h.on_message = [this](std::string text) {
    std::lock_guard lock(mu_);
    frames_.push_back(std::move(text));
    cv_.notify_all();
  };
  h.on_close = [this](const std::string&) {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  };
  client_ = std::make_unique<WsClient>(o, std::move(h));
  client_->start();
}

SyncClient::~SyncClient() { client_->stop(); }

bool SyncClient::wait_open(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return open_ || closed_; });
  return open_ && !closed_;
}

std::optional<std::string> SyncClient::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !frames_.empty(); })) return std::nullopt;
  std::string f = std::move(frames_.front());
  frames_.pop_front();
  return f;
}

bool SyncClient::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

}  // namespace anxin::gateway
