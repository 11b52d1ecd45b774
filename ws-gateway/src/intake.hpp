// What the adapters for devices that do not speak our WebSocket protocol (the SIA
// DC-09 receiver, the signed HTTP intake) hand the service thread, and how they hear
// back. An adapter owns its sockets and framing; the core sees plain AlarmIn and
// HeartbeatIn values, checked and applied exactly as the WebSocket's.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <variant>
#include <vector>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/errors.hpp"
#include "anxin/core/store.hpp"

namespace anxin::gateway {

struct IntakeResult {
  std::optional<AlarmAck> ack;  // an alarm taken (or recognised as a resend)
  std::optional<Error> error;   // refused: nothing changed
};

struct IntakeRequest {
  Principal who;  // role device; subject "device:D…" or "vendor:…"
  std::variant<AlarmIn, HeartbeatIn> what;
  // Called once, on the service thread: for an alarm after it is committed, for a
  // heartbeat or a refusal at once. It must not block.
  std::function<void(const IntakeResult&)> done;
};

// Any thread may push; the service thread takes them all at its next wake-up.
class IntakeQueue {
 public:
  explicit IntakeQueue(std::function<void()> wake) : wake_(std::move(wake)) {}
  void push(IntakeRequest r) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(r));
    }
    wake_();
  }
  std::vector<IntakeRequest> take() {
    std::lock_guard lock(mu_);
    return std::exchange(queue_, {});
  }

 private:
  std::function<void()> wake_;
  std::mutex mu_;
  std::vector<IntakeRequest> queue_;
};

}  // namespace anxin::gateway
