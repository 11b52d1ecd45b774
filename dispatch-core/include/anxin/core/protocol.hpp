// Protocol v1: JSON text frames over WebSocket (docs/protocol.md is the reference).
// This file turns frames into typed messages and back, for both ends: the gateway
// parses client messages and encodes server ones; the console, simulator, field
// page tests and benchmarks do the opposite. Pure functions, no sockets.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "anxin/core/candidates.hpp"
#include "anxin/core/dispatcher.hpp"
#include "anxin/core/elder_record.hpp"
#include "anxin/core/domain.hpp"
#include "anxin/core/errors.hpp"
#include "anxin/core/metrics.hpp"
#include "anxin/core/store.hpp"

namespace anxin::protocol {

inline constexpr int kVersion = 1;
inline constexpr size_t kMaxFrameBytes = 64 * 1024;
inline constexpr size_t kMaxReqIdBytes = 64;

// --- client -> server -----------------------------------------------------------

struct Hello {
  Role role = Role::console;
  std::string token;
};
// Staff and field workers log in with a password; the welcome carries a session
// token to say hello with after a reconnect.
struct Login {
  Role role = Role::console;
  std::string username;
  std::string password;
};
struct Logout {
  bool force = false;  // sign out even with incidents in hand (docs/protocol.md, "logout")
};
struct ElderQuery {
  ElderId elder = 0;
  bool photo = false;  // the care record's photo too (base64 on the wire)
};
struct MyTasks {};
struct MapQuery {};
struct Subscribe {};  // consoles: everything live; field workers: their own tasks
struct Ping {};
// consoles
struct AckIncident { IncidentId incident = 0; };
struct ResolveIncident {
  IncidentId incident = 0;
  Disposition disposition = Disposition::false_alarm;
  std::string note;
};
struct AddNote {
  IncidentId incident = 0;
  std::string text;
};
struct CandidatesQuery {
  IncidentId incident = 0;
  SkillSet required = 0;
};
struct Dispatch {
  IncidentId incident = 0;
  std::optional<WorkerId> worker;  // empty: the best candidates
  int responders = 1;
};
struct Callback {
  IncidentId incident = 0;
  CallbackOutcome outcome = CallbackOutcome::fine;
};
struct PlaceCall {
  IncidentId incident = 0;
  CallKind kind = CallKind::ambulance_120;  // family starts the cascade
  int contact_index = 0;                     // family: the contact to start from
};
struct CallResult {
  std::int64_t task = 0;
  CallState result = CallState::answered;
};
struct MetricsQuery {};
// consoles, with the centre's phone line (docs/telephony.md)
struct ClaimSeat { std::string seat; };  // this console sits at that seat
struct Dial {                            // calls the elder, their family doctor or a worker
  IncidentId incident = 0;
  std::string to;                        // "elder", "doctor", "worker"
  WorkerId worker = 0;                   // for "worker"
};
struct Answer {};                        // picks up the call ringing longest at my seat
struct Hangup {};                        // ends my seat's call
struct RecordingQuery { std::string name; };
struct LinkCaller {                      // an unknown caller's incident belongs to this elder
  IncidentId incident = 0;
  ElderId elder = 0;
};
// Elders whose name, phone or address holds `q`, or whose ID number ends with it
// (4 or more digits): to find who is calling, or whom a walk-in is about.
struct FindElders { std::string q; };
// The elder's care record (elder_record.hpp): supervisors change it; every change is
// audited, field by field. Reveal: the entry code, to a console, audited.
struct UpdateElderRecord {
  ElderId elder = 0;
  ElderRecordPatch patch;
};
struct RevealEntry {
  ElderId elder = 0;
  IncidentId incident = 0;  // the incident it is for, if any (goes in the audit)
};
// Presence and handover (docs/protocol.md, "Presence and handover"): staff pass the
// incidents in their hands to a colleague who is signed in; supervisors move them.
struct HandoverOffer {
  std::string to;                     // the colleague's name, as `presence` gives it
  std::string notes;
  std::vector<IncidentId> incidents;  // empty: every incident in my hands
};
struct HandoverAnswer {               // the colleague accepts or declines
  std::int64_t handover = 0;
  bool accept = false;
};
struct HandoverCancel { std::int64_t handover = 0; };  // the one who offered it withdraws it
struct Reassign {                     // supervisors: the incident passes to `to`
  IncidentId incident = 0;
  std::string to;
};
struct TakeOver { IncidentId incident = 0; };  // supervisors: the incident passes to me
// Manual incidents and history (docs/protocol.md, "open_incident", "history"; issue 14).
struct OpenIncident { ManualIncidentIn in; };
struct HistoryQuery {                 // resolved incidents, newest first, from the file
  ElderId elder = 0;                  // 0: any
  std::string elder_text;             // elders found as find_elders finds them
  Millis from_ms = 0, to_ms = 0;      // opened in [from, to); 0: unbounded
  std::optional<AlertKind> kind;      // one of its alerts is of this kind
  std::string resolved_by;            // who resolved it, as its resolved_by holds it
  std::optional<Disposition> disposition;
  int limit = 50;                     // 1..200
  int offset = 0;
};
struct IncidentRecordQuery { IncidentId incident = 0; };
struct ReopenIncident {
  IncidentId incident = 0;
  std::string reason;
};
// field workers
struct Duty { bool on = false; };
struct Position {
  double lat = 0, lon = 0, accuracy_m = 0;
  Millis at_ms = 0;
  std::optional<TransportMode> mode;
};
struct Accept { std::int64_t assignment = 0; };
struct Decline {
  std::int64_t assignment = 0;
  std::string reason;
};
struct OnScene { std::int64_t assignment = 0; };
struct Complete {
  std::int64_t assignment = 0;
  std::string outcome;
  std::optional<VisitReport> report;
};

// The visiting programme's messages (docs/visits.md): the frame as received, for the
// gateway's visits module to read its fields; `writes` says whether it may change
// what the server stores.
struct VisitsCommand {
  std::string type;
  std::string frame;
  bool writes = false;
};
// Whether `type` is one of the visiting programme's messages, and whether it writes.
std::optional<bool> visits_message(std::string_view type);

using ClientBody = std::variant<Hello, Login, Logout, Subscribe, Ping, AlarmIn, HeartbeatIn, AckIncident, ResolveIncident,
                                AddNote, CandidatesQuery, Dispatch, Callback, PlaceCall, CallResult, MetricsQuery,
                                ElderQuery, MapQuery, Duty, Position, Accept, Decline, OnScene, Complete, MyTasks,
                                ClaimSeat, Dial, Answer, Hangup, RecordingQuery, LinkCaller, FindElders,
                                VisitsCommand, HandoverOffer, HandoverAnswer, HandoverCancel, Reassign, TakeOver,
                                OpenIncident, HistoryQuery, IncidentRecordQuery, ReopenIncident,
                                UpdateElderRecord, RevealEntry>;

struct ClientMessage {
  std::string req;  // optional; echoed in the reply so a client can match them
  ClientBody body;
};

namespace detail {
template <class T, class... U> inline constexpr bool one_of = (std::is_same_v<T, U> || ...);
template <class> inline constexpr bool unclassified = false;
}  // namespace detail

// Whether a command may change what the server stores. While the disk is full the
// server refuses these with E_STORAGE_FULL before they change anything; the others
// (hello with a token, subscribing, reads, the phone line's controls, which write
// nothing themselves) go on. Each command is on one side or the other: a new one
// does not compile until it is placed.
template <class T> constexpr bool changes_state() {
  // A heartbeat writes nothing itself: the tick writes the devices seen, in one batch.
  if constexpr (detail::one_of<T, Hello, Subscribe, Ping, HeartbeatIn, ElderQuery, MapQuery, MyTasks, CandidatesQuery,
                               MetricsQuery, RecordingQuery, FindElders, ClaimSeat, Dial, Answer, Hangup>)
    return false;
  else if constexpr (detail::one_of<T, Login, Logout, AlarmIn, AckIncident, ResolveIncident, AddNote, Dispatch,
                                    Callback, PlaceCall, CallResult, LinkCaller, Duty, Position, Accept, Decline,
                                    OnScene, Complete>)
    return true;  // a login writes its session, a logout deletes it
  else if constexpr (detail::one_of<T, HandoverOffer, HandoverAnswer, HandoverCancel, Reassign, TakeOver>)
    return true;  // each writes the handovers table or the incident
  else if constexpr (detail::one_of<T, OpenIncident, ReopenIncident>)
    return true;
  else if constexpr (detail::one_of<T, UpdateElderRecord, RevealEntry>)
    return true;  // the record and its audit lines; a reveal writes its audit line
  else if constexpr (detail::one_of<T, HistoryQuery, IncidentRecordQuery>)
    return false;  // reads of the file
  else if constexpr (std::is_same_v<T, VisitsCommand>)
    return true;  // unless it says otherwise: see below
  else
    static_assert(detail::unclassified<T>, "say whether this command changes what the server stores");
}
inline bool changes_state(const ClientBody& body) {
  if (auto* v = std::get_if<VisitsCommand>(&body)) return v->writes;
  return std::visit([](const auto& b) { return changes_state<std::decay_t<decltype(b)>>(); }, body);
}

// On failure `req`, when given, receives the request id if the frame got that far,
// so the error can be matched to its request.
Result<ClientMessage> parse_client(std::string_view text, std::string* req = nullptr);
std::string encode(const ClientMessage& message);

// --- server -> client -----------------------------------------------------------

// What an operator sees of an elder. The national ID is masked here, on the
// server: the full number never goes out.
struct ElderCard {
  ElderId id = 0;
  std::string name;
  Sex sex = Sex::male;
  int age = 0;
  CareTier tier = CareTier::general;
  LivingSituation living = LivingSituation::alone;
  std::optional<Ability> ability;
  int disability_grade = 0;
  bool dementia = false;
  bool special_family = false;
  EconomicStatus economic = EconomicStatus::ordinary;
  std::string town, community, address;
  double lat = 0, lon = 0;
  std::string phone;
  std::string id_masked;
  std::vector<EmergencyContact> contacts;
  std::string family_doctor, family_doctor_phone;
  WorkerId paired_worker_id = 0;
  std::string paired_worker;  // name, empty if none
  bool visit_consent = false;
  bool unknown_caller = false;  // a record the phone line made for a number it did not know
};

ElderCard make_card(const Elder& elder, std::string_view today, const Worker* paired);

struct User {
  std::string name;
  std::string kind;  // "operator", "supervisor", "worker"; empty for device tokens
  WorkerId worker = 0;
};
struct Welcome {
  Role role = Role::console;
  std::string subject;
  Millis server_time_ms = 0;
  std::string epoch;    // changes on every server start; a client resyncs when it does
  std::string session;  // after a login: the token to say hello with next time
  User user;
};
struct Ack {
  DeviceId device;
  std::int64_t seq = 0;
  AlarmAck ack;
};
struct Snapshot {
  std::uint64_t seq = 0;  // the deltas that follow start at seq + 1
  std::string epoch;
  Millis server_time_ms = 0;
  std::vector<Incident> incidents;  // open and acknowledged, with timelines
  std::vector<ElderCard> elders;    // one per elder in `incidents`
  std::vector<Worker> workers;      // consoles: all; field: only themselves
};
struct DeltaMessage {
  std::uint64_t seq = 0;
  DeltaKind kind = DeltaKind::incident_opened;
  Incident incident;                  // header; timeline empty
  std::vector<TimelineEntry> append;  // to add to the replica's timeline
  std::optional<ElderCard> elder;     // with incident_opened
  std::optional<Worker> worker;       // with worker_updated
};
struct Ok {
  std::int64_t id = 0;  // what the command acted on or created
};
struct ErrorReply {
  Error error;
};
struct Pong {
  Millis server_time_ms = 0;
};
struct CandidateView {
  Candidate candidate;
  std::string name;
  WorkerRole role = WorkerRole::volunteer;
  TransportMode mode = TransportMode::ebike;
  std::vector<CandidateReason> reasons;  // reasons_for(candidate)
};
struct CandidateList {
  IncidentId incident = 0;
  std::vector<CandidateView> candidates;
};
struct Metrics {
  MetricsSummary summary;
  Millis server_time_ms = 0;
};
// To one field worker: an offer, its lapse or withdrawal, or a change to their task.
struct Task {
  FieldEvent event = FieldEvent::offer;
  Assignment assignment;
  Incident incident;                // header
  std::optional<ElderCard> elder;   // the elder they are sent to
};

struct DeviceView {
  DeviceId id;
  DeviceKind kind = DeviceKind::sos_button;
  std::string vendor;
  int battery_pct = 0;
  Millis last_seen_ms = 0;
};
struct VisitView {
  Visit visit;
  std::string worker;  // name
};
// An elder's card with what the card alone does not hold: devices, history.
struct ElderDetail {
  ElderCard card;
  std::vector<DeviceView> devices;
  std::vector<PastIncident> incidents;
  std::vector<VisitView> visits;
  std::optional<ElderRecord> record;  // the care record; its entry code never (has_entry_code)
};
// The answer to reveal_entry: the code, once its audit line is durable.
struct EntryCode {
  ElderId elder = 0;
  std::string entry;  // how to get in, in words
  std::string code;
};
// The district for the console's map: towns and communities (where their homes
// are, on average) and every home with its care tier. No names: a map needs none.
struct Place {
  std::string name;
  double lat = 0, lon = 0;
  size_t homes = 0;
};
struct MapTown {
  Place town;
  std::vector<Place> communities;
};
struct Home {
  ElderId elder = 0;
  double lat = 0, lon = 0;
  CareTier tier = CareTier::general;
};
struct DistrictMap {
  std::vector<MapTown> towns;
  std::vector<Home> homes;
};
DistrictMap make_map(const ElderTable& elders, std::string_view today);

// The phone line as consoles see it: every seat and every live call. Not durable
// and not numbered: it is sent whole on every change (docs/protocol.md, "line").
struct SeatView {
  std::string name;
  bool up = false;
  std::string operator_name;  // who claimed it, empty if nobody
  std::string state;          // "idle", "ringing", "talking", "dialling"
};
struct CallView {
  std::string id;             // the SIP Call-ID
  std::string seat;
  bool outgoing = false;
  std::string number, target; // target: "inbound", "elder", "ambulance_120", "fire_119", "family", "worker", "doctor"
  ElderId elder = 0;          // 0: an unknown caller
  IncidentId incident = 0;
  std::int64_t task = 0;
  std::string state;          // "dialling", "ringing", "talking"
  Millis since_ms = 0, answered_ms = 0;
  std::string operator_name;
};
struct LineState {
  bool configured = false;    // false: no SIP line; calls stay tasks to dial by hand
  std::vector<SeatView> seats;
  std::vector<CallView> calls;  // inbound ringing ones first, longest waiting first
};
struct ElderList {
  std::vector<ElderCard> elders;  // at most 20, by id
};
struct Recording {
  std::string name;
  std::string wav;  // the file's bytes (base64 on the wire)
};
// To consoles, the server's own state where it changes what they can do: sent to
// every subscribed console when it changes, and right after the snapshot while it
// is not ok. Not durable and not numbered.
struct ServerStatus {
  bool storage_full = false;  // "storage": "full" or "ok"
  std::string message;
  Millis since_ms = 0;        // when the disk was found full; 0 when ok
};

// To consoles: who of the staff is signed in, and the handovers pending or lately
// answered (docs/protocol.md, "presence"). Not durable and not numbered: sent whole to
// every subscribed console on every change and after each snapshot. What each holds
// is in the incidents' acknowledged_by, which the snapshot and deltas keep live.
struct StaffView {
  std::string name;   // as acknowledged_by holds it
  std::string kind;   // "operator" or "supervisor"
  Millis since_ms = 0;  // the earliest of their connections now open
  std::string seat;   // a phone-line seat claimed by one of them, if any
  int consoles = 0;   // connections open
};
struct HandoverView {
  std::int64_t id = 0;
  std::string from, to, notes;
  std::vector<IncidentId> incidents;
  std::string state;  // "offered", "accepted", "declined", "cancelled", "lapsed"
  Millis offered_ms = 0, answered_ms = 0;
  std::string reason;  // why it lapsed or was refused
};
struct Presence {
  std::vector<StaffView> staff;          // by name
  std::vector<HandoverView> handovers;   // the offered ones, then the last answered, newest first
};

// The answer to open_incident (type "manual_incident").
struct ManualIncident { ManualOpened opened; };
// One resolved incident in a history search.
struct HistoryRow {
  IncidentId id = 0;
  ElderId elder = 0;
  std::string elder_name;     // added from memory
  Millis opened_ms = 0, resolved_ms = 0;
  AlertKind lead_kind = AlertKind::sos;
  int alerts = 0;
  std::string source;         // "device", or a manual incident's source ("phone", "walk_in", ...)
  std::string acknowledged_by, resolved_by, disposition;
};
struct HistoryPage {          // type "history"
  std::vector<HistoryRow> rows;
  int total = 0;              // rows matching, over all pages
  int offset = 0;
};
// One alert of an incident as the file holds it.
struct AlertView {
  AlertId id = 0;
  DeviceId device;
  AlertKind kind = AlertKind::sos;
  Millis received_ms = 0;
  std::string detail;
  int repeats = 0;
};
// An incident's whole record (type "incident_record"): header, timeline, responders
// and calls, its alerts, and the responders' field reports (notes, service areas).
struct IncidentRecord {
  Incident incident;          // with timeline, assignments and calls
  ElderCard elder;
  std::vector<AlertView> alerts;
  std::vector<VisitView> reports;
  Millis reopen_until_ms = 0; // resolved: reopen_incident is taken until then
};

// A field worker's current and recent tasks.
struct TaskList {
  std::vector<Task> tasks;
};

// A reply or notice of the visiting programme (docs/visits.md): a JSON object with
// its "type", sent as it is (the req added).
struct VisitsReply {
  std::string json;
};
bool visits_reply(std::string_view type);

using ServerBody = std::variant<Welcome, Ack, Snapshot, DeltaMessage, Ok, ErrorReply, Pong, CandidateList, Metrics,
                                Task, ElderDetail, TaskList, DistrictMap, LineState, Recording, ElderList,
                                ServerStatus, VisitsReply, Presence, ManualIncident, HistoryPage,
                                IncidentRecord, EntryCode>;

struct ServerMessage {
  std::string req;
  ServerBody body;
};

std::string encode(const ServerMessage& message);
// Deltas and snapshots, the frames sent most, are written straight to text
// (frame_text.cpp); encode uses these for them. encode_tree builds every message
// through a JSON tree: the reference the direct forms are tested against.
std::string encode_delta(const DeltaMessage& delta, const std::string& req);
std::string encode_snapshot(const Snapshot& snapshot, const std::string& req);
std::string encode_tree(const ServerMessage& message);
// A snapshot's parts as text, for a host that keeps them from one snapshot to the
// next (the server's snapshot cache, issue 15): one incident with its timeline, one
// elder card, one worker; and a snapshot put together from such parts, the same
// text encode_snapshot makes of the whole.
std::string encode_incident(const Incident& incident);
std::string encode_card(const ElderCard& card);
std::string encode_worker(const Worker& worker);
struct SnapshotText {
  std::uint64_t seq = 0;
  std::string epoch;
  Millis server_time_ms = 0;
  std::vector<std::shared_ptr<const std::string>> incidents, elders, workers;
};
std::string assemble_snapshot(const SnapshotText& parts, const std::string& req);
Result<ServerMessage> parse_server(std::string_view text);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace anxin::protocol
