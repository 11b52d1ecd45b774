// libFuzzer: the signed HTTP intake checks every request's X-Anxin-Vendor,
// X-Anxin-Timestamp and X-Anxin-Signature headers and its body before anything else
// reads them (ws-gateway/src/intake_signature.hpp). The input is the three headers,
// one a line, then the body. For any bytes the check must return a timestamp or a
// coded error and never take a signature that is not the vendor's; the same request
// signed properly must be taken exactly when its timestamp is well formed and fresh;
// and a signature taken once must be refused as a replay the second time.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../../ws-gateway/src/intake_signature.hpp"

using namespace anxin;

namespace {

std::string_view line(std::string_view& rest) {
  const size_t end = rest.find('\n');
  std::string_view l = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return l;
}

bool lower_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::map<std::string, std::string> secrets{{"hx-iot", "hx-iot-example-secret-0001"},
                                                          {"acme", "acme-intake-secret-0123456789"}};
  constexpr Millis kNow = 1795728674301;
  constexpr int kWindow = 300;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view vendor = line(rest), stamp = line(rest), signature = line(rest), body = rest;

  auto got = gateway::check_signature({vendor, stamp, signature, body}, secrets, kNow, kWindow);
  const auto secret = secrets.find(std::string(vendor));
  if (got) {
    // Taken: it must be the vendor's own signature of exactly these bytes.
    if (secret == secrets.end()) std::abort();
    if (!lower_equal(signature, gateway::intake_signature(secret->second, stamp, body))) std::abort();
  } else if (got.error().code != ErrorCode::bad_signature && got.error().code != ErrorCode::stale) {
    std::abort();
  }
  if (secret == secrets.end()) return 0;

  // The same request, signed properly.
  const std::string good = gateway::intake_signature(secret->second, stamp, body);
  auto signed_ok = gateway::check_signature({vendor, stamp, good, body}, secrets, kNow, kWindow);
  bool digits = !stamp.empty() && stamp.size() <= 15;
  for (char c : stamp) digits = digits && c >= '0' && c <= '9';
  const Millis at = digits ? std::stoll(std::string(stamp)) : 0;
  const bool fresh = digits && at >= kNow - kWindow * 1000LL && at <= kNow + kWindow * 1000LL;
  if (signed_ok.ok() != fresh) std::abort();
  if (!fresh && digits && signed_ok.error().code != ErrorCode::stale) std::abort();

  if (!fresh) return 0;
  gateway::SeenSignatures seen;
  if (seen.take(std::string(vendor), good, at + kWindow * 1000LL, kNow)) std::abort();
  auto again = seen.take(std::string(vendor), good, at + kWindow * 1000LL, kNow);
  if (!again || again->code != ErrorCode::replayed) std::abort();
  return 0;
}
