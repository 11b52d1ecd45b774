// Test helpers for the phone line: seats' events to wait on, free ports for several
// baresip agents, and measuring recordings with sox.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "anxin/gateway/baresip.hpp"
#include "support.hpp"

namespace anxin::test {

bool have_baresip();

// What seats reported, for the test thread to wait on, in order.
class SeatEvents {
 public:
  std::function<void(const SeatEvent&)> sink();
  // The next event of `kind` after the last one taken (others are skipped).
  std::optional<SeatEvent> next(SeatEvent::Kind kind,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  std::vector<SeatEvent> all();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SeatEvent> events_;
  size_t cursor_ = 0;
};

// 100 consecutive free UDP+TCP ports in 20000-31999, at a random spot so parallel
// test processes (ctest -j2) do not pick the same block; never the same block twice
// in one process, so two taken before either is bound differ.
int free_port_block();

// Agent `index` of a test: SIP on base+10i (TLS takes +1), ctrl_tcp on base+10i+5,
// RTP in base+50+10i .. +9. `index` is 0..4.
SeatConfig seat_config(const TempDir& dir, const std::string& name, int base, int index);
std::string uri_of(const SeatConfig& c);

std::string run(const std::string& command);  // its standard output
// One number from `sox FILE -n stat`, e.g. "Length (seconds)", "RMS     amplitude"; -1 if absent.
double sox_stat(const std::string& stat, const std::string& field);
// How much of a recording's energy lies in [lo_hz, hi_hz]: 1 for a pure tone in the
// band, near 0 for silence or another tone.
double band_share(const std::string& wav, int lo_hz, int hi_hz);

}  // namespace anxin::test
