// Floods harm no one (issue 13, item 5): a field login sending positions as fast as
// it can, consoles that read everything and one that reads nothing, and connections
// over their frame limit, against the real server over real sockets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>

#include "anxin/gateway/config_file.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

// A WebSocket client by hand on a plain socket: it writes many frames in one go, as
// fast as the socket takes them, and reads the server's frames on a thread of its
// own once asked to (start_reading); until then it reads nothing, like a console
// that has stopped reading.
class RawClient {
 public:
  explicit RawClient(int port, int rcvbuf = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const std::string req = "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                            "Sec-WebSocket-Protocol: anxin-v1\r\n\r\n";
    write_all(req);
    std::string response;
    char c;
    while (response.find("\r\n\r\n") == std::string::npos && ::recv(fd_, &c, 1, 0) == 1) response += c;
    INFO(response);
    REQUIRE(response.rfind("HTTP/1.1 101", 0) == 0);
  }
  ~RawClient() {
    ::shutdown(fd_, SHUT_RDWR);
    if (reader_.joinable()) reader_.join();
    close(fd_);
  }

  // Text frames, each masked with a zero key as a client must mask, in one write.
  void send(const std::vector<std::string>& texts) {
    std::string all;
    for (const auto& text : texts) {
      all += '\x81';
      if (text.size() < 126) {
        all += static_cast<char>(0x80 | text.size());
      } else {
        all += static_cast<char>(0x80 | 126);
        all += static_cast<char>(text.size() >> 8);
        all += static_cast<char>(text.size() & 0xff);
      }
      all += std::string(4, '\0') + text;
    }
    write_all(all);
  }
  void send(const json& j) { send(std::vector<std::string>{j.dump()}); }

  void start_reading() {
    reader_ = std::thread([this] { read_loop(); });
  }
  // How many frames read so far satisfy `pred`.
  size_t count(const std::function<bool(const json&)>& pred) const {
    std::lock_guard lock(mu_);
    return std::count_if(frames_.begin(), frames_.end(), pred);
  }
  std::vector<json> frames() const {
    std::lock_guard lock(mu_);
    return frames_;
  }
  // For a client that never started reading: reads what is left and says whether the
  // server closed the connection within `timeout`.
  bool closed_within(std::chrono::seconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count()), 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char chunk[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  void write_all(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      REQUIRE(n > 0);
      done += static_cast<size_t>(n);
    }
  }
  // The server's frames are unmasked; a text frame may come in continuation frames.
  void read_loop() {
    std::string buf, message;
    char chunk[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buf.append(chunk, static_cast<size_t>(n));
      size_t at = 0;
      for (;;) {
        if (buf.size() - at < 2) break;
        const auto b0 = static_cast<unsigned char>(buf[at]), b1 = static_cast<unsigned char>(buf[at + 1]);
        size_t len = b1 & 0x7f, head = 2;
        if (len == 126) {
          if (buf.size() - at < 4) break;
          len = (static_cast<unsigned char>(buf[at + 2]) << 8) | static_cast<unsigned char>(buf[at + 3]);
          head = 4;
        } else if (len == 127) {
          if (buf.size() - at < 10) break;
          len = 0;
          for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(buf[at + 2 + i]);
          head = 10;
        }
        if (buf.size() - at < head + len) break;
        const int opcode = b0 & 0x0f;
        if (opcode == 0x1 || opcode == 0x0) message.append(buf, at + head, len);
        at += head + len;
        if ((opcode == 0x1 || opcode == 0x0) && (b0 & 0x80)) {
          json j = json::parse(message, nullptr, false);
          message.clear();
          std::lock_guard lock(mu_);
          frames_.push_back(std::move(j));
        }
      }
      buf.erase(0, at);
    }
  }

  int fd_ = -1;
  std::thread reader_;
  mutable std::mutex mu_;
  std::vector<json> frames_;
};

auto of_type(const std::string& type) {
  return [type](const json& j) { return j.value("type", "") == type; };
}

// A subscribed console and every frame it has read since its snapshot.
struct Console {
  std::unique_ptr<gateway::SyncClient> client;
  std::uint64_t snapshot_seq = 0;
  std::vector<json> frames;

