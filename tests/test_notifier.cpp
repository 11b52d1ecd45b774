// The webhook notifier against a real local HTTP server (HttpSink): what arrives,
// in what order, and what happens when the gateway fails, is missing or is slow.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

#include "anxin/gateway/webhook_notifier.hpp"
#include "http_sink.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using gateway::WebhookNotifier;
using std::chrono::milliseconds;

namespace {

Notice sms(std::int64_t task_id) {
  Notice n;
  n.kind = NoticeKind::contact_sms;
  n.task_id = task_id;
  n.incident = 7;
  n.elder = 1;
  n.to_name = "张小红";
  n.to_phone = "13900000001";
  n.text = "您的家人张桂英按下了紧急呼叫，护理员已出发。";
  n.at_ms = 1700000000123;
  n.id = "sms-7-" + std::to_string(task_id);
  return n;
}

// What a receiver computes to check X-Anxin-Signature, written here with libcrypto
// directly rather than through the notifier's own helper.
std::string expected_signature(const std::string& secret, const std::string& timestamp, const std::string& body) {
  const std::string message = timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  std::string hex = "sha256=";
  char byte[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", mac[i]);
    hex += byte;
  }
  return hex;
}

long long now_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// What on_failed was told.
struct Failures {
  std::mutex mu;
  std::vector<std::tuple<std::string, std::string, int>> seen;  // notice id, reason, attempts
  void attach(WebhookNotifier::Options& o) {
    o.on_failed = [this](const Notice& n, const std::string& reason, int attempts) {
      std::lock_guard lock(mu);
      seen.emplace_back(n.id, reason, attempts);
    };
  }
  std::vector<std::tuple<std::string, std::string, int>> get() {
    std::lock_guard lock(mu);
    return seen;
  }
};

// Fast retries so failing cases finish quickly.
WebhookNotifier::Options options(std::string url) {
  WebhookNotifier::Options o;
  o.url = std::move(url);
  o.timeout_ms = 2000;
  o.backoff_ms = 1;
  return o;
}

// For a gateway that fails (HttpSink(500)): the worker sits in backoff after its first
// attempt, so what is sent next waits in a queue of `max_queue`. The short timeout is
// also the destructor's bounded wait.
WebhookNotifier::Options stuck_options(std::string url, size_t max_queue) {
  auto o = options(std::move(url));
  o.timeout_ms = 200;
  o.backoff_ms = 60000;
  o.max_queue = max_queue;
  return o;
}

// A port nobody listens on: bound by us, then released.
int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), len);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("phones are masked in the log", "[notify]") {
  CHECK(gateway::masked_phone("13900000001") == "139****0001");
  CHECK(gateway::masked_phone("+8613900000001") == "+86*******0001");
  CHECK(gateway::masked_phone("120") == "***");
}

TEST_CASE("a notice arrives at the webhook as JSON", "[notify]") {
  test::HttpSink sink;
  WebhookNotifier notifier(options(sink.url("/sms")));
  Notice n = sms(42);
  n.kind = NoticeKind::family_call;
  notifier.send(n);
  REQUIRE(notifier.flush(milliseconds(10000)));

  const auto requests = sink.requests();
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.path == "/sms");
  CHECK(r.headers.at("content-type") == "application/json; charset=utf-8");
  const auto j = nlohmann::json::parse(r.body);
  CHECK(j.size() == 9);
  CHECK(j["kind"] == "family_call");
  CHECK(j["task_id"] == 42);
  CHECK(j["incident_id"] == 7);
  CHECK(j["elder_id"] == 1);
  CHECK(j["to_name"] == "张小红");
  CHECK(j["to_phone"] == "13900000001");
  CHECK(j["text"] == "您的家人张桂英按下了紧急呼叫，护理员已出发。");
  CHECK(j["at_ms"] == 1700000000123);
  CHECK(j["notice_id"] == "sms-7-42");

  const auto s = notifier.stats();
  CHECK(s.queued == 1);
  CHECK(s.delivered == 1);
  CHECK(s.failed == 0);
  CHECK(s.dropped == 0);
}

