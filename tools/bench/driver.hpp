// The city-scale benchmarks' load driver (issue 15): one thread, one epoll loop,
// non-blocking loopback sockets, a minimal WebSocket client (handshake, masked text
// frames out, whole messages in) and a minimal RESP client, so that the same driver
// pushes Anxin and Redis and is not what limits either. Also the child processes
// it measures (a server binary, redis-server) and their CPU time.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace anxin::bench {

std::int64_t mono_ns();  // CLOCK_MONOTONIC
std::int64_t wall_ms();  // Unix epoch milliseconds

// CPU seconds (user + system) of a whole process, all threads, from /proc/PID/stat.
double process_cpu_s(pid_t pid);
// CPU seconds of the calling thread (getrusage RUSAGE_THREAD).
double thread_cpu_s();
// Resident memory of a process (VmRSS) in bytes, 0 if unknown.
std::uint64_t process_rss_bytes(pid_t pid);

// A port nobody listens on now (bound to 0 and released).
int free_port();

// A child process with its output in a log file. stop() sends SIGTERM and waits.
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { stop(); }
  void start(const std::vector<std::string>& argv, const std::string& log_path);
  // The CPUs every child starts on from now, whatever this process runs on.
  static void start_on(const cpu_set_t& cpus);
  void stop(double wait_s = 20);
  void kill_now();  // SIGKILL, as a crash: nothing of the child's own shutdown runs
  bool running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

class Driver {
 public:
  enum class Kind { ws, resp };
  using OnMessage = std::function<void(std::string_view)>;

  Driver();
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Opens a connection to 127.0.0.1:port; for ws the upgrade is sent at once and
  // on_open runs when it is accepted. on_message gets each whole WebSocket message
  // (text), or each whole RESP reply (its raw bytes). Throws if it cannot connect.
  // `from`: the loopback address to connect from (host order; 0: the system's choice).
  size_t connect(Kind kind, int port, OnMessage on_message, std::function<void()> on_open = {},
                 std::uint32_t from = 0);
  void send_text(size_t id, std::string_view text);  // one masked WebSocket text frame
  void send_raw(size_t id, std::string_view bytes);  // RESP commands, as they are
  bool is_open(size_t id) const;                     // handshake done and not closed
  bool is_closed(size_t id) const;                   // the peer closed it, or it failed
  std::uint64_t bytes_in(size_t id) const;
  void close(size_t id);

  // Runs a timer every interval_ns; tick(expirations) on the loop. 0 stops it.
  void every(std::int64_t interval_ns, std::function<void(std::uint64_t)> tick);
  // Serves the loop until done() is true or timeout_s passes; returns done().
  bool run(const std::function<bool()>& done, double timeout_s);

 private:
  struct Conn;
  void on_readable(Conn& c);
  void flush(Conn& c);
  void parse(Conn& c);
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<size_t> dirty_;
  int ep_ = -1;
  int timer_fd_ = -1;
  std::function<void(std::uint64_t)> tick_;
  std::uint64_t mask_state_ = 0x9e3779b97f4a7c15ULL;
  std::vector<char> read_buf_;
};

}  // namespace anxin::bench
