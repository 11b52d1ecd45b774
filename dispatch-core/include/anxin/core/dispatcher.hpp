// The dispatcher owns the live state of a service centre: registry, workers, open
// incidents with their responders and calls, and each device's progress. It is
// single-threaded: its host (the gateway's service thread, the replay, a test)
// calls it from one thread, and time comes from the injected clock.
//
// Every command either fails with a coded Error and changes nothing, or changes the
// state and queues its consequences as Effects: rows to write, deltas for consoles,
// messages for field workers, notices for the Notifier, and audit entries. The host
// hands the writes to the Store and releases everything else once they are durable.
//
// The implementation is split by subject: dispatcher.cpp (alarms, incidents,
// resolution), dispatch_workers.cpp (workers, candidates, offers), dispatch_calls.cpp
// (call-back, 120/119, the family cascade, notices), dispatch_timers.cpp (tick).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "anxin/core/candidates.hpp"
#include "anxin/core/clock.hpp"
#include "anxin/core/device_table.hpp"
#include "anxin/core/domain.hpp"
#include "anxin/core/elder_table.hpp"
#include "anxin/core/errors.hpp"
#include "anxin/core/metrics.hpp"
#include "anxin/core/notifier.hpp"
#include "anxin/core/ranking.hpp"
#include "anxin/core/store.hpp"
#include "anxin/core/supervision.hpp"

