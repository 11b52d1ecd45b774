// Device supervision (issue 13, item 1): how often each kind of device must check in,
// and when its battery is low. The rules live in supervision.cpp, on the Dispatcher;
// docs/protocol.md ("heartbeat") and docs/configuration.md ("supervision") say the
// same to clients and operators.
#pragma once

#include <map>
#include <vector>

#include <string>
#include <string_view>

#include "anxin/core/domain.hpp"
#include "anxin/core/errors.hpp"

namespace anxin {

struct CheckIn {
  Millis every_ms = 0;  // the device promises a heartbeat at least this often
  Millis grace_ms = 0;  // and is offline once this much later still
};

struct SupervisionConfig {
  std::map<DeviceKind, CheckIn> check_in = default_check_ins();
  // A low_battery alert is raised once for each of these a device's level falls to,
  // and armed again once the level is `battery_rearm_pct` above (a new battery).
  std::vector<int> battery_low_pct = {20, 10, 5};
  int battery_rearm_pct = 10;
  // How often the devices heard from are written to the file, in one transaction.
  Millis write_every_ms = 60'000;
  // A device may file this many new alarms at once, then one per `alarm_refill_ms`;
  // beyond, E_RATE_LIMITED (a resend of one already taken is always answered).
  int alarm_burst = 20;
  Millis alarm_refill_ms = 3'000;

  static std::map<DeviceKind, CheckIn> default_check_ins();
};

// The config file's "supervision" object (docs/configuration.md), over `base`; and
// the same printed back, every key with its value.
Result<SupervisionConfig> parse_supervision(std::string_view json_text, SupervisionConfig base);
std::string supervision_json(const SupervisionConfig& c);

}  // namespace anxin
