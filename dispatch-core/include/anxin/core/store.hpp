// The SQLite store: one file, schema versioned by migrations (PRAGMA user_version),
// WAL with synchronous=FULL by default. One writer thread applies write batches in
// order, many to a transaction (group commit), and runs each batch's callback only
// after the transaction holding it has committed. The dispatcher's host sends
// acknowledgements and deltas from those callbacks, so nothing reaches a device or
// a console before it is on disk.
//
// Reads (load, lookups) use a separate connection and are meant for start-up and
// tools; the live state is the dispatcher's, in memory. A third connection
// checkpoints the WAL in the background, so no commit waits for a checkpoint.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "anxin/core/device_table.hpp"
#include "anxin/core/domain.hpp"
#include "anxin/core/elder_table.hpp"
#include "anxin/core/notifier.hpp"
#include "anxin/core/registry_image.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace anxin {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The disk (or the file's quota) is full: SQLITE_FULL, or "no space" from the
// system behind an I/O error. Nothing of the write is in the file, and it can be
// tried again once space is freed.
class StorageFull : public StoreError {
 public:
  using StoreError::StoreError;
};

// Another program holds the lock a write needs (an open sqlite3 shell in a
// transaction, a bulk import) for longer than the 5 s busy timeout: SQLITE_BUSY or
// SQLITE_LOCKED. Nothing of the write is in the file; it can be tried again.
class StoreBusy : public StoreError {
 public:
  using StoreError::StoreError;
};

struct StoreOptions {
  bool synchronous_full = true;  // false: synchronous=NORMAL (survives a process crash, not power loss)
  size_t max_group = 1024;       // batches per transaction at most
  int full_retry_ms = 1000;      // while the disk is full, how often the writer tries its held commit again
  // The WAL's bound (issue 15, item 3). Past it, the writer restarts the WAL from
  // its start between two commits, and SQLite cuts the file back to it: under any
  // sustained rate the -wal file stays under about twice this (docs/architecture.md).
  std::int64_t wal_limit_bytes = 16 << 20;
  // How the WAL is flushed to the disk after a commit (store.cpp, sync_then_ack):
  // fdatasync, unless a test holds or watches it.
  int (*sync_wal)(int fd) = nullptr;
};

// --- what the writer applies ---------------------------------------------------

// One line of the append-only audit log: every action, who took it, and when.
struct AuditEntry {
  Millis at_ms = 0;
  std::string actor;
  std::string action;  // "alarm", "acknowledge", "offer", "accept", ...
  IncidentId incident = 0;
  std::string detail = "{}";  // a small JSON object
};

// A new alert's row is also its entry on the incident's timeline, placed after the
// last AddTimeline written before it; an update changes only its repeats.
struct PutAlert { Alert alert; };
// Alarms folded into an alert of an open incident (an alarm storm): its count, all
// that a repeat changes of its row.
struct RepeatAlert { AlertId alert = 0; int repeats = 0; };
// The header row, escalations included; the timeline goes by AddTimeline, responders
// by PutAssignment, calls by PutCallTask.
struct PutIncident { Incident incident; };
struct AddTimeline { IncidentId incident = 0; TimelineEntry entry; };
struct TouchDevice { DeviceId device; int battery_pct = 0; Millis last_seen_ms = 0; bool supervised = false; };
struct PutWorker { Worker worker; };  // status, transport mode, position, current incident
struct PutAssignment { Assignment assignment; };
struct PutCallTask { CallTask task; };
struct AppendAudit { AuditEntry entry; };
// The closing record of a resolved incident, archived whole (001: 记录归档).
struct PutClosingRecord { Incident incident; };
struct PutVisit { Visit visit; };

enum class Role { device, console, field };
std::string_view name_of(Role);
std::optional<Role> parse_role(std::string_view);

// Who a token speaks for: "device:D000001", "vendor:hx-iot", "operator:王芳",
// "supervisor:张敏", "worker:12".
struct Principal {
  Role role = Role::console;
  std::string subject;
};

