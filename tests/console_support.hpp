// What the tests of the real console under Xvfb share: starting it with a script,
// reading its dumps, asking the server and reading the file behind it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "process.hpp"
#include "support.hpp"

namespace anxin::test {

std::string artifact(const std::string& name);  // a file in BUILD/artifacts, kept for review
// anxin-console --mute under xvfb-run at `screen` (WxH), with its own config folder
// in `dir` and its log in dir/console.log.
std::unique_ptr<Process> start_console(const TempDir& dir, const std::vector<std::string>& args,
                                       const std::string& screen = "1440x900");
std::string write_script(const TempDir& dir, const std::string& text);  // dir/script.txt
json read_json(const std::string& path);
long long now_ms();
// Sends `frame` with a fresh req and returns the reply to it, past other frames.
json ask(gateway::SyncClient& c, json frame);

}  // namespace anxin::test
