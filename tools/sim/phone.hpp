// anxin-sim phone: an elder's one-key phone (一键通) that now and then calls the
// centre's line, so a newcomer to the demo sees a call ring on the console.
#pragma once

#include <string>

namespace anxin::sim {

struct PhoneOptions {
  std::string db;          // the district: callers are its devices' SIM numbers
  std::string seat_uri;    // whom to call, e.g. sip:seat1@127.0.0.1:5062
  std::string dir;         // the agent's working folder
  int sip_port = 5070, ctrl_port = 5078;
  int rtp_min = 10200, rtp_max = 10219;
  double every_s = 90;     // a call about this often (exponential gaps)
  int ring_s = 45;         // give up unanswered after this long
  int talk_s = 20;         // hang up this long after an answer
  long long count = -1;    // calls to make; -1: until stopped
  std::uint64_t seed = 7;
};

// Runs until `count` calls are made or `stop` becomes true.
int run_phone(const PhoneOptions& o, const volatile int& stop);

}  // namespace anxin::sim