  Console(test::Centre& centre) : client(centre.client("console", "tok-console")) {
    client->send(json{{"type", "subscribe"}}.dump());
    json snap = test::next_json(*client);
    REQUIRE(snap["type"] == "snapshot");
    snapshot_seq = snap["seq"];
  }
  // Reads until a frame satisfies `pred`; false on timeout.
  bool read_until(const std::function<bool(const json&)>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      auto f = client->next(left);
      if (!f) return false;
      frames.push_back(json::parse(*f));
      if (pred(frames.back())) return true;
    }
  }
  std::vector<json> deltas() const {
    std::vector<json> out;
    for (const auto& f : frames)
      if (f["type"] == "delta") out.push_back(f);
    return out;
  }
  // Every delta from the snapshot's seq + 1 to the last read, none missing.
  bool gapless() const {
    std::uint64_t next = snapshot_seq + 1;
    for (const auto& d : deltas())
      if (d["seq"].get<std::uint64_t>() != next++) return false;
    return true;
  }
  bool answers_ping() {
    client->send(json{{"type", "ping"}, {"req", "alive"}}.dump());
    return read_until([](const json& j) { return j["type"] == "pong" && j["req"] == "alive"; },
                      std::chrono::seconds(10));
  }
};

json position(int i, Millis base_ms) {
  return {{"type", "position"}, {"lat", 34.80 + i * 1e-6}, {"lon", 115.54}, {"accuracy_m", 8},
          {"at_ms", base_ms + i}, {"req", "p" + std::to_string(i)}};
}

Millis wall_now() { return SystemClock().now_ms(); }

}  // namespace

