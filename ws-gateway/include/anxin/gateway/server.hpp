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
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "anxin/core/clock.hpp"
#include "anxin/core/dispatcher.hpp"
#include "anxin/core/notifier.hpp"
#include "anxin/core/visits.hpp"
#include "anxin/gateway/cpus.hpp"
#include "anxin/gateway/dc09.hpp"
#include "anxin/gateway/login_guard.hpp"

namespace anxin::gateway {

// `per_s` a second on average, `burst` at once; per_s <= 0: no limit.
struct RateLimit {
  double per_s = 0;
  double burst = 0;
};

struct ServerOptions {
  std::string db_path = "anxin.db";
  int port = 7600;               // 0: pick a free port; see Server::port()
  std::string interface;         // empty: all interfaces
  // Origins (scheme://host[:port]) whose pages may open WebSockets, besides the
  // server's own; a browser connection from any other is refused at the handshake.
  std::vector<std::string> allowed_origins;
  bool synchronous_full = true;  // SQLite synchronous=FULL
  // A client is judged slow by what it leaves unread: the bytes the server holds for
  // it and those in its socket's send queue (docs/protocol.md, "Floods and slow
  // clients"). Over the soft limit at every tick for slow_client_grace_s, or the
  // server holding more than the hard limit for it, it is dropped and resyncs on
  // reconnect. A burst it keeps up with trips neither.
  size_t max_unread_bytes_soft = 1 << 20;
  int slow_client_grace_s = 10;
  size_t max_unread_bytes_hard = 64 << 20;
  // Frames each connection may send (a token bucket); over it a frame gets
  // E_RATE_LIMITED (at most one per 100 ms, the rest dropped unanswered) and changes
  // nothing. frame_limit is for every connection (consoles, field workers, one
  // device's token, and any not yet welcomed); vendor_frame_limit for a device token
  // that speaks for a whole vendor platform ("vendor:…"), which carries many devices.
  RateLimit frame_limit{100, 500};
  RateLimit vendor_frame_limit{2000, 10000};
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
  // The SIA DC-09 receiver (docs/dc09.md): TCP and UDP on one port; -1: off, 0: any free port.
  int dc09_port = -1;
  Dc09Options dc09;
  // The signed HTTP intake (docs/protocol.md, "HTTP intake"): vendor → secret. Empty: off.
  std::map<std::string, std::string> intake_secrets;
  int intake_window_s = 300;     // a signed request's timestamp may be this far from the server's clock
  // The CPUs the service thread may run on (cpus.hpp); empty: wherever the system puts it.
  CpuList service_cpus;
  // While a commit the service thread handed to the writer is on its way to the disk,
  // the service thread looks at its connections without sleeping, for up to this long
  // after the hand-over, so that it is running when the commit's replies come back
  // (docs/configuration.md, "The wait for a commit"). 0: it sleeps, as before.
  int commit_spin_us = 1000;
  // The program that writes the registry's image from the rows, run as `image_helper
  // --registry-image-from-rows DB` (anxin-server itself; image_keeper.hpp), and how
  // often the server looks whether one is due. Empty: none is written while it runs.
  std::string image_helper;
  int registry_image_check_s = 10;
};

struct ServerStats {
  std::uint64_t frames_in = 0;
  std::uint64_t alarms_accepted = 0;
  std::uint64_t errors_sent = 0;
  std::uint64_t commits = 0;
  int devices = 0, consoles = 0, fields = 0;  // authenticated connections
  size_t open_incidents = 0;
  size_t queued_bytes = 0;  // frames waiting to be written to slow clients
  std::uint64_t slow_clients_dropped = 0;  // connections dropped for what they left unread
  std::uint64_t frames_rate_limited = 0;   // frames refused for a connection's frame limit
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
  int dc09_port() const;  // the bound port, or -1 when off
  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anxin::gateway