namespace anxin {

struct DispatchConfig {
  RankWeights weights;
  TravelModel travel;
  Millis offer_timeout_ms = 60'000;        // an unanswered offer moves on
  Millis family_call_timeout_ms = 60'000;  // an unanswered family call moves to the next contact
  // UK TSA: 97.5% of calls answered within 60 s, 99% within 180 s.
  Millis ack_escalation_ms = 60'000;
  Millis ack_escalation_long_ms = 180'000;
  Millis late_margin_ms = 5 * 60'000;      // visitor not on scene by ETA + this
  Millis realert_escalation_ms = 60'000;   // a critical alert on an acknowledged incident not seen (attention.cpp)
  size_t candidate_limit = 5;
  SupervisionConfig supervision;           // check-ins, low battery, alarm rates (supervision.hpp)
  // Whether the host tells the dispatcher whose phone page is connected
  // (set_field_connected). When false (replays, tests of the core alone) every worker
  // counts as connected. The gateway sets it.
  bool field_links_known = false;
  // A worker whose phone page is not connected is offered last ("last"), or is no
  // candidate at all ("never"; the operator may still choose them by name).
  enum class OfferUnconnected { last, never };
  OfferUnconnected offer_unconnected = OfferUnconnected::last;
  Millis reopen_within_ms = 24 * 3'600'000;  // a resolved incident may be reopened this long after (issue 14)
};

// An incident an operator opens by hand (issue 14, item 3; dispatch_manual.cpp): a
// phone call, a walk-in or a neighbour's report about an elder, or about an unknown
// caller (a record like the phone line's, Elder::unknown_caller).
struct ManualIncidentIn {
  ElderId elder = 0;          // 0 with `unknown`
  bool unknown = false;
  std::string caller_phone;   // unknown callers: optional
  std::string caller_name;    // unknown callers: optional
  AlertKind kind = AlertKind::sos;
  std::string source;         // "phone", "walk_in", "neighbour", "other"
  std::string text;           // what was reported, optional
};
struct ManualOpened {
  AlertId alert = 0;
  IncidentId incident = 0;
  ElderId elder = 0;
  bool joined = false;        // the elder already had this incident open: the alert joined it
  bool acknowledged = false;  // acknowledged by the opener now
};

struct AlarmIn {
  DeviceId device;
  std::int64_t seq = 0;  // the device's counter, > 0
  AlertKind kind = AlertKind::sos;
  Millis device_time_ms = 0;
  std::string detail = "{}";  // JSON object text
  std::optional<int> battery_pct;
  // The device's boot or session (docs/protocol.md, "Boots"): a counter that restarts
  // with a new boot is new, not a resend. Empty for devices that do not say.
  std::string boot;
};

// A device saying it is alive (docs/protocol.md, "heartbeat"): costs no commit.
struct HeartbeatIn {
  DeviceId device;
  std::string boot;
  std::optional<int> battery_pct;  // 0..100
  std::optional<int> signal_dbm;   // -150..0
};

// Who a caller's number belongs to (docs/telephony.md): a device's SIM, the elder's
// own phone, or one of their emergency contacts, in that order.
struct CallerMatch {
  ElderId elder = 0;
  std::string via;      // "device_sim", "elder_phone", "contact"
  DeviceId device;      // the device the alert is filed under
  std::string contact;  // for "contact": the contact's name
};

// One finished call on the centre's line, as the line reports it.
struct PhoneLog {
  IncidentId incident = 0;
  std::int64_t task = 0;     // the call task it was placed for, 0 if none
  std::string target;        // "inbound", "elder", "ambulance_120", "fire_119", "family", "worker", "doctor"
  bool outgoing = true;
  std::string seat, number, operator_name;
  std::string result;        // "answered", "no_answer", "busy", "failed"; inbound: "answered" or "missed"
  std::string reason;        // the line's own words ("486 Busy Here", ...)
  Millis started_ms = 0, answered_ms = 0, ended_ms = 0;
  std::string recording;       // what the seat heard: a name under the recordings directory, if any
  std::string recording_sent;  // what the seat said
};

// Digits only, without a +86 / 0086 country prefix: how numbers are compared.
std::string normalise_number(std::string_view number);

struct AlarmAck {
  AlertId alert = 0;
  IncidentId incident = 0;
  bool duplicate = false;  // a retry of an alarm already stored
  bool folded = false;     // a repeat of an alert still open, counted on it (`repeats`)
  // Perhaps a retry older than the alarms kept in memory: the host looks for it in the
  // file (Store::find_alerts, off its service thread) and answers with that alert, or,
  // when it is not there, raises it again with `known_new`. alert and incident are 0.
  bool look_up = false;
};

enum class DeltaKind {
  incident_opened, alert_attached, incident_acknowledged, incident_updated, incident_resolved,
  worker_updated,
};
std::string_view name_of(DeltaKind);

// One change, in sequence. For incident deltas `incident` is the header after the
// change (timeline left empty) and `append` the timeline entries it added; for
// worker_updated, `worker` is the worker after the change.
struct Delta {
  std::uint64_t seq = 0;
  DeltaKind kind = DeltaKind::incident_opened;
  Incident incident;
  std::vector<TimelineEntry> append;
  std::optional<Worker> worker;
  // The incident's elder changed, or was edited: send the card (incident_opened always has it).
  bool with_card = false;
};

// What a field worker is told directly.
enum class FieldEvent { offer, offer_expired, offer_withdrawn, task_updated };
std::string_view name_of(FieldEvent);

struct FieldMessage {
  WorkerId worker = 0;
  FieldEvent event = FieldEvent::offer;
  Assignment assignment;
  Incident incident;  // header, for the task card
};

// What a responder reports on completing: the eight service areas of a visit
// (000 二.(三)), notes, and hazards found in the home.
struct VisitReport {
  std::vector<ServiceArea> areas;
  std::string notes;
  std::string hazards;
};

struct Effects {
  WriteBatch writes;
  std::vector<Delta> deltas;
  std::vector<FieldMessage> field;
  std::vector<Notice> notices;
};

class Dispatcher {
 public:
  explicit Dispatcher(const Clock& clock, DispatchConfig config = {});
  Dispatcher(const Dispatcher&) = delete;  // open_by_elder_ points into its own open_
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Replaces all state with what the store holds. The outbox's pending notices come
  // out of the next take_effects() to be sent again, bar call requests whose task
  // has closed, which are settled as cancelled. Rows that refer to what is not there
  // (a device or open incident of no elder, an assignment of no worker) are left out,
  // and said so in the lines returned, for the host to log. Without `index_callers`
  // the callers' index is left to the host's index_numbers(), which it may run on
  // another thread beside other reads of the registry, before anything changes it.
  std::vector<std::string> restore(LiveState state, bool index_callers = true);
  // Who each known number belongs to, made anew from the registry (dispatch_phone.cpp):
  // a device's SIM, an elder's phone, an emergency contact's.
  void index_numbers();

