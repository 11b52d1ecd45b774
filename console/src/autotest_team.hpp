// The autotest's part for presence and handover (autotest_team.cpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "app.hpp"

namespace anxin::console {
bool team_op(const std::string& op);  // a step team_step takes
void team_json(const App& app, nlohmann::json& dump);
}  // namespace anxin::console
