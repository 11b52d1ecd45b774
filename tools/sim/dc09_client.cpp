// anxin-sim play --via dc09 (dc09_client.hpp): one TCP connection to the DC-09 receiver.
#include "dc09_client.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../../ws-gateway/src/dc09.hpp"

namespace anxin::sim {

namespace dc09 = anxin::gateway::dc09;

// docs/dc09.md, "Event codes": the first Contact ID code listed for each Anxin alarm.
std::optional<int> contact_id_of(AlertKind kind) {
  switch (kind) {
    case AlertKind::sos: return 101;         // personal emergency
    case AlertKind::inactivity: return 102;  // fail to report in
    case AlertKind::smoke: return 111;
    case AlertKind::gas: return 151;
    case AlertKind::water_leak: return 154;
    case AlertKind::low_battery: return 302;
    default: return std::nullopt;
  }
}

int dc09_seq_of(std::int64_t seq) { return static_cast<int>(seq % 10000); }

namespace {
std::string seq4(int seq) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04d", seq % 10000);
  return buf;
}
std::string null_frame(const std::string& account, int seq) {
  return dc09::frame("\"NULL\"" + seq4(seq) + "L0" + (account.empty() ? "" : "#" + account) + "[]");
}
}  // namespace

std::string contact_id_frame(const std::string& account, int seq, int event) {
  return dc09::frame("\"ADM-CID\"" + seq4(seq) + "L0#" + account + "[#" + account + "|1" + std::to_string(event) +
                     " 00 001]");
}

Dc09Client::Dc09Client(Dc09Options options, FILE* ack_log, std::mutex* log_mu)
    : options_(std::move(options)), ack_log_(ack_log), log_mu_(log_mu) {
  thread_ = std::thread([this] { run(); });
}

Dc09Client::~Dc09Client() { stop(); }

void Dc09Client::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool Dc09Client::raise(const AlarmIn& alarm) {
  const auto code = contact_id_of(alarm.kind);
  std::lock_guard lock(mu_);
  if (!code) {
    ++counts_.skipped;
    return false;
  }
  const int seq = dc09_seq_of(alarm.seq);
  Pending& p = pending_[{alarm.device, seq}];
  p.frame = contact_id_frame(alarm.device, seq, *code);
  p.device = alarm.device;
  p.seq = seq;
  p.sent = {};
  ++counts_.sent;
  return true;
}

void Dc09Client::heartbeat(const HeartbeatIn& beat) {
  std::lock_guard lock(mu_);
  if (fd_ < 0 || beats_.size() >= 10000) return;  // like the WebSocket path: only while connected
  int& seq = beat_seq_[beat.device];
  seq = seq % 9999 + 1;
  // A NULL must not share its seq with an alarm of the account still waiting for an answer.
  while (pending_.count({beat.device, seq})) seq = seq % 9999 + 1;
  beats_.push_back(null_frame(beat.device, seq));
  if (beats_out_.size() > 10000) beats_out_.clear();  // answers that never came
  beats_out_.insert({beat.device, seq});
  ++counts_.beats_sent;
}

Dc09Client::Counts Dc09Client::counts() {
  std::lock_guard lock(mu_);
  Counts c = counts_;
  c.pending = pending_.size();
  return c;
}

bool Dc09Client::connect_now() {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(options_.host.c_str(), std::to_string(options_.port).c_str(), &hints, &res) != 0) return false;
  int fd = -1;
  for (addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd >= 0 && ::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) return false;
  std::lock_guard lock(mu_);
  fd_ = fd;
  in_.clear();
  for (auto& [key, p] : pending_) p.sent = {};  // all again on the new connection
  return true;
}

