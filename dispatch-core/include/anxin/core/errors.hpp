// Coded errors. Every refusal the core or the protocol makes carries one of these
// codes; docs/protocol.md lists them with an example each.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace anxin {

enum class ErrorCode {
  bad_json,           // not JSON, or not a JSON object
  unknown_type,       // "type" names no message we know
  missing_field,      // a required field is absent
  bad_field,          // a field has the wrong type or an impossible value
  too_large,          // the frame is over the size limit
  not_authenticated,  // anything but hello before a successful hello
  auth_failed,        // the token is unknown or not for the role asked
  forbidden,          // the role may not send this message
  unknown_device,
  device_not_owned,   // the token does not speak for that device
  kind_not_supported, // the device cannot raise that kind of alert
  unknown_incident,
  bad_state,          // e.g. acknowledging an incident already acknowledged
  no_candidate,       // no available worker can take the incident
  unknown_worker,
  unknown_assignment,
  unknown_call,
  no_line,            // no SIP line, no seat claimed, or the seat is down or busy
  unknown_seat,       // the line has no seat by that name
  throttled,          // too many failed logins from that address or for that account; wait
  storage_full,       // the disk is full: nothing new is accepted until space returns
  rate_limited,       // a connection or device sent faster than its limit; slow down
  bad_signature,      // an HTTP intake request's signature does not match its vendor's secret
  stale,              // a signed request's timestamp is outside the replay window
  replayed,           // a signed request already seen within the replay window
  internal,
};

std::string_view code_name(ErrorCode);  // "E_BAD_JSON", ...

struct Error {
  ErrorCode code;
  std::string message;
};

// A value or an Error. (std::expected is C++23.)
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace anxin
