// Throttles password guessing (issue 10, item 1). Failed logins are counted per
// peer address and per account; past a few free failures each further one doubles
// the wait before that key may try again. A flood against one account must not lock
// its real user out, so the account's wait binds only addresses that have themselves
// failed lately and have not logged in to it before: a clean address, or the desk
// the operator always uses, still gets its password checked.
//
// Plain data on the service thread; times are the server clock's.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "anxin/core/domain.hpp"

namespace anxin::gateway {

struct LoginLimits {
  int free_failures = 5;                       // per address and per account, before any wait
  Millis first_wait_ms = 1'000;                // then 1 s, 2 s, 4 s ...
  Millis max_wait_ms = 5 * 60'000;             // ... up to 5 min
  Millis forget_after_ms = 15 * 60'000;        // a key quiet this long starts afresh
  Millis trust_ms = 30LL * 86'400'000;         // an address that logged in to an account stays trusted for it
  int max_checks_per_address = 2;              // passwords from one address being checked at once
  size_t max_keys = 100'000;                   // records kept per kind, so a spray cannot grow memory
};

class LoginGuard {
 public:
  explicit LoginGuard(LoginLimits limits = {}) : limits_(limits) {}

  // How long a login from `address` for `account` must wait; 0: check it now.
  Millis wait_ms(const std::string& address, const std::string& account, Millis now) const;
  // An address with no failure on record may use the fast lane of password checks.
  bool clean(const std::string& address, Millis now) const;

  // A password check is queued for / finished from this address.
  bool begin_check(const std::string& address);  // false: too many already in flight
  void end_check(const std::string& address);

  void failed(const std::string& address, const std::string& account, Millis now);
  void succeeded(const std::string& address, const std::string& account, Millis now);
  // A login held back: true for the first from this address in a second, so the audit
  // log records the flood without growing at its rate.
  bool report_held(const std::string& address, Millis now);

  const LoginLimits& limits() const { return limits_; }

 private:
  struct Record {
    int failures = 0;
    Millis last_ms = 0;
    Millis reported_ms = 0;  // the last held-back login audited
  };
  Millis wait_of(const Record* r, Millis now) const;
  const Record* live(const std::map<std::string, Record>& m, const std::string& key, Millis now) const;
  void count(std::map<std::string, Record>& m, const std::string& key, Millis now);

  LoginLimits limits_;
  std::map<std::string, Record> addresses_, accounts_;
  std::map<std::pair<std::string, std::string>, Millis> trusted_;  // (account, address) -> last login
  std::map<std::string, int> checking_;                            // address -> checks in flight
};

}  // namespace anxin::gateway
