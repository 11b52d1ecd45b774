// The signed HTTP intake's checks (docs/protocol.md, "HTTP intake"): is a request
// signed by its vendor's secret, and is its timestamp fresh; and the memory of
// signatures already taken, which refuses an exact replay. Pure code over OpenSSL
// libcrypto's HMAC, with no sockets or clocks, so each part can be tested and fuzzed
// alone (tests/fuzz/fuzz_intake_signature.cpp).
//
// The scheme is the webhook's (docs/protocol.md, "Headers and the signature"), so a
// vendor sees one convention both ways: X-Anxin-Timestamp in Unix milliseconds, and
// X-Anxin-Signature `sha256=` + the hex HMAC-SHA256 of `timestamp + "." + body`.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "anxin/core/clock.hpp"
#include "anxin/core/errors.hpp"

namespace anxin::gateway {

struct SignedRequest {
  std::string_view vendor;     // X-Anxin-Vendor
  std::string_view timestamp;  // X-Anxin-Timestamp: Unix milliseconds, 1..15 digits
  std::string_view signature;  // X-Anxin-Signature: "sha256=" and 64 hex digits (either case)
  std::string_view body;       // the bytes as received
};

// The request's timestamp when it is signed with its vendor's secret and the timestamp
// is within `window_s` seconds of `now_ms` either way. Otherwise E_BAD_SIGNATURE (a
// header missing or malformed, an unknown vendor, a signature that does not match) or,
// for a request correctly signed, E_STALE. The signature is checked first, so only a
// holder of the secret learns about the clock. The comparison takes constant time.
Result<Millis> check_signature(const SignedRequest& request, const std::map<std::string, std::string>& secrets,
                               Millis now_ms, int window_s);

// `sha256=` and the lower-case hex HMAC-SHA256 of `timestamp + "." + body` under
// `secret`: what a vendor sends (the same as webhook_signature).
std::string intake_signature(std::string_view secret, std::string_view timestamp, std::string_view body);

// Signatures already taken, each kept until its timestamp has left the window (after
// which check_signature refuses the request anyway), so an exact resend is refused and
// memory stays bounded: at most `per_vendor_limit` per vendor at once.
class SeenSignatures {
 public:
  explicit SeenSignatures(size_t per_vendor_limit = 100'000) : limit_(per_vendor_limit) {}
  // Records a checked request's signature, to be forgotten after `forget_at_ms`.
  // E_REPLAYED if it was taken before; E_RATE_LIMITED if the vendor already has
  // `per_vendor_limit` signatures in the window. Nothing is recorded on an error.
  std::optional<Error> take(const std::string& vendor, std::string_view signature, Millis forget_at_ms, Millis now_ms);
  size_t size() const { return seen_.size(); }

 private:
  void forget_until(Millis now_ms);
  size_t limit_;
  std::set<std::string> seen_;  // vendor + "\n" + the signature's hex in lower case
  std::multimap<Millis, std::set<std::string>::iterator> forget_at_;
  std::map<std::string, size_t> per_vendor_;
};

}  // namespace anxin::gateway
