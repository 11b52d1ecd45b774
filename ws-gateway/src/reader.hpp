// The server's reader thread (issue 11, item 3): reads of the file that a command
// needs (an elder's history, a worker's past tasks, an old alarm's ack, credential
// changes) run here, so a slow disk never holds up the service thread, and with it
// every alarm. Jobs run one at a time, in the order posted; the Store's prepared
// read statements are used from here only, bar start-up and tools.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace anxin::gateway {

class Reader {
 public:
  Reader();
  ~Reader();  // stop()
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  void post(std::function<void()> job);  // any thread; ignored once stopped
  // Waits for the job in hand, drops those still queued and joins the thread.
  void stop();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace anxin::gateway
