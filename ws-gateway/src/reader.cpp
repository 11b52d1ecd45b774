#include "reader.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <exception>

namespace anxin::gateway {

Reader::Reader() : thread_([this] { run(); }) {}

Reader::~Reader() { stop(); }

void Reader::post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void Reader::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Reader::run() {
  pthread_setname_np(pthread_self(), "anxin-reader");
  // Reads yield the cores to the service and writer threads: an alarm's commit and
  // its deltas come before a console's history (issue 15, item 4). Nice 10 is a
  // tenth of their weight; the thread still has all of an idle core.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    try {
      job();
    } catch (const std::exception& e) {  // each job answers its own errors; this is the last barrier
      std::fprintf(stderr, "anxin reader: a read failed: %s\n", e.what());
    }
    lock.lock();
  }
}

}  // namespace anxin::gateway
