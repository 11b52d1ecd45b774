// Private to ws-gateway: the server's state and methods. server.cpp holds the
// libwebsockets plumbing, the outbox, logins and time; commands.cpp holds one
// handler per protocol message. Everything here runs on the service thread unless
// a comment says otherwise.
#pragma once

#include "anxin/gateway/server.hpp"

#include <libwebsockets.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "anxin/core/dispatcher.hpp"
#include "anxin/core/image_keeper.hpp"
#include "anxin/core/protocol.hpp"
#include "anxin/core/store.hpp"
#include "anxin/core/visits_service.hpp"
#include "anxin/gateway/line.hpp"
#include "anxin/gateway/login_guard.hpp"
#include "anxin/gateway/webhook_notifier.hpp"
#include "dc09_receiver.hpp"
#include "handover.hpp"
#include "intake.hpp"
#include "intake_signature.hpp"
#include "reader.hpp"
#include "snapshot_texts.hpp"

namespace anxin::gateway {

namespace proto = anxin::protocol;
using Frame = std::shared_ptr<const std::string>;

constexpr int kMaxAuthFailures = 3;

// What a command that would change anything gets while the disk is full.
inline Error refused_for_full_disk() {
  return {ErrorCode::storage_full, "the server's disk is full: nothing was changed; try again once space is freed"};
}

// One WebSocket connection. Lives on the service thread only.
struct Session {
  std::uint64_t id = 0;
  lws* wsi = nullptr;
  std::string peer;           // the peer's address
  bool field_port = false;    // came in on the field port, which serves field workers only
  std::optional<Principal> who;
  WorkerId worker = 0;        // for field sessions
  std::string current_token;  // the token or session this connection said hello with
  std::string hashed_token;   // its token_hash(), for the look at it once a second
  void take_token(std::string token) {
    hashed_token = token_hash(token);
    current_token = std::move(token);
  }
  int auth_failures = 0;
  bool subscribed = false;    // a console receiving deltas
  bool close_after_send = false;
  std::string seat;           // a console's seat on the phone line, once claimed
  Millis since_ms = 0;        // when it was admitted (presence's "since")
  std::string rx;             // the message being reassembled from fragments
  bool rx_overflow = false;
  // Frames to write, in order. An empty one holds the place of the snapshot, which
  // `stream` writes out (write_out): nothing behind it goes out before it.
  std::deque<Frame> tx;
  std::unique_ptr<SnapshotStream> stream;
  // What tx holds, bounded by max_unread_bytes_hard less the snapshot's (enqueue).
  size_t tx_bytes = 0;
  size_t tx_sent = 0;             // of the first frame, sent so far as fragments (on_writeable)
  std::uint64_t written = 0;      // bytes handed to the socket, ever
  bool flush_listed = false;      // in Impl::to_flush
  // What the client had taken (written less its socket's queue) when it last went
  // over the soft limit, or last proved it reads (drop_slow_clients).
  std::uint64_t taken_mark = 0;
  // Since when the client's unread bytes (unread_bytes) have been over
  // max_unread_bytes_soft at every tick (mono ms); none while under it.
  std::optional<Millis> over_soft_since;
  bool dropped = false;  // by drop_slow: closing, and takes no more frames
  // The connection's frame limit (ServerOptions::frame_limit): a token bucket, full
  // at the first frame, and the last E_RATE_LIMITED sent with what was refused
  // unanswered since (within_frame_limit).
  std::optional<double> frame_tokens;
  Millis frame_tokens_mono = 0;
  std::optional<Millis> rate_error_mono;
  std::uint64_t refused_unanswered = 0;
  // A snapshot asked for and not yet written out: a subscribe meanwhile is folded into
  // it rather than building another (issue 10, item 3).
  bool snapshot_pending = false;
  Frame snapshot;                 // that snapshot, once in tx
};

// A frame released by the writer thread: to one session, to one worker's sessions,
// or to every subscribed console. `subscribes` marks the snapshot that turns a
// console's deltas on.
struct Outbound {
  std::uint64_t session = 0;  // 0 and worker 0: every subscribed console
  WorkerId worker = 0;
  Frame frame;
  bool subscribes = false;
  bool snapshot = false;  // the reply is a snapshot (see Session::snapshot_pending)
  // A console's snapshot as parts, written out from them (SnapshotStream) once it is
  // this frame's turn (frame empty then); `req` is the subscribe's.
  std::shared_ptr<const proto::SnapshotText> parts;
  std::string req;
  bool then_close = false;
  // Runs on the service thread when the frame would be delivered, i.e. after the
  // commit: how the adapters of intake.hpp hear that an alarm is durable.
  std::function<void()> then;

