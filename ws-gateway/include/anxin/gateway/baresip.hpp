// The centre's phone line: one real `baresip` user agent per operator seat,
// driven over its ctrl_tcp socket. Anxin never speaks SIP itself.
//
// A Seat owns its agent: it writes the agent's config, starts it, watches it on
// a thread named "seat:<name>", restarts it when it dies, and hands its owner
// plain SeatEvents (incoming call, ringing, established, closed, seat up/down).
// The decoders (netstring framing, event JSON) are pure functions so each can
// be fuzzed alone. See docs/telephony.md, "The seat agent".
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace anxin {

// ctrl_tcp's framing: "<byte length>:<bytes>,".
std::string netstring(std::string_view payload);

// Feed bytes as they arrive, take complete payloads. A framing error (a length
// that is not digits, over 64 KiB, or no ',' after the payload) is sticky: the
// stream cannot be resynchronised, so the owner should drop the connection.
class NetstringReader {
 public:
  static constexpr size_t max_payload = 64 * 1024;
  void feed(std::string_view bytes);
  std::optional<std::string> next();  // the next complete payload, if any
  bool broken() const { return broken_; }

 private:
  std::string buf_;
  size_t pos_ = 0;  // start of the first unread frame in buf_
  bool broken_ = false;
};

struct SeatEvent {
  enum class Kind { up, down, incoming, ringing, established, closed };
  Kind kind{};
  std::string seat;  // seat name
  std::string call_id;  // SIP Call-ID (baresip's call "id")
  std::string number;  // user part of the peer's URI (incoming: the caller)
  std::string peer_name;  // the peer's display name, when sent
  // closed: baresip's reason ("Connection reset by user", "486 Rejected", "404 Not
  // Found", ...) or the seat's own: "no answer" (our ring timeout), "seat down",
  // "busy", "invalid uri". down: why the agent was lost.
  std::string reason;
  std::string token;  // outbound calls: the token given to dial()
  bool outgoing = false;
  std::string heard_wav, sent_wav;  // closed, answered calls, when recording
};
std::string_view name_of(SeatEvent::Kind kind);

// One ctrl_tcp payload -> the call event it reports, or nullopt for responses,
// events a seat does not pass on (SDP, RTCP, ...) and anything malformed.
// Never throws. Sets kind, seat, call_id, number, peer_name, outgoing, and
// reason (closed only); the Seat adds token and recordings.
std::optional<SeatEvent> parse_seat_event(std::string_view json, const std::string& seat);

struct SeatConfig {
  std::string name;  // "seat1"; also the SIP user of the default account
  std::string baresip = "baresip";  // the binary, found on PATH
  std::string dir;  // the agent's working dir: config, accounts, baresip.log, rec-tmp/
  std::string sip_addr = "127.0.0.1";
  int sip_port = 5061;  // UDP and TCP; baresip's TLS listener takes sip_port + 1
  int ctrl_port = 4444;  // ctrl_tcp on 127.0.0.1; must not be sip_port + 1
  // A full baresip account line. Empty: direct calls to "<sip:NAME@ADDR:PORT>".
  // With a PBX: "<sip:1001@pbx.example;transport=udp>;auth_pass=...;answermode=manual".
  std::string account;
  int rtp_min = 10000, rtp_max = 10099;
  std::string audio_source;  // "": a 440 Hz tone; else an 8 kHz mono S16 WAV
  std::string record_dir;  // where finished recordings go; "": no recording
  int ring_timeout_ms = 30000;  // an unanswered outbound call is hung up: "no answer"
  int restart_backoff_ms = 1000;  // before restarting a dead agent; doubles while it fails to start
};

class Seat {
 public:
  // Starts the agent and the seat thread. on_event runs on the seat thread
  // (queue the event to your own; do not destroy the Seat from it); `up`
  // follows once the agent answers on ctrl_tcp. A throwing handler is logged.
  Seat(SeatConfig cfg, std::function<void(const SeatEvent&)> on_event);
  ~Seat();  // stops the agent (SIGTERM, then SIGKILL) and joins; no event after it returns
  Seat(const Seat&) = delete;
  Seat& operator=(const Seat&) = delete;

  // All three are thread-safe and only queue work for the seat thread. A dial
  // that cannot start (seat down, busy, bad uri) comes back as `closed` with
  // its token and a reason.
  void dial(const std::string& uri, const std::string& token);
  void accept();  // answers the ringing incoming call
  void hangup();  // ends, cancels or rejects the seat's call

  bool up() const;  // the agent answers on ctrl_tcp
  bool busy() const;  // a call is ringing or established, as the seat thread last saw
  pid_t pid() const;  // the agent's pid, or -1 between restarts (tests kill it)
  const SeatConfig& config() const;

 private:
  struct Impl;  // the seat thread's state: agent pid, control socket, the call
  std::unique_ptr<Impl> impl_;
};

}  // namespace anxin
