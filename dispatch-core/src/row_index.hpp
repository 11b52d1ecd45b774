// What the compact tables' open-addressing indexes of row numbers share (device_table,
// elder_table): how many slots, and elder ids spread over them.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "anxin/core/domain.hpp"

namespace anxin::row_index {

// Slots for n keys at most half full, a power of two (probes wrap with a mask).
inline std::size_t slots_for(std::size_t n) { return std::bit_ceil(std::max<std::size_t>(16, 2 * n)); }

// Ids are dense: spread them over the slots.
inline std::size_t hash_of(ElderId id) {
  return static_cast<std::size_t>(static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ULL >> 20);
}

}  // namespace anxin::row_index
