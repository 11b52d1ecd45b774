// A group commit writes a row rewritten several times once, with its last value, at
// the place of its first write, and moves nothing across a module's own SQL.
#include <catch2/catch.hpp>

#include "anxin/core/write_plan.hpp"

using namespace anxin;

namespace {

WriteOp header(IncidentId id, int repeats) {
  Incident i;
  i.id = id;
  i.repeats = repeats;
  return PutIncident{i};
}

WriteOp alert(AlertId id) {
  Alert a;
  a.id = id;
  return PutAlert{a};
}

WriteOp repeat(AlertId id, int repeats) { return RepeatAlert{id, repeats}; }

WriteOp touch(const char* device, int battery) { return TouchDevice{device, battery, 0, false}; }

// Each op of the plan as a short word, to compare plans at a glance.
std::string said(const WriteOp& op) {
  if (auto* p = std::get_if<PutIncident>(&op)) return "I" + std::to_string(p->incident.id) + "." + std::to_string(p->incident.repeats);
  if (auto* p = std::get_if<PutAlert>(&op)) return "A" + std::to_string(p->alert.id);
  if (auto* p = std::get_if<RepeatAlert>(&op)) return "R" + std::to_string(p->alert) + "." + std::to_string(p->repeats);
  if (auto* p = std::get_if<TouchDevice>(&op)) return p->device + "." + std::to_string(p->battery_pct);
  if (auto* p = std::get_if<AddTimeline>(&op)) return "T" + std::to_string(p->incident);
  if (std::holds_alternative<SqlWrite>(op)) return "SQL";
  if (std::holds_alternative<PutCaller>(op)) return "caller";
  return "?";
}

std::vector<std::string> plan_of(const std::vector<WriteOp>& ops) {
  std::vector<const WriteOp*> in;
  for (const auto& op : ops) in.push_back(&op);
  std::vector<std::string> out;
  for (const WriteOp* op : write_plan(in)) out.push_back(said(*op));
  return out;
}

}  // namespace

TEST_CASE("a row rewritten in one group commit is written once with its last value", "[store][write_plan]") {
  // An alarm storm: alerts attached to incident 1, each rewriting its header, and
  // repeats of alert 10 counted on its row after the row is made.
  const std::vector<WriteOp> ops = {header(1, 0),  alert(10),    AddTimeline{1, {}}, touch("D1", 90),
                                    alert(11),     header(1, 1), AddTimeline{1, {}}, touch("D2", 80),
                                    repeat(10, 1), header(1, 2), touch("D1", 70),    repeat(10, 2),
                                    header(2, 0)};
  CHECK(plan_of(ops) ==
        std::vector<std::string>{"I1.2", "A10", "T1", "D1.70", "A11", "T1", "D2.80", "R10.2", "I2.0"});
}

TEST_CASE("no write is moved across a module's own SQL or an unknown caller's record", "[store][write_plan]") {
  const std::vector<WriteOp> ops = {touch("D1", 90), header(1, 0), SqlWrite{}, touch("D1", 80),
                                    header(1, 1),    PutCaller{},  touch("D1", 70), touch("D1", 60)};
  CHECK(plan_of(ops) == std::vector<std::string>{"D1.90", "I1.0", "SQL", "D1.80", "I1.1", "caller", "D1.60"});
  CHECK(plan_of({}).empty());
  CHECK(plan_of({SqlWrite{}}) == std::vector<std::string>{"SQL"});
}