// A token: device and platform tokens never expire; login sessions do.
struct TokenRow {
  std::string hash;  // token_hash() of the token; the token itself is never stored
  Principal who;
  Millis expires_ms = 0;  // 0: never
};
struct PutToken { TokenRow token; };
// The record of an unknown caller (Elder::unknown_caller) and the line's device for it.
struct PutCaller { Elder elder; Device device; };
struct DeleteToken { std::string hash; };
// Login sessions past their expiry: purge_expired_tokens through the writer, for a
// server that starts on a full disk and must not stop for it.
struct PurgeExpiredTokens { Millis now_ms = 0; };

// The outbox (issue 11, item 1): a notice to send, written with the command that
// caused it, and later what became of it.
struct PutNotice { Notice notice; };
struct SettleNotice {
  std::string id;  // Notice::id
  NoticeState state = NoticeState::delivered;
  int attempts = 0;
  std::string reason;  // why it failed or was cancelled; empty when delivered
  Millis at_ms = 0;
};

// A write of a module that keeps its own tables (the visiting programme, the roster:
// visits_store.hpp): run on the writer thread, inside the batch's transaction. It
// throws StoreError (via store_sql::check) on failure, as the writer's own ops do.
struct SqlWrite { std::function<void(sqlite3*)> run; };

using WriteOp = std::variant<PutAlert, RepeatAlert, PutIncident, AddTimeline, TouchDevice, PutWorker, PutAssignment,
                             PutCallTask, AppendAudit, PutClosingRecord, PutVisit, PutToken, DeleteToken,
                             PutCaller, PurgeExpiredTokens, PutNotice, SettleNotice, SqlWrite>;
using WriteBatch = std::vector<WriteOp>;

// --- what start-up reads -------------------------------------------------------

struct DeviceProgress {
  DeviceId device;
  std::int64_t last_seq = 0;
  AlertId last_alert = 0;
  IncidentId last_incident = 0;
  std::string boot;  // of that alarm, with its kind and time: a resend repeats all four
  AlertKind kind = AlertKind::sos;
  Millis device_time_ms = 0;
};

struct LiveState {
  ElderTable elders;    // compact: a city has a million
  DeviceTable devices;  // compact: a city has millions
  std::vector<Worker> workers;
  std::vector<Incident> open_incidents;  // with timelines, responders, calls and escalations
  std::vector<Incident> incidents_since;  // headers of incidents opened since load(since_ms)
  std::vector<TokenRow> tokens;  // unexpired
  std::vector<DeviceProgress> progress;
  std::vector<Notice> outbox;  // notices still pending, oldest first
  // Whether the elders and devices came from the registry's image beside the file
  // (registry_image.hpp) rather than its rows; how many of them, changed since the
  // image was written, came from their rows over it; whether, a server having run
  // since, the devices' battery, last contact and supervision came from the rows;
  // and, when there was an image that was not used, why.
  bool from_image = false;
  std::int64_t changed_elders = 0, changed_devices = 0;
  bool device_state_from_rows = false;
  std::string image_note;
  AlertId max_alert_id = 0;
  IncidentId max_incident_id = 0;
  std::int64_t max_assignment_id = 0;
  std::int64_t max_call_id = 0;
};

// BLAKE2b-256 of a token, hex. Only hashes are stored.
std::string token_hash(std::string_view token);

// A new random token with a prefix, e.g. "sess-3f9a…" (144 bits of randomness).
std::string random_token(std::string_view prefix);

// A login account. Passwords are stored as argon2id hashes (libsodium's
// crypto_pwhash_str at its interactive limits: about 0.1 s to check).
struct Account {
  std::string username;
  std::string password_hash;
  std::string kind;          // "operator", "supervisor" or "worker"
  std::string display_name;
  WorkerId worker = 0;       // for workers
  bool disabled = false;
  Principal principal() const;  // console for staff, field for workers
};
bool verify_password(const std::string& password_hash, std::string_view password);
// The argon2id hash of a password of at least 8 characters (StoreError otherwise).
std::string hash_password(std::string_view password);