  std::optional<Principal> authenticate(std::string_view token) const;
  // Whether the token with this token_hash() still admits anyone: as authenticate(),
  // without hashing again (a connection's token, looked at once a second).
  bool token_valid(const std::string& hash) const;
  // A login: a new session token for `who`, valid for ttl_ms. Only its hash is kept.
  std::string open_session(const Principal& who, Millis ttl_ms);
  void close_session(const Principal& who, std::string_view token);
  // A credential change made outside the server (anxin-admin), already in the store
  // with its audit entry: issued tokens are admitted, revoked ones void from now on.
  // For a disabled account or a new password, every such token of its principal held
  // now is void, not only those the change names: that also ends a session whose login
  // was checked just before the change and written just after it (a login made with
  // the new password within the same tick ends too, and simply logs in again).
  // Returns the hashes it voids, which it deletes from the file again.
  std::vector<std::string> apply_credential_change(const CredentialChange& change);
  // A login refused ("login_failed") or held back ("login_throttled"), for the audit log.
  void audit_login(std::string action, std::string_view username, std::string_view address, Millis wait_ms = 0);

  // --- devices and operators (dispatcher.cpp)
  // `known_new`: the host has looked in the file (AlarmAck::look_up) and it is no resend.
  Result<AlarmAck> raise_alarm(const Principal& who, const AlarmIn& alarm, bool known_new = false);
  // --- device supervision (supervision.cpp, docs/protocol.md "heartbeat")
  // A device is alive: kept in memory (written in batches by the tick), no commit of
  // its own. Its return clears an `offline` raised by the server.
  Result<DeviceId> heartbeat(const Principal& who, const HeartbeatIn& beat);
  Result<IncidentId> acknowledge(const Principal& who, IncidentId incident);
  Result<IncidentId> add_note(const Principal& who, IncidentId incident, const std::string& text);
  Result<IncidentId> resolve(const Principal& who, IncidentId incident, Disposition disposition,
                             const std::string& note = "");
  // --- holders (dispatch_holders.cpp): an acknowledged incident passes to `to` (a staff
  // member's name, as acknowledged_by holds it) by a handover, a supervisor's reassign
  // or take_over (`action`: "handed_over", "reassigned", "taken_over"). The host checks
  // who may do it and that `to` is signed in; this checks the incident and records it:
  // a handed_over timeline entry (text: `detail` with "how", "from", "to" added), the
  // audit entry `action` with that detail, an incident_updated delta.
  Result<IncidentId> change_holder(const Principal& who, IncidentId incident, const std::string& to,
                                   const std::string& action, const std::string& detail = "{}");

  // --- incidents opened and reopened by hand (dispatch_manual.cpp, issue 14)
  // Files a desk alert (the elder's pseudo-device DESK-<elder id>) on the elder's
  // incident, opening one when none is open, and acknowledges it for the opener.
  Result<ManualOpened> open_manual(const Principal& who, const ManualIncidentIn& in);
  // Brings back a resolved incident, as the file holds it (Store::closing_record),
  // within reopen_within_ms of its resolution, if its elder has no other open.
  Result<IncidentId> reopen(const Principal& who, Incident record, const std::string& reason);

  // --- workers and offers (dispatch_workers.cpp)
  // The candidates in the order dispatch() and the offers after a decline or lapse
  // take them: the one ranking, used by all three.
  Result<std::vector<Candidate>> candidates(IncidentId incident, SkillSet required = 0) const;
  // The host says whether a worker's phone page is connected (field_links_known).
  void set_field_connected(WorkerId worker, bool connected);
  bool field_connected(WorkerId worker) const;
  // Offers the incident to `worker`, or to the best candidates; `responders` is 1 or 2.
  Result<IncidentId> dispatch(const Principal& who, IncidentId incident, std::optional<WorkerId> worker,
                              int responders = 1);
  Result<WorkerId> set_duty(const Principal& who, bool on_duty);
  Result<WorkerId> update_position(const Principal& who, double lat, double lon, double accuracy_m,
                                   Millis at_ms, std::optional<TransportMode> mode);
  Result<std::int64_t> accept(const Principal& who, std::int64_t assignment);
  Result<std::int64_t> decline(const Principal& who, std::int64_t assignment, const std::string& reason);
  Result<std::int64_t> arrive(const Principal& who, std::int64_t assignment);
  Result<std::int64_t> complete(const Principal& who, std::int64_t assignment, const std::string& outcome,
                                const VisitReport* report = nullptr);

