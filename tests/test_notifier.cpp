// The webhook notifier against a real local HTTP server (HttpSink): what arrives,
// in what order, and what happens when the gateway fails, is missing or is slow.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "anxin/gateway/webhook_notifier.hpp"
#include "http_sink.hpp"

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
  return n;
}

// Fast retries so failing cases finish quickly.
WebhookNotifier::Options options(std::string url) {
  WebhookNotifier::Options o;
  o.url = std::move(url);
  o.timeout_ms = 2000;
  o.backoff_ms = 1;
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
  CHECK(j.size() == 8);
  CHECK(j["kind"] == "family_call");
  CHECK(j["task_id"] == 42);
  CHECK(j["incident_id"] == 7);
  CHECK(j["elder_id"] == 1);
  CHECK(j["to_name"] == "张小红");
  CHECK(j["to_phone"] == "13900000001");
  CHECK(j["text"] == "您的家人张桂英按下了紧急呼叫，护理员已出发。");
  CHECK(j["at_ms"] == 1700000000123);

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
  auto o = options(sink.url());
  o.timeout_ms = 200;  // also the destructor's bounded wait
  o.backoff_ms = 60000;  // the worker sits in backoff after the first attempt
  o.max_queue = 2;
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
