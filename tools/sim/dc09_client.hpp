// anxin-sim play --via dc09: the demo's devices as alarm panels reporting to the
// server's SIA DC-09 receiver (docs/dc09.md) over one TCP connection. It owns that
// connection and one thread: alarms go as plain ADM-CID (Contact ID) frames with the
// device's serial as the account, each kept until its ACK or DUH (matched by account
// and seq) and sent again, the same frame, when no answer came in time or after a
// reconnect; heartbeats go as NULL messages with the device's account (the receiver
// takes them as its heartbeat), not resent; a NULL link test without an account goes
// after 60 s with nothing sent. It may call the DC-09 codec (ws-gateway/src/dc09.hpp)
// for the CRC and framing, and nothing else of the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "anxin/core/dispatcher.hpp"

namespace anxin::sim {

// The Contact ID event code for an alarm kind (docs/dc09.md's table, read backwards),
// or nullopt for a kind DC-09 cannot express (fall, door_open_long, ...).
std::optional<int> contact_id_of(AlertKind kind);

// The DC-09 seq for a device's counter: its last four digits (the receiver reads 0000
// as 10000), so a counter above 9999 wraps as a panel's does.
int dc09_seq_of(std::int64_t seq);

// One plain ADM-CID frame: <LF>crc 0LLL "ADM-CID"seq L0 #acct [#acct|1eee 00 001] <CR>.
std::string contact_id_frame(const std::string& account, int seq, int event);

struct Dc09Options {
  std::string host = "127.0.0.1";
  int port = 7603;
  std::chrono::milliseconds resend_after{3000};  // no answer this long: the same frame again
  std::chrono::milliseconds link_test_every{60000};  // a NULL when nothing was sent this long
};

class Dc09Client {
 public:
  // `ack_log` (may be null) gets "DEVICE SEQ 0 0" per ACK, under `log_mu`: the
  // WebSocket path's columns, with the alert and incident 0 as a DC-09 ACK has neither.
  Dc09Client(Dc09Options options, FILE* ack_log, std::mutex* log_mu);
  ~Dc09Client();
  Dc09Client(const Dc09Client&) = delete;
  Dc09Client& operator=(const Dc09Client&) = delete;

  // Queues an alarm; false (and counted as skipped) when its kind has no Contact ID code.
  bool raise(const AlarmIn& alarm);
  void heartbeat(const HeartbeatIn& beat);

  struct Counts {
    std::uint64_t sent = 0, acked = 0, duh = 0, nak = 0, skipped = 0;
    std::size_t pending = 0;
    std::uint64_t beats_sent = 0, beats_acked = 0, link_tests = 0, link_acked = 0;
  };
  Counts counts();
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    std::string frame;
    DeviceId device;
    int seq = 0;
    Clock::time_point sent{};  // the epoch: not on the wire yet
  };
  void run();
  bool connect_now();
  void on_reply(const std::string& wire);
  bool write_all(const std::string& bytes);

  Dc09Options options_;
  FILE* ack_log_;
  std::mutex* log_mu_;
  std::mutex mu_;
  bool stopping_ = false;
  int fd_ = -1;  // the client thread's
  std::map<std::pair<std::string, int>, Pending> pending_;  // by (account, seq)
  std::vector<std::string> beats_;                       // NULL frames waiting to go
  std::map<std::string, int> beat_seq_;                  // the last NULL seq per account
  std::set<std::pair<std::string, int>> beats_out_;       // NULLs on the wire, not yet acked
  int link_seq_ = 0;
  Clock::time_point last_sent_ = Clock::now();
  Counts counts_;
  std::string in_;  // bytes read, not yet a whole frame
  std::thread thread_;
};

}  // namespace anxin::sim
