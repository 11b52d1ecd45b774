// The handovers table (schema version 10): every handover offered between staff, its
// notes and incidents, and what became of it. Written through the Store's writer as
// SqlWrite ops in the same batch as the reply; read at start. The gateway keeps the
// live picture (ws-gateway/src/handover.cpp); this module only stores it.
#pragma once

#include <cstdint>
#include <vector>

#include "anxin/core/protocol.hpp"
#include "anxin/core/store.hpp"

namespace anxin::handovers {

// The row, whole (INSERT OR REPLACE by id).
SqlWrite write(const protocol::HandoverView& h);

struct Loaded {
  std::int64_t max_id = 0;
  std::vector<protocol::HandoverView> offered;  // still waiting for an answer, by id
  std::vector<protocol::HandoverView> recent;   // the last `limit` answered, newest first
};
// On the read connection (Store::read).
Loaded load(const Store& store, size_t limit);

// Every row, by id (tests, tools).
std::vector<protocol::HandoverView> all(const Store& store);

}  // namespace anxin::handovers
