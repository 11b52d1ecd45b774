// libFuzzer: a SIA DC-09 frame as a panel (or anyone) may send it to the receiver's
// port (docs/dc09.md): the whole decode, with and without an account key, and the
// data parsers alone. None may crash or throw on any bytes; the replies built from
// whatever header was read must be whole frames.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dc09.hpp"

namespace dc09 = anxin::gateway::dc09;

namespace {
std::string key_of(const void*, std::string_view account) {
  return account == "5678" ? std::string("0123456789ABCDEF") : std::string();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The corpus frames carry 2026 times: decode at a time inside their window too.
  for (anxin::Millis now : {anxin::Millis{0}, anxin::Millis{1780000000000}}) {
    auto d = dc09::decode(bytes, key_of, nullptr, now, {});
    const std::string ack = dc09::ack(d.message.header, key_of(nullptr, d.message.header.account), now);
    if (dc09::check_frame(ack) != dc09::Error::none) std::abort();
    if (dc09::check_frame(dc09::duh(d.message.header)) != dc09::Error::none) std::abort();
    if (d.error == dc09::Error::none && d.message.cid) (void)dc09::action_of(*d.message.cid);
    for (const auto& e : d.message.sia) (void)dc09::action_of(e);
  }
  // A frame as the receiver's framing sees it, when the bytes lack <LF> and <CR>.
  (void)dc09::decode("\n" + std::string(bytes) + "\r", key_of, nullptr, 0, {});
  (void)dc09::parse_contact_id(bytes);
  (void)dc09::parse_sia(bytes);
  (void)dc09::parse_timestamp(bytes);
  return 0;
}
