// libFuzzer: what a seat's baresip agent says on its control socket: netstring
// framing, then each payload's event JSON. Neither may crash or throw on any bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "anxin/gateway/baresip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  anxin::NetstringReader reader;
  // Fed in two pieces, as a socket may deliver it.
  reader.feed(bytes.substr(0, size / 2));
  reader.feed(bytes.substr(size / 2));
  while (auto payload = reader.next()) (void)anxin::parse_seat_event(*payload, "seat1");
  (void)anxin::parse_seat_event(bytes, "seat1");
  return 0;
}