  bool empty() const { return !frame && !parts && !then; }  // a command answered later
};

Frame frame_of(proto::ServerMessage m);

// The worker a field principal speaks for ("worker:17"), parsed strictly: a bad row
// ("worker:李娜") gives nullopt, never an exception.
std::optional<WorkerId> worker_of(const Principal& who);

// What consoles see of a worker: no position while off duty, where it is a private
// person's whereabouts, not a responder's (issue 10, item 7).
inline Worker for_consoles(Worker w) {
  if (w.status == WorkerStatus::off_duty) w.lat = w.lon = w.accuracy_m = 0, w.position_ms = 0;
  return w;
}

// One file, one server (issue 11, item 4): a second anxin-server on the same
// database would overwrite the first's rows. An exclusive flock on DB.lock, held for
// the server's life, refuses it at start with the holder's pid. (anxin-admin and
// readers do not take it: SQLite keeps their writes apart.)
class DatabaseLock {
 public:
  explicit DatabaseLock(const std::string& db_path);  // throws std::runtime_error
  ~DatabaseLock();
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

 private:
  int fd_ = -1;
};

struct Server::Impl {
  ServerOptions options;
  const Clock& clock;
  DatabaseLock db_lock{options.db_path};
  Store store;
  // The last audit entry looked at for credential changes (credentials.cpp), by the
  // reader thread. Read here, before the constructor loads the live state, so that no
  // change made meanwhile is missed (applying one twice does no harm).
  std::int64_t credentials_seen = store.last_audit_id();
  // Reads of the file for commands, off the service thread. Stopped after the store,
  // whose last callbacks may still post to it, and before the context goes.
  Reader reader;
  // Writes the registry's image from the rows when much changed since the last one
  // (image_keeper.hpp); stopped before the store, which runs its last write.
  ImageKeeper image_keeper{store, options.db_path,
                           ImageKeeperOptions{options.image_helper, options.registry_image_check_s}};
  Dispatcher dispatcher;
  // Consoles' snapshots, kept as text beside the dispatcher (snapshot_texts.hpp).
  SnapshotTexts snapshot_texts{dispatcher, [this](ElderId id) { return card_for(id, dispatcher.today()); },
                               [](const Worker& w) { return for_consoles(w); }};
  // The visiting programme (issue 12), beside the dispatcher on the service thread.
  visits::Service visits{dispatcher, clock, options.visits};
  bool visits_dirty = false;  // the programme changed since consoles were last told
  // Notices the webhook notifier gave up on, from its thread, for the service thread
  // to put on their incidents (drain_failed_notices). Declared before the notifier,
  // which may still report while it is destroyed; `wake_on_failed_notice` says
  // whether `context` may be woken (set by start, cleared by stop).
  struct FailedNotice {
    Notice notice;
    std::string reason;
    int attempts;
  };
  std::mutex failed_notices_mu;
  std::vector<FailedNotice> failed_notices;
  bool wake_on_failed_notice = false;
  // Notices delivered, from the notifier's thread, marked so in the file by the
  // service thread's next commit (commit_and_send; at the latest the next tick's):
  // submitted from there, each could be a commit and a sync of the disk of its own
  // between two alarms' (docs/benchmarks.md, "Notices marked with the next commit").
  std::mutex settled_mu;
  WriteBatch settled;
  std::unique_ptr<WebhookNotifier> own_notifier;
  Notifier* notifier;
  std::string epoch;

