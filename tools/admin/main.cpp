// anxin-admin: the centre's logins and tokens, changed on its SQLite file. Every
// change commits with an audit entry (actor "admin:<unix user>"); a running server
// applies token changes within a tick and reads accounts at each login, so nothing
// needs a restart (Store's administration methods, ws-gateway/src/credentials.cpp).
//
// Passwords come from a file or stdin, never the command line (any local user can
// read a command line with ps), and are printed nowhere. A new token is printed
// once, alone on stdout, so a script can take it; only its hash is kept.
//
// Exit status: 0 done, 2 bad input (nothing changed), 1 anything else failed.
#include <pwd.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "anxin/core/clock.hpp"
#include "anxin/core/store.hpp"

using namespace anxin;

namespace {

constexpr const char* kUsage = R"(usage: anxin-admin [--db FILE] COMMAND

Accounts (logins for operators, supervisors and field workers):
  account add USER --kind operator|supervisor|worker [--name NAME] [--worker ID]
                   [--password-file FILE]
      a new login. Operators and supervisors need --name, the name their actions
      are logged under; workers need --worker, their id in the registry (--name
      defaults to the registry's name). One account per person: a name or worker
      already taken is refused.
  account passwd USER [--password-file FILE]
      a new password; the account's open login sessions end.
  account disable USER
      the account can no longer log in, and every token it holds (its login
      sessions and any token issued to it) is revoked: its open connections close.
  account enable USER
      it can log in again (revoked tokens stay revoked).
  account list
      every account: username, kind, name, worker, enabled or disabled.

  The password is read from --password-file (its first line) or else from stdin:
  at a terminal it is asked for twice, without echo. At least 8 characters.

Tokens (for devices, IoT platforms, console machines and field workers):
  token issue --device ID | --vendor NAME | --operator NAME | --supervisor NAME
              | --worker ID  [--expires-days N]
      a new token, printed once on stdout; only its hash is kept. --device speaks
      for one device, --vendor for every device of that platform; --operator and
      --supervisor are console tokens, --worker a field token (none for a
      disabled account's). Without --expires-days (1 to 3650) it never expires.
  token revoke TOKEN | --id ID | --subject SUBJECT
      revokes one token (given whole, or by the ID that token list shows), or
      every token of a subject such as device:D1 or operator:王芳. Connections
      that said hello with it close.
  token list
      every token: ID (the start of its hash), role, subject, expiry. Never the
      token itself, which is not stored.

Options:
  --db FILE   the centre's database (default anxin.db); it must exist: anxin-server
              creates it on first start
  -h, --help  this text

Every change is in the audit log, with actor admin:<unix user>. A running
anxin-server applies them without a restart: logins read the account from the
file; tokens issued or revoked take effect at its next timer tick (0.25 s unless
timer_tick_s says otherwise, docs/configuration.md), and the connections of a
revoked token or a disabled account are closed.

Exit status: 0 done; 2 bad input, and nothing was changed; 1 failed.
)";

struct BadInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Command {
  std::vector<std::string> words;               // e.g. account add wangfang
  std::map<std::string, std::string> options;  // --kind operator, ...
  std::string db = "anxin.db";
};

Command parse(int argc, char** argv) {
  Command c;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (a.rfind("--", 0) == 0) {
      if (a == "--password") throw BadInput("--password: passwords are never taken on the command line; use "
                                            "--password-file FILE or stdin");
      if (i + 1 >= argc) throw BadInput(a + " needs a value");
      if (a == "--db") c.db = argv[++i];
      else if (!c.options.emplace(a, argv[++i]).second) throw BadInput(a + " given twice");
    } else {
      c.words.push_back(a);
    }
  }
  return c;
}

// Refuses options the command does not take, and extra or missing words.
void expect(const Command& c, size_t words, const std::set<std::string>& allowed) {
  for (const auto& [k, v] : c.options)
    if (!allowed.count(k)) throw BadInput(c.words[0] + " " + c.words[1] + " does not take " + k);
  if (c.words.size() != words)
    throw BadInput(c.words[0] + " " + c.words[1] + (c.words.size() < words ? ": missing " : ": too many ") +
                   "arguments (see anxin-admin --help)");
}

std::optional<std::string> option(const Command& c, const std::string& name) {
  auto it = c.options.find(name);
  if (it == c.options.end()) return std::nullopt;
  return it->second;
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (!n || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n;
  }
  return true;
}

// A username: what people type on a phone to log in.
void check_username(const std::string& u) {
  if (u.empty() || u.size() > 64 ||
      u.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != std::string::npos)
    throw BadInput("a username is 1 to 64 letters, digits, '.', '_' or '-': " + u);
}

// A name shown to people and logged: printable UTF-8.
void check_name(const std::string& what, const std::string& n) {
  bool control = false;
  for (unsigned char ch : n) control |= ch < 0x20 || ch == 0x7f;
  if (n.empty() || n.size() > 64 || control || !valid_utf8(n))
    throw BadInput(what + " must be 1 to 64 bytes of printable UTF-8");
}

long long whole_number(const std::string& what, const std::string& text, long long min, long long max) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || errno || v < min || v > max)
    throw BadInput(what + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                   ", not " + text);
  return v;
}