  // --- calls (dispatch_calls.cpp)
  Result<IncidentId> record_callback(const Principal& who, IncidentId incident, CallbackOutcome outcome);
  Result<std::int64_t> call_emergency(const Principal& who, IncidentId incident, CallKind kind);
  // Calls the emergency contacts in order from `from` (the operator may pick one on
  // the card); a family call already pending is cancelled for it.
  Result<std::int64_t> start_family_cascade(const Principal& who, IncidentId incident, int from = 0);
  Result<std::int64_t> record_call(const Principal& who, std::int64_t task, CallState result);
  // A notice the Notifier finally gave up on (every attempt failed, or its queue was
  // full): a notice_failed entry on the incident's timeline, so its operators see it,
  // and a pending call task it requested (120, 119, a family contact) fails, which
  // moves the family cascade on and lets the operator call again. A notice of an
  // incident resolved meanwhile is only audited; false then.
  bool notice_failed(const Notice& notice, const std::string& reason, int attempts);

  // --- the phone line (dispatch_phone.cpp). The line hands the core plain facts
  // (a number rings, a call ended); the core never knows SIP.
  std::optional<CallerMatch> match_caller(std::string_view number) const;
  // A known caller rings the centre: a phone_call alert on the elder's incident,
  // which opens one when none is open. `who` is the line (role device).
  Result<AlarmAck> phone_in(const Principal& who, const CallerMatch& caller, const std::string& number,
                            const std::string& call_id);
  // A number nobody knows rings: a record for the caller (Elder::unknown_caller, with
  // the line's device for its number) and an incident for the call, so the call is
  // ranked, escalated and logged like any other. Later calls from it join that incident.
  Result<AlarmAck> phone_in_unknown(const Principal& who, const std::string& number, const std::string& call_id);
  // The operator found out who called: the incident moves to that elder, if they have
  // no other incident open. The caller's record stays, for the history.
  Result<IncidentId> link_caller(const Principal& who, IncidentId incident, ElderId elder);
  // A call on the line ended: its summary goes on the incident's timeline, and the
  // call task it was placed for (120, 119, a family contact) takes its result, which
  // moves the family cascade on after a real no-answer; an unanswered call back to
  // the elder counts as the call-back's "no answer".
  Result<IncidentId> phone_log(const PhoneLog& log);

  // --- time (dispatch_timers.cpp): expiries, cascades and escalations due by now.
  // Positions received since the last tick go out first (flush_positions).
  void tick();
  // When the tick next has something to do for an open incident (an offer lapses, a
  // family call goes unanswered, an escalation is due), on the monotonic clock; none
  // for an incident with no timer running or not open.
  std::optional<Millis> next_timer(IncidentId incident) const;

  // The writes and messages of the commands since the last call.
  Effects take_effects();
  // Every device heard from (a heartbeat or an alarm) and not yet written: at a clean
  // stop, which otherwise left up to write_every_s of last contacts only in memory.
  WriteBatch take_devices_heard();

  // --- views
  std::uint64_t seq() const { return seq_; }
  const Clock& clock() const { return clock_; }
  // The roster changed (issue 12, docs/roster.md): elders added or edited, devices
  // added or moved. In memory only: the host writes them (visits_store.hpp) in the
  // same batch as its reply. An elder of id 0 gets the next free id.
  std::vector<ElderId> put_roster(std::vector<Elder> elders, std::vector<Device> devices);
  const DispatchConfig& config() const { return config_; }
  std::vector<const Incident*> open_incidents() const;     // by id
  std::vector<const Incident*> ranked_incidents() const;   // queue order, now
  const Incident* incident(IncidentId id) const;
  std::optional<Elder> elder(ElderId id) const;  // made from the compact table
  bool has_elder(ElderId id) const { return elders_.contains(id); }
  std::optional<Device> device(const DeviceId& id) const;
  std::optional<ElderId> elder_of_device(const DeviceId& id) const;  // without copying the device
  std::vector<Device> devices_of(ElderId elder) const;  // by id
  // Each elder by id, read in turn into one Elder: f returns void, or false to stop.
  template <class F>
  void each_elder(F f) const { elders_.each(std::move(f)); }
  const ElderTable& elder_table() const { return elders_; }
  const DeviceTable& device_table() const { return devices_; }
  const Worker* worker(WorkerId id) const;
  std::vector<const Worker*> workers() const;              // by id
  std::vector<const Incident*> tasks_of(WorkerId worker) const;  // incidents with their assignments
  size_t elder_count() const { return elders_.size(); }
  size_t open_count() const { return open_.size(); }
  size_t folds_held() const;  // open alerts that repeats fold into
  MetricsSummary metrics() const;
  std::string today() const;  // the centre's date, for ages

