// Logins, sessions, the elder's history, a worker's own tasks, and the field page
// served over HTTP — over real WebSockets against the real server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "process.hpp"
#include "support.hpp"

using namespace anxin;
using test::json;

namespace {

std::unique_ptr<gateway::SyncClient> connect(test::Centre& c) {
  auto client = std::make_unique<gateway::SyncClient>(c.port());
  REQUIRE(client->wait_open());
  return client;
}

json login(gateway::SyncClient& c, const std::string& role, const std::string& user, const std::string& password) {
  c.send(json{{"type", "login"}, {"role", role}, {"username", user}, {"password", password}, {"req", "l"}}.dump());
  return test::next_json(c);
}

std::unique_ptr<test::Centre> centre_with_accounts(gateway::ServerOptions o = {}) {
  // Seed, add accounts, then start: the Centre seeds in its constructor, so add the
  // accounts to a seeded file first and start the server on it.
  auto c = std::make_unique<test::Centre>(true, o);
  test::add_small_accounts(c->db());
  c->restart();
  return c;
}

std::string http_get(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

}  // namespace

TEST_CASE("an operator logs in with a password and resumes with the session", "[ws][login]") {
  auto c = centre_with_accounts();
  auto a = connect(*c);
  json w = login(*a, "console", "wangfang", "correct horse");
  INFO(w.dump());
  REQUIRE(w["type"] == "welcome");
  CHECK(w["req"] == "l");
  CHECK(w["subject"] == "operator:王芳");
  CHECK(w["user"]["name"] == "王芳");
  CHECK(w["user"]["kind"] == "operator");
  const std::string session = w["session"];
  CHECK(session.rfind("sess-", 0) == 0);
  CHECK(test::count_rows(c->db(), "tokens") >= 4);

  // The session works on a new connection, and the operator's name is on their actions.
  auto b = c->client("console", session);
  auto device = c->client("device", "tok-acme");
  device->send(test::alarm_frame("D1", 1, "sos"));
  const long long incident = test::next_json(*device)["incident_id"];
  b->send(json{{"type", "ack_incident"}, {"incident_id", incident}}.dump());
  CHECK(test::next_of_type(*b, "ok")["id"] == incident);
  Store store(c->db());
  auto log = store.audit_log();
  CHECK(std::any_of(log.begin(), log.end(), [](const AuditEntry& e) {
    return e.action == "acknowledge" && e.actor == "operator:王芳";
  }));
  CHECK(std::any_of(log.begin(), log.end(), [](const AuditEntry& e) { return e.action == "login"; }));

  // Logging out ends the session, and every live connection that uses it; other
  // consoles and devices stay.
  auto other = c->client("console", "tok-console");
  a->send(R"({"type":"logout","req":"o"})");
  CHECK(test::next_json(*a)["type"] == "ok");
  CHECK(test::eventually([&] { return b->closed(); }, std::chrono::seconds(3)));
  other->send(R"({"type":"ping"})");
  CHECK(test::next_json(*other)["type"] == "pong");
  CHECK_FALSE(device->closed());
  auto again = connect(*c);
  again->send(json{{"type", "hello"}, {"role", "console"}, {"token", session}}.dump());
  CHECK(test::next_json(*again)["code"] == "E_AUTH_FAILED");
}

TEST_CASE("wrong passwords, unknown users and the wrong role are refused alike", "[ws][login]") {
  auto c = centre_with_accounts();
  for (auto [role, user, password] : {std::tuple{"console", "wangfang", "wrong horse"},
                                      std::tuple{"console", "nobody", "correct horse"},
                                      std::tuple{"console", "w1", "correct horse"},
                                      std::tuple{"field", "wangfang", "correct horse"}}) {
    auto a = connect(*c);
    json r = login(*a, role, user, password);
    INFO(user << " as " << role);
    CHECK(r["code"] == "E_AUTH_FAILED");
    CHECK(r["message"] == "wrong username or password");
  }
  auto s = connect(*c);
  json sup = login(*s, "console", "zhangmin", "correct horse");
  CHECK(sup["subject"] == "supervisor:张敏");
  CHECK(sup["user"]["kind"] == "supervisor");
}

TEST_CASE("checking a password does not hold up anyone else", "[ws][login]") {
  auto c = centre_with_accounts();
  auto slow = connect(*c);
  auto other = c->client("device", "tok-acme");
  slow->send(json{{"type", "login"}, {"role", "console"}, {"username", "wangfang"}, {"password", "correct horse"}}.dump());
  other->send(test::alarm_frame("D1", 1, "sos"));
  // The alarm is acked while the password (about 0.1 s of argon2) is still being checked.
  CHECK(test::next_json(*other)["type"] == "ack");
  CHECK_FALSE(slow->next(std::chrono::milliseconds(0)).has_value());
  CHECK(test::next_json(*slow)["type"] == "welcome");
}

TEST_CASE("sessions expire", "[ws][login]") {
  gateway::ServerOptions o;
  o.session_ttl_ms = 300;
  auto c = centre_with_accounts(o);
  auto a = connect(*c);
  const std::string session = login(*a, "field", "w1", "correct horse")["session"];
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto b = connect(*c);
  b->send(json{{"type", "hello"}, {"role", "field"}, {"token", session}}.dump());
  CHECK(test::next_json(*b)["code"] == "E_AUTH_FAILED");
  // A restart clears expired sessions from the file; device tokens stay.
  const auto before = test::count_rows(c->db(), "tokens");
  c->restart();
  CHECK(test::count_rows(c->db(), "tokens") == before - 1);
}

TEST_CASE("the elder detail carries devices and history, and field workers see only their elders", "[ws][login]") {
  test::Centre c;
  {
    Store store(c.db());
    Visit v;
    v.elder = 1;
    v.worker = 1;
    v.at_ms = 1795600000000;
    v.mode = VisitMode::home;
    v.areas = {ServiceArea::health, ServiceArea::home_safety};
    v.notes = "血压正常";
    store.import_visits({v});
  }
  c.restart();
  auto console = c.client("console", "tok-console");
  console->send(R"({"type":"elder","elder_id":1,"req":"e"})");
  json d = test::next_json(*console);
  INFO(d.dump());
  REQUIRE(d["type"] == "elder");
  CHECK(d["card"]["name"] == "张桂英");
  CHECK(d["card"]["id_masked"] == "3729**********1234");
  REQUIRE(d["devices"].size() == 2);
  CHECK(d["devices"][0]["kind"] == "sos_button");
  REQUIRE(d["visits"].size() == 1);
  CHECK(d["visits"][0]["worker"] == "赵敏");
  CHECK(d["visits"][0]["areas"] == json::array({"health", "home_safety"}));

  auto w2 = c.client("field", "tok-w2");
  w2->send(R"({"type":"elder","elder_id":1})");
  CHECK(test::next_json(*w2)["code"] == "E_FORBIDDEN");

  // Offered the elder's incident, worker 2 may read the record; once they decline, not.
  auto device = c.client("device", "tok-acme");
  device->send(test::alarm_frame("D1", 1, "sos"));
  const long long incident = test::next_json(*device)["incident_id"];
  console->send(json{{"type", "dispatch"}, {"incident_id", incident}, {"worker_id", 2}}.dump());
  json offer = test::next_of_type(*w2, "task");
  const long long assignment = offer["assignment"]["id"];
  w2->send(R"({"type":"elder","elder_id":1,"req":"e2"})");
  CHECK(test::next_of_type(*w2, "elder")["card"]["name"] == "张桂英");
  w2->send(json{{"type", "decline"}, {"assignment_id", assignment}, {"reason", "busy"}}.dump());
  test::next_of_type(*w2, "ok");
  w2->send(R"({"type":"elder","elder_id":1,"req":"e3"})");
  CHECK(test::next_of_type(*w2, "error")["code"] == "E_FORBIDDEN");
}

TEST_CASE("a worker's report becomes a visit, and their tasks list it", "[ws][login]") {
  test::Centre c;
  auto console = c.client("console", "tok-console");
  auto w1 = c.client("field", "tok-w1");
  auto device = c.client("device", "tok-acme");
  device->send(test::alarm_frame("D1", 1, "sos"));
  const long long incident = test::next_json(*device)["incident_id"];
  console->send(json{{"type", "dispatch"}, {"incident_id", incident}, {"worker_id", 1}}.dump());
  CHECK(test::next_of_type(*console, "ok")["id"] == incident);
  const long long a = test::next_of_type(*w1, "task")["assignment"]["id"];

  // Now worker 1 may read the elder they are sent to.
  w1->send(R"({"type":"elder","elder_id":1})");
  CHECK(test::next_json(*w1)["type"] == "elder");

  for (const char* step : {"accept", "on_scene"}) {
    w1->send(json{{"type", step}, {"assignment_id", a}}.dump());
    CHECK(test::next_of_type(*w1, "ok")["id"] == a);
  }
  w1->send(json{{"type", "complete"},
                {"assignment_id", a},
                {"outcome", "老人跌倒，已扶起"},
                {"report", {{"areas", {"health", "home_safety", "emergency"}}, {"notes", "膝盖擦伤"},
                            {"hazards", "卫生间无扶手"}}}}
               .dump());
  CHECK(test::next_of_type(*w1, "ok")["id"] == a);
  w1->send(R"({"type":"complete","assignment_id":1,"outcome":"x","report":{"areas":["cooking"]}})");
  CHECK(test::next_of_type(*w1, "error")["code"] == "E_BAD_FIELD");

  w1->send(R"({"type":"my_tasks"})");
  json mine = test::next_of_type(*w1, "my_tasks");
  REQUIRE(mine["tasks"].size() == 1);
  CHECK(mine["tasks"][0]["assignment"]["state"] == "completed");
  CHECK(mine["tasks"][0]["elder"]["name"] == "张桂英");

  console->send(json{{"type", "resolve_incident"}, {"incident_id", incident}, {"disposition", "visitor_assisted"}}.dump());
  CHECK(test::next_of_type(*console, "ok")["id"] == incident);
  w1->send(R"({"type":"my_tasks"})");
  mine = test::next_of_type(*w1, "my_tasks");
  REQUIRE(mine["tasks"].size() == 1);  // now from the history
  CHECK(mine["tasks"][0]["incident"]["state"] == "resolved");

  console->send(R"({"type":"elder","elder_id":1})");
  json d = test::next_of_type(*console, "elder");
  REQUIRE(d["visits"].size() == 1);
  CHECK(d["visits"][0]["hazards"] == "卫生间无扶手");
  CHECK(d["visits"][0]["incident_id"] == incident);
  REQUIRE(d["incidents"].size() == 1);
  CHECK(d["incidents"][0]["disposition"] == "visitor_assisted");
}

TEST_CASE("the field page is served over HTTP on its own port", "[ws][field]") {
  test::TempDir root;
  {
    std::ofstream(root.file("index.html")) << "<!doctype html><title>安心</title>";
  }
  gateway::ServerOptions o;
  o.field_port = 0;
  o.field_root = root.path().string();
  test::Centre c(true, o);
  REQUIRE(c.server().field_port() > 0);
  std::string page = http_get(c.server().field_port(), "/field/");
  INFO(page);
  CHECK(page.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(page.find("<title>安心</title>") != std::string::npos);
  CHECK(page.find("content-security-policy") != std::string::npos);
  CHECK(http_get(c.server().field_port(), "/field/nope.js").rfind("HTTP/1.1 404", 0) == 0);
  // The page's WebSocket goes to the same origin.
  gateway::SyncClient ws(c.server().field_port());
  REQUIRE(ws.wait_open());
  ws.send(R"({"type":"hello","role":"field","token":"tok-w1"})");
  CHECK(test::next_json(ws)["type"] == "welcome");
}

TEST_CASE("the field page can be served over HTTPS", "[ws][field]") {
  test::TempDir root;
  std::ofstream(root.file("index.html")) << "<!doctype html><title>安心</title>";
  {
    test::Process openssl({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                           root.file("key.pem"), "-out", root.file("cert.pem"), "-days", "1", "-subj", "/CN=localhost"},
                          root.file("openssl.log"));
    REQUIRE(openssl.wait(std::chrono::seconds(30)) == 0);
  }
  gateway::ServerOptions o;
  o.field_port = 0;
  o.field_root = root.path().string();
  o.tls_cert = root.file("cert.pem");
  o.tls_key = root.file("key.pem");
  test::Centre c(true, o);
  CURL* curl = curl_easy_init();
  REQUIRE(curl);
  std::string body;
  const std::string url = "https://127.0.0.1:" + std::to_string(c.server().field_port()) + "/field/";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);  // a self-signed test certificate
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* p, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(p, size * n);
    return size * n;
  });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  CHECK(curl_easy_perform(curl) == CURLE_OK);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  CHECK(status == 200);
  CHECK(body.find("<title>安心</title>") != std::string::npos);
}
