#include "anxin/gateway/login_guard.hpp"

#include <algorithm>

namespace anxin::gateway {

const LoginGuard::Record* LoginGuard::live(const std::map<std::string, Record>& m, const std::string& key,
                                           Millis now) const {
  auto it = m.find(key);
  if (it == m.end() || now - it->second.last_ms >= limits_.forget_after_ms) return nullptr;
  return &it->second;
}

Millis LoginGuard::wait_of(const Record* r, Millis now) const {
  if (!r || r->failures <= limits_.free_failures) return 0;
  const int doublings = std::min(r->failures - limits_.free_failures - 1, 30);
  const Millis wait = std::min(limits_.first_wait_ms << doublings, limits_.max_wait_ms);
  return std::max<Millis>(0, r->last_ms + wait - now);
}

Millis LoginGuard::wait_ms(const std::string& address, const std::string& account, Millis now) const {
  Millis wait = wait_of(live(addresses_, address, now), now);
  auto t = trusted_.find({account, address});
  const bool trusted = t != trusted_.end() && now - t->second < limits_.trust_ms;
  if (!trusted && !clean(address, now)) wait = std::max(wait, wait_of(live(accounts_, account, now), now));
  return wait;
}

bool LoginGuard::clean(const std::string& address, Millis now) const { return !live(addresses_, address, now); }

bool LoginGuard::begin_check(const std::string& address) {
  int& n = checking_[address];
  if (n >= limits_.max_checks_per_address) return false;
  ++n;
  return true;
}

void LoginGuard::end_check(const std::string& address) {
  auto it = checking_.find(address);
  if (it != checking_.end() && --it->second <= 0) checking_.erase(it);
}

void LoginGuard::count(std::map<std::string, Record>& m, const std::string& key, Millis now) {
  if (m.size() >= limits_.max_keys && !m.count(key)) {
    std::erase_if(m, [&](const auto& kv) { return now - kv.second.last_ms >= limits_.forget_after_ms; });
    if (m.size() >= limits_.max_keys) return;  // a spray of names: the address's own record still counts
  }
  Record& r = m[key];
  if (now - r.last_ms >= limits_.forget_after_ms) r.failures = 0;
  ++r.failures;
  r.last_ms = now;
}

void LoginGuard::failed(const std::string& address, const std::string& account, Millis now) {
  count(addresses_, address, now);
  count(accounts_, account, now);
}

bool LoginGuard::report_held(const std::string& address, Millis now) {
  auto it = addresses_.find(address);
  if (it == addresses_.end()) return true;
  if (it->second.reported_ms && now - it->second.reported_ms < 1'000) return false;
  it->second.reported_ms = now;
  return true;
}

void LoginGuard::succeeded(const std::string& address, const std::string& account, Millis now) {
  addresses_.erase(address);
  if (trusted_.size() >= limits_.max_keys)
    std::erase_if(trusted_, [&](const auto& kv) { return now - kv.second >= limits_.trust_ms; });
  if (trusted_.size() < limits_.max_keys) trusted_[{account, address}] = now;
}

}  // namespace anxin::gateway
