#include "anxin/core/write_plan.hpp"

#include <cstdint>
#include <string_view>
#include <unordered_map>

namespace anxin {

namespace {

struct Latest {
  const WriteOp* op = nullptr;
  bool written = false;
};

// Rows are apart across a barrier: the tables cleared at each one.
struct Rows {
  std::unordered_map<std::int64_t, Latest> incidents, alerts, repeats;
  std::unordered_map<std::string_view, Latest> devices;

  // The row `op` writes whole, or null for an op that is applied as it comes.
  Latest* of(const WriteOp& op) {
    if (auto* p = std::get_if<PutIncident>(&op)) return &incidents[p->incident.id];
    if (auto* p = std::get_if<PutAlert>(&op)) return &alerts[p->alert.id];
    // After the alert's PutAlert, which comes before its first repeat.
    if (auto* p = std::get_if<RepeatAlert>(&op)) return &repeats[p->alert];
    if (auto* p = std::get_if<TouchDevice>(&op)) return &devices[p->device];
    return nullptr;
  }
};

bool barrier(const WriteOp& op) { return std::holds_alternative<SqlWrite>(op) || std::holds_alternative<PutCaller>(op); }

}  // namespace

std::vector<const WriteOp*> write_plan(const std::vector<const WriteOp*>& ops) {
  std::vector<const WriteOp*> plan;
  plan.reserve(ops.size());
  Rows rows;
  std::vector<Latest*> row_of(ops.size());  // each op's row, looked up once
  for (size_t begin = 0; begin < ops.size();) {
    size_t end = begin;
    while (end < ops.size() && !barrier(*ops[end])) ++end;
    for (size_t i = begin; i < end; ++i)
      if ((row_of[i] = rows.of(*ops[i]))) row_of[i]->op = ops[i];
    for (size_t i = begin; i < end; ++i) {
      Latest* row = row_of[i];
      if (!row) {
        plan.push_back(ops[i]);
      } else if (!row->written) {
        plan.push_back(row->op);
        row->written = true;
      }
    }
    if (end < ops.size()) plan.push_back(ops[end]);
    rows = {};
    begin = end + 1;
  }
  return plan;
}

}  // namespace anxin
