// The client library (WsClient) under threads: send() from many threads while
// another stops the client, and the order of frames across reconnects (hello first).
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

// Polls every millisecond: these tests wait for hundreds of short-lived things.
bool soon(const std::function<bool()>& ready, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::string hello(const std::string& token) {
  return json{{"type", "hello"}, {"v", 1}, {"role", "console"}, {"token", token}}.dump();
}

}  // namespace

TEST_CASE("send() from many threads while another stops the client touches nothing freed", "[client]") {
  test::Centre centre;
  std::mt19937 rng(11);
  int refused_after_stop = 0;
  for (int round = 0; round < 200; ++round) {
    std::atomic<bool> open{false};
    gateway::ClientOptions o;
    o.port = centre.port();
    o.reconnect = false;
    gateway::ClientHandlers h;
    h.on_open = [&] { open = true; };
    auto client = std::make_unique<gateway::WsClient>(o, std::move(h));
    client->start();
    REQUIRE(soon([&] { return open.load(); }));

    std::atomic<bool> done{false}, stopped{false};
    std::atomic<int> taken_after_stop{0}, refused{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t)
      senders.emplace_back([&] {
        while (!done) {
          const bool was_stopped = stopped;
          const bool taken = client->send(R"({"type":"ping"})");
          if (was_stopped && taken) ++taken_after_stop;
          if (was_stopped && !taken) ++refused;
        }
      });
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
    // Two threads stop at once (the destructor stops too, later).
    std::thread other([&] { client->stop(); });
    client->stop();
    stopped = true;
    other.join();
    std::this_thread::sleep_for(std::chrono::microseconds(500));  // keep sending at the stopped client
    done = true;
    for (auto& s : senders) s.join();
    CHECK(taken_after_stop == 0);
    CHECK_FALSE(client->connected());
    refused_after_stop += refused;
    client.reset();
  }
  CHECK(refused_after_stop > 0);  // the senders did run past each stop
}

TEST_CASE("after every reconnect the server sees hello first, and what was sent meanwhile after it", "[client]") {
  test::Centre centre;
  gateway::ClientOptions o;
  o.port = centre.port();
  o.reconnect = true;
  o.backoff_min_ms = 10;
  o.backoff_max_ms = 50;

  std::mutex mu;
  int opens = 0, welcomes = 0, closes = 0, handled = 0;
  std::vector<std::string> before_hello;  // E_NOT_AUTHENTICATED replies: a command went first
  std::unique_ptr<gateway::WsClient> client;
  gateway::ClientHandlers h;
  h.on_open = [&] {
    {
      std::lock_guard lock(mu);
      ++opens;
    }
    // A handler that takes its time before its hello, as the console's logs a line
    // first: the other threads' frames must still not go before it.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    client->send(hello("tok-console"));
  };
  h.on_message = [&](std::string text) {
    json j = json::parse(text, nullptr, false);
    std::lock_guard lock(mu);
    if (j.is_discarded()) return;
    if (j["type"] == "welcome") ++welcomes;
    if (j.value("code", "") == "E_NOT_AUTHENTICATED") before_hello.push_back(text);
    else if (j.value("req", "").rfind("c", 0) == 0) ++handled;  // answered as an authenticated console
  };
  h.on_close = [&](const std::string&) {
    std::lock_guard lock(mu);
    ++closes;
  };
  client = std::make_unique<gateway::WsClient>(o, std::move(h));
  auto count = [&](const int& n) {
    std::lock_guard lock(mu);
    return n;
  };

  client->start();
  REQUIRE(soon([&] { return count(welcomes) == 1; }));

  // Three threads send commands all along: while connected, while the server is
  // down, and while each new connection opens.
  std::atomic<bool> done{false};
  std::atomic<int> taken{0}, refused{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 3; ++t)
    senders.emplace_back([&, t] {
      for (int n = 0; !done; ++n) {
        const std::string req = "c" + std::to_string(t) + "-" + std::to_string(n);
        if (client->send(json{{"type", "ack_incident"}, {"incident_id", 999999}, {"req", req}}.dump()))
          ++taken;
        else
          ++refused;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });

  constexpr int kRestarts = 6;
  for (int r = 1; r <= kRestarts; ++r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    centre.restart();  // drops the connection; the client reconnects to the new server
    INFO("restart " << r);
    REQUIRE(soon([&] { return count(welcomes) == r + 1; }));
  }
  const int handled_before = count(handled);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  done = true;
  for (auto& s : senders) s.join();
  client->stop();

  std::lock_guard lock(mu);
  INFO((before_hello.empty() ? std::string("-") : before_hello.front()));
  CHECK(before_hello.empty());
  CHECK(opens == kRestarts + 1);
  CHECK(welcomes == kRestarts + 1);
  CHECK(closes >= kRestarts);
  CHECK(handled_before > 0);
  CHECK(handled > handled_before);  // served on the last connection too
  CHECK(taken > 0);
  CHECK(refused > 0);  // sent while there was no connection: refused, not kept for the next
}
