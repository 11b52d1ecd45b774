// Durability and robustness at the edges (issue 11): bad rows in the file must not
// take the server down, over real WebSockets against the real server.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <thread>

#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

TEST_CASE("a field token whose worker is unreadable is refused and the server serves on", "[ws][edges]") {
  test::Centre c;
  c.server().stop();
  {
    // A row no code of ours writes: a token for "worker:李娜" (a name, not an id).
    Store store(c.db());
    store.put_token("tok-bad-worker", {Role::field, "worker:李娜"});
    store.put_token("tok-bad-worker2", {Role::field, "worker:99999999999999999999"});
  }
  c.restart();
  for (const char* token : {"tok-bad-worker", "tok-bad-worker2", "tok-bad-worker"}) {
    gateway::SyncClient phone(c.port());
    REQUIRE(phone.wait_open());
    phone.send(json{{"type", "hello"}, {"role", "field"}, {"token", token}}.dump());
    CHECK(test::next_json(phone)["code"] == "E_AUTH_FAILED");
  }
  // Before: std::stoll threw through libwebsockets' C and the process died; the phone
  // reconnecting made it a crash loop.
  auto device = c.client("device", "tok-d1");
  device->send(test::alarm_frame("D1", 1, "sos"));
  CHECK(test::next_of_type(*device, "ack")["type"] == "ack");
  auto worker = c.client("field", "tok-w1");
  CHECK(worker != nullptr);
}

TEST_CASE("a connection whose session expires is told and closed", "[ws][edges]") {
  gateway::ServerOptions o;
  o.session_ttl_ms = 1500;
  test::Centre c(true, o);
  test::add_small_accounts(c.db());
  c.restart();
  gateway::SyncClient phone(c.port());
  REQUIRE(phone.wait_open());
  phone.send(json{{"type", "login"}, {"role", "field"}, {"username", "w1"}, {"password", "correct horse"}}.dump());
  REQUIRE(test::next_json(phone)["type"] == "welcome");
  phone.send(json{{"type", "ping"}}.dump());
  CHECK(test::next_json(phone)["type"] == "pong");
  // Before: the socket kept working for as long as it stayed open.
  json r = test::next_json(phone, std::chrono::seconds(5));
  CHECK(r["code"] == "E_AUTH_FAILED");
  CHECK(r["message"] == "session expired; log in again");
  CHECK(test::eventually([&] { return phone.closed(); }, std::chrono::seconds(3)));
  // A device token never expires: its connection stays.
  auto device = c.client("device", "tok-d1");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  device->send(test::alarm_frame("D1", 1, "sos"));
  CHECK(test::next_of_type(*device, "ack")["type"] == "ack");
}

TEST_CASE("a second server on the same file is refused, naming the first", "[ws][edges]") {
  test::Centre c;
  gateway::ServerOptions o;
  o.db_path = c.db();
  o.port = 0;
  SystemClock clock;
  try {
    gateway::Server second(o, clock);
    FAIL("a second server opened the same file");
  } catch (const std::runtime_error& e) {
    const std::string why = e.what();
    CHECK(why.find("another anxin-server is using " + c.db()) != std::string::npos);
    CHECK(why.find("(pid " + std::to_string(getpid()) + ")") != std::string::npos);
  }
  // The first goes on, and once it stops the file is free again.
  auto device = c.client("device", "tok-d1");
  device->send(test::alarm_frame("D1", 1, "sos"));
  CHECK(test::next_of_type(*device, "ack")["type"] == "ack");
  c.restart();
  CHECK(c.client("device", "tok-d1") != nullptr);
}
