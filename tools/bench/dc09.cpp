// DC-09 frame -> ACK over loopback TCP (docs/dc09.md): a real server and SQLite file
// (synchronous=FULL), panels on K connections, each sending a Contact ID 101
// (personal emergency) from the next SOS button and waiting for its ACK before the
// next (as a panel does). The ACK comes after the commit, so this is the receiver,
// the service thread and the group commit together. The demo district's device
// serials ("D000123") are hex, so each is its own DC-09 account: no account table.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "anxin/gateway/server.hpp"
#include "bench.hpp"
#include "district.hpp"
#include "harness.hpp"

namespace anxin::bench {

namespace {

// The DC-09 CRC (CRC-16/ARC) and frame, written here so the bench does not borrow
// the server's codec.
std::string dc09_frame(const std::string& body) {
  unsigned crc = 0;
  for (unsigned char b : body) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc & 1) ? (crc >> 1) ^ 0xA001 : crc >> 1;
  }
  char head[16];
  std::snprintf(head, sizeof head, "\n%04X%04zX", crc & 0xFFFF, body.size());
  return head + body + "\r";
}

std::string utc_stamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "_%H:%M:%S,%m-%d-%Y", &tm);
  return b;
}

int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("cannot connect");
  return fd;
}

// The next reply frame, or "" after 10 s.
std::string read_reply(int fd, std::string& buf) {
  for (;;) {
    if (auto cr = buf.find('\r'); cr != std::string::npos) {
      std::string f = buf.substr(0, cr + 1);
      buf.erase(0, cr + 1);
      return f;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10'000) <= 0) return "";
    char b[1024];
    const ssize_t n = recv(fd, b, sizeof b, 0);
    if (n <= 0) return "";
    buf.append(b, static_cast<size_t>(n));
  }
}

}  // namespace

int run_dc09(const Dc09BenchOptions& o) {
  sim::District district = sim::generate_district({42, std::max(1, o.devices), 10, "2026-11-26"});
  std::vector<std::string> buttons;
  for (const auto& d : district.devices)
    if (d.kind == DeviceKind::sos_button && static_cast<int>(buttons.size()) < o.devices) buttons.push_back(d.id);
  if (buttons.empty()) throw std::runtime_error("the district has no SOS buttons");

  const auto dir = std::filesystem::path(o.dir) / "dc09";
  gateway::ServerOptions so;
  so.db_path = make_bench_db(dir, district);
  so.port = 0;
  so.field_port = -1;
  so.interface = "127.0.0.1";
  so.dc09_port = 0;
  QuietNotifier quiet;
  so.notifier = &quiet;
  SystemClock clock;
  gateway::Server server(so, clock);
  server.start();

  std::mutex mu;
  std::vector<double> ms;
  std::map<std::string, int> seq;  // per device, under mu
  std::atomic<int> next{0}, refused{0};
  const std::int64_t start = now_ns();
  std::vector<std::thread> panels;
  for (int k = 0; k < o.connections; ++k)
    panels.emplace_back([&] {
      const int fd = connect_to(server.dc09_port());
      std::string buf;
      for (int i; (i = next++) < o.alarms;) {
        const std::string& device = buttons[static_cast<size_t>(i) % buttons.size()];
        int s;
        {
          std::lock_guard lock(mu);
          s = ++seq[device];
        }
        char seq_text[8];
        std::snprintf(seq_text, sizeof seq_text, "%04d", s % 10000);
        const std::string frame = dc09_frame("\"ADM-CID\"" + std::string(seq_text) + "L0#" + device + "[#" + device +
                                             "|1101 00 001]" + utc_stamp());
        const std::int64_t t0 = now_ns();
        if (send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size())) break;
        const std::string reply = read_reply(fd, buf);
        const double took = static_cast<double>(now_ns() - t0) / 1e6;
        if (reply.find("\"ACK\"") == std::string::npos) {
          ++refused;
          continue;
        }
        std::lock_guard lock(mu);
        ms.push_back(took);
      }
      close(fd);
    });
  for (auto& t : panels) t.join();
  const double wall_s = static_cast<double>(now_ns() - start) / 1e9;
  server.stop();

  std::printf("dc09: %d alarms from %zu SOS buttons on %d TCP connections, synchronous=FULL, %s\n", o.alarms,
              buttons.size(), o.connections, dir.string().c_str());
  std::printf("  frame -> ACK (after commit): p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%zu acked, %d not)\n",
              percentile(ms, 0.5), percentile(ms, 0.99), percentile(ms, 1.0), ms.size(), refused.load());
  std::printf("  %.0f alarms/s\n", static_cast<double>(ms.size()) / wall_s);
  return refused == 0 && static_cast<int>(ms.size()) == o.alarms ? 0 : 1;
}

}  // namespace anxin::bench
