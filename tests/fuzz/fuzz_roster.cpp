// libFuzzer: a roster file comes from a supervisor's upload (import_roster), so
// parse_roster must return elders or errors for any bytes, in either encoding,
// and every error must name a line of the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "anxin/core/roster.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  anxin::Worker w;
  w.id = 1;
  w.name = "赵敏";
  for (auto enc : {anxin::TextEncoding::utf8, anxin::TextEncoding::gbk}) {
    const anxin::RosterImport r = anxin::parse_roster(bytes, enc, "2026-12-03", {w});
    for (const auto& e : r.errors)
      if (e.line < 1) std::abort();
    if (r.errors.empty() && r.lines.size() != r.elders.size()) std::abort();
  }
  return 0;
}
