// libFuzzer: every frame a device, console or field page can send reaches
// protocol::parse_client first. It must return a message or a coded error for any
// bytes, and a parsed message must encode and parse back to an equal frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "anxin/core/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string req;
  auto parsed = anxin::protocol::parse_client(text, &req);
  if (!parsed) return 0;
  const std::string again = anxin::protocol::encode(parsed.value());
  auto round = anxin::protocol::parse_client(again);
  if (!round || anxin::protocol::encode(round.value()) != again) std::abort();
  return 0;
}
