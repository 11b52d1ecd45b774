// Welfare visits of the last 30 days for the demo district, at the frequencies the
// care tiers call for, so each elder card has a history to show.
#pragma once

#include <vector>

#include "anxin/core/domain.hpp"
#include "district.hpp"

namespace anxin::sim {

std::vector<Visit> generate_visits(const District& district, const DistrictOptions& options);

}  // namespace anxin::sim
