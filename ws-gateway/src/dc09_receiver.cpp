// The DC-09 receiver's thread (dc09_receiver.hpp).
#include "dc09_receiver.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include "dc09.hpp"

namespace anxin::gateway {

namespace {

constexpr size_t kMaxFrame = 0xFFF + 10;        // <LF> crc 0LLL, a body of at most 0xFFF, <CR>
constexpr size_t kMaxGarbage = 16 * 1024;       // bytes a connection may send that are no frame
constexpr size_t kMaxUnsent = 64 * 1024;        // replies a connection may leave unread
constexpr size_t kMaxConnections = 1024;
constexpr std::int64_t kSeqZero = 10000;        // AlarmIn.seq for DC-09's seq 0000 (it must be > 0)

// What the service thread (or this thread) decided to answer, to be written by this thread.
struct Owed {
  std::uint64_t conn = 0;  // 0: UDP, to `peer`
  sockaddr_storage peer{};
  socklen_t peer_len = 0;
  dc09::Reply reply = dc09::Reply::none;
  dc09::Header header;
};

// Shared with the `done` callbacks, which may outlive the receiver: they find the
// eventfd still open (this owns it) and their replies simply never written.
struct Mailbox {
  std::mutex mu;
  std::vector<Owed> owed;
  int wake_fd = -1;
  ~Mailbox() {
    if (wake_fd >= 0) close(wake_fd);
  }
  void post(Owed o) {
    {
      std::lock_guard lock(mu);
      owed.push_back(std::move(o));
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_fd, &one, sizeof one);
  }
};

struct Connection {
  int fd = -1;
  std::string in, out;
  size_t garbage = 0;
};

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::string upper(std::string s) {
  for (auto& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

}  // namespace

struct Dc09Receiver::Impl {
  Dc09Options options;  // accounts upper-cased, zones normalised (dc09::normal_zone)
  std::map<std::string, std::string> keys;  // account → raw AES key
  std::string interface;
  const Clock& clock;
  IntakeQueue& intake;
  std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
  int tcp_fd = -1, udp_fd = -1;
  std::atomic<int> bound_port{-1};
  std::atomic<bool> stopping{false};
  std::thread thread;
  std::map<std::uint64_t, Connection> connections;  // receiver thread only
  std::uint64_t next_connection = 0;
  // The device time first heard for an alarm (device, seq, kind), so that a resend
  // the panel stamped afresh reaches the dispatcher as the same alarm: it knows a
  // resend by seq, kind and device time. Kept 10 minutes, at most kMaxRemembered.
  struct FirstHeard {
    Millis device_time_ms, received_ms;
  };
  std::map<std::tuple<std::string, std::int64_t, AlertKind>, FirstHeard> first_heard;
  static constexpr size_t kMaxRemembered = 16 * 1024;
  static constexpr Millis kRememberMs = 10 * 60'000;

  Millis device_time_of(const std::string& device, std::int64_t seq, AlertKind kind, Millis stamped, Millis now) {
    auto key = std::make_tuple(device, seq, kind);
    if (auto it = first_heard.find(key); it != first_heard.end() && now - it->second.received_ms < kRememberMs)
      return it->second.device_time_ms;
    if (first_heard.size() >= kMaxRemembered)
      for (auto it = first_heard.begin(); it != first_heard.end();)
        it = now - it->second.received_ms >= kRememberMs ? first_heard.erase(it) : std::next(it);
    if (first_heard.size() >= kMaxRemembered) first_heard.clear();  // a flood: forget rather than grow
    first_heard[key] = {stamped, now};
    return stamped;
  }

  Impl(Dc09Options o, std::string iface, const Clock& c, IntakeQueue& q)
      : interface(std::move(iface)), clock(c), intake(q) {
    options.window_s_before = o.window_s_before;
    options.window_s_after = o.window_s_after;
    for (auto& [number, account] : o.accounts) {
      Dc09Account a;
      a.device = account.device;
      a.key_hex = account.key_hex;
      for (auto& [zone, device] : account.zones) a.zones[dc09::normal_zone(zone)] = device;
      if (!account.key_hex.empty()) {
        auto key = dc09::from_hex(account.key_hex);
        if (!key || (key->size() != 16 && key->size() != 24 && key->size() != 32))
          throw std::invalid_argument("dc09 account " + number + ": the key must be 32, 48 or 64 hex digits");
        keys[upper(number)] = *key;
      }
      options.accounts[upper(number)] = std::move(a);
    }
  }

  static std::string key_of(const void* self, std::string_view account) {
    const auto& keys = static_cast<const Impl*>(self)->keys;
    auto it = keys.find(std::string(account));
    return it == keys.end() ? std::string() : it->second;
  }

  // The device an account's zone stands for: the zone's, else the account's device,
  // else the device whose serial is the account number.
  std::string device_for(const std::string& account, const std::string& zone) const {
    auto it = options.accounts.find(account);
    if (it == options.accounts.end()) return account;
    if (auto z = it->second.zones.find(dc09::normal_zone(zone)); z != it->second.zones.end()) return z->second;
    return it->second.device.empty() ? account : it->second.device;
  }

  // --- sockets --------------------------------------------------------------------

  sockaddr_storage address(int port, socklen_t& len) const {
    sockaddr_storage ss{};
    in6_addr v6{};
    if (!interface.empty() && inet_pton(AF_INET6, interface.c_str(), &v6) == 1) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_addr = v6;
      a->sin6_port = htons(static_cast<std::uint16_t>(port));
      len = sizeof(sockaddr_in6);
      return ss;
    }
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<std::uint16_t>(port));
    a->sin_addr.s_addr = htonl(INADDR_ANY);
    if (!interface.empty() && inet_pton(AF_INET, interface.c_str(), &a->sin_addr) != 1)
      throw std::runtime_error("dc09: the interface must be an IP address: " + interface);
    len = sizeof(sockaddr_in);
    return ss;
  }

