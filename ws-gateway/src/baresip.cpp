#include "anxin/gateway/baresip.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace anxin {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ---- netstrings ----------------------------------------------------------

std::string netstring(std::string_view payload) {
  std::string out = std::to_string(payload.size());
  out += ':';
  out += payload;
  out += ',';
  return out;
}

void NetstringReader::feed(std::string_view bytes) {
  if (broken_) return;
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

std::optional<std::string> NetstringReader::next() {
  if (broken_) return std::nullopt;
  // 64 KiB is five digits; a sixth digit is already a framing error.
  constexpr size_t max_digits = 5;
  size_t len = 0;
  size_t i = pos_;
  for (;; ++i) {
    if (i == buf_.size()) return std::nullopt;  // the length is still arriving
    const char c = buf_[i];
    if (c == ':') break;
    if (c < '0' || c > '9' || i - pos_ >= max_digits) {
      broken_ = true;
      return std::nullopt;
    }
    len = len * 10 + static_cast<size_t>(c - '0');
  }
  if (i == pos_ || len > max_payload) {
    broken_ = true;
    return std::nullopt;
  }
  const size_t body = i + 1;
  if (buf_.size() < body + len + 1) return std::nullopt;
  if (buf_[body + len] != ',') {
    broken_ = true;
    return std::nullopt;
  }
  std::string payload = buf_.substr(body, len);
  pos_ = body + len + 1;
  return payload;
}

// ---- events ---------------------------------------------------------------

std::string_view name_of(SeatEvent::Kind kind) {
  switch (kind) {
    case SeatEvent::Kind::up: return "up";
    case SeatEvent::Kind::down: return "down";
    case SeatEvent::Kind::incoming: return "incoming";
    case SeatEvent::Kind::ringing: return "ringing";
    case SeatEvent::Kind::established: return "established";
    case SeatEvent::Kind::closed: return "closed";
  }
  return "?";
}

namespace {

// A string field, or "" when absent or not a string: the agent's JSON is input,
// and a wrong type must not throw out of a decoder.
std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "sip:+8613900000001@pbx;user=phone" -> "+8613900000001"; "tel:110" -> "110";
// a URI with no user part ("sip:127.0.0.1") has no number.
std::string user_of(std::string_view uri) {
  if (!uri.empty() && uri.front() == '<') uri.remove_prefix(1);
  uri = uri.substr(0, uri.find('>'));
  const size_t colon = uri.find(':');
  if (colon == std::string_view::npos) return "";
  const std::string_view scheme = uri.substr(0, colon);
  std::string_view rest = uri.substr(colon + 1);
  const size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    rest = rest.substr(0, at);
  } else if (scheme != "tel") {
    return "";
  }
  return std::string(rest.substr(0, rest.find_first_of(";:")));
}

}  // namespace

std::optional<SeatEvent> parse_seat_event(std::string_view payload, const std::string& seat) {
  try {
    const json j = json::parse(payload.begin(), payload.end(), nullptr, false);
    if (!j.is_object()) return std::nullopt;
    auto flag = j.find("event");
    if (flag == j.end() || !flag->is_boolean() || !flag->get<bool>()) return std::nullopt;
    const std::string type = text(j, "type");
    SeatEvent e{};
    if (type == "CALL_INCOMING") e.kind = SeatEvent::Kind::incoming;
    else if (type == "CALL_RINGING") e.kind = SeatEvent::Kind::ringing;
    else if (type == "CALL_ESTABLISHED") e.kind = SeatEvent::Kind::established;
    else if (type == "CALL_CLOSED") e.kind = SeatEvent::Kind::closed;
    else return std::nullopt;
    e.seat = seat;
    e.call_id = text(j, "id");
    e.number = user_of(text(j, "peeruri"));
    e.peer_name = text(j, "peerdisplayname");
    e.outgoing = text(j, "direction") == "outgoing";
    if (e.kind == SeatEvent::Kind::closed) e.reason = text(j, "param");
    return e;
  } catch (...) {
    return std::nullopt;  // e.g. bad_alloc: a decoder reports, it does not throw
  }
}

// ---- the seat -------------------------------------------------------------