bool Dc09Client::write_all(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

void Dc09Client::run() {
  bool said_down = false;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    if (fd_ < 0) {
      if (!connect_now()) {
        if (!said_down)
          std::fprintf(stderr, "anxin-sim: cannot reach the DC-09 receiver at %s:%d; trying again\n",
                       options_.host.c_str(), options_.port);
        said_down = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      said_down = false;
    }
    // What is due goes out: new and overdue alarms, queued NULLs, a link test when idle.
    std::string out;
    {
      std::lock_guard lock(mu_);
      const auto now = Clock::now();
      for (auto& [key, p] : pending_)
        if (p.sent == Clock::time_point{} || now - p.sent >= options_.resend_after) {
          p.sent = now;
          out += p.frame;
        }
      for (auto& b : beats_) out += b;
      beats_.clear();
      if (out.empty() && now - last_sent_ >= options_.link_test_every) {
        link_seq_ = link_seq_ % 9999 + 1;
        out = null_frame("", link_seq_);
        ++counts_.link_tests;
      }
      if (!out.empty()) last_sent_ = now;
    }
    bool broken = !out.empty() && !write_all(out);
    pollfd pfd{fd_, POLLIN, 0};
    if (!broken && poll(&pfd, 1, 20) > 0) {
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) broken = !(n < 0 && errno == EINTR);
      else in_.append(buf, static_cast<size_t>(n));
      // Whole replies are <LF> ... <CR>; anything before an <LF> is noise.
      for (size_t cr; (cr = in_.find('\r')) != std::string::npos;) {
        const size_t lf = in_.rfind('\n', cr);
        if (lf != std::string::npos) on_reply(in_.substr(lf, cr + 1 - lf));
        in_.erase(0, cr + 1);
      }
      if (in_.size() > 65536) in_.clear();
    }
    if (broken) {
      std::fprintf(stderr, "anxin-sim: the DC-09 connection closed; reconnecting\n");
      std::lock_guard lock(mu_);
      close(fd_);
      fd_ = -1;
      beats_out_.clear();
    }
  }
  std::lock_guard lock(mu_);
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

// A reply: "ACK"|"NAK"|"DUH" seq [Rrcvr] Lpref [#acct] [...]. Matched by account and seq.
void Dc09Client::on_reply(const std::string& wire) {
  std::string_view body;
  if (dc09::check_frame(wire, &body) != dc09::Error::none) return;  // untrustworthy: the resend covers it
  if (body.size() < 9 || body[0] != '"') return;
  const size_t close_quote = body.find('"', 1);
  if (close_quote == std::string_view::npos || body.size() < close_quote + 5) return;
  const std::string id(body.substr(1, close_quote - 1));
  int seq = 0;
  for (char c : body.substr(close_quote + 1, 4)) {
    if (c < '0' || c > '9') return;
    seq = seq * 10 + (c - '0');
  }
  std::string account;
  const size_t hash = body.find('#', close_quote + 5), bracket = body.find('[', close_quote + 5);
  if (hash != std::string_view::npos && hash < bracket) account = std::string(body.substr(hash + 1, bracket - hash - 1));

  std::lock_guard lock(mu_);
  if (id == "NAK") {
    // The receiver's clock disagrees with a timestamp; these frames carry none, so
    // this should not happen. Counted; whatever it answered goes again in time.
    ++counts_.nak;
    return;
  }
  if (account.empty()) {
    if (id == "ACK") ++counts_.link_acked;
    return;
  }
  if (auto it = pending_.find({account, seq}); it != pending_.end()) {
    if (id == "ACK") {
      ++counts_.acked;
      if (ack_log_) {
        std::lock_guard log_lock(*log_mu_);
        // The seq as the receiver stores it (0000 is 10000).
        std::fprintf(ack_log_, "%s %d 0 0\n", it->second.device.c_str(), seq == 0 ? 10000 : seq);
        std::fflush(ack_log_);
      }
    } else {
      ++counts_.duh;
      std::fprintf(stderr, "anxin-sim: the DC-09 receiver answered %s to %s seq %04d\n", id.c_str(),
                   account.c_str(), seq);
    }
    pending_.erase(it);
  } else if (beats_out_.erase({account, seq}) && id == "ACK") {
    ++counts_.beats_acked;
  }
}

}  // namespace anxin::sim
