// The server's default Notifier: logs every notice to stderr (phone partly masked)
// and POSTs notice_json() to a configured webhook, where a real SMS or telephony
// gateway plugs in. It owns one worker thread; send() only queues, so the
// dispatcher never waits on the network. Nothing is lost silently: every notice
// ends in one log line saying whether it was delivered, failed, dropped or only
// logged.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "anxin/core/notifier.hpp"

namespace anxin::gateway {

// "13900000001" -> "139****0001": enough for an operator to tell contacts apart,
// not enough to call them from a log file.
std::string masked_phone(std::string_view phone);

class WebhookNotifier final : public Notifier {
 public:
  struct Options {
    std::string url;  // empty: log only
    int timeout_ms = 3000;  // per attempt
    int attempts = 3;
    int backoff_ms = 500;  // before the second attempt, doubling after that
    size_t max_queue = 10000;
  };
  struct Stats {
    uint64_t queued = 0;  // accepted by send(), ever
    uint64_t delivered = 0;  // the webhook answered 2xx
    uint64_t failed = 0;  // gave up after `attempts`, or abandoned at shutdown
    uint64_t dropped = 0;  // refused by send() because the queue was full
  };

  explicit WebhookNotifier(Options options);
  ~WebhookNotifier() override;
  WebhookNotifier(const WebhookNotifier&) = delete;
  WebhookNotifier& operator=(const WebhookNotifier&) = delete;

  void send(const Notice& notice) override;  // never blocks on the network
  Stats stats() const;
  // Waits until every queued notice has been handled; false on timeout.
  bool flush(std::chrono::milliseconds timeout);

 private:
  void run();
  void deliver(void* curl, const Notice& notice);  // tries, counts and logs
  void count(uint64_t Stats::*field);
  bool pause(std::chrono::milliseconds d);

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;  // the worker: work arrived, or stop
  std::condition_variable idle_;  // flush(): queue empty and nothing in flight
  std::deque<Notice> queue_;
  bool busy_ = false;
  std::atomic<bool> stopping_{false};  // also read by curl's progress callback
  Stats stats_;
  std::thread worker_;
};

}  // namespace anxin::gateway
