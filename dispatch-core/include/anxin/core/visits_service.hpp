// The visiting programme over the protocol (docs/visits.md): reads a visits command's
// fields, checks who may send it, changes the Book and the Dispatcher's roster, and
// says what to write and what to answer. Runs on the host's service thread, next to
// the Dispatcher; the host submits take_writes() with the reply, so nothing is
// answered before it is on disk.
#pragma once

#include <string>
#include <utility>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/errors.hpp"
#include "anxin/core/protocol.hpp"
#include "anxin/core/store.hpp"
#include "anxin/core/visits.hpp"

namespace anxin::visits {

// The district's policy as the "visits" object of the server's config file
// (docs/configuration.md): every field optional, each checked against its range.
Result<Policy> parse_policy(std::string_view json_text, Policy defaults = {});
std::string policy_json(const Policy& policy);

class Service {
 public:
  Service(Dispatcher& dispatcher, const Clock& clock, Policy policy);

  // Puts every elder of the dispatcher in the book, then what the store holds of
  // the programme. After Dispatcher::restore.
  void load(const Store& store);
  void load_elders();  // the first half of load: the dispatcher's elders only

  // The reply's JSON object (with its "type"), or a coded error. `worker` is the
  // field session's worker (0 for consoles).
  Result<std::string> handle(const Principal& who, WorkerId worker, const protocol::VisitsCommand& command);

  // A device's alert on the elder: during a campaign, no water use or long
  // inactivity brings the visit at home to today.
  void on_alert(ElderId elder, AlertKind kind);

  WriteBatch take_writes();
  // Whether worklists changed since last asked: the host tells clients to ask again.
  bool take_changed();
  // Whether an elder's record changed since last asked (the roster: an import or an
  // edit), which the elder's card shows; a visit, a hazard or a plan does not.
  bool take_elders_changed() { return std::exchange(elders_changed_, false); }

  Book& book() { return book_; }
  const Book& book() const { return book_; }

 private:
  struct Ctx;
  std::string phone_visits(const Ctx& c);
  std::string my_visits(const Ctx& c);
  std::string phone_visit_result(const Ctx& c);
  std::string start_visit(const Ctx& c);
  std::string finish_visit(const Ctx& c);
  std::string close_hazard(const Ctx& c);
  std::string visit_report(const Ctx& c);
  std::string export_report(const Ctx& c);
  std::string campaigns(const Ctx& c);
  std::string pairing(const Ctx& c);
  std::string import_roster(const Ctx& c);
  std::string update_elder(const Ctx& c);
  std::string set_plan(const Ctx& c);
  std::string start_campaign(const Ctx& c);
  std::string end_campaign(const Ctx& c);

  // An elder changed: the book re-plans them, and a change of tier is audited.
  // Returns the tier they were in.
  CareTier replan(const Elder& before, const Elder& after, const std::string& actor, bool is_new);
  void audit(const std::string& actor, const std::string& action, const std::string& detail);
  Day today() const;
  void replan_if_new_day();

  Dispatcher& dispatcher_;
  const Clock& clock_;
  Book book_;
  WriteBatch writes_;
  bool changed_ = false;
  bool elders_changed_ = false;
  Day planned_on_ = 0;  // the day the plans were last derived
};

}  // namespace anxin::visits