namespace {

constexpr const char* module_path = "/usr/lib/baresip/modules";
constexpr milliseconds start_timeout{10000};  // spawn -> answering on ctrl_tcp
constexpr milliseconds close_grace{2000};  // our hangup -> the agent's CALL_CLOSED
constexpr milliseconds stop_grace{3000};  // SIGTERM -> exit, then SIGKILL
constexpr int max_backoff_ms = 30000;
constexpr uintmax_t max_log_bytes = 10u << 20;

// baresip's config file. Every start rewrites it, so the config is what the
// SeatConfig says, never what someone left in the directory.
std::string config_text(const SeatConfig& c) {
  std::ostringstream o;
  o << "# Written by Anxin for seat " << c.name << " at every start: edit the SeatConfig, not this.\n"
    << "poll_method epoll\n"
    << "sip_listen " << c.sip_addr << ':' << c.sip_port << "\n"
    << "net_interface " << c.sip_addr << "\n"
    // One call per seat: a second incoming call gets "486 Max Calls", and
    // accept/hangup (which act on the newest call) cannot pick the wrong one.
    << "call_max_calls 1\n"
    << "rtp_ports " << c.rtp_min << '-' << c.rtp_max << "\n"
    // No sound card: aubridge with no matching source discards playback cheaply.
    << "audio_player aubridge," << c.name << "\n"
    << "audio_alert aubridge," << c.name << "\n";
  if (c.audio_source.empty()) {
    // ausine only makes 48 kHz stereo; aufile refuses any rate but its file's.
    o << "audio_source ausine,440\nausrc_srate 48000\nausrc_channels 2\n";
  } else {
    o << "audio_source aufile," << c.audio_source << "\n";
  }
  o << "module_path " << module_path << "\n"
    << "module g711.so\nmodule aufile.so\nmodule ausine.so\nmodule aubridge.so\n";
  if (!c.record_dir.empty()) o << "module sndfile.so\nsnd_path " << c.dir << "/rec-tmp\n";
  // account.so reads `accounts`; without it the agent runs with no user agent.
  o << "module_tmp account.so\n"
    << "module_app menu.so\nmodule_app ctrl_tcp.so\n"
    << "ctrl_tcp_listen 127.0.0.1:" << c.ctrl_port << "\n";
  return o.str();
}

std::string account_line(const SeatConfig& c) {
  if (!c.account.empty()) return c.account;
  return "<sip:" + c.name + "@" + c.sip_addr + ":" + std::to_string(c.sip_port) +
         ">;regint=0;answermode=manual";
}

// Resolved before fork, so the child does nothing but dup2 and exec.
std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string full = (dir.empty() ? "." : dir) + "/" + name;
    if (access(full.c_str(), X_OK) == 0) return full;
  }
  return name;
}

// What a dialled URI may look like: no spaces or control characters, which the
// agent would otherwise "complete" into a call to nowhere.
bool plausible_uri(const std::string& uri) {
  if (uri.empty() || uri.size() > 256) return false;
  return std::none_of(uri.begin(), uri.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '"'; });
}

// Call-IDs are chosen by the far end: keep them out of the file system's way.
std::string file_safe(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 64)) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '_';
  return out.empty() ? "call" : out;
}

std::set<std::string> heard_dumps(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string n = entry.path().filename().string();
    if (n.rfind("dump-", 0) == 0 && n.size() > 8 && n.compare(n.size() - 8, 8, "-dec.wav") == 0) names.insert(n);
  }
  return names;
}

// Whether process `pid` still holds any of `paths` open (sndfile closes its
// WAVs, and writes their final header, only after the CALL_CLOSED event).
bool holds_open(pid_t pid, const std::vector<fs::path>& paths) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code link_ec;
    const fs::path target = fs::read_symlink(entry.path(), link_ec);
    if (!link_ec && std::find(paths.begin(), paths.end(), target) != paths.end()) return true;
  }
  return false;
}

bool move_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (!ec) return true;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);  // another file system
  if (ec) return false;
  fs::remove(from, ec);
  return true;
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) return "agent killed by signal " + std::to_string(WTERMSIG(status));
  return "agent exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