  // Binds TCP then UDP on the same port; with port 0, tries a few free TCP ports until
  // the same UDP port is free too.
  void bind_both(int port) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      socklen_t len = 0;
      sockaddr_storage at = address(port, len);
      int t = socket(at.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (t < 0) throw std::runtime_error(std::string("dc09: socket: ") + std::strerror(errno));
      int yes = 1;
      setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      if (bind(t, reinterpret_cast<sockaddr*>(&at), len) != 0 || listen(t, 64) != 0) {
        const int e = errno;
        close(t);
        throw std::runtime_error("dc09: cannot listen on TCP port " + std::to_string(port) + ": " + std::strerror(e));
      }
      sockaddr_storage got{};
      socklen_t got_len = sizeof got;
      getsockname(t, reinterpret_cast<sockaddr*>(&got), &got_len);
      const int chosen = ntohs(got.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&got)->sin6_port
                                                         : reinterpret_cast<sockaddr_in*>(&got)->sin_port);
      sockaddr_storage uat = address(chosen, len);
      int u = socket(at.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (u >= 0 && bind(u, reinterpret_cast<sockaddr*>(&uat), len) == 0) {
        set_nonblocking(t);
        set_nonblocking(u);
        tcp_fd = t, udp_fd = u;
        bound_port = chosen;
        return;
      }
      const int e = errno;
      if (u >= 0) close(u);
      close(t);
      if (port != 0) throw std::runtime_error("dc09: cannot bind UDP port " + std::to_string(port) + ": " + std::strerror(e));
    }
    throw std::runtime_error("dc09: found no port free for both TCP and UDP");
  }

  // --- frames -------------------------------------------------------------------------

  void answer_now(const Owed& o, const dc09::Header& h, dc09::Reply reply) {
    Owed now = o;
    now.header = h;
    now.reply = reply;
    write_reply(now);
  }