// Who is acting, for the audit log: the Unix user (and who used sudo to become root).
std::string actor() {
  std::string user = "uid" + std::to_string(getuid());
  if (const passwd* pw = getpwuid(getuid())) user = pw->pw_name;
  if (getuid() == 0)
    if (const char* by = std::getenv("SUDO_USER"); by && *by) user = std::string(by) + "(sudo)";
  return "admin:" + user;
}

class Password {
 public:
  ~Password() { sodium_memzero(text.data(), text.size()); }
  std::string text;
};

std::string read_line(std::istream& in) {
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string ask_hidden(const char* prompt) {
  std::fputs(prompt, stderr);
  std::fflush(stderr);
  termios old{};
  const bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line = read_line(std::cin);
  if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::fputs("\n", stderr);
  return line;
}

// From --password-file, else stdin (asked twice at a terminal). Checked before any change.
void read_password(const Command& c, Password& p) {
  if (auto file = option(c, "--password-file")) {
    std::ifstream in(*file);
    if (!in) throw BadInput("cannot read the password file " + *file);
    p.text = read_line(in);
  } else if (isatty(STDIN_FILENO)) {
    p.text = ask_hidden("New password: ");
    Password again;
    again.text = ask_hidden("Again: ");
    if (again.text != p.text) throw BadInput("the two passwords differ");
  } else {
    p.text = read_line(std::cin);
  }
  if (p.text.size() < 8) throw BadInput("a password needs at least 8 characters");
  if (p.text.size() > 1024) throw BadInput("a password is at most 1024 characters");
}

// Terminal columns of UTF-8 text: CJK characters take two.
size_t columns(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : 4;
    n += len >= 3 ? 2 : 1;
    i += len;
  }
  return n;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t k = 0; k < r.size(); ++k) {
      if (width.size() <= k) width.push_back(0);
      width[k] = std::max(width[k], columns(r[k]));
    }
  for (const auto& r : rows) {
    std::string line;
    for (size_t k = 0; k < r.size(); ++k) {
      line += r[k];
      if (k + 1 < r.size()) line += std::string(width[k] - columns(r[k]) + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

// The centre's time (China, UTC+8), to the minute.
std::string centre_time(Millis at) {
  const std::time_t t = static_cast<std::time_t>(at / 1000 + 8 * 3600);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string token_id(const std::string& hash) { return hash.substr(0, 12); }

// --- the commands ------------------------------------------------------------------

int account_add(Store& store, const Command& c, const std::string& who, Millis now) {
  expect(c, 3, {"--kind", "--name", "--worker", "--password-file"});
  Account a;
  a.username = c.words[2];
  check_username(a.username);
  a.kind = option(c, "--kind").value_or("");
  if (a.kind != "operator" && a.kind != "supervisor" && a.kind != "worker")
    throw BadInput("--kind must be operator, supervisor or worker");
  if (a.kind == "worker") {
    auto id = option(c, "--worker");
    if (!id) throw BadInput("a worker account needs --worker ID");
    a.worker = whole_number("--worker", *id, 1, 1'000'000'000);
    auto registered = store.worker_name(a.worker);
    if (!registered) throw BadInput("no worker " + *id + " in the registry");
    a.display_name = option(c, "--name").value_or(*registered);
  } else {
    if (option(c, "--worker")) throw BadInput("--worker is for worker accounts only");
    auto name = option(c, "--name");
    if (!name) throw BadInput("an " + a.kind + " account needs --name NAME, the name its actions are logged under");
    a.display_name = *name;
  }
  check_name("--name", a.display_name);
  const std::string subject = a.principal().subject;
  for (const Account& other : store.accounts()) {
    if (other.username == a.username) throw BadInput("account " + a.username + " already exists");
    if (other.principal().subject == subject)
      throw BadInput("account " + other.username + " already speaks for " + subject + "; one account per person");
  }
  Password p;
  read_password(c, p);
  store.add_account(a, p.text, who, now);
  std::fprintf(stderr, "anxin-admin: added %s account %s (%s)\n", a.kind.c_str(), a.username.c_str(), subject.c_str());
  return 0;
}

Account existing(Store& store, const std::string& username) {
  auto a = store.find_account(username);
  if (!a) throw BadInput("no account " + username);
  return *a;
}

int account_passwd(Store& store, const Command& c, const std::string& who, Millis now) {
  expect(c, 3, {"--password-file"});
  const Account a = existing(store, c.words[2]);
  Password p;
  read_password(c, p);
  const auto ended = store.set_password(a.username, p.text, who, now);
  std::fprintf(stderr, "anxin-admin: new password for %s; %zu open login session(s) ended\n", a.username.c_str(),
               ended.size());
  return 0;
}

int account_disable(Store& store, const Command& c, const std::string& who, Millis now, bool disable) {
  expect(c, 3, {});
  const Account a = existing(store, c.words[2]);
  const auto revoked = store.set_account_disabled(a.username, disable, who, now);
  if (disable)
    std::fprintf(stderr, "anxin-admin: disabled %s (%s)%s; %zu token(s) revoked (its sessions and issued tokens)\n",
                 a.username.c_str(), a.principal().subject.c_str(), a.disabled ? ", already disabled" : "",
                 revoked.size());
  else
    std::fprintf(stderr, "anxin-admin: enabled %s (%s)%s; revoked tokens stay revoked\n", a.username.c_str(),
                 a.principal().subject.c_str(), a.disabled ? "" : ", already enabled");
  return 0;
}

int account_list(Store& store, const Command& c) {
  expect(c, 2, {});
  std::vector<std::vector<std::string>> rows{{"USERNAME", "KIND", "NAME", "WORKER", "STATE"}};
  for (const Account& a : store.accounts())
    rows.push_back({a.username, a.kind, a.display_name, a.worker ? std::to_string(a.worker) : "-",
                    a.disabled ? "disabled" : "enabled"});
  print_table(rows);
  return 0;
}

int token_issue(Store& store, const Command& c, const std::string& who, Millis now) {
  expect(c, 2, {"--device", "--vendor", "--operator", "--supervisor", "--worker", "--expires-days"});
  std::vector<std::pair<std::string, std::string>> subjects;
  for (const char* k : {"--device", "--vendor", "--operator", "--supervisor", "--worker"})
    if (auto v = option(c, k)) subjects.emplace_back(k, *v);
  if (subjects.size() != 1)
    throw BadInput("token issue takes one of --device, --vendor, --operator, --supervisor or --worker");
  const auto& [kind, value] = subjects.front();
  Principal p;
  std::string prefix;
  if (kind == "--device") {
    check_name("--device", value);
    if (!store.has_device(value)) throw BadInput("no device " + value + " in the registry");
    p = {Role::device, "device:" + value};
    prefix = "dev-";
  } else if (kind == "--vendor") {
    check_username(value);  // the same alphabet
    if (!store.has_vendor(value))
      std::fprintf(stderr, "anxin-admin: note: no device in the registry comes from vendor %s yet\n", value.c_str());
    p = {Role::device, "vendor:" + value};
    prefix = "vnd-";
  } else if (kind == "--operator" || kind == "--supervisor") {
    check_name(kind, value);
    p = {Role::console, kind.substr(2) + ":" + value};
    prefix = "con-";
  } else {
    const long long id = whole_number("--worker", value, 1, 1'000'000'000);
    if (!store.worker_name(id)) throw BadInput("no worker " + value + " in the registry");
    p = {Role::field, "worker:" + std::to_string(id)};
    prefix = "fld-";
  }
  for (const Account& a : store.accounts())
    if (a.disabled && a.principal().subject == p.subject)
      throw BadInput("account " + a.username + " (" + p.subject + ") is disabled; enable it first");
  Millis expires = 0;
  if (auto days = option(c, "--expires-days")) expires = now + whole_number("--expires-days", *days, 1, 3650) * 86'400'000;
  const std::string token = store.issue_token(p, prefix, expires, who, now);
  std::printf("%s\n", token.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "anxin-admin: issued a %s token for %s (id %s, %s); it is shown only this once\n",
               std::string(name_of(p.role)).c_str(), p.subject.c_str(), token_id(token_hash(token)).c_str(),
               expires ? ("expires " + centre_time(expires) + " UTC+8").c_str() : "never expires");
  return 0;
}

int token_revoke(Store& store, const Command& c, const std::string& who, Millis now) {
  const auto id = option(c, "--id"), subject = option(c, "--subject");
  expect(c, id || subject ? 2 : 3, {"--id", "--subject"});
  if (id && subject) throw BadInput("token revoke takes a token, --id or --subject, one of them");
  const auto all = store.tokens();
  std::vector<std::string> hashes;
  if (id) {
    if (id->size() < 8 || id->find_first_not_of("0123456789abcdef") != std::string::npos)
      throw BadInput("--id takes at least 8 hex digits of an ID that token list shows");
    for (const auto& t : all)
      if (t.hash.rfind(*id, 0) == 0) hashes.push_back(t.hash);
    if (hashes.size() > 1) throw BadInput("--id " + *id + " matches " + std::to_string(hashes.size()) +
                                          " tokens; give more of it");
  } else if (subject) {
    for (const auto& t : all)
      if (t.who.subject == *subject) hashes.push_back(t.hash);
  } else {
    const std::string hash = token_hash(c.words[2]);
    for (const auto& t : all)
      if (t.hash == hash) hashes.push_back(t.hash);
  }
  if (hashes.empty()) throw BadInput("no such token");
  store.revoke_tokens(hashes, who, now);
  std::string ids;
  for (const auto& h : hashes) ids += " " + token_id(h);
  std::fprintf(stderr, "anxin-admin: revoked %zu token(s):%s\n", hashes.size(), ids.c_str());
  return 0;
}

int token_list(Store& store, const Command& c, Millis now) {
  expect(c, 2, {});
  std::vector<std::vector<std::string>> rows{{"ID", "ROLE", "SUBJECT", "EXPIRES (UTC+8)"}};
  for (const auto& t : store.tokens())
    rows.push_back({token_id(t.hash), std::string(name_of(t.who.role)), t.who.subject,
                    !t.expires_ms ? "never" : (t.expires_ms <= now ? "expired " : "") + centre_time(t.expires_ms)});
  print_table(rows);
  return 0;
}

int run(const Command& c) {
  if (c.words.size() < 2) throw BadInput("which command? (see anxin-admin --help)");
  const std::string group = c.words[0], verb = c.words[1];
  static const std::set<std::string> known{"account add",     "account passwd", "account disable", "account enable",
                                           "account list",    "token issue",    "token revoke",    "token list"};
  if (!known.count(group + " " + verb)) throw BadInput("unknown command: " + group + " " + verb);
  if (!std::filesystem::is_regular_file(c.db))
    throw BadInput("no database " + c.db + " (anxin-server creates it on first start)");
  Store store(c.db);
  const Millis now = SystemClock().now_ms();
  const std::string who = actor();
  if (group == "account") {
    if (verb == "add") return account_add(store, c, who, now);
    if (verb == "passwd") return account_passwd(store, c, who, now);
    if (verb == "disable") return account_disable(store, c, who, now, true);
    if (verb == "enable") return account_disable(store, c, who, now, false);
    return account_list(store, c);
  }
  if (verb == "issue") return token_issue(store, c, who, now);
  if (verb == "revoke") return token_revoke(store, c, who, now);
  return token_list(store, c, now);
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::fprintf(stderr, "anxin-admin: libsodium failed to initialise\n");
    return 1;
  }
  try {
    return run(parse(argc, argv));
  } catch (const BadInput& e) {
    std::fprintf(stderr, "anxin-admin: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anxin-admin: failed: %s\n", e.what());
    return 1;
  }
}
