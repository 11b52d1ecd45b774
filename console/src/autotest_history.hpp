// The autotest's part for manual incidents and history (autotest_history.cpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "app.hpp"

namespace anxin::console {
bool history_op(const std::string& op);  // a step history_step takes
void history_json(const App& app, nlohmann::json& dump);
}  // namespace anxin::console
