// A child process for tests that need real separate programs (kill -9, Xvfb).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace anxin::test {

class Process {
 public:
  // Starts argv[0] with the rest as arguments; stdout and stderr go to `log_path`.
  Process(const std::vector<std::string>& argv, const std::string& log_path);
  ~Process();  // kills the child if it is still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void signal(int sig);
  // The exit status (or 128 + signal), or nullopt if still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

std::string read_file(const std::string& path);
// Polls `ready` every 20 ms until it is true or the timeout passes.
bool eventually(const std::function<bool()>& ready, std::chrono::milliseconds timeout);

}  // namespace anxin::test