// A change to who may connect, made outside the server (by anxin-admin) and read back
// from the audit log by a running server, which applies it without a restart.
struct CredentialChange {
  std::vector<TokenRow> issued;      // tokens to admit
  std::vector<std::string> revoked;  // token hashes that are void
  // Every token of this subject is void (an account disabled), or with sessions_only
  // only those that expire, its login sessions (a password changed). Empty: none.
  std::string subject;
  bool sessions_only = false;
};

struct PastIncident {
  IncidentId id = 0;
  Millis opened_ms = 0, resolved_ms = 0;
  AlertKind lead_kind = AlertKind::sos;
  std::string disposition;
};
struct ElderHistory {
  std::vector<PastIncident> incidents;  // newest first
  std::vector<Visit> visits;            // newest first
};

class Store {
 public:
  explicit Store(const std::string& path, StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  static constexpr int kSchemaVersion = 17;
  int schema_version() const;

  // Synchronous, on the caller's thread; for set-up before the writer starts.
  void import_registry(const std::vector<Elder>& elders, const std::vector<Device>& devices,
                       const std::vector<Worker>& workers);
  void put_token(std::string_view token, const Principal& who, Millis expires_ms = 0);
  void put_account(const Account& account, std::string_view password);  // hashes the password
  void import_visits(const std::vector<Visit>& visits);
  size_t purge_expired_tokens(Millis now);  // login sessions past their expiry
  // Everything live; `since_ms` bounds incidents_since (for today's metrics: the
  // server passes start_of_local_day(now), and restore counts those opened today).
  LiveState load(Millis since_ms = 0) const;
  std::vector<AuditEntry> audit_log() const;
  std::optional<Account> find_account(std::string_view username) const;

  // --- administration (anxin-admin). Synchronous, on the caller's thread. Each change
  // commits together with its audit entry (actor e.g. "admin:alice"), or throws
  // StoreError and changes nothing. Safe while a server runs on the file: a login
  // reads its account from the file, and the server applies the token changes it
  // finds in the audit log (credential_changes).
  std::vector<Account> accounts() const;  // by username
  std::vector<TokenRow> tokens() const;   // every token, expired ones too, by subject
  std::optional<std::string> worker_name(WorkerId id) const;
  bool has_device(const DeviceId& id) const;
  bool has_vendor(std::string_view vendor) const;  // some device comes from that platform
  void add_account(const Account& account, std::string_view password, const std::string& actor, Millis now);
  // Disabling also voids every token of the account's principal, sessions and issued
  // tokens alike; returns their hashes.
  std::vector<std::string> set_account_disabled(std::string_view username, bool disabled,
                                                const std::string& actor, Millis now);
  // Also ends the account's login sessions (its principal's tokens that expire);
  // returns their hashes.
  std::vector<std::string> set_password(std::string_view username, std::string_view password,
                                        const std::string& actor, Millis now);
  // A new random token for `who`, starting with `prefix`; only its hash is kept.
  std::string issue_token(const Principal& who, std::string_view prefix, Millis expires_ms,
                          const std::string& actor, Millis now);
  void revoke_tokens(const std::vector<std::string>& hashes, const std::string& actor, Millis now);
  // The id of the audit log's last entry (0 when empty).
  std::int64_t last_audit_id() const;
  // The credential changes recorded after entry `after_id`, which moves on to the
  // last entry read.
  std::vector<CredentialChange> credential_changes(std::int64_t& after_id) const;
  ElderHistory elder_history(ElderId elder, size_t limit) const;
  // Resolved incidents since `since_ms` in which the worker had an assignment, newest
  // first, each with only that worker's assignments.
  std::vector<Incident> worker_history(WorkerId worker, Millis since_ms, size_t limit) const;
  std::optional<Incident> closing_record(IncidentId id) const;
  // The alerts a device filed under one boot and seq, oldest first: a resend is the
  // one of the same kind and device time (a restarted counter reuses seqs).
  std::vector<Alert> find_alerts(const DeviceId& device, const std::string& boot, std::int64_t device_seq) const;
  // One notice's row in the outbox: its state, attempts and reason (tests, tools).
  struct OutboxRow {
    Notice notice;
    NoticeState state = NoticeState::pending;
    int attempts = 0;
    std::string reason;
    Millis settled_ms = 0;
  };
  std::vector<OutboxRow> outbox() const;  // oldest first
  // Runs `read` on the read connection, one caller at a time: for modules that keep
  // their own tables (visits_store.hpp) to load them, and for tools and tests.
  void read(const std::function<void(sqlite3*)>& read) const;

  // The writer. submit() may be called from any thread; callbacks run on the writer
  // thread, in submission order, after their batch is durable.
  //
  // A commit that fails because the disk is full (StorageFull) is rolled back and
  // held: the writer tries the same group again every full_retry_ms, and runs its
  // callbacks, and those of everything queued behind it, only once it commits. A
  // commit that finds the write lock held by another program past the busy timeout
  // (StoreBusy) is rolled back and held the same way, and tried again after 50 ms
  // (each try waits on the lock up to the 5 s busy timeout) until it commits. Any
  // other failed commit stops the process, as the in-memory state of the caller is
  // then ahead of the file and a restart rebuilds it from what is durable.
  void start();
  void submit(WriteBatch batch, std::function<void()> on_durable = {});
  void drain();  // returns once everything submitted before the call is durable (while full: once space returns)
  // Drains, then joins the writer; while a commit is held (disk full, or another
  // program's lock, after at most one more busy timeout) drops it, uncommitted.
  void stop();
  // With the writer stopped: writes the registry's image beside the file under a new
  // stamp, then records the stamp and the triggers that void it on any change to the
  // registry's rows (registry_image.hpp). Refused (StoreError) when stop() dropped a
  // held commit, as the tables are then ahead of the file, and when another program
  // (or another connection) committed to the file since load(), as it may have changed
  // rows that memory never saw. A failed write of the image throws std::runtime_error
  // and records nothing.
  void save_image(const ElderTable& elders, const DeviceTable& devices);

  // The image written while a server runs, from the rows rather than memory, by a
  // program that only reads the file (`anxin-server --registry-image-from-rows`, which
  // the server's ImageKeeper runs): a city's start after a crash then reads few rows
  // over it however much changed before (image_keeper.hpp).
  struct ImageFromRows {
    std::string stamp;
    // The last names of changes before the rows were read (registry_changed_*.seq).
    std::int64_t elders_named = 0, devices_named = 0;
  };
  // Writes the image of the rows at `path` beside it, under a new stamp; throws
  // StoreError or std::runtime_error when it cannot. Records nothing in the file.
  static ImageFromRows image_from_rows(const std::string& path);
  // Through the writer: the file names that image and forgets the names made before
  // its rows were read; those made since stay, read over it at the next start.
  void record_image(const ImageFromRows& image, std::function<void()> on_durable);
  // What the file says of its image: read by a start (take_image) and by the keeper.
  struct ImageState {
    std::string stamp;            // of the image the file names; empty: none
    bool server_ran = false;      // a server ran on the file since it was written
    std::int64_t triggers = 0;    // the triggers that name changes, those in place
    bool all_triggers = false;    // every one of them
    std::int64_t changed_elders = 0, changed_devices = 0;  // named since
    bool named() const { return !stamp.empty(); }
    std::int64_t changed() const { return changed_elders + changed_devices; }
  };
  ImageState image_state() const;
  // Through the writer: the triggers made, so that changes are named from then on
  // (for an image about to be read from the rows when the file names none).
  void name_changes(std::function<void()> on_durable);
  // True from a commit that failed for want of space until the held commit goes
  // through. Any thread; the host polls it to refuse new writes meanwhile.
  bool full() const { return full_; }

  // Total of commits and batches so far (for status lines and benchmarks).
  std::uint64_t commits() const;

 private:
  struct Pending {
    WriteBatch batch;
    std::function<void()> on_durable;
  };
  void writer_loop();
  // One transaction for the group; `unsynced`, the WAL's descriptor when its commit
  // left the sync to sync_loop, else -1.
  bool commit_group(const std::deque<Pending>& group, int& unsynced);
  // The syncer thread: the WAL flushed to the disk after the writer's commits, then
  // their acks, in the order of the commits.
  void sync_loop();
  struct Committed;
  void sync_then_ack(std::deque<Committed>& commits);
  // With mu_ held: nothing queued, in the writer's hands, or waiting for a sync.
  bool quiet() const;
  void checkpoint_loop();
  // Writer thread, between commits: the WAL past its limit is checkpointed to its
  // end and restarted, so that the next commit writes at the file's start.
  void restart_wal();
  static int on_wal_commit(void* self, sqlite3*, const char*, int pages);
  void apply(const WriteOp& op);
  void exec(const char* sql) const;
  // The tables of the image beside the file, when the file's stamp names it, with the
  // devices' state from the rows when a server ran since (`st.device_state_from_rows`);
  // otherwise nothing, and the stamp and its triggers are gone from the file
  // (store_image.cpp). `st.image_note` says why an image was not used.
  std::optional<registry_image::Tables> take_image(LiveState& st) const;
  std::int64_t data_version() const;
  // With the writer's transaction open, at a migration: this version's triggers when
  // the file names an image, else none.
  void remake_image_triggers();

  std::string path_;
  StoreOptions options_;
  sqlite3* write_db_ = nullptr;
  sqlite3* read_db_ = nullptr;
  sqlite3* checkpoint_db_ = nullptr;
  struct Statements;
  std::unique_ptr<Statements> stmts_;
  // The reads a running server makes (logins, histories, old alerts, credential
  // changes), prepared once on read_db_ and used by one thread at a time.
  struct Reads;
  std::unique_ptr<Reads> reads_;
  mutable std::mutex read_mu_;

  mutable std::mutex mu_;
  std::condition_variable wake_, idle_, checkpoint_wake_;
  std::deque<Pending> queue_;
  // Committed by the writer, waiting for the syncer: the WAL to sync (-1: nothing to
  // sync) and what becomes durable with it.
  struct Committed {
    int unsynced = -1;
    std::vector<std::function<void()>> on_durable;
  };
  std::deque<Committed> committed_;
  std::condition_variable sync_wake_;
  bool stopping_ = false;
  bool busy_ = false;
  bool syncing_ = false;      // the syncer holds commits taken from committed_
  bool writer_done_ = false;  // stop() joined the writer: the syncer ends once committed_ is empty
  bool dropped_ = false;  // stop() dropped a held commit
  // PRAGMA data_version on the writer's connection when load() began: it moves only
  // when another connection commits (save_image). -1: nothing loaded.
  mutable std::int64_t loaded_version_ = -1;
  std::uint64_t commits_ = 0;
  std::atomic<bool> full_{false};
  std::chrono::steady_clock::time_point full_since_;  // writer thread
  // Writer thread: since when the commit in hand has waited on another program's lock.
  std::optional<std::chrono::steady_clock::time_point> locked_since_;
  std::thread writer_;
  std::thread syncer_;
  std::thread checkpointer_;
  std::int64_t page_size_ = 4096;
  std::atomic<std::int64_t> wal_pages_{0};  // in the WAL after the last commit (on_wal_commit)
  std::atomic<bool> checkpoint_due_{false};  // the WAL passed half its limit: checkpoint now
};

}  // namespace anxin
