// Durability and robustness at the edges (issue 11): bad rows in the file must not
// take the server down, over real WebSockets against the real server.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <thread>

#include "full_disk.hpp"
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

TEST_CASE("a slow read of the file does not hold up another device's alarm", "[ws][edges][reader]") {
  test::TempDir dir;
  test::FullDisk disk(dir.path().string());  // first: it must outlive every connection to the file
  const std::string db = dir.file("slow.db");
  test::seed_small_registry(db);
  test::Centre c(false, {}, nullptr, db);
  auto console = c.client("console", "tok-console");
  auto device = c.client("device", "tok-d1");
  // A write first, so the reader's cached pages are stale and its next read goes to the disk.
  device->send(test::alarm_frame("D1", 1, "sos", "a1"));
  REQUIRE(test::next_of_type(*device, "ack")["req"] == "a1");

  disk.slow_reads(250);  // each read of the file, on any thread but the writer's
  console->send(json{{"type", "elder"}, {"elder_id", 1}, {"req", "x1"}}.dump());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the history is being read
  device->send(test::alarm_frame("D1", 2, "sos", "a2"));
  CHECK(test::next_of_type(*device, "ack", std::chrono::seconds(30))["req"] == "a2");
  // The ack came while the history is still being read (a second or more, at this
  // speed). Before, the service thread read it itself, the alarm waited behind it, and
  // the history was sent first.
  CHECK_FALSE(console->next(std::chrono::milliseconds(200)));
  const json detail = test::next_of_type(*console, "elder", std::chrono::seconds(30));
  disk.slow_reads(0);
  CHECK(detail["req"] == "x1");
  CHECK(detail["incidents"].is_array());
}

TEST_CASE("rows that refer to nothing or cannot be read are left out and the server starts", "[ws][edges][badrows]") {
  test::Centre c;
  {
    auto device = c.client("device", "tok-acme");
    device->send(test::alarm_frame("D1", 1, "sos"));
    REQUIRE(test::next_of_type(*device, "ack")["incident_id"] == 1);
    device->send(test::alarm_frame("D3", 1, "sos"));
    REQUIRE(test::next_of_type(*device, "ack")["incident_id"] == 2);
  }
  c.server().stop();
  {
    // What no code of ours writes, done by hand with foreign keys off (as the sqlite3
    // shell has them): flags that are not ours, an offer to a worker that is gone,
    // and an elder deleted under an open incident and two devices.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(c.db().c_str(), &db) == SQLITE_OK);
    const char* sql =
        "PRAGMA foreign_keys=OFF;"
        "UPDATE incidents SET escalations='[{\"kind\":\"bogus\",\"at_ms\":\"soon\"}]' WHERE id=1;"
        "INSERT INTO assignments(id, incident_id, worker_id, state, offered_ms, expires_ms)"
        " VALUES (99, 1, 999, 'offered', 1, 2);"
        "DELETE FROM emergency_contacts WHERE elder_id=2; DELETE FROM elders WHERE id=2;";
    char* err = nullptr;
    CHECK(sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK);
    if (err) FAIL(err);
    sqlite3_close(db);
  }
  c.restart();  // before: the flags' JSON threw out of Store::load and no start succeeded
  auto console = c.client("console", "tok-console");
  console->send(R"({"type":"subscribe"})");
  const json snap = test::next_of_type(*console, "snapshot");
  REQUIRE(snap["incidents"].size() == 1);
  CHECK(snap["incidents"][0]["id"] == 1);
  CHECK(snap["incidents"][0].value("escalations", json::array()).empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // ticks: the offer to worker 999 is not there to lapse
  auto device = c.client("device", "tok-acme");
  device->send(test::alarm_frame("D1", 2, "fall"));
  CHECK(test::next_of_type(*device, "error")["code"] == "E_KIND_NOT_SUPPORTED");  // D1 is a button
  device->send(test::alarm_frame("D1", 2, "sos"));
  CHECK(test::next_of_type(*device, "ack")["incident_id"] == 1);
  device->send(test::alarm_frame("D3", 2, "sos"));
  CHECK(test::next_of_type(*device, "error")["code"] == "E_UNKNOWN_DEVICE");  // its elder is gone
}
