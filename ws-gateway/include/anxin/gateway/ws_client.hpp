// A WebSocket client on its own thread (libwebsockets), for the console, the
// simulator, the benchmarks and the tests. It owns one connection and, if asked,
// reconnects with backoff after the connection drops.
//
// Handlers run on the client's thread; send(), connected() and stop() may be called
// from any thread (stop() not from a handler), also while another thread stops the
// client: once stop() has begun, send() returns false and touches nothing of the
// connection's libwebsockets state. stop() is final; the client cannot be started
// again.
//
// Each connection, the first and every reconnect, begins with on_open: the server
// wants `hello` (or `login`) first, so on_open is where it is sent. While on_open
// runs, frames other threads send are held and go after everything on_open sent, so
// the server never sees them before the hello. Frames are never carried from one
// connection to the next: send() returns false while there is no connection, and
// what was queued and not yet written when a connection drops is discarded with it
// (on_close reports the drop); a caller that wants it delivered sends it again on
// the next connection, after its welcome.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace anxin::gateway {

struct ClientOptions {
  std::string host = "127.0.0.1";
  int port = 7600;
  std::string path = "/";
  // Sent as the Origin header; empty: none, as befits a program rather than a browser
  // page (the server checks the Origins browsers send, docs/security.md).
  std::string origin;
  std::string local_address;  // bind to this address first (tests: 127.0.0.2 as a second peer)
  bool reconnect = true;  // after a drop or a failed connect, try again with backoff
  int backoff_min_ms = 200;
  int backoff_max_ms = 3000;
};

struct ClientHandlers {
  std::function<void()> on_open;
  std::function<void(std::string)> on_message;
  std::function<void(const std::string& why)> on_close;  // also for a failed connect
};

class WsClientGroup;

class WsClient {
 public:
  WsClient(ClientOptions options, ClientHandlers handlers);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void start();
  void stop();
  // Queues a text frame for the current connection (behind on_open's frames).
  // False, and the frame is dropped, when there is no connection or once stop() has
  // begun. True does not promise delivery: a frame not yet written when the
  // connection drops is discarded (see above).
  bool send(std::string text);
  bool connected() const;  // open (from on_open on): send() would take a frame

 private:
  std::unique_ptr<WsClientGroup> group_;
};

// Many connections served by one thread, for load generators and benchmarks that
// must not crowd the machine with threads. Connections are added before start()
// and all end with stop(). WsClient is a group of one.
class WsClientGroup {
 public:
  WsClientGroup();
  ~WsClientGroup();
  WsClientGroup(const WsClientGroup&) = delete;
  WsClientGroup& operator=(const WsClientGroup&) = delete;

  size_t add(ClientOptions options, ClientHandlers handlers);  // before start()
  void start();
  void stop();
  bool send(size_t connection, std::string text);
  bool connected(size_t connection) const;
  size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A blocking wrapper for tests and tools: connect, send, and wait for frames.
class SyncClient {
 public:
  explicit SyncClient(int port, std::string host = "127.0.0.1");
  explicit SyncClient(ClientOptions options);  // reconnect is turned off
  ~SyncClient();
  bool wait_open(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool send(std::string text) { return client_->send(std::move(text)); }
  // The next frame, or nullopt after the timeout.
  std::optional<std::string> next(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool closed() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> frames_;
  bool open_ = false, closed_ = false;
  std::unique_ptr<WsClient> client_;
};

}  // namespace anxin::gateway