 private:
  // Effects helpers.
  Delta& emit(DeltaKind kind, const Incident& incident);
  void emit_worker(const Worker& w);
  void audit(const Principal& who, std::string action, IncidentId incident, std::string detail = "{}");
  void audit_system(std::string action, IncidentId incident, std::string detail = "{}");
  void save(const Incident& incident);          // header row
  void save(const Worker& worker);
  void save(const Assignment& assignment);
  void save(const CallTask& task);
  void record(Incident& incident, TimelineEntry entry);
  void note(Incident& incident, TimelineKind kind, std::string actor, std::string text = "");
  void rerank(Incident& incident);
  void observe(const Incident& incident);  // into today's figures
  void roll_metrics_day();                  // a new local day starts them afresh

  AlarmAck file_alert(const Principal& who, DeviceTable::Row device, AlertKind kind, std::int64_t seq, Millis device_time_ms,
                      const std::string& detail, const std::string& boot = "");

  // Lookups that fail with coded errors.
  Result<Incident*> open_incident(IncidentId id);
  // The device `who` speaks for: a device token for itself, or a vendor platform's
  // for any of its devices. `doing` completes "only devices …" when `who` is none.
  Result<DeviceTable::Row> device_of(const Principal& who, const DeviceId& id, const char* doing);
  Result<Worker*> worker_of(const Principal& who);
  struct AssignmentRef {
    Incident* incident;
    Assignment* assignment;
    Worker* worker;
  };
  Result<AssignmentRef> own_assignment(const Principal& who, std::int64_t assignment);

  // Workers and offers.
  void set_status(Worker& w, WorkerStatus status, IncidentId incident);
  void tell(WorkerId worker, FieldEvent event, const Assignment& a, const Incident& incident);
  void index_worker(const Worker& w);
  CandidateQuery query_for(const Incident& incident, SkillSet required) const;
  void offer(Incident& incident, Worker& w, const Candidate* estimate, bool by_operator, const Principal& who);
  void offer_next(Incident& incident);  // after a decline or expiry
  void propose(Incident& incident);
  void release_responders(Incident& incident, const std::string& actor);

  // Calls.
  // A call task of an open incident, with the incident; both null for an unknown id.
  std::pair<Incident*, CallTask*> call_task(std::int64_t id);
  void send_notice(Notice n);
  void resume_notices(std::vector<Notice> pending);
  void notify_contacts(Incident& incident, AlertKind kind);
  void call_contact(Incident& incident, int index, const std::string& actor);
  void apply_callback(Incident& incident, CallbackOutcome outcome, const std::string& actor);
  void settle_call(Incident& incident, CallTask& task, CallState result, const std::string& actor);
  void cancel_calls(Incident& incident, const std::string& actor);

  // Timers.
  void escalate(Incident& incident, EscalationKind kind, WorkerId worker = 0);
  void clear_escalation(Incident& incident, EscalationKind kind);
  std::optional<Millis> next_timer(const Incident& incident) const;
  void run_timers(Incident& incident, Millis now, Millis mono);  // what is due of one incident
  void queue_timer(const Incident& incident);
  void queue_timer(IncidentId incident);  // when still open
  // The open incidents' next timers, soonest first (issue 15, item 4: the tick walked
  // every open incident, 2.3-3.8 ms at 14,000). An incident that changes emits a delta,
  // which notes it in timed_; the tick queues the next timer of each noted one before
  // it takes what is due. timed_ points into open_ (a search of it for each was 3 % of
  // the service thread when every alarm is a new alert): closing an incident takes it
  // out of timed_ first. timer_due_ holds each incident's soonest entry in timers_:
  // another is queued only when sooner, and an entry that is not its incident's
  // soonest is left to pop unused.
  using TimerDue = std::pair<Millis, IncidentId>;
  std::priority_queue<TimerDue, std::vector<TimerDue>, std::greater<>> timers_;
  std::unordered_map<IncidentId, Millis> timer_due_;
  std::vector<const Incident*> timed_;

