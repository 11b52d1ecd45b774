// Accounts and tokens as anxin-admin changes them: each change in one transaction
// with the audit entry that lets a running server take it up (credentials.cpp).
#include <sqlite3.h>

#include <optional>
#include <string>
#include <vector>

#include "anxin/core/store.hpp"
#include "incident_json.hpp"
#include "store_sql.hpp"

namespace anxin {

using store_sql::check;
using store_sql::in_transaction;
using store_sql::Stmt;

// --- administration (anxin-admin) ----------------------------------------------
//
// Each change runs in one write transaction with its audit entry, whose detail names
// the tokens it voids or issues by hash. credential_changes() reads those entries
// back for a running server: the audit log is also the feed of changes, so a server
// needs no other channel to learn of them.

namespace {

using json = incident_json::json;

// The audit actions that change who may connect.
constexpr std::string_view kAccountDisabled = "account_disabled", kPasswordChanged = "password_changed",
                           kTokenIssued = "token_issued", kTokenRevoked = "token_revoked";

void append_admin_audit(sqlite3* db, const std::string& actor, Millis now, std::string_view action,
                        const json& detail) {
  Stmt s(db, "INSERT INTO audit(at_ms, actor, action, incident_id, detail) VALUES (?,?,?,0,?)");
  s.bind(1, now).bind(2, std::string_view(actor)).bind(3, action)
      .bind(4, std::string_view(detail.dump(-1, ' ', false, json::error_handler_t::replace))).run();
}

// Every account, or with a username only that one.
std::vector<Account> read_accounts(sqlite3* db, std::optional<std::string_view> username = std::nullopt) {
  Stmt s(db, username ? "SELECT username, password_hash, kind, display_name, IFNULL(worker_id, 0), disabled"
                        " FROM accounts WHERE username = ?"
                      : "SELECT username, password_hash, kind, display_name, IFNULL(worker_id, 0), disabled"
                        " FROM accounts ORDER BY username");
  if (username) s.bind(1, *username);
  std::vector<Account> out;
  while (s.next()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.i64(4), s.i64(5) != 0});
  return out;
}

Account existing_account(sqlite3* db, std::string_view username) {
  auto found = read_accounts(db, username);
  if (found.empty()) throw StoreError("no account " + std::string(username));
  return found.front();
}

// Deletes the tokens of `subject` (with sessions_only, those that expire) and
// returns their hashes.
std::vector<std::string> void_tokens_of(sqlite3* db, const std::string& subject, bool sessions_only) {
  std::vector<std::string> hashes;
  Stmt q(db, "SELECT token_hash FROM tokens WHERE subject=? AND (? = 0 OR expires_ms > 0) ORDER BY token_hash");
  q.bind(1, std::string_view(subject)).bind(2, sessions_only);
  while (q.next()) hashes.push_back(q.text(0));
  Stmt d(db, "DELETE FROM tokens WHERE subject=? AND (? = 0 OR expires_ms > 0)");
  d.bind(1, std::string_view(subject)).bind(2, sessions_only).run();
  return hashes;
}

}  // namespace

std::vector<Account> Store::accounts() const { return read_accounts(read_db_); }

std::vector<TokenRow> Store::tokens() const {
  Stmt s(read_db_, "SELECT token_hash, role, subject, expires_ms FROM tokens ORDER BY subject, expires_ms, token_hash");
  std::vector<TokenRow> out;
  while (s.next()) out.push_back({s.text(0), {parse_role(s.text(1)).value_or(Role::console), s.text(2)}, s.i64(3)});
  return out;
}

std::optional<std::string> Store::worker_name(WorkerId id) const {
  Stmt s(read_db_, "SELECT name FROM workers WHERE id=?");
  s.bind(1, id);
  std::optional<std::string> name;
  while (s.next()) name = s.text(0);
  return name;
}

bool Store::has_device(const DeviceId& id) const {
  Stmt s(read_db_, "SELECT 1 FROM devices WHERE id=?");
  s.bind(1, std::string_view(id));
  bool found = false;
  while (s.next()) found = true;
  return found;
}

bool Store::has_vendor(std::string_view vendor) const {
  Stmt s(read_db_, "SELECT 1 FROM devices WHERE vendor=? LIMIT 1");
  s.bind(1, vendor);
  bool found = false;
  while (s.next()) found = true;
  return found;
}

void Store::add_account(const Account& a, std::string_view password, const std::string& actor, Millis now) {
  if (a.kind != "operator" && a.kind != "supervisor" && a.kind != "worker")
    throw StoreError("account kind must be operator, supervisor or worker");
  if (a.username.empty()) throw StoreError("an account needs a username");
  const std::string hash = hash_password(password);  // ~0.1 s: before the write lock is taken
  in_transaction(write_db_, [&] {
    const std::string subject = a.principal().subject;
    for (const Account& other : read_accounts(write_db_)) {
      if (other.username == a.username) throw StoreError("account " + a.username + " already exists");
      // One principal per account, so the audit log and disabling mean one person.
      if (other.principal().subject == subject)
        throw StoreError("account " + other.username + " already speaks for " + subject);
    }
    Stmt s(write_db_,
           "INSERT INTO accounts(username, password_hash, kind, display_name, worker_id, disabled)"
           " VALUES (?,?,?,?,?,?)");
    s.bind(1, std::string_view(a.username)).bind(2, std::string_view(hash)).bind(3, std::string_view(a.kind))
        .bind(4, std::string_view(a.display_name));
    if (a.worker) s.bind(5, a.worker); else s.bind_null(5);
    s.bind(6, a.disabled).run();
    append_admin_audit(write_db_, actor, now, "account_added",
                       {{"username", a.username}, {"kind", a.kind}, {"name", a.display_name},
                        {"worker_id", a.worker}, {"subject", subject}, {"disabled", a.disabled}});
  });
}

