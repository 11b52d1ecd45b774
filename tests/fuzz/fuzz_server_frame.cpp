// libFuzzer: the console's decoder, protocol::parse_server, must return a message or a
// coded error for any bytes a server (or something posing as one) sends.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "anxin/core/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = anxin::protocol::parse_server(std::string_view(reinterpret_cast<const char*>(data), size));
  if (parsed) (void)anxin::protocol::encode(parsed.value());
  return 0;
}