TEST_CASE("notices arrive in the order they were sent", "[notify]") {
  test::HttpSink sink;
  WebhookNotifier notifier(options(sink.url()));
  for (int i = 1; i <= 20; ++i) notifier.send(sms(i));
  REQUIRE(notifier.flush(milliseconds(10000)));
  const auto requests = sink.requests();
  REQUIRE(requests.size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(nlohmann::json::parse(requests[i].body)["task_id"] == i + 1);
  CHECK(notifier.stats().delivered == 20);
}

TEST_CASE("notices sent together arrive in their order after those sent before", "[notify]") {
  test::HttpSink sink;
  WebhookNotifier notifier(options(sink.url()));
  notifier.send(sms(1));
  std::vector<Notice> batch;
  for (int i = 2; i <= 20; ++i) batch.push_back(sms(i));
  notifier.send_all(batch);
  notifier.send_all({});
  REQUIRE(notifier.flush(milliseconds(10000)));
  const auto requests = sink.requests();
  REQUIRE(requests.size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(nlohmann::json::parse(requests[i].body)["task_id"] == i + 1);
  CHECK(notifier.stats().queued == 20);
}

TEST_CASE("a gateway that keeps failing is tried `attempts` times, then counted failed", "[notify]") {
  test::HttpSink sink(500);
  WebhookNotifier notifier(options(sink.url()));
  notifier.send(sms(1));
  REQUIRE(notifier.flush(milliseconds(10000)));
  CHECK(sink.requests().size() == 3);
  const auto s = notifier.stats();
  CHECK(s.delivered == 0);
  CHECK(s.failed == 1);
}

TEST_CASE("a gateway that recovers within the attempts gets the notice", "[notify]") {
  test::HttpSink sink;
  sink.script({503, 503});
  WebhookNotifier notifier(options(sink.url()));
  notifier.send(sms(1));
  REQUIRE(notifier.flush(milliseconds(10000)));
  const auto requests = sink.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].body == requests[2].body);  // the same notice, retried
  const auto s = notifier.stats();
  CHECK(s.delivered == 1);
  CHECK(s.failed == 0);
}

TEST_CASE("an unreachable gateway fails notices without blocking send()", "[notify]") {
  WebhookNotifier notifier(options("http://127.0.0.1:" + std::to_string(closed_port()) + "/hook"));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i <= 100; ++i) notifier.send(sms(i));
  // Sanity bound only: 100 sends are queue pushes, far below one 2 s request timeout.
  CHECK(std::chrono::steady_clock::now() - start < milliseconds(2000));
  REQUIRE(notifier.flush(milliseconds(30000)));
  const auto s = notifier.stats();
  CHECK(s.queued == 100);
  CHECK(s.delivered == 0);
  CHECK(s.failed == 100);
}

TEST_CASE("without a webhook, notices are only logged", "[notify]") {
  WebhookNotifier notifier(options(""));
  for (int i = 1; i <= 3; ++i) notifier.send(sms(i));
  REQUIRE(notifier.flush(milliseconds(10000)));
  const auto s = notifier.stats();
  CHECK(s.queued == 3);
  CHECK(s.delivered == 0);
  CHECK(s.failed == 0);
  CHECK(s.dropped == 0);
}

TEST_CASE("a full queue drops the new notice and counts it", "[notify]") {
  test::HttpSink sink(500);
  auto o = stuck_options(sink.url(), 2);
  const auto start = std::chrono::steady_clock::now();
  {
    WebhookNotifier notifier(o);
    notifier.send(sms(1));
    REQUIRE(sink.wait_for(1, milliseconds(10000)));  // the worker has taken notice 1
    for (int i = 2; i <= 5; ++i) notifier.send(sms(i));
    const auto s = notifier.stats();
    CHECK(s.queued == 3);
    CHECK(s.dropped == 2);
    CHECK_FALSE(notifier.flush(milliseconds(50)));
  }
  // The destructor waits its bounded time, then interrupts the 60 s backoff.
  CHECK(std::chrono::steady_clock::now() - start < milliseconds(10000));
  CHECK(sink.requests().size() == 1);
}

