// ConsoleLink: the console's one connection to anxin-server. It owns the
// WebSocket client (and so its thread), signs in (a login with user name and
// password the first time, then hello with the session token the welcome
// returned, so a reconnect does not ask for the password again; or hello with a
// fixed token given on the command line), subscribes once welcomed, and parses every frame on the network thread. Parsed
// messages cross to the UI thread through a queue that is swapped under a lock;
// after each push the `wake` callback (glfwPostEmptyEvent in the app) ends the UI
// thread's wait. The link knows nothing of the replica or of ImGui.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "anxin/core/protocol.hpp"
#include "anxin/gateway/ws_client.hpp"

namespace anxin::console {

enum class LinkState {
  connecting,      // no connection yet
  authenticating,  // connected; hello sent, waiting for welcome and then the snapshot
  synced,          // snapshot received; deltas flow
  disconnected,    // dropped; the client reconnects with backoff
};
std::string_view name_of(LinkState);

// What the UI thread receives, in the order it happened.
struct LinkDropped {
  std::string why;
};
using LinkEvent = std::variant<protocol::ServerMessage, LinkDropped>;

struct LinkOptions {
  std::string host = "127.0.0.1";
  int port = 7600;
  std::string token;               // a fixed token (--token, tests); or, empty:
  std::string username, password;  // a login
};

// Request ids of the link's own messages, so the App can tell their errors apart.
inline constexpr const char* kHelloReq = "hello";
inline constexpr const char* kLoginReq = "login";
inline constexpr const char* kSubscribeReq = "subscribe";

class ConsoleLink {
 public:
  ConsoleLink(LinkOptions options, std::function<void()> wake);
  ~ConsoleLink();  // stops the network thread before anything it uses goes away
  ConsoleLink(const ConsoleLink&) = delete;
  ConsoleLink& operator=(const ConsoleLink&) = delete;

  void start();

  // Any thread. False when not connected: the frame was not sent.
  bool send(const protocol::ClientMessage& message);
  // Asks for a fresh snapshot (after the replica lost the sequence).
  bool subscribe();

  // UI thread: everything received since the last call, oldest first.
  std::vector<LinkEvent> take();

  LinkState state() const { return state_; }
  std::string last_error() const;
  const LinkOptions& options() const { return options_; }

 private:
  void on_open();
  void on_message(std::string text);
  void on_close(const std::string& why);
  void push(LinkEvent event);
  void set_state(LinkState state, std::string_view note);
  void set_error(std::string text);

  LinkOptions options_;
  std::string session_;  // network thread only: the token to say hello with on reconnect
  std::function<void()> wake_;
  std::atomic<LinkState> state_{LinkState::connecting};

  mutable std::mutex mu_;  // guards inbox_ and error_
  std::vector<LinkEvent> inbox_;
  std::string error_;

  // Last member: destroyed first, so its thread stops while the rest still exists.
  std::unique_ptr<gateway::WsClient> client_;
};

}  // namespace anxin::console
