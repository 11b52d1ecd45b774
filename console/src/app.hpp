// App: the console's state on the UI thread. It owns the link to the server, the
// replica of live incidents and the little UI state there is (selection,
// language, the fate of each acknowledge this console sent). Views read it by
// const reference and hand back Commands; only execute() changes anything, so a
// button, a key and the autotest all take the same path.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "i18n.hpp"
#include "net.hpp"
#include "replica.hpp"

namespace anxin::console {

// What a view asks for this frame. Views fill in fields; execute() acts on them.
struct Commands {
  std::optional<IncidentId> select;
  std::optional<IncidentId> acknowledge;
  bool toggle_language = false;

  Commands& operator+=(const Commands& other);
  bool empty() const { return !select && !acknowledge && !toggle_language; }
};

// This console's acknowledge request for one incident, as far as it got.
struct AckRequest {
  enum class Status { sending, ok, refused, no_reply, not_sent };
  std::string req;
  Status status = Status::sending;
  std::string error;  // "E_BAD_STATE: ..." when refused
};

struct AppOptions {
  LinkOptions link;
  std::string operator_name;  // from the tokens file; the server's welcome overrides it
  Lang lang = Lang::zh;
};

class App {
 public:
  App(AppOptions options, std::function<void()> wake);

  void start() { link_.start(); }
  // Applies everything the link received since the last frame.
  void pump();
  void execute(const Commands& commands);

  const Replica& replica() const { return replica_; }
  LinkState link_state() const { return link_.state(); }
  std::string link_error() const { return link_.last_error(); }
  // Connected and the replica follows the server: commands may be sent.
  bool live() const { return link_.state() == LinkState::synced && replica_.synced(); }

  Lang lang() const { return lang_; }
  const char* tr(Msg m) const { return console::tr(lang_, m); }
  template <class E>
  const char* tr(E value) const {
    return console::tr(lang_, value);
  }

  const std::string& operator_name() const { return operator_name_; }
  std::optional<IncidentId> selected() const { return selected_; }
  const AckRequest* ack_request(IncidentId id) const;
  std::vector<IncidentId> acknowledged_by_me() const;

  // The server's clock, estimated from this machine's clock and the offset
  // measured at welcome and snapshot; waiting times are computed from it.
  Millis server_now_ms() const;

 private:
  void on_message(const protocol::ServerMessage& m);
  void on_reply(const std::string& req, const std::optional<Error>& error);
  void acknowledge(IncidentId id);

  ConsoleLink link_;
  Replica replica_;
  Lang lang_;
  std::string operator_name_;
  std::optional<IncidentId> selected_;
  Millis clock_offset_ms_ = 0;
  int next_req_ = 1;
  std::map<IncidentId, AckRequest> acks_;
};

}  // namespace anxin::console
