// The demo district's care records (issue 14, item 6): plausible chronic conditions
// and their usual medicines, allergies, the hospital each town goes to, how to get
// into the home (a key safe code for most who live alone), hearing and dialect
// notes. Deterministic from the seed; no photos (a demo has no faces to show).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anxin/core/elder_record.hpp"
#include "district.hpp"

namespace anxin::sim {

std::vector<ElderRecord> care_records(const District& d, std::uint64_t seed, const std::string& today);

// Writes them into the elder_care table of `db_path` (a migrated database), in one
// transaction. Throws StoreError on failure.
void write_care_records(const std::string& db_path, const std::vector<ElderRecord>& records);

}  // namespace anxin::sim
