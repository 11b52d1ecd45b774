#include "sip_support.hpp"

#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <random>
#include <regex>
#include <set>

#include "prng.hpp"

namespace anxin::test {

bool have_baresip() { return access("/usr/bin/baresip", X_OK) == 0; }

std::function<void(const SeatEvent&)> SeatEvents::sink() {
  return [this](const SeatEvent& e) {
    std::lock_guard lock(mu_);
    events_.push_back(e);
    cv_.notify_all();
  };
}

std::optional<SeatEvent> SeatEvents::next(SeatEvent::Kind kind, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  std::optional<SeatEvent> found;
  cv_.wait_for(lock, timeout, [&] {
    for (; cursor_ < events_.size(); ++cursor_) {
      if (events_[cursor_].kind == kind) {
        found = events_[cursor_++];
        return true;
      }
    }
    return false;
  });
  return found;
}

std::vector<SeatEvent> SeatEvents::all() {
  std::lock_guard lock(mu_);
  return events_;
}

namespace {
bool port_free(int port, int type) {
  const int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}
}  // namespace

int free_port_block() {
  // A block is free until its test binds it, so two calls before any bind would see
  // the same free block: never hand one out twice in a process.
  static std::mutex mu;
  static std::set<int> given;
  std::lock_guard lock(mu);
  Prng rng{std::random_device{}() ^ (static_cast<uint64_t>(getpid()) << 32)};
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int base = 20000 + 100 * static_cast<int>(rng.below(120));
    if (given.count(base)) continue;
    bool all_free = true;
    for (int p = base; p < base + 100 && all_free; ++p) all_free = port_free(p, SOCK_STREAM) && port_free(p, SOCK_DGRAM);
    if (all_free && given.insert(base).second) return base;
  }
  FAIL("no free block of 100 ports in 20000-31999");
  return 0;
}

SeatConfig seat_config(const TempDir& dir, const std::string& name, int base, int index) {
  SeatConfig c;
  c.name = name;
  c.dir = dir.file(name);
  c.sip_port = base + 10 * index;
  c.ctrl_port = base + 10 * index + 5;
  c.rtp_min = base + 50 + 10 * index;
  c.rtp_max = c.rtp_min + 9;
  c.record_dir = dir.file("recordings");
  c.restart_backoff_ms = 200;
  return c;
}

std::string uri_of(const SeatConfig& c) { return "sip:" + c.name + "@127.0.0.1:" + std::to_string(c.sip_port); }

std::string run(const std::string& command) {
  std::string out;
  if (FILE* p = popen(command.c_str(), "r")) {
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
  }
  return out;
}

double sox_stat(const std::string& stat, const std::string& field) {
  std::smatch m;
  if (!std::regex_search(stat, m, std::regex(field + ":\\s*(-?[0-9.]+)"))) return -1;
  return std::stod(m[1]);
}

double band_share(const std::string& wav, int lo_hz, int hi_hz) {
  const double all = sox_stat(run("sox " + wav + " -n stat 2>&1"), "RMS     amplitude");
  const std::string band = "sinc " + std::to_string(lo_hz) + "-" + std::to_string(hi_hz);
  const double in_band = sox_stat(run("sox " + wav + " -n " + band + " stat 2>&1"), "RMS     amplitude");
  return all > 0 ? in_band / all : 0;
}

}  // namespace anxin::test
