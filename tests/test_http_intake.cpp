// The signed HTTP intake for vendor platforms (docs/protocol.md, "HTTP intake"): a
// real libcurl client against the real server on a real SQLite file. Requests are
// signed here with OpenSSL directly, not with the server's own function.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "../ws-gateway/src/intake_signature.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

const std::string kAcmeSecret = "acme-intake-secret-0123456789";
const std::string kOtherSecret = "other-vendor-secret-9876543210";

std::string hmac_hex(const std::string& secret, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

// One number from the file, as a reader sees it.
long long scalar(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  long long v = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Signed {
  std::string vendor = "acme";
  std::string secret = kAcmeSecret;
  long long timestamp = now_ms();
  std::string body;
  std::vector<std::string> headers() const {
    const std::string ts = std::to_string(timestamp);
    return {"X-Anxin-Vendor: " + vendor, "X-Anxin-Timestamp: " + ts,
            "X-Anxin-Signature: sha256=" + hmac_hex(secret, ts + "." + body)};
  }
};

struct Reply {
  long status = 0;
  std::string text;
  json body;
};

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One libcurl handle, so its requests share a kept-alive connection.
class HttpClient {
 public:
  explicit HttpClient(int port) : base_("http://127.0.0.1:" + std::to_string(port)), curl_(curl_easy_init()) {}
  ~HttpClient() { curl_easy_cleanup(curl_); }

  Reply send(const std::string& path, const std::string& body, std::vector<std::string> headers,
             const std::string& method = "POST", const std::string& content_type = "application/json") {
    curl_easy_reset(curl_);
    Reply r;
    curl_slist* list = nullptr;
    headers.push_back("Content-Type: " + content_type);
    headers.push_back("Expect:");
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    const std::string url = base_ + path;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    if (method == "POST") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else {
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.text);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 5000L);
    const CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(list);
    INFO(curl_easy_strerror(rc));
    REQUIRE(rc == CURLE_OK);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
    r.body = json::parse(r.text, nullptr, false);
    return r;
  }

  Reply post(const std::string& path, const Signed& s) { return send(path, s.body, s.headers()); }
  Reply alarm(const Signed& s) { return post("/intake/v1/alarm", s); }

 private:
  std::string base_;
  CURL* curl_;
};

std::string alarm_body(const std::string& device, long long seq, const std::string& kind = "sos") {
  return json{{"device", device}, {"seq", seq}, {"kind", kind}, {"device_time_ms", now_ms()}}.dump();
}

gateway::ServerOptions intake_options() {
  gateway::ServerOptions o;
  o.intake_secrets = {{"acme", kAcmeSecret}, {"other", kOtherSecret}};
  o.intake_window_s = 300;
  return o;
}

}  // namespace

TEST_CASE("a signed alarm over HTTP is answered after its commit and reaches the consoles", "[intake]") {
  test::Centre centre(true, intake_options());
  auto console = centre.client("console", "tok-console");
  console->send(R"({"type":"subscribe"})");
  REQUIRE(test::next_of_type(*console, "snapshot")["incidents"].empty());

  HttpClient http(centre.port());
  Signed first;
  first.body = alarm_body("D1", 1);
  Reply r = http.alarm(first);
  INFO(r.text);
  REQUIRE(r.status == 200);
  CHECK(r.body["type"] == "ack");
  CHECK(r.body["device"] == "D1");
  CHECK(r.body["seq"] == 1);
  CHECK(r.body["duplicate"] == false);
  const long long alert_id = r.body["alert_id"];
  CHECK(alert_id > 0);
  // The 200 means committed: the row is in the file already.
  CHECK(test::count_rows(centre.db(), "alerts") == 1);

  json d = test::next_of_type(*console, "delta");
  CHECK(d["event"] == "incident_opened");
  CHECK(d["incident"]["id"] == r.body["incident_id"]);
  REQUIRE(d["append"].size() == 1);
  CHECK(d["append"][0]["alert_id"] == alert_id);
  CHECK(d["elder"]["name"] == "张桂英");

  // The platform retries the same alarm, newly signed: acknowledged again, stored once.
  Signed retry = first;
  retry.timestamp += 1500;
  Reply again = http.alarm(retry);
  INFO(again.text);
  REQUIRE(again.status == 200);
  CHECK(again.body["duplicate"] == true);
  CHECK(again.body["alert_id"] == alert_id);
  CHECK(test::count_rows(centre.db(), "alerts") == 1);

  // The very same request sent again (a captured one, replayed) is refused.
  Reply replayed = http.alarm(first);
  CHECK(replayed.status == 409);
  CHECK(replayed.body["code"] == "E_REPLAYED");
  CHECK(test::count_rows(centre.db(), "alerts") == 1);

  // A `req` in the body is echoed, as over the WebSocket.
  Signed second;
  second.body = json{{"device", "D2"}, {"seq", 1}, {"kind", "smoke"}, {"device_time_ms", now_ms()}, {"req", "p-77"}}.dump();
  Reply smoke = http.alarm(second);
  INFO(smoke.text);
  REQUIRE(smoke.status == 200);
  CHECK(smoke.body["req"] == "p-77");
  CHECK(test::count_rows(centre.db(), "alerts") == 2);
}