TEST_CASE("a burst of 30000 positions drops no reading console and loses no incident delta", "[floods]") {
  gateway::ServerOptions o;
  // Tighter than the defaults, so that a console made to hold a backlog would be
  // dropped within the test: a reader that keeps up never holds 256 KiB for a second.
  o.max_unread_bytes_soft = 256 * 1024;
  o.slow_client_grace_s = 1;
  o.max_unread_bytes_hard = 8 << 20;
  // No frame limit: every one of the 30,000 is applied, the worst case.
  o.frame_limit = {0, 0};
  test::Centre centre(true, o);

  std::vector<std::unique_ptr<Console>> consoles;
  for (int i = 0; i < 10; ++i) consoles.push_back(std::make_unique<Console>(centre));
  auto operator_desk = centre.client("console", "tok-console");
  auto device = centre.client("device", "tok-acme");

  RawClient field(centre.port());
  field.start_reading();
  field.send(json{{"type", "hello"}, {"role", "field"}, {"token", "tok-w1"}});
  field.send(json{{"type", "duty"}, {"on", true}, {"req", "duty"}});
  REQUIRE(test::eventually([&] { return field.count([](const json& j) { return j.value("req", "") == "duty"; }) == 1; },
                           std::chrono::seconds(10)));

  constexpr int kPositions = 30'000;
  const Millis base_ms = wall_now() - 60'000;
  std::vector<std::string> burst;
  for (int i = 0; i < kPositions; ++i) burst.push_back(position(i, base_ms).dump());
  std::thread flood([&] { field.send(burst); });

  // Meanwhile alarms come in and an operator acknowledges one.
  device->send(test::alarm_frame("D1", 1, "sos", "a1"));
  device->send(test::alarm_frame("D3", 1, "sos", "a2"));
  device->send(test::alarm_frame("D2", 1, "smoke", "a3"));
  device->send(test::alarm_frame("D4", 1, "fall", "a4"));
  std::map<std::string, long long> incident_of;
  for (int i = 0; i < 4; ++i) {
    json ack = test::next_of_type(*device, "ack", std::chrono::seconds(20));
    incident_of[ack["req"]] = ack["incident_id"];
  }
  const long long first = incident_of["a1"], second = incident_of["a2"];
  CHECK(first != second);
  CHECK(incident_of["a3"] == first);
  CHECK(incident_of["a4"] == second);
  operator_desk->send(json{{"type", "ack_incident"}, {"incident_id", first}, {"req", "k"}}.dump());
  CHECK(test::next_of_type(*operator_desk, "ok", std::chrono::seconds(20))["req"] == "k");

  flood.join();
  // Every position was answered at once, in order.
  const bool all_answered = test::eventually(
      [&] { return field.count(of_type("ok")) == kPositions + 1; }, std::chrono::seconds(60));
  INFO("field answers: " << field.count(of_type("ok")) << " errors " << field.count(of_type("error")));
  REQUIRE(all_answered);
  CHECK(field.count(of_type("error")) == 0);

  // The latest position reaches every console, at the next tick.
  const Millis last_ms = base_ms + kPositions - 1;
  auto is_last_position = [&](const json& j) {
    return j["type"] == "delta" && j["event"] == "worker_updated" && j["worker"]["id"] == 1 &&
           j["worker"]["position_ms"] == last_ms;
  };
  for (auto& c : consoles) REQUIRE(c->read_until(is_last_position));
  // Everything up to now, as a console subscribing now sees it.
  Console late(centre);
  for (auto& c : consoles) {
    auto up_to_date = [&](const json& j) { return j["type"] == "delta" && j["seq"] >= late.snapshot_seq; };
    if (std::none_of(c->frames.begin(), c->frames.end(), up_to_date)) REQUIRE(c->read_until(up_to_date));
  }

  // All ten stayed connected, none was ever dropped, and each still answers.
  CHECK(centre.server().stats().slow_clients_dropped == 0);
  CHECK(centre.server().stats().consoles == 12);  // the ten, the operator's desk and the late one
  std::vector<std::tuple<std::uint64_t, std::string, long long>> incident_deltas_of_first;
  for (size_t k = 0; k < consoles.size(); ++k) {
    Console& c = *consoles[k];
    INFO("console " << k);
    CHECK(c.answers_ping());
    CHECK(c.gapless());
    std::vector<std::tuple<std::uint64_t, std::string, long long>> incident_deltas;
    int worker_updates = 0;
    json last_worker;
    for (const auto& d : c.deltas()) {
      if (d["event"] == "worker_updated") {
        ++worker_updates;
        if (d["worker"]["id"] == 1) last_worker = d["worker"];
      } else {
        incident_deltas.emplace_back(d["seq"], d["event"], d["incident"]["id"]);
      }
    }
    // Coalesced: at most one a tick, not one per position.
    CHECK(worker_updates < 1000);
    CHECK(last_worker["position_ms"] == last_ms);
    CHECK(last_worker["lat"].get<double>() == Approx(34.80 + (kPositions - 1) * 1e-6));
    auto seen = [&](const std::string& event, long long incident) {
      return std::count_if(incident_deltas.begin(), incident_deltas.end(), [&](const auto& t) {
        return std::get<1>(t) == event && std::get<2>(t) == incident;
      });
    };
    CHECK(seen("incident_opened", first) == 1);
    CHECK(seen("incident_opened", second) == 1);
    CHECK(seen("alert_attached", first) == 1);
    CHECK(seen("alert_attached", second) == 1);
    CHECK(seen("incident_acknowledged", first) == 1);
    if (k == 0) incident_deltas_of_first = incident_deltas;
    CHECK(incident_deltas == incident_deltas_of_first);  // every console, the same
  }

  // The latest position was written with the tick's batch.
  centre.server().stop();
  Store store(centre.db());
  for (const Worker& w : store.load().workers)
    if (w.id == 1) CHECK(w.position_ms == last_ms);
}