TEST_CASE("a signed notice verifies with the secret and carries a fresh timestamp and its id", "[notify]") {
  test::HttpSink sink;
  sink.script({503});  // the retry is signed afresh
  auto o = options(sink.url());
  o.secret = "4f1c9a0e-anxin-test-secret";
  WebhookNotifier notifier(o);
  const long long before = now_ms();
  notifier.send(sms(42));
  REQUIRE(notifier.flush(milliseconds(10000)));
  const long long after = now_ms();

  const auto requests = sink.requests();
  REQUIRE(requests.size() == 2);
  for (const auto& r : requests) {
    INFO(r.body);
    REQUIRE(r.headers.count("x-anxin-signature") == 1);
    REQUIRE(r.headers.count("x-anxin-timestamp") == 1);
    const std::string stamp = r.headers.at("x-anxin-timestamp");
    CHECK(r.headers.at("x-anxin-signature") == expected_signature(o.secret, stamp, r.body));
    CHECK(r.headers.at("x-anxin-signature") != expected_signature("another secret", stamp, r.body));
    // Unix milliseconds of the attempt itself, so a receiver can refuse old ones.
    const long long at = std::stoll(stamp);
    CHECK(at >= before);
    CHECK(at <= after);
    CHECK(r.headers.at("x-anxin-notice-id") == "sms-7-42");
    CHECK(nlohmann::json::parse(r.body)["notice_id"] == "sms-7-42");
  }
  CHECK(std::stoll(requests[1].headers.at("x-anxin-timestamp")) >=
        std::stoll(requests[0].headers.at("x-anxin-timestamp")));
  CHECK(notifier.stats().delivered == 1);
  // The helper the server signs with agrees with libcrypto, and with the shell check in
  // docs/protocol.md (printf '%s.' "$TS" | cat - body.json | openssl dgst -sha256 -hmac ...).
  CHECK(gateway::webhook_signature(o.secret, "1700000000123", "{}") ==
        expected_signature(o.secret, "1700000000123", "{}"));
  CHECK(gateway::webhook_signature("c0ffee", "1795728674301", R"({"kind":"contact_sms","notice_id":"sms-1-0"})") ==
        "sha256=cccda127c6ca3140a6ce418895916fa81d023ce3d157bbd22cb32302c947b512");
}

TEST_CASE("without a secret a notice goes unsigned but keeps its timestamp and id", "[notify]") {
  test::HttpSink sink;
  WebhookNotifier notifier(options(sink.url()));
  notifier.send(sms(1));
  REQUIRE(notifier.flush(milliseconds(10000)));
  const auto requests = sink.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].headers.count("x-anxin-signature") == 0);
  CHECK(requests[0].headers.count("x-anxin-timestamp") == 1);
  CHECK(requests[0].headers.at("x-anxin-notice-id") == "sms-7-1");
}

TEST_CASE("a notice given up on is handed to on_failed once with the last error", "[notify]") {
  test::HttpSink sink(500);
  auto o = options(sink.url());
  Failures failures;
  failures.attach(o);
  WebhookNotifier notifier(o);
  notifier.send(sms(1));
  REQUIRE(notifier.flush(milliseconds(10000)));
  CHECK(sink.requests().size() == 3);
  const auto seen = failures.get();
  REQUIRE(seen.size() == 1);
  CHECK(std::get<0>(seen[0]) == "sms-7-1");
  CHECK(std::get<1>(seen[0]) == "HTTP 500");
  CHECK(std::get<2>(seen[0]) == 3);
}

