// The gateway: a libwebsockets server that hosts the dispatcher in-process.
//
// Threads: one lws service thread owns every connection and the Dispatcher; the
// Store's writer thread commits. A frame is parsed and applied on the service
// thread; its replies and deltas are handed to the store with the writes they
// depend on, and come back through a locked outbox (lws_cancel_service wakes the
// service thread) only once durable. So a device's ack and a console's delta are
// both sent after the commit, and each connection sees its messages in order.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anxin/core/clock.hpp"
#include "anxin/core/dispatcher.hpp"
#include "anxin/core/notifier.hpp"
#include "anxin/core/visits.hpp"
#include "anxin/gateway/login_guard.hpp"

namespace anxin::gateway {

struct ServerOptions {
  std::string db_path = "anxin.db";
  int port = 7600;               // 0: pick a free port; see Server::port()
  std::string interface;         // empty: all interfaces
  // Origins (scheme://host[:port]) whose pages may open WebSockets, besides the
  // server's own; a browser connection from any other is refused at the handshake.
  std::vector<std::string> allowed_origins;
  bool synchronous_full = true;  // SQLite synchronous=FULL
  size_t max_queued_bytes_per_client = 16 << 20;  // a client further behind is dropped
  int hello_timeout_s = 5;              // a connection that has not said hello (or logged in) by then is closed
  int max_connections_per_address = 256;  // WebSocket connections from one peer address; more are refused
  LoginLimits login_limits;      // failed-login throttling (docs/security.md)
  DispatchConfig config;         // timeouts, escalation thresholds, ranking weights
  visits::Policy visits;         // the district's visiting policy (docs/visits.md)
  int tick_ms = 250;             // how often timers are checked
  std::string webhook_url;       // where notices are POSTed; empty: logged only
  std::string webhook_secret;    // signs each POST (HMAC-SHA256); empty: unsigned, with a warning
  int webhook_attempts = 3;      // tries per notice before it is shown failed on its incident
  int webhook_backoff_ms = 500;  // before the second try, doubling after that
  int webhook_timeout_ms = 3000; // per try
  int field_port = -1;           // the field staff page and its WebSocket; -1: not served, 0: any free port
  std::string field_root;        // the page's files, served at /field/
  // PEM files for HTTPS/WSS on the field port. Phones allow geolocation only to
  // secure pages, so a real deployment sets these; empty: plain HTTP.
  std::string tls_cert, tls_key;
  Millis session_ttl_ms = 14LL * 3600 * 1000;  // a login lasts a 12-hour shift and then some
  Notifier* notifier = nullptr;  // overrides the webhook notifier (tests); not owned
  std::string line_file;         // the SIP line's seats and dial plan (docs/telephony.md); empty: no line
};

struct ServerStats {
  std::uint64_t frames_in = 0;
  std::uint64_t alarms_accepted = 0;
  std::uint64_t errors_sent = 0;
  std::uint64_t commits = 0;
  int devices = 0, consoles = 0, fields = 0;  // authenticated connections
  size_t open_incidents = 0;
  size_t queued_bytes = 0;  // frames waiting to be written to slow clients
};

class Server {
 public:
  // Opens (and migrates) the database and rebuilds the live state from it.
  explicit Server(ServerOptions options, const Clock& clock);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();  // listens, on its own thread
  void stop();
  int port() const;
  int field_port() const;
  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anxin::gateway
