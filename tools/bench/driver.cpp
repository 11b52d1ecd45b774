#include "driver.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <thread>

namespace anxin::bench {

std::int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t wall_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

double process_cpu_s(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');
  if (close == std::string::npos) return 0;
  // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
  unsigned long long utime = 0, stime = 0;
  int field = 2;
  const char* p = s.c_str() + close + 1;
  while (*p && field < 15) {
    while (*p == ' ') ++p;
    ++field;
    if (field == 14) utime = std::strtoull(p, nullptr, 10);
    if (field == 15) stime = std::strtoull(p, nullptr, 10);
    while (*p && *p != ' ') ++p;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double thread_cpu_s() {
  rusage r{};
  getrusage(RUSAGE_THREAD, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

std::uint64_t process_rss_bytes(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  return 0;
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  ::close(fd);
  return ntohs(a.sin_port);
}

namespace {
std::optional<cpu_set_t> g_children_cpus;
}

void Child::start_on(const cpu_set_t& cpus) { g_children_cpus = cpus; }

void Child::start(const std::vector<std::string>& argv, const std::string& log_path) {
  stop();
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    if (g_children_cpus) sched_setaffinity(0, sizeof *g_children_cpus, &*g_children_cpus);
    execv(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
}

bool Child::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void Child::stop(double wait_s) {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const std::int64_t until = mono_ns() + static_cast<std::int64_t>(wait_s * 1e9);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (mono_ns() > until) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

void Child::kill_now() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

namespace {
// A buffer read or sent up to `off`: emptied once all of it is, cut once a megabyte is.
void drop_consumed(std::string& buf, size_t& off) {
  if (off == buf.size()) {
    buf.clear();
    off = 0;
  } else if (off > (1 << 20)) {
    buf.erase(0, off);
    off = 0;
  }
}
}  // namespace

struct Driver::Conn {
  int fd = -1;
  size_t id = 0;
  Kind kind = Kind::ws;
  bool open = false, closed = false, dirty = false, want_out = false;
  std::string in;
  size_t in_off = 0;
  std::string out;
  size_t out_off = 0;
  std::string msg;  // a fragmented WebSocket message so far
  std::uint64_t bytes_in = 0;
  OnMessage on_message;
  std::function<void()> on_open;
};

Driver::Driver() : read_buf_(1 << 18) {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  epoll_ctl(ep_, EPOLL_CTL_ADD, timer_fd_, &ev);
}

Driver::~Driver() {
  for (auto& c : conns_)
    if (c->fd >= 0) ::close(c->fd);
  ::close(timer_fd_);
  ::close(ep_);
}

size_t Driver::connect(Kind kind, int port, OnMessage on_message, std::function<void()> on_open,
                       std::uint32_t from) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  sockaddr_in source = a;
  source.sin_addr.s_addr = htonl(from);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (fd < 0 || (from && ::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  auto c = std::make_unique<Conn>();
  c->fd = fd;
  c->kind = kind;
  c->id = conns_.size();
  c->on_message = std::move(on_message);
  c->on_open = std::move(on_open);
  const size_t id = conns_.size();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = id + 1;
  epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
  conns_.push_back(std::move(c));
  Conn& conn = *conns_.back();
  if (kind == Kind::ws) {
    send_raw(id, "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                     "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: YW54aW4tYmVuY2gtZHJpdmVy\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: anxin-v1\r\n\r\n");
  } else {
    conn.open = true;
    if (conn.on_open) conn.on_open();
  }
  return id;
}

void Driver::send_raw(size_t id, std::string_view bytes) {
  Conn& c = *conns_[id];
  if (c.closed) return;
  c.out.append(bytes);
  if (!c.dirty) {
    c.dirty = true;
    dirty_.push_back(id);
  }
}

void Driver::send_text(size_t id, std::string_view text) {
  Conn& c = *conns_[id];
  if (c.closed) return;
  char hdr[14];
  size_t h = 0;
  hdr[h++] = static_cast<char>(0x81);  // FIN, text
  const size_t n = text.size();
  if (n < 126) {
    hdr[h++] = static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    hdr[h++] = static_cast<char>(0x80 | 126);
    hdr[h++] = static_cast<char>(n >> 8);
    hdr[h++] = static_cast<char>(n);
  } else {
    hdr[h++] = static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) hdr[h++] = static_cast<char>(static_cast<std::uint64_t>(n) >> (8 * i));
  }
  // Client frames are masked (RFC 6455 5.3); a cheap xorshift key per frame.
  mask_state_ ^= mask_state_ << 13;
  mask_state_ ^= mask_state_ >> 7;
  mask_state_ ^= mask_state_ << 17;
  char key[4];
  std::memcpy(key, &mask_state_, 4);
  std::memcpy(hdr + h, key, 4);
  h += 4;
  c.out.append(hdr, h);
  const size_t at = c.out.size();
  c.out.append(text);
  char* p = c.out.data() + at;
  for (size_t i = 0; i < n; ++i) p[i] ^= key[i & 3];
  if (!c.dirty) {
    c.dirty = true;
    dirty_.push_back(id);
  }
}

bool Driver::is_open(size_t id) const { return conns_[id]->open && !conns_[id]->closed; }
bool Driver::is_closed(size_t id) const { return conns_[id]->closed; }
std::uint64_t Driver::bytes_in(size_t id) const { return conns_[id]->bytes_in; }

void Driver::close(size_t id) {
  Conn& c = *conns_[id];
  if (c.fd >= 0) {
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
  }
  c.fd = -1;
  c.closed = true;
  c.out.clear();
}

void Driver::flush(Conn& c) {
  while (c.out_off < c.out.size() && !c.closed) {
    const ssize_t w = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (w > 0) {
      c.out_off += static_cast<size_t>(w);
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else {
      c.closed = true;
    }
  }
  drop_consumed(c.out, c.out_off);
  const bool want = !c.out.empty() && !c.closed;
  if (want != c.want_out && c.fd >= 0) {
    c.want_out = want;
    epoll_event ev{};
    ev.events = want ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.u64 = c.id + 1;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }
}

namespace {

// The length of the whole RESP reply at p, or 0 while it is incomplete.
size_t resp_end(const char* p, size_t n) {
  if (n < 3) return 0;
  const char* cr = static_cast<const char*>(std::memchr(p, '\r', n));
  if (!cr || static_cast<size_t>(cr - p) + 1 >= n) return 0;
  const size_t line = static_cast<size_t>(cr - p) + 2;
  switch (p[0]) {
    case '$': {
      const long len = std::strtol(p + 1, nullptr, 10);
      if (len < 0) return line;
      const size_t total = line + static_cast<size_t>(len) + 2;
      return total <= n ? total : 0;
    }
    case '*': {
      const long count = std::strtol(p + 1, nullptr, 10);
      size_t off = line;
      for (long i = 0; i < count; ++i) {
        const size_t r = resp_end(p + off, n - off);
        if (!r) return 0;
        off += r;
      }
      return off;
    }
    default:
      return line;
  }
}

}  // namespace

void Driver::parse(Conn& c) {
  while (!c.closed) {
    const char* p = c.in.data() + c.in_off;
    const size_t avail = c.in.size() - c.in_off;
    if (c.kind == Kind::resp) {
      const size_t r = resp_end(p, avail);
      if (!r) break;
      c.in_off += r;
      if (c.on_message) c.on_message(std::string_view(p, r));
      continue;
    }
    if (!c.open) {
      const auto end = c.in.find("\r\n\r\n", c.in_off);
      if (end == std::string::npos) break;
      if (c.in.compare(c.in_off, 12, "HTTP/1.1 101") != 0) {
        std::fprintf(stderr, "anxin-bench: WebSocket upgrade refused: %s\n", c.in.substr(c.in_off, 80).c_str());
        c.closed = true;
        break;
      }
      c.in_off = end + 4;
      c.open = true;
      if (c.on_open) c.on_open();
      continue;
    }
    if (avail < 2) break;
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    const int op = u[0] & 0x0f;
    const bool fin = u[0] & 0x80;
    const bool masked = u[1] & 0x80;
    std::uint64_t len = u[1] & 0x7f;
    size_t hdr = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = (static_cast<std::uint64_t>(u[2]) << 8) | u[3];
      hdr = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | u[2 + i];
      hdr = 10;
    }
    if (masked) hdr += 4;
    if (avail < hdr + len) {
      // A big frame (a snapshot) is read into room made once: growing the buffer as
      // it came copied megabytes at a time, and the driver stalled meanwhile.
      c.in.reserve(c.in_off + hdr + len);
      break;
    }
    char* payload = c.in.data() + c.in_off + hdr;
    if (masked)
      for (std::uint64_t i = 0; i < len; ++i) payload[i] ^= p[hdr - 4 + (i & 3)];
    c.in_off += hdr + len;
    const std::string_view body(payload, len);
    if (op == 0x1 || op == 0x2) {
      if (fin) {
        if (c.on_message) c.on_message(body);
      } else {
        c.msg.assign(body);
      }
    } else if (op == 0x0) {
      c.msg.append(body);
      if (fin) {
        if (c.on_message) c.on_message(c.msg);
        c.msg.clear();
      }
    } else if (op == 0x8) {
      c.closed = true;
    } else if (op == 0x9) {  // ping: pong with the same payload
      const size_t id = c.id;
      std::string pong;
      pong += static_cast<char>(0x8a);
      pong += static_cast<char>(0x80 | len);
      pong.append(4, '\0');
      pong.append(body);
      send_raw(id, pong);
    }
  }
  drop_consumed(c.in, c.in_off);
}

// One read a turn: the epoll is level-triggered, so what is left comes at the next
// turn, after the other connections' acks and deltas and the pacing timer. Reading
// until the socket was empty, a 15 MB snapshot that the server kept refilling held
// the whole driver for milliseconds, and the alarms it sent late and the acks it read
// late counted as the server's (anxin-bench stall, 2026-12-08).
void Driver::on_readable(Conn& c) {
  for (;;) {
    const ssize_t r = ::recv(c.fd, read_buf_.data(), read_buf_.size(), 0);
    if (r > 0) {
      c.bytes_in += static_cast<std::uint64_t>(r);
      c.in.append(read_buf_.data(), static_cast<size_t>(r));
      break;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      parse(c);
      c.closed = true;
      return;
    }
  }
  parse(c);
}

void Driver::every(std::int64_t interval_ns, std::function<void(std::uint64_t)> tick) {
  itimerspec spec{};
  if (interval_ns > 0) {
    spec.it_interval.tv_sec = interval_ns / 1'000'000'000;
    spec.it_interval.tv_nsec = interval_ns % 1'000'000'000;
    spec.it_value = spec.it_interval;
  }
  timerfd_settime(timer_fd_, 0, &spec, nullptr);
  tick_ = interval_ns > 0 ? std::move(tick) : nullptr;
}

bool Driver::run(const std::function<bool()>& done, double timeout_s) {
  const std::int64_t until = mono_ns() + static_cast<std::int64_t>(timeout_s * 1e9);
  epoll_event events[64];
  for (;;) {
    for (size_t id : dirty_) {
      conns_[id]->dirty = false;
      flush(*conns_[id]);
    }
    dirty_.clear();
    if (done()) return true;
    const std::int64_t left = until - mono_ns();
    if (left <= 0) return false;
    const int n = epoll_wait(ep_, events, 64, static_cast<int>(std::min<std::int64_t>(left / 1'000'000 + 1, 50)));
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == 0) {
        std::uint64_t expirations = 0;
        if (read(timer_fd_, &expirations, sizeof expirations) == sizeof expirations && tick_) tick_(expirations);
        continue;
      }
      Conn& c = *conns_[events[i].data.u64 - 1];
      if (c.closed && c.fd >= 0) {
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        continue;
      }
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
      if ((events[i].events & EPOLLOUT) && !c.closed) flush(c);
      if (c.closed && c.fd >= 0) {
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.fd = -1;
      }
    }
  }
}

}  // namespace anxin::bench
