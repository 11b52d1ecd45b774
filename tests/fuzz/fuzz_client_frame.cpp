// libFuzzer: every frame a device, console or field page can send reaches
// protocol::parse_client first. It must return a message or a coded error for any
// bytes, and a parsed message must encode and parse back to an equal frame. An alarm
// read without the JSON tree (alarm_scan.hpp) must be the one the tree reads, and
// bytes plain_object takes must parse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "alarm_scan.hpp"
#include "anxin/core/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace proto = anxin::protocol;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto scanned = proto::scan_alarm(text)) {
    auto tree = proto::parse_client_tree(text);
    if (!tree || !std::holds_alternative<anxin::AlarmIn>(tree.value().body) ||
        proto::encode(*scanned) != proto::encode(tree.value()) ||
        std::get<anxin::AlarmIn>(scanned->body).detail != std::get<anxin::AlarmIn>(tree.value().body).detail)
      std::abort();
  }
  if (proto::plain_object(text) && !nlohmann::json::accept(text)) std::abort();
  std::string req;
  auto parsed = proto::parse_client(text, &req);
  if (!parsed) return 0;
  const std::string again = proto::encode(parsed.value());
  auto round = proto::parse_client(again);
  if (!round || proto::encode(round.value()) != again) std::abort();
  return 0;
}
