#include "anxin/core/errors.hpp"

namespace anxin {

std::string_view code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::bad_json: return "E_BAD_JSON";
    case ErrorCode::unknown_type: return "E_UNKNOWN_TYPE";
    case ErrorCode::missing_field: return "E_MISSING_FIELD";
    case ErrorCode::bad_field: return "E_BAD_FIELD";
    case ErrorCode::too_large: return "E_TOO_LARGE";
    case ErrorCode::not_authenticated: return "E_NOT_AUTHENTICATED";
    case ErrorCode::auth_failed: return "E_AUTH_FAILED";
    case ErrorCode::forbidden: return "E_FORBIDDEN";
    case ErrorCode::unknown_device: return "E_UNKNOWN_DEVICE";
    case ErrorCode::device_not_owned: return "E_DEVICE_NOT_OWNED";
    case ErrorCode::kind_not_supported: return "E_KIND_NOT_SUPPORTED";
    case ErrorCode::unknown_incident: return "E_UNKNOWN_INCIDENT";
    case ErrorCode::bad_state: return "E_BAD_STATE";
    case ErrorCode::no_candidate: return "E_NO_CANDIDATE";
    case ErrorCode::unknown_worker: return "E_UNKNOWN_WORKER";
    case ErrorCode::unknown_assignment: return "E_UNKNOWN_ASSIGNMENT";
    case ErrorCode::unknown_call: return "E_UNKNOWN_CALL";
    case ErrorCode::no_line: return "E_NO_LINE";
    case ErrorCode::unknown_seat: return "E_UNKNOWN_SEAT";
    case ErrorCode::throttled: return "E_THROTTLED";
    case ErrorCode::storage_full: return "E_STORAGE_FULL";
    case ErrorCode::rate_limited: return "E_RATE_LIMITED";
    case ErrorCode::bad_signature: return "E_BAD_SIGNATURE";
    case ErrorCode::stale: return "E_STALE";
    case ErrorCode::replayed: return "E_REPLAYED";
    case ErrorCode::internal: return "E_INTERNAL";
  }
  return "E_INTERNAL";
}

}  // namespace anxin
