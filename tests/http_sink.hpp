// A tiny real HTTP/1.1 server for tests: 127.0.0.1 on a port the OS picks, one
// thread (owned here) serving one connection at a time. It records each request
// before it replies, so once a client has its answer the request is visible.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace anxin::test {

class HttpSink {
 public:
  struct Request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
  };

  explicit HttpSink(int status = 200);
  ~HttpSink();
  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const;
  void set_status(int status);
  // The next replies use these statuses in order, then the set_status() one.
  void script(std::vector<int> statuses);
  // While held, each request is recorded and its reply waits until hold(false): a
  // webhook that answers when the test says.
  void hold(bool held);
  std::vector<Request> requests() const;
  bool wait_for(size_t n, std::chrono::milliseconds timeout);

 private:
  void run();
  void serve(int fd);

  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable arrived_;
  int status_;
  std::deque<int> script_;
  bool held_ = false;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace anxin::test
