#include "anxin/gateway/webhook_notifier.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace anxin::gateway {

namespace {

// One line per notice, written with a single fprintf so lines from different
// threads do not interleave. Names and texts stay out of the log (they are in
// the webhook body); the phone is masked.
void log_notice(const Notice& n, const std::string& outcome) {
  std::fprintf(stderr, "anxin notify: %s incident %lld task %lld elder %lld to %s: %s\n",
               std::string(name_of(n.kind)).c_str(), static_cast<long long>(n.incident),
               static_cast<long long>(n.task_id), static_cast<long long>(n.elder),
               masked_phone(n.to_phone).c_str(), outcome.c_str());
}

size_t discard_body(char*, size_t size, size_t count, void*) { return size * count; }

// Lets the destructor abort a request in flight instead of waiting out its timeout.
int abort_when_stopping(void* stopping, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(stopping)->load() ? 1 : 0;
}

}  // namespace

std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

std::string read_webhook_secret(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot read the webhook secret file " + path + ": " + std::strerror(errno));
  std::string secret;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) secret.append(buf, n);
  const bool failed = std::ferror(f);
  const int err = errno;
  std::fclose(f);
  if (failed) throw std::runtime_error("cannot read the webhook secret file " + path + ": " + std::strerror(err));
  secret.erase(secret.find_last_not_of(" \t\r\n") + 1);
  if (secret.empty()) throw std::runtime_error("the webhook secret file " + path + " is empty");
  return secret;
}

WebhookNotifier::WebhookNotifier(Options options) : options_(std::move(options)) {
  // Refcounted, and thread-safe in Debian's libcurl (feature "threadsafe"); done
  // here on the constructing thread so the worker never triggers it lazily.
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) std::fprintf(stderr, "anxin notify: curl init failed: %s\n", curl_easy_strerror(init));
  if (options_.url.empty()) std::fprintf(stderr, "anxin notify: no webhook configured, notices are only logged\n");
  else if (options_.secret.empty())
    std::fprintf(stderr, "anxin notify: warning: webhook requests are not signed (no --webhook-secret-file); "
                         "the receiver cannot tell them from forgeries\n");
  worker_ = std::thread([this] { run(); });
}

WebhookNotifier::~WebhookNotifier() {
  flush(std::chrono::milliseconds(options_.timeout_ms));
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void WebhookNotifier::send(const Notice& notice) { enqueue({&notice, 1}); }
void WebhookNotifier::send_all(const std::vector<Notice>& notices) { enqueue(notices); }

// A commit's notices in one go: queued one by one, each taking the lock and waking the
// worker, they met the worker taking the lock for each one it delivered, and the two
// threads traded the lock through the kernel, 1,500 times a second each while alarms
// opened thousands of incidents a second (docs/benchmarks.md, "The notices queued at once").
void WebhookNotifier::enqueue(std::span<const Notice> notices) {
  size_t taken = 0;
  {
    std::lock_guard lock(mu_);
    taken = std::min(notices.size(), options_.max_queue - std::min(options_.max_queue, queue_.size()));
    queue_.insert(queue_.end(), notices.begin(), notices.begin() + static_cast<std::ptrdiff_t>(taken));
    stats_.queued += taken;
    stats_.dropped += notices.size() - taken;
  }
  if (taken > 0) wake_.notify_one();
  // Newest are dropped: older notices are already promised to someone in the log.
  for (size_t i = taken; i < notices.size(); ++i) {
    log_notice(notices[i], "dropped, queue full");
    if (options_.on_failed) options_.on_failed(notices[i], "queue full", 0);
  }
}

WebhookNotifier::Stats WebhookNotifier::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool WebhookNotifier::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

bool WebhookNotifier::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !wake_.wait_for(lock, d, [&] { return stopping_.load(); });
}

void WebhookNotifier::run() {
  // One handle for the worker's life, so a keep-alive gateway reuses its connection.
  // The headers are set per attempt (perform): the signature covers its timestamp.
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // we are one thread among many
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abort_when_stopping);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stopping_);

  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    Notice notice = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    deliver(curl, notice);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
  std::deque<Notice> abandoned;
  abandoned.swap(queue_);
  stats_.failed += abandoned.size();
  lock.unlock();
  for (const Notice& n : abandoned) log_notice(n, "not sent before shutdown, left for the next start");
  curl_easy_cleanup(curl);
}

void WebhookNotifier::deliver(void* curl, const Notice& notice) {
  if (options_.url.empty()) {
    log_notice(notice, "logged only (no webhook)");
    if (options_.on_delivered) options_.on_delivered(notice, 0);
    return;
  }
  const std::string body = notice_json(notice);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  std::string why;
  int tried = 0;
  for (auto backoff = std::chrono::milliseconds(options_.backoff_ms); tried < options_.attempts; backoff *= 2) {
    if (tried > 0 && !pause(backoff)) break;
    ++tried;
    const auto rc = static_cast<CURLcode>(perform(curl, notice, body));
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status >= 200 && status < 300) {
      count(&Stats::delivered);
      log_notice(notice, "delivered");
      if (options_.on_delivered) options_.on_delivered(notice, tried);
      return;
    }
    why = rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(status);
  }
  count(&Stats::failed);
  if (stopping_) {  // cut short by shutdown: not a verdict on the gateway
    log_notice(notice, "interrupted by shutdown after " + std::to_string(tried) +
                           " attempt(s), left for the next start: " + why);
    return;
  }
  log_notice(notice, "failed after " + std::to_string(tried) + " attempt(s): " + why);
  if (options_.on_failed) options_.on_failed(notice, why, tried);
}

int WebhookNotifier::perform(void* curl, const Notice& notice, const std::string& body) {
  // Stamped when sent, not when queued: a retry after a long backoff is still fresh
  // to a receiver that refuses old timestamps.
  const std::string stamp = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json; charset=utf-8");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (!notice.id.empty()) headers = curl_slist_append(headers, ("X-Anxin-Notice-Id: " + notice.id).c_str());
  headers = curl_slist_append(headers, ("X-Anxin-Timestamp: " + stamp).c_str());
  if (!options_.secret.empty())
    headers = curl_slist_append(
        headers, ("X-Anxin-Signature: " + webhook_signature(options_.secret, stamp, body)).c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  return rc;
}

void WebhookNotifier::count(uint64_t Stats::*field) {
  std::lock_guard lock(mu_);
  ++(stats_.*field);
}

}  // namespace anxin::gateway
