// libFuzzer: the visiting programme's messages are read by visits::Service, after
// parse_client has routed them. For any frame, as a supervisor and as a field worker,
// it must answer with a JSON object or a coded error, never throw or crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "anxin/core/protocol.hpp"
#include "anxin/core/visits_service.hpp"

namespace {

struct World {
  anxin::ManualClock clock{1'796'263'200'000};  // 2026-12-03 10:00 China time
  anxin::Dispatcher dispatcher{clock};
  anxin::visits::Service service{dispatcher, clock, {}};
  World() {
    anxin::Elder e;
    e.name = "张桂英";
    e.birth_date = "1944-03-02";
    e.id_number = "x";
    e.town = "城关镇";
    e.community = "东街";
    e.lat = 34.83, e.lon = 115.54;
    e.visit_consent = true;
    dispatcher.put_roster({e}, {});
    service.load_elders();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = anxin::protocol::parse_client(text);
  if (!parsed) return 0;
  auto* cmd = std::get_if<anxin::protocol::VisitsCommand>(&parsed->body);
  if (!cmd) return 0;
  for (const anxin::Principal& who : {anxin::Principal{anxin::Role::console, "supervisor:张敏"},
                                      anxin::Principal{anxin::Role::field, "worker:1"}}) {
    auto r = world.service.handle(who, who.role == anxin::Role::field ? 1 : 0, *cmd);
    if (r && !nlohmann::json::parse(r.value()).is_object()) std::abort();
    world.service.take_writes();
  }
  return 0;
}