std::vector<std::string> Store::set_account_disabled(std::string_view username, bool disabled,
                                                     const std::string& actor, Millis now) {
  std::vector<std::string> voided;
  in_transaction(write_db_, [&] {
    const Account a = existing_account(write_db_, username);
    Stmt u(write_db_, "UPDATE accounts SET disabled=? WHERE username=?");
    u.bind(1, disabled).bind(2, username).run();
    json detail{{"username", a.username}, {"kind", a.kind}, {"subject", a.principal().subject},
                {"was_disabled", a.disabled}};
    if (disabled) {
      voided = void_tokens_of(write_db_, a.principal().subject, false);
      detail["revoked"] = voided;
    }
    append_admin_audit(write_db_, actor, now, disabled ? kAccountDisabled : std::string_view("account_enabled"),
                       detail);
  });
  return voided;
}

std::vector<std::string> Store::set_password(std::string_view username, std::string_view password,
                                             const std::string& actor, Millis now) {
  existing_account(read_db_, username);  // say so before spending the hash on it
  const std::string hash = hash_password(password);
  std::vector<std::string> voided;
  in_transaction(write_db_, [&] {
    const Account a = existing_account(write_db_, username);
    Stmt u(write_db_, "UPDATE accounts SET password_hash=? WHERE username=?");
    u.bind(1, std::string_view(hash)).bind(2, username).run();
    voided = void_tokens_of(write_db_, a.principal().subject, true);
    append_admin_audit(write_db_, actor, now, kPasswordChanged,
                       {{"username", a.username}, {"subject", a.principal().subject}, {"revoked", voided}});
  });
  return voided;
}

std::string Store::issue_token(const Principal& who, std::string_view prefix, Millis expires_ms,
                               const std::string& actor, Millis now) {
  const std::string token = random_token(prefix);
  const std::string hash = token_hash(token);
  in_transaction(write_db_, [&] {
    Stmt s(write_db_, "INSERT INTO tokens(token_hash, role, subject, expires_ms) VALUES (?,?,?,?)");
    s.bind(1, std::string_view(hash)).bind(2, name_of(who.role)).bind(3, std::string_view(who.subject))
        .bind(4, expires_ms).run();
    append_admin_audit(write_db_, actor, now, kTokenIssued,
                       {{"role", name_of(who.role)}, {"subject", who.subject}, {"expires_ms", expires_ms},
                        {"issued", json::array({hash})}});
  });
  return token;
}

void Store::revoke_tokens(const std::vector<std::string>& hashes, const std::string& actor, Millis now) {
  in_transaction(write_db_, [&] {
    json subjects = json::array();
    Stmt q(write_db_, "SELECT subject FROM tokens WHERE token_hash=?");
    Stmt d(write_db_, "DELETE FROM tokens WHERE token_hash=?");
    for (const auto& h : hashes) {
      bool found = false;
      q.bind(1, std::string_view(h));
      while (q.next()) {
        found = true;
        subjects.push_back(q.text(0));
      }
      if (!found) throw StoreError("no token " + h.substr(0, 12));
      d.bind(1, std::string_view(h)).run();
    }
    append_admin_audit(write_db_, actor, now, kTokenRevoked, {{"subjects", subjects}, {"revoked", hashes}});
  });
}

std::int64_t Store::last_audit_id() const {
  std::lock_guard lock(read_mu_);
  std::int64_t id = 0;
  for (reads_->last_audit.fresh(); reads_->last_audit.next();) id = reads_->last_audit.i64(0);
  return id;
}

std::vector<CredentialChange> Store::credential_changes(std::int64_t& after_id) const {
  // Bounded by the last id first, so that each call reads only the entries since the
  // one before, however busy the log (entries commit in id order: one writer at a time).
  const std::int64_t last = last_audit_id();
  std::vector<CredentialChange> out;
  if (last <= after_id) return out;
  std::lock_guard lock(read_mu_);
  Stmt& s = reads_->audit_since.fresh();
  s.bind(1, after_id).bind(2, last).bind(3, kAccountDisabled).bind(4, kPasswordChanged).bind(5, kTokenIssued)
      .bind(6, kTokenRevoked);
  Stmt& t = reads_->token.fresh();
  auto strings = [](const json& j, const char* key) {
    std::vector<std::string> v;
    if (auto it = j.find(key); it != j.end() && it->is_array())
      for (const auto& x : *it)
        if (x.is_string()) v.push_back(x.get<std::string>());
    return v;
  };
  while (s.next()) {
    const std::string action = s.text(0);
    const json detail = json::parse(s.text(1), nullptr, false);
    if (!detail.is_object()) continue;
    CredentialChange c;
    c.revoked = strings(detail, "revoked");
    if (action == kAccountDisabled || action == kPasswordChanged) {
      c.subject = detail.value("subject", std::string());
      c.sessions_only = action == kPasswordChanged;
    }
    for (const auto& hash : strings(detail, "issued")) {
      t.bind(1, std::string_view(hash));
      while (t.next())  // gone already when revoked since
        c.issued.push_back({hash, {parse_role(t.text(0)).value_or(Role::console), t.text(1)}, t.i64(2)});
    }
    out.push_back(std::move(c));
  }
  after_id = last;
  return out;
}

}  // namespace anxin
