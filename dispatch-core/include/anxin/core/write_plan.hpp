#pragma once
// The writes of one group commit, in the order they are applied (Store::commit_group).
#include <vector>

#include "anxin/core/store.hpp"

namespace anxin {

// `ops` in order, except that a row written whole several times (an incident's header,
// an alert, an alert's count of repeats, a device's battery and last contact) is
// written once, with its last value, at the place of its first write: in an alarm
// storm every alert attached rewrites its incident's header, and a group commit holds
// thousands. The ops that may write those tables some other way (SqlWrite, PutCaller)
// are kept in place, and no write is moved across them.
std::vector<const WriteOp*> write_plan(const std::vector<const WriteOp*>& ops);

}  // namespace anxin
