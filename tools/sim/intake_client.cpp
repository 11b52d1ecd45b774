#include "intake_client.hpp"

#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "anxin/gateway/webhook_notifier.hpp"  // webhook_signature: the intake's scheme too

namespace anxin::sim {

namespace {
size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}
}  // namespace

IntakeClient::IntakeClient(std::string host, int port, std::string vendor, std::string secret,
                           std::function<void(const std::string&)> on_answer)
    : base_("http://" + host + ":" + std::to_string(port) + "/intake/v1/"),
      vendor_(std::move(vendor)),
      secret_(std::move(secret)),
      on_answer_(std::move(on_answer)),
      thread_([this] { run(); }) {}

IntakeClient::~IntakeClient() { stop(); }

bool IntakeClient::post(std::string frame) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= 10'000) return false;
    queue_.push_back(std::move(frame));
  }
  cv_.notify_one();
  return true;
}

void IntakeClient::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void IntakeClient::run() {
  CURL* curl = curl_easy_init();
  int failures = 0;
  for (;;) {
    std::string frame;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      frame = std::move(queue_.front());
      queue_.pop_front();
    }
    const auto j = nlohmann::json::parse(frame, nullptr, false);
    if (j.is_discarded() || !j.contains("type") || !j["type"].is_string()) continue;
    const std::string url = base_ + j["type"].get<std::string>();
    // Stamped when sent: a frame that waited in the queue is still fresh.
    const std::string stamp = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count());
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, ("X-Anxin-Vendor: " + vendor_).c_str());
    headers = curl_slist_append(headers, ("X-Anxin-Timestamp: " + stamp).c_str());
    headers = curl_slist_append(
        headers, ("X-Anxin-Signature: " + gateway::webhook_signature(secret_, stamp, frame)).c_str());
    std::string answer;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, frame.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(frame.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10'000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    const CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      // Unanswered: an alarm stays pending and is resent, newly signed, when overdue.
      if (failures++ % 100 == 0)
        std::fprintf(stderr, "anxin-sim: %s: the HTTP intake did not answer: %s\n", vendor_.c_str(),
                     curl_easy_strerror(rc));
      continue;
    }
    on_answer_(answer);
  }
  curl_easy_cleanup(curl);
}

}  // namespace anxin::sim