TEST_CASE("a delivered notice is not reported as failed", "[notify]") {
  test::HttpSink sink;
  sink.script({503});
  auto o = options(sink.url());
  Failures failures;
  failures.attach(o);
  WebhookNotifier notifier(o);
  notifier.send(sms(1));
  REQUIRE(notifier.flush(milliseconds(10000)));
  CHECK(notifier.stats().delivered == 1);
  CHECK(failures.get().empty());
}

TEST_CASE("a notice dropped by a full queue is handed to on_failed", "[notify]") {
  test::HttpSink sink(500);
  auto o = stuck_options(sink.url(), 1);
  Failures failures;
  failures.attach(o);
  {
    WebhookNotifier notifier(o);
    notifier.send(sms(1));
    REQUIRE(sink.wait_for(1, milliseconds(10000)));  // the worker has taken notice 1
    notifier.send(sms(2));  // queued
    notifier.send(sms(3));  // dropped, reported at once on this thread
    const auto seen = failures.get();
    REQUIRE(seen.size() == 1);
    CHECK(std::get<0>(seen[0]) == "sms-7-3");
    CHECK(std::get<1>(seen[0]) == "queue full");
    CHECK(std::get<2>(seen[0]) == 0);
  }
  // Shutdown cut notice 1 short and left notice 2 unsent: logged, not reported.
  CHECK(failures.get().size() == 1);
}

TEST_CASE("notices sent together past a full queue drop the newest and hand each to on_failed", "[notify]") {
  test::HttpSink sink(500);
  auto o = stuck_options(sink.url(), 2);
  Failures failures;
  failures.attach(o);
  {
    WebhookNotifier notifier(o);
    notifier.send(sms(1));
    REQUIRE(sink.wait_for(1, milliseconds(10000)));  // the worker has taken notice 1
    notifier.send_all({sms(2), sms(3), sms(4), sms(5)});  // 2 and 3 queued, 4 and 5 dropped
    const auto s = notifier.stats();
    CHECK(s.queued == 3);
    CHECK(s.dropped == 2);
    const auto seen = failures.get();
    REQUIRE(seen.size() == 2);
    CHECK(std::get<0>(seen[0]) == "sms-7-4");
    CHECK(std::get<0>(seen[1]) == "sms-7-5");
    CHECK(std::get<1>(seen[1]) == "queue full");
  }
  CHECK(failures.get().size() == 2);
}

TEST_CASE("the webhook secret is read from a file and an empty or missing file is refused", "[notify]") {
  test::TempDir dir;
  const std::string path = dir.file("secret");
  std::ofstream(path) << "c0ffee-secret\n";
  CHECK(gateway::read_webhook_secret(path) == "c0ffee-secret");
  std::ofstream(path, std::ios::trunc) << " \n";
  CHECK_THROWS_WITH(gateway::read_webhook_secret(path), Catch::Contains("is empty"));
  CHECK_THROWS_WITH(gateway::read_webhook_secret(dir.file("nope")), Catch::Contains("cannot read"));
  CHECK_THROWS_WITH(gateway::read_webhook_secret(dir.path().string()), Catch::Contains("cannot read"));
}

TEST_CASE("anxin-server refuses an empty or unreadable webhook secret file", "[notify]") {
  test::TempDir dir;
  const std::string empty = dir.file("empty-secret");
  std::ofstream(empty) << "\n";
  for (const std::string& file : {empty, dir.file("missing-secret")}) {
    const std::string log = dir.file("server.log");
    test::Process server({ANXIN_SERVER_BIN, "--db", dir.file("a.db"), "--port", "0", "--field-port", "-1",
                          "--webhook", "http://127.0.0.1:9/hook", "--webhook-secret-file", file},
                         log);
    CHECK(server.wait(std::chrono::seconds(10)) == 2);
    CHECK_THAT(test::read_file(log), Catch::Contains("webhook secret file " + file));
  }
}
