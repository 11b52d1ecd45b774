// A device alert's detail (the JSON object the device or the server sent) in words
// and units, never as JSON (issue 14, item 6): "心率 132 次/分 · 血氧 91%",
// "heart rate 132/min · SpO2 91%". Known fields are vital signs (heart rate,
// respiration, SpO2, blood pressure, temperature, blood glucose), durations, the
// distance from home, battery, the server's own alerts and DC-09 zones; any other
// field reads "key: value". No GL: tested headless.
#pragma once

#include <string>
#include <string_view>

#include "i18n.hpp"

namespace anxin::console {

// "" for an empty detail ("{}", ""); text that is no JSON object comes back as it is.
std::string describe_alert_detail(Lang lang, std::string_view detail_json);

}  // namespace anxin::console