struct Seat::Impl {
  struct Command {
    enum class Kind { dial, accept, hangup } kind;
    std::string uri, token;
  };
  // The seat's one call, as the seat thread knows it.
  struct Call {
    bool active = false;
    bool outgoing = false;
    bool established = false;
    std::string id;  // empty until the agent's first event for an outgoing call
    std::string token;
    Steady::time_point ring_deadline;
    bool gave_up = false;  // we hung up at the ring timeout
    Steady::time_point give_up_deadline;
    std::set<std::string> old_dumps;  // recordings already in rec-tmp when it began
  };
  enum class State { down, starting, up };

  Impl(SeatConfig c, std::function<void(const SeatEvent&)> f) : cfg(std::move(c)), on_event(std::move(f)) {}

  // Written once, read by all.
  const SeatConfig cfg;
  const std::function<void(const SeatEvent&)> on_event;
  int wake_fd = -1;  // eventfd: commands queued, or stop
  std::atomic<bool> stopping{false};
  std::atomic<bool> is_up{false}, is_busy{false};
  std::atomic<pid_t> agent{-1};

  std::mutex mu;  // guards commands
  std::deque<Command> commands;

  // The seat thread's own.
  State state = State::down;
  int ctrl = -1;
  NetstringReader reader;
  Steady::time_point next_start{}, started_at{};
  int backoff_ms = 0;
  std::string lost;  // set when the agent is found dead or unusable; acted on once per turn
  Call call;
  std::thread thread;

  void queue(Command cmd) {
    {
      std::lock_guard lock(mu);
      commands.push_back(std::move(cmd));
    }
    wake();
  }
  void wake() {
    const uint64_t one = 1;
    (void)!write(wake_fd, &one, sizeof one);
  }
  void run();
  void turn();
  void start_agent();
  void try_connect();
  void read_ctrl();
  void check_agent();
  void lose_agent();
  void stop_agent();
  void serve(const Command& cmd);
  void on_payload(const std::string& payload);
  void on_response(const json& j);
  void on_event_from_agent(SeatEvent e);
  void check_ring_timeout();
  void finish_call(SeatEvent e);
  void collect_recordings(SeatEvent& e);
  bool send(const std::string& command, const std::string& params, const std::string& token);
  void emit(SeatEvent e);
  void log(const std::string& line) const {
    std::fprintf(stderr, "anxin seat %s: %s\n", cfg.name.c_str(), line.c_str());
  }
  fs::path rec_tmp() const { return fs::path(cfg.dir) / "rec-tmp"; }
};