  lws_context* context = nullptr;
  // The service thread's loop when lws runs on libev (epoll); null: lws's own poll().
  struct ev_loop* event_loop = nullptr;
  void* foreign_loops[1] = {};
  lws_vhost* vhost = nullptr;
  lws_vhost* field_vhost = nullptr;
  std::atomic<int> bound_field_port{-1};
  lws_http_mount field_mount{};

  // Passwords are checked on their own thread: argon2 takes ~0.1 s on purpose, and
  // the service thread must not stop for it.
  struct LoginJob {
    std::uint64_t session;
    std::string req;
    Role role;
    std::string password;
    std::string address, username;
    std::optional<Account> account;  // read by the login thread
  };
  struct LoginResult {
    LoginJob job;
    bool ok;
  };
  std::mutex login_mu;
  std::condition_variable login_cv;
  // Two lanes: logins from addresses with no failure on record are checked first, so
  // a flood of guesses cannot keep a real user waiting (issue 10, item 1).
  std::deque<LoginJob> login_jobs, suspect_jobs;
  static constexpr size_t kMaxQueuedLogins = 64;  // per lane
  LoginGuard login_guard;  // service thread
  std::vector<LoginResult> login_results;
  std::thread login_thread;
  bool login_stopping = false;
  std::string dummy_hash;  // checked for unknown users, so timing does not tell who exists
  std::thread service;
  std::atomic<bool> stopping{false};
  std::atomic<int> bound_port{0};
  struct Timer {
    lws_sorted_usec_list_t sul;  // first, so the callback can find the Impl
    Impl* self;
  } tick_timer{}, refresh_timer{};
  // The snapshot texts (snapshot_texts.hpp) are brought up to date in slices this short,
  // this often: alarms arriving meanwhile wait at most a slice.
  static constexpr std::chrono::microseconds kRefreshSlice{300};
  static constexpr lws_usec_t kRefreshEveryUs = 20'000;

  // The phone line, when configured (telephony.cpp). Its calls live on the service thread.
  std::unique_ptr<Line> line;
  bool line_dirty = false;  // the consoles' picture of the line is out of date

  // The disk is full (Store::full, as last seen here): commands that would write are
  // refused and the timers wait; the consoles have been told (watch_storage).
  bool storage_full = false;
  Millis storage_full_since_ms = 0;

  // Service thread only.
  std::unordered_map<std::uint64_t, Session> sessions;
  // The subscribed among them, whom every delta goes to: a walk over all sessions
  // per delta cost 20 µs an alarm with 3,000 platforms connected. A session dropped
  // or closed leaves a null until the next subscribe (one may be dropped while this
  // is walked); the map's nodes do not move.
  std::vector<Session*> subscribers;
  void broadcast(const Frame& frame);  // to every subscribed session
  void mark_subscribed(Session& s);
  void unsubscribe(Session& s);
  std::uint64_t next_session = 0;

  // Filled by the writer thread, drained by the service thread. The notices of
  // batches now durable wait here too, so that the writer (the limit when every
  // alarm is a new alert) does not copy them into the notifier's queue itself.
  // Kept as the batches they came in: the writer moves a batch's vector, not each
  // frame, and `spare_outbox` hands back the capacity the last drain used.
  std::mutex outbox_mu;
  std::vector<std::vector<Outbound>> outbox, spare_outbox;
  std::vector<Notice> durable_notices;

  std::atomic<std::uint64_t> frames_in{0}, alarms_accepted{0}, errors_sent{0};
  std::uint64_t refused_connections = 0;  // service thread
  std::atomic<int> n_devices{0}, n_consoles{0}, n_fields{0};
  std::atomic<size_t> n_open{0};
  std::atomic<size_t> queued_bytes{0};  // every session's tx_bytes