  // One frame from a TCP connection (`conn`) or a UDP peer. Returns false for a frame
  // that is not to be trusted (counted as garbage).
  bool on_frame(std::string_view wire, const Owed& from) {
    const Millis now = clock.now_ms();
    dc09::Decoded d = dc09::decode(wire, &Impl::key_of, this,  now,
                                   {options.window_s_before, options.window_s_after});
    const dc09::Message& m = d.message;
    switch (dc09::reply_for(d.error)) {
      case dc09::Reply::none: return false;
      case dc09::Reply::nak: answer_now(from, m.header, dc09::Reply::nak); return true;
      case dc09::Reply::duh: answer_now(from, m.header, dc09::Reply::duh); return true;
      case dc09::Reply::ack: break;
    }
    if (m.header.id == "NULL") {
      // Link supervision: answered at once. It also says the account's own device
      // is alive, when the account stands for one (an unlisted account, or one with
      // a `device`); the server ignores it for a device it does not know.
      answer_now(from, m.header, dc09::Reply::ack);
      auto it = options.accounts.find(m.account);
      if (!m.account.empty() && (it == options.accounts.end() || !it->second.device.empty())) {
        HeartbeatIn beat;
        beat.device = device_for(m.account, "");
        beat.boot = "dc09";
        intake.push({Principal{Role::device, "device:" + beat.device}, beat, [](const IntakeResult&) {}});
      }
      return true;
    }
    dc09::Action action;
    std::string zone, code;
    nlohmann::json detail{{"via", "dc09"}, {"protocol", m.header.id}, {"account", m.account}};
    if (m.cid) {
      action = dc09::action_of(*m.cid);
      zone = m.cid->zone;
      code = std::to_string(m.cid->qualifier) + std::to_string(m.cid->event);
      detail["group"] = m.cid->group;
    } else {
      if (m.sia.size() != 1) {  // one event per message: a block of several is refused whole
        answer_now(from, m.header, dc09::Reply::duh);
        return true;
      }
      action = dc09::action_of(m.sia[0]);
      zone = dc09::normal_zone(m.sia[0].zone);
      code = m.sia[0].code;
      if (!m.sia[0].area.empty()) detail["area"] = m.sia[0].area;
    }
    if (action.what == dc09::Action::unsupported) {
      answer_now(from, m.header, dc09::Reply::duh);
      return true;
    }
    detail["code"] = code;
    detail["zone"] = zone;
    detail["event"] = std::string(action.label);
    const std::string device = device_for(m.account, zone);
    Owed later = from;
    later.header = m.header;
    auto done = [mailbox = mailbox, later](const IntakeResult& r) mutable {
      if (!r.error) {
        later.reply = dc09::Reply::ack;
      } else if (r.error->code == ErrorCode::storage_full || r.error->code == ErrorCode::rate_limited ||
                 r.error->code == ErrorCode::internal) {
        return;  // no answer: the transmitter sends it again later (or to its backup receiver)
      } else {
        later.reply = dc09::Reply::duh;  // an unknown device, one that cannot raise this, ...
      }
      mailbox->post(std::move(later));
    };
    const Principal who{Role::device, "device:" + device};
    if (action.what == dc09::Action::heartbeat) {
      HeartbeatIn beat;
      beat.device = device;
      beat.boot = "dc09";
      intake.push({who, beat, std::move(done)});
      return true;
    }
    AlarmIn alarm;
    alarm.device = device;
    const int seq = std::stoi(m.header.seq);  // four digits, checked by the codec
    alarm.seq = seq == 0 ? kSeqZero : seq;
    alarm.kind = action.kind;
    alarm.device_time_ms = device_time_of(device, alarm.seq, alarm.kind, m.time_ms.value_or(now), now);
    alarm.detail = detail.dump();
    alarm.boot = "dc09";
    intake.push({who, alarm, std::move(done)});
    return true;
  }

  // --- writing --------------------------------------------------------------------------

  std::string bytes_of(const Owed& o) const {
    switch (o.reply) {
      case dc09::Reply::ack: {
        auto it = keys.find(o.header.account);
        return dc09::ack(o.header, it == keys.end() ? std::string_view() : std::string_view(it->second),
                         clock.now_ms());
      }
      case dc09::Reply::nak: return dc09::nak(clock.now_ms());
      case dc09::Reply::duh: return dc09::duh(o.header);
      case dc09::Reply::none: break;
    }
    return {};
  }

  void write_reply(const Owed& o) {
    const std::string bytes = bytes_of(o);
    if (bytes.empty()) return;
    if (o.conn == 0) {
      sendto(udp_fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
             reinterpret_cast<const sockaddr*>(&o.peer), o.peer_len);
      return;
    }
    auto it = connections.find(o.conn);
    if (it == connections.end()) return;  // gone meanwhile
    it->second.out += bytes;
    flush(o.conn);
  }

  // Writes what a connection owes; drops it when it leaves too much unread.
  void flush(std::uint64_t id) {
    auto it = connections.find(id);
    if (it == connections.end()) return;
    Connection& c = it->second;
    while (!c.out.empty()) {
      const ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        c.out.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      return drop(id);
    }
    if (c.out.size() > kMaxUnsent) drop(id);
  }

  void drop(std::uint64_t id) {
    auto it = connections.find(id);
    if (it == connections.end()) return;
    close(it->second.fd);
    connections.erase(it);
  }

  // --- reading --------------------------------------------------------------------------

