// The centre's timers from one JSON file (anxin-server --config FILE): escalation
// thresholds, the family cascade's step, the offer timeout, the late margin, logins
// and the server's own clocks. docs/configuration.md documents every key; an example
// with the defaults is assets/anxin.conf.json.
//
// Every key is in seconds and has a range; a key left out keeps its default. A file
// that is not a JSON object, an unknown key, or a value that is not a number, not a
// whole number where one is needed, or out of its range, is refused with a message
// that begins with the key, and nothing of it is applied.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "anxin/core/errors.hpp"
#include "anxin/gateway/server.hpp"

namespace anxin::gateway {

struct ConfigKey {
  std::string_view name;  // e.g. "offer_timeout_s"
  double min_s, max_s;    // the range, inclusive
  bool whole;             // whole seconds only
};
// Every key, in the order the documentation and the example list them.
const std::vector<ConfigKey>& config_keys();

// `options` with the timers of `json_text` applied (`source` names it in messages).
Result<ServerOptions> apply_config(std::string_view json_text, ServerOptions options,
                                   const std::string& source = "config");
// The same from a file.
Result<ServerOptions> load_config_file(const std::string& path, ServerOptions options);

// The timers of `options` as a config file: every key, in order, two-space indented.
// The HTTP intake's vendors are named without their secrets ({"hx-iot": {}}), which
// apply_config refuses as they are: a secret is never printed.
std::string config_json(const ServerOptions& options);

}  // namespace anxin::gateway