  Impl(ServerOptions o, const Clock& c);

  // --- logins ---------------------------------------------------------------------------

  void login_loop();

  // Service thread: finish the logins whose passwords have been checked.
  void finish_logins();

  void admit(Session& s, const Principal& who);

  // --- credentials changed while running (credentials.cpp) ------------------------------

  // Each tick: admits tokens issued and drops tokens revoked by anxin-admin since the
  // last, closing the connections that use them.
  // The changes are read on the reader thread, one read at a time, and applied at
  // the tick after.
  void apply_credential_changes();
  void read_credential_changes();  // reader thread
  std::mutex credentials_mu;
  std::vector<CredentialChange> credentials_read;  // read, not yet applied
  bool credentials_reading = false;                // a read is posted or running
  void close_expired_sessions();  // at most once a second
  Millis sessions_checked_ms = 0;
  // Login thread: a login's account as the file holds it now is still the one whose
  // password was checked: not disabled, nor given a new password, meanwhile.
  bool account_unchanged(const Account& checked) const;

  // --- from the service thread to the store and back -----------------------------

  // Hands the dispatcher's effects and the replies to the store; they go out once
  // durable. Called for each received frame that is answered at once, for each tick,
  // and at the end of each turn of the service loop that took alarms.
  void commit_and_send(std::vector<Outbound> replies);
  // The alarms of one turn of the service loop (lws_service) are committed as one
  // batch when the turn ends, or with any commit before: a batch of its own per alarm
  // cost each its effects' vectors, a callback and a lock on both threads
  // (docs/benchmarks.md, "Alarms committed once a turn"). held_acks are their answers.
  bool commit_due = false;
  std::vector<Outbound> held_acks;
  static constexpr std::size_t kMaxHeldAcks = 64;
  // Commits handed to the store and not yet durable (the writer counts them down), and
  // when the last was handed over: while some are on their way, the service loop polls
  // instead of sleeping, for up to options.commit_spin_us after that. An idle vCPU
  // halts, and the wake that brought the replies back cost the fan-out 0.1 ms at p50
  // (docs/benchmarks.md, "The wait for a commit").
  std::atomic<int> commits_in_flight{0};
  std::chrono::steady_clock::time_point last_handed;
  bool awaiting_commit() const;

  // Writer thread (or the reader's).
  void release(std::vector<Outbound> frames);
  void release_durable(std::vector<Outbound> frames, std::vector<Notice> notices);  // the writer, once durable
  void send_durable_notices(std::vector<Notice> notices);  // to the notifier, in order

  // A reply that needs the file: `read` runs on the reader thread once everything
  // committed or queued before now is durable, so it sees all the dispatcher knew when
  // the command came. What it returns runs back on the service thread (where the
  // dispatcher may be asked, e.g. for names and cards) and makes the reply, which goes
  // out through the outbox like any other. A read or finish that throws answers
  // E_INTERNAL to `req`.
  using Finish = std::function<proto::ServerBody()>;
  void read_then_reply(const Session& s, const std::string& req, std::function<Finish()> read);
  std::mutex finished_reads_mu;
  std::vector<std::function<void()>> finished_reads;  // from the reader, for the service thread
  void run_finished_reads();  // service thread, on LWS_CALLBACK_EVENT_WAIT_CANCELLED

  // Service thread, on LWS_CALLBACK_EVENT_WAIT_CANCELLED.
  void drain_outbox();
  void deliver(Outbound& o);  // one frame of it, to its session, worker or consoles
  // While drain_outbox delivers, the sessions given frames, in the order each was first
  // given one: their frames are written when it has delivered them all (flush_listed),
  // not at a WRITEABLE one turn of the loop later.
  bool collecting = false;
  std::vector<std::uint64_t> to_flush;
  void flush_listed();
  void want_write(Session& s);  // listed while collecting, else a WRITEABLE asked for
  bool straight_to_socket(const Session& s) const;  // write_out may send() itself

