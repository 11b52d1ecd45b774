// Private to ws-gateway: presence and handover (issue 14, item 5; docs/protocol.md,
// "Presence and handover"). Who of the staff is signed in is read from the sessions
// when the picture is sent; this holds the handovers waiting for an answer and the
// last answered, and what is to be written and told next. Service thread only;
// handover.cpp has the handlers, on Server::Impl.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "anxin/core/protocol.hpp"
#include "anxin/core/store.hpp"

namespace anxin::gateway {

struct Handovers {
  std::map<std::int64_t, protocol::HandoverView> offered;  // by id
  std::deque<protocol::HandoverView> answered;             // newest first, at most kKeepAnswered
  static constexpr size_t kKeepAnswered = 10;
  std::int64_t last_id = 0;
  bool dirty = false;   // the consoles' presence picture is out of date
  WriteBatch writes;    // rows and audit entries, committed with the next batch
};

// "operator" or "supervisor" for a console principal of the staff; nullopt otherwise
// (a device, a field worker, a console token that names no one).
std::optional<std::string> staff_kind(const Principal& who);

}  // namespace anxin::gateway
