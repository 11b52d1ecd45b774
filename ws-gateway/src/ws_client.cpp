#include "anxin/gateway/ws_client.hpp"

#include <libwebsockets.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

namespace anxin::gateway {

namespace {

// One connection of a group. Its lws state is touched on the group's thread only;
// tx and connected are shared with senders.
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
  std::atomic<bool> connected{false};
  std::mutex tx_mu;
  std::deque<std::string> tx;

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

  void dropped(const std::string& why) {
    wsi = nullptr;
    connected = false;
    {
      std::lock_guard lock(tx_mu);
      tx.clear();
    }
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
        c->backoff_ms = c->options.backoff_min_ms;
        c->connected = true;
        if (c->handlers.on_open) c->handlers.on_open();
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
    service = std::thread([this] {
      for (auto& c : connections) c->connect();
      while (!stopping) lws_service(context, 0);
    });
  }

  void stop() {
    if (!context) return;
    stopping = true;
    lws_cancel_service(context);
    if (service.joinable()) service.join();
    for (auto& c : connections) {
      lws_sul_cancel(&c->retry.sul);
      c->handlers = {};  // no callbacks while the context is torn down
    }
    lws_context_destroy(context);
    context = nullptr;
    for (auto& c : connections) c->connected = false;
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
  Connection& c = *impl_->connections.at(i);
  if (!c.connected) return false;
  {
    std::lock_guard lock(c.tx_mu);
    c.tx.push_back(std::move(text));
  }
  lws_cancel_service(impl_->context);
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