  // Notifier thread (or the writer's, for a full queue): queues a failed notice.
  void on_failed_notice(const Notice& notice, const std::string& reason, int attempts);
  // Service thread, on LWS_CALLBACK_EVENT_WAIT_CANCELLED: onto the timelines, committed.
  void drain_failed_notices();
  void take_settled(WriteBatch& writes);  // onto the commit being made

  void enqueue(Session& s, const Frame& frame);
  // A console's snapshot: its place in the queue, written out from its parts there.
  void send_snapshot(Session& s, std::shared_ptr<const proto::SnapshotText> parts, const std::string& req);

  // --- floods (issue 13, item 5) ----------------------------------------------------

  // Drops a client too far behind: its queue is freed and the connection closed at
  // once (it cannot read a goodbye); it resyncs on reconnect.
  void drop_slow(Session& s, const char* why);
  // Each tick: drops those over the soft limit for the whole grace.
  void drop_slow_clients();
  // What a client has left unread: what the server holds for it, and what its
  // socket holds that the peer has not taken.
  size_t unread_bytes(const Session& s) const;
  // Takes a token for one received frame. False: the frame is refused, answered with
  // E_RATE_LIMITED at most once per kRateErrorGapMs, and must not be applied.
  bool within_frame_limit(Session& s, std::string_view text);
  static constexpr Millis kRateErrorGapMs = 100;
  std::atomic<std::uint64_t> slow_clients_dropped{0}, frames_rate_limited{0};
  std::vector<unsigned char> write_buf;  // write_out's, reused
  // Frames what the session has waiting (up to kMaxWriteBytes) and writes it. -1: the
  // connection failed.
  int write_out(Session& s);

  // Service thread: catches up with Store::full and tells subscribed consoles of a
  // change at once (not through the store, whose writer is what is stuck).
  void watch_storage();
  Frame status_frame() const;

  proto::ElderCard card_for(ElderId id, const std::string& today) const;

  // --- handling one frame -----------------------------------------------------------

  Outbound reply(const Session& s, const std::string& req, proto::ServerBody body);

  Outbound error_reply(const Session& s, const std::string& req, Error e);

  // Most commands answer ok with an id, or an error.
  template <class T> Outbound answer(const Session& s, const std::string& req, const Result<T>& r) {
    return r ? reply(s, req, proto::Ok{static_cast<std::int64_t>(r.value())}) : error_reply(s, req, r.error());
  }

  void on_frame(Session& s, std::string_view text);

  Outbound handle(Session& s, const std::string& req, const proto::Hello& h);

  Outbound handle(Session& s, const std::string& req, const AlarmIn& a);
  Outbound handle(Session& s, const std::string& req, const HeartbeatIn& b);

  // A console gets everything live; a field worker only their own tasks and the
  // elders in them (issue 5: the server, not the page, enforces this).
  Outbound handle(Session& s, const std::string& req, const proto::Subscribe&);

  Outbound handle(Session& s, const std::string& req, const proto::Ping&);

  Outbound handle(Session& s, const std::string& req, const proto::Login& l);

  Outbound handle(Session& s, const std::string& req, const proto::Logout& l);

  // A console may look at any elder; a field worker only at the elders of their tasks.
  Outbound handle(Session& s, const std::string& req, const proto::ElderQuery& q);

  Outbound handle(Session& s, const std::string& req, const proto::MapQuery&);

  // A field worker's current tasks and those of the last week.
  Outbound handle(Session& s, const std::string& req, const proto::MyTasks&);

  // --- console commands
  Outbound handle(Session& s, const std::string& req, const proto::AckIncident& a);
  Outbound handle(Session& s, const std::string& req, const proto::ResolveIncident& a);
  Outbound handle(Session& s, const std::string& req, const proto::AddNote& a);
  Outbound handle(Session& s, const std::string& req, const proto::Dispatch& a);
  Outbound handle(Session& s, const std::string& req, const proto::Callback& a);
  Outbound handle(Session& s, const std::string& req, const proto::PlaceCall& a);
  Outbound handle(Session& s, const std::string& req, const proto::CallResult& a);
  Outbound handle(Session& s, const std::string& req, const proto::CandidatesQuery& q);
  Outbound handle(Session& s, const std::string& req, const proto::MetricsQuery&);

