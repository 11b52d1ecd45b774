// anxin-sim play --via http: one vendor platform posting its devices' frames to the
// server's signed HTTP intake (docs/protocol.md, "HTTP intake") instead of a WebSocket.
// It owns one thread and one libcurl handle (a kept-alive connection); frames are
// posted in order, each signed with its own timestamp, and each answer's body (the
// same JSON the WebSocket would have sent) is handed to `on_answer` on that thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace anxin::sim {

class IntakeClient {
 public:
  IntakeClient(std::string host, int port, std::string vendor, std::string secret,
               std::function<void(const std::string&)> on_answer);
  ~IntakeClient();
  IntakeClient(const IntakeClient&) = delete;
  IntakeClient& operator=(const IntakeClient&) = delete;

  // Queues an alarm or heartbeat frame (its "type" picks the path); false when 10,000
  // are waiting already, and the frame is dropped (an alarm is resent later anyway).
  bool post(std::string frame);
  void stop();

 private:
  void run();
  std::string base_, vendor_, secret_;
  std::function<void(const std::string&)> on_answer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace anxin::sim
