// Credentials changed while the server runs. anxin-admin writes its changes to the
// file, each with an audit entry that names the tokens it issues or voids; every
// tick the server reads the audit log's new entries (Store::credential_changes) on
// its reader thread, and at the tick after admits the issued tokens and drops the
// void ones, and closes the connections that said hello with a void token or belong
// to a disabled account. Logins read their account from the file on the login
// thread, and read it again once the password is checked, so an account disabled or
// given a new password while its password was being checked gets no session.
#include <set>

#include "server_impl.hpp"

namespace anxin::gateway {

void Server::Impl::read_credential_changes() {
  std::vector<CredentialChange> changes;
  try {
    changes = store.credential_changes(credentials_seen);
  } catch (const StoreError& e) {
    lwsl_warn("cannot read credential changes: %s\n", e.what());
  }
  std::lock_guard lock(credentials_mu);
  for (auto& c : changes) credentials_read.push_back(std::move(c));
  credentials_reading = false;
}

void Server::Impl::apply_credential_changes() {
  std::vector<CredentialChange> changes;
  {
    std::lock_guard lock(credentials_mu);
    changes.swap(credentials_read);
    if (!credentials_reading) {
      credentials_reading = true;
      reader.post([this] { read_credential_changes(); });
    }
  }
  if (changes.empty()) return;
  std::set<std::string> voided, subjects;
  for (const auto& c : changes) {
    for (auto& hash : dispatcher.apply_credential_change(c)) voided.insert(std::move(hash));
    if (!c.subject.empty() && !c.sessions_only) subjects.insert(c.subject);  // a disabled account
  }
  std::vector<Outbound> replies;
  for (auto& [id, s] : sessions) {
    if (!s.who) continue;
    const bool gone = subjects.count(s.who->subject) ||
                      (!s.current_token.empty() && voided.count(s.hashed_token));
    if (!gone) continue;
    auto r = error_reply(s, "", {ErrorCode::auth_failed, "access revoked"});
    r.then_close = true;
    replies.push_back(std::move(r));
  }
  commit_and_send(std::move(replies));
}

// A token is checked at hello, but a connection may outlive it: once a second every
// connection's token is looked at again, and one whose session has expired (or was
// ended elsewhere) is told so and closed (issue 11, item 7). By the hash kept from its
// hello: hashing every token again took 1 ms a second with 3,000 connected.
void Server::Impl::close_expired_sessions() {
  const Millis now = clock.now_ms();
  if (now - sessions_checked_ms < 1000) return;
  sessions_checked_ms = now;
  std::vector<Outbound> replies;
  for (auto& [id, s] : sessions) {
    if (!s.who || s.current_token.empty() || s.close_after_send || dispatcher.token_valid(s.hashed_token)) continue;
    auto r = error_reply(s, "", {ErrorCode::auth_failed, "session expired; log in again"});
    r.then_close = true;
    replies.push_back(std::move(r));
  }
  if (!replies.empty()) commit_and_send(std::move(replies));
}

bool Server::Impl::account_unchanged(const Account& checked) const {
  auto now = store.find_account(checked.username);
  return now && !now->disabled && now->password_hash == checked.password_hash && now->kind == checked.kind &&
         now->principal().subject == checked.principal().subject;
}

}  // namespace anxin::gateway
