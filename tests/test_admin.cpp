// Operable (issue 10, item 8): the real anxin-admin against a real SQLite file, with
// a real anxin-server running on it and real WebSocket clients; and the timers file
// (--config) of a real anxin-server.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "anxin/core/dispatcher.hpp"
#include "process.hpp"
#include "support.hpp"

extern char** environ;

using namespace anxin;
using test::json;

namespace {

struct Ran {
  int status = -1;
  std::string out, err;
};

// Runs a program to its end, `input` on its stdin, and takes its stdout and stderr apart.
Ran run(const test::TempDir& dir, std::vector<std::string> argv, const std::string& input = "") {
  static int n = 0;
  const std::string base = dir.file("run" + std::to_string(++n));
  {
    std::ofstream(base + ".in") << input;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, (base + ".in").c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, (base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, (base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  Ran r;
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) == 0) {
    int st = 0;
    waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  posix_spawn_file_actions_destroy(&fa);
  r.out = test::read_file(base + ".out");
  r.err = test::read_file(base + ".err");
  return r;
}

Ran admin(const test::TempDir& dir, const std::string& db, std::vector<std::string> args,
          const std::string& input = "") {
  args.insert(args.begin(), {ANXIN_ADMIN_BIN, "--db", db});
  return run(dir, std::move(args), input);
}

std::string write(const test::TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir.file(name)) << text;
  return dir.file(name);
}

// A real anxin-server on a free port, over `db`.
class ServerProcess {
 public:
  ServerProcess(const test::TempDir& dir, const std::string& db, std::vector<std::string> extra = {}) {
    static int n = 0;
    const std::string tag = std::to_string(++n);
    const std::string port_file = dir.file("port" + tag);
    log_ = dir.file("server" + tag + ".log");
    std::vector<std::string> argv{ANXIN_SERVER_BIN, "--db",        db, "--port", "0", "--interface", "127.0.0.1",
                                  "--field-port",   "-1",          "--port-file", port_file};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<test::Process>(argv, log_);
    INFO(test::read_file(log_));
    REQUIRE(test::eventually([&] { return !test::read_file(port_file).empty(); }, std::chrono::seconds(10)));
    port_ = std::stoi(test::read_file(port_file));
  }
  ~ServerProcess() {
    process_->signal(SIGTERM);
    process_->wait(std::chrono::seconds(10));
  }
  int port() const { return port_; }
  std::string log() const { return test::read_file(log_); }

 private:
  std::unique_ptr<test::Process> process_;
  std::string log_;
  int port_ = 0;
};

std::unique_ptr<gateway::SyncClient> connect(int port) {
  auto c = std::make_unique<gateway::SyncClient>(port);
  REQUIRE(c->wait_open());
  return c;
}

json login(gateway::SyncClient& c, const std::string& role, const std::string& user, const std::string& password) {
  c.send(json{{"type", "login"}, {"role", role}, {"username", user}, {"password", password}}.dump());
  return test::next_json(c);
}

json hello(gateway::SyncClient& c, const std::string& role, const std::string& token) {
  c.send(json{{"type", "hello"}, {"role", role}, {"token", token}}.dump());
  return test::next_json(c);
}

// A connection that has said hello with `token`, once the server knows it (a token
// issued while it runs is admitted at its next tick).
std::unique_ptr<gateway::SyncClient> admitted(int port, const std::string& role, const std::string& token) {
  std::unique_ptr<gateway::SyncClient> c;
  const bool ok = test::eventually(
      [&] {
        c = connect(port);
        return hello(*c, role, token)["type"] == "welcome";
      },
      std::chrono::seconds(3));
  REQUIRE(ok);
  return c;
}

std::vector<AuditEntry> admin_entries(const std::string& db) {
  std::vector<AuditEntry> out;
  for (auto& e : Store(db).audit_log())
    if (e.actor.rfind("admin:", 0) == 0) out.push_back(std::move(e));
  return out;
}

// Every row of the tables anxin-admin touches, as text.
std::string credential_rows(const std::string& db) {
  sqlite3* raw = nullptr;
  std::string out;
  if (sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return "cannot open";
  for (const char* sql : {"SELECT * FROM accounts ORDER BY username", "SELECT * FROM tokens ORDER BY token_hash",
                          "SELECT * FROM audit ORDER BY id"}) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(raw, sql, -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) {
      for (int k = 0; k < sqlite3_column_count(s); ++k) {
        const auto* t = sqlite3_column_text(s, k);
        out += t ? reinterpret_cast<const char*>(t) : "NULL";
        out += '|';
      }
      out += '\n';
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(raw);
  return out;
}

}  // namespace

TEST_CASE("anxin-admin adds, disables, enables and re-keys an account while the server runs", "[admin]") {
  test::TempDir dir;
  const std::string db = dir.file("centre.db");
  test::seed_small_registry(db);
  const std::string first = "first horse 1", second = "second horse 2";
  const std::string first_file = write(dir, "pw1", first + "\n");

  auto added = admin(dir, db, {"account", "add", "liuyang", "--kind", "operator", "--name", "刘洋",
                               "--password-file", first_file});
  INFO(added.err);
  REQUIRE(added.status == 0);
  ServerProcess server(dir, db);
  INFO(server.log());

  // The new account logs in; its session works on a second connection.
  auto a = connect(server.port());
  json w = login(*a, "console", "liuyang", first);
  REQUIRE(w["type"] == "welcome");
  CHECK(w["subject"] == "operator:刘洋");
  CHECK(w["user"]["name"] == "刘洋");
  const std::string session = w["session"];
  auto b = connect(server.port());
  REQUIRE(hello(*b, "console", session)["type"] == "welcome");
  auto bystander = connect(server.port());
  REQUIRE(hello(*bystander, "console", "tok-console")["type"] == "welcome");

  // Disabled: its open connections are told and closed, it cannot log in, and its
  // session is void. Others are untouched.
  auto disabled = admin(dir, db, {"account", "disable", "liuyang"});
  INFO(disabled.err);
  REQUIRE(disabled.status == 0);
  json told = test::next_json(*a);
  CHECK(told["code"] == "E_AUTH_FAILED");
  CHECK(told["message"] == "access revoked");
  CHECK(test::eventually([&] { return a->closed() && b->closed(); }, std::chrono::seconds(3)));
  auto c = connect(server.port());
  CHECK(login(*c, "console", "liuyang", first)["code"] == "E_AUTH_FAILED");
  auto d = connect(server.port());
  CHECK(hello(*d, "console", session)["code"] == "E_AUTH_FAILED");
  bystander->send(R"({"type":"ping"})");
  CHECK(test::next_json(*bystander)["type"] == "pong");

  // Enabled again: it logs in.
  REQUIRE(admin(dir, db, {"account", "enable", "liuyang"}).status == 0);
  auto e = connect(server.port());
  json again = login(*e, "console", "liuyang", first);
  REQUIRE(again["type"] == "welcome");

  // A new password, from stdin: the old one no longer works, the new one does, and the
  // session opened with the old one has ended.
  auto passwd = admin(dir, db, {"account", "passwd", "liuyang"}, second + "\n");
  INFO(passwd.err);
  REQUIRE(passwd.status == 0);
  CHECK(test::eventually([&] { return e->closed(); }, std::chrono::seconds(3)));
  auto f = connect(server.port());
  CHECK(login(*f, "console", "liuyang", first)["code"] == "E_AUTH_FAILED");
  auto g = connect(server.port());
  CHECK(login(*g, "console", "liuyang", second)["type"] == "welcome");

  // Each change is in the audit log, by the Unix user who made it.
  const auto log = admin_entries(db);
  std::vector<std::string> actions;
  for (const auto& x : log) actions.push_back(x.action);
  CHECK(actions == std::vector<std::string>{"account_added", "account_disabled", "account_enabled", "password_changed"});
  CHECK(json::parse(log[1].detail)["username"] == "liuyang");
  CHECK(json::parse(log[1].detail)["revoked"].size() == 1);  // the one login session
  // The list shows it; the passwords are nowhere: not in any output, not in the file.
  auto list = admin(dir, db, {"account", "list"});
  CHECK(list.status == 0);
  CHECK(list.out.find("liuyang") != std::string::npos);
  CHECK(list.out.find("刘洋") != std::string::npos);
  for (const auto& r : {added, disabled, passwd, list})
    for (const auto& p : {first, second}) {
      CHECK(r.out.find(p) == std::string::npos);
      CHECK(r.err.find(p) == std::string::npos);
    }
  for (const char* suffix : {"", "-wal"}) {
    const std::string bytes = test::read_file(db + suffix);
    CHECK(bytes.find(first) == std::string::npos);
    CHECK(bytes.find(second) == std::string::npos);
  }
}

TEST_CASE("anxin-admin issues and revokes device and worker tokens while the server runs", "[admin]") {
  test::TempDir dir;
  const std::string db = dir.file("centre.db");
  test::seed_small_registry(db);
  ServerProcess server(dir, db);
  INFO(server.log());

  // Issued while the server runs: printed once, alone on stdout, and good for hello.
  auto issued = admin(dir, db, {"token", "issue", "--device", "D1"});
  INFO(issued.err);
  REQUIRE(issued.status == 0);
  const std::string token = issued.out.substr(0, issued.out.find('\n'));
  CHECK(token.rfind("dev-", 0) == 0);
  CHECK(issued.out == token + "\n");
  CHECK(issued.err.find("device:D1") != std::string::npos);
  auto device = admitted(server.port(), "device", token);
  device->send(test::alarm_frame("D1", 1, "sos"));
  CHECK(test::next_json(*device)["type"] == "ack");
  // It speaks for D1 only.
  device->send(test::alarm_frame("D3", 1, "sos"));
  CHECK(test::next_json(*device)["code"] == "E_DEVICE_NOT_OWNED");

  // The list names its subject, never the token.
  auto list = admin(dir, db, {"token", "list"});
  REQUIRE(list.status == 0);
  CHECK(list.out.find("device:D1") != std::string::npos);
  CHECK(list.out.find(token) == std::string::npos);

  // A field token for worker 2 that expires, revoked by the ID the list shows.
  auto field = admin(dir, db, {"token", "issue", "--worker", "2", "--expires-days", "30"});
  REQUIRE(field.status == 0);
  const std::string field_token = field.out.substr(0, field.out.find('\n'));
  auto worker = admitted(server.port(), "field", field_token);
  const std::string id = token_hash(field_token).substr(0, 12);
  CHECK(admin(dir, db, {"token", "list"}).out.find(id) != std::string::npos);
  REQUIRE(admin(dir, db, {"token", "revoke", "--id", id}).status == 0);
  CHECK(test::eventually([&] { return worker->closed(); }, std::chrono::seconds(3)));
  auto worker_again = connect(server.port());
  CHECK(hello(*worker_again, "field", field_token)["code"] == "E_AUTH_FAILED");

  // Revoked: the open connection is closed, and hello fails from then on.
  auto revoked = admin(dir, db, {"token", "revoke", token});
  INFO(revoked.err);
  REQUIRE(revoked.status == 0);
  CHECK(test::next_json(*device)["code"] == "E_AUTH_FAILED");
  CHECK(test::eventually([&] { return device->closed(); }, std::chrono::seconds(3)));
  auto again = connect(server.port());
  CHECK(hello(*again, "device", token)["code"] == "E_AUTH_FAILED");
  // Other devices' tokens still work.
  auto other = connect(server.port());
  CHECK(hello(*other, "device", "tok-acme")["type"] == "welcome");

  // Each change is in the audit log, with the token's hash but never the token.
  const auto log = admin_entries(db);
  std::vector<std::string> actions;
  for (const auto& x : log) {
    actions.push_back(x.action);
    CHECK(x.detail.find(token) == std::string::npos);
  }
  CHECK(actions == std::vector<std::string>{"token_issued", "token_issued", "token_revoked", "token_revoked"});
  CHECK(json::parse(log[0].detail)["subject"] == "device:D1");
  CHECK(json::parse(log[3].detail)["revoked"][0] == token_hash(token));
}

TEST_CASE("anxin-admin refuses bad input with exit status 2 and changes nothing", "[admin]") {
  test::TempDir dir;
  const std::string db = dir.file("centre.db");
  test::seed_small_registry(db);
  const std::string pw = write(dir, "pw", "good horse 1\n"), short_pw = write(dir, "short", "horse\n");
  REQUIRE(admin(dir, db, {"account", "add", "liuyang", "--kind", "operator", "--name", "刘洋", "--password-file", pw})
              .status == 0);
  REQUIRE(admin(dir, db, {"account", "add", "zhaoliu", "--kind", "operator", "--name", "赵六", "--password-file", pw})
              .status == 0);
  REQUIRE(admin(dir, db, {"account", "disable", "zhaoliu"}).status == 0);
  const std::string before = credential_rows(db);
  REQUIRE(before.find("liuyang") != std::string::npos);

  using Args = std::vector<std::string>;
  const std::vector<std::pair<Args, std::string>> bad = {
      {{}, "which command"},
      {{"account"}, "which command"},
      {{"account", "frobnicate", "x"}, "unknown command"},
      {{"account", "add", "bad name", "--kind", "operator", "--name", "X", "--password-file", pw}, "username"},
      {{"account", "add", "new1", "--kind", "boss", "--name", "X", "--password-file", pw}, "--kind"},
      {{"account", "add", "new1", "--kind", "worker", "--password-file", pw}, "--worker"},
      {{"account", "add", "new1", "--kind", "worker", "--worker", "99", "--password-file", pw}, "no worker 99"},
      {{"account", "add", "new1", "--kind", "operator", "--password-file", pw}, "--name"},
      {{"account", "add", "liuyang", "--kind", "operator", "--name", "X", "--password-file", pw}, "already exists"},
      {{"account", "add", "new1", "--kind", "operator", "--name", "刘洋", "--password-file", pw}, "already speaks"},
      {{"account", "add", "new1", "--kind", "operator", "--name", "X", "--password-file", short_pw}, "8 characters"},
      {{"account", "add", "new1", "--kind", "operator", "--name", "X"}, "8 characters"},  // empty stdin
      {{"account", "add", "new1", "--kind", "operator", "--name", "X", "--password", "hunter2hunter2"},
       "never taken on the command line"},
      {{"account", "add", "new1", "--kind", "operator", "--name", "X", "--password-file", dir.file("none")},
       "cannot read"},
      {{"account", "disable", "nobody"}, "no account nobody"},
      {{"account", "enable"}, "missing"},
      {{"account", "passwd", "nobody", "--password-file", pw}, "no account nobody"},
      {{"account", "list", "extra"}, "too many"},
      {{"account", "list", "--kind", "worker"}, "does not take --kind"},
      {{"token", "issue"}, "one of"},
      {{"token", "issue", "--device", "D9"}, "no device D9"},
      {{"token", "issue", "--device", "D1", "--worker", "1"}, "one of"},
      {{"token", "issue", "--device", "D1", "--expires-days", "0"}, "--expires-days"},
      {{"token", "issue", "--worker", "abc"}, "--worker"},
      {{"token", "issue", "--worker", "99"}, "no worker 99"},
      {{"token", "issue", "--operator", "赵六"}, "is disabled"},
      {{"token", "revoke", "tok-nobody"}, "no such token"},
      {{"token", "revoke", "--id", "zz"}, "--id"},
      {{"token", "revoke", "--subject", "device:nobody"}, "no such token"},
      {{"token", "revoke"}, "missing"},
  };
  for (const auto& [args, says] : bad) {
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    INFO(shown);
    auto r = admin(dir, db, args);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.rfind("anxin-admin: ", 0) == 0);
    CHECK(r.err.find(says) != std::string::npos);
    CHECK(r.out.empty());
  }
  CHECK(credential_rows(db) == before);

  // A database that is not there is not created.
  auto missing = admin(dir, dir.file("missing.db"), {"account", "list"});
  CHECK(missing.status == 2);
  CHECK_FALSE(std::filesystem::exists(dir.file("missing.db")));

  // --help lists every command, and changes nothing either.
  auto help = admin(dir, db, {"--help"});
  CHECK(help.status == 0);
  for (const char* command : {"account add", "account passwd", "account disable", "account enable", "account list",
                              "token issue", "token revoke", "token list", "--password-file", "--expires-days"})
    CHECK(help.out.find(command) != std::string::npos);
  CHECK(credential_rows(db) == before);
}

TEST_CASE("a timers file sets how long a real server's offers wait, and the command line wins", "[config]") {
  test::TempDir dir;
  const std::string db = dir.file("centre.db");
  test::seed_small_registry(db);
  const std::string config = write(dir, "anxin.conf.json", R"({"offer_timeout_s": 2, "ack_escalation_s": 30})");

  auto offer_to_worker_1 = [&](int port, const std::string& device) {
    auto op = connect(port);
    REQUIRE(hello(*op, "console", "tok-console")["type"] == "welcome");
    auto w1 = connect(port);
    REQUIRE(hello(*w1, "field", "tok-w1")["type"] == "welcome");
    auto dev = connect(port);
    REQUIRE(hello(*dev, "device", "tok-acme")["type"] == "welcome");
    dev->send(test::alarm_frame(device, 1, "sos"));
    const long long incident = test::next_of_type(*dev, "ack")["incident_id"];
    op->send(json{{"type", "dispatch"}, {"incident_id", incident}, {"worker_id", 1}}.dump());
    REQUIRE(test::next_of_type(*op, "ok")["id"] == incident);
    json offer = test::next_of_type(*w1, "task");
    REQUIRE(offer["event"] == "offer");
    return std::pair{std::move(w1), offer};
  };

  {
    ServerProcess server(dir, db, {"--config", config});
    INFO(server.log());
    auto [w1, offer] = offer_to_worker_1(server.port(), "D1");
    const auto offered = std::chrono::steady_clock::now();
    CHECK(offer["assignment"]["expires_ms"].get<long long>() - offer["assignment"]["offered_ms"].get<long long>() ==
          2000);
    // Unanswered, it lapses at 2 s (and the next tick), not at the default 60 s.
    json lapsed = test::next_of_type(*w1, "task", std::chrono::seconds(6));
    const auto waited = std::chrono::steady_clock::now() - offered;
    CHECK(lapsed["event"] == "offer_expired");
    CHECK(lapsed["assignment"]["state"] == "expired");
    CHECK(waited >= std::chrono::milliseconds(1500));
    CHECK(waited < std::chrono::milliseconds(4000));
  }
  {
    // --offer-timeout-s wins over the file.
    ServerProcess server(dir, db, {"--config", config, "--offer-timeout-s", "3"});
    INFO(server.log());
    auto [w1, offer] = offer_to_worker_1(server.port(), "D3");
    CHECK(offer["assignment"]["expires_ms"].get<long long>() - offer["assignment"]["offered_ms"].get<long long>() ==
          3000);
  }
}

TEST_CASE("anxin-server refuses a bad timers file with exit status 2, naming the key", "[config]") {
  test::TempDir dir;
  const std::string db = dir.file("centre.db");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"offer_timout_s": 2})", "offer_timout_s: unknown key"},
      {R"({"offer_timeout_s": 0})", "offer_timeout_s: 0 is out of range"},
      {R"({"offer_timeout_s": "60"})", "offer_timeout_s: must be a number"},
      {R"({"hello_timeout_s": 2.5})", "hello_timeout_s: must be a whole number"},
      {R"({"ack_escalation_s": 120, "ack_escalation_long_s": 90})", "ack_escalation_long_s"},
      {"offer_timeout_s: 60", "not valid JSON"},
  };
  int n = 0;
  for (const auto& [text, says] : bad) {
    INFO(text);
    const std::string config = write(dir, "bad" + std::to_string(++n) + ".json", text);
    const std::string log = dir.file("bad" + std::to_string(n) + ".log");
    test::Process server({ANXIN_SERVER_BIN, "--db", db, "--port", "0", "--field-port", "-1", "--config", config},
                         log);
    CHECK(server.wait(std::chrono::seconds(10)) == 2);
    INFO(test::read_file(log));
    CHECK(test::read_file(log).find(config + ": " + says) != std::string::npos);
  }
  for (const auto& [args, says] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--config", dir.file("none.json")}, "cannot read the config file"},
           {{"--offer-timeout-s", "0"}, "--offer-timeout-s: offer_timeout_s: 0 is out of range"},
           {{"--offer-timeout-s", "soon"}, "--offer-timeout-s: not a number of seconds"}}) {
    std::vector<std::string> argv{ANXIN_SERVER_BIN, "--db", db, "--port", "0", "--field-port", "-1"};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = dir.file("bad" + std::to_string(++n) + ".log");
    test::Process server(argv, log);
    CHECK(server.wait(std::chrono::seconds(10)) == 2);
    INFO(test::read_file(log));
    CHECK(test::read_file(log).find(says) != std::string::npos);
  }
  // Refused before the database was opened: nothing was created.
  CHECK_FALSE(std::filesystem::exists(db));
}

