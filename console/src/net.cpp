#include "net.hpp"

#include <cstdio>

namespace anxin::console {
namespace proto = anxin::protocol;

std::string_view name_of(LinkState s) {
  switch (s) {
    case LinkState::connecting: return "connecting";
    case LinkState::authenticating: return "authenticating";
    case LinkState::synced: return "synced";
    case LinkState::disconnected: return "disconnected";
  }
  return "?";
}

ConsoleLink::ConsoleLink(LinkOptions options, std::function<void()> wake)
    : options_(std::move(options)), session_(options_.token), wake_(std::move(wake)) {
  gateway::ClientOptions o;
  o.host = options_.host;
  o.port = options_.port;
  o.reconnect = true;
  gateway::ClientHandlers h;
  h.on_open = [this] { on_open(); };
  h.on_message = [this](std::string text) { on_message(std::move(text)); };
  h.on_close = [this](const std::string& why) { on_close(why); };
  client_ = std::make_unique<gateway::WsClient>(o, std::move(h));
}

ConsoleLink::~ConsoleLink() { client_->stop(); }

void ConsoleLink::start() {
  std::fprintf(stderr, "anxin-console: connecting to %s:%d\n", options_.host.c_str(), options_.port);
  client_->start();
}

bool ConsoleLink::send(const proto::ClientMessage& message) { return client_->send(proto::encode(message)); }

bool ConsoleLink::subscribe() { return send({kSubscribeReq, proto::Subscribe{}}); }

std::vector<LinkEvent> ConsoleLink::take() {
  std::vector<LinkEvent> out;
  std::lock_guard lock(mu_);
  out.swap(inbox_);
  return out;
}

std::string ConsoleLink::last_error() const {
  std::lock_guard lock(mu_);
  return error_;
}

// --- network thread -------------------------------------------------------------------

void ConsoleLink::on_open() {
  if (!session_.empty()) {
    set_state(LinkState::authenticating, "connected; saying hello");
    send({kHelloReq, proto::Hello{Role::console, session_}});
  } else {
    set_state(LinkState::authenticating, "connected; logging in as " + options_.username);
    send({kLoginReq, proto::Login{Role::console, options_.username, options_.password}});
  }
}

void ConsoleLink::on_message(std::string text) {
  auto parsed = proto::parse_server(text);
  if (!parsed) {
    // A frame we cannot read is the server's bug or a version skew; keep going
    // and let a sequence gap, if any, trigger a resync.
    set_error("unreadable frame: " + parsed.error().message);
    std::fprintf(stderr, "anxin-console: %s\n", parsed.error().message.c_str());
    return;
  }
  proto::ServerMessage& m = parsed.value();
  if (std::holds_alternative<proto::Welcome>(m.body)) {
    const auto& w = std::get<proto::Welcome>(m.body);
    std::fprintf(stderr, "anxin-console: welcome as %s (server epoch %s); subscribing\n", w.subject.c_str(),
                 w.epoch.c_str());
    if (!w.session.empty()) session_ = w.session;  // reconnects say hello with it
    subscribe();
  } else if (const auto* s = std::get_if<proto::Snapshot>(&m.body)) {
    set_error("");
    set_state(LinkState::synced, "snapshot seq " + std::to_string(s->seq) + ", " +
                                     std::to_string(s->incidents.size()) + " incidents");
  } else if (const auto* e = std::get_if<proto::ErrorReply>(&m.body)) {
    if (m.req == kHelloReq || m.req == kLoginReq || m.req == kSubscribeReq || m.req.empty())
      set_error(std::string(code_name(e->error.code)) + ": " + e->error.message);
  }
  push(std::move(m));
}

void ConsoleLink::on_close(const std::string& why) {
  set_error(why);
  set_state(LinkState::disconnected, why);
  push(LinkDropped{why});
}

void ConsoleLink::push(LinkEvent event) {
  {
    std::lock_guard lock(mu_);
    inbox_.push_back(std::move(event));
  }
  if (wake_) wake_();
}

void ConsoleLink::set_state(LinkState state, std::string_view note) {
  // Log transitions only: a server that stays down would otherwise print a line
  // for every reconnect attempt.
  if (state_.exchange(state) != state)
    std::fprintf(stderr, "anxin-console: %s (%.*s)\n", name_of(state).data(), static_cast<int>(note.size()),
                 note.data());
}

void ConsoleLink::set_error(std::string text) {
  std::lock_guard lock(mu_);
  error_ = std::move(text);
}

}  // namespace anxin::console
