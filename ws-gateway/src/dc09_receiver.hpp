// The SIA DC-09 receiver (docs/dc09.md): a TCP listener and a UDP socket on one port,
// served by its own thread, `anxin-dc09`, with poll(). It owns its sockets, each TCP
// connection's buffers and the replies waiting to go out. Frames are read by the
// codec (dc09.hpp); an event the table maps to an alarm or a heartbeat goes to the
// service thread as an IntakeRequest (intake.hpp), and its ACK is written only when
// the request's `done` says it was taken (for an alarm: committed). It may call the
// codec, the IntakeQueue and the clock; nothing else of the server.
#pragma once

#include <memory>
#include <string>

#include "anxin/core/clock.hpp"
#include "anxin/gateway/dc09.hpp"
#include "intake.hpp"

namespace anxin::gateway {

class Dc09Receiver {
 public:
  // Throws std::invalid_argument for an account key that is not 32, 48 or 64 hex digits.
  Dc09Receiver(Dc09Options options, std::string interface, const Clock& clock, IntakeQueue& intake);
  ~Dc09Receiver();
  Dc09Receiver(const Dc09Receiver&) = delete;
  Dc09Receiver& operator=(const Dc09Receiver&) = delete;

  // Binds TCP and UDP on `port` (0: a free port, the same for both) and starts the
  // thread; throws std::runtime_error when it cannot listen.
  void start(int port);
  // Stops the thread and closes every socket. Replies still owed are dropped (their
  // `done` may still run later: it then finds nobody to write to).
  void stop();
  int port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace anxin::gateway