TEST_CASE("a console that stops reading is dropped after the grace and the readers are not", "[floods]") {
  ManualClock clock(wall_now());
  gateway::ServerOptions o;
  o.max_unread_bytes_soft = 64 * 1024;
  o.slow_client_grace_s = 2;
  o.tick_ms = 50;
  test::Centre centre(true, o, &clock);

  std::vector<std::unique_ptr<Console>> readers;
  for (int i = 0; i < 3; ++i) readers.push_back(std::make_unique<Console>(centre));
  RawClient slow(centre.port(), 4096);  // a small window, so the server's writes back up quickly
  slow.send(json{{"type", "hello"}, {"role", "console"}, {"token", "tok-console"}});
  slow.send(json{{"type", "subscribe"}});
  REQUIRE(test::eventually([&] { return centre.server().stats().consoles == 4; }, std::chrono::seconds(10)));

  // About 630 KB of deltas: 300 notes of 2,000 bytes on one incident.
  auto device = centre.client("device", "tok-d1");
  device->send(test::alarm_frame("D1", 1, "sos"));
  const long long incident = test::next_of_type(*device, "ack")["incident_id"];
  auto desk = centre.client("console", "tok-console");
  constexpr int kNotes = 300;
  for (int i = 0; i < kNotes; ++i)
    desk->send(json{{"type", "note"}, {"incident_id", incident}, {"text", std::string(2000, 'x')}}.dump());
  for (int i = 0; i < kNotes; ++i) REQUIRE(test::next_json(*desk, std::chrono::seconds(20))["type"] == "ok");
  for (auto& r : readers) {
    int notes = 0;
    REQUIRE(r->read_until([&](const json& j) { return j["type"] == "delta" && j["event"] == "incident_updated" && ++notes == kNotes; }));
  }

  // The readers have all of it; the slow console has left more than the soft limit
  // unread, and keeps it while no time passes: not dropped, however many ticks.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // ten ticks
  CHECK(centre.server().stats().slow_clients_dropped == 0);
  CHECK(centre.server().stats().consoles == 5);

  // The grace passes: it is dropped, its backlog freed; the readers stay.
  clock.advance(2'000);
  CHECK(test::eventually([&] { return centre.server().stats().slow_clients_dropped == 1; }, std::chrono::seconds(10)));
  CHECK(test::eventually([&] { return centre.server().stats().consoles == 4; }, std::chrono::seconds(10)));
  CHECK(centre.server().stats().queued_bytes == 0);
  CHECK(slow.closed_within(std::chrono::seconds(10)));
  for (auto& r : readers) {
    CHECK(r->answers_ping());
    CHECK(r->gapless());
  }
  CHECK(centre.server().stats().slow_clients_dropped == 1);
}

// A console's frames go straight to its socket; what the socket does not take waits,
// part of a frame in lws's hands and the rest in the server's queue. Once the
// console reads again, it must get every frame whole and in order.
TEST_CASE("a console that stops reading and reads again gets every delta whole and in order", "[floods]") {
  gateway::ServerOptions o;
  o.max_unread_bytes_soft = 16 << 20;  // it is not to be dropped here
  o.max_unread_bytes_hard = 32 << 20;
  o.frame_limit = {0, 0};  // the desk's notes at once
  test::Centre centre(true, o);

  RawClient paused(centre.port(), 4096);  // a small window: the server's writes back up
  paused.send(json{{"type", "hello"}, {"role", "console"}, {"token", "tok-console"}});
  paused.send(json{{"type", "subscribe"}});
  REQUIRE(test::eventually([&] { return centre.server().stats().consoles == 1; }, std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // its snapshot on its way

  auto device = centre.client("device", "tok-d1");
  device->send(test::alarm_frame("D1", 1, "sos"));
  const long long incident = test::next_of_type(*device, "ack")["incident_id"];
  auto desk = centre.client("console", "tok-console");
  // 4,000 deltas of about 2,100 bytes: more than the socket takes, however far it
  // grows (Linux's tcp_wmem: 4 MiB)
  constexpr int kNotes = 4'000;
  constexpr size_t kText = 2'000;
  for (int i = 0; i < kNotes; ++i)
    desk->send(json{{"type", "note"}, {"incident_id", incident}, {"text", std::string(kText, 'a' + i % 26)}}.dump());
  for (int i = 0; i < kNotes; ++i) {
    const json answer = test::next_json(*desk, std::chrono::seconds(20));
    INFO(answer.dump());
    REQUIRE(answer["type"] == "ok");
  }
  // The socket took only part: the server holds the rest for it.
  CHECK(centre.server().stats().queued_bytes > 0);

  paused.start_reading();
  auto notes = [&](const json& j) { return j.is_object() && j.value("event", "") == "incident_updated"; };
  REQUIRE(test::eventually([&] { return paused.count(notes) == kNotes; }, std::chrono::seconds(20)));
  CHECK(test::eventually([&] { return centre.server().stats().queued_bytes == 0; }, std::chrono::seconds(10)));
  const std::vector<json> frames = paused.frames();
  auto snapshot = std::find_if(frames.begin(), frames.end(), of_type("snapshot"));
  REQUIRE(snapshot != frames.end());
  std::uint64_t next = (*snapshot)["seq"].get<std::uint64_t>() + 1;
  int note = 0;
  for (size_t i = snapshot - frames.begin() + 1; i < frames.size(); ++i) {
    INFO("frame " << i);
    REQUIRE(!frames[i].is_discarded());  // whole: each parses
    if (frames[i]["type"] != "delta") continue;  // presence, as the desk came
    CHECK(frames[i]["seq"].get<std::uint64_t>() == next++);
    if (!notes(frames[i])) continue;
    CHECK(frames[i]["append"][0]["text"] == std::string(kText, 'a' + note % 26));  // in order
    ++note;
  }
  CHECK(centre.server().stats().slow_clients_dropped == 0);
}

TEST_CASE("a connection over its frame limit gets E_RATE_LIMITED and changes nothing", "[floods]") {
  ManualClock clock(wall_now());  // no time passes unless the test says so: the bucket stays as used
  gateway::ServerOptions o;      // the defaults: 100 frames a second, 500 at once
  o.tick_ms = 50;
  test::Centre centre(true, o, &clock);
  Console console(centre);

  RawClient field(centre.port());
  field.start_reading();
  field.send(json{{"type", "hello"}, {"role", "field"}, {"token", "tok-w1"}});
  field.send(json{{"type", "duty"}, {"on", true}, {"req", "duty"}});  // the bucket is full at the welcome: 499 left
  const Millis base_ms = clock.now_ms() - 60'000;
  std::vector<std::string> burst;
  for (int i = 0; i < 1000; ++i) burst.push_back(position(i, base_ms).dump());
  burst.push_back(json{{"type", "duty"}, {"on", false}, {"req", "off"}}.dump());
  field.send(burst);
  // 499 positions applied, the 500th refused with an answer, the rest (and going off
  // duty) refused unanswered within the same 100 ms.
  REQUIRE(test::eventually([&] { return centre.server().stats().frames_rate_limited == 502; }, std::chrono::seconds(20)));
  REQUIRE(test::eventually([&] { return field.count(of_type("ok")) == 500 && field.count(of_type("error")) == 1; },
                           std::chrono::seconds(20)));
  json refused;
  for (const auto& f : field.frames())
    if (f["type"] == "error") refused = f;
  CHECK(refused["code"] == "E_RATE_LIMITED");
  CHECK(refused["req"] == "p499");
  CHECK(refused["message"].get<std::string>().find("100 a second, 500 at once") != std::string::npos);

  // Consoles see the last position applied, and the worker still on duty.
  REQUIRE(console.read_until([&](const json& j) {
    return j["type"] == "delta" && j["event"] == "worker_updated" && j["worker"]["position_ms"] == base_ms + 498;
  }));

  // 100 ms later: ten more frames, and the next one's refusal counts those unanswered.
  clock.advance(100);
  std::vector<std::string> pings;
  for (int i = 0; i < 11; ++i) pings.push_back(json{{"type", "ping"}, {"req", "q" + std::to_string(i)}}.dump());
  field.send(pings);
  REQUIRE(test::eventually([&] { return field.count(of_type("pong")) == 10 && field.count(of_type("error")) == 2; },
                           std::chrono::seconds(20)));
  refused = field.frames().back();
  CHECK(refused["code"] == "E_RATE_LIMITED");
  CHECK(refused["req"] == "q10");
  CHECK(refused["message"].get<std::string>().find("nor were the 501 frames refused unanswered") != std::string::npos);
  CHECK(centre.server().stats().frames_rate_limited == 503);

  // Nothing refused was applied: on duty, at the 499th position.
  centre.server().stop();
  Store store(centre.db());
  for (const Worker& w : store.load().workers) {
    if (w.id != 1) continue;
    CHECK(w.on_duty);
    CHECK(w.position_ms == base_ms + 498);
  }
}

TEST_CASE("a vendor platform's connection may send more frames than one device's", "[floods]") {
  ManualClock clock(wall_now());  // no time passes: each bucket holds its burst and no more
  test::Centre centre(true, {}, &clock);
  // 600 pings at once; true when the replies and refusals are as expected.
  auto flood = [&](const std::string& token, size_t pongs, size_t errors, std::uint64_t refused) {
    const auto before = centre.server().stats().frames_rate_limited;
    RawClient c(centre.port());
    c.start_reading();
    c.send(json{{"type", "hello"}, {"role", "device"}, {"token", token}});
    c.send(std::vector<std::string>(600, json{{"type", "ping"}}.dump()));
    const bool as_expected = test::eventually(
        [&] {
          return c.count(of_type("pong")) == pongs && c.count(of_type("error")) == errors &&
                 centre.server().stats().frames_rate_limited - before == refused;
        },
        std::chrono::seconds(20));
    INFO(token << ": pongs " << c.count(of_type("pong")) << " errors " << c.count(of_type("error")) << " refused "
               << centre.server().stats().frames_rate_limited - before);
    return as_expected;
  };
  // One device: 500 at once; the 501st is answered E_RATE_LIMITED, 99 more dropped.
  CHECK(flood("tok-d1", 500, 1, 100));
  // A vendor platform, speaking for many devices: all 600.
  CHECK(flood("tok-acme", 600, 0, 0));
}

TEST_CASE("the config file's frame_limits reach the server", "[floods][config]") {
  ManualClock clock(wall_now());
  auto o = gateway::apply_config(R"({"frame_limits": {"vendor": {"at_once": 300}, "connection": {"per_s": 0}}})", {});
  REQUIRE(o.ok());
  test::Centre centre(true, o.value(), &clock);
  auto flood = [&](const std::string& token, size_t pongs, size_t errors) {
    RawClient c(centre.port());
    c.start_reading();
    c.send(json{{"type", "hello"}, {"role", "device"}, {"token", token}});
    c.send(std::vector<std::string>(600, json{{"type", "ping"}}.dump()));
    const bool as_expected = test::eventually(
        [&] { return c.count(of_type("pong")) == pongs && c.count(of_type("error")) == errors; }, std::chrono::seconds(20));
    INFO(token << ": pongs " << c.count(of_type("pong")) << " errors " << c.count(of_type("error")));
    return as_expected;
  };
  // The vendor's burst is 300: 300 pongs, one refusal, the rest dropped.
  CHECK(flood("tok-acme", 300, 1));
  // One device's limit is off: all 600.
  CHECK(flood("tok-d1", 600, 0));
}

namespace {

// Of this process's epoll sets, the most file descriptors one watches (its fdinfo
// lists each), or 0 when it has none.
size_t most_watched_by_one_epoll() {
  size_t most = 0;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (std::filesystem::read_symlink(fd.path(), ec).string() != "anon_inode:[eventpoll]") continue;
    std::istringstream info(test::read_file("/proc/self/fdinfo/" + fd.path().filename().string()));
    size_t watched = 0;
    for (std::string line; std::getline(info, line);) watched += line.rfind("tfd:", 0) == 0;
    most = std::max(most, watched);
  }
  return most;
}

}  // namespace

// The service thread waits on libev's epoll, not lws's poll() over every socket
// (docs/architecture.md, "Threads"): a connection with nothing to say costs a turn
// nothing. Seen from outside without a clock: one epoll set holds every connection,
// and an alarm among a thousand quiet platforms is acknowledged and reaches the console.
TEST_CASE("a thousand quiet platforms are watched by one epoll set and an alarm among them goes through",
          "[floods][scale]") {
  rlimit files{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &files) == 0);
  files.rlim_cur = files.rlim_max;  // both ends of every connection are in this process
  setrlimit(RLIMIT_NOFILE, &files);
  REQUIRE(getrlimit(RLIMIT_NOFILE, &files) == 0);
  const size_t quiet = files.rlim_cur == RLIM_INFINITY ? 1000 : std::min<size_t>(1000, (files.rlim_cur - 400) / 2);
  REQUIRE(quiet >= 300);
  gateway::ServerOptions o;
  o.max_connections_per_address = static_cast<int>(quiet) + 10;
  test::Centre centre(true, o);
  Console console(centre);
  std::vector<std::unique_ptr<RawClient>> platforms;
  for (size_t i = 0; i < quiet; ++i) {
    platforms.push_back(std::make_unique<RawClient>(centre.port()));
    platforms.back()->send(json{{"type", "hello"}, {"role", "device"}, {"token", "tok-acme"}});
  }
  auto devices = [&] { return static_cast<size_t>(centre.server().stats().devices); };
  REQUIRE(test::eventually([&] { return devices() == quiet; }, std::chrono::seconds(30)));
  CHECK(most_watched_by_one_epoll() >= quiet);

  auto device = centre.client("device", "tok-d1");
  device->send(test::alarm_frame("D1", 1, "sos"));
  const long long incident = test::next_of_type(*device, "ack", std::chrono::seconds(20))["incident_id"];
  CHECK(console.read_until([&](const json& j) {
    return j["type"] == "delta" && j["event"] == "incident_opened" && j["incident"]["id"] == incident;
  }));
}
