// A server run as its own program, as an operator starts it, for tests that hold
// its file from another program or read its threads from /proc.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "process.hpp"
#include "support.hpp"

namespace anxin::test {

// Once the server has written its port to `port_file`: a device of the small
// registry (seed_small_registry) that has said hello and had one alarm acked, so the
// server is serving and its writer has committed once.
inline std::unique_ptr<gateway::SyncClient> serving_device(const std::string& port_file) {
  REQUIRE(eventually([&] { return !read_file(port_file).empty(); }, std::chrono::seconds(10)));
  auto device = std::make_unique<gateway::SyncClient>(std::stoi(read_file(port_file)));
  REQUIRE(device->wait_open());
  device->send(json{{"type", "hello"}, {"role", "device"}, {"token", "tok-acme"}}.dump());
  REQUIRE(next_json(*device)["type"] == "welcome");
  device->send(alarm_frame("D1", 1, "sos", "a1"));
  REQUIRE(next_json(*device)["type"] == "ack");
  return device;
}

}  // namespace anxin::test