TEST_CASE("the audit log carries each token change to a running dispatcher once", "[admin][store]") {
  test::TempDir dir;
  const std::string db = dir.file("centre.db");
  test::seed_small_registry(db);
  Store store(db);
  store.put_account({"wangfang", "", "operator", "王芳", 0, false}, "correct horse");
  ManualClock clock(1'000'000);
  Dispatcher d(clock);
  d.restore(store.load());
  std::int64_t seen = store.last_audit_id();
  CHECK(store.credential_changes(seen).empty());

  // Issued: admitted once, however often the log is read.
  const std::string token = store.issue_token({Role::device, "device:D1"}, "dev-", 0, "admin:test", 1000);
  CHECK_FALSE(d.authenticate(token));
  auto changes = store.credential_changes(seen);
  REQUIRE(changes.size() == 1);
  REQUIRE(changes[0].issued.size() == 1);
  CHECK(changes[0].issued[0].hash == token_hash(token));
  CHECK(changes[0].issued[0].who.subject == "device:D1");
  d.apply_credential_change(changes[0]);
  CHECK(d.authenticate(token)->subject == "device:D1");
  CHECK(store.credential_changes(seen).empty());

  // A new password ends the login sessions only; disabling voids every token of the principal.
  const std::string session = d.open_session({Role::console, "operator:王芳"}, 60'000);
  store.put_token(session, {Role::console, "operator:王芳"}, clock.now_ms() + 60'000);
  CHECK(store.set_password("wangfang", "new horse 1", "admin:test", 2000) ==
        std::vector<std::string>{token_hash(session)});
  changes = store.credential_changes(seen);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].subject == "operator:王芳");
  CHECK(changes[0].sessions_only);
  d.apply_credential_change(changes[0]);
  CHECK_FALSE(d.authenticate(session));
  CHECK(d.authenticate("tok-console"));
  CHECK(store.set_account_disabled("wangfang", true, "admin:test", 3000) ==
        std::vector<std::string>{token_hash("tok-console")});
  changes = store.credential_changes(seen);
  REQUIRE(changes.size() == 1);
  CHECK_FALSE(changes[0].sessions_only);
  d.apply_credential_change(changes[0]);
  CHECK_FALSE(d.authenticate("tok-console"));
  CHECK(store.find_account("wangfang")->disabled);

  // Revoked: void, and the dispatcher deletes it again in case a write raced the change.
  store.revoke_tokens({token_hash(token)}, "admin:test", 4000);
  changes = store.credential_changes(seen);
  REQUIRE(changes.size() == 1);
  CHECK(d.apply_credential_change(changes[0]) == std::vector<std::string>{token_hash(token)});
  CHECK_FALSE(d.authenticate(token));
  // The session, tok-console and the device token.
  CHECK(test::count_writes<DeleteToken>(d.take_effects().writes) == 3);
  // The rest of the log (logins, alarms, ...) is no change of credentials.
  store.submit({AppendAudit{{5000, "operator:王芳", "acknowledge", 1, "{}"}}});
  store.start();
  store.drain();
  CHECK(store.credential_changes(seen).empty());
}
