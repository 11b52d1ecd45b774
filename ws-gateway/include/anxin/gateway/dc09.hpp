// SIA DC-09 (docs/dc09.md): the receiver's options. The codec and the receiver are
// in ws-gateway/src/dc09*.{hpp,cpp}.
#pragma once

#include <map>
#include <string>

namespace anxin::gateway {

struct Dc09Account {
  std::string key_hex;                     // AES-128/192/256 key in hex; empty: plain frames only
  std::map<std::string, std::string> zones;  // Contact ID zone ("001") → device serial
  std::string device;                      // the device for zones not listed; empty: the account number itself
};

struct Dc09Options {
  // The accepted skew of a message's timestamp: at most `window_s_before` seconds behind
  // the receiver's clock and `window_s_after` ahead (DC-09-2013 §5.5.1.9: +20/-40 s).
  int window_s_before = 40, window_s_after = 20;
  std::map<std::string, Dc09Account> accounts;    // by account number; unlisted accounts map to the device of that serial
};

}  // namespace anxin::gateway
