// The autotest's part for the care record, vital signs and candidates' reasons
// (autotest_record.cpp, issue 14 items 6-7).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "app.hpp"

namespace anxin::console {
bool record_op(const std::string& op);  // a step record_step takes
void record_json(const App& app, nlohmann::json& dump);
}  // namespace anxin::console
