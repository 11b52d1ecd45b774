// The dispatcher owns the live state of a service centre: registry, open incidents,
// and each device's progress. It is single-threaded: its host (the gateway's service
// thread, or a test) calls it from one thread. Every command either fails with a
// coded Error and changes nothing, or changes the state and queues the matching
// writes and deltas as Effects. The host hands the writes to the Store and sends
// the deltas only once they are durable.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "anxin/core/clock.hpp"
#include "anxin/core/domain.hpp"
#include "anxin/core/errors.hpp"
#include "anxin/core/store.hpp"

namespace anxin {

struct AlarmIn {
  DeviceId device;
  std::int64_t seq = 0;  // the device's counter, > 0
  AlertKind kind = AlertKind::sos;
  Millis device_time_ms = 0;
  std::string detail = "{}";  // JSON object text
  std::optional<int> battery_pct;
};

struct AlarmAck {
  AlertId alert = 0;
  IncidentId incident = 0;
  bool duplicate = false;  // a retry of an alarm already stored
};

enum class DeltaKind { incident_opened, alert_attached, incident_acknowledged, incident_resolved };
std::string_view name_of(DeltaKind);

// One change to the live incidents, in sequence. `incident` is the header after
// the change (its timeline left empty); `append` holds the timeline entries the
// change added.
struct Delta {
  std::uint64_t seq = 0;
  DeltaKind kind = DeltaKind::incident_opened;
  Incident incident;
  std::vector<TimelineEntry> append;
};

struct Effects {
  WriteBatch writes;
  std::vector<Delta> deltas;
};

class Dispatcher {
 public:
  explicit Dispatcher(const Clock& clock);

  // Replaces all state with what the store holds.
  void restore(LiveState state);

  // Older retries (below a device's last sequence number) are looked up here.
  using AlertLookup = std::function<std::optional<Alert>(const DeviceId&, std::int64_t)>;
  void set_alert_lookup(AlertLookup lookup) { lookup_ = std::move(lookup); }

  std::optional<Principal> authenticate(std::string_view token) const;

  Result<AlarmAck> raise_alarm(const Principal& who, const AlarmIn& alarm);
  Result<IncidentId> acknowledge(const Principal& who, IncidentId incident);
  Result<IncidentId> resolve(const Principal& who, IncidentId incident, std::string disposition);

  // The writes and deltas of the commands since the last call.
  Effects take_effects();

  std::uint64_t seq() const { return seq_; }
  const Clock& clock() const { return clock_; }
  std::vector<const Incident*> open_incidents() const;  // by id
  const Incident* incident(IncidentId id) const;
  const Elder* elder(ElderId id) const;
  const Device* device(const DeviceId& id) const;
  const Worker* worker(WorkerId id) const;
  size_t elder_count() const { return elders_.size(); }
  size_t open_count() const { return open_.size(); }

 private:
  Delta& emit(DeltaKind kind, const Incident& incident);

  const Clock& clock_;
  std::unordered_map<ElderId, Elder> elders_;
  std::unordered_map<DeviceId, Device> devices_;
  std::unordered_map<WorkerId, Worker> workers_;
  std::unordered_map<IncidentId, Incident> open_;  // open and acknowledged
  std::unordered_map<ElderId, IncidentId> open_by_elder_;
  std::unordered_map<std::string, Principal> tokens_;  // by token hash
  std::unordered_map<DeviceId, DeviceProgress> progress_;
  AlertLookup lookup_;
  // The last alarms accepted, which may not be durable yet, so that a retry of one
  // of them is recognised without asking the store.
  struct Recent {
    DeviceId device;
    std::int64_t seq;
    AlertId alert;
    IncidentId incident;
  };
  static constexpr size_t kRecent = 1024;
  std::deque<Recent> recent_;
  AlertId last_alert_ = 0;
  IncidentId last_incident_ = 0;
  std::uint64_t seq_ = 0;
  Effects effects_;
};

// The name an actor is shown by: the part of a subject after "operator:" etc.
std::string display_name(const Principal& who);

}  // namespace anxin
