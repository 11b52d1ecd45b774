// The centre's phone line (issue 9, docs/telephony.md): the seats' SIP agents, how a
// number becomes a SIP address, where recordings go, and the calls live on each seat.
//
// Line owns the Seats (anxin/gateway/baresip.hpp) and collects their events from the
// seat threads into one queue; the server drains it on its service thread, where the
// calls live (LiveCalls) and where a call becomes facts for the dispatcher: a
// phone_call alert when it rings, a timeline entry and a call task's result when it
// ends. Each seat has at most one call at a time, so calls are kept by seat.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "anxin/core/clock.hpp"
#include "anxin/core/errors.hpp"
#include "anxin/gateway/baresip.hpp"

namespace anxin::gateway {

struct LineConfig {
  std::vector<SeatConfig> seats;
  // Number -> SIP address: an exact entry for the number, else `dial_default` with
  // "{number}" replaced ("sip:{number}@pbx.example" sends everything to the PBX).
  std::map<std::string, std::string> dial;
  std::string dial_default;
  std::string recordings;   // where recordings are kept, one folder per incident
  int retention_days = 180; // recordings older than this are deleted (hourly)
};

// Reads the JSON file given to --line (docs/telephony.md has its fields). Relative
// paths in it are taken from the file's folder.
Result<LineConfig> load_line_config(const std::string& path);

// What a seat is doing now: the call on it, if any.
struct LiveCall {
  std::string call_id;   // the SIP Call-ID, once the agent has named it
  bool outgoing = false;
  std::string number, target;  // target: inbound, elder, ambulance_120, fire_119, family, worker, doctor
  ElderId elder = 0;
  IncidentId incident = 0;
  std::int64_t task = 0;
  std::string state;     // dialling, ringing, talking
  Millis since_ms = 0, answered_ms = 0;
  std::string operator_name;
};

class Line {
 public:
  // `wake` is called from seat threads after an event is queued (lws_cancel_service).
  Line(LineConfig config, std::function<void()> wake);
  ~Line();

  std::vector<SeatEvent> take_events();  // any thread; oldest first
  Seat* seat(const std::string& name);    // nullptr if there is no such seat
  const Seat* seat(const std::string& name) const;
  const LineConfig& config() const { return config_; }
  std::string uri_for(const std::string& number) const;

  // Moves a closed call's recordings into the incident's folder; returns their names
  // relative to the recordings folder ("12/seat1-<id>-heard.wav"), empty if none.
  std::pair<std::string, std::string> keep_recordings(const SeatEvent& closed, IncidentId incident) const;
  // The bytes of a kept recording, or an error if there is none by that name.
  Result<std::string> read_recording(const std::string& name) const;
  // Deletes recordings older than the retention period; returns how many.
  int purge_recordings() const;

  // Service thread only: the seats' claims and calls.
  std::map<std::string, std::string> operator_of;  // seat -> the operator who claimed it
  std::map<std::string, std::uint64_t> session_of; // seat -> the claiming console session
  std::map<std::string, LiveCall> calls;           // seat -> its call
  Millis last_purge_ms = 0;

 private:
  LineConfig config_;
  std::function<void()> wake_;
  std::mutex mu_;
  std::vector<SeatEvent> events_;
  std::vector<std::unique_ptr<Seat>> seats_;
};

}  // namespace anxin::gateway