Seat::Seat(SeatConfig cfg, std::function<void(const SeatEvent&)> on_event)
    : impl_(std::make_unique<Impl>(std::move(cfg), std::move(on_event))) {
  impl_->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

Seat::~Seat() {
  impl_->stopping = true;
  impl_->wake();
  impl_->thread.join();
  close(impl_->wake_fd);
}

void Seat::dial(const std::string& uri, const std::string& token) {
  impl_->queue({Impl::Command::Kind::dial, uri, token});
}
void Seat::accept() { impl_->queue({Impl::Command::Kind::accept, "", ""}); }
void Seat::hangup() { impl_->queue({Impl::Command::Kind::hangup, "", ""}); }

bool Seat::up() const { return impl_->is_up; }
bool Seat::busy() const { return impl_->is_busy; }
pid_t Seat::pid() const { return impl_->agent; }
const SeatConfig& Seat::config() const { return impl_->cfg; }

void Seat::Impl::run() {
  const std::string thread_name = ("seat:" + cfg.name).substr(0, 15);  // the kernel's limit
  pthread_setname_np(pthread_self(), thread_name.c_str());
  std::error_code ec;
  fs::create_directories(cfg.dir, ec);
  if (!cfg.record_dir.empty()) {
    fs::create_directories(rec_tmp(), ec);
    fs::create_directories(cfg.record_dir, ec);
  }
  while (!stopping) turn();
  stop_agent();
}

// One turn of the seat thread: start or connect the agent as due, wait for
// bytes, commands or a deadline, then act on them.
void Seat::Impl::turn() {
  const auto now = Steady::now();
  if (state == State::down && now >= next_start) start_agent();
  if (state == State::starting && ctrl < 0) try_connect();
  if (state == State::starting && Steady::now() - started_at > start_timeout) {
    lost = "no answer on ctrl_tcp within " + std::to_string(start_timeout.count()) + " ms";
  }

  auto wait = milliseconds(state == State::starting ? 20 : 100);
  if (state == State::down) {
    wait = std::min(wait, std::chrono::duration_cast<milliseconds>(next_start - Steady::now()));
  }
  if (call.active && call.outgoing && !call.established) {
    const auto due = call.gave_up ? call.give_up_deadline : call.ring_deadline;
    wait = std::min(wait, std::chrono::duration_cast<milliseconds>(due - Steady::now()));
  }
  pollfd fds[2] = {{wake_fd, POLLIN, 0}, {ctrl, POLLIN, 0}};
  if (lost.empty()) poll(fds, ctrl >= 0 ? 2 : 1, static_cast<int>(std::max<milliseconds::rep>(0, wait.count())));

  if (fds[0].revents & POLLIN) {
    uint64_t n;
    (void)!read(wake_fd, &n, sizeof n);
  }
  std::deque<Command> todo;
  {
    std::lock_guard lock(mu);
    todo.swap(commands);
  }
  if (stopping) return;
  for (const Command& cmd : todo) serve(cmd);
  if (ctrl >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) read_ctrl();
  check_agent();
  check_ring_timeout();
  if (!lost.empty()) lose_agent();
}

void Seat::Impl::start_agent() {
  std::error_code ec;
  const fs::path dir(cfg.dir);
  {
    std::ofstream(dir / "config") << config_text(cfg);
    std::ofstream(dir / "accounts") << account_line(cfg) << "\n";
  }
  const fs::path log_path = dir / "baresip.log";
  if (fs::file_size(log_path, ec) > max_log_bytes) fs::rename(log_path, dir / "baresip.log.1", ec);
  {
    std::ofstream(log_path, std::ios::app) << "--- anxin: starting the agent for seat " << cfg.name << "\n";
  }

  const std::string program = find_program(cfg.baresip);
  const std::string log_file = log_path.string();
  std::vector<std::string> args = {program, "-f", cfg.dir};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls here: another thread may hold malloc's lock.
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) dup2(in, 0);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    // Our sockets (another seat's control connection) must not live on in
    // this agent, or that seat would never see its own agent's death.
    if (close_range(3, ~0u, 0) != 0) {
      for (int fd = 3; fd < 4096; ++fd) close(fd);
    }
    // The agent dies with the thread that started it, even on our crash.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  started_at = Steady::now();
  if (pid < 0) {
    lost = "fork failed";
    return;
  }
  agent = pid;
  state = State::starting;
}

void Seat::Impl::try_connect() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(cfg.ctrl_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);  // not listening yet: try again next turn
    return;
  }
  ctrl = fd;
  reader = NetstringReader();
  // The agent keeps running with no user agent when, say, its SIP port is
  // taken; reginfo tells that apart from a working seat.
  send("reginfo", "", "probe");
}

void Seat::Impl::read_ctrl() {
  char buf[8192];
  const ssize_t n = recv(ctrl, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    lost = "control connection closed";
    return;
  }
  if (n < 0) return;
  reader.feed(std::string_view(buf, static_cast<size_t>(n)));
  while (auto payload = reader.next()) on_payload(*payload);
  if (reader.broken()) lost = "bad framing on the control connection";
}

void Seat::Impl::check_agent() {
  const pid_t pid = agent;
  if (pid <= 0) return;
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) {
    agent = -1;
    lost = describe_exit(status);
  }
}