  // --- the phone line (telephony.cpp)
  Outbound handle(Session& s, const std::string& req, const proto::ClaimSeat& a);
  Outbound handle(Session& s, const std::string& req, const proto::Dial& a);
  Outbound handle(Session& s, const std::string& req, const proto::Answer&);
  Outbound handle(Session& s, const std::string& req, const proto::Hangup&);
  Outbound handle(Session& s, const std::string& req, const proto::RecordingQuery& q);
  Outbound handle(Session& s, const std::string& req, const proto::LinkCaller& a);
  Outbound handle(Session& s, const std::string& req, const proto::FindElders& q);
  // The elder's care record (elder_record_commands.cpp): supervisors change it, a
  // console reveals the entry code; both audited in the batch that answers them.
  Outbound handle(Session& s, const std::string& req, const proto::UpdateElderRecord& a);
  Outbound handle(Session& s, const std::string& req, const proto::RevealEntry& a);
  void on_line_events();          // the seats' events, on EVENT_WAIT_CANCELLED
  void line_tick();               // hourly purge of old recordings
  Frame line_frame() const;
  // Dials `number` from the seat claimed by session `s`, for `incident`; false (and
  // nothing dialled) when the session has no seat that is up and free.
  bool dial_from(const std::string& seat, LiveCall call);
  void release_seat(const Session& s);

  // --- manual incidents and history (manual_commands.cpp, issue 14)
  Outbound handle(Session& s, const std::string& req, const proto::OpenIncident& a);
  Outbound handle(Session& s, const std::string& req, const proto::HistoryQuery& q);
  Outbound handle(Session& s, const std::string& req, const proto::IncidentRecordQuery& q);
  Outbound handle(Session& s, const std::string& req, const proto::ReopenIncident& a);

  // --- presence and handover (handover.cpp, docs/protocol.md "Presence and handover")
  Handovers handovers;
  void load_handovers();  // at start: those still offered lapse (the server restarted)
  Outbound handle(Session& s, const std::string& req, const proto::HandoverOffer& a);
  Outbound handle(Session& s, const std::string& req, const proto::HandoverAnswer& a);
  Outbound handle(Session& s, const std::string& req, const proto::HandoverCancel& a);
  Outbound handle(Session& s, const std::string& req, const proto::Reassign& a);
  Outbound handle(Session& s, const std::string& req, const proto::TakeOver& a);
  // A staff console came or went (admit, on_closed; `leaving` is about to go): the
  // picture is sent again, and a handover whose either side is no longer signed in lapses.
  void staff_changed(const Session* leaving = nullptr);
  // Whether `name` is signed in on a console other than those of `except` (0: none).
  bool signed_in(const std::string& name, std::uint64_t except = 0) const;
  std::vector<IncidentId> held_by(const std::string& name) const;  // open, by id
  // A plain logout that would leave incidents in hand with nobody signed in to them:
  // the refusal, or nullopt when the logout may go on.
  std::optional<Error> logout_refusal(const Session& s, bool force);
  Frame presence_frame() const;
  // Closes an offered handover as `state`: written, audited, kept among the last answered.
  void settle_handover(proto::HandoverView h, const std::string& state, const std::string& actor,
                       const std::string& reason);

  // --- field commands
  Outbound handle(Session& s, const std::string& req, const proto::Duty& a);
  Outbound handle(Session& s, const std::string& req, const proto::Position& p);
  Outbound handle(Session& s, const std::string& req, const proto::Accept& a);
  Outbound handle(Session& s, const std::string& req, const proto::Decline& a);
  Outbound handle(Session& s, const std::string& req, const proto::OnScene& a);
  Outbound handle(Session& s, const std::string& req, const proto::Complete& a);
  // The visiting programme's messages (visits_commands.cpp, docs/visits.md).
  Outbound handle(Session& s, const std::string& req, const proto::VisitsCommand& a);

