// The server's default Notifier: logs every notice to stderr (phone partly masked)
// and POSTs notice_json() to a configured webhook, where a real SMS or telephony
// gateway plugs in. It owns one worker thread; send() only queues, so the
// dispatcher never waits on the network. Nothing is lost silently: every notice
// ends in one log line saying whether it was delivered, failed, dropped or only
// logged, and one that finally fails or is dropped is handed to `on_failed`, which
// the server uses to put it on the incident's timeline. The server settles each
// notice in its outbox from `on_delivered` and `on_failed`; one still queued at
// shutdown stays pending there and is sent again at the next start.
//
// Each request carries headers (docs/protocol.md, "Notices"):
//   X-Anxin-Notice-Id: the notice's id (the same on every attempt)
//   X-Anxin-Timestamp: unix milliseconds when this attempt was sent
//   X-Anxin-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>,
//                      only when a secret is set
// so a receiver can check who sent it and refuse a replay by its timestamp.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "anxin/core/notifier.hpp"

namespace anxin::gateway {

using anxin::masked_phone;

// "sha256=<64 hex digits>": HMAC-SHA256 of `timestamp + "." + body` under `secret`,
// as sent in X-Anxin-Signature.
std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body);

// The signing secret kept in `path`: its content without trailing whitespace, so
// `openssl rand -hex 32 > FILE` makes one. Throws std::runtime_error, in words for
// whoever started the server, when the file cannot be read or holds nothing.
std::string read_webhook_secret(const std::string& path);

class WebhookNotifier final : public Notifier {
 public:
  struct Options {
    std::string url;  // empty: log only
    std::string secret;  // signs each request; empty: unsigned (a warning at start)
    int timeout_ms = 3000;  // per attempt
    int attempts = 3;
    int backoff_ms = 500;  // before the second attempt, doubling after that
    size_t max_queue = 10000;
    // A notice given up on: every attempt failed (`reason` is the last error), or the
    // queue was full ("queue full", attempts 0). Called on the notifier's thread, or
    // on send()'s for a full queue, with no lock held; it must not block. Not called
    // for notices still queued or cut short at shutdown (they are logged as not sent).
    std::function<void(const Notice& notice, const std::string& reason, int attempts)> on_failed;
    // A notice delivered (the webhook answered 2xx), or only logged when there is no
    // webhook (attempts 0). On the notifier's thread, no lock held; must not block.
    std::function<void(const Notice& notice, int attempts)> on_delivered;
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
  void send_all(const std::vector<Notice>& notices) override;  // one lock and one wake for all
  Stats stats() const;
  // Waits until every queued notice has been handled; false on timeout.
  bool flush(std::chrono::milliseconds timeout);

 private:
  void enqueue(std::span<const Notice> notices);  // send and send_all: the oldest first, the newest dropped
  void run();
  void deliver(void* curl, const Notice& notice);  // tries, counts and logs
  int perform(void* curl, const Notice& notice, const std::string& body);  // one signed attempt: a CURLcode
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