// The agent died or cannot be used: end it for good, tell the owner (down,
// then the call it took with it), and schedule a restart.
void Seat::Impl::lose_agent() {
  std::string why = std::move(lost);
  lost.clear();
  if (ctrl >= 0) close(ctrl);
  ctrl = -1;
  if (const pid_t pid = agent; pid > 0) {
    // The socket usually closes first when the agent dies: give it a moment
    // to be reaped, so the log says how it ended.
    int status = 0;
    const auto deadline = Steady::now() + milliseconds(200);
    pid_t reaped = 0;
    while ((reaped = waitpid(pid, &status, WNOHANG)) == 0 && Steady::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    if (reaped == pid) {
      why += " (" + describe_exit(status) + ")";
    } else {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    agent = -1;
  }
  const bool was_up = state == State::up;
  state = State::down;
  is_up = false;
  // Back off from an agent that will not start (bad config, port taken);
  // restart one that ran promptly.
  backoff_ms = was_up ? cfg.restart_backoff_ms : std::min(max_backoff_ms, std::max(cfg.restart_backoff_ms, backoff_ms * 2));
  next_start = Steady::now() + milliseconds(backoff_ms);
  log("down: " + why + "; restarting in " + std::to_string(backoff_ms) + " ms");
  if (was_up) {
    SeatEvent down{};
    down.kind = SeatEvent::Kind::down;
    down.reason = why;
    emit(down);
  }
  if (call.active) {
    SeatEvent closed{};
    closed.kind = SeatEvent::Kind::closed;
    closed.reason = "seat down";
    finish_call(closed);
  }
}

void Seat::Impl::stop_agent() {
  if (ctrl >= 0) close(ctrl);
  ctrl = -1;
  const pid_t pid = agent;
  if (pid <= 0) return;
  // SIGTERM lets the agent send BYE for a call in progress.
  kill(pid, SIGTERM);
  const auto deadline = Steady::now() + stop_grace;
  while (waitpid(pid, nullptr, WNOHANG) != pid) {
    if (Steady::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  agent = -1;
  is_up = false;
}

void Seat::Impl::serve(const Command& cmd) {
  switch (cmd.kind) {
    case Command::Kind::dial: {
      SeatEvent refused{};
      refused.kind = SeatEvent::Kind::closed;
      refused.token = cmd.token;
      refused.outgoing = true;
      if (state != State::up) refused.reason = "seat down";
      else if (call.active) refused.reason = "busy";
      else if (!plausible_uri(cmd.uri)) refused.reason = "invalid uri";
      if (!refused.reason.empty()) {
        emit(refused);
        return;
      }
      call = Call{};
      call.active = true;
      call.outgoing = true;
      call.token = cmd.token;
      call.ring_deadline = Steady::now() + milliseconds(cfg.ring_timeout_ms);
      if (!cfg.record_dir.empty()) call.old_dumps = heard_dumps(rec_tmp());
      is_busy = true;
      send("dial", cmd.uri, "dial");
      return;
    }
    case Command::Kind::accept:
      if (call.active && !call.outgoing && !call.established) send("accept", "", "accept");
      return;
    case Command::Kind::hangup:
      if (call.active) send("hangup", "", "hangup");
      return;
  }
}

void Seat::Impl::on_payload(const std::string& payload) {
  if (auto e = parse_seat_event(payload, cfg.name)) {
    on_event_from_agent(std::move(*e));
    return;
  }
  const json j = json::parse(payload, nullptr, false);
  if (j.is_object() && j.contains("response")) on_response(j);
}

void Seat::Impl::on_response(const json& j) {
  const auto ok_field = j.find("ok");
  const bool ok = ok_field != j.end() && ok_field->is_boolean() && ok_field->get<bool>();
  const std::string token = text(j, "token");
  const std::string data = text(j, "data");
  if (token == "probe" && state == State::starting) {
    if (!ok || data.find("User Agents (0)") != std::string::npos) {
      lost = "the agent has no user agent (see baresip.log)";
      return;
    }
    state = State::up;
    is_up = true;
    backoff_ms = 0;
    log("up, agent pid " + std::to_string(agent.load()));
    SeatEvent up{};
    up.kind = SeatEvent::Kind::up;
    emit(up);
  } else if (token == "dial" && !ok && call.active && call.outgoing && call.id.empty()) {
    // The agent refused to start the call at all ("Invalid argument").
    SeatEvent closed{};
    closed.kind = SeatEvent::Kind::closed;
    closed.reason = data.empty() ? "dial refused" : data;
    finish_call(closed);
  }
}

void Seat::Impl::on_event_from_agent(SeatEvent e) {
  using Kind = SeatEvent::Kind;
  if (e.kind == Kind::incoming) {
    if (call.active) return;  // call_max_calls 1 turned it away already
    call = Call{};
    call.active = true;
    call.id = e.call_id;
    if (!cfg.record_dir.empty()) call.old_dumps = heard_dumps(rec_tmp());
    is_busy = true;
    emit(e);
    return;
  }
  // An outgoing call learns its id from the agent's first event about it.
  const bool ours = call.active && (e.call_id == call.id || (call.id.empty() && call.outgoing && e.outgoing));
  if (!ours) return;
  call.id = e.call_id;
  e.token = call.token;
  switch (e.kind) {
    case Kind::ringing: emit(e); break;
    case Kind::established:
      call.established = true;
      emit(e);
      break;
    case Kind::closed:
      if (call.gave_up) e.reason = "no answer";
      finish_call(e);
      break;
    default: break;
  }
}

// baresip 1.0.0 lets an outgoing call ring for ever; the seat gives up on it.
void Seat::Impl::check_ring_timeout() {
  if (!call.active || !call.outgoing || call.established) return;
  const auto now = Steady::now();
  if (!call.gave_up && now >= call.ring_deadline) {
    call.gave_up = true;
    call.give_up_deadline = now + close_grace;
    send("hangup", "", "hangup");
  } else if (call.gave_up && now >= call.give_up_deadline) {
    // The agent never confirmed the hangup: close the call on our side anyway.
    SeatEvent closed{};
    closed.kind = SeatEvent::Kind::closed;
    closed.reason = "no answer";
    finish_call(closed);
  }
}

// Ends the seat's call and reports it; fills what the event lacks from the call.
void Seat::Impl::finish_call(SeatEvent e) {
  e.kind = SeatEvent::Kind::closed;
  if (e.call_id.empty()) e.call_id = call.id;
  e.token = call.token;
  e.outgoing = call.outgoing;
  if (call.established && !cfg.record_dir.empty()) collect_recordings(e);
  call = Call{};
  is_busy = false;
  emit(e);
}

// sndfile names its pair "dump-<date-time>-dec.wav"/"-enc.wav" with no call id;
// a seat has one call at a time, so the newest new pair is this call's.
void Seat::Impl::collect_recordings(SeatEvent& e) {
  const std::set<std::string> now = heard_dumps(rec_tmp());
  std::string newest;
  for (const auto& n : now) {
    if (!call.old_dumps.count(n)) newest = n;  // sorted: date-time names sort by time
  }
  if (newest.empty()) {
    log("no recording found for call " + call.id);
    return;
  }
  const fs::path heard = rec_tmp() / newest;
  const fs::path sent = rec_tmp() / (newest.substr(0, newest.size() - 8) + "-enc.wav");
  const auto deadline = Steady::now() + milliseconds(1000);
  while (agent > 0 && holds_open(agent, {heard, sent}) && Steady::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  const std::string stem = cfg.name + "-" + file_safe(call.id.empty() ? e.call_id : call.id);
  const fs::path heard_to = fs::path(cfg.record_dir) / (stem + "-heard.wav");
  const fs::path sent_to = fs::path(cfg.record_dir) / (stem + "-sent.wav");
  if (move_file(heard, heard_to)) e.heard_wav = heard_to.string();
  if (move_file(sent, sent_to)) e.sent_wav = sent_to.string();
}

bool Seat::Impl::send(const std::string& command, const std::string& params, const std::string& token) {
  if (ctrl < 0) return false;
  json j = {{"command", command}, {"token", token}};
  if (!params.empty()) j["params"] = params;
  const std::string frame = netstring(j.dump());
  size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n = ::send(ctrl, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      lost = "control connection failed on write";
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

void Seat::Impl::emit(SeatEvent e) {
  if (stopping) return;  // the owner is destroying us: nothing after ~Seat returns
  e.seat = cfg.name;
  try {
    on_event(e);
  } catch (...) {
    log("an event handler threw; ignored");
  }
}

}  // namespace anxin