  // --- devices that do not speak WebSocket (intake.hpp) --------------------------------

  // Filled by the DC-09 receiver's thread (and anyone else), drained on the service
  // thread at EVENT_WAIT_CANCELLED by take_in.
  IntakeQueue intake{[this] {
    if (context) lws_cancel_service(context);
  }};
  // Service thread: applies one request as the WebSocket would and calls its `done`.
  void take_in(IntakeRequest r);
  // An alarm from any door (WebSocket, DC-09, HTTP): applied, looked for in the file
  // first when it may be an old resend, and answered by what `answer` makes of the
  // outcome, which goes out once durable.
  using AlarmAnswer = std::function<Outbound(const Result<AlarmAck>&)>;
  void take_alarm(const Principal& who, const AlarmIn& a, AlarmAnswer answer);
  void alarm_taken(const AlarmIn& a, const Result<AlarmAck>& r, const AlarmAnswer& answer);
  std::atomic<int> bound_dc09_port{-1};  // the DC-09 receiver's, once listening
  std::unique_ptr<Dc09Receiver> dc09;      // when options.dc09_port >= 0 (dc09_receiver.hpp)
  void drain_intake();

  // --- the signed HTTP intake for vendor platforms (http_intake.cpp) ------------------
  // POST /intake/v1/alarm and /intake/v1/heartbeat on the main port. Each request gets
  // an id (in the per-connection slot, with kHttpExchangeBit set so it is never taken
  // for a WebSocket session's) and its state here until its answer is written; the
  // answer may come after the commit, by which time the client may be gone.
  static constexpr std::uint64_t kHttpExchangeBit = std::uint64_t{1} << 63;
  struct HttpExchange {
    lws* wsi = nullptr;
    std::string path;                        // what follows /intake/v1/
    std::string vendor, timestamp, signature;
    std::string body;
    bool body_too_large = false;
    std::optional<std::pair<int, Error>> early;  // refused from the request line and headers
    bool taken = false;                      // checked and handed on (once)
    int status = 0;                          // the answer, once known
    std::string answer;
    bool headers_sent = false;
  };
  std::unordered_map<std::uint64_t, HttpExchange> http_exchanges;
  std::uint64_t next_http_exchange = 0;
  SeenSignatures seen_signatures;
  // Handles `reason` when it belongs to an intake request: true, with the callback's
  // return in `rc`; false leaves it to libwebsockets' default HTTP handling.
  bool http_intake(lws* wsi, lws_callback_reasons reason, std::uint64_t* slot, void* in, size_t len, int& rc);
  void intake_begin(lws* wsi, std::uint64_t* slot, const char* path);
  void intake_complete(std::uint64_t id);
  void intake_answer(std::uint64_t id, int status, std::string body);
  void intake_refuse(std::uint64_t id, const Error& e);
  int intake_write(std::uint64_t id, std::uint64_t* slot);

  // --- time -----------------------------------------------------------------------------

  static void on_tick(lws_sorted_usec_list_t* sul);
  static void on_refresh(lws_sorted_usec_list_t* sul);

  void schedule_tick();
  void schedule_refresh();
  void run_timers_due_soon();

  // --- lws plumbing -------------------------------------------------------------------

  void on_closed(Session& s);

  // A browser's page may open a WebSocket only from the server's own origin or an
  // allowed one; programs send no Origin (issue 10, item 4).
  bool origin_allowed(lws* wsi) const;

  int on_writeable(Session& s);

  void on_receive(Session& s, const void* in, size_t len);

  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  static int serve(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);

  void start();

  [[noreturn]] void fail_start(const std::string& why);
  void destroy_context();  // lws's, then the loop under it

  void stop();
};

}  // namespace anxin::gateway
