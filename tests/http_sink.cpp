#include "http_sink.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace anxin::test {

namespace {

// Waits until fd is readable; false if the sink is stopping or the peer stalls,
// so a broken client can never hold up the destructor.
bool readable(int fd, int stop_fd) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  return poll(fds, 2, 5000) > 0 && fds[1].revents == 0 && fds[0].revents != 0;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

HttpSink::HttpSink(int status) : status_(status) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(listen_fd_, 64) != 0 || getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      pipe2(stop_pipe_, O_CLOEXEC) != 0)
    throw std::runtime_error("HttpSink: cannot listen on 127.0.0.1");
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

HttpSink::~HttpSink() {
  hold(false);
  (void)!write(stop_pipe_[1], "x", 1);
  thread_.join();
  close(listen_fd_);
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

std::string HttpSink::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void HttpSink::hold(bool held) {
  {
    std::lock_guard lock(mu_);
    held_ = held;
  }
  arrived_.notify_all();
}

void HttpSink::set_status(int status) {
  std::lock_guard lock(mu_);
  status_ = status;
}

void HttpSink::script(std::vector<int> statuses) {
  std::lock_guard lock(mu_);
  script_.assign(statuses.begin(), statuses.end());
}

std::vector<HttpSink::Request> HttpSink::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

bool HttpSink::wait_for(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

void HttpSink::run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 || fds[1].revents != 0) return;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    serve(fd);
    close(fd);
  }
}

void HttpSink::serve(int fd) {
  std::string in;
  char buf[4096];
  // Appends what arrives next; false if the peer closed, stalled or we are stopping.
  auto read_more = [&] {
    if (!readable(fd, stop_pipe_[0])) return false;
    const ssize_t got = read(fd, buf, sizeof buf);
    if (got > 0) in.append(buf, static_cast<size_t>(got));
    return got > 0;
  };
  size_t header_end;
  while ((header_end = in.find("\r\n\r\n")) == std::string::npos)
    if (!read_more()) return;

  // "METHOD /path HTTP/1.1", then "Name: value" lines.
  Request req;
  size_t line_end = in.find("\r\n");
  const std::string first = in.substr(0, line_end);
  const size_t sp1 = first.find(' '), sp2 = first.find(' ', sp1 + 1);
  req.method = first.substr(0, sp1);
  req.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
  for (size_t at = line_end + 2; at < header_end; at = line_end + 2) {
    line_end = in.find("\r\n", at);
    const std::string line = in.substr(at, line_end - at);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) req.headers[lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
  }
  const auto length = req.headers.find("content-length");
  const size_t body_size = length == req.headers.end() ? 0 : std::stoul(length->second);
  while (in.size() < header_end + 4 + body_size)
    if (!read_more()) return;
  req.body = in.substr(header_end + 4, body_size);

  int status;
  {
    std::unique_lock lock(mu_);
    status = status_;
    if (!script_.empty()) {
      status = script_.front();
      script_.pop_front();
    }
    requests_.push_back(std::move(req));
    arrived_.notify_all();
    arrived_.wait(lock, [&] { return !held_; });
  }
  const std::string reply = "HTTP/1.1 " + std::to_string(status) + " Sink\r\nContent-Length: 2\r\n" +
                            "Connection: close\r\n\r\nok";
  // MSG_NOSIGNAL: a client that hung up must not kill the test run with SIGPIPE.
  (void)!::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
}

}  // namespace anxin::test