  // Splits `in` into frames (<LF> ... <CR>), handing each to on_frame; what is not a
  // frame is counted in `garbage`. A partial frame stays in `in`.
  void frames_of(std::string& in, size_t& garbage, const Owed& from) {
    size_t pos = 0;
    while (pos < in.size()) {
      const size_t lf = in.find('\n', pos);
      if (lf == std::string::npos) {
        garbage += in.size() - pos;
        pos = in.size();
        break;
      }
      garbage += lf - pos;
      const size_t cr = in.find('\r', lf);
      if (cr == std::string::npos) {
        pos = lf;
        if (in.size() - lf > kMaxFrame) garbage += in.size() - lf, pos = in.size();
        break;
      }
      const size_t start = in.rfind('\n', cr);  // a later <LF> starts the frame afresh
      garbage += start - lf;
      if (!on_frame(std::string_view(in).substr(start, cr + 1 - start), from)) garbage += cr + 1 - start;
      pos = cr + 1;
    }
    in.erase(0, pos);
  }

  void on_readable(std::uint64_t id) {
    auto it = connections.find(id);
    if (it == connections.end()) return;
    char buf[8192];
    const ssize_t n = recv(it->second.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return drop(id);
    if (n < 0) return;
    it->second.in.append(buf, static_cast<size_t>(n));
    Owed from;
    from.conn = id;
    // on_frame may write to this connection (and drop it), so work on a copy of the
    // buffer and look the connection up again afterwards.
    std::string in = std::move(it->second.in);
    size_t garbage = it->second.garbage;
    frames_of(in, garbage, from);
    it = connections.find(id);
    if (it == connections.end()) return;
    it->second.in = std::move(in);
    it->second.garbage = garbage;
    if (garbage > kMaxGarbage) drop(id);
  }

  void on_datagram() {
    for (int i = 0; i < 64; ++i) {
      char buf[kMaxFrame + 16];
      Owed from;
      from.peer_len = sizeof from.peer;
      const ssize_t n = recvfrom(udp_fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from.peer),
                                 &from.peer_len);
      if (n < 0) return;
      std::string in(buf, static_cast<size_t>(n));
      size_t garbage = 0;
      frames_of(in, garbage, from);  // a datagram holds whole frames; a partial one is dropped
    }
  }

  void on_accept() {
    for (;;) {
      const int fd = accept4(tcp_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (connections.size() >= kMaxConnections) {
        close(fd);
        continue;
      }
      connections[++next_connection].fd = fd;
    }
  }

  void drain_mailbox() {
    std::uint64_t count;
    [[maybe_unused]] auto n = read(mailbox->wake_fd, &count, sizeof count);
    std::vector<Owed> owed;
    {
      std::lock_guard lock(mailbox->mu);
      owed.swap(mailbox->owed);
    }
    for (const auto& o : owed) write_reply(o);
  }

  void run() {
    pthread_setname_np(pthread_self(), "anxin-dc09");
    std::vector<pollfd> fds;
    std::vector<std::uint64_t> ids;
    while (!stopping) {
      fds.clear();
      ids.clear();
      fds.push_back({mailbox->wake_fd, POLLIN, 0});
      fds.push_back({tcp_fd, POLLIN, 0});
      fds.push_back({udp_fd, POLLIN, 0});
      for (auto& [id, c] : connections) {
        fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
        ids.push_back(id);
      }
      if (poll(fds.data(), fds.size(), 1000) < 0) continue;
      if (fds[0].revents) drain_mailbox();
      if (fds[1].revents) on_accept();
      if (fds[2].revents) on_datagram();
      for (size_t i = 3; i < fds.size(); ++i) {
        const auto id = ids[i - 3];
        if (fds[i].revents & POLLOUT) flush(id);
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) on_readable(id);
      }
    }
  }
};

Dc09Receiver::Dc09Receiver(Dc09Options options, std::string interface, const Clock& clock, IntakeQueue& intake)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(interface), clock, intake)) {}

Dc09Receiver::~Dc09Receiver() { stop(); }

void Dc09Receiver::start(int port) {
  Impl& i = *impl_;
  i.mailbox->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (i.mailbox->wake_fd < 0) throw std::runtime_error(std::string("dc09: eventfd: ") + std::strerror(errno));
  i.bind_both(port);
  i.thread = std::thread([&i] { i.run(); });
}

void Dc09Receiver::stop() {
  Impl& i = *impl_;
  if (!i.thread.joinable()) return;
  i.stopping = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(i.mailbox->wake_fd, &one, sizeof one);
  i.thread.join();
  for (auto& [id, c] : i.connections) close(c.fd);
  i.connections.clear();
  close(i.tcp_fd);
  close(i.udp_fd);
  i.tcp_fd = i.udp_fd = -1;
}

int Dc09Receiver::port() const { return impl_->bound_port; }

}  // namespace anxin::gateway