TEST_CASE("the HTTP intake refuses bad and old signatures and bad requests and stores nothing", "[intake]") {
  test::Centre centre(true, intake_options());
  HttpClient http(centre.port());
  const std::string body = alarm_body("D1", 1);
  auto expect = [&](const Reply& r, long status, const std::string& code) {
    INFO(r.text);
    CHECK(r.status == status);
    CHECK(r.body["type"] == "error");
    CHECK(r.body["code"] == code);
    CHECK_FALSE(r.body.value("message", std::string()).empty());
  };

  SECTION("a signature with the wrong secret") {
    Signed s;
    s.body = body;
    s.secret = kOtherSecret;
    expect(http.alarm(s), 401, "E_BAD_SIGNATURE");
  }
  SECTION("a body changed after signing") {
    Signed s;
    s.body = body;
    auto headers = s.headers();
    expect(http.send("/intake/v1/alarm", alarm_body("D1", 2), headers), 401, "E_BAD_SIGNATURE");
  }
  SECTION("no signature, no timestamp, no vendor") {
    Signed s;
    s.body = body;
    auto h = s.headers();
    expect(http.send("/intake/v1/alarm", body, {h[0], h[1]}), 401, "E_BAD_SIGNATURE");
    expect(http.send("/intake/v1/alarm", body, {h[0], h[2]}), 401, "E_BAD_SIGNATURE");
    expect(http.send("/intake/v1/alarm", body, {h[1], h[2]}), 401, "E_BAD_SIGNATURE");
  }
  SECTION("a vendor the server does not know") {
    Signed s;
    s.body = body;
    s.vendor = "nobody";
    expect(http.alarm(s), 401, "E_BAD_SIGNATURE");
  }
  SECTION("a timestamp ten minutes old, or ten minutes ahead") {
    for (long long off : {-600'000LL, 600'000LL}) {
      Signed s;
      s.body = body;
      s.timestamp += off;
      Reply r = http.alarm(s);
      expect(r, 401, "E_STALE");
      REQUIRE(r.body.contains("server_time_ms"));
      CHECK(std::llabs(r.body["server_time_ms"].get<long long>() - now_ms()) < 60'000);
    }
  }
  SECTION("a device of another vendor") {
    Signed s;
    s.body = body;  // D1 belongs to acme
    s.vendor = "other";
    s.secret = kOtherSecret;
    expect(http.alarm(s), 403, "E_DEVICE_NOT_OWNED");
  }
  SECTION("a device nobody has") {
    Signed s;
    s.body = alarm_body("D999", 1);
    expect(http.alarm(s), 404, "E_UNKNOWN_DEVICE");
  }
  SECTION("a body that is not JSON, not an object, or misses a field") {
    for (auto [text, code] : std::vector<std::pair<std::string, std::string>>{
             {R"({"device": "D1", )", "E_BAD_JSON"},
             {R"([1,2])", "E_BAD_JSON"},
             {R"({"device":"D1","kind":"sos","device_time_ms":1})", "E_MISSING_FIELD"},
             {R"({"device":"D1","seq":"one","kind":"sos","device_time_ms":1})", "E_BAD_FIELD"},
             {R"({"type":"heartbeat","device":"D1"})", "E_BAD_FIELD"},
             {R"({"device":"D1","seq":1,"kind":"smoke","device_time_ms":1})", "E_KIND_NOT_SUPPORTED"}}) {
      Signed s;
      s.body = text;
      expect(http.alarm(s), 400, code);
    }
  }
  SECTION("a body over 65,536 bytes") {
    Signed s;
    s.body = json{{"device", "D1"}, {"seq", 1}, {"kind", "sos"}, {"device_time_ms", 1},
                  {"detail", {{"x", std::string(70'000, 'x')}}}}.dump();
    expect(http.alarm(s), 413, "E_TOO_LARGE");
  }
  SECTION("a GET, another path, or another content type") {
    Signed s;
    s.body = body;
    expect(http.send("/intake/v1/alarm", "", s.headers(), "GET"), 405, "E_BAD_FIELD");
    expect(http.post("/intake/v1/panic", s), 404, "E_UNKNOWN_TYPE");
    expect(http.send("/intake/v1/alarm", body, s.headers(), "POST", "text/plain"), 415, "E_BAD_FIELD");
  }
  CHECK(test::count_rows(centre.db(), "alerts") == 0);
  // And the server still serves, on the same kept-alive connection.
  Signed good;
  good.body = alarm_body("D1", 1);
  Reply ok = http.alarm(good);
  INFO(ok.text);
  CHECK(ok.status == 200);
  CHECK(test::count_rows(centre.db(), "alerts") == 1);
}

TEST_CASE("a vendor's heartbeat over HTTP is taken like the WebSocket's", "[intake]") {
  test::Centre centre(true, intake_options());
  HttpClient http(centre.port());
  Signed s;
  s.body = R"({"device":"D3","boot":"b1","battery_pct":90,"signal_dbm":-80})";
  Reply r = http.post("/intake/v1/heartbeat", s);
  INFO(r.text);
  REQUIRE(r.status == 200);
  CHECK(r.body == json{{"type", "ok"}});
  // The tick writes the devices heard from.
  const std::string last_seen = "SELECT last_seen_ms FROM devices WHERE id='D3'";
  for (int i = 0; i < 60 && scalar(centre.db(), last_seen) < s.timestamp - 5'000; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(scalar(centre.db(), last_seen) >= s.timestamp - 5'000);
  CHECK(scalar(centre.db(), "SELECT battery_pct FROM devices WHERE id='D3'") == 90);

  Signed other;
  other.vendor = "other";
  other.secret = kOtherSecret;
  other.body = R"({"device":"D3"})";
  Reply refused = http.post("/intake/v1/heartbeat", other);
  CHECK(refused.status == 403);
  CHECK(refused.body["code"] == "E_DEVICE_NOT_OWNED");
}

TEST_CASE("without vendors the HTTP intake is off", "[intake]") {
  test::Centre centre;
  HttpClient http(centre.port());
  Signed s;
  s.body = alarm_body("D1", 1);
  Reply r = http.alarm(s);
  CHECK(r.status == 404);
  CHECK(r.body["code"] == "E_UNKNOWN_TYPE");
  CHECK(test::count_rows(centre.db(), "alerts") == 0);
}

TEST_CASE("a client that leaves before its answer does not upset the server", "[intake]") {
  test::Centre centre(true, intake_options());
  for (long long seq = 1; seq <= 20; ++seq) {
    Signed s;
    s.body = alarm_body("D3", seq);
    std::string request = "POST /intake/v1/alarm HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    for (const auto& h : s.headers()) request += h + "\r\n";
    request += "Content-Length: " + std::to_string(s.body.size()) + "\r\n\r\n" + s.body;
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(centre.port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    // Half the body on odd tries: the server sees the request but never all of it.
    const size_t n = seq % 2 ? request.size() - s.body.size() / 2 : request.size();
    REQUIRE(write(fd, request.data(), n) == static_cast<ssize_t>(n));
    close(fd);
  }
  // The whole requests were taken (or are being taken); the server answers the next.
  HttpClient http(centre.port());
  Signed s;
  s.body = alarm_body("D4", 1, "fall");
  Reply r = http.alarm(s);
  INFO(r.text);
  CHECK(r.status == 200);
  CHECK(scalar(centre.db(), "SELECT COUNT(*) FROM alerts WHERE device_id='D4'") == 1);
  // A request whose body never all came was never taken.
  CHECK(scalar(centre.db(), "SELECT COUNT(*) FROM alerts WHERE device_id='D3' AND device_seq % 2 = 1") == 0);
}

TEST_CASE("the intake signature check takes good signatures and refuses the rest", "[intake]") {
  const std::map<std::string, std::string> secrets{{"hx-iot", "hx-iot-example-secret-0001"}};
  const std::string body = R"({"device":"D000001","seq":900,"kind":"sos","device_time_ms":1795727040000})";
  const std::string ts = "1795728674301";
  const Millis now = 1795728674301;
  // The worked example in docs/protocol.md ("HTTP intake"), computed with `openssl dgst -hmac`.
  const std::string sig = "sha256=156c13ccefe69c893164753d8150e9b51bff4d9c249f3b2d063b73189408f0a6";
  CHECK(gateway::intake_signature(secrets.at("hx-iot"), ts, body) == sig);
  auto check = [&](std::string vendor, std::string stamp, std::string signature, std::string b, Millis at) {
    return gateway::check_signature({vendor, stamp, signature, b}, secrets, at, 300);
  };
  auto good = check("hx-iot", ts, sig, body, now);
  REQUIRE(good.ok());
  CHECK(good.value() == now);
  std::string upper = sig;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  CHECK(check("hx-iot", ts, upper, body, now).ok());
  CHECK(check("hx-iot", ts, sig, body, now + 300'000).ok());   // the window's edge
  CHECK(check("hx-iot", ts, sig, body, now - 300'000).ok());
  auto code = [&](const Result<Millis>& r) { return r.ok() ? std::string("ok") : std::string(code_name(r.error().code)); };
  CHECK(code(check("hx-iot", ts, sig, body, now + 300'001)) == "E_STALE");
  CHECK(code(check("hx-iot", ts, sig, body, now - 300'001)) == "E_STALE");
  CHECK(code(check("hx-iot", ts, sig, body + " ", now)) == "E_BAD_SIGNATURE");
  CHECK(code(check("hx-iot", "1795728674302", sig, body, now)) == "E_BAD_SIGNATURE");
  CHECK(code(check("HX-IOT", ts, sig, body, now)) == "E_BAD_SIGNATURE");
  CHECK(code(check("", ts, sig, body, now)) == "E_BAD_SIGNATURE");
  CHECK(code(check("hx-iot", "", sig, body, now)) == "E_BAD_SIGNATURE");
  CHECK(code(check("hx-iot", "+1795728674301", sig, body, now)) == "E_BAD_SIGNATURE");
  CHECK(code(check("hx-iot", "17957286743010000", sig, body, now)) == "E_BAD_SIGNATURE");
  CHECK(code(check("hx-iot", ts, sig.substr(7), body, now)) == "E_BAD_SIGNATURE");
  CHECK(code(check("hx-iot", ts, sig + "0", body, now)) == "E_BAD_SIGNATURE");
  CHECK(code(check("hx-iot", ts, "sha256=" + std::string(64, 'g'), body, now)) == "E_BAD_SIGNATURE");
  CHECK(code(check("hx-iot", ts, "", body, now)) == "E_BAD_SIGNATURE");
}

TEST_CASE("seen signatures refuse a replay until they expire and are bounded per vendor", "[intake]") {
  gateway::SeenSignatures seen(2);
  const std::string a = "sha256=" + std::string(64, 'a');
  const std::string b = "sha256=" + std::string(64, 'b');
  const std::string c = "sha256=" + std::string(64, 'c');
  CHECK_FALSE(seen.take("v", a, 1000, 0));
  auto again = seen.take("v", "sha256=" + std::string(64, 'A'), 1000, 10);  // the same, in capitals
  REQUIRE(again);
  CHECK(again->code == ErrorCode::replayed);
  CHECK_FALSE(seen.take("w", a, 1000, 10));  // another vendor's is its own
  CHECK_FALSE(seen.take("v", b, 2000, 20));
  auto full = seen.take("v", c, 2000, 30);
  REQUIRE(full);
  CHECK(full->code == ErrorCode::rate_limited);
  CHECK(seen.size() == 3);
  // Past its time, `a` is forgotten: room for `c`, and `a` is no longer held.
  CHECK_FALSE(seen.take("v", c, 3000, 1001));
  CHECK(seen.size() == 2);  // v: b and c; w's `a` went at the same time
  auto limited = seen.take("v", a, 3000, 1002);  // v is at its limit again
  REQUIRE(limited);
  CHECK(limited->code == ErrorCode::rate_limited);
}

TEST_CASE("anxin-sim play --via http raises the demo's alarms through the signed intake", "[intake][sim]") {
  test::TempDir dir;
  const std::string db = dir.file("demo.db"), acks = dir.file("acks.txt");
  {
    test::Process gen({ANXIN_SIM_BIN, "generate", "--db", db, "--elders", "100", "--workers", "5", "--seed", "7"},
                      dir.file("generate.log"));
    REQUIRE(gen.wait(std::chrono::seconds(60)) == 0);
  }
  // generate made a secret per vendor, in the tokens file and in the server's config.
  const json tokens = json::parse(test::read_file(db + ".tokens.json"));
  const json conf = json::parse(test::read_file(db + ".conf.json"));
  REQUIRE(tokens["intake"].size() >= 1);
  for (const auto& [vendor, secret] : tokens["intake"].items())
    CHECK(conf["intake"]["vendors"][vendor]["secret"] == secret);

  int port = 0;
  {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    port = ntohs(a.sin_port);
  }
  const std::string port_s = std::to_string(port);
  test::Process server({ANXIN_SERVER_BIN, "--db", db, "--port", port_s, "--interface", "127.0.0.1", "--config",
                        db + ".conf.json"},
                       dir.file("server.log"));
  REQUIRE(test::eventually([&] { return test::read_file(dir.file("server.log")).find("listening") != std::string::npos; },
                           std::chrono::seconds(10)));
  test::Process sim({ANXIN_SIM_BIN, "play", "--db", db, "--port", port_s, "--rate", "50", "--count", "20", "--seed",
                     "3", "--heartbeat-s", "0", "--via", "http", "--ack-log", acks},
                    dir.file("sim.log"));
  REQUIRE(sim.wait(std::chrono::seconds(30)) == 0);
  INFO(test::read_file(dir.file("sim.log")) << test::read_file(dir.file("server.log")));
  // Every alarm acknowledged over HTTP is in the file, under the alert it was acked with
  // (a repeat folded into an open alert is acked with that alert's id).
  std::istringstream in(test::read_file(acks));
  std::string device;
  long long seq = 0, alert = 0, incident = 0;
  int acked = 0;
  while (in >> device >> seq >> alert >> incident) {
    ++acked;
    CHECK(scalar(db, "SELECT COUNT(*) FROM alerts WHERE device_id='" + device + "' AND id=" + std::to_string(alert) +
                         " AND incident_id=" + std::to_string(incident)) == 1);
  }
  CHECK(acked == 20);
  CHECK(test::read_file(dir.file("sim.log")).find("raised 20 alarms, 20 acknowledged") != std::string::npos);
  CHECK(test::read_file(dir.file("server.log")).find("E_BAD_SIGNATURE") == std::string::npos);
  server.signal(SIGTERM);
  CHECK(server.wait(std::chrono::seconds(10)) == 0);
}
