#include "intake_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace anxin::gateway {

namespace {

constexpr std::string_view kPrefix = "sha256=";
constexpr size_t kMacBytes = 32;

Error bad(std::string message) { return {ErrorCode::bad_signature, std::move(message)}; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// HMAC-SHA256 of `timestamp + "." + body`; false if libcrypto fails.
bool mac_of(std::string_view secret, std::string_view timestamp, std::string_view body,
            unsigned char (&out)[kMacBytes]) {
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  unsigned int len = 0;
  return HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len) &&
         len == kMacBytes;
}

}  // namespace

std::string intake_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  unsigned char mac[kMacBytes];
  if (!mac_of(secret, timestamp, body, mac)) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(kPrefix);
  for (unsigned char b : mac) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Result<Millis> check_signature(const SignedRequest& r, const std::map<std::string, std::string>& secrets,
                               Millis now_ms, int window_s) {
  if (r.vendor.empty()) return bad("the X-Anxin-Vendor header is missing");
  const auto secret = secrets.find(std::string(r.vendor));
  if (secret == secrets.end()) return bad("vendor '" + std::string(r.vendor.substr(0, 64)) +
                                          "' is not configured for the HTTP intake");
  if (r.timestamp.empty()) return bad("the X-Anxin-Timestamp header is missing");
  // At most 15 digits: no sign, no spaces, no overflow (Unix milliseconds have 13 until 2286).
  Millis stamp = 0;
  bool digits = r.timestamp.size() <= 15;
  for (char c : r.timestamp) digits = digits && c >= '0' && c <= '9';
  if (!digits) return bad("X-Anxin-Timestamp must be Unix milliseconds: digits only, e.g. 1795728674301");
  std::from_chars(r.timestamp.data(), r.timestamp.data() + r.timestamp.size(), stamp);
  if (r.signature.empty()) return bad("the X-Anxin-Signature header is missing");
  if (r.signature.size() != kPrefix.size() + 2 * kMacBytes || r.signature.substr(0, kPrefix.size()) != kPrefix)
    return bad("X-Anxin-Signature must be sha256= and 64 hex digits");
  unsigned char given[kMacBytes];
  for (size_t i = 0; i < kMacBytes; ++i) {
    const int hi = hex_digit(r.signature[kPrefix.size() + 2 * i]);
    const int lo = hex_digit(r.signature[kPrefix.size() + 2 * i + 1]);
    if (hi < 0 || lo < 0) return bad("X-Anxin-Signature must be sha256= and 64 hex digits");
    given[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  unsigned char expected[kMacBytes];
  if (!mac_of(secret->second, r.timestamp, r.body, expected))
    return Error{ErrorCode::internal, "the server could not compute the signature"};
  if (CRYPTO_memcmp(given, expected, kMacBytes) != 0)
    return bad("the signature does not match: sign timestamp + \".\" + the body, exactly as sent, with the "
               "vendor's secret");
  const Millis window_ms = static_cast<Millis>(window_s) * 1000;
  const Millis off_ms = stamp - now_ms;
  if (off_ms > window_ms || off_ms < -window_ms)
    return Error{ErrorCode::stale, "the timestamp is " + std::to_string((off_ms < 0 ? -off_ms : off_ms) / 1000) +
                                       " s " + (off_ms < 0 ? "behind" : "ahead of") +
                                       " the server's clock (server_time_ms " + std::to_string(now_ms) +
                                       "); it must be within " + std::to_string(window_s) + " s: check the clock"};
  return stamp;
}

std::optional<Error> SeenSignatures::take(const std::string& vendor, std::string_view signature,
                                          Millis forget_at_ms, Millis now_ms) {
  forget_until(now_ms);
  std::string key = vendor + "\n";
  key.reserve(key.size() + signature.size());
  for (char c : signature) key += (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
  if (seen_.count(key))
    return Error{ErrorCode::replayed, "this exact request (the same timestamp and signature) was taken already; "
                                      "sign each new try with its own timestamp"};
  size_t& n = per_vendor_[vendor];
  if (n >= limit_)
    return Error{ErrorCode::rate_limited, "vendor '" + vendor + "' sent more than " + std::to_string(limit_) +
                                              " signed requests within the replay window; slow down"};
  ++n;
  forget_at_.emplace(forget_at_ms, seen_.insert(std::move(key)).first);
  return std::nullopt;
}

void SeenSignatures::forget_until(Millis now_ms) {
  while (!forget_at_.empty() && forget_at_.begin()->first < now_ms) {
    const std::string& key = *forget_at_.begin()->second;
    auto n = per_vendor_.find(key.substr(0, key.find('\n')));
    if (n != per_vendor_.end() && --n->second == 0) per_vendor_.erase(n);
    seen_.erase(forget_at_.begin()->second);
    forget_at_.erase(forget_at_.begin());
  }
}

}  // namespace anxin::gateway