  // Attention (attention.cpp): a critical alert that joins an acknowledged incident
  // flags it for its holder until marked seen (ack_incident again), and escalates
  // alert_unseen when not seen within realert_escalation_ms.
  void flag_unseen_alert(Incident& incident, AlertKind kind);
  Result<IncidentId> mark_alert_seen(const Principal& who, Incident& incident);
  void restore_unseen_alert(Incident& incident, Millis now);  // from the timeline
  void check_unseen_alert(Incident& incident, Millis mono);   // the tick

  // The pseudo-device a desk alert is filed under (dispatch_manual.cpp), made on first use.
  DeviceTable::Row desk_device(ElderId elder, const std::string& sim = "");

  const Clock& clock_;
  DispatchConfig config_;
  ElderTable elders_;  // compact: a city has a million
  DeviceTable devices_;
  std::map<WorkerId, Worker> workers_;
  WorkerIndex index_;
  std::map<IncidentId, Incident> open_;  // ordered, so timers and replays are deterministic
  std::unordered_map<ElderId, Incident*> open_by_elder_;  // into open_, whose nodes stay put
  std::unordered_map<std::int64_t, IncidentId> assignment_incident_;  // open incidents only
  std::unordered_map<std::int64_t, IncidentId> call_incident_;
  std::unordered_map<std::string, TokenRow> tokens_;  // by token hash
  // The per-alarm maps below are keyed by device row, not serial: an alarm hashed and
  // compared its serial string in each of them (issue 15).
  // What an alarm looks up of its device: the last alarm taken from it, which a resend
  // repeats (last_seq 0 for none: a device's seq is positive), the bucket its rate is
  // held to (take_alarm_token), its Watch, and its open alerts that repeats fold into.
  // One record, found once: a map of each cost every alarm a lookup, a cache miss in a
  // city, and a device's first alarm a node in each.
  //
  // A repeat of the same device and kind folds into its open alert (supervision.cpp),
  // which needs only the alert's row, incident and count, not the whole Alert. With
  // only new alerts there is one for every alert filed: a map of them by device and
  // kind, of whole Alerts, was 6.6 % of the service thread, and with Folds still 7.9 %,
  // mostly cache misses and rehashing (issue 15).
  struct Fold {
    AlertKind kind = AlertKind::sos;
    AlertId alert = 0;
    IncidentId incident = 0;
    ElderId elder = 0;
    int repeats = 0;
  };
  struct Watch;
  struct Alarmed {
    DeviceProgress last;
    double tokens = -1;  // below zero until its first alarm: then a full burst
    Millis tokens_mono = 0;
    Watch* watch = nullptr;  // its entry in watch_, from its first alarm (watch_ erases none)
    std::vector<Fold> folds;  // one a kind at most
  };
  std::unordered_map<DeviceTable::Row, Alarmed> alarmed_;
  // Who each known number belongs to (index_numbers, dispatch_phone.cpp), compact for a
  // city's millions of numbers: the number's digits packed in an integer and the device
  // its calls are filed under; the elder and the contact's name come from the registry
  // on a match. Sorted by number, one ref a number (index_numbers says which).
  struct CallerRef {  // 16 bytes
    std::uint64_t number = 0;  // pack_number() of normalise_number()
    DeviceTable::Row device = DeviceTable::none;
    std::uint16_t contact = 0;       // for a contact: which of the elder's (an ElderTable row has at most 65,535)
    std::uint8_t via = 0;            // 0 device_sim, 1 elder_phone, 2 contact
  };
  std::vector<CallerRef> callers_;
  // Numbers too long to pack, and callers the line or a desk made a record for since.
  std::unordered_map<std::string, CallerMatch> other_callers_;  // by normalise_number()
  // The last alarms accepted, which may not be durable yet, so that a retry of one
  // of them is recognised without asking the store.
  struct Recent {
    DeviceProgress alarm;  // its device, boot, seq, kind and time, and what it filed
    DeviceTable::Row row = DeviceTable::none;
  };
  // A ring: recent_next_ is where the next one goes, over the oldest once it is full.
  static constexpr size_t kRecent = 1024;
  std::vector<Recent> recent_;
  size_t recent_next_ = 0;
  // How many of recent_ have each slot's device and seq (recent_slot): a new alarm,
  // nearly every one, finds a zero and is known not to be among them without looking
  // at all 1,024. A slot shared with another device and seq only costs that look.
  // Counts in a flat array, not a hash map's nodes: two of those a new alarm cost
  // a node made and one freed (issue 15).
  static constexpr size_t kRecentSlots = 1 << 16;
  std::vector<std::uint16_t> recent_counts_ = std::vector<std::uint16_t>(kRecentSlots);
  static size_t recent_slot(DeviceTable::Row row, std::int64_t seq) {
    const std::uint64_t key = (std::uint64_t{row} << 32) ^ static_cast<std::uint64_t>(seq);
    return (key * 0x9E3779B97F4A7C15ull) >> 48;  // Fibonacci hashing, the top 16 bits
  }
  // Device supervision and alarm storms (supervision.cpp).
  struct Watch {
    Millis beat_mono = 0;      // last heard from, on the monotonic clock
    bool offline = false;      // an offline alert stands that no heartbeat has answered
    int battery_raised = 101;  // the lowest battery threshold already raised
    bool dirty = false;        // heard from since last written to the file (in dirty_)
    Millis queued_due = 0;     // its entry in check_ins_, 0 for none
  };
  // Kept by device row, as alarmed_ is: a city's start made a Watch for each of its
  // hundreds of thousands of low batteries, each with a copy of its serial.
  std::unordered_map<DeviceTable::Row, Watch> watch_;  // the supervised devices
  std::vector<DeviceTable::Row> heard_;  // to look at in the next tick: back, or battery lower
  Millis next_scan_mono_ = 0, next_write_mono_ = 0;
  // When each supervised device is next overdue, soonest first: at most one entry a
  // device, moved on when it pops for a device heard from since. The scan takes only
  // what is due, not every watched device (a whole city's scan held a tick up).
  using CheckInDue = std::pair<Millis, DeviceTable::Row>;
  std::priority_queue<CheckInDue, std::vector<CheckInDue>, std::greater<>> check_ins_;
  void expect_check_in(DeviceTable::Row device, Watch& w);
  std::vector<DeviceTable::Row> dirty_;      // heard from since the last write (Watch::dirty)
  std::vector<DeviceTable::Row> unwritten_;  // heard from, to be written a slice a tick
  static constexpr size_t kDevicesWrittenPerTick = 2'000;
  // The incidents whose counts changed since consoles were last told.
  std::vector<IncidentId> folded_;
  void supervise();  // from tick()
  void restore_supervision();
  void battery_seen(DeviceTable::Row device, Watch& w);
  bool take_alarm_token(Alarmed& alarmed);
  std::optional<AlarmAck> fold(DeviceTable::Row device, Alarmed& alarmed, const AlarmIn& in);
  static void hold_fold(Alarmed& alarmed, Fold fold);
  void raise_offline(DeviceTable::Row device, Watch& w);
  // An alert the server raises about a device (offline, low battery): filed like the
  // device's own, with a seq below zero, and not counted as hearing from it.
  AlarmAck file_server_alert(DeviceTable::Row device, AlertKind kind, const std::string& detail);
  void back_online(DeviceTable::Row device, Watch& w);
  ResponseMetrics metrics_;  // today's figures: metrics_.day_start() is the day they cover
  AlertId last_alert_ = 0;
  IncidentId last_incident_ = 0;
  ElderId last_elder_ = 0;
  std::int64_t last_assignment_ = 0;
  std::int64_t last_call_ = 0;
  std::uint64_t seq_ = 0;
  Effects effects_;
  // Positions are coalesced (issue 13, item 5): update_position changes the worker in
  // memory and notes it here; tick() saves each noted worker once and sends consoles
  // one worker_updated with its latest position. A worker_updated sent meanwhile (a
  // status change) carries the position already and takes it off the list.
  std::set<WorkerId> positions_moved_;
  void flush_positions();  // dispatch_workers.cpp
  std::set<WorkerId> field_connected_;  // set_field_connected
  // rerank's copy of the elder's ranking fields, read again for each alert into the
  // string it already holds: a fresh Elder a time was a quarter of the rerank, and a
  // whole one read a third of what remained (issue 15, item 1).
  Elder rank_elder_;
  // today()'s text and the start of its day: worked out again only when the day
  // changes, where ranking asks for it with every alert.
  mutable std::string today_;
  mutable Millis today_from_ = 0;
};

// The name an actor is shown by: the part of a subject after "operator:" etc.
std::string display_name(const Principal& who);

// Whether an alert comes from a sensor rather than a person pressing a button; such
// alarms notify every emergency contact at once (000 二.(四)3, 001 二.(四)3).
bool is_automatic(AlertKind kind);

}  // namespace anxin
